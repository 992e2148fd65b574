// One `sbx run`: plan the view, prepare the store and layers, build the spec, launch the
// helper, and record the result. Nothing slow (walking the filesystem, loading the diff
// library) happens before the command starts.
import { accessSync, chmodSync, chownSync, constants, closeSync, existsSync, lchownSync, lstatSync, mkdirSync, readFileSync, realpathSync, rmdirSync, statfsSync, type Stats } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { builtin, childProcess } from './base/builtin.js';
import { Dir, NotBeneathError, removeTreeAt } from './beneath.js';
import { SbxError } from './base/errors.js';
import { chooseIdMapping, dirOwner, idShiftText, idsMappedHere, invokingIds, sameIdShift, shiftedGid, shiftedUid, type IdMapping, type IdShift } from './idmap.js';
import { EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND, EXIT_SBX_FAILED, signalStatus } from './base/exit-status.js';
import { errnoName, launch, reviewScanFds, userNamespaceHint, type LaunchOutcome, type LaunchResult } from './launch.js';
import { fusePreloadPath } from './helper.js';
import { JOBCTL_FD } from './job-control.js';
import { parseMountInfo, visibleMounts, type MountEntry } from './mountinfo.js';
import { planView, SPECIAL_PATHS } from './plan.js';
import { ownDirs, sudoUserHome } from './base/paths.js';
import { isBelow, isWithin } from './base/within.js';
import { currentDirOrNull } from './base/cwd.js';
import type { LowerView } from './image/view.js';
import { ACCOUNT_FILES, changedAccountCopies, HIDDEN_COPIES, PRECOPY_DIRS, precopyEmptyUnreadable, precopyEntries } from './precopy.js';
import { dirAttrsLast, ensureUpperDirs, entryOp, LayerTimes, UpperEntries, type LayerOwner } from './layer-dirs.js';
import { exactTimes } from './base/dir-stat.js';
import { assignEngines, dirEntry, dirsIn, emptyDir, FUSE_RUN_OPTIONS, fuseAvailable, fuseProblem, readableDir, searchableDir, stackWritableDirs, subdirs, topLevelDirs, upperTakesUserXattrs, userOwnedTrees, type EngineUnit } from './engines.js';
import { which } from './which.js';
import { rootPath } from './root-path.js';
import { DROPPED_DCS, DROPPED_OSC } from './terminal-drops.js';
import { showUnreadableEmpty, unreadableCacheFile } from './unreadable.js';
import { hostLocation } from './hide-targets.js';
import { explainSeen, LINK_TEXT, SCANNED_TEXTS } from './view-errors.js';
import { NO_NETWORK_TEXTS, noNetworkText } from './net-errors.js';
import { display, displayText, fromUser } from './base/bpath.js';
import { notice as coreNotice } from './notices.js';
import { lockSandbox } from './sandbox-lock.js';
import { buildSkeletonTree, skeletonPath } from './skeleton.js';
import { coveredChange, unplannedLayers, withOldPlaces } from './covered-changes.js';
import { encodeSpec, describeSpec, type OverlayFlag, type RelayList, type SpecOp } from './spec.js';
import { capabilitySets } from '../policies/capabilities/index.js';
import { mappedHostRanges, sharedOutputs, stdioToRelay } from './stdio.js';
import { coreDumpOps } from './core-dumps.js';
import type { NetDecision } from './net/proxy.js';
import { rawCwd, rawEnv } from './rawbytes.js';
import { removeTree, safeScratch, sbxFor, scratchPath, TMPFS_MAGIC, type Store } from './store.js';
import { sbxOf } from './layers-opener.js';
import { anyNew } from './said-once.js';
import { isoTime } from './units.js';
import type { LimitOps } from './limits.js';
import { layerDirs, throughFuse, upperOf, type Layer, type RunOptionsRecord, type SandboxMeta } from './types.js';
import { ELLIPSIS } from './base/charset.js';

export interface BindRequest {
  host: string; inside: string; readOnly: boolean;
  /** Root's remapped view: its filesystem refused an idmapped mount (proc, sysfs, devtmpfs), so it is bound as it is. */
  plainIds?: boolean;
}

export interface RunRequest {
  command: string[];
  /** The command with the original bytes of arguments that are not UTF-8 (rawArgs). */
  rawCommand?: Array<string | Buffer>;
  cwd: string;
  env: NodeJS.ProcessEnv;
  name: string | null;
  /** -n: nothing is kept, so layers live on tmpfs and overlays skip syncing. */
  throwaway: boolean;
  /** Nothing reads the layers once the command ended (-n -q, no report): the helper removes them. */
  layersUnread?: boolean;
  /**
   * The caller reviews the run with a plain scan (scanSandbox without options that change what
   * the helper sends): the helper makes it once the sandbox ended (RunResult.launch.reviewAnswer).
   */
  reviewScan?: boolean;
  net: boolean;
  keepUser: boolean;
  /** Root only: identity uid mapping instead of the unprivileged range. */
  mapRoot?: boolean;
  /** The command sees the user's credential stores and secret variables (no --hide-secrets): recorded in meta.json. */
  secretsVisible?: boolean;
  hide: string[];
  /** Host paths hidden only where a bind shows them (the secrets, in an image's view, which shows none of the host's). */
  hideBound?: string[];
  bind: BindRequest[];
  /** Compiled seccomp program, or null for --no-seccomp. */
  seccomp: Buffer | null;
  policyName: string;
  /** The command's capability set (names as in policies/capabilities), decided by the caller. */
  capabilities: string[];
  /** Run inside this existing sandbox (--in). */
  inSandbox: SandboxMeta | null;
  /**
   * Which of fds 0-2 are terminals (bits 1, 2, 4): each is the command's own pseudo-terminal,
   * never the host's (0: none, no pty).
   */
  pty: number;
  /** --disk: the layers live on a tmpfs of this many bytes during the run. */
  diskBytes?: number | null;
  /** Spec ops from resource limits and devices (limits.ts), each placed where it applies. */
  limitOps?: LimitOps;
  onSpawn?: (pid: number) => void;
  /** Lines sbx says before the command starts (fallbacks, read-only paths). */
  onNotice?: (line: string) => void;
  /** The helper has exited (the command with it): before anything about the run is said. */
  onEnded?: () => void;
  /** A new sandbox's entry exists in the store (its meta.json written): a caller that must never leave it behind removes it. */
  onCreated?: (meta: SandboxMeta) => void;
  /** The lines an earlier attempt of this run said (a re-plan starts the launch again): not said twice. */
  said?: Set<string>;
  /** The sandbox's lock, once this run holds it (a re-plan keeps it). */
  lock?: RunLock;
  /** What this run made and how far it got, across its re-plans (runSandbox sets it). */
  attempt?: RunAttempt;
  /** --allow-net entries: the command reaches only these, through sbx's proxy. */
  allowNet?: string[];
  /** --allow-net's direct path: `seccomp` notifies connect(2), answered by the sandbox's supervisor. */
  allowNetDirect?: boolean;
  /** --memory in bytes: what sbx runs in the sandbox's cgroup (the --allow-net relay) is sized to fit. */
  memoryLimit?: number;
  /** --image / --rootfs: the root is an overlay of these lower layers, not the host's mounts. */
  lower?: LowerView | null;
  /** The command's own ids inside (an image's User); absent: root inside. */
  cmdUser?: { uid: number; gid: number } | null;
}

/**
 * A run's hold on its saved sandbox's lock (sandbox-lock.ts): taken before it looks at the
 * sandbox's state (`--in`) or once it is made, kept across re-plans, and released by the
 * caller once the review has its answer; a throwaway run's new sandbox takes none.
 */
export interface RunLock { release: (() => void) | null }

/**
 * The store entry a run made, and whether the helper was started for it: an entry made by a
 * run that failed before that holds nothing of a command, and goes with the failure.
 */
export interface RunAttempt { made: SandboxMeta | null; spawned: boolean }

export interface RunResult {
  /** Releases the sandbox's lock: after the review's answer (and its commit or discard). */
  release: () => void;
  meta: SandboxMeta;
  outcome: LaunchOutcome;
  exitStatus: number;
  durationMs: number;
  launch: LaunchResult;
  /**
   * What the view could not make writable, in full (the notices name a few): for `sbx doctor`.
   * emptyInside: each mount sbx cannot show (an empty read-only dir inside), as `PATH (WHY)`.
   */
  view: { readOnly: string[]; shownEmpty: string[]; emptyInside: string[] };
  /** --disk: the copy-back did not complete (one line saying so); every layer is as it was before the run. */
  diskLost: string | null;
  /** --allow-net: every connection the proxy decided, grouped by host:port and outcome. */
  net: NetDecision[] | null;
  /** A run without a network whose output showed a failed lookup or connection: the text it contained (net-errors.ts). */
  noNetwork: string | null;
}

/** At most a few paths in a one-line notice; `sbx doctor` lists them all. */
function listFew(paths: string[], n = 3): string {
  return paths.slice(0, n).map(displayText).join(', ') + (paths.length > n ? ` and ${paths.length - n} more (sbx doctor lists them)` : '');
}

/** Whether this process may write the host file at `path` (access(2), by the real ids). */
function writableHere(path: string): boolean {
  try { accessSync(path, constants.W_OK); return true; } catch { return false; }
}

/** The skeletons' stand-in tree, beside the layer dirs. */
const SKELETON_DIR = 'skel';

/**
 * Where a quiet throwaway run of root's has the helper put the layer dirs it makes: a tmpfs
 * mounted in the helper's own mount namespace (`layers_tmpfs`), so after the command there is
 * nothing to remove but this empty dir (the namespace's end frees the tmpfs, after a kill
 * too), where removing ~20 layers' trees cost the helper ~650 syscalls while sbx waited.
 */
const LAYERS_TMPFS_DIR = 'lt';

/**
 * In a shared fuse layer's dir: where the helper attaches the daemon's mount of `/` in its own
 * namespace, to bind each tree from it into the view (`fuse_tree`). That namespace's host root
 * is detached at the pivot, and this mount with it; the trees' binds keep the filesystem.
 */
const FUSE_STAGE = 'mnt';

/** Host paths inside which the sandbox's view is replaced by sbx's own mounts. */
const MASKED_PROC_FILES = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/latency_stats', '/proc/timer_stats', '/proc/sysrq-trigger'];
const MASKED_PROC_DIRS = ['/proc/acpi', '/proc/scsi', '/proc/asound'];
const READONLY_PROC = ['/proc/sys', '/proc/bus', '/proc/fs', '/proc/irq'];
const DEV_NODES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

function isTmpfs(path: string): boolean {
  try { return statfsSync(path).type === TMPFS_MAGIC; } catch { return false; }
}

/** lstat results of host paths taken during one plan (settleUnits), by path. */
type HostStats = Map<string, Stats>;

/** The host entry's lstat, looked up once per run: kept for the skeleton's stand-in of the same dir (buildSkeletonTree). */
function hostStat(seen: HostStats, host: string): Stats {
  let st = seen.get(host);
  if (!st) seen.set(host, st = lstatSync(host));
  return st;
}

/** Layer.hostDir of host dir `host` (lstat `st`): with no birth time, its filesystem's size stands in. */
function hostDirRecord(host: string, st: Stats): NonNullable<Layer['hostDir']> {
  const record = { dev: st.dev, ino: st.ino, birthMs: st.birthtimeMs };
  if (st.birthtimeMs !== 0) return record;
  let fs;
  try { fs = statfsSync(host); } catch { return record; /* the dev, inode and time check alone, as before */ }
  return { ...record, blocks: fs.blocks, files: fs.files };
}

/** hostStat for a dir an existing layer (run --in) stands over, which may be gone since: undefined then. */
function hostStatIfAny(seen: HostStats, host: string): Stats | undefined {
  let st = seen.get(host);
  if (!st && (st = lstatSync(host, { throwIfNoEntry: false }))) seen.set(host, st);
  return st;
}

/** Sets the times `times` holds below the sandbox's layers dir (opened from the store-root fd). */
function flushTimes(store: Store, meta: SandboxMeta, times: LayerTimes): void {
  if (times.empty()) return;
  const layers = store.openLayers(meta);
  try { times.flush(layers); } finally { layers.close(); }
}

/** A store entry whose own directories (layer dirs, upper, work) are not plain directories was tampered with. */
function tampered(meta: SandboxMeta, what: string): SbxError {
  return new SbxError(`sandbox ${meta.id}: ${what} in its store directory is a symlink or not a directory: refusing to use it`, 125, `'${sbxOf(meta)} discard ${meta.id}' removes it`);
}

function openOwn(meta: SandboxMeta, at: Dir, rel: string, create = false): Dir {
  try {
    return Dir.openBeneath(at, rel, { create });
  } catch (e) {
    if (e instanceof NotBeneathError) throw tampered(meta, rel);
    throw e;
  }
}

/**
 * A layer's work dir keeps the mode its upper root was made with (the host dir's, as the run
 * found it; owner rwx always, so that sbx and the overlay can use it): the review compares the
 * root's mode with it (walk.ts rootEntry), not with the host's mode now, which may have moved
 * since. 0700 (a work dir made before, or for a host dir of that mode) says nothing.
 */
