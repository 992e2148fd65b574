// lstat → EntryStat, without following symlinks and without throwing for a missing path.
import { lstatSync, type Stats } from 'node:fs';
import type { EntryStat, EntryType } from './types.js';
import { toFs } from './bpath.js';

export function typeOf(st: Stats): EntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char';
  return 'block';
}

export function toEntryStat(st: Stats): EntryStat {
  return {
    type: typeOf(st), perm: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: st.size,
    mtimeMs: st.mtimeMs, atimeMs: st.atimeMs, ctimeMs: st.ctimeMs, ino: st.ino, dev: st.dev,
    nlink: st.nlink, rdev: st.rdev, blocks: st.blocks,
  };
}

/** lstat of a byte-string path; null when it (or a parent) does not exist or is not a dir. */
export function lstatB(p: string): EntryStat | null {
  try {
    const st = lstatSync(toFs(p), { throwIfNoEntry: false });
    return st ? toEntryStat(st) : null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
}

/** Modification times compared at 1 µs: utimes() takes a double, which cannot carry every ns. */
export function sameTime(a: number, b: number): boolean {
  return Math.abs(a - b) < 0.001;
}
