// File contents compared and read in bounded memory: size first, then 64 KiB at a time. Paths
// are resolved fd-relative (fsat.ts): any depth, no symlink followed in any component.
import { closeSync, fstatSync, openSync, readlinkSync, constants as C } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { fsAt } from './fsat.js';
import { lstatB } from './stat.js';
import { readInto } from '../../policies/read-json.js';

const CHUNK = 1 << 16;
const bufA = Buffer.allocUnsafe(CHUNK);
const bufB = Buffer.allocUnsafe(CHUNK);

const READ = C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY;

/**
 * Opened for reading without moving its atime, as the helper's scan reads (native/scan.c
 * open_read): reading a file written since its last read moves its atime (relatime), so a
 * review would change the host's files it only looked at. O_NOATIME is refused (EPERM) for a
 * file that is not ours without CAP_FOWNER: that one is read as before.
 */
export function openNoFollow(p: string): number {
  const at = fsAt(p);
  try {
    return openSync(at, READ | C.O_NOATIME);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
  }
  return openSync(at, READ);
}

/** Do two regular files (byte strings) hold the same bytes? */
export function sameContent(a: string, b: string): boolean {
  const fa = openNoFollow(a);
  try {
    const fb = openNoFollow(b);
    try {
      for (;;) {
        const na = readInto(fa, bufA);
        const nb = readInto(fb, bufB);
        if (na !== nb) return false;
        if (na === 0) return true;
        if (bufA.compare(bufB, 0, nb, 0, na) !== 0) return false;
        if (na < CHUNK) return true;
      }
    } finally { closeSync(fb); }
  } finally { closeSync(fa); }
}

/** Up to `limit` bytes of a file, and whether it was cut. */
export function readHead(p: string, limit: number): { data: Buffer; cut: boolean } {
  const fd = openNoFollow(p);
  try {
    const buf = Buffer.allocUnsafe(limit + 1);
    const n = readInto(fd, buf);
    return { data: buf.subarray(0, Math.min(n, limit)), cut: n > limit };
  } finally { closeSync(fd); }
}

/**
 * A regular file's bytes (no symlink followed), read in one buffer of its size: null when it is
 * not a regular file, is longer than `max` or grew while it was read.
 */
export function readWhole(p: string, max: number): Buffer | null {
  const fd = openNoFollow(p);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > max) return null;
    const buf = Buffer.allocUnsafe(st.size + 1);
    const n = readInto(fd, buf);
    return n > st.size ? null : buf.subarray(0, n);
  } finally { closeSync(fd); }
}

/**
 * `ok` of a file the sandbox wrote (`upper`) beside the host's at `raw` (null when the host has
 * none there), each read whole up to `max` bytes, no symlink followed: what a rule that reads
 * a record's new content against the host's asks. False when the sandbox's cannot be read so
 * (not a regular file, longer than `max`, grown meanwhile, or an error).
 */
export function layerAgainstHost(upper: string, raw: string, max: number, ok: (now: Buffer, before: Buffer | null) => boolean): boolean {
  try {
    const now = readWhole(upper, max);
    if (now === null) return false;
    return ok(now, lstatB(raw) === null ? null : readWhole(raw, max));
  } catch {
    return false;
  }
}

/** A symlink's target as a byte string (the exact bytes, never resolved). */
export function readlinkB(p: string): string {
  return (readlinkSync(fsAt(p), { encoding: 'buffer' }) as Buffer).toString('latin1');
}

export interface LineCount {
  /** Lines in the file (a last line without a newline counts), or null for a binary file. */
  lines: number | null;
  /** The file could not be opened (a mode 000 file the command made, for a user without root). */
  unreadable?: true;
}

/** An open that failed because of who may read the file, not because sbx went wrong. */
export function isUnreadable(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM';
}

let countBuf = Buffer.allocUnsafe((1 << 20) + 1);

/**
 * Lines of a text file, for `diff --stat` of a file that is new or gone on one side: counted
 * in one read of up to `maxBytes`, without building a diff. A NUL byte or invalid UTF-8 makes
 * it binary (as the unified diff decides); a file larger than `maxBytes` is too.
 */
export function countLines(p: string, size: number, maxBytes: number): LineCount {
  if (size === 0) return { lines: 0 };
  if (size > maxBytes) return { lines: null };
  if (countBuf.length < size + 1) countBuf = Buffer.allocUnsafe(size + 1);
  let fd: number;
  try { fd = openNoFollow(p); } catch (e) {
    if (isUnreadable(e)) return { lines: null, unreadable: true };
    throw e;
  }
  let n: number;
  try {
    // One byte more than the size the scan saw: a file that grew since is read as far as needed.
    n = readInto(fd, countBuf.subarray(0, size + 1));
  } finally { closeSync(fd); }
  const data = countBuf.subarray(0, Math.min(n, size));
  if (data.includes(0) || !isUtf8(data)) return { lines: null };
  let lines = 0;
  for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, i + 1)) lines++;
  if (data.length && data[data.length - 1] !== 10) lines++;
  return { lines };
}