function workMode(hostMode: number): number {
  return (hostMode & 0o7777) | 0o700;
}

/** A layer's upper root's mode for a host dir of mode `hostMode`: its owner bits `ownerBits` when given (Layer's rootOwnerBits). */
function upperMode(hostMode: number, ownerBits: number | undefined): number {
  return ownerBits === undefined ? hostMode & 0o7777 : (hostMode & 0o7077) | (ownerBits << 6);
}

/**
 * For an ordinary user who stays the user inside (--user): the bits the user has on a host dir
 * of another's (Layer's rootOwnerBits), as the kernel answers access(2) for the user (the
 * owner's, group's or other's bits, and an ACL's named entries and mask: a dir shared with
 * `setfacl -m u:USER:rwx` stays writable inside), with read and search added: the review's
 * scan runs as the user with no capability, and must read the root's xattrs and walk below it
 * (a 0000 `/root` was a warning on every run). A write refused only because the host's
 * filesystem is read-only (EROFS) is the mode's to say: the sandbox writes to its own layer.
 * Overlayfs still reads the host's dir with the user's own rights: such a root can be entered
 * but not listed, as before. Null for a dir of the user's own, whose owner bits are already
 * the user's. The upper root is the user's either way (it cannot be given another owner), and
 * overlayfs shows the merged root with the upper's owner and mode: with the host's mode, a
 * root of root's such as /etc showed writable (`touch /etc/x` worked inside, not outside).
 */
type ViewBits = (st: { uid: number; gid: number; mode: number }, path: string) => number | null;

function userViewBits(uid: number, groups: readonly number[]): ViewBits {
  const gids = new Set(groups);
  return (st, path) => {
    if (st.uid === uid) return null;
    try { accessSync(path, constants.W_OK); return 7; } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EROFS') return 5;
      return ((gids.has(st.gid) ? st.mode >> 3 : st.mode) & 2) | 5;
    }
  };
}

/** The owner sbx gives a layer's work and upper dirs for the host dir `st`, in the layer's terms. */
type RootOwner = (st: { uid: number; gid: number }) => { uid: number; gid: number };

/**
 * A layer dir's `work` and `upper`, the upper with the host dir's mode and times (the
 * overlay's root directory takes them from it), both owned by the host dir's owner as the
 * sandbox sees it (`ownerOf`), when sbx is root; the review compares the upper with the work
 * dir (walk.ts rootEntry). An upper a command changed the owner of (no longer its work dir's)
 * keeps it. `fresh`: the layer dir was just made, so both are made without
 * first looking for them (each look that finds nothing costs Node an exception), and the
 * work dir is given its owner by name (lchown acts on the name itself: no symlink is
 * followed) instead of being opened for it. Otherwise what an earlier plan left is kept, and
 * made only when missing; either way the upper must be a plain directory of this layer
 * (`openOwn`), and so must a work dir this run did not make.
 */
function fillLayer(meta: SandboxMeta, base: Dir, host: string, ownerOf: RootOwner, root: boolean, fresh: boolean, seen: HostStats, kernel: boolean, times: { to: LayerTimes; rel: string }, shared = false, ownerBits?: number): void {
  // An existing layer (run --in) whose host dir is gone since (a mount that came and went)
  // is used as it is: its owners are left alone.
  const hostNow = fresh ? hostStat(seen, host) : hostStatIfAny(seen, host);
  const owner = root && hostNow ? ownerOf(hostNow) : null;
  let workWas: { uid: number; gid: number } | null = null;
  if (fresh) {
    mkdirSync(base.at('work'), { mode: 0o700 });
    if (owner) lchownSync(base.at('work'), owner.uid, owner.gid);
    // As layerEntries makes it; a shared layer's trees' roots are dirs below one upper. Set
    // through the dir opened beneath the layer (chmod by name would follow a symlink put there).
    if (!shared) {
      const work = openOwn(meta, base, 'work');
      try { chmodSync(work.self(), workMode(hostNow!.mode)); } finally { work.close(); }
    }
  } else {
    const work = openOwn(meta, base, 'work', true);
    try {
      if (owner) { workWas = work.stat(); chownSync(work.self(), owner.uid, owner.gid); }
      // With the mark of a volatile mount whose sbx was killed before its helper removed it
      // (scrapOps), the kernel would refuse to mount this layer. Its writes are all there (the
      // machine did not stop: runSandbox refuses an interrupted sandbox), and this run syncs
      // them. Only root could look inside (mode 000): it goes whole, usually one rmdir.
      if (kernel && work.lstat('work')) removeTreeAt(work, 'work');
    } finally {
      work.close();
    }
  }
  const newUpper = fresh || !base.lstat('upper');
  if (newUpper) mkdirSync(base.at('upper'), { mode: 0o700 });
  const up = openOwn(meta, base, 'upper');
  try {
    if (newUpper) {
      const st = hostStat(seen, host);
      chmodSync(up.self(), upperMode(st.mode, ownerBits));
      times.to.add(base, times.rel, 'upper', exactTimes(host));
    }
    const was = owner && !newUpper && workWas ? up.stat() : null;
    if (owner && (!was || (was.uid === workWas!.uid && was.gid === workWas!.gid))) chownSync(up.self(), owner.uid, owner.gid);
  } finally {
    up.close();
  }
}

/** `dir-attrs` ops giving a layer's work and upper dirs, made by fillLayer, the host dir's xattrs (as layerEntries' do). */
function hostXattrsEntries(dir: string, host: string, xattrsFrom: string): SpecOp[] {
  const a = { flags: ['host-xattrs' as const] }, from = `${xattrsFrom}:${host}`;
  return [entryOp('dir-attrs', `${dir}/work`, a, from), entryOp('dir-attrs', `${dir}/upper`, a, from)];
}

/**
 * A fresh layer's dirs as `entry` ops for the helper (native/entries.c): the same dirs, modes,
 * owners and times fillLayer makes for a fresh layer. With `xattrsFrom` (entries.c
 * copy_host_xattrs: the id shift's bases and count, then the host dir) the upper and work
 * dirs also take the host dir's user.* xattrs and ACLs: the overlay's root shows them, and
 * the review compares the root with the work dir (walk.ts rootEntry). A layer fillLayer makes
 * (--disk, an image's root, a re-plan, a new mount under `run --in`) takes them through
 * hostXattrsEntries.
 */
function layerEntries(dir: string, host: string, ownerOf: RootOwner, root: boolean, seen: HostStats, xattrsFrom: string | null, ownerBits?: number): SpecOp[] {
  const st = hostStat(seen, host);
  const own = root ? { owner: ownerOf(st) } : {};
  const copy = xattrsFrom === null ? {} : { flags: ['host-xattrs' as const] };
  const from = xattrsFrom === null ? '' : `${xattrsFrom}:${host}`;
  return [
    entryOp('dir', dir),
    entryOp('dir', `${dir}/work`, { ...(xattrsFrom === null ? {} : { mode: workMode(st.mode) }), ...own, ...copy }, from),
    entryOp('dir', `${dir}/upper`, { mode: upperMode(st.mode, ownerBits), ...own, times: exactTimes(host), ...copy }, from),
  ];
}

/**
 * The sandbox's layers no unit of this plan is for (their mounts are gone from the host),
 * settled before anything is made: the review's scan of their trees (loaded only here: a full
 * walk of the sandbox, filtered to them) tells which hold a change (or cannot tell: a scan
 * error naming the tree). Each of those keeps its place over its dir (`placeable`: still a
 * directory there, one this user can read), or the run is refused: what it holds would be
 * hidden. Returns the plan with the kept places, and the others, to drop once nothing else
 * refuses the run (dropLayers).
 */
async function settleOldLayers(meta: SandboxMeta, units: EngineUnit[], ref: string, sbx: string, placeable: (p: string) => boolean, fuse: boolean, seen: HostStats): Promise<{ units: EngineUnit[]; drop: Layer[] }> {
  const unplanned = unplannedLayers(meta.layers, units);
  if (!unplanned.length) return { units, drop: [] };
  const { scanSandbox } = await import('./changes/scan.js');
  const s = scanSandbox(meta, { paths: unplanned.map((l) => l.target) });
  // What each holds: a change is the deepest one's whose tree it is in.
  const held = new Map<Layer, string>();
  for (const c of s.changes) {
    let at: Layer | undefined;
    for (const l of unplanned) if (isWithin(c.path, l.target) && (!at || l.target.length > at.target.length)) at = l;
    if (at && !held.has(at)) held.set(at, `what it changed at ${display(c.path)}`);
  }
  for (const l of unplanned) {
    const error = s.errors.find((e) => e.includes(l.target));
    if (!held.has(l) && error !== undefined) held.set(l, `what it holds in ${display(l.target)} (${error})`);
  }
  const { units: placed, unplaced: [out] } = withOldPlaces(units, [...held.keys()], placeable, fuse);
  if (out) {
    throw new SbxError(`sandbox ${ref}: ${held.get(out)!} would be hidden in this run: ${display(out.target)} had a layer of its own when the sandbox was made (a mount was there, or below it), and the host has no mount there now; nothing ran`, 125, `make ${display(out.target)} a directory again (or mount it) to run in it, or review it with '${sbx} diff ${ref}' and commit or export it first`);
  }
  return { units: placed.length === units.length ? units : settleUnits(placed, seen), drop: unplanned.filter((l) => !held.has(l)) };
}

/**
 * Takes layers that hold no change out of the sandbox and removes their dirs, so that their
 * trees are the layers' above again; a dir another layer still uses (a shared fuse layer, a
 * fuse daemon's stage) stays.
 */
function dropLayers(meta: SandboxMeta, drop: Layer[], layers: Dir): void {
  const gone = new Set(drop);
  const kept = meta.layers.filter((l) => !gone.has(l));
  const used = new Set(kept.flatMap((l) => [l.dir, ...(l.fuseLower ? [l.fuseLower] : [])]));
  meta.layers = kept;
  for (const d of new Set(drop.map((l) => l.dir))) if (!used.has(d)) removeTreeAt(layers, fromUser(d));
}

/**
 * Root's layer roots are owned as the host dir is inside (a mount point of a user's, say
 * /home/alice on a filesystem of its own, is alice's there too, not root's): through the
 * run's id shift; root's own owner (the shift's root, as before) when the shift cannot map
 * it or, with no shift, this process's user namespace does not. An ordinary user's are the
 * user's own (`own`): it cannot give them another.
 */
function rootOwner(shift: IdShift | null, own: { uid: number; gid: number }): RootOwner {
  if (own.uid !== 0) return () => own;
  // Root of a user namespace (a container, `unshare -Ur`) sees the ids it does not map as the
  // overflow id, which it cannot give: those roots stay its own.
  if (!shift) return (st) => (st.uid === own.uid && st.gid === own.gid) || idsMappedHere(st.uid, st.gid) ? { uid: st.uid, gid: st.gid } : own;
  return (st) => {
    const u = shiftedUid(shift, st.uid), g = shiftedGid(shift, st.gid);
    return u !== null && g !== null ? { uid: u, gid: g } : { uid: shift.uid, gid: shift.gid };
  };
}

/**
 * Assigns each overlay and skeleton unit its layer, and makes the dirs of those this run adds.
 * `helperMakes` (a new sandbox's first launch, nothing of sbx's own written into its layers
 * before it): the helper makes the new layers from `entries` instead: ~11 fs calls per layer
 * cost Node ~15-25 us each, the helper 1-2 us. The times of the dirs made here go to `times`.
 */
