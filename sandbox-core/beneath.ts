// The one way host-side code touches a tree that a sandbox or the store can influence.
//
// Node has no openat/openat2, but Linux resolves `/proc/self/fd/N/name` by jumping to the
// directory that fd N holds and then looking up the single component `name`: with a name
// that contains no `/` and an fs call that does not follow its last component (lstat, mkdir,
// unlink, rmdir, rename, symlink, readlink, open with O_NOFOLLOW), that is exactly `*at(N,
// name)`. Walking a relative path one component at a time with O_PATH|O_DIRECTORY|O_NOFOLLOW
// gives RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS: a symlink or a non-directory in any component
// stops the walk, and `..` is refused before any syscall. Names are byte strings (latin1,
// one char per byte) as everywhere in the change list, so any name survives.
import {
  chmodSync, closeSync, fstatSync, lstatSync, mkdirSync, opendirSync, openSync, readdirSync, renameSync, rmdirSync,
  unlinkSync, constants as C, type Dir as NodeDir, type Dirent, type Stats,
} from 'node:fs';
import { randomHex } from './random.js';

/** open(2)'s O_PATH: the same value on every architecture sbx supports (x86_64, aarch64). */
export const O_PATH = 0o10000000;
const DIR_FLAGS = O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW;

/** A component of a path is a symlink, not a directory, or not a plain name. */
export class NotBeneathError extends Error {
  readonly code = 'ENOTBENEATH';
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/** Splits a relative byte-string path into names; refuses absolute paths, `.`, `..`, NUL, empty parts. */
export function splitBeneath(rel: string): string[] {
  if (rel === '') return [];
  if (rel.startsWith('/') || rel.includes('\0')) throw new NotBeneathError(`not a plain relative path: ${JSON.stringify(rel)}`);
  const parts = rel.split('/');
  for (const p of parts) {
    if (p === '' || p === '.' || p === '..') throw new NotBeneathError(`not a plain relative path: ${JSON.stringify(rel)}`);
  }
  return parts;
}

function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new NotBeneathError(`not a plain name: ${JSON.stringify(name)}`);
  }
}

/** An O_PATH directory fd; every path below it is resolved from it, never from a string path. */
export class Dir {
  private constructor(readonly fd: number) {}

  /**
   * Opens a directory the caller trusts up to its parent (e.g. the store root, which the user
   * owns). Its last component must be a real directory, not a symlink.
   */
  static open(absPath: string): Dir {
    try {
      return new Dir(openSync(Buffer.from(absPath, 'latin1'), DIR_FLAGS));
    } catch (e) {
      if (errno(e) === 'ENOTDIR' || errno(e) === 'ELOOP') throw new NotBeneathError(`${absPath} is not a directory (a symlink?)`);
      throw e;
    }
  }

  /**
   * Opens `rel` below `base` one component at a time, refusing a symlink or a non-directory
   * in any of them. With `create`, missing components are made (mode, default 0700).
   */
  static openBeneath(base: Dir, rel: string, opts: { create?: boolean; mode?: number } = {}): Dir {
    let cur: Dir = base;
    try {
      for (const name of splitBeneath(rel)) {
        const next: Dir = cur.child(name, opts);
        if (cur !== base) cur.close();
        cur = next;
      }
    } catch (e) {
      if (cur !== base) cur.close();
      throw e;
    }
    // An empty path is the base itself: reopened through its magic link, which must be
    // followed (it is no symlink of the tree's; O_NOFOLLOW would refuse it).
    return cur === base ? new Dir(openSync(`/proc/self/fd/${base.fd}`, O_PATH | C.O_DIRECTORY)) : cur;
  }

  private child(name: string, opts: { create?: boolean; mode?: number }): Dir {
    try {
      return new Dir(openSync(this.at(name), DIR_FLAGS));
    } catch (e) {
      const code = errno(e);
      if (code === 'ENOENT' && opts.create) {
        try { mkdirSync(this.at(name), { mode: opts.mode ?? 0o700 }); } catch (m) { if (errno(m) !== 'EEXIST') throw m; }
        return this.child(name, { mode: opts.mode });
      }
      if (code === 'ENOTDIR' || code === 'ELOOP') throw new NotBeneathError(`${JSON.stringify(name)} is a symlink or not a directory`);
      throw e;
    }
  }

