// Which overlay engine serves each overlaid directory. Kernel overlayfs is fast, but as an
// ordinary user it cannot copy up anything owned by an unmapped uid (host root): writing
// /usr, /etc or /var fails. fuse-overlayfs mounted inside the user namespace with
// squash_to_root shows those files as root's, an id of the namespace, but each file operation
// through it is a round trip to its daemon. So: kernel overlays for the trees the user owns
// (home, working directory), for empty ones, and for everything when running as root;
// fuse-overlayfs for the other system trees when it is available, read-only, as the lower of a
// kernel overlay that takes the writes (sandbox.ts prepareLayers, `fuseLower`).
import { accessSync, constants, lstatSync, opendirSync, readdirSync, statSync } from 'node:fs';
import type { ViewUnit } from './plan.js';
import { isBelow, isWithin } from './base/within.js';
import { dirStat } from './base/dir-stat.js';
import { codeUnitOrder } from './base/code-order.js';

export type Engine = 'kernel' | 'fuse';
export type EngineUnit = Exclude<ViewUnit, { kind: 'overlay' }> | { kind: 'overlay'; path: string; engine: Engine };

export interface EngineContext {
  uid: number;
  /** fuse-overlayfs binary, or null when it (or /dev/fuse) is missing. */
  fuseBinary: string | null;
  /** Directories the user owns and works in ($HOME, cwd): always kernel overlays. */
  userTrees: string[];
  readable: (dir: string) => boolean;
  /** Whether the user may search the host dir (look up a name in it), from searchableDir. */
  searchable: (dir: string) => boolean;
  /** Whether the host dir holds no entry at all. */
  empty: (dir: string) => boolean;
  /**
   * Whether the user's tree `tree` inside the fuse tree `within` may have a layer of its own
   * (a saved sandbox whose layer of `within` holds what was made in `tree` keeps it there).
   */
  stackable?: (tree: string, within: string) => boolean;
  /** The dirs directly in `/` (asked when `/` is read whole through the daemon); topLevelDirs. */
  topDirs?: () => string[];
  /** The dirs directly in a dir of `/` (no symlink; none when it cannot be listed); subdirs. */
  subdirs?: (dir: string) => string[];
}

/**
 * The trees of `/` whose dirs the user cannot list are found by a walk of them all, and shown
 * empty and writable (unreadable.ts): package managers and services keep their state there.
 */
export const WALKED_ROOTS = ['/var', '/etc'];

/**
 * Keeps existing directories owned by `uid`, sorted, one inside another too: a working dir in
 * a `$HOME` that holds a mount is stacked on its own (stackUserTrees).
 */
export function userOwnedTrees(paths: string[], uid: number): string[] {
  return [...new Set(paths)].filter((p) => {
    try { const st = statSync(p); return st.isDirectory() && st.uid === uid && p !== '/'; } catch { return false; }
  }).sort();
}

export function assignEngines(units: ViewUnit[], ctx: EngineContext): EngineUnit[] {
  if (ctx.uid === 0) return units.map((u) => (u.kind === 'overlay' ? { ...u, engine: 'kernel' as const } : u));
  const out: EngineUnit[] = [];
  const whole = units.filter((v) => v.kind === 'overlay' && v.holdsMounts).map((v) => v.path);
  for (const u of units) {
    if (u.kind !== 'overlay') { out.push(u); continue; }
    // A dir holding mounts, whole: only the daemon, which sees past those mounts, can be its
    // lower (planView's `throughFuse`).
    if (u.holdsMounts) {
      out.push({ ...u, engine: 'fuse' });
      if (u.path === '/') stackListless(units, ctx, out);
      stackUserTrees(u.path, units, ctx, out);
      continue;
    }
    // A tree the user may not even search on the host (`/root`, 0700): an overlay over it
    // looks up every name in it with the user's rights, so nothing could be made in it inside,
    // by root inside either (`mkdir /root/.cache` failed, EACCES). Nothing of it can be seen
    // anyway: an empty stand-in is its lower, as for a skeleton dir, so it is shown empty and
    // writable like the unreadable dirs inside system trees (meta.json shownEmpty). Not a mount
    // in a dir planned whole (holdsMounts), whose stand-in would have no skeleton to be made
    // in: it is as unsearchable inside as on the host, as what the daemon shows of such dirs.
    if (u.path !== '/' && !ctx.userTrees.some((t) => isWithin(u.path, t)) && !ctx.searchable(u.path) && !whole.some((w) => isBelow(u.path, w))) {
      out.push({ kind: 'skeleton', path: u.path, mode: modeOf(u.path), unsearchable: true });
      continue;
    }
    if (!ctx.fuseBinary) { out.push({ ...u, engine: 'kernel' }); continue; }
    // fuse-overlayfs reads its lower as you: a directory you cannot read (/lost+found, /root)
    // gains nothing from it, and the kernel overlay shows it as the host does. An empty one
    // (/srv, /media, /boot here) has no host file to copy up: its kernel overlay's root is the
    // upper dir, yours, which is root inside, as fuse-overlayfs's squash_to_root shows it, and
    // what the command makes there is its own either way. A daemon not started is a fork, an
    // exec and libfuse's set-up saved: five such trees here made the floor of an ordinary
    // user's `run -n -- true` 0.81x the CPU (docs/architecture.md, "Overlay engines").
    if (ctx.userTrees.some((t) => isWithin(u.path, t)) || !ctx.readable(u.path) || ctx.empty(u.path)) { out.push({ ...u, engine: 'kernel' }); continue; }
    out.push({ ...u, engine: 'fuse' });
    stackUserTrees(u.path, units, ctx, out);
  }
  return out;
}

