// Carries out a plan on the host, recording progress in the journal.
//
// Order: deletions (deepest first); then in path order new dirs, symlinks, fifos, sockets and
// in-place metadata; then every new file is written beside its target in one batch (the
// helper copies with holes kept, sets owner, xattrs, mode and times) and made durable by one
// syncfs per filesystem, in the same helper call; then the staged files are renamed over
// their targets in path order, each after a last conflict check; then directory metadata,
// deepest first; then one more syncfs, with the last times, makes the renames durable. The
// crash guarantees of one fsync per file (a target is the old file or the complete new one,
// never a torn one) with a few syncs per commit. The
// times of what the first and the directory phases wrote are set at each phase's end, in one
// helper call (setTimes), to the nanosecond and of any sign.
import { closeSync, existsSync, linkSync, lstatSync, mkdirSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import type { Change } from '../changes/types.js';
import { display, parentB } from '../base/bpath.js';
import { isBelow, isWithin } from '../base/within.js';
import { exactTimes, lstatB } from '../changes/stat.js';
import { auxAt, closeAll, FenceError, fenceBreachOf, setFences, trustRoot, type Fence } from '../changes/fsat.js';
import {
  getXattrs, isDataXattr, mknodBatch, setTimesThenSync, setXattrs, stageFiles, xattrsEqual, type StageItem, type StageResult, type TimesItem,
} from '../changes/xattr.js';
import { errnoName } from '../base/errno.js';
import { constants as osConstants } from 'node:os';
import type { Plan, Refusal, Step } from './plan.js';
import { CONFLICT, conflictOf } from './plan.js';
import { placeFiles, type PlaceItem, type PlaceResult } from './place.js';
import {
  ancestorsAreDirs, applyMetaFd, applyMetaSymlink, chmodSocketNoFollow, errorText, fsyncPath, hostAt, mayKeepPrivileges, openNoFollow, removableXattr, removeEntry,
  UnsafePathError, unsetXattrs, validatePath, type MetaResult,
} from './safe-fs.js';
import type { JournalWriter } from './journal.js';
import { stagingName, stagingPath } from './staged.js';
import type { Dir } from '../beneath.js';

export interface ApplyOptions {
  sandboxId: string;
  createdMs: number;
  force: boolean;
  journal: JournalWriter | null;
  /** Upper inode → every host name it has, to keep hard links linked. */
  links: Map<string, string[]>;
  ours: Set<string>;
  /** As in PlanOptions: when the interrupted commit behind `ours` stopped, and the step it died in. */
  oursUntilMs?: number;
  /** The sandbox's layers dir: sources are resolved below it, never through a symlink. */
  layersRoot: string;
  /** Opens layersRoot from the store-root fd (Store.openLayers): its path is never walked. */
  openLayers: () => Dir;
  /**
   * The layers' host trees and the mounts they were on when the commit was planned: no dir the
   * commit writes in may be on another (a filesystem mounted there since, commit/mounts.ts).
   */
  fences: readonly Fence[];
  /** --keep-setuid: keep setuid/setgid bits and security.capability (honoured for root only). */
  keepSetuid?: boolean;
  /** --link-host-files: a hard link to a file the host already had stays a link to it. */
  linkHostFiles?: boolean;
  progress?: (done: number, total: number, bytes: number) => void;
  /** Called as each phase ends, with its name: the bench times the phases with it. */
  phase?: (name: string) => void;
}

/** The inode a step wrote, as lstat named it: its times are set only while the name holds it. */
interface Made { ino: number; dev: number }

export interface ApplyResult {
  applied: number;
  /** Bytes of the files placed on the host: a file staged and then refused or failed is not counted. */
  bytes: number;
  conflicts: Refusal[];
  failed: Refusal[];
  ownerNotKept: string[];
  setidStripped: string[];
  xattrsNotKept: string[];
  /** Replaced files whose chattr flags the new inode could not take (CARRIED_INODE_FLAGS). */
  flagsNotKept: string[];
  /** Hard links to files the host already had, committed as copies (no --link-host-files). */
  linksCopied: string[];
}

/**
 * The inode flags (chattr's letters) a replaced file's new inode takes from the old one: a
 * commit that changes a file's bytes writes a new file and renames it over the old, and the
 * flags belong to the inode. s u c S d A m t C: what an owner may set, each about how the
 * file is stored, dumped or synced. Not i or a (they refuse the write: a conflict), nor j
 * (needs CAP_SYS_RESOURCE: set with the others, an ordinary user's commit would keep none),
 * nor the ones the filesystem sets itself (e, and the like).
 */
const CARRIED_INODE_FLAGS = 0x1 | 0x2 | 0x4 | 0x8 | 0x40 | 0x80 | 0x400 | 0x8000 | 0x800000;

function placeConflict(why: 'exists' | 'gone' | 'differs' | 'changed-after-start'): string {
  return why === 'exists' ? CONFLICT.created : why === 'gone' ? CONFLICT.deleted : why === 'differs' ? CONFLICT.changed : CONFLICT.changedAfterStart;
}

/**
 * The error a helper's errno for host path `p` stands for: a fence's own line (naming where a
 * filesystem was mounted during the commit) for EXDEV, else `what: ERRNO`.
 */
function helperFailure(p: string, what: string, errno: number): Error {
  return (errno === EXDEV ? fenceBreachOf(p) : null) ?? new Error(`${what}: ${errnoName(errno)}`);
}

/** The error a failed place op entry stands for, worded as the same failure from Node. */
function placeError(path: string, r: Exclude<PlaceResult, { kind: 'placed' }>): Error {
  const name = errnoName(r.errno);
  if (r.errno === EXDEV) return helperFailure(path, r.kind === 'conflict' ? 'lstat' : r.step, r.errno);
  if (r.kind === 'failed' && r.step === 'parent') {
    if (r.errno === ENOENT) return new Error('its parent dir does not exist on the host');
    if (r.errno === ELOOP || r.errno === ENOTDIR) return new UnsafePathError(`a parent of ${text(path)} is a symlink or not a directory: refusing to write below it`);
  }
  const where = r.kind === 'conflict' ? 'lstat' : r.step;
  return Object.assign(new Error(`${where}: ${name}`), where === 'rename' ? { code: name } : {});
}

export function pauseForTest(i: number | 'staged' | 'planned'): void {
  const at = process.env.SBX_TEST_COMMIT_PAUSE_AFTER;
  if (at === undefined || (typeof i === 'number' ? Number(at) !== i : at !== i)) return;
  // Lets a test SIGKILL a commit at a known point, with a staged file and a half journal, or
  // (SBX_TEST_COMMIT_RESUME=FILE) change the host there and let it go on once FILE exists.
  process.stderr.write(`sbx-test: paused at step ${i}\n`);
  const tick = new Int32Array(new SharedArrayBuffer(4));
  const resume = process.env.SBX_TEST_COMMIT_RESUME;
  if (!resume) Atomics.wait(tick, 0, 0);
  else for (let waited = 0; waited < 30_000 && !existsSync(resume); waited += 20) Atomics.wait(tick, 0, 0, 20);
}

const linkKey = (c: Change) => `${c.up!.dev}:${c.up!.ino}`;
// Paths in reasons and notes are escaped here, once: the report prints them as they are.
const text = display;
/** Files per helper call: progress between batches, bounded memory for the request. */
const STAGE_BATCH = 16384;
const { EEXIST, EISDIR, ENOENT, ELOOP, ENOTDIR, ESTALE, EXDEV } = osConstants.errno;
/** Renames per helper call: progress between batches, bounded memory for the request. */
const PLACE_BATCH = 16384;
/** Entries per helper call that sets times: bounded memory for the request. */
const TIMES_BATCH = 16384;

/**
 * One dir of `dirs` per filesystem holding any of them: a syncfs of each makes all of it
 * durable (the helper does it after a batch's writes, `--then-syncfs`).
 */
function filesystemsOf(dirs: Iterable<string>): string[] {
  const perDev = new Map<number, string>();
  for (const d of new Set(dirs)) {
    let st;
    // On a filesystem mounted since the plan: nothing of the commit's is written there.
    try { st = lstatB(d); } catch (e) { if (e instanceof FenceError) continue; throw e; }
    if (st && st.type === 'dir' && !perDev.has(st.dev)) perDev.set(st.dev, d);
  }
  return [...perDev.values()];
}

const firstErrno = (errnos: number[]): number => errnos.find((e) => e) ?? 0;

export function applyPlan(plan: Plan, opts: ApplyOptions): ApplyResult {
  const res: ApplyResult = { applied: 0, bytes: 0, conflicts: [], failed: [], ownerNotKept: [], setidStripped: [], xattrsNotKept: [], flagsNotKept: [], linksCopied: [] };
  trustRoot(opts.layersRoot, opts.openLayers);
  setFences(opts.fences);
  try {
    return run(plan, opts, res);
  } finally {
    setFences(null);
    closeAll();
  }
}

function run(plan: Plan, opts: ApplyOptions, res: ApplyResult): ApplyResult {
  const touched = new Set<string>();
  const failedDirs: string[] = [];
  const committedInode = new Map<string, string>();
  const syncDirs = new Set<string>();
  const total = plan.steps.length;
  let done = 0;

  // A new entry of the sandbox's root (0:0 inside) becomes the committing user's: the command
  // ran as that root, which for an ordinary user's run is that user, so nothing is lost; an
  // entry of any other owner, or a host entry's owner replaced, is worth a warning.
  const ownerLost = (c: Change, kept: boolean) => !kept && !(c.change === 'added' && c.up?.uid === 0 && c.up.gid === 0);
  const note = (c: Change, m: MetaResult) => {
    if (ownerLost(c, m.ownerKept)) res.ownerNotKept.push(c.path);
    if (m.setidStripped) res.setidStripped.push(c.path);
  };
  const keepPriv = mayKeepPrivileges(!!opts.keepSetuid);
  /** Host xattrs of the entries of metadata steps, read before any step (readHostXattrs); absent: unreadable. */
  const hostXattrs = new Map<string, Array<[string, Buffer]>>();
  /** An in-place metadata change that leaves the host entry's owner and xattrs as they were. */
  const hostsOwnXattrs = (c: Change): boolean => {
    const h = c.host, up = c.up;
    if (c.change !== 'metadata' || !h || !up || h.type !== up.type || h.uid !== up.uid || h.gid !== up.gid) return false;
    const attrs = hostXattrs.get(c.path);
    return !!attrs && xattrsEqual(attrs.filter(([n]) => isDataXattr(n)), c.xattrs ?? []);
  };
  const allowedXattrs = (c: Change): Array<[string, Buffer]> => {
    if (!c.xattrs?.length) return [];
    // File capabilities are setuid by another name: a sandboxed command must not leave one
    // behind. A host entry's own, where the change leaves owner and xattrs as they were (a
    // `touch` of a setcap program inside), is not the sandbox's: set again as it was, not
    // reported as taken off (the host kept it, and the report said otherwise).
    const caps = c.xattrs.some(([n]) => n === 'security.capability');
    const attrs = keepPriv || !caps || hostsOwnXattrs(c) ? c.xattrs : c.xattrs.filter(([n]) => n !== 'security.capability');
    if (attrs.length !== c.xattrs.length && !res.setidStripped.includes(c.path)) res.setidStripped.push(c.path);
    return attrs;
  };
  const xattrs = (c: Change, at: string) => {
    const attrs = allowedXattrs(c);
    if (!attrs.length) return;
    const [e] = setXattrs([{ path: at, attrs }]);
    if (e) res.xattrsNotKept.push(`${text(c.path)} (${errnoName(e)})`);
  };
  // What the progress line shows (copied so far) and what the report counts (placed) differ:
  // a staged file refused at its rename was counted, and "0 changes committed (4 B)" said so.
  let copied = 0;
  const stagedBytes = new Map<number, number>();
  /** Steps already recorded as failed: a file whose staging failed is not tried (and listed) again. */
  const failedSteps = new Set<number>();
  const fail = (s: Step, i: number, e: unknown) => {
    failedSteps.add(i);
    let reason = errorText(e);
    if (s.kind === 'put') {
      // A dir the host made append-only (chattr +a) takes the staged copy and refuses both its
      // rename and its removal: said, where it was left silently (and, with the journal gone,
      // never removed by a later commit).
      const tmp = stagingPath(s.change.path, opts.sandboxId, i);
      try { removeEntry(tmp); } catch (r) {
        if (r instanceof FenceError) reason += `; its staged copy ${text(tmp)} is left below that mount: remove it once it is unmounted`;
        else if ((r as NodeJS.ErrnoException).code !== 'ENOENT') reason += `; its staged copy ${text(tmp)} could not be removed (${(r as NodeJS.ErrnoException).code ?? errorText(r)}): remove it by hand`;
      }
    }
    res.failed.push({ path: s.change.path, reason });
    if (s.kind === 'mkdir') failedDirs.push(s.change.path);
  };
  /** Checks common to every step; false when it must not run (recorded as a conflict or a failure). */
  const mayRun = (s: Step): boolean => {
    const p = s.change.path;
    const under = failedDirs.find((d) => isWithin(p, d) && p !== d);
    if (under) { res.failed.push({ path: p, reason: `not committed: ${text(under)} failed` }); return false; }
    validatePath(p);
    if (!ancestorsAreDirs(p)) throw new Error('its parent dir does not exist on the host');
    if (!opts.force && !touched.has(p) && s.kind !== 'dirmeta') {
      const why = conflictOf(s.change, { createdMs: opts.createdMs, force: false, ours: opts.ours, oursUntilMs: opts.oursUntilMs });
      if (why) { res.conflicts.push({ path: p, reason: why }); if (s.kind === 'mkdir') failedDirs.push(p); return false; }
    }
    return true;
  };
  /** `journalled`: the helper's place op already wrote the step's `d` line. */
  const finish = (s: Step, i: number, journalled = false) => {
    if (!journalled) opts.journal?.done(i);
    res.bytes += stagedBytes.get(i) ?? 0;
    touched.add(s.change.path);
    syncDirs.add(parentB(s.change.path));
    res.applied++;
    if (opts.progress && (++done & 0xff) === 0) opts.progress(done, total, copied);
  };

  /**
   * A host file this one may be linked to instead of copied: an already committed name of the
   * same upper inode, or (only with --link-host-files) an unchanged host file the sandbox
   * linked it to. By default a link to a file the host already had is committed as a copy:
   * the new name must not share an inode (and later writes) with, say, ~/.bashrc.
   */
  const linkSource = (c: Change): string | null => {
    if (c.type !== 'file' || c.up!.nlink < 2) return null;
    if (c.linksTo !== undefined && !opts.linkHostFiles) return null;
    const key = linkKey(c);
    const first = committedInode.get(key);
    if (first) return first;
    if (!opts.linkHostFiles) return null;
    for (const other of opts.links.get(key) ?? []) {
      if (other === c.path) continue;
      // One that cannot be looked at (a symlink on its way, a filesystem mounted there since
      // the plan) is no partner: the file is copied.
      let h;
      try { h = lstatB(other); } catch { continue; }
      // An unchanged partner: the host file already equals the upper one.
      if (h && h.type === 'file' && h.size === c.up!.size && Math.abs(h.mtimeMs - c.up!.mtimeMs) < 0.001 && !plan.steps.some((s) => s.change.path === other)) return other;
    }
    return null;
  };

  const stageItem = (c: Change, i: number): StageItem => {
    const up = c.up!;
    // setuid/setgid bits from a sandbox are never committed unless root asked to keep them;
    // a host file's own, given a new inode for a change of its times (plan.ts stepsOf), are not the sandbox's.
    const keep = c.change === 'metadata' && c.host ? hostSetid(c, c.host) : 0;
    const perm = keepPriv ? up.perm : up.perm & ~(0o6000 & ~keep);
    if (perm !== up.perm) res.setidStripped.push(c.path);
    return {
      src: c.upper!, dst: stagingPath(c.path, opts.sandboxId, i), uid: up.uid, gid: up.gid, perm, ino: up.ino, dev: up.dev,
      ...exactTimes(up), xattrs: allowedXattrs(c),
      like: c.host?.type === 'file' ? c.path.slice(c.path.lastIndexOf('/') + 1) : '', flagsMask: CARRIED_INODE_FLAGS,
    };
  };
  const staged = new Set<number>();
  /**
   * Writes files beside their targets, in helper calls of STAGE_BATCH files, each call ending
   * with one syncfs per filesystem its files are on (not one fsync per file). Each result is
   * recorded; a failure removes nothing on the host but its own staged name.
   */
  const stageBatch = (batch: Array<[Step, number]>, timed = false) => {
    const written: Array<[Step, number, StageResult]> = [];
    for (let k = 0; k < batch.length; k += STAGE_BATCH) {
      const part: Array<[Step, number]> = [];
      for (const [s, i] of batch.slice(k, k + STAGE_BATCH)) {
        try {
          // The open parent chain answers this without a syscall in a sorted batch; a symlink
          // on the way is refused here with a clear line, before the helper sees it.
          ancestorsAreDirs(stagingPath(s.change.path, opts.sandboxId, i));
          if (!isBelow(s.change.upper!, opts.layersRoot)) throw new Error('its sandbox copy is not in the sandbox\'s layers');
          part.push([s, i]);
        } catch (e) { fail(s, i, e); }
      }
      opts.journal?.staged(part.map(([, i]) => i));
      opts.journal?.sync();
      // Staging names are created with O_EXCL, so no lstat per file beforehand: a name left
      // by an interrupted commit whose journal line was lost fails with EEXIST, is removed
      // (never followed) and written again, once.
      const stale: Array<[Step, number]> = [];
      const record = (items: Array<[Step, number]>, retry: boolean) => {
        // Nothing is renamed before every staged file is on disk: a crash leaves each target
        // the old file or the complete new one.
        const { results, synced } = stageFiles(items.map(([s, i]) => stageItem(s.change, i)), opts.layersRoot, filesystemsOf(items.map(([s]) => parentB(s.change.path))));
        const syncErr = firstErrno(synced);
        items.forEach(([s, i], n) => {
          const r = results[n]!;
          if (retry && r.errno === EEXIST && r.step === 'create') { stale.push([s, i]); return; }
          if (r.errno) { fail(s, i, helperFailure(s.change.path, r.step, r.errno)); return; }
          if (syncErr) { fail(s, i, new Error(`syncfs: ${errnoName(syncErr)}`)); return; }
          written.push([s, i, r]);
        });
      };
      record(part, true);
      const again: Array<[Step, number]> = [];
      for (const [s, i] of stale) {
        try { removeEntry(stagingPath(s.change.path, opts.sandboxId, i)); again.push([s, i]); } catch (e) { fail(s, i, e); }
      }
      if (again.length) record(again, false);
      opts.progress?.(done, total, copied);
    }
    if (timed) opts.phase?.('staging copy and syncfs');
    if (!written.length) return;
    pauseForTest('staged');
    for (const [s, i, r] of written) {
      copied += r.bytes;
      stagedBytes.set(i, r.bytes);
      if (ownerLost(s.change, r.ownerKept)) res.ownerNotKept.push(s.change.path);
      if (r.xattrErrno) res.xattrsNotKept.push(`${text(s.change.path)} (${errnoName(r.xattrErrno)})`);
      if (r.flagsErrno) res.flagsNotKept.push(`${text(s.change.path)} (${errnoName(r.flagsErrno)})`);
      staged.add(i);
    }
  };

  /** Makes the entry at `tmp`, with its owner and mode; the inode made, whose times come later. */
  const stageOther = (c: Change, tmp: string): Made => {
    removeEntry(tmp);
    const up = c.up!;
    if (c.type === 'symlink') {
      symlinkSync(Buffer.from(c.target!, 'latin1'), hostAt(tmp));
      const st = lstatSync(hostAt(tmp));
      note(c, applyMetaSymlink(tmp, up, st));
      return st;
    }
    if (c.type === 'fifo' || c.type === 'socket') {
      const [e] = mknodBatch(c.type, [tmp]);
      if (e) throw (e === EXDEV ? fenceBreachOf(tmp) : null) ?? Object.assign(new Error(errnoName(e)), { code: errnoName(e) });
      const st = lstatSync(hostAt(tmp));
      if (c.type === 'fifo') {
        const fd = openNoFollow(tmp);
        try { note(c, applyMetaFd(fd, up, st)); } finally { closeSync(fd); }
      } else {
        // A socket cannot be opened; the name was just created by us with O_EXCL semantics.
        if (!st.isSocket()) throw new Error(`${text(tmp)} changed under us`);
        note(c, applyMetaSymlink(tmp, up, st));
        chmodSocketNoFollow(tmp, up.perm & 0o777);
      }
      return st;
    }
    throw new Error(`cannot commit a ${c.type}`);
  };

  /**
   * Times of the entries steps made or changed, set at once by flushTimes. Node's utimes takes
   * seconds as a double: it kept microseconds only, and made a time before 1970 the commit's
   * own; a helper call per entry would cost milliseconds each (a dir's metadata is a step).
   */
  const timed: Array<[Step, TimesItem]> = [];
  const timesLater = (s: Step, made: Made) => {
    timed.push([s, { path: s.change.path, ino: made.ino, dev: made.dev, ...exactTimes(s.change.up!) }]);
    if (timed.length >= TIMES_BATCH) flushTimes();
  };
  /**
   * The steps' other writes are done and journalled before their times: a commit that dies
   * in between leaves a file's or symlink's times a metadata change that the resumed commit
   * sets, and a new dir's as mkdir made them (as when it dies between a dir's mkdir and its
   * dirmeta). Setting a time moves no other entry's, so the order within a batch is free.
   */
  const flushTimes = (syncDirs: string[] = []): number => {
    const items = timed.splice(0);
    const { errnos: errs, synced } = setTimesThenSync(items.map(([, t]) => t), syncDirs);
    items.forEach(([s], n) => {
      const e = errs[n]!;
      if (!e) return;
      res.applied--;
      res.failed.push({ path: s.change.path, reason: e === ESTALE ? 'times not set: replaced on the host during the commit' : errorText(helperFailure(s.change.path, 'times', e)) });
    });
    return firstErrno(synced);
  };

  /**
   * The setuid/setgid bits of a host entry whose mode, owner and xattrs the change leaves as
   * they were (a `touch` of /usr/bin/sudo inside): the host's own, kept. Stripping them made
   * a committed mtime take the setuid bit off the host's sudo.
   */
  const hostSetid = (c: Change, now: { perm: number }): number => {
    const h = c.host;
    const up = c.up!;
    if (!h || h.type !== up.type || !(h.perm & now.perm & 0o6000) || h.perm !== up.perm || !hostsOwnXattrs(c)) return 0;
    return h.perm & now.perm & 0o6000;
  };

  /**
   * The host xattrs of every metadata step's entry (in place, or a hard-linked file's new
   * inode), for hostsOwnXattrs; and those each in-place step's host entry has and its sandbox
   * copy does not (a `setfacl -x u:someone` inside), taken off with the step: setting the
   * copy's xattrs alone left a revoked ACL on the host. Two helper calls for all of them.
   */
  const stale = new Map<string, string[]>();
  const readHostXattrs = () => {
    const inPlace = (s: Step) => s.kind === 'meta' || s.kind === 'dirmeta';
    const metas = plan.steps.filter((s) => (inPlace(s) || (s.kind === 'put' && s.change.change === 'metadata')) && s.change.host && s.change.host.type !== 'symlink' &&
      s.change.upper && isBelow(s.change.upper, opts.layersRoot));
    if (!metas.length) return;
    const host = getXattrs(metas.map((s) => s.change.path));
    const upper = getXattrs(metas.map((s) => s.change.upper!), opts.layersRoot);
    metas.forEach((s, k) => {
      const c = s.change;
      const h = host[k]!;
      const u = upper[k]!;
      if (!h.errno) hostXattrs.set(c.path, h.attrs);
      // An unreadable copy says nothing about what the sandbox removed; a layer's root says
      // itself what the command removed (walk.ts rootEntry: it may lack host xattrs it never had).
      if (!inPlace(s) || h.errno || u.errno) return;
      const kept = new Set(u.attrs.map(([n]) => n));
      const gone = c.layerRoot ? new Set(c.xattrsRemoved ?? []) : null;
      const names = h.attrs.map(([n]) => n).filter((n) => removableXattr(n) && (gone ? gone.has(n) : !kept.has(n)));
      if (names.length) stale.set(c.path, names);
    });
  };

  /** Owner, mode and xattrs in place; the inode changed, whose times come later. */
  const meta = (c: Change, dir: boolean): Made => {
    const up = c.up!;
    const now = lstatB(c.path);
    if (!now) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    const gone = stale.get(c.path);
    if (gone && now.type !== 'symlink') {
      const [e] = unsetXattrs([{ path: c.path, names: gone }]);
      if (e) res.xattrsNotKept.push(`${text(c.path)} (${errnoName(e)})`);
    }
    if (now.type === 'symlink') { note(c, applyMetaSymlink(c.path, up, now)); return now; }
    if (now.type === 'socket') {
      note(c, applyMetaSymlink(c.path, up, now));
      chmodSocketNoFollow(c.path, up.perm & 0o777);
      return now;
    }
    // A directory's setgid bit only passes its group on to what is made in it (a new dir
    // inherits it from a setgid parent): no privilege, so the sandbox's is kept too.
    const keep = hostSetid(c, now) | (dir ? up.perm & 0o2000 : 0);
    xattrs(c, c.path);
    const fd = openNoFollow(c.path, dir);
    try { note(c, applyMetaFd(fd, up, now, opts.keepSetuid, keep)); } finally { closeSync(fd); }
    return now;
  };

  /**
   * Moves the staged name over the target. A dir there cannot be renamed over (EISDIR): it is
   * removed and the rename done again, so the common case costs no lstat.
   */
  const place = (p: string, tmp: string) => {
    try {
      renameSync(hostAt(tmp), hostAt(p));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EISDIR' || lstatB(p)?.type !== 'dir') throw e;
      removeEntry(p);
      renameSync(hostAt(tmp), hostAt(p));
    }
  };

  readHostXattrs();
  const steps = plan.steps;
  const filePuts: Array<[Step, number]> = [];
  const dirmetas: Array<[Step, number]> = [];
  // Phase 1: deletions, dirs, non-file entries and in-place metadata, in plan order.
  for (let i = 0; i < total; i++) {
    const s = steps[i]!;
    const c = s.change;
    if (s.kind === 'dirmeta') { dirmetas.push([s, i]); continue; }
    if (s.kind === 'put' && c.type === 'file') { filePuts.push([s, i]); continue; }
    try {
      if (!mayRun(s)) continue;
      opts.journal?.begin(i);
      pauseForTest(i);
      switch (s.kind) {
        case 'delete':
          removeEntry(c.path);
          break;
        case 'put': {
          const tmp = stagingPath(c.path, opts.sandboxId, i);
          const made = stageOther(c, tmp);
          place(c.path, tmp);
          timesLater(s, made);
          break;
        }
        case 'mkdir': {
          const now = lstatB(c.path);
          if (now && now.type !== 'dir') unlinkSync(hostAt(c.path));
          if (now?.type !== 'dir') mkdirSync(hostAt(c.path), { mode: 0o700 });
          break;
        }
        case 'meta':
          timesLater(s, meta(c, false));
          break;
      }
      finish(s, i);
    } catch (e) { fail(s, i, e); }
  }
  flushTimes();

  // Phase 2: new files beside their targets, one batch, durable before any rename. A second
  // name of an inode already being copied is linked to it in phase 3 instead.
  const leaders = new Set<string>();
  const toStage: Array<[Step, number]> = [];
  for (const [s, i] of filePuts) {
    const c = s.change;
    if (failedDirs.some((d) => isWithin(c.path, d))) continue;
    const linked = c.up!.nlink > 1 && (c.linksTo === undefined || opts.linkHostFiles);
    if (linked && leaders.has(linkKey(c))) continue;
    if (linked && opts.linkHostFiles && linkSource(c)) continue;
    if (linked) leaders.add(linkKey(c));
    if (c.linksTo !== undefined && !opts.linkHostFiles) res.linksCopied.push(c.path);
    toStage.push([s, i]);
  }
  opts.phase?.('dirs and other entries');
  stageBatch(toStage, true);

  // Phase 3: renames in path order, each after a last conflict check. A staged file over
  // anything but a dir goes to the helper's place op in batches (check, journal line, rename
  // per entry in C: at 50k files the same three calls from Node cost seconds); the rest (links
  // to a name committed before, dirs replaced by a file) take the path below, in order.
  let batch: Array<[Step, number]> = [];
  const placeBatch = () => {
    const items = batch;
    batch = [];
    if (!items.length) return;
    const pause = process.env.SBX_TEST_COMMIT_PAUSE_AFTER;
    const results = placeFiles(items.map(([s, i]) => ({
      step: i, path: s.change.path, tmpName: stagingName(opts.sandboxId, i), expect: expectOf(s.change),
    })), { journalFd: opts.journal?.handOff() ?? null, createdMs: opts.createdMs, syncEvery: 1000, pauseAt: pause === undefined || !/^\d+$/.test(pause) ? undefined : Number(pause) });
    items.forEach(([s, i], n) => {
      const r = results[n]!;
      const c = s.change;
      if (r.kind === 'placed') {
        if (c.up!.nlink > 1 && !committedInode.has(linkKey(c))) committedInode.set(linkKey(c), c.path);
        finish(s, i, true);
      } else if (r.kind === 'conflict' && !r.errno) {
        res.conflicts.push({ path: c.path, reason: placeConflict(r.why) });
      } else if (r.kind === 'failed' && r.step === 'rename' && r.errno === EISDIR) {
        // A dir appeared there (only possible with --force or a path of ours): as below.
        try { place(c.path, stagingPath(c.path, opts.sandboxId, i)); finish(s, i); } catch (e) { fail(s, i, e); }
      } else {
        fail(s, i, placeError(c.path, r));
      }
    });
  };
  /** The state the host entry must still be in, as mayRun would check it; null: any. */
  const expectOf = (c: Change): PlaceItem['expect'] => {
    if (opts.force || touched.has(c.path) || opts.ours.has(c.path)) return null;
    return c.host ?? 'absent';
  };
  for (const [s, i] of filePuts) {
    if (failedSteps.has(i)) continue;
    const c = s.change;
    const tmp = stagingPath(c.path, opts.sandboxId, i);
    if (staged.has(i) && c.host?.type !== 'dir') {
      const under = failedDirs.find((d) => isWithin(c.path, d) && c.path !== d);
      if (under) { res.failed.push({ path: c.path, reason: `not committed: ${text(under)} failed` }); try { removeEntry(tmp); } catch { /* reported with its dir */ } continue; }
      batch.push([s, i]);
      if (batch.length >= PLACE_BATCH) placeBatch();
      continue;
    }
    placeBatch();
    try {
      if (!mayRun(s)) { if (staged.has(i)) removeEntry(tmp); continue; }
      opts.journal?.begin(i);
      if (!staged.has(i)) {
        const src = linkSource(c);
        if (src) {
          removeEntry(tmp);
          linkSync(auxAt(src), hostAt(tmp));
        } else {
          // Its partner failed or was refused: copied on its own after all.
          stageBatch([[s, i]]);
          if (!staged.has(i)) continue;
        }
      }
      pauseForTest(i);
      place(c.path, tmp);
      if (c.up!.nlink > 1 && !committedInode.has(linkKey(c))) committedInode.set(linkKey(c), c.path);
      finish(s, i);
    } catch (e) { fail(s, i, e); }
  }

  placeBatch();
  opts.phase?.('checks and renames');

  // Phase 4: directory metadata, deepest first (the plan's order), after everything inside.
  for (const [s, i] of dirmetas) {
    try {
      if (!mayRun(s)) continue;
      opts.journal?.begin(i);
      pauseForTest(i);
      timesLater(s, meta(s.change, true));
      finish(s, i);
    } catch (e) { fail(s, i, e); }
  }
  // Phase 5: the renames and new entries reach the disk: one syncfs per filesystem touched,
  // in the call that sets the last times. A dir we may not open for reading: fsync each
  // touched dir on that filesystem instead.
  if (flushTimes(filesystemsOf(syncDirs))) for (const d of syncDirs) fsyncPath(d, true);
  opts.phase?.('dir metadata and final syncfs');
  opts.progress?.(total, total, copied);
  return res;
}

