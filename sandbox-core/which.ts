import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Answers already found, by command and PATH: a run asks for fuse-overlayfs more than once,
 * and each ask is one access(2) per PATH dir (a dozen with pyenv, cargo and the like).
 */
const found = new Map<string, string | null>();

/** The first executable `cmd` on PATH, or null. */
export function which(cmd: string, path = process.env.PATH ?? '/usr/bin:/bin'): string | null {
  const key = `${cmd}\0${path}`;
  const known = found.get(key);
  if (known !== undefined) return known;
  let hit: string | null = null;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try { accessSync(p, constants.X_OK); hit = p; break; } catch { /* next */ }
  }
  found.set(key, hit);
  return hit;
}