function prepareLayers(meta: SandboxMeta, units: EngineUnit[], owner: RootOwner, viewBits: ViewBits | null, xattrsFrom: string, layers: Dir, lowerRoot: string | null, seen: HostStats, helperMakes: boolean, entries: SpecOp[], inTmpfs: Set<string> | null, fuseLowerOk: () => boolean, times: LayerTimes): void {
  const byTarget = new Map(meta.layers.map((l) => [l.target, l]));
  const root = process.getuid!() === 0;
  let next = meta.layers.length;
  const newDir = (): string => {
    let dir: string;
    do dir = `L${String(next++).padStart(3, '0')}`; while (meta.layers.some((l) => l.dir === dir));
    return dir;
  };
  // The new fuse trees of one host filesystem share one daemon (its lower `/`, one upper): a
  // daemon is a fork, an exec and libfuse's set-up, most of an ordinary user's start
  // (docs/architecture.md, "Overlay engines"). Trees of different filesystems keep apart, so
  // that no two files inside share a device and inode number that the host keeps apart.
  const fuseDirs = new Map<number, string>();
  // Since 2026-12-03 each new fuse tree is a kernel overlay of its own whose lower is the tree
  // as a read-only daemon shows it: writes no longer go through the daemon. That needs the
  // daemon's preload (no O_NOATIME, native/preload/fuse-noplus.c) and an upper that takes
  // user xattrs (upperTakesUserXattrs); without them, the old layout. One such daemon serves
  // the trees of every host filesystem (the sandbox's first, when it has one): each tree's
  // overlay gives its lower files a device of its own, so two host filesystems never show
  // one device and inode inside.
  let lowerHead = meta.layers.find((l) => l.fuseLower === l.dir)?.dir;
  const todo: Array<{ path: string; layer: Layer; added: boolean }> = [];
  for (const u of units) {
    if (u.kind !== 'overlay' && u.kind !== 'skeleton') continue;
    let layer = byTarget.get(u.path);
    const added = !layer;
    if (!layer) {
      if (u.kind === 'skeleton') layer = { target: u.path, dir: newDir(), format: 'kernel', skeleton: true };
      else if (u.engine === 'fuse' && (u.path !== '/' || fuseLowerOk())) {
        if (fuseLowerOk()) {
          const dir = newDir();
          layer = { target: u.path, dir, format: 'kernel', fuseLower: lowerHead ??= dir };
        } else {
          const dev = hostStat(seen, u.path).dev;
          let dir = fuseDirs.get(dev);
          if (!dir) fuseDirs.set(dev, dir = newDir());
          layer = { target: u.path, dir, format: 'fuse', shared: true };
        }
      } else layer = { target: u.path, dir: newDir(), format: u.engine } satisfies Layer;
      meta.layers.push(layer);
      byTarget.set(u.path, layer);
    }
    todo.push({ path: u.path, layer, added });
  }
  // The shared layer dirs set up in this loop, and the upper dirs made for their trees.
  const groups = new Set<string>();
  const treeDirs = new Set<string>();
  for (const { path, layer, added } of todo) {
    const host = lowerRoot && path === '/' ? lowerRoot : path;
    // The host dir it runs over, for the commit (commit/mounts.ts), from each run: a run --in
    // over a dir mounted anew since shows the command, and the review, that dir. An image's or
    // a --rootfs tree's layers are never committed; a layer whose host dir is gone keeps its record.
    if (!lowerRoot) {
      const st = added ? hostStat(seen, host) : hostStatIfAny(seen, host);
      if (st?.isDirectory()) layer.hostDir = hostDirRecord(host, st);
    }
    // A layer this run adds takes the view's owner bits now; one made before keeps what it has.
    if (added && viewBits && !layer.shared) {
      const bits = viewBits(hostStat(seen, host), host);
      if (bits !== null) layer.rootOwnerBits = bits;
    }
    if (added && helperMakes) {
      if (inTmpfs) inTmpfs.add(layer.dir);
      const dir = inTmpfs ? `${LAYERS_TMPFS_DIR}/${layer.dir}` : layer.dir;
      if (!layer.shared) {
        entries.push(...layerEntries(dir, host, owner, root, seen, xattrsFrom, layer.rootOwnerBits));
        if (layer.fuseLower === layer.dir) entries.push(entryOp('dir', `${dir}/${FUSE_STAGE}`));
      } else {
        // Its trees' roots are dirs below one upper: none takes `/`'s xattrs.
        if (!groups.has(layer.dir)) entries.push(...layerEntries(dir, '/', owner, root, seen, null), entryOp('dir', `${dir}/${FUSE_STAGE}`));
        groups.add(layer.dir);
        entries.push(...sharedTreeEntries(dir, layer.target, treeDirs, seen));
      }
      continue;
    }
    let fresh = false;
    // A layer this run adds: its dir cannot exist yet, unless an earlier plan left it (or,
    // shared, another tree of its daemon made it just now).
    if (added) {
      try { mkdirSync(layers.at(layer.dir), { mode: 0o700 }); fresh = true; } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    const base = openOwn(meta, layers, layer.dir, !fresh);
    try {
      if (!layer.shared) {
        fillLayer(meta, base, host, owner, root, fresh, seen, layer.format === 'kernel', { to: times, rel: layer.dir }, false, layer.rootOwnerBits);
        // The host dir's xattrs and ACL too, as for a layer the helper makes: Node cannot read
        // xattrs, so the helper copies them onto the dirs made here before it mounts them.
        if (fresh) entries.push(...hostXattrsEntries(layer.dir, host, xattrsFrom));
        if (layer.fuseLower === layer.dir && (fresh || !base.lstat(FUSE_STAGE))) mkdirSync(base.at(FUSE_STAGE), { mode: 0o700 });
      } else {
        if (!groups.has(layer.dir)) {
          fillLayer(meta, base, '/', owner, root, fresh, seen, false, { to: times, rel: layer.dir }, true);
          if (fresh || !base.lstat(FUSE_STAGE)) mkdirSync(base.at(FUSE_STAGE), { mode: 0o700 });
          groups.add(layer.dir);
        }
        const up = openOwn(meta, base, 'upper');
        try { ensureUpperDirs(up, '/', layer.target, { to: times, upperRel: `${layer.dir}/upper` }).close(); } catch (e) {
          if (e instanceof NotBeneathError) throw tampered(meta, upperOf(layer));
          throw e;
        } finally { up.close(); }
      }
    } finally {
      base.close();
    }
  }
}

/**
 * A shared fuse layer's dirs down to one tree's upper (`DIR/upper/usr`), each with the host's
 * mode and times, as ensureUpperDirs makes them: the daemon's view of the tree's root is then
 * the host's, and the walk finds no change there.
 */
function sharedTreeEntries(dir: string, target: string, made: Set<string>, seen: HostStats): SpecOp[] {
  const ops: SpecOp[] = [];
  let host = '';
  for (const part of target.slice(1).split('/')) {
    host += `/${part}`;
    const rel = `${dir}/upper${host}`;
    if (made.has(rel)) continue;
    made.add(rel);
    const st = hostStat(seen, host);
    ops.push(entryOp('dir', rel, { mode: st.mode, times: exactTimes(host) }));
  }
  return ops;
}

function readVisibleMounts(): MountEntry[] {
  return visibleMounts(parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')));
}

function mountIdsOf(mounts: MountEntry[]): string {
  return mounts.map((m) => m.id).join(',');
}

/**
 * The host moves while sbx plans (a busy /tmp): a directory that vanished since it was listed
 * is left out, and one that even root may not look at (another user's FUSE mount) is shown
 * empty, rather than failing the whole run.
 */
function settleUnits(units: EngineUnit[], seen: HostStats): EngineUnit[] {
  const out: EngineUnit[] = [];
  for (const u of units) {
    if (u.kind === 'overlay' && u.path !== '/') {
      try { seen.set(u.path, lstatSync(u.path)); } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
        if (code !== 'ENOENT') out.push({ kind: 'unavailable', path: u.path, reason: code });
        continue;
      }
    }
    out.push(u);
  }
  return out;
}

/**
 * The host's name, as gethostname() gives it: read from procfs, where loading node:os for its
 * hostname() cost every run ~0.5 ms and ~18 page faults (a module no other part of a run needs).
 */
function hostName(): string {
  try { return readFileSync('/proc/sys/kernel/hostname', 'utf8').replace(/\n$/, ''); } catch { return builtin<typeof import('node:os')>('node:os').hostname(); }
}

/** uname -r, from procfs as hostName is. */
function kernelRelease(): string {
  try { return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(); } catch { return builtin<typeof import('node:os')>('node:os').release(); }
}

/**
 * Tests only (SBX_TEST_PAUSE_BEFORE_LAUNCH=FILE): a first launch, planned, waits until FILE
 * exists (at most 30 s), so that a test can move the host between the plan and the helper.
 */
function pauseBeforeLaunchForTest(): void {
  const file = process.env.SBX_TEST_PAUSE_BEFORE_LAUNCH;
  if (!file) return;
  coreNotice('always', 'sbx-test: paused before launch');
  const tick = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; waited < 30_000 && !existsSync(file); waited += 20) Atomics.wait(tick, 0, 0, 20);
}

function viewOps(units: EngineUnit[], meta: SandboxMeta, layerBase: string, fuseBinary: string | null, shift: IdShift | null, diskBytes: number | null, emptyInside: { path: string; reason: string }[], lowers: string[] | null, inTmpfs: Set<string> | null, movedCheck: boolean): SpecOp[] {
  const ops: SpecOp[] = [];
  // Every mount point, symlink and bound file already exists in the skeletons' stand-in tree
  // (skeleton.ts): creating one here would be a write into a skeleton's upper layer.
  const skel = join(meta.layersDir, SKELETON_DIR);
  // moved-check: an overlay that fails because a mount appeared below its lower since the plan
  // is the step overlay-moved (runSandbox plans again), not the read-only fallback.
  const overlayFlags: OverlayFlag[] = ['ro-bind', ...(shift ? ['idmap-lower' as const] : []), ...(movedCheck ? ['moved-check' as const] : [])];
  const layerOf = new Map(meta.layers.map((l) => [l.target, l]));
  // Every run's overlays skip syncing: a throwaway run's layers are deleted after it, and a
  // saved run's are synced once, with one syncfs, when the command ended (runSandbox), where
  // each fsync of the command cost a journal commit (dpkg syncs every file it unpacks). What a
  // crash of the machine mid-run may lose, the sandbox says (meta.runBoot, store.ts).
  const overlayOpts = 'userxattr,volatile';
  // Concatenated, not join()ed: both parts are normalized already (layerBase absolute, a
  // layer's dir one name), and join's normalizing made most of this loop's garbage.
  const layerAt = (dir: string): string => (inTmpfs?.has(dir) ? `${layerBase}/${LAYERS_TMPFS_DIR}/${dir}` : `${layerBase}/${dir}`);
  // Looked up once, for the first fuse layer: a root run has none.
  let fusePreload: string | undefined;
  // Each shared daemon's mount comes first: it is made on a host path, not in the view, and its
  // daemon then starts while the other mounts are made, where the first tree bound from it
  // waited ~6 ms for it (SBX_DEBUG_TIMES, as sbxtest).
  const daemons = new Map<string, SpecOp>();
  for (const u of units) {
    switch (u.kind) {
      case 'skeleton': {
        const base = layerAt(layerOf.get(u.path)!.dir);
        ops.push({ op: 'overlay', args: [u.path, skeletonPath(skel, u.path), `${base}/upper`, `${base}/work`, overlayOpts, overlayFlags] });
        break;
      }
      case 'overlay': {
        const l = layerOf.get(u.path)!;
        const base = layerAt(l.dir);
        if (lowers && u.path === '/') {
          // An image's layers (top first) or a --rootfs tree: the mount points of /proc, /sys
          // and /dev are made in the upper layer when the image lacks them (they are hidden
          // paths: never a change).
          ops.push(...lowers.slice(1).map((d): SpecOp => ({ op: 'lower', args: [d] })));
          ops.push({ op: 'overlay', args: ['/', lowers[0]!, `${base}/upper`, `${base}/work`, overlayOpts, overlayFlags.filter((f) => f !== 'ro-bind')] });
          for (const p of SPECIAL_PATHS) ops.push({ op: 'mkdir', args: [p, '755'] });
        } else if (l.fuseLower !== undefined && fuseBinary) {
          // The daemon's mount is in its first tree's layer dir, made with that tree.
          const stage = relative(dirname(layerBase), `${layerAt(l.fuseLower)}/${FUSE_STAGE}`);
          if (!daemons.has(l.fuseLower)) daemons.set(l.fuseLower, { op: 'fuse_shared', args: [fuseBinary, dirname(layerBase), stage, '/', '', '', FUSE_RUN_OPTIONS, fusePreload ??= fusePreloadPath()] });
          ops.push({ op: 'fuse_lower', args: [u.path, stage, u.path.slice(1), `${base}/upper`, `${base}/work`, overlayOpts] });
        } else if (l.format === 'fuse' && fuseBinary && l.shared) {
          const stage = relative(dirname(layerBase), `${base}/${FUSE_STAGE}`);
          if (!daemons.has(l.dir)) daemons.set(l.dir, { op: 'fuse_shared', args: [fuseBinary, dirname(layerBase), stage, '/', `${base}/upper`, `${base}/work`, FUSE_RUN_OPTIONS, fusePreload ??= fusePreloadPath()] });
          ops.push({ op: 'fuse_tree', args: [u.path, stage, u.path.slice(1)] });
        } else if (l.format === 'fuse' && fuseBinary) {
          ops.push({ op: 'fuse_overlay', args: [fuseBinary, u.path, u.path, `${base}/upper`, `${base}/work`, FUSE_RUN_OPTIONS, fusePreload ??= fusePreloadPath()] });
        } else {
          ops.push({ op: 'overlay', args: [u.path, u.path, `${base}/upper`, `${base}/work`, overlayOpts, overlayFlags] });
        }
        break;
      }
      case 'symlink':
        break;
      case 'ro-bind':
        // A file beside a mount point may be another program's temporary file, gone by the time
        // the helper binds it: the run goes on with its stand-in (said after the run).
        ops.push({ op: 'bind', args: [u.path, u.path, u.reason === 'file-in-split-dir' ? ['ro', 'may-vanish'] : ['ro']] });
        break;
      case 'unavailable':
        // Kept empty and read-only: writes there would be committed into a mount sbx cannot show.
        ops.push({ op: 'tmpfs', args: [u.path, 'mode=0755,size=0', ['ro']] });
        // A dir holding mounts that the user may not list on the host (EACCES) is no more
        // readable inside than outside: nothing to say, and such mounts come and go (a test's
        // tmpfs in its 0700 dir, a container runtime's below /var/lib/docker), each run said it.
        if (u.reason !== 'EACCES') emptyInside.push({ path: u.path, reason: u.reason });
        break;
      case 'special':
        ops.push(...specialOps(u.path, shift, diskBytes));
        break;
    }
  }
  return daemons.size ? [...daemons.values(), ...ops] : ops;
}

