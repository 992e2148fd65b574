// Host filesystem operations for commit that never follow a symlink.
//
// Every path is resolved fd-relative from `/` one component at a time (changes/fsat.ts on
// beneath.ts): a symlink or a non-directory in any component is refused, at any depth, and
// the final component is opened with O_NOFOLLOW or created with O_EXCL. The directories are
// held open while they are used, so a swap of a path component after it was checked changes
// nothing that we write.
import { spawnSyncPiped } from '../base/light-process.js';
import {
  chmodSync, closeSync, fchmodSync, fchownSync, fstatSync, fsyncSync, lchownSync, openSync, constants as C,
} from 'node:fs';
import { NotBeneathError, O_PATH, removeTreeAt, TreeRemovalError } from '../beneath.js';
import { helperPath } from '../helper.js';
import { checkFence, fenceArgs, FenceError, fsAt, forgetAt, parentAt } from '../changes/fsat.js';
import { SbxError } from '../base/errors.js';
import { display } from '../base/bpath.js';

export class UnsafePathError extends Error {}

/** Refuses anything but a clean absolute path: no NUL, no `.`/`..`, no empty components. */
export function validatePath(p: string): void {
  // Substring tests, not a split per path: an empty component is `//` or a trailing `/`, a
  // `.` or `..` one sits between two slashes or at the end (73 ms of a 10k-file plan before).
  if (!p.startsWith('/') || p === '/' || p.includes('\0') || p.endsWith('/') || p.includes('//') || p.includes('/./') ||
      p.includes('/../') || p.endsWith('/.') || p.endsWith('/..')) {
    throw new UnsafePathError(`refusing unsafe path ${display(p)}`);
  }
}

/** The fd-relative path of `p` for one fs call; a symlink on the way is an UnsafePathError. */
export function hostAt(p: string): Buffer {
  try {
    return fsAt(p);
  } catch (e) {
    if (e instanceof NotBeneathError) throw new UnsafePathError(`a parent of ${display(p)} is a symlink or not a directory: refusing to write below it`);
    throw e;
  }
}

/**
 * Does the parent of `p` exist as a real directory (no symlink on the way)? false when a
 * component is missing (the caller reports it); UnsafePathError for a symlink or non-dir.
 */
export function ancestorsAreDirs(p: string): boolean {
  try {
    parentAt(p);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (e instanceof NotBeneathError) throw new UnsafePathError(`a parent of ${display(p)} is a symlink or not a directory: refusing to write below it`);
    throw e;
  }
}

/** Opens an existing entry without following it (fifos without blocking). */
export function openNoFollow(p: string, dir = false): number {
  const fd = openSync(hostAt(p), C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY | (dir ? C.O_DIRECTORY : 0));
  // A name is opened through a filesystem mounted on it: that one's root, not the entry.
  try { checkFence(p, fd); } catch (e) { closeSync(fd); throw e; }
  return fd;
}

/**
 * The mode of a socket, which cannot be opened for fchmod: through an O_PATH handle on the name
 * itself (never following a symlink there), chmod'ed by its /proc/self/fd link, which names that
 * inode and nothing else. A path chmod after an lstat followed a symlink swapped in between.
 */
export function chmodSocketNoFollow(p: string, perm: number): void {
  const fd = openSync(hostAt(p), O_PATH | C.O_NOFOLLOW);
  try {
    if (!fstatSync(fd).isSocket()) throw Object.assign(new Error(`${display(p)} is no longer a socket`), { code: 'EEXIST' });
    chmodSync(`/proc/self/fd/${fd}`, perm);
  } finally { closeSync(fd); }
}

