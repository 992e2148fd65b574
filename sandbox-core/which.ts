import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The first executable `cmd` on PATH, or null. */
export function which(cmd: string, path = process.env.PATH ?? '/usr/bin:/bin'): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}