function specialOps(path: '/proc' | '/sys' | '/dev', shift: IdShift | null, diskBytes: number | null): SpecOp[] {
  const ids = shift ? `,uid=${shift.uid},gid=${shift.gid}` : '';
  if (path === '/proc') {
    return [
      { op: 'proc', args: ['/proc'] },
      // As Docker does: hide kernel internals and make the tunables read-only.
      ...MASKED_PROC_FILES.map((p): SpecOp => ({ op: 'bind', args: ['/dev/null', p, ['ro', 'optional']] })),
      ...MASKED_PROC_DIRS.filter((p) => existsSync(p)).map((p): SpecOp => ({ op: 'tmpfs', args: [p, 'mode=0555,size=0', ['ro']] })),
      ...READONLY_PROC.map((p): SpecOp => ({ op: 'bind', args: [p, p, ['ro', 'rec', 'src-inside', 'optional']] })),
    ];
  }
  if (path === '/sys') {
    return [
      { op: 'bind', args: ['/sys', '/sys', ['rec']] },
      { op: 'ro_recursive', args: ['/sys'] },
      ...(existsSync('/sys/firmware') ? [{ op: 'tmpfs', args: ['/sys/firmware', 'mode=0555,size=0', ['ro']] } satisfies SpecOp] : []),
    ];
  }
  return [
    { op: 'tmpfs', args: ['/dev', `mode=0755,size=1m${ids}`, ['noexec']] },
    // Read-only binds: reads and writes of a device node do not need its mount writable, a
    // chmod, chown or touch of it does. They are the host's nodes (devtmpfs): with --map-root,
    // root inside made the host's /dev/null 0600 (adversarial probe), and anyone's touch moved
    // its times.
    ...DEV_NODES.map((n): SpecOp => ({ op: 'bind', args: [`/dev/${n}`, `/dev/${n}`, ['ro']] })),
    { op: 'mkdir', args: ['/dev/pts', '755'] },
    { op: 'devpts', args: ['/dev/pts'] },
    { op: 'symlink', args: ['pts/ptmx', '/dev/ptmx'] },
    { op: 'mkdir', args: ['/dev/shm', '1777'] },
    // --disk caps /dev/shm as well: it is memory the command could otherwise fill without limit.
    { op: 'tmpfs', args: ['/dev/shm', `mode=1777${diskBytes ? `,size=${diskBytes}` : ''}${ids}`, []] },
    { op: 'symlink', args: ['/proc/self/fd', '/dev/fd'] },
    { op: 'symlink', args: ['/proc/self/fd/0', '/dev/stdin'] },
    { op: 'symlink', args: ['/proc/self/fd/1', '/dev/stdout'] },
    { op: 'symlink', args: ['/proc/self/fd/2', '/dev/stderr'] },
  ];
}

/**
 * An empty read-only tmpfs on each of sbx's own dirs that exists, wherever the sandbox could
 * reach it: at its own path (in the host's view: /proc, /sys and /dev inside are sbx's own, so
 * a store in the host's /dev/shm is not there to hide), and where a --bind shows it (a bind of
 * /tmp or $HOME holding the store, or of an own dir itself). Mounted after the binds, or a bind
 * would cover the tmpfs. Optional: a path absent inside (a --hide'd parent) needs no cover.
 */
function ownDirsToHide(storeDir: string, binds: BindRequest[], hostView: boolean): SpecOp[] {
  // A bind that shows /dev/shm shows the scratch dir a later throwaway run of the user makes
  // there too (the bind is the same tmpfs): made now (0700, ours), it is there to be covered.
  // Under sudo the user's own too: their next throwaway run would make it in sight.
  const sudo = sudoUserHome(process.env);
  for (const uid of [process.getuid!(), ...(sudo ? [sudo.uid] : [])]) {
    const scratch = scratchPath(uid);
    if (binds.some((b) => scratch === b.host || isBelow(scratch, b.host))) safeScratch(uid, true);
  }
  const dirs = ownDirs(process.env, storeDir)
    .filter((d) => { try { return lstatSync(d).isDirectory(); } catch { return false; } });
  const targets = new Set<string>();
  for (const d of dirs) {
    if (hostView && !SPECIAL_PATHS.some((s) => d === s || isBelow(d, s))) targets.add(d);
    for (const b of binds) {
      const at = boundAt(d, b, b.host);
      if (at !== null) targets.add(at);
    }
  }
  // One inside another (a config dir in the store, say) is hidden with it, and its mount point
  // would be gone.
  return [...targets].filter((t) => ![...targets].some((o) => isBelow(t, o))).sort()
    .map((d) => coverOp(d, true, true));
}

/**
 * Where bind `b`, whose source is `src`, shows host path `p` inside: its entry below the
 * destination; the whole destination when `src` lies inside `p`; else null.
 */
function boundAt(p: string, b: BindRequest, src: string): string | null {
  if (isWithin(p, src)) return join(b.inside, relative(src, p));
  return isBelow(src, p) ? b.inside : null;
}

/**
 * The cover over a path hidden where no whiteout reaches: an empty unreadable read-only tmpfs
 * over a dir, /dev/null over a file. `optional`: none when the path is not there by then.
 */
function coverOp(p: string, dir: boolean, optional = false): SpecOp {
  const flags: Array<'ro' | 'optional'> = optional ? ['ro', 'optional'] : ['ro'];
  return dir ? { op: 'tmpfs', args: [p, 'mode=0000,size=0', flags] } : { op: 'bind', args: ['/dev/null', p, flags] };
}

/**
 * Where a bind's mount point is made when a symlink on its way leads into a hidden path
 * (`--hide D --bind SRC:L/mp`, L -> D): the resolved path, where the bind then makes D again
 * as it does for `--hide D --bind SRC:D/mp` (D's own entries stay hidden). The helper resolves
 * the inside path in the sandbox's root, where L led to D's whiteout: the run failed at setup
 * (step bind-mkdir, ELOOP) until 2026-12-05. Any other path is left as given.
 */
function bindPointThroughHidden(inside: string, hide: readonly string[]): string {
  if (!hide.length) return inside;
  const at = hostLocation(inside);
  return at !== inside && hide.some((h) => isWithin(at, h)) ? at : inside;
}

/**
 * Hidden paths a --bind or --ro-bind shows: a bind is the host's tree itself, where no layer's
 * whiteout reaches, and a hidden file or dir in it stayed readable (`--net --bind ~` showed
 * ~/.ssh, tried 2026-12-05). Each such path is covered where the bind shows it, as a hidden
 * overlay root is: an empty unreadable read-only tmpfs over a dir, /dev/null over a file. The
 * paths are host paths with their links resolved (hide-targets.ts); one named inside, below a
 * bind's destination (`--bind SRC:/mnt/x --hide /mnt/x/key`), is the source's entry there. A
 * bind whose source lies in a hidden dir is covered whole. A symlink is left (its target, hidden
 * too, is covered where shown); a path absent now has nothing to cover.
 */
function boundHideOps(paths: readonly string[], binds: readonly BindRequest[], hostView: boolean): SpecOp[] {
  const covers = new Map<string, string>();
  for (const b of binds) {
    let src: string;
    try { src = realpathSync(b.host); } catch { continue; }
    for (const p of paths) {
      let host: string, inside: string | null = boundAt(p, b, src);
      if (inside !== null) host = isWithin(p, src) ? p : src;
      else if (hostView && b.inside !== src && isBelow(p, b.inside)) { host = join(src, relative(b.inside, p)); inside = p; }
      else continue;
      const st = lstatSync(host, { throwIfNoEntry: false });
      if (!st || st.isSymbolicLink()) continue;
      covers.set(inside, st.isDirectory() ? 'dir' : 'file');
    }
  }
  // One inside a covered dir is hidden with it, and its mount point would be gone.
  return [...covers.keys()].filter((t) => ![...covers.keys()].some((o) => covers.get(o) === 'dir' && isBelow(t, o))).sort()
    .map((t) => coverOp(t, covers.get(t) === 'dir', true));
}

/**
 * --hide: inside an overlaid directory the path gets a whiteout in the upper layer, so it is
 * absent inside, as if deleted (the change list never reports it). Where that cannot be
 * (an overlay's own root, a read-only bind), the path is covered instead: an empty unreadable
 * read-only tmpfs, or /dev/null for a file. The layer is the sandbox's own (an earlier run may
 * have put anything there): it is read through beneath.ts, and the helper makes the whiteout
 * beneath the layers root with openat2, so a symlink in the layer never leads to the host.
 */
/**
 * `layerBase` is where the helper finds the layers the overlays are made of: the sandbox's own
 * dir, or the --disk tmpfs it copies them onto first (a whiteout left in the original would
 * not be seen, and the path would not be hidden). With `into` (a new sandbox's layers, which
 * the helper makes and which hold nothing yet) the whiteout's parents are entries too.
 * A whiteout made in a saved sandbox's layer (`run --in`) stays there: its path joins
 * meta.hidden, so that no review takes it for a deletion and no commit removes the host's
 * file (until 2026-12-04, `run --in ID --allow-net …` and then `sbx commit ID` deleted ~/.ssh).
 */
function hideOps(paths: string[], meta: SandboxMeta, owner: LayerOwner, layers: Dir, layerBase: string, into: UpperEntries | null, times: LayerTimes, holdsMounts: (p: string) => boolean): SpecOp[] {
  const ops: SpecOp[] = [];
  const whitedOut: string[] = [];
  for (const p of paths) {
    let st: Stats | null = null;
    try { st = lstatSync(p); } catch (e) {
      // Absent now, it may appear on the host while the command runs (a login made meanwhile),
      // and an overlay shows what its lower layer gains: a whiteout keeps it out all the same.
      // Only where its parent exists: a whiteout of a missing parent would hide, and make the
      // review report, more than the path named.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !lstatSync(dirname(p), { throwIfNoEntry: false })?.isDirectory()) continue;
    }
    // A mount point of the view, or a dir holding some (in root's whole view they are planned
    // below `/`'s layer): a whiteout took the mount point away before it was made, and the run
    // failed (`--hide /mnt` with a mount below it, or of the mount itself: step
    // overlay-fallback, ENOENT, until 2026-12-05). Covered instead, once they are mounted
    // (these ops come after the view's).
    // A file mount point (a bound file) too: its mount is made after the whiteout, over it.
    // Below /proc, /sys or /dev, sbx's own mounts over the layers, likewise: a whiteout in `/`'s
    // layer (root's whole view) hid nothing (`--hide /proc/cpuinfo` was readable until
    // 2026-12-05); a name there may be gone in the sandbox's own (optional).
    const special = SPECIAL_PATHS.some((sp) => isBelow(p, sp));
    if (special || (st && !st.isSymbolicLink() && holdsMounts(p))) {
      if (st && !st.isSymbolicLink()) ops.push(coverOp(p, st.isDirectory(), special));
      continue;
    }
    // Every entry of a skeleton dir is a mount point or a bound file: covered, never whited out.
    const layer = meta.layers.filter((l) => !l.skeleton && p.startsWith(l.target === '/' ? '/' : `${l.target}/`)).sort((a, b) => b.target.length - a.target.length)[0];
    // A missing path has nothing to cover with a mount: a whiteout or nothing.
    if (!st && (!layer || layer.target === p)) continue;
    let coverDir = st?.isDirectory() ?? false;
    // An overlay's own root has no parent in its layer: it is covered.
    if (layer && layer.target !== p && into) {
      const rel = into.at(layer, p);
      // Nothing of the layer's is there but what this launch makes: a dir made for something
      // else (a parent of another hidden path) may merge with the host's below it: covered.
      if (into.has(rel)) {
        if (!st) continue;
        coverDir = true;
      } else {
        // Below another hidden path's whiteout: already absent inside.
        try { into.dirs(layer, p, true, owner); } catch (e) { if (e instanceof NotBeneathError) continue; throw e; }
        into.claim(rel);
        ops.push({ op: 'whiteout', args: [dirname(layerBase), `${basename(layerBase)}/${rel}`] });
        continue;
      }
    } else if (layer && layer.target !== p) {
      let upper: Dir | null = null, parent: Dir | null = null;
      try {
        upper = openOwn(meta, layers, upperOf(layer));
        parent = ensureUpperDirs(upper, layer.target, dirname(p), { to: times, upperRel: upperOf(layer) }, owner);
      } catch (e) {
        if (parent !== upper) parent?.close();
        upper?.close();
        // An earlier run replaced a parent with a symlink, a file or a whiteout: the host's
        // path does not show through there, so there is nothing to hide.
        if (e instanceof NotBeneathError) continue;
        throw e;
      }
      let there;
      try { there = parent.lstat(fromUser(basename(p))); } finally { if (parent !== upper) parent.close(); upper.close(); }
      if (!there) {
        ops.push({ op: 'whiteout', args: [dirname(layerBase), `${basename(layerBase)}/${upperOf(layer)}/${relative(layer.target, p)}`] });
        whitedOut.push(p);
        continue;
      }
      // Hidden by an earlier run (a whiteout), or replaced by the sandbox's own file: nothing of
      // the host's shows. A dir of the sandbox's own where the host had nothing is left to it.
      if (!there.isDirectory() || !st) continue;
      // A directory in the layer may merge with the host's below it: covered.
      coverDir = true;
    }
    ops.push(coverOp(p, coverDir));
  }
  const kept = whitedOut.filter((p) => !meta.hidden.includes(p));
  if (kept.length) meta.hidden = [...meta.hidden, ...kept];
  return ops;
}

