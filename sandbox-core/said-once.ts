// Notices that restate this machine's standing limits (no cgroup here, so the defaults are
// rlimits) are said on the first run only, not on every one: a marker in the store root
// remembers the exact text, so a changed situation is said again.
import { closeSync, constants as C, openSync, readFileSync, writeSync } from 'node:fs';
import { Dir } from './beneath.js';
import { ensurePrivateDir } from './base/paths.js';

/** True when `text` was not said yet for `key` in this store (and records that it now is). */
export function firstTime(storeRoot: string, key: string, text: string): boolean {
  let dir: Dir;
  // A new user's first run asks before its store exists (the limits are planned first): made
  // here, as the run would make it, or that run's notice was never remembered and said twice.
  try { ensurePrivateDir(storeRoot); dir = Dir.open(storeRoot); } catch { return true; }
  try {
    const name = `.said-${key}`;
    try {
      const fd = openSync(dir.at(name), C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
      try { if (readFileSync(fd, 'utf8') === text) return false; } finally { closeSync(fd); }
    } catch { /* not said yet */ }
    try {
      const fd = openSync(dir.at(name), C.O_WRONLY | C.O_CREAT | C.O_TRUNC | C.O_NOFOLLOW, 0o600);
      try { writeSync(fd, text); } finally { closeSync(fd); }
    } catch { /* cannot remember: say it every time rather than never */ }
    return true;
  } finally {
    dir.close();
  }
}
