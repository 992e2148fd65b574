// lstat → EntryStat, without following symlinks and without throwing for a missing path.
import { lstatSync, type Stats } from 'node:fs';
import type { EntryStat, EntryType, Timespec } from './types.js';
import { fsAt } from './fsat.js';

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

/**
 * lstat of a byte-string path, resolved without following a symlink in any component (at any
 * depth); null when it does not exist or a parent is missing, not a dir, or a symlink.
 */
export function lstatB(p: string): EntryStat | null {
  try {
    const st = lstatSync(fsAt(p), { throwIfNoEntry: false });
    return st ? toEntryStat(st) : null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' || code === 'ENOENT' || code === 'ENOTBENEATH') return null;
    throw e;
  }
}

/** Permission bits as the review writes them: `644`, `4755`. */
export function oct(n: number): string {
  return n.toString(8).padStart(3, '0');
}

/** What accessDiff compares. */
export type Access = Pick<EntryStat, 'perm' | 'uid' | 'gid'>;

/**
 * How an entry's mode and owner differ from another's (`mode 600→644`, `owner 0:0→1000:1000`),
 * `was` first: a metadata change's against the host entry, and a moved or copied file's
 * against the host file it came from, whose bytes alone say nothing of who may read it. An
 * owner not known (NaN: a column entry, whose owner is the sandbox's own) is not compared.
 */
export function accessDiff(now: Access, was: Access): string[] {
  const d: string[] = [];
  if (now.perm !== was.perm) d.push(`mode ${oct(was.perm)}\u2192${oct(now.perm)}`);
  if ((now.uid !== was.uid || now.gid !== was.gid) && !Number.isNaN(now.uid) && !Number.isNaN(was.uid)) d.push(`owner ${was.uid}:${was.gid}\u2192${now.uid}:${now.gid}`);
  return d;
}

/** Modification times compared at 1 µs: utimes() takes a double, which cannot carry every ns. */
export function sameTime(a: number, b: number): boolean {
  return Math.abs(a - b) < 0.001;
}

/** A Stats *Ms double as seconds and nanoseconds, the seconds floored (-500 ms: -1 s + 500000000 ns). */
export function timespecOfMs(ms: number): Timespec {
  const sec = Math.floor(ms / 1000);
  const nsec = Math.round((ms - sec * 1000) * 1e6);
  return nsec < 1e9 ? { sec, nsec } : { sec: sec + 1, nsec: nsec - 1e9 };
}

/** The atime and mtime a commit sets: the helper's record's exactly, else from the doubles. */
export function exactTimes(st: EntryStat): { atime: Timespec; mtime: Timespec } {
  return { atime: st.atimeSpec ?? timespecOfMs(st.atimeMs), mtime: st.mtimeSpec ?? timespecOfMs(st.mtimeMs) };
}