/** One notice for host entries that vanished while the sandbox started: by name when one, else counted, the first three named. */
function vanished(notice: (line: string) => void, paths: string[], noun: string, one: string, many: string): void {
  if (paths.length === 1) notice(`${display(paths[0]!)} vanished from the host while the sandbox started: ${one}`);
  else if (paths.length) notice(`${paths.length} ${noun} vanished from the host while the sandbox started (${paths.slice(0, 3).map(display).join(', ')}${paths.length > 3 ? `, ${ELLIPSIS}` : ''}): ${many}`);
}

function sandboxEnv(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env)
    .filter(([k, v]) => v !== undefined && !k.startsWith('SBX_') && !k.includes('='))
    .map(([k, v]) => `${k}=${v}`);
}

/** "L003/upper/x/y" (the helper's name for an entry in a layer) as the host path it stands for. */
function hostPathOf(meta: SandboxMeta, p: string): string {
  const m = /^([^/]+)\/upper(?:\/(.*))?$/s.exec(p);
  const l = m ? meta.layers.find((x) => x.dir === m[1]) : undefined;
  if (!m || !l) return p;
  // A shared fuse daemon's upper stands for `/`.
  if (l.shared) return m[2] === undefined ? '/' : `/${m[2]}`;
  return m[2] === undefined ? l.target : `${l.target === '/' ? '' : l.target}/${m[2]}`;
}

/**
 * After a --disk run the helper has either replaced every layer with its complete copy from the
 * tmpfs or left every layer as it was. The second case, once the command ran, means its writes
 * are lost: one line saying so (the caller saves the sandbox with its earlier state).
 */
function diskCopyBackProblem(meta: SandboxMeta, diskDir: string, result: LaunchResult): string | null {
  try { rmdirSync(diskDir); } catch { /* the helper's tmpfs mount point; removed with the sandbox otherwise */ }
  if (result.diskCopied || !result.started) return null;
  const f = result.diskCopyFailures[0];
  const why = f ? `${errnoName(f.errno)} at ${display(hostPathOf(meta, f.path))}` : 'the sandbox ended before copying';
  const ref = meta.name ?? meta.id;
  return `could not copy this run's writes back from the --disk tmpfs (${why}): they are lost, and sandbox ${display(ref)} keeps its state from before this run`;
}

/** The exit status `sbx run` reports for an outcome (Docker's convention). */
function exitStatusOf(o: LaunchOutcome): number {
  switch (o.kind) {
    case 'exited': return o.code;
    case 'signaled': return signalStatus(o.signal);
    case 'exec-failed': return execNotFound(o) ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE;
    default: return EXIT_SBX_FAILED;
  }
}

/** A shell's 127: no file by that name (nor a PATH dir one could not search), or its #! interpreter missing. */
function execNotFound(o: { errno: number; fact?: string }): boolean {
  return o.fact === 'missing' || o.fact === 'interp' || (o.errno === 2 && o.fact !== 'dir' && o.fact !== 'not-exec');
}

/** One line describing a setup failure, with the fix where we know it. */
export function describeFailure(o: LaunchOutcome, command: ReadonlyArray<string | Buffer>): SbxError | null {
  switch (o.kind) {
    case 'exec-failed': {
      // Its bytes as the kernel got them (rawArgs): `\xff`, not Node's U+FFFD.
      const c = command[0] ?? '';
      const name = typeof c === 'string' ? displayText(c) : display(c.toString('latin1'));
      if (o.errno === 7) {
        return new SbxError(`cannot execute ${name}: its arguments and environment are larger than the kernel accepts (E2BIG)`, 126, 'pass less on the command line or in the environment (--clean-env starts from a minimal one)');
      }
      // As a shell words it: what the name is, not execve's errno alone (EACCES for a directory).
      if (name === '') return new SbxError("the command is empty (its first argument is '')", 127);
      if (o.fact === 'dir') return new SbxError(`cannot execute ${name}: it is a directory`, 126);
      if (o.fact === 'not-exec') return new SbxError(`cannot execute ${name}: permission denied: it is not executable (no x bit for this user, or a noexec mount)`, 126);
      if (o.fact === 'interp') return new SbxError(`cannot execute ${name}: its #! interpreter ${display(o.interp ?? '')} is not found inside the sandbox`, 127);
      if (execNotFound(o)) return new SbxError(`${name}: command not found inside the sandbox`, 127);
      return new SbxError(`cannot execute ${name}: ${errnoName(o.errno)}`, 126);
    }
    case 'setup-failed': {
      const where = o.path ? ` ${display(o.path)}` : '';
      if (o.step === 'clone' || (o.step === 'uid-map' && o.errno === 1)) {
        return new SbxError(`cannot create a user namespace (${o.step}: ${errnoName(o.errno)})`, 125, userNamespaceHint());
      }
      if (o.step === 'disk-copy-in' && (o.errno === 28 || o.errno === 122)) {
        return new SbxError(`the sandbox's saved changes do not fit in the --disk tmpfs (${errnoName(o.errno)} copying ${display(o.path ?? '?')}); nothing ran`, 125, 'pass a larger --disk');
      }
      if (o.step === 'bind-idmap' && o.errno === 22) {
        return new SbxError(`--bind${where}: its filesystem does not support idmapped mounts, which root's sandbox needs to write there with the host's owners; nothing ran`, 125, 'use --ro-bind, or --map-root (root inside is then root outside)');
      }
      if (o.step === 'cwd') return new SbxError(`the working directory${where} does not exist inside the sandbox (${errnoName(o.errno)})`, 125, 'cd somewhere else first');
      return new SbxError(`sandbox setup failed at step '${o.step}'${where}: ${o.message ?? errnoName(o.errno)}`);
    }
    case 'helper-died':
      return new SbxError(`the sandbox ended abnormally: ${o.detail}`);
    default:
      return null;
  }
}

/** Stdio the command could not reopen as /dev/stdin etc. goes through pipes of the sandbox's own. */
function relayOps(idmap: IdMapping): SpecOp[] {
  // Terminals are not relayed: they are the pty's.
  const fds = stdioToRelay(idmap).filter((fd): fd is 0 | 1 | 2 => fd === 0 || fd === 1 || fd === 2);
  const list: RelayList = sharedOutputs(fds) ? [...fds.filter((fd) => fd === 0), '1+2'] : fds;
  return fds.length ? [{ op: 'relay_stdio', args: [list] }] : [];
}

/** The four capability sets as hex masks, applied by the helper just before exec. */
function capsOp(names: string[]): SpecOp {
  const s = capabilitySets(names);
  const hex = (m: bigint): string => m.toString(16);
  return { op: 'caps', args: [hex(s.bounding), hex(s.permitted), hex(s.inheritable), hex(s.ambient)] };
}

/**
 * The kernel's own dir in an overlay's workdir (a layer dir's `work`), mode 000, where a
 * `volatile` mount leaves its mark (incompat/volatile/dirty). Removed whole: only a dir the
 * user may write can lose an entry, and overlayfs makes this one anew at every mount.
 */
const KERNEL_WORK = 'work/work';

/** As many as native/sandbox.h's MAX_SCRAP: a view of more layers leaves them all to removeTree. */
const SCRAP_MAX = 4096;

/**
 * A throwaway run's overlay work dirs (the kernel's work/incompat/volatile/dirty, mode 0), five
 * of every layer's seven dirs, and the skeletons' stand-in tree (a lower layer only: the review
 * reads the uppers and the host, and a later run builds the tree anew): the helper removes
 * them once the sandbox ended, in a few syscalls each, where sbx's fd-relative removal after
 * the review costs ~0.1 ms per entry. Only scratch layers (/dev/shm): nothing of those
 * outlives the run. When nothing reads the layers after the run either (`unread`: a quiet
 * discard, no report), whole layers go; those on root's layers tmpfs (`inTmpfs`) need
 * nothing but their empty dir's removal. None is a mount point in the helper's namespace (its
 * mounts are all below the stage `root`, which stays for sbx; the layers tmpfs was mounted in
 * the old root that the pivot detached, so from the scrap's fd `lt` is the empty dir under
 * it), so the removal never leaves the tree.
 */
function scrapOps(meta: SandboxMeta, scratch: boolean, unread: boolean, inTmpfs: Set<string> | null = null): SpecOp[] {
  const dirs = layerDirs(meta.layers);
  if (dirs.length + (inTmpfs?.size ? 2 : 1) > SCRAP_MAX) return [];
  // Elsewhere the layers stay: only the mark a `volatile` overlay leaves in its work dir, with
  // which the kernel refuses to mount that layer again (KERNEL_WORK), and which, mode 000 and
  // not empty, no `rm -rf` of the store by its owner could remove. sbx syncs the layers next;
  // a crash before that is told by meta.runBoot, not by this mark.
  if (!scratch) return meta.layers.filter((l) => l.format === 'kernel').map((l): SpecOp => ({ op: 'scrap_after', args: [meta.layersDir, `${l.dir}/${KERNEL_WORK}`] }));
  const skel: SpecOp = { op: 'scrap_after', args: [meta.layersDir, SKELETON_DIR] };
  if (unread) {
    const own = dirs.filter((d) => !inTmpfs?.has(d)).map((d): SpecOp => ({ op: 'scrap_after', args: [meta.layersDir, d] }));
    return [...own, skel, ...(inTmpfs?.size ? [{ op: 'scrap_after', args: [meta.layersDir, LAYERS_TMPFS_DIR] } satisfies SpecOp] : [])];
  }
  // A kernel layer's work dir itself stays (empty): the review compares the upper root with
  // it ('R' records, native/scan.c), made as it was. fuse-overlayfs's goes whole.
  const kernel = new Set(meta.layers.filter((l) => l.format === 'kernel').map((l) => l.dir));
  return [...dirs.map((d): SpecOp => ({ op: 'scrap_after', args: [meta.layersDir, kernel.has(d) ? `${d}/${KERNEL_WORK}` : `${d}/work`] })), skel];
}

/**
 * Whether an ordinary user's dir holding mounts is one overlay over the read-only daemon's view
 * of it (plan.ts `throughFuse`), rather than a skeleton whose every subdir is an overlay of its
 * own, a mount point inside (`rm -rf ~/dir` was EBUSY while anything was mounted in $HOME;
 * `/` is one, and a rename from /tmp to /var/tmp was EXDEV, each top-level dir an overlay).
 * Only where prepareLayers gives a fuse tree that lower (fuseLower), the user may list and
 * search the dir (else it stays as before: unavailable, or an unsearchable stand-in), and the
 * sandbox has no layer there or below it that could not be placed so: one made as a skeleton
 * (before 2026-12-07) keeps its plan, its changes are in those layers; a kernel overlay's
 * host dir cannot be a lower with mounts below it (a mount made in it since the sandbox was:
 * the skeleton's plan then refuses the run, saying why; for `/`, runHolding refuses it).
 */
function splitThroughFuse(meta: SandboxMeta, dir: string, mounts: readonly MountEntry[], fuseLowerOk: () => boolean): boolean {
  if (meta.layers.some((l) => l.target === dir && l.fuseLower === undefined) || layerWithNewMount(meta, dir, mounts)) return false;
  return fuseLowerOk() && readableDir(dir) && searchableDir(dir);
}

/**
 * A kernel layer at or below `dir`, not a mount's own, whose host dir now has a mount below it
 * (made since the sandbox was), with the first such mount: that dir can no longer be its
 * overlay's lower.
 */
function layerWithNewMount(meta: SandboxMeta, dir: string, mounts: readonly MountEntry[]): { layer: Layer; mount: MountEntry } | null {
  for (const l of meta.layers) {
    if (!isWithin(l.target, dir) || l.fuseLower !== undefined || mounts.some((m) => m.mountPoint === l.target)) continue;
    const m = mounts.find((x) => isBelow(x.mountPoint, l.target));
    if (m) return { layer: l, mount: m };
  }
  return null;
}

/**
 * Why a sandbox whose `/` was read whole through the daemon cannot be so now
 * (splitThroughFuse declined it): what sbx knows of it, for the refusal.
 */
function wholeRootBlocker(meta: SandboxMeta, mounts: readonly MountEntry[], fuse: boolean): string {
  if (!fuse) return 'its / was read through fuse-overlayfs, which this run cannot use';
  const found = layerWithNewMount(meta, '/', mounts);
  if (found) return `a mount made in ${display(found.layer.target)} since the sandbox was made (${display(found.mount.mountPoint)}) cannot be placed in its layer of that dir`;
  return 'its / was read through fuse-overlayfs, which this run cannot do (the daemon\'s preload, or layers that take user xattrs, are missing)';
}