/**
 * The user's own trees inside a fuse tree get a kernel overlay stacked on top, the outermost
 * that can: one with a mount at or below it (planned as a unit of its own) cannot, the host
 * dir is no lower layer then, and stays in the fuse tree, with a tree inside it (the working
 * dir in such a `$HOME`) stacked instead.
 */
function stackUserTrees(tree: string, units: ViewUnit[], ctx: EngineContext, out: EngineUnit[]): void {
  const stacked: string[] = [];
  for (const t of ctx.userTrees) {
    if (t === tree || !isWithin(t, tree) || stacked.some((s) => isWithin(t, s))) continue;
    if (units.some((v) => isWithin(v.path, t)) || !(ctx.stackable?.(t, tree) ?? true)) continue;
    out.push({ kind: 'overlay', path: t, engine: 'kernel' });
    stacked.push(t);
  }
}

/**
 * Overlays stackListless makes at most: each is a mount and two layer dirs (~0.3 ms of the
 * helper's); a host with hundreds of 0711 homes keeps the rest in the daemon's view.
 */
export const MAX_LISTLESS = 64;

/**
 * A dir the user may search but not list (0711), in `/` read through the daemon: fuse-overlayfs
 * shows it empty, and once it has, finds no name in it (ENOENT), where the host finds each by
 * lookup (`cat /home/alice/public_html/index.html` through a 0711 home). A kernel overlay over
 * it, stacked on `/`, shows it as the host does, as the skeleton's own overlay of a top-level
 * one did, and its reads skip the daemon. Looked for directly in `/` and one level below (a
 * home, a site in /srv, an app in /opt), not deeper: that would be a walk of `/` on every run;
 * deeper ones the daemon's preload shows as the host does (native/preload/fuse-noplus.c), and
 * in WALKED_ROOTS a walk finds such dirs and shows them empty. (One the user may not search is
 * an empty writable dir in `/`'s layer: unreadable.ts.) Not in a saved sandbox whose layer of
 * `/` may hold what was made there (stackable), nor a dir that is or holds a mount (no lower
 * then).
 */
function stackListless(units: ViewUnit[], ctx: EngineContext, out: EngineUnit[]): void {
  let left = MAX_LISTLESS;
  // A dir the user may not list (asked once per dir), stacked if it may search it.
  const stack = (d: string): void => {
    if (left && !units.some((v) => isWithin(v.path, d)) && ctx.searchable(d) && (ctx.stackable?.(d, '/') ?? true)) { out.push({ kind: 'overlay', path: d, engine: 'kernel' }); left--; }
  };
  for (const top of ctx.topDirs?.() ?? []) {
    if (!ctx.readable(top)) { stack(top); continue; }
    // Its dirs only where the daemon shows them: not in a mount of its own (a unit), nor in
    // the user's trees (kernel overlays already).
    if (WALKED_ROOTS.includes(top) || units.some((v) => v.path === top) || ctx.userTrees.some((t) => isWithin(top, t))) continue;
    for (const d of ctx.subdirs?.(top) ?? []) if (!ctx.userTrees.some((t) => isWithin(d, t)) && !ctx.readable(d)) stack(d);
  }
}

/** A host dir, its owner, and whether the host lets this user make entries in it (access W_OK). */
export interface DirEntryStat { path: string; uid: number; writable: boolean }