  /** The `*at(fd, name)` path of a single name in this directory. */
  at(name: string): Buffer {
    checkName(name);
    // One buffer, not a concat of two: a latin1 name is one byte per char, as the prefix is.
    return Buffer.from(`/proc/self/fd/${this.fd}/${name}`, 'latin1');
  }

  /** The directory itself, for calls that act on it (chmod, utimes, readdir, statfs). */
  self(): string {
    return `/proc/self/fd/${this.fd}`;
  }

  stat(): Stats {
    return fstatSync(this.fd);
  }

  lstat(name: string): Stats | null {
    return lstatSync(this.at(name), { throwIfNoEntry: false }) ?? null;
  }

  /** Entries with their types, names as byte strings. */
  list(): Dirent[] {
    return readdirSync(this.self(), { withFileTypes: true, encoding: 'latin1' as BufferEncoding }) as unknown as Dirent[];
  }

  /** Opens a non-directory entry without following it (and without blocking on a fifo); libuv adds O_CLOEXEC. */
  openFile(name: string, flags = C.O_RDONLY): number {
    return openSync(this.at(name), flags | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY);
  }

  close(): void {
    try { closeSync(this.fd); } catch { /* already closed */ }
  }
}

/** Opens the parent of `rel` below `base` and returns it with the last name; the caller closes dir. */
export function resolveParentBeneath(base: Dir, rel: string, opts: { create?: boolean; mode?: number } = {}): { dir: Dir; name: string } {
  const parts = splitBeneath(rel);
  const name = parts.pop();
  if (name === undefined) throw new NotBeneathError('an empty path has no parent');
  return { dir: Dir.openBeneath(base, parts.join('/'), opts), name };
}

/** Directories deeper than this are moved up to the top before going on: fds stay bounded at any depth. */
const MAX_OPEN_DEPTH = 64;

/**
 * Whether `name` in `parent` holds at least `n` entries below it (countBelow); false when
 * `name` is not a directory there.
 */
export function holdsAtLeast(parent: Dir, name: string, n: number): boolean {
  let top: Dir;
  try { top = Dir.openBeneath(parent, name); } catch { return false; }
  try { return countBelow(top, n) >= n; } finally { top.close(); }
}

/**
 * The entries below `top` (left open), counted without following a symlink and only up to
 * `most` (what decides whether a tree is big: removed by a detached remover, listed alone). A
 * directory that cannot be opened or listed counts as its own entry alone; a tree deeper than
 * MAX_OPEN_DEPTH counts as reaching `most` (fds stay bounded).
 */
export function countBelow(top: Dir, most: number): number {
  const stack: Array<{ dir: Dir; subdirs: string[] }> = [];
  let count = 0;
  const read = (dir: Dir): void => {
    const frame = { dir, subdirs: [] as string[] };
    stack.push(frame);
    // Read as far as needed: one directory of 50,000 entries took ~40 ms to list whole.
    let listing: NodeDir;
    try { listing = opendirSync(dir.self(), { encoding: 'latin1' as BufferEncoding }); } catch { return; }
    try {
      for (let e: Dirent | null; count < most && (e = listing.readSync()) !== null;) {
        count++;
        if (e.isDirectory()) frame.subdirs.push(e.name);
      }
    } catch {
      // Unreadable part way: what was counted stands.
    } finally {
      listing.closeSync();
    }
  };
  try {
    read(top);
    while (stack.length && count < most) {
      const f = stack[stack.length - 1]!;
      const sub = f.subdirs.pop();
      if (sub === undefined) { const done = stack.pop()!; if (done.dir !== top) done.dir.close(); continue; }
      if (stack.length >= MAX_OPEN_DEPTH) return most;
      let d: Dir;
      try { d = Dir.openBeneath(f.dir, sub); } catch { continue; } // gone, or replaced by a non-directory: counted already
      read(d);
    }
    return Math.min(count, most);
  } finally {
    for (const f of stack) if (f.dir !== top) f.dir.close();
  }
}

