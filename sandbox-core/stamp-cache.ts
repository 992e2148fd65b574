// What the unprivileged set-up remembers between runs in sbx's cache dir (unreadable.ts: the
// unreadable dirs; precopy.ts: the package managers' lock files), each answer next to the
// stamps of the directories it came from. Only ever a hint: a stamp that moved, or anything
// odd in the file, means looking again.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, ensurePrivateDir } from './base/paths.js';
import { dirStat } from './base/dir-stat.js';

/** `name` in sbx's cache dir (not the store, whose entries are sandboxes); null when there is no private place for it. */
export function stampCacheFile(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = cacheRoot(env);
  try { ensurePrivateDir(dir); } catch { return null; }
  return join(dir, name);
}

/** A directory's (mtime, ctime): an entry added, removed or renamed changes the first, a chmod or chown the second. */
export function stamp(dir: string): [number, number] | null {
  const st = dirStat(dir);
  return st ? [st.mtimeMs, st.ctimeMs] : null;
}

/**
 * The stamp to remember for a directory looked at `now`, or one that never matches. File
 * times come from a coarse clock (one tick is 1-10 ms): a change in the same tick as the
 * stamp leaves it as it was, so a stamp is only kept once a few ticks have passed since it.
 */
export function keptStamp(s: [number, number], now = Date.now()): [number, number] {
  return now - Math.max(s[0], s[1]) >= 20 ? s : [-1, -1];
}

/** Writes the hint whole (a file renamed into place); a cache dir we cannot write only costs time. */
export function writeStampCache(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}`;
  try {
    writeFileSync(tmp, JSON.stringify(value), { mode: 0o600 });
    renameSync(tmp, file);
  } catch { /* no cache, same answer */ }
}
