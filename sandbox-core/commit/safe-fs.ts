// Host filesystem operations for commit that never follow a symlink.
//
// Every ancestor of a path is lstat'ed before each operation and must be a real directory;
// the final component is opened with O_NOFOLLOW or created with O_EXCL. The sandboxed
// processes are all dead when a commit runs, so nothing the sandbox started can race us;
// the remaining window (between the lstat of an ancestor and the syscall that uses it) is
// open only to other processes of the committing user on the host, which could do the same
// damage directly. Node has no openat/O_PATH, which would close it.
import {
  closeSync, fchmodSync, fchownSync, fsyncSync, futimesSync, lchownSync, lstatSync, lutimesSync,
  openSync, rmSync, unlinkSync, constants as C,
} from 'node:fs';
import { toFs } from '../changes/bpath.js';
import { SbxError } from '../errors.js';

export class UnsafePathError extends Error {}

/** Refuses anything but a clean absolute path: no NUL, no `.`/`..`, no empty components. */
export function validatePath(p: string): void {
  if (!p.startsWith('/') || p.includes('\0') || p === '/') throw new UnsafePathError(`refusing unsafe path ${JSON.stringify(p)}`);
  for (const part of p.slice(1).split('/')) {
    if (part === '' || part === '.' || part === '..') throw new UnsafePathError(`refusing unsafe path ${JSON.stringify(p)}`);
  }
}

/**
 * Checks that every ancestor of `p` is a directory and not a symlink. Returns false when an
 * ancestor is missing (the caller reports it); throws UnsafePathError for a symlink or a
 * non-directory on the way.
 */
export function ancestorsAreDirs(p: string): boolean {
  let at = 0;
  for (;;) {
    const next = p.indexOf('/', at + 1);
    if (next < 0) return true;
    const dir = p.slice(0, next);
    at = next;
    const st = lstatSync(toFs(dir), { throwIfNoEntry: false });
    if (!st) return false;
    if (st.isSymbolicLink()) throw new UnsafePathError(`${dir} is a symlink: refusing to write below it`);
    if (!st.isDirectory()) throw new UnsafePathError(`${dir} is not a directory: refusing to write below it`);
  }
}

/** Opens an existing entry without following it (fifos without blocking). */
export function openNoFollow(p: string, dir = false): number {
  return openSync(toFs(p), C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY | (dir ? C.O_DIRECTORY : 0));
}

/** Removes a path without following symlinks (a dir with its whole tree). */
export function removeEntry(p: string): void {
  const st = lstatSync(toFs(p), { throwIfNoEntry: false });
  if (!st) return;
  if (st.isDirectory()) rmSync(toFs(p), { recursive: true, force: true });
  else unlinkSync(toFs(p));
}

export interface MetaTarget {
  perm: number;
  uid: number;
  gid: number;
  atimeMs: number;
  mtimeMs: number;
}

export interface MetaResult {
  ownerKept: boolean;
  setidStripped: boolean;
}

const euid = process.geteuid?.() ?? -1;

/** Applies owner, mode and times to an open fd. chown first: it clears setuid bits. */
/** setuid/setgid bits and file capabilities survive a commit only when asked for, by root. */
export function mayKeepPrivileges(keepSetuid: boolean): boolean {
  return keepSetuid && euid === 0;
}

export function applyMetaFd(fd: number, want: MetaTarget, have: { uid: number; gid: number }, times = true, keepSetuid = false): MetaResult {
  let ownerKept = true;
  if (want.uid !== have.uid || want.gid !== have.gid) {
    try { fchownSync(fd, want.uid, want.gid); } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM' && (e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
      ownerKept = false;
    }
  }
  // setuid/setgid bits from a sandbox are never committed: a command we did not trust must
  // not be able to leave a privileged binary behind.
  const perm = mayKeepPrivileges(keepSetuid) ? want.perm : want.perm & ~0o6000;
  fchmodSync(fd, perm);
  if (times) futimesSync(fd, want.atimeMs / 1000, want.mtimeMs / 1000);
  return { ownerKept, setidStripped: perm !== want.perm };
}

/** Owner and times of a symlink (Linux has no lchmod; a symlink's mode means nothing). */
export function applyMetaSymlink(p: string, want: MetaTarget, have: { uid: number; gid: number }): MetaResult {
  let ownerKept = true;
  if (want.uid !== have.uid || want.gid !== have.gid) {
    try { lchownSync(toFs(p), want.uid, want.gid); } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM' && (e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
      ownerKept = false;
    }
  }
  lutimesSync(toFs(p), want.atimeMs / 1000, want.mtimeMs / 1000);
  return { ownerKept, setidStripped: false };
}

export function fsyncPath(p: string, dir: boolean): void {
  try {
    const fd = openNoFollow(p, dir);
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch { /* a dir we may not open for reading: its entries are already written */ }
}

export function errorText(e: unknown): string {
  if (e instanceof UnsafePathError || e instanceof SbxError) return e.message;
  const err = e as NodeJS.ErrnoException;
  return err.code ?? err.message;
}
