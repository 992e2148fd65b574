// Notices that restate this machine's standing limits (no cgroup here, so the defaults are
// rlimits) are said on the first run only, not on every one: a marker in the store root
// remembers the exact text, so a changed situation is said again (for a list, one that gained
// an item).
import { closeSync, constants as C, openSync, readFileSync, writeSync } from 'node:fs';
import { Dir } from './beneath.js';
import { ensurePrivateDir } from './base/paths.js';

/** True when `text` was not said yet for `key` in this store (and records that it now is). */
export function firstTime(storeRoot: string, key: string, text: string): boolean {
  return remember(storeRoot, key, text, (said) => said !== text);
}

/**
 * True when `items` holds one that was not among those said last time for `key` (and records
 * `items` as said). A list that only lost items is recorded quietly: a notice that names what
 * is shown empty has nothing new to say when less of it is (another user's mount gone again).
 */
export function anyNew(storeRoot: string, key: string, items: readonly string[]): boolean {
  return remember(storeRoot, key, items.join('\n'), (said) => {
    if (said === null) return true;
    const before = new Set(said.split('\n'));
    return items.some((i) => !before.has(i));
  });
}

/** Asks `isNew` of what was said for `key` (null: nothing yet), and records `text` when it differs. */
function remember(storeRoot: string, key: string, text: string, isNew: (said: string | null) => boolean): boolean {
  let dir: Dir;
  // A new user's first run asks before its store exists (the limits are planned first): made
  // here, as the run would make it, or that run's notice was never remembered and said twice.
  try { ensurePrivateDir(storeRoot); dir = Dir.open(storeRoot); } catch { return true; }
  try {
    const name = `.said-${key}`;
    let said: string | null = null;
    try {
      const fd = openSync(dir.at(name), C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
      try { said = readFileSync(fd, 'utf8'); } finally { closeSync(fd); }
    } catch { /* not said yet */ }
    if (said === text) return false;
    try {
      const fd = openSync(dir.at(name), C.O_WRONLY | C.O_CREAT | C.O_TRUNC | C.O_NOFOLLOW, 0o600);
      try { writeSync(fd, text); } finally { closeSync(fd); }
    } catch { /* cannot remember: say it every time rather than never */ }
    return isNew(said);
  } finally {
    dir.close();
  }
}
