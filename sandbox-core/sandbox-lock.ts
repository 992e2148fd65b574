// One sbx at a time works on a saved sandbox: a commit, or a run in it from before it looks at
// the sandbox's state until its review's answer. Without it, a `run --in` started while the
// review of an earlier run waited for its answer wrote into the layers the review had shown,
// and the commit that followed applied content nobody reviewed and removed the sandbox with
// the new run's other writes; two `run --in` at once mounted one upper dir twice; a commit
// planned from a scan that a run then wrote past.
//
// The lock is `commit.lock` in the sandbox's store entry (its name from when only commits
// took it), made O_EXCL and stamped with its holder's pid, boot and start time and what it is
// doing. One whose holder is gone (killed: a commit's journal says what to resume) is taken
// over: removed, then made afresh. Two processes taking over one dead lock at once could both
// hold a lock (each unlinked the dead file, the slower one unlinking the other's fresh lock),
// so the takeover is a kernel lock's: only the holder of the dead file's flock removes it, and
// only while its name still names that file. One that lost the race finds the name gone or
// another file under it, and tries again. No flock is needed while the lock is live: nobody
// takes over a lock whose stamp names a live process.
//
// The lock file is store data, hostile input like meta.json: reached only through the entry's
// fd (Store.openEntry), opened O_NOFOLLOW, never written once made.
import { childProcess } from './base/builtin.js';
import { closeSync, fchownSync, fstatSync, openSync, readFileSync, unlinkSync, writeSync, constants as C, type Stats } from 'node:fs';
import { helperPath } from './helper.js';
import { SbxError } from './base/errors.js';
import { hasPidStamp, otherStampAlive, ownPidStamp, type PidStamp } from './base/process.js';
import type { Dir } from './beneath.js';
import { sbxFor, type Store } from './store.js';

const LOCK = 'commit.lock';
/** A lock file with no stamp yet is one being written: live for this long after it was made. */
const LOCK_WRITE_GRACE_MS = 5000;

/** What holds a sandbox's lock: a commit, or a run in it (until its review's answer). */
export type LockUse = 'commit' | 'run';

/** A live holder of a sandbox's lock (pid 0: one writing its lock now). */
export interface LockHolder { pid: number; use: LockUse }

/**
 * The live holder of the entry's lock, or null when there is none, its holder is gone, or it
 * is this process (which takes its own lock over: a run's review that commits).
 */