/**
 * With --user the command keeps your uid, and of the host's dirs not yours only the overlays'
 * own roots are writable inside (their upper dirs, yours, with the host's rule for you: sandbox.ts
 * userViewBits). A dir that is not yours but that the host lets you write (`/var/tmp`,
 * `/run/lock`: 1777; a team's `/srv/proj`, 2775 with your group) was not: a file made there
 * needs the dir copied up as its owner, whom the namespace does not map (EOVERFLOW), where the
 * host takes it. Each such dir directly in a top-level tree becomes a kernel overlay of its own
 * on its tree's, and so does the working dir (`cwd`, when it is such a dir deeper down): not
 * one that is or holds a mount (no lower then). A deeper one elsewhere still fails so, and
 * so does a change to a file in them that is not yours (its copy-up needs its owner too).
 */
export function stackWritableDirs(units: EngineUnit[], uid: number, dirsIn: (dir: string) => DirEntryStat[], cwd: DirEntryStat | null = null): EngineUnit[] {
  const out: EngineUnit[] = [];
  const stackable = (d: DirEntryStat): boolean => d.writable && d.uid !== uid && !units.some((v) => isWithin(v.path, d.path)) && !out.some((v) => v.path === d.path);
  for (const u of units) {
    out.push(u);
    if (u.kind !== 'overlay' || u.path === '/' || u.path.lastIndexOf('/') !== 0) continue;
    for (const d of dirsIn(u.path)) if (stackable(d)) out.push({ kind: 'overlay', path: d.path, engine: 'kernel' });
  }
  if (cwd && stackable(cwd) && units.some((v) => v.kind === 'overlay' && v.path !== '/' && isBelow(cwd.path, v.path))) out.push({ kind: 'overlay', path: cwd.path, engine: 'kernel' });
  return out;
}

/** `p` as a DirEntryStat when it is a dir (not a symlink), else null. */
export function dirEntry(p: string): DirEntryStat | null {
  try {
    const st = lstatSync(p);
    if (!st.isDirectory()) return null;
    let writable = false;
    try { accessSync(p, constants.W_OK | constants.X_OK); writable = true; } catch { /* not for you */ }
    return { path: p, uid: st.uid, writable };
  } catch { return null; /* gone meanwhile */ }
}

/** The dirs directly in `dir` (no symlink), with their owners and whether you may write them; none when it cannot be listed. */
export function dirsIn(dir: string): DirEntryStat[] {
  return subdirs(dir).flatMap((p) => dirEntry(p) ?? []);
}

/** The dirs directly in `dir`, symlinks left out; none when it cannot be listed. */
export function subdirs(dir: string): string[] {
  const prefix = dir === '/' ? '' : dir;
  try { return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `${prefix}/${d.name}`).sort(codeUnitOrder); } catch { return []; }
}

/** The dirs directly in `/`, symlinks left out. */
export const topLevelDirs = (): string[] => subdirs('/');

/** Why fuse-overlayfs cannot be used, or null when it can. */
export function fuseProblem(which: (cmd: string) => string | null): string | null {
  if (!which('fuse-overlayfs')) return 'fuse-overlayfs is not installed';
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? '/dev/fuse is missing' : '/dev/fuse is not readable and writable by you (Debian makes it 0666)';
  }
  return null;
}

/**
 * Whether an upper layer on this filesystem takes `user.*` xattrs, which a kernel overlay in a
 * user namespace needs for its opaque dirs (`rm -rf` of a host dir and a mkdir of its name,
 * the dirs shown empty): tmpfs (a throwaway run's layers, `--disk`'s copy) gained them in Linux
 * 6.6; Debian 12 runs 6.1. Where it does not, an ordinary user's system trees keep
 * fuse-overlayfs's own upper, whose marks are files. `release`: uname -r.
 */
export function upperTakesUserXattrs(release: string, tmpfs: boolean): boolean {
  if (!tmpfs) return true;
  const m = /^(\d+)\.(\d+)/.exec(release);
  return !!m && (Number(m[1]) > 6 || (Number(m[1]) === 6 && Number(m[2]) >= 6));
}

export function readableDir(dir: string): boolean {
  try { accessSync(dir, constants.R_OK | constants.X_OK); return true; } catch { return false; }
}

function modeOf(dir: string): number {
  try { return statSync(dir).mode & 0o7777; } catch { return 0o700; }
}

/** Whether this user may search `dir`; a dir that cannot be looked at is taken as searchable (left as it was). */
export function searchableDir(dir: string): boolean {
  try { accessSync(dir, constants.X_OK); return true; } catch (e) { return (e as NodeJS.ErrnoException).code !== 'EACCES'; }
}

/**
 * Whether `dir` holds no entry; one that cannot be listed is not taken for empty. Asked of each
 * tree of an ordinary user's view: a directory's link count is 2 plus its subdirectories on
 * most filesystems (1 on btrfs), so one over 2 answers with one lstat; a small one is listed
 * whole; only a big one without subdirectories is opened as a Dir (whose set-up cost ~0.15 ms
 * a tree: 2.2 ms for the 14 trees here, 0.5 this way).
 */
