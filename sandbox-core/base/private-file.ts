// Reading a file sbx runs or loads from its own cache dir (the code cache, the compiled seccomp
// programs): only one this user owns, in a dir this user owns, that nobody else can write, and
// never through a symlink. Anything else is as if there were no file.
import { closeSync, fstatSync, lstatSync, openSync, readSync, constants } from 'node:fs';

/** Owned by this process's user, and writable by no group or other (also the cached helper's test, helper.ts). */
export function ownedPrivately(st: { uid: number; mode: number }): boolean {
  return st.uid === process.geteuid?.() && (st.mode & 0o022) === 0;
}

/**
 * `file`'s bytes when it is a regular file of at most `most` bytes and both it and `dir` (its
 * directory) are ownedPrivately; else undefined. Read into `room` when it is big enough: a
 * buffer whose pages are already touched costs no page faults.
 */
export function readPrivateFile(file: string, dir: string, most: number, room?: Buffer): Buffer | undefined {
  let fd = -1;
  try {
    const d = lstatSync(dir);
    if (!d.isDirectory() || !ownedPrivately(d)) return undefined;
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    const st = fstatSync(fd);
    if (!st.isFile() || !ownedPrivately(st) || st.size > most) return undefined;
    const b = room && room.length >= st.size ? room.subarray(0, st.size) : Buffer.allocUnsafe(st.size);
    let n = 0;
    while (n < b.length) { const r = readSync(fd, b, n, b.length - n, n); if (r <= 0) break; n += r; }
    return n === b.length ? b : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
