// The part of the bundle `sbx --version` loads (see cli/main.ts): nothing else.
import { writeSync } from 'node:fs';
import { versionText } from './version-text.js';

export function versionMain(): void {
  // Straight to fd 1: making process.stdout loads Node's stream modules, a third of Node's
  // own start. A closed pipe (EPIPE) ends sbx quietly, as for every command.
  try {
    const b = Buffer.from(versionText());
    for (let n = 0; n < b.length;) n += writeSync(1, b, n);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
  }
}