export function emptyDir(dir: string): boolean {
  try {
    // Not a directory to lstat (missing, a file, a symlink): opendir answers, as it always did.
    const st = dirStat(dir);
    if (st && st.nlink > 2) return false;
    if (st && st.size <= 4096) return readdirSync(dir).length === 0;
    const d = opendirSync(dir);
    try { return d.readSync() === null; } finally { d.closeSync(); }
  } catch {
    return false;
  }
}

/**
 * fuse-overlayfs's options. squash_to_root, allow_other, default_permissions: host files look
 * root's inside and the kernel checks permissions on that view. ACLs are on (no noacl since
 * 2026-12-02): with noacl an ACL could not be set in a system tree (EOPNOTSUPP) and `cp -a` or
 * tar dropped the host's without a word, where root keeps them; with them the requests per
 * file stayed 6.02 writing 2,000 files and 3.76 reading 2,000 (the tracepoint below): the
 * command is root inside and owns every file, so the kernel never asks for an ACL to decide.
 * static_nlink: a directory's link count is 1 ("unknown", as on btrfs) instead of counted:
 * without it every stat of a directory walks all its entries and every lookup of one
 * re-reads it, so writing n files into one directory costs O(n²) (measured: docs/architecture.md).
 *
 * Since 2026-12-03 a new sandbox's daemons take no writes: each system tree is a kernel overlay
 * whose lower is the tree as a read-only daemon shows it (Layer's `fuseLower`), and a small
 * write in /opt costs 0.1 round trips to the daemon, 0.96× a kernel overlay of the user's own
 * (`npm run bench -- rootview`). What follows is what the daemon cost when it took the writes
 * (a sandbox saved before still runs so). A small write (`echo $i > f$i` into a new dir of
 * /opt as sbxtest, requests counted with the kernel's fuse:fuse_request_send tracepoint, 2000
 * files, 2026-12-01): 6 round trips to the daemon per file. GETATTR of the dir: the create
 * invalidated its attributes and default_permissions re-reads them before the next permission
 * check. LOOKUP
 * (negative), CREATE. GETXATTR security.capability: the kernel asks before every write and
 * caches no answer but ENOSYS. WRITE: the writeback cache flushed at close. RELEASE. And,
 * while other processes on the machine take fine-grained timestamps (the kernel's multigrain
 * floor is global), a SETATTR per file carrying the mtime the kernel set on the write (0 or
 * ~1 per file, depending on the run). Only noxattrs=1 removes one of them (GETXATTR, answered
 * ENOSYS: 5.0 per file, 0.97× the wall time in 10 alternating pairs at load 2-2.5), and it
 * would make setcap and setfattr fail in system trees and hide the host's xattrs: not passed. The others are the kernel's, whatever the
 * daemon answers (writeback=0 would drop the SETATTR, at the price below).
 * Measured and not passed (fuse-overlayfs 1.10): threaded=1 was slower in 4 runs of 4 (3.6-6.7 s
 * against 2.1-3.9 s for 10,000 files, load 5.5-6); writeback=0 kept the 6 requests and made a
 * 128 MiB file written in 4 KiB pieces 1.5× slower (one round trip per write(2)); timeout=0
 * made 9 requests per file (the default caches entries and attributes for 10⁹ s already);
 * clone_fd and max_threads changed nothing (6.0 per file), nor can -s: they configure
 * libfuse's multi-threaded loop, which 1.10 runs only with threaded=1; xattr_permissions=2 kept 6
 * requests but took 35 daemon syscalls per file instead of 25 (strace -c); fast_ino=1 was ~10%
 * faster but changes behaviour: nodes then take the directory entry's inode number with no
 * device, so a file of the upper layer and one of the lower with the same number would be
 * taken for one inode (hard links that are not).
 */
export const FUSE_OPTIONS = 'squash_to_root,allow_other,default_permissions,static_nlink';

/**
 * The options of a run's daemons. Like the kernel overlays (`volatile`, sandbox.ts viewOps),
 * fuse layers skip fsync: fuse-overlayfs's `volatile` answers the first FSYNC with ENOSYS and
 * the kernel sends no more (dpkg --refuse-unsafe-io -i of 1,000 files: 23.1 requests per
 * file, 22.0 with it). A throwaway run's layers are deleted after it; a saved run's are
 * synced once when the command ended.
 */
export const FUSE_RUN_OPTIONS = `${FUSE_OPTIONS},volatile`;

export function fuseAvailable(which: (cmd: string) => string | null): string | null {
  return fuseProblem(which) ? null : which('fuse-overlayfs');
}
