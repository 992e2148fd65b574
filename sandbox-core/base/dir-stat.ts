// A directory's link count, size and times without an fs.Stats. Node 20 builds every Stats with
// four Date objects: for the ~320 directories an ordinary user's run checks before it starts
// (unreadable.ts's remembered walk of /var and /etc), lstatSync cost 4.6 ms and ~140 page
// faults where Node's own binding answers the same lstat(2) into one shared array in 1.6 ms
// and 8 faults (321 dirs, this VM). The binding (node-binding.ts) is used only after it gave
// exactly what lstatSync gives for `/`, and lstatSync wherever it is missing or answers otherwise.
import { constants, fstatSync, lstatSync } from 'node:fs';
import { nodeBinding } from './node-binding.js';

/** What dirStat tells of a directory, each as lstatSync's Stats has it. */
export interface DirStat { nlink: number; size: number; mtimeMs: number; ctimeMs: number }

type Lstat = (path: string, bigint: boolean, req: undefined, throwIfNoEntry: boolean) => Float64Array | undefined;

let binding: Lstat | null | undefined;
const { S_IFMT, S_IFDIR } = constants;

function fsBinding(): Lstat | null {
  if (binding !== undefined) return binding;
  binding = null;
  const fs = nodeBinding('fs');
  if (typeof fs?.lstat !== 'function') return null;
  try {
    const lstat = (fs.lstat as Lstat).bind(fs);
    const st = lstatSync('/');
    const got = fromValues(lstat('/', false, undefined, false));
    if (got && got.nlink === st.nlink && got.size === st.size && got.mtimeMs === st.mtimeMs && got.ctimeMs === st.ctimeMs) binding = lstat;
  } catch { /* another signature: lstatSync */ }
  return binding;
}

/**
 * Node's statValues ([1] mode, [2] nlink, [8] size, [12]/[13] mtime s/ns, [14]/[15] ctime
 * s/ns), the times computed as Node computes Stats' (so equal to them); null if not a directory.
 */
function fromValues(a: Float64Array | undefined): DirStat | null {
  if (!(a instanceof Float64Array) || a.length < 16 || (a[1]! & S_IFMT) !== S_IFDIR) return null;
  return { nlink: a[2]!, size: a[8]!, mtimeMs: a[12]! * 1e3 + a[13]! / 1e6, ctimeMs: a[14]! * 1e3 + a[15]! / 1e6 };
}

/** lstat(2) of `path` when it is a directory (a symlink is not followed); null when it is not, or cannot be looked at. */
export function dirStat(path: string): DirStat | null {
  // Node's binding aborts the process on a path that is no string (a C++ assertion, exit 134).
  if (typeof path !== 'string') return null;
  const lstat = fsBinding();
  try {
    if (lstat) return fromValues(lstat(path, false, undefined, false));
    const st = lstatSync(path);
    return st.isDirectory() ? { nlink: st.nlink, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs } : null;
  } catch {
    return null;
  }
}

/** What a remembered list of directories holds: each one's path, mtimeMs and ctimeMs (as DirStat's). */
export type DirTimes = readonly [path: string, mtimeMs: number, ctimeMs: number];

const isDirTimes = (d: unknown): d is DirTimes => Array.isArray(d) && d.length >= 3 && typeof d[0] === 'string'
  && d[0].startsWith('/') && !d[0].includes('\0') && typeof d[1] === 'number' && typeof d[2] === 'number';

/**
 * Whether each of `dirs` (read from a file: anything else than a DirTimes is no match) is still
 * a directory with those times; false at the first that is not. The unprivileged set-up checks
 * ~320 remembered directories of /var and /etc on every run (unreadable.ts): one loop over the
 * binding's shared array, where a dirStat and a stamp per directory made two objects each and
 * took ~5 ms and ~145 page faults in a run against ~1.4 ms and ~20 (as sbxtest, 6 runs each).
 */
export function dirTimesHold(dirs: readonly unknown[]): boolean {
  const lstat = fsBinding();
  for (let i = 0; i < dirs.length; i++) {
    const d = dirs[i];
    if (!isDirTimes(d)) return false;
    if (!lstat) {
      const st = dirStat(d[0]);
      if (st === null || st.mtimeMs !== d[1] || st.ctimeMs !== d[2]) return false;
      continue;
    }
    let a: Float64Array | undefined;
    try { a = lstat(d[0], false, undefined, false); } catch { return false; }
    // fromValues' test and times, without its object.
    if (!(a instanceof Float64Array) || a.length < 16 || (a[1]! & S_IFMT) !== S_IFDIR) return false;
    if (a[12]! * 1e3 + a[13]! / 1e6 !== d[1] || a[14]! * 1e3 + a[15]! / 1e6 !== d[2]) return false;
  }
  return true;
}

/** A time as the kernel keeps it: seconds (negative before 1970) and 0-999999999 ns after them. */
export interface ExactTime { sec: number; nsec: number }

/** An entry's atime and mtime, every nanosecond and any sign: what a copy of it is given. */
export interface ExactTimes { atime: ExactTime; mtime: ExactTime }

/**
 * lstat(2)'s atime and mtime of `path` (a symlink's own), exactly: Stats' atimeMs and mtimeMs
 * are doubles of milliseconds, ~240 ns apart at today's times. Node's binding keeps each as
 * seconds and nanoseconds (statValues [10]/[11] atime, [12]/[13] mtime), exact in a double;
 * without it (or for an open fd: fstat), the bigint ns of BigIntStats. Throws what lstat throws.
 */
export function exactTimes(path: string | Buffer | number): ExactTimes {
  return exactStat(path).times;
}

/** exactTimes with the mode and owner of the same lstat (one call where both are needed). */
export function exactStat(path: string | Buffer | number): { mode: number; uid: number; gid: number; times: ExactTimes } {
  const lstat = typeof path === 'string' ? fsBinding() : null;
  if (lstat) {
    let a: Float64Array | undefined;
    try { a = lstat(path as string, false, undefined, false); } catch { a = undefined; }
    if (a instanceof Float64Array && a.length >= 14) return { mode: a[1]!, uid: a[3]!, gid: a[4]!, times: { atime: { sec: a[10]!, nsec: a[11]! }, mtime: { sec: a[12]!, nsec: a[13]! } } };
  }
  const st = typeof path === 'number' ? fstatSync(path, { bigint: true }) : lstatSync(path, { bigint: true });
  return { mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), times: { atime: fromNs(st.atimeNs), mtime: fromNs(st.mtimeNs) } };
}

/** Stats' atimeMs and mtimeMs to the microsecond (what a double of ms holds), before 1970 too. */
export function timesOfMs(st: { atimeMs: number; mtimeMs: number }): ExactTimes {
  const of = (ms: number): ExactTime => fromNs(BigInt(Math.round(ms * 1000)) * 1000n);
  return { atime: of(st.atimeMs), mtime: of(st.mtimeMs) };
}

/** ns since 1970 as seconds floored and the ns after them (-0.5 s: -1 s and 500000000 ns). */
export function fromNs(ns: bigint): ExactTime {
  const B = 1_000_000_000n;
  let sec = ns / B, nsec = ns % B;
  if (nsec < 0n) { nsec += B; sec -= 1n; }
  return { sec: Number(sec), nsec: Number(nsec) };
}

/** Whether dirStat answers through Node's binding here (for the tests). */
export function dirStatFromBinding(): boolean {
  return fsBinding() !== null;
}