export function lockHolder(entry: Dir): LockHolder | null {
  let fd: number;
  try { fd = entry.openFile(LOCK); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try { return holderOf(fd); } finally { closeSync(fd); }
}

/** lockHolder of the lock file open on `fd`. */
function holderOf(fd: number): LockHolder | null {
  const st = fstatSync(fd);
  if (!st.isFile() || st.size > 4096) return null; // not ours: taken over (unlinked, never followed)
  let h: unknown;
  try { h = JSON.parse(readFileSync(fd, 'utf8')); } catch { h = null; }
  const x = h !== null && typeof h === 'object' ? h as Record<string, unknown> : null;
  if (!x || !hasPidStamp(x)) {
    // Made with O_EXCL and written right after: an empty one may be a holder starting now.
    return Date.now() - st.mtimeMs < LOCK_WRITE_GRACE_MS ? { pid: 0, use: 'commit' } : null;
  }
  // A lock of an sbx before runs took it has no `use`: a commit's.
  return otherStampAlive(x as unknown as PidStamp) ? { pid: x.pid as number, use: x.use === 'run' ? 'run' : 'commit' } : null;
}

/**
 * An exclusive flock on `fd`'s open file description, taken by `sbx-helper lock` (Node has
 * no flock): true when taken, false when another description holds it. The lock lives as long
 * as the description: our fd keeps it after the helper exits, and closing it (or our death)
 * ends it.
 */
function flockNow(fd: number): boolean {
  const r = childProcess().spawnSync(helperPath(), ['lock'], { stdio: ['ignore', 'ignore', 'pipe', fd], encoding: 'utf8' });
  if (r.status === 0) return true;
  if (r.status === 1) return false;
  throw new SbxError(`cannot lock the sandbox's commit.lock: ${(r.stderr || r.error?.message || `sbx-helper exited with ${r.status}`).trim()}`, 125);
}

const sameFile = (a: Stats, b: Stats | null): boolean => b !== null && a.ino === b.ino && a.dev === b.dev;

/** The one line for a sandbox another sbx holds. */
export function busyError(h: LockHolder, sbx = 'sbx'): SbxError {
  return h.use === 'run'
    ? new SbxError(`a run in this sandbox${h.pid ? ` (sbx pid ${h.pid})` : ''} is still going, or its review waits for an answer`, 125, 'wait for it to finish')
    : new SbxError(`another commit of this sandbox is running${h.pid ? ` (pid ${h.pid})` : ''}`, 125, `wait for it to finish; a commit that was killed is finished by the next '${sbx} commit'`);
}

/**
 * Takes the sandbox's lock (`entry`, from Store.openEntry) for `use`; returns its release.
 * Throws busyError when another live sbx holds it; `sbx` is how its hint names sbx (sbxFor).
 */
export function takeSandboxLock(entry: Dir, use: LockUse, sbx = 'sbx'): () => void {
  for (let tries = 0; tries < 8; tries++) {
    let fd: number;
    try {
      fd = openSync(entry.at(LOCK), C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      takeOver(entry, sbx);
      continue;
    }
    try {
      if (process.geteuid?.() === 0) { const st = entry.stat(); if (st.uid !== 0) fchownSync(fd, st.uid, st.gid); }
      writeSync(fd, JSON.stringify({ ...ownPidStamp(), use }));
    } finally {
      closeSync(fd);
    }
    const mine = entry.lstat(LOCK);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      try { if (mine && sameFile(mine, entry.lstat(LOCK))) unlinkSync(entry.at(LOCK)); } catch { /* the entry went with a complete commit */ }
    };
  }
  throw new SbxError('another sbx keeps taking this sandbox\'s lock', 125, 'try again');
}

/**
 * Removes the lock file that is there when its holder is gone; throws when it is live (or
 * another sbx is taking it over). An existing file is only opened to read and lock it, never
 * written: it may be a hard link the store's owner made to a file of root's they may write.
 */
function takeOver(entry: Dir, sbx: string): void {
  let fd: number;
  try { fd = entry.openFile(LOCK); } catch (o) {
    const code = (o as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return; // released or taken over as we looked
    throw new SbxError(`the sandbox's commit.lock is not a lock sbx made (${code})`, 125, 'remove it if no sbx works on this sandbox');
  }
  try {
    const h = holderOf(fd);
    if (h !== null) throw busyError(h, sbx);
    if (!flockNow(fd)) throw busyError({ pid: 0, use: 'commit' }, sbx);
    // Ours now, unless its name was removed (taken over) between our open and the flock.
    if (!sameFile(fstatSync(fd), entry.lstat(LOCK))) return;
    try { unlinkSync(entry.at(LOCK)); } catch (u) {
      throw new SbxError(`the sandbox's commit.lock cannot be taken over (${(u as NodeJS.ErrnoException).code})`, 125, 'remove it if no sbx works on this sandbox');
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * takeSandboxLock on the store entry of `id`, opened here and kept open while the lock is
 * held: the release unlinks the lock through it, whatever became of the store's names.
 */
export function lockSandbox(store: Store, id: string, use: LockUse): () => void {
  const entry = store.openEntry(id);
  let release: () => void;
  try { release = takeSandboxLock(entry, use, sbxFor(store)); } catch (e) { entry.close(); throw e; }
  let open = true;
  return () => {
    if (!open) return;
    open = false;
    try { release(); } finally { entry.close(); }
  };
}