/** prepareLayers' condition for a fuse tree over a read-only daemon (its `fuseLower`). */
function fuseLowerUsable(layersOnTmpfs: () => boolean): boolean {
  return fusePreloadPath() !== '' && upperTakesUserXattrs(kernelRelease(), layersOnTmpfs());
}

/**
 * Whether the view is planned whole (plan.ts): root building it outside any user namespace
 * (the `build_outside` of root's remapped ids), for a new sandbox or one whose `/` layer was
 * planned so. A sandbox of skeleton layers (made before 2026-12-03, or as --map-root) keeps
 * them: its changes are in those layers. One planned whole needs that view again.
 */
function wholeView(meta: SandboxMeta, uid: number, ops: readonly SpecOp[]): boolean {
  const can = uid === 0 && ops.some((o) => o.op === 'build_outside');
  const slash = meta.layers.find((l) => l.target === '/');
  if (!slash) return can;
  if (slash.fuseLower !== undefined) return false;
  if (!slash.skeleton && !can) throw new SbxError(`sandbox ${display(meta.name ?? meta.id)} was made by root with its ids remapped (\`/\` one overlay): this run cannot build that view`, 125, 'run in it as root without --map-root, where subordinate ids exist');
  return !slash.skeleton;
}

export async function runSandbox(store: Store, req: RunRequest, replans = 0): Promise<RunResult> {
  if (req.lock) return runHolding(store, req, replans, req.lock);
  const lock: RunLock = { release: null };
  const attempt: RunAttempt = { made: null, spawned: false };
  try {
    return await runHolding(store, { ...req, lock, attempt }, replans, lock);
  } catch (e) {
    // A failure before the helper started (it could not be started, the layers could not be
    // prepared): the new entry would stay in `sbx ls` as an empty saved sandbox nobody made.
    // Once the helper started, the command may have run and what it wrote is the user's.
    if (attempt.made && !attempt.spawned) {
      try { store.remove(attempt.made); } catch { /* left for 'sbx ls' to show as broken and 'sbx discard' to remove */ }
    }
    lock.release?.();
    throw e;
  }
}