/** Removes a path without following symlinks: a dir with its whole tree, iteratively, at any depth (a mount point inside stops it: EBUSY). */
export function removeEntry(p: string): void {
  let dir;
  let name;
  try {
    ({ dir, name } = parentAt(p));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  forgetAt(p);
  try {
    removeTreeAt(dir, name);
  } catch (e) {
    // Where inside the tree it stopped, as a host path.
    if (e instanceof TreeRemovalError) throw new TreeRemovalError(`${p.slice(0, p.length - name.length)}${e.sub}`, e.code);
    throw e;
  }
}

/** Times are not here: the commit sets them afterwards, a phase's at once (apply.ts, setTimes). */
export interface MetaTarget {
  perm: number;
  uid: number;
  gid: number;
}

export interface MetaResult {
  ownerKept: boolean;
  setidStripped: boolean;
}

const euid = process.geteuid?.() ?? -1;

/** setuid/setgid bits and file capabilities survive a commit only when asked for, by root. */
export function mayKeepPrivileges(keepSetuid: boolean): boolean {
  return keepSetuid && euid === 0;
}

/**
 * Applies owner and mode to an open fd; chown first: it clears setuid bits. `hostSetid`:
 * setuid/setgid bits the host entry had before the sandbox, which the change leaves to it (see
 * apply.ts): not the sandbox's, so not stripped.
 */
export function applyMetaFd(fd: number, want: MetaTarget, have: { uid: number; gid: number }, keepSetuid = false, hostSetid = 0): MetaResult {
  let ownerKept = true;
  if (want.uid !== have.uid || want.gid !== have.gid) {
    try { fchownSync(fd, want.uid, want.gid); } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM' && (e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
      ownerKept = false;
    }
  }
  // setuid/setgid bits from a sandbox are never committed: a command we did not trust must
  // not be able to leave a privileged binary behind.
  const perm = mayKeepPrivileges(keepSetuid) ? want.perm : want.perm & ~(0o6000 & ~hostSetid);
  fchmodSync(fd, perm);
  return { ownerKept, setidStripped: perm !== want.perm };
}

/** Owner of a symlink (Linux has no lchmod; a symlink's mode means nothing). */
export function applyMetaSymlink(p: string, want: MetaTarget, have: { uid: number; gid: number }): MetaResult {
  let ownerKept = true;
  if (want.uid !== have.uid || want.gid !== have.gid) {
    try { lchownSync(hostAt(p), want.uid, want.gid); } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM' && (e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
      ownerKept = false;
    }
  }
  return { ownerKept, setidStripped: false };
}

export function fsyncPath(p: string, dir: boolean): void {
  try {
    const fd = openNoFollow(p, dir);
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch { /* a dir we may not open for reading: its entries are already written */ }
}

export function errorText(e: unknown): string {
  if (e instanceof UnsafePathError || e instanceof SbxError || e instanceof FenceError) return e.message;
  if (e instanceof TreeRemovalError) {
    const where = display(e.sub);
    return e.code === 'EBUSY' ? `not removed: a filesystem is mounted on ${where}` : `stopped at ${where}: ${e.code}`;
  }
  const err = e as NodeJS.ErrnoException;
  return err.code ?? err.message;
}

/**
 * Host xattrs a commit may take off an entry because the sandbox took them off: user data
 * and ACLs. Not security.* (a label or capability the sandbox's copy never got) nor
 * trusted.* (invisible to a sandbox, so absent from every copy of it), nor overlayfs's own.
 */
export function removableXattr(name: string): boolean {
  return (name.startsWith('user.') && !name.startsWith('user.overlay.') && !name.startsWith('user.fuseoverlayfs.')) ||
    name === 'system.posix_acl_access' || name === 'system.posix_acl_default';
}

/** Removes the named xattrs of each host path (`sbx-helper xattr --beneath unset`): the errno of the first failure per path. */
export function unsetXattrs(items: Array<{ path: string; names: string[] }>): number[] {
  if (!items.length) return [];
  const parts: Buffer[] = [];
  for (const it of items) {
    parts.push(Buffer.from(`${it.path.slice(1)}\0`, 'latin1'));
    const n = Buffer.alloc(4); n.writeUInt32LE(it.names.length); parts.push(n);
    for (const name of it.names) parts.push(Buffer.from(`${name}\0`, 'latin1'));
  }
  const root = openSync('/', O_PATH | C.O_DIRECTORY);
  let r;
  try {
    r = spawnSyncPiped(helperPath(), ['xattr', '--beneath', ...fenceArgs(), 'unset'], Buffer.concat(parts), [root], 1 << 20);
  } finally {
    closeSync(root);
  }
  if (r.error) throw new SbxError(`sbx-helper xattr unset: ${r.error.message}`);
  if (r.status !== 0) throw new SbxError(`sbx-helper xattr unset failed: ${String(r.stderr).trim()}`);
  if (r.stdout.length !== items.length * 4) throw new SbxError('sbx-helper xattr unset: short answer');
  return items.map((_, i) => r.stdout.readUInt32LE(i * 4));
}