interface Frame { dir: Dir; parent: Dir; name: string; subdirs: string[]; mode?: number }

/** What removeTreeAt met inside the tree and could not get past, with where (relative to it). */
export class TreeRemovalError extends Error {
  constructor(readonly sub: string, readonly code: string) {
    super(`${sub}: ${code}`);
  }
}

/**
 * Removes `name` in `parent` and everything below it without following a symlink, at any
 * depth: a directory more than MAX_OPEN_DEPTH levels down is renamed to a fresh name beside
 * `name` and removed as its own job, so neither open fds nor path lengths grow with depth.
 * Directories are made writable first (overlayfs work dirs are created mode 000). Throws the
 * first error it cannot get past (e.g. EPERM on files of another uid) as a TreeRemovalError
 * naming where, after giving the directories it made writable and did not remove their modes
 * back. A mount point is never entered: every directory is first removed as if empty, which
 * a mount point refuses with EBUSY.
 */
export function removeTreeAt(parent: Dir, name: string): void {
  const jobs = [name];
  // A job renamed up from deep down, by the path it had in the tree (for the error).
  const movedFrom = new Map<string, string>();
  while (jobs.length) {
    const job = jobs.pop()!;
    const st = parent.lstat(job);
    if (!st) continue;
    const stack: Frame[] = [];
    let cur: string | undefined; // the subdirectory being worked on, not yet on the stack
    const where = (sub?: string) => [movedFrom.get(job) ?? job, ...stack.slice(1).map((f) => f.name), ...(sub === undefined ? [] : [sub])].join('/');
    try {
      if (!st.isDirectory()) { unlinkSync(parent.at(job)); continue; }
      if (removedEmpty(parent, job)) continue;
      stack.push(open(parent, job));
      while (stack.length) {
        cur = undefined;
        const top = stack[stack.length - 1]!;
        const sub = top.subdirs.pop();
        if (sub === undefined) {
          rmdirSync(top.parent.at(top.name));
          stack.pop();
          top.dir.close();
          continue;
        }
        cur = sub;
        // Most dirs of a finished sandbox's tree are empty (the uppers of untouched layers, the
        // stand-ins): one rmdir, where opening, listing and removing one costs six calls.
        if (removedEmpty(top.dir, sub)) continue;
        if (stack.length >= MAX_OPEN_DEPTH) {
          const moved = `.sbx-rm-${randomHex(6)}`;
          try {
            renameSync(top.dir.at(sub), parent.at(moved));
            movedFrom.set(moved, where(sub));
            jobs.push(moved);
            continue;
          } catch (e) {
            if (errno(e) !== 'EXDEV') throw e; // another filesystem below: go down it with fds
          }
        }
        stack.push(open(top.dir, sub));
      }
    } catch (e) {
      if (e instanceof TreeRemovalError || e instanceof NotBeneathError) throw e;
      throw new TreeRemovalError(where(cur), errno(e) ?? (e as Error).message);
    } finally {
      // Left on the stack: not removed, so stopped below them.
      for (const f of stack) {
        if (f.mode !== undefined) { try { chmodSync(f.dir.self(), f.mode); } catch { /* the error says more */ } }
        f.dir.close();
      }
    }
  }

  function removedEmpty(at: Dir, n: string): boolean {
    try {
      rmdirSync(at.at(n));
      return true;
    } catch (e) {
      const code = errno(e);
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
      throw e;
    }
  }

  function open(at: Dir, n: string): Frame {
    const dir = Dir.openBeneath(at, n);
    try {
      const st = dir.stat();
      const mode = (st.mode & 0o700) !== 0o700 ? st.mode & 0o7777 : undefined;
      if (mode !== undefined) chmodSync(dir.self(), 0o700);
      const frame: Frame = { dir, parent: at, name: n, subdirs: [], mode };
      try {
        for (const e of dir.list()) {
          if (e.isDirectory()) frame.subdirs.push(e.name);
          else unlinkSync(dir.at(e.name));
        }
      } catch (e) {
        if (mode !== undefined) { try { chmodSync(dir.self(), mode); } catch { /* the error says more */ } }
        throw e;
      }
      return frame;
    } catch (e) {
      dir.close();
      throw e;
    }
  }
}