async function runHolding(store: Store, req: RunRequest, replans: number, lock: RunLock): Promise<RunResult> {
  const uid = process.getuid!(), gid = process.getgid!();
  const said = req.said ?? new Set<string>();
  const notice = (line: string): void => {
    if (said.has(line)) return;
    said.add(line);
    req.onNotice?.(line);
  };
  let meta: SandboxMeta;
  const options: RunOptionsRecord = { net: req.net, keepUser: req.keepUser, mapRoot: !!req.mapRoot, policy: req.policyName, capabilities: req.capabilities, hide: req.hide, bind: req.bind };
  if (req.inSandbox) {
    meta = req.inSandbox;
    if (!lock.release) {
      lock.release = lockSandbox(store, meta.id, 'run');
      // Read again under the lock: what was resolved before it may be stale (another sbx ran
      // in it, committed it or removed it meanwhile).
      const now = store.readMeta(meta.id);
      if (!now) throw new SbxError(`sandbox ${display(meta.name ?? meta.id)} was removed meanwhile by another sbx`, 125);
      meta = now;
    }
    if (meta.state === 'running') throw new SbxError(`sandbox ${meta.id} is in use by another sbx`, 125, 'wait for it to finish');
    // Its layers may be half-written: running more in them would build on that.
    if (meta.interrupted) throw new SbxError(`sandbox ${meta.name ?? meta.id} was running a command when the machine stopped, so its layers may miss writes made before that`, 125, `review it with '${sbxFor(store)} diff ${meta.name ?? meta.id}', then commit or discard it`);
    if (meta.state === 'committing' || meta.state === 'committed') throw new SbxError(`sandbox ${meta.id} is being committed`, 125, `finish it with '${sbxFor(store)} commit ${meta.id}'`);
    // Its fuse-overlayfs layers (a run as root inside made them) cannot be a --user run's:
    // mounted as kernel overlays, each copy fuse-overlayfs made of a host dir is owned by an id
    // --user does not map, and overlayfs refused every lookup through it (`/usr/bin`: EACCES,
    // the command 126); each mount left a mark that made the next one fail (EINVAL: the host's
    // tree shown read-only); and --user's own plan has no fuse tree to nest a layer in, so the
    // sandbox's `$HOME` layer was not mounted at all.
    const fuse = req.keepUser ? meta.layers.filter(throughFuse).map((l) => l.target) : [];
    if (fuse.length) {
      const named = [...fuse.filter((t) => ['/usr', '/etc', '/var'].includes(t)), ...fuse.filter((t) => !['/usr', '/etc', '/var'].includes(t))];
      const trees = named.slice(0, 3).map(displayText).join(', ') + (named.length > 3 ? ', ...' : '');
      const are = fuse.length === 1 ? 'is a fuse-overlayfs layer' : 'are fuse-overlayfs layers';
      throw new SbxError(`sandbox ${display(meta.name ?? meta.id)} was made by a run as root inside: its ${trees} ${are}, which a --user run cannot show`, 125, 'run in it without --user, or start a new sandbox with --user');
    }
    // And the other way: a --user run's layers of the system trees are kernel overlays, which
    // root inside could not write (EACCES, as an ordinary user on the host), and its plan nests
    // `$HOME` in a layer of its own, over the one holding what the --user runs wrote there.
    if (!req.keepUser && meta.options?.keepUser && uid !== 0 && fuseAvailable(which)) {
      throw new SbxError(`sandbox ${display(meta.name ?? meta.id)} was made by a --user run: a run as root inside could not show it (its system trees are not fuse-overlayfs layers)`, 125, 'run in it with --user');
    }
  } else {
    const { id, dir } = store.create(req.name);
    // A saved sandbox's review waits for the user with the sandbox marked saved: held until
    // then, and taken before its meta.json names it, so no other sbx finds it unlocked.
    if (!req.throwaway) lock.release = lockSandbox(store, id, 'run');
    const now = Date.now();
    // A throwaway run's layers go to tmpfs: its meta.json names that tree from the start.
    const onTmpfs = req.throwaway && isTmpfs('/dev/shm');
    const shm = onTmpfs ? safeScratch(uid, true) : null;
    if (onTmpfs && !shm) notice(`${scratchPath(uid)} is not a private directory of yours (someone else's, or a symlink): this run keeps its layers in ${dir} instead`);
    // An image or --rootfs root: recorded (commit refuses it, the change list compares with
    // it); sbx's own mounts cover whatever the image has there, and are never a change.
    const lowerFields = req.lower ? { ...(req.lower.image ? { image: req.lower.image } : { rootfs: req.lower.rootfs }), lowerRoot: req.lower.lowerRoot } : {};
    // Written before a scratch tree exists for this id: a scratch tree whose entry has no
    // meta.json was abandoned, and the sweep may take it. Written already `running`, with this
    // process as its runner: no commit, prune or `run --in` takes it while it is set up, a
    // dead sbx's reads as saved (a throwaway one's is swept), and the run writes it once
    // less (a saved run's meta.json is fsynced: 1-8 ms a write on this VM).
    meta = store.markCreated({
      version: 1, id, name: req.name, command: req.command, cwd: req.cwd, uid, gid,
      created: isoTime(now), createdMs: now, finished: null, exitStatus: null,
      runnerPid: process.pid, throwaway: req.throwaway, layersDir: shm ? join(shm, id) : dir, layers: [], hidden: [...req.hide, ...(req.lower ? SPECIAL_PATHS : [])], secretsSeen: false, binds: req.bind.filter((b) => !b.readOnly).map((b) => b.inside), bindPoints: req.bind.map((b) => (req.lower ? b.inside : hostLocation(b.inside))), options,
      ...lowerFields,
    });
    if (req.attempt) req.attempt.made = meta;
    if (shm) store.makeScratch(shm, meta);
    req.onCreated?.(meta);
  }

  const lower = req.lower ?? null;
  // --user keeps the command your uid: root's files are as unwritable inside as on the host,
  // so no fuse-overlayfs (which an unprivileged pid 1 could not mount anyway: EPERM).
  const fuseBinary = uid === 0 || lower || req.keepUser ? null : fuseAvailable(which);
  // Its -o option string cannot quote these (the helper would stop at EINVAL): said before
  // anything runs, with what to do. Kernel overlays take any path (mounts.c).
  if (fuseBinary && /[,:\\]/.test(meta.layersDir)) {
    if (!req.inSandbox) store.remove(meta);
    throw new SbxError(`the sandbox's layers would be in ${display(meta.layersDir)}, whose ',', ':' or '\\' fuse-overlayfs cannot take`, 125, 'set SBX_HOME to a directory whose path has none of them');
  }
  // An image's view is its own: the host's mounts are not planned (nor re-planned) for it.
  const mounts = lower ? [] : readVisibleMounts();
  // Asked by the plan (splitThroughFuse) and by prepareLayers: one answer for both, found once.
  let lowerUsable: boolean | undefined;
  const fuseLowerOk = (): boolean => (lowerUsable ??= fuseLowerUsable(() => !!req.diskBytes || isTmpfs(meta.layersDir)));
  // The dirs directly in `/`, for the plan (engines.ts stackListless) and the dirs shown empty
  // (unreadable.ts): listed once, when `/` is read whole through the daemon.
  let tops: string[] | undefined;
  const topDirs = (): string[] => (tops ??= topLevelDirs());
  // Host dirs as settleUnits found them, for the layers' and the stand-ins' modes and times:
  // one lstat (and one Stats object) per path instead of up to three. Microseconds apart.
  const seen: HostStats = new Map();
  // A sandbox keeps the extra ids it was made with: its layers hold their files by position.
  const idmap = chooseIdMapping({ keepUser: req.keepUser, mapRoot: req.mapRoot, extraIds: uid !== 0 ? undefined : req.inSandbox ? { uids: meta.idShift?.extraUids ?? [], gids: meta.idShift?.extraGids ?? [] } : invokingIds(process.env, dirOwner(req.cwd)) });
  let units: EngineUnit[];
  if (lower) {
    units = [{ kind: 'overlay', path: '/', engine: 'kernel' }, ...SPECIAL_PATHS.map((path): EngineUnit => ({ kind: 'special', path }))];
  } else {
    const engineUnits = assignEngines(planView(mounts, undefined, { whole: wholeView(meta, uid, idmap.ops), throughFuse: fuseBinary ? (dir) => splitThroughFuse(meta, dir, mounts, fuseLowerOk) : undefined }), {
      uid,
      fuseBinary,
      userTrees: userOwnedTrees([req.env.HOME ?? '', req.cwd].filter(Boolean), uid),
      readable: readableDir,
      // With --user the command may not write there anyway (the host's rule): no stand-in.
      searchable: req.keepUser ? () => true : searchableDir,
      empty: emptyDir,
      // A tree whose layer of the dir around it held it (planned whole through the daemon while
      // a mount was below it) stays in that layer: one of its own would hide what it holds.
      stackable: (tree, within) => !meta.layers.some((l) => l.target === within) || meta.layers.some((l) => l.target === tree),
      topDirs,
      subdirs,
    });
    units = settleUnits(req.keepUser && uid !== 0 ? stackWritableDirs(engineUnits, uid, dirsIn, dirEntry(req.cwd)) : engineUnits, seen);
  }
  if (uid !== 0 && !fuseBinary && !lower && !req.keepUser) {
    notice(`${fuseProblem(which)}: system paths owned by root (/usr, /etc, /var, ...) are read-only inside; install fuse-overlayfs (or use sudo) for the full view`);
  }
  if (idmap.unavailableRange) notice(`uids ${idmap.unavailableRange} do not exist in this user namespace (a container?): root inside is root outside for this run (as with --map-root)`);
  // The layers hold the ids of the mapping the sandbox was made with: another one (root's
  // /etc/subuid range changed since, the range not mapped where it runs now, idmapped mounts
  // failing; --map-root is the recorded one, cli/run-exec.ts) would give the files of
  // earlier runs other owners, and the next commit would write those (a chown of /opt to
  // 1000000000 was seen). Refused before anything runs or is recorded. A new sandbox planned
  // again (replan: another mapping after idmapped mounts failed) has no layers yet.
  if (req.inSandbox && uid === 0 && meta.layers.length && !sameIdShift(meta.idShift, idmap.shift)) {
    throw new SbxError(`sandbox ${display(meta.name ?? meta.id)} holds files of ${idShiftText(meta.idShift)}, and this run would map ${idShiftText(idmap.shift)}: their owners would change. `
      + (meta.idShift ? 'Put root\'s /etc/subuid and /etc/subgid ranges back as they were' : 'Run it where root\'s range is not mapped, as when it was made')
      + ', or commit or discard it (both read the ids it was made with)', 125);
  }
  meta.idShift = idmap.shift;
  const layers = store.openLayers(meta);
  // The sandbox's layers whose mounts are gone from the host (covered-changes.ts): one that
  // holds a change keeps its place, or the run is refused; the others are dropped.
  const ref = req.inSandbox ? display(meta.name ?? meta.id) : '';
  let drop: Layer[] = [];
  if (req.inSandbox && !lower) {
    const placeable = (p: string): boolean => !!lstatSync(p, { throwIfNoEntry: false })?.isDirectory() && (uid === 0 || readableDir(p));
    try {
      ({ units, drop } = await settleOldLayers(meta, units, ref, sbxFor(store), placeable, !!fuseBinary, seen));
    } catch (e) {
      layers.close();
      throw e;
    }
  }
  // An ordinary user's `/` read whole through the daemon, planned as a skeleton now: each
  // top-level dir would get a layer over what `/`'s holds there. Refused, saying why.
  if (req.inSandbox && !lower && meta.layers.some((l) => l.target === '/' && l.fuseLower !== undefined) && !units.some((u) => u.path === '/' && u.kind === 'overlay')) {
    layers.close();
    throw new SbxError(`sandbox ${ref}: ${wholeRootBlocker(meta, mounts, !!fuseBinary)}, and what it holds would be hidden in this run; nothing ran`, 125, `review it with '${sbxFor(store)} diff ${ref}' and commit or export it first, or undo that on the host to run in it`);
  }
  // A new layer over what the sandbox wrote before would hide it, in this run and (recorded)
  // in every later review and commit: refused, with nothing made.
  const covered = req.inSandbox && !lower ? coveredChange(layers, meta.layers, units) : null;
  if (covered) {
    layers.close();
    throw new SbxError(`sandbox ${ref}: what it changed in ${display(covered.layer)} at ${display(covered.path)} would be hidden in this run: a mount made in ${display(covered.layer)} since the sandbox was made gives ${display(covered.path)} a layer of its own; nothing ran`, 125, `unmount what was mounted there to run in it, or review it with '${sbxFor(store)} diff ${ref}' and commit or export it first`);
  }
  if (drop.length) {
    try { dropLayers(meta, drop, layers); } catch (e) { layers.close(); throw e; }
  }
  // The host mounted or unmounted something since we read its mounts (a busy /tmp): nothing has
  // run yet, so plan the view again from the host as it is now (a few times, not for ever).
  const hostMoved = (): boolean => !lower && replans < 3 && mountIdsOf(readVisibleMounts()) !== mountIdsOf(mounts);
  // A set-up step failed at a host path that is gone now, or is another file than the one
  // planned (a mount point that came and went, a test's dir removed): the host moved there.
  const movedAt = (path: string | null): boolean => {
    if (!path || lower || replans >= 3) return false;
    const now = lstatSync(path, { throwIfNoEntry: false });
    const then = seen.get(path);
    return !now || (then !== undefined && (now.dev !== then.dev || now.ino !== then.ino));
  };
  const replan = (change: Partial<RunRequest> = {}, counted = 1): Promise<RunResult> => {
    if (!req.inSandbox) {
      for (const d of layerDirs(meta.layers)) removeTree(join(meta.layersDir, d));
      meta.layers = [];
    }
    store.markSaved(meta);
    return runSandbox(store, { ...req, ...change, said, inSandbox: meta }, replans + counted);
  };
  // --disk: the helper copies the layers onto a tmpfs of that size and back afterwards.
  const diskDir = req.diskBytes ? join(meta.layersDir, 'disk') : null;
  // A new sandbox's first launch: its layer dirs and stand-in tree are made by the helper
  // (entries), with the package managers' pre-copies, the unreadable dirs shown empty in a
  // fuse layer and the parents of --hide's whiteouts, except where they move (--disk) or an
  // image's root is their lower. A re-plan or a retry runs --in it: sbx makes them.
  const helperMakes = !req.inSandbox && !lower && !req.diskBytes;
  const entries: SpecOp[] = [];
  // A setgid layers dir makes the stand-in tree setgid: its entries then get its group (skeleton.ts).
  const layersSetgid = helperMakes && uid === 0 && (layers.stat().mode & 0o2000) !== 0;
  // Root builds the view in the helper's own mount namespace (build_outside): a quiet
  // throwaway run's layers can live on a tmpfs there, which nobody reads after the command
  // (not with --hide, whose whiteouts name the layers dir).
  const inTmpfs = helperMakes && !req.hide.length && uid === 0 && req.throwaway && req.layersUnread && meta.layersDir !== store.dirOf(meta.id)
    && idmap.ops.some((o) => o.op === 'build_outside') ? new Set<string>() : null;
  // The helper also makes what sbx would write into a fuse layer before the launch (the
  // pre-copies, the dirs shown empty), and says what the review needs of each copy (inode and
  // ctime, `copiedBy`), recorded once it has run.
  const upperEntries = helperMakes ? new UpperEntries(entries, (l) => (inTmpfs?.has(l.dir) ? `${LAYERS_TMPFS_DIR}/${l.dir}` : l.dir)) : null;
  // The times of what sbx makes in the layers itself, set together once it is all made.
  const times = new LayerTimes();
  let copiedBy: Array<[host: string, rel: string]> = [];
  let hidden: SpecOp[] = [];
  let moved = false;
  try {
    // --disk copies the layers onto a tmpfs of the helper's.
    const shift = idmap.shift;
    prepareLayers(meta, units, rootOwner(shift, { uid, gid }), uid !== 0 && req.keepUser ? userViewBits(uid, [gid, ...process.getgroups!()]) : null, shift ? `${shift.uid}:${shift.gid}:${shift.count}` : '0:0:0', layers, lower?.lowerRoot ?? null, seen, helperMakes, entries, inTmpfs, fuseLowerOk, times);
    if (!lower) {
      // A --hide path stays absent: a copy there would show the file the whiteout hides.
      const notHidden = (p: string): boolean => !req.hide.some((h) => isWithin(p, h));
      const dirs = PRECOPY_DIRS.filter(notHidden), files = HIDDEN_COPIES.filter(notHidden);
      let copied: string[];
      if (upperEntries) {
        copiedBy = precopyEntries(meta.layers, upperEntries, dirs, undefined, undefined, files);
        copied = copiedBy.map(([host]) => host);
      } else {
        const made = precopyEmptyUnreadable(meta.layers, layers, dirs, undefined, undefined, files, times);
        // A later run in the same sandbox finds its copies there and makes none: both kept.
        if (made.length) meta.precopied = [...(meta.precopied ?? []).filter(([p]) => !made.some(([q]) => q === p)), ...made];
        copied = made.map(([p]) => p);
      }
      const accounts = copied.filter((p) => HIDDEN_COPIES.includes(p) && !meta.hidden.includes(p));
      if (accounts.length) meta.hidden = [...meta.hidden, ...accounts];
    }
    if (helperMakes) entries.push(entryOp('dir', 'root'));
    else openOwn(meta, layers, 'root', true).close();
    if (req.diskBytes) openOwn(meta, layers, 'disk', true).close();
    // The dirs made to hold a hidden path's whiteout take their host dir's owner through the
    // shift. One the shift does not map keeps its host id: unmapped inside, as the host dir
    // shows through the idmapped lower, and what the change list takes back to itself (acl.ts
    // uidBack). Given its id plus the shift's base until 2026-12-05, such a dir was listed as
    // `owner X:X→X+1000000000` and a commit of a run that changed nothing chowned it so.
    hidden = lower ? [] : hideOps(req.hide, meta, (st) => (uid !== 0 ? null : idmap.shift ? { uid: shiftedUid(idmap.shift, st.uid) ?? st.uid, gid: shiftedGid(idmap.shift, st.gid) ?? st.gid } : { uid: st.uid, gid: st.gid }), layers, diskDir ?? meta.layersDir, upperEntries, times,
      (p) => units.some((u) => u.kind !== 'special' && u.kind !== 'symlink' && isWithin(u.path, p)));
  } catch (e) {
    // ENOENT here is a host path that vanished since it was planned (a test's dir in a busy
    // /tmp), whether or not a mount moved with it: nothing has run yet, so plan again.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || lower || replans >= 3) throw e;
    moved = true;
  } finally {
    layers.close();
  }
  if (moved) {
    // What a re-plan finds made is kept as it is: it takes its times now.
    flushTimes(store, meta, times);
    return replan();
  }
  const shown = lower ? [] : showUnreadableEmpty(meta.layers, meta.layersDir, times, undefined, uid !== 0 && meta.layers.some(throughFuse) ? unreadableCacheFile(req.env) : null, upperEntries, req.hide, topDirs);
  // The trees the user may not search, shown empty by their stand-in (engines.ts): what their
  // layer holds below them is compared with host paths the user's scan cannot look at either.
  // One below a top-level dir is a unit only while a mount splits its parent into a unit per
  // entry (any mount in /tmp makes each 0700 dir there one): it is kept with the others and
  // left out of the notice, whose list changed with every such mount.
  const split: string[] = [];
  for (const u of units) if (u.kind === 'skeleton' && u.unsearchable) (dirname(u.path) === '/' ? shown : split).push(u.path);
  if (shown.length || split.length) meta.shownEmpty = [...new Set([...(meta.shownEmpty ?? []), ...shown, ...split])].sort();
  // A standing trait of this machine, like the limits notice: said on the first run and again
  // when a dir joins the list (a dir made 0700 in /var), not on every run, nor when one leaves
  // it; doctor lists them.
  if (shown.length && anyNew(store.root, 'shown-empty', shown)) notice(shown.length === 1 ? `${shown[0]} (unreadable on the host) is shown empty inside` : `${shown.length} unreadable dirs shown empty inside ('sbx doctor' lists them)`);
  // The stand-in tree too, but for the files it copies (sbx reads them anyway).
  const files = buildSkeletonTree(units, join(meta.layersDir, SKELETON_DIR), uid === 0, seen, helperMakes ? { entries, rel: SKELETON_DIR, setgidParent: layersSetgid } : undefined, { to: times, rel: SKELETON_DIR });
  dirAttrsLast(entries);
  flushTimes(store, meta, times);
  const viewUnits = units.filter((u) => !(u.kind === 'ro-bind' && (files.copied.has(u.path) || files.gone.has(u.path))));
  const readOnlyFiles = viewUnits.filter((u) => u.kind === 'ro-bind').map((u) => u.path);
  const mountedFiles = viewUnits.filter((u) => u.kind === 'ro-bind' && u.reason === 'file-mount').map((u) => u.path);
  // Only what the caller could write on the host is a difference worth a line: another user's
  // unreadable file in a shared /tmp is read-only to them outside too (doctor lists them all).
  const lostWrites = viewUnits.filter((u) => u.kind === 'ro-bind' && u.reason !== 'file-mount' && writableHere(u.path)).map((u) => u.path);
  if (lostWrites.length) notice(`read-only inside (too big to copy, or unreadable): ${listFew(lostWrites)}`);
  // A file the host has a mount on (a container's /etc/hosts, /etc/resolv.conf) is bound as it
  // is: a standing trait of the host, said once (it was said on every run, as too big or
  // unreadable, which it is not).
  const lostMounted = mountedFiles.filter(writableHere);
  if (lostMounted.length && anyNew(store.root, 'mounted-files', lostMounted)) notice(`read-only inside (the host has a mount on each: a file cannot be overlaid): ${listFew(lostMounted)}`);
  const roBinds = req.bind.filter((x) => x.readOnly).map((x) => x.inside);
  if (roBinds.length) notice(`read-only inside (--ro-bind): ${listFew(roBinds)}`);
  const stage = join(meta.layersDir, 'root');
  const diskOps: SpecOp[] = [];
  if (diskDir && req.diskBytes) {
    diskOps.push({ op: 'disk_tmpfs', args: [diskDir, String(req.diskBytes)] });
    for (const d of layerDirs(meta.layers)) diskOps.push({ op: 'disk_layer', args: [join(meta.layersDir, d)] });
  }

  // pid 1 runs as the mapped root: when that is not us, the proxy's socket is given to it.
  const relayOwner = idmap.shift ? { uid: idmap.shift.uid + idmap.insideUid, gid: idmap.shift.gid + idmap.insideUid } : null;
  // Loaded only for --allow-net: most runs need no proxy code at all.
  const net = req.allowNet?.length ? await (await import('./net/session.js')).startAllowNet(req.allowNet, store.openLayers(meta), meta.layersDir, relayOwner, req.memoryLimit, !!req.allowNetDirect && !!req.seccomp) : null;
  // Only then is a failed lookup or connection sbx's doing (net-errors.ts); with a network it is the network's.
  const withoutNetwork = !req.net && !net;
  const netEnv = Object.fromEntries((net?.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const emptyInside: { path: string; reason: string }[] = [];
  const ops: SpecOp[] = [
    ...idmap.ops,
    ...(req.limitOps?.cgroup ?? []),
    req.net ? { op: 'share_net', args: [] } : { op: 'loopback_up', args: [] },
    ...(net ? [{ op: 'net_relay', args: [net.dir, net.name, String(net.port), String(net.buffer)] } satisfies SpecOp] : []),
    ...(net?.directName ? [{ op: 'net_direct', args: [net.directName] } satisfies SpecOp] : []),
    { op: 'new_cgroupns', args: [] },
    // The host's own name, in a UTS namespace of the sandbox's (a change of it stays inside):
    // a name of its own resolved nowhere (no /etc/hosts line, no DNS without --net), and
    // `hostname -i`, sudo, Java's getLocalHost() failed inside where they work outside.
    { op: 'hostname', args: [hostName()] },
    ...(entries.length ? [{ op: 'layers_dir', args: [meta.layersDir] } satisfies SpecOp, ...(inTmpfs?.size ? [{ op: 'layers_tmpfs', args: [LAYERS_TMPFS_DIR] } satisfies SpecOp] : []), ...entries] : []),
    { op: 'stage', args: [stage] },
    ...diskOps,
    // The check is left off on the last attempt: what still fails then gets the old fallback.
    ...viewOps(viewUnits, meta, diskDir ?? meta.layersDir, fuseBinary, idmap.shift, req.diskBytes ?? null, emptyInside, lower?.lowers ?? null, inTmpfs, !lower && replans < 2),
    ...hidden,
    // Like bwrap and docker -v: a destination's missing parents are made (walk.ts does not
    // count them as changes).
    // A user's bind: no setuid program or device node of the host's works through it (the
    // rest of the view is nodev and the filter refuses mknod: a bound /dev was the way round).
    ...req.bind.map((b): SpecOp => ({ op: 'bind', args: [b.host, lower ? b.inside : bindPointThroughHidden(b.inside, req.hide), ['rec', 'parents', 'nosuid-nodev', ...(b.readOnly ? ['ro' as const] : []), ...(idmap.shift && !b.plainIds ? ['idmap' as const] : [])]] })),
    // What is hidden stays hidden where a bind shows it (an image's run: the secrets only).
    ...boundHideOps([...req.hide, ...(req.hideBound ?? [])], req.bind, !lower),
    // sbx's own dirs are not the sandbox's business: the store holds other sandboxes' layers,
    // and what the config and caches say, a later sbx runs (base/paths.ts ownDirs).
    ...ownDirsToHide(store.root, req.bind, !lower),
    // --device nodes, bound into the minimal /dev.
    ...(req.limitOps?.devices ?? []),
    // Bytes that are not UTF-8 reach the command as they are (sandbox-core/rawbytes.ts).
    { op: 'cwd', args: [req.cwd === currentDirOrNull() && !lower ? rawCwd(req.cwd) : req.cwd] },
    ...(req.cmdUser ? [{ op: 'cmd_user', args: [String(req.cmdUser.uid), String(req.cmdUser.gid)] } satisfies SpecOp] : []),
    ...(req.rawCommand ?? req.command).map((a): SpecOp => ({ op: 'arg', args: [a] })),
    ...rawEnv(sandboxEnv({ ...req.env, ...netEnv, PATH: rootPath(req.env.PATH, idmap.insideUid, req.env.SBX_ROOT_PATH) })).map((e): SpecOp => ({ op: 'env', args: [e] })),
    ...(req.limitOps?.rlimits ?? []),
    ...coreDumpOps(),
    capsOp(req.capabilities),
    ...relayOps(idmap),
    ...[...SCANNED_TEXTS, LINK_TEXT, ...(withoutNetwork ? NO_NETWORK_TEXTS : [])].map((t): SpecOp => ({ op: 'scan_output', args: [t] })),
    ...(req.pty ? [{ op: 'pty', args: [String(JOBCTL_FD), String(req.pty)] } satisfies SpecOp, ...DROPPED_OSC.map((n): SpecOp => ({ op: 'osc_drop', args: [String(n)] })),
      ...DROPPED_DCS.map((t): SpecOp => ({ op: 'dcs_drop', args: [t] }))] : []),
    ...(req.seccomp ? [{ op: 'seccomp', args: [req.seccomp] } satisfies SpecOp] : []),
    ...scrapOps(meta, req.throwaway && meta.layersDir !== store.dirOf(meta.id) && !diskDir, !!req.layersUnread, inTmpfs),
    // A saved sandbox must be on disk before we say it is saved: its volatile layers are synced
    // by the helper once the sandbox ended (a `sync -f` started from here cost ~25 ms more).
    ...(req.throwaway ? [] : [{ op: 'syncfs_after', args: [meta.layersDir] } satisfies SpecOp]),
  ];
  // Said once, as the unreadable dirs are: a mount sbx cannot show stays so run after run
  // (under sudo, another user's FUSE mounts: a desktop's document portal and gvfs were said
  // on every run); again only when one joins them; doctor lists them.
  const emptyList = emptyInside.map((e) => `${e.path} (${e.reason})`);
  if (emptyList.length && anyNew(store.root, 'empty-inside', emptyList)) for (const e of emptyInside) notice(`${e.path} is empty inside (${e.reason})`);
  // The review's scan, made by the helper once the sandbox ended: sbx then starts no helper of
  // its own for it (~8 ms a review: the fork and exec from this process). Not for --disk,
  // whose layers reach the store only by the copy back (a path this was not tried with), nor
  // an image's tree (compared with its lower root). Loaded only here: a quiet discard never
  // reviews.
  const reviewScan = req.reviewScan && !lower && !diskDir ? (await import('./changes/scan-request.js')).reviewScanOf(meta) : null;
  if (reviewScan) ops.push({ op: 'review_scan', args: [...reviewScanFds(req.pty !== 0).map(String) as [string, string, string], reviewScan.input] });
  let started = 0;
  let result: LaunchResult;
  let netDecisions: NetDecision[] | null = null;
  try {
    if (process.env.SBX_DEBUG_SPEC) coreNotice('always', describeSpec(ops));
    if (replans === 0) pauseBeforeLaunchForTest();
    if (req.secretsVisible) meta.secretsSeen = true;
    if (meta.state !== 'running') store.markRunning(meta);
    started = Date.now();
    result = await launch(encodeSpec(ops), () => store.openLayers(meta), {
      jobControl: req.pty !== 0,
      ...(reviewScan ? { reviewScan: { layersFd: reviewScan.layersFd, hostFd: reviewScan.hostFd } } : {}),
      onSpawn: (pid) => {
        if (req.attempt) req.attempt.spawned = true;
        req.onSpawn?.(pid);
        // Throwaway runs whose sbx was killed are removed while this one runs (sbx only
        // waits then), not before it starts: nothing of this run depends on them, and the
        // sweep never takes a running sandbox's entry (this one's names this process).
        // Only in a new sandbox's first launch (a re-plan or retry runs --in it): when the
        // host moved before the first launch, the next run sweeps instead.
        if (!req.inSandbox) try { store.sweepAbandoned(meta.id); } catch { /* left for the next run */ }
      },
    });
  } finally {
    req.onEnded?.();
    if (reviewScan) { closeSync(reviewScan.layersFd); closeSync(reviewScan.hostFd); }
    // The proxy lives exactly as long as the sandbox: no socket or listener outlives the run.
    if (net) netDecisions = await net.stop();
  }
  const durationMs = Date.now() - started;
  if (copiedBy.length) {
    // Nothing recorded of a copy the helper did not report (its set-up failed first).
    const made = new Map(result.entriesMade.map((e) => [e.rel, e]));
    const copies = copiedBy.flatMap(([host, rel]): Array<[string, number, number]> => { const e = made.get(rel); return e ? [[host, e.ino, e.ctimeMs]] : []; });
    if (copies.length) meta.precopied = [...(meta.precopied ?? []).filter(([p]) => !copies.some(([q]) => q === p)), ...copies];
  }
  const diskLost = diskDir ? diskCopyBackProblem(meta, diskDir, result) : null;
  // The command's own EROFS/EACCES lines that the view explains (view-errors.ts).
  const explained = explainSeen(result.seen, {
    roBinds, roFiles: readOnlyFiles, mountedFiles, fallbacks: result.readOnlyFallbacks.map((f) => f.path),
    fuseTrees: meta.layers.filter(throughFuse).map((l) => l.target),
    // --user keeps the user's own uid: root's files refuse them inside as on the host, so the
    // view is no cause to name.
    noFuse: uid !== 0 && !fuseBinary && !req.keepUser, uid, cwd: req.cwd,
    binds: req.bind.map((b) => b.inside),
    rootIds: meta.idShift,
    ...(uid !== 0 ? { userGids: mappedHostRanges(idmap, 'gid') } : {}),
  });
  for (const line of explained) notice(line);
  const goneDirs: string[] = [];
  for (const f of result.readOnlyFallbacks) {
    if (errnoName(f.errno) === 'ENOENT') goneDirs.push(f.path);
    else notice(`${display(f.path)} could not be overlaid (${errnoName(f.errno)}): it was read-only inside`);
  }
  // A busy /tmp beside a mount (a compiler's temporaries, a test's scratch tree) can lose
  // dozens at once: one line each for dirs and for files.
  vanished(notice, goneDirs, 'directories', 'it was an empty directory inside', 'each was an empty directory inside');
  vanished(notice, result.vanishedFiles, 'files', 'it is an empty read-only file inside', 'each is an empty read-only file inside');
  const o = result.outcome;
  // First: a lower layer's mount point gone or replaced when the helper maps it is the host
  // moving, not a filesystem without idmapped mounts, and must not turn root inside into root.
  if (o.kind === 'setup-failed' && (o.step === 'overlay-moved' || hostMoved() || movedAt(o.path))) return replan();
  // A read-only bind whose filesystem cannot be idmapped (proc, sysfs, devtmpfs) is bound as
  // it is: the owners the sandbox does not map show as nobody inside, which grants less, never
  // more. A writable one is refused (describeFailure): what root inside made there would be
  // the host's files of an unnamed uid. Nothing ran yet; each retry idmaps one bind fewer.
  const plain = o.kind === 'setup-failed' && o.step === 'bind-idmap' && errnoName(o.errno) === 'EINVAL'
    ? req.bind.find((b) => b.host === o.path && b.readOnly && !b.plainIds) : undefined;
  if (plain) {
    notice(`--ro-bind ${display(plain.host)}: its filesystem does not support idmapped mounts: its owners are shown as nobody inside`);
    return replan({ bind: req.bind.map((b) => b === plain ? { ...b, plainIds: true } : b) }, 0);
  }
  if (o.kind === 'setup-failed' && (o.step === 'idmap-lower' || o.step === 'idmap-userns') && !req.mapRoot && errnoName(o.errno) !== 'ENOENT') {
    // Nothing ran yet, so the identity mapping can take over safely.
    notice(`${o.path ?? 'a lower layer'} does not support idmapped mounts (${errnoName(o.errno)}): root inside is root outside for this run (as with --map-root)`);
    // A fresh sandbox's layers hold nothing yet, and overlayfs refuses (EINVAL) an upper that
    // an idmapped mount used: replan starts them again.
    return replan({ mapRoot: true }, 0);
  }
  // Outside, a `daemon &` outlives the shell that started it; here it ends with the sandbox,
  // and a user would otherwise never learn that it did.
  const bg = result.background;
  if (bg) {
    const few = bg.names.length ? ` (${bg.names.map(displayText).join(', ')}${bg.count > bg.names.length ? ', …' : ''})` : '';
    notice(bg.count === 1
      ? `1 background process was still running when the command ended${few}; it was stopped`
      : `${bg.count} background processes were still running when the command ended${few}; they were stopped`);
  }
  // What the command wrote into the account files shown empty is no change (precopy.ts): said
  // where a review follows (a -n run's too: its review lists /etc/passwd's new account, and
  // would say nothing of the shadow line written beside it).
  if (!req.layersUnread && meta.precopied?.length) {
    const after = store.openLayers(meta);
    let changed: string[] = [];
    try { changed = changedAccountCopies(meta.layers, after, meta.precopied); } finally { after.close(); }
    // All of them (five at most): sbx doctor does not list these.
    if (changed.length) notice(`${listFew(changed, ACCOUNT_FILES.length)} changed inside: shown empty (unreadable to you on the host), so the review leaves ${changed.length === 1 ? 'it' : 'them'} out${req.throwaway ? '' : " and a commit keeps the host's"}`);
  }
  const exitStatus = exitStatusOf(result.outcome);
  meta.finished = isoTime(Date.now());
  meta.exitStatus = exitStatus;
  // A saved sandbox must be on disk before we say it is saved; a throwaway one never needs to be.
  // The helper synced it (`syncfs_after`) unless it ended before, or could not.
  if (!req.throwaway && !result.synced) childProcess().spawnSync('sync', ['-f', meta.layersDir], { stdio: 'ignore' });
  // A throwaway run is removed by the caller once reviewed (a discard never asks, never
  // saves): rewriting its meta.json (a rename over the old file: ext4 flushes it, 1-4 ms here)
  // buys nothing. On disk it stays `running` with this pid while the review scans, so nothing
  // else takes it meanwhile, and an sbx that dies first leaves it to the sweep of abandoned runs.
  store.markSaved(meta, !(req.throwaway && !req.inSandbox));
  return { release: () => lock.release?.(), meta, outcome: result.outcome, exitStatus, durationMs, launch: result, view: { readOnly: readOnlyFiles, shownEmpty: shown, emptyInside: emptyList }, diskLost, net: netDecisions, noNetwork: withoutNetwork ? noNetworkText(result.seen) : null };
}
