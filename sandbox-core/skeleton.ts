// Skeleton directories (those holding mount points, `/` first of all) cannot be overlaid with
// the host directory as the lower layer: in a user namespace the kernel refuses a lower layer
// with locked mounts below it. So sbx builds a copy-less stand-in for each of them, a tree of
// empty directories, symlinks and empty files with the host's names, modes and owners, and
// mounts an overlay on it with its own upper layer. New entries then land in an upper that the
// change walker reads like any other layer, and the host's mounts are placed on top after.
import { chmodSync, closeSync, constants, fstatSync, lchownSync, lstatSync, mkdirSync, openSync, readSync, symlinkSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EngineUnit } from './engines.js';
import { entryOp, type EntryAttrs, type LayerTimes } from './layer-dirs.js';
import { exactTimes, fromNs, timesOfMs, type ExactTimes } from './base/dir-stat.js';
import type { SpecOp } from './spec.js';
import { removeTree } from './store.js';

/** Where the stand-in of host path `p` lives under `root`. */
export function skeletonPath(root: string, p: string): string {
  if (p === '/') return root;
  // The planner's paths are normalized: concatenated, without join's normalizing garbage
  // (a run asks this for every unit, twice). Anything else goes through join.
  return p.charCodeAt(0) === 47 && !p.includes('//') && !p.includes('/.') && p.charCodeAt(p.length - 1) !== 47 ? root + p : join(root, p);
}

/** Units whose parent directory is a skeleton: they need an entry in the stand-in tree. */
export function skeletonChildren(units: EngineUnit[]): EngineUnit[] {
  const skeletons = new Set(units.filter((u) => u.kind === 'skeleton').map((u) => u.path));
  return units.filter((u) => u.path !== '/' && skeletons.has(dirname(u.path)));
}

/**
 * A fresh run's stand-in tree made by the helper (native/entries.c): `entries` receives the
 * `entry` ops, paths at `rel` below the layers dir. `setgidParent`: the layers dir is setgid,
 * so the tree's root will be, and its entries get its group.
 */
export interface SkeletonByHelper { entries: SpecOp[]; rel: string; setgidParent: boolean }

const copiesFile = (u: EngineUnit): boolean => u.kind === 'ro-bind' && u.reason === 'file-in-split-dir';

/**
 * (Re)builds the stand-in tree at `root`. `chown` (root only) gives each entry the host's
 * owner, so an idmapped lower layer shows it as the host does; an ordinary user's entries are
 * theirs, which is root inside. With `helper` (a fresh run's tree) sbx makes only the files it
 * copies (it reads them anyway) and the dirs on their way; every other entry, with the mode,
 * owner and times it would get here, is listed for the helper, which makes them in this order
 * before the view is built: Node pays ~15-25 us per fs call, the helper 1-2 us. The times of
 * what sbx makes itself go to `times` (`rel`: `root` below the layers dir), which its caller
 * sets with the rest of the layers' once all is made.
 */
export function buildSkeletonTree(units: EngineUnit[], root: string, chown: boolean, seen: ReadonlyMap<string, Stats> | undefined, helper: SkeletonByHelper | undefined, times: { to: LayerTimes; rel: string }): { copied: Set<string>; gone: Set<string> } {
  const copied = new Set<string>(), gone = new Set<string>();
  if (!helper) removeTree(root);
  // A view planned whole (root's, plan.ts) has no skeleton dir: no stand-in tree either.
  if (!units.some((u) => u.kind === 'skeleton')) return { copied, gone };
  const budget = { bytes: COPY_TOTAL };
  const children = skeletonChildren(units);
  // With `helper`: the skeleton dirs that hold a file sbx copies, and those above them.
  const ownDirs = new Set<string>();
  if (helper) for (const u of children) if (copiesFile(u)) for (let d = dirname(u.path); d !== '/' && !ownDirs.has(d); d = dirname(d)) ownDirs.add(d);
  const rootByNode = !helper || children.some(copiesFile);
  if (rootByNode) mkdirSync(root, { mode: 0o700 });
  else helper!.entries.push(entryOp('dir', helper!.rel));
  // What an entry made here is owned by: our ids, the group of its directory when that is
  // setgid. Only the root can be (it inherits that from where it is); the stand-ins of
  // skeleton dirs, the only ones that get entries, take the host's mode after those are
  // made. So outside a setgid root, an entry whose host ids are ours needs no lchown.
  const setgid = helper ? helper.setgidParent : chown && (lstatSync(root).mode & 0o2000) !== 0;
  const made = chown && !setgid ? { uid: process.geteuid!(), gid: process.getegid!() } : null;
  // `link`: the stand-in made is a symlink, whatever the host's entry is by now: chmod and
  // utimes would follow it (to its target, a host path), so it only gets an owner (lchown).
  // Null: the host's entry is gone; then a non-link gets fallbackMode.
  // `shown`: a skeleton dir's own stand-in, which the command sees, takes the host's times
  // exactly (one more lstat); the others are under the mount or bind made on them, and keep
  // the times of the planner's lstat, to the microsecond.
  const attrsOf = (host: string, link: boolean, fallbackMode: number, shown = false): EntryAttrs => {
    let st;
    // `seen`: what the planner's lstat of the same path found a moment ago.
    try { st = seen?.get(host) ?? lstatSync(host); } catch { return link ? {} : { mode: fallbackMode }; }
    return standInAttrs(st, link, chown, made, shown ? host : timesOfMs(st));
  };
  const forHelper = (a: EntryAttrs): EntryAttrs => (a.owner ? { ...a, flags: ['owner-optional'] } : a);
  // Owner, then mode, then times: a chown clears a file's setuid and setgid bits (even root's,
  // even to the same ids), so the mode comes after it.
  const apply = (a: EntryAttrs, at: string, host: string, kind: 'dir' | 'file' | 'symlink'): void => {
    // What sbx made itself in a tree the helper makes the rest of: the helper sets it all too,
    // exactly and after every entry is in (a dir's times), at no extra start of the helper.
    if (helper && kind !== 'symlink') {
      helper.entries.push(entryOp(kind === 'dir' ? 'dir-attrs' : 'file-attrs', skeletonPath(helper.rel, host), forHelper(a)));
      return;
    }
    // In a user namespace of our own, root's ids may not be mapped (EINVAL): then the
    // stand-in keeps ours, as for an ordinary user.
    if (a.owner) {
      try { lchownSync(at, a.owner.uid, a.owner.gid); } catch (e) { const c = (e as NodeJS.ErrnoException).code; if (c !== 'EINVAL' && c !== 'EPERM') throw e; }
    }
    if (a.mode !== undefined) chmodSync(at, a.mode);
    // Set with the others once all is made (an entry made in a dir moves its mtime), exactly.
    if (a.times) times.to.addPath(at, skeletonPath(times.rel, host), a.times);
  };
  for (const u of children) {
    if (helper && !copiesFile(u) && !ownDirs.has(u.path)) {
      const rel = skeletonPath(helper.rel, u.path);
      if (u.kind === 'symlink') helper.entries.push(entryOp('symlink', rel, forHelper(attrsOf(u.path, true, 0o777)), u.target));
      else if (u.kind === 'ro-bind') helper.entries.push(entryOp('file', rel, forHelper(attrsOf(u.path, false, 0o644))));
      // A skeleton's own stand-in gets its mode and times last, once its entries are in it.
      else helper.entries.push(entryOp('dir', rel, u.kind === 'skeleton' ? {} : forHelper(attrsOf(u.path, false, 0o755))));
      continue;
    }
    const at = skeletonPath(root, u.path);
    switch (u.kind) {
      case 'symlink':
        symlinkSync(u.target, at);
        apply(attrsOf(u.path, true, 0o777), at, u.path, 'symlink');
        break;
      case 'ro-bind': {
        const how = u.reason === 'file-in-split-dir' ? copyFile(u.path, at, budget) : 'bind';
        if (how === 'gone') { gone.add(u.path); break; }
        if (typeof how === 'object') {
          copied.add(u.path);
          // The copy takes the stat of the very file it read (opened without following).
          apply(standInAttrs(how.st, false, chown, made, how.times), at, u.path, 'file');
          break;
        }
        // Otherwise the host file is bound read-only on top of this empty stand-in.
        closeSync(openSync(at, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600));
        apply(attrsOf(u.path, false, 0o644), at, u.path, 'file');
        break;
      }
      default:
        mkdirSync(at, { mode: 0o700 });
        // A skeleton's own stand-in is done below, once its entries are in it (making them
        // changes its times).
        if (u.kind !== 'skeleton') apply(attrsOf(u.path, false, 0o755), at, u.path, 'dir');
    }
  }
  // The skeleton dirs themselves: their mode inside comes from their upper's root, but a
  // lower dir that root inside cannot search would hide the mounts below it.
  for (const u of units) {
    if (u.kind !== 'skeleton') continue;
    if (helper) helper.entries.push(entryOp('dir-attrs', skeletonPath(helper.rel, u.path), forHelper(attrsOf(u.path, false, 0o755, true))));
    else apply(attrsOf(u.path, false, 0o755, true), skeletonPath(root, u.path), u.path, 'dir');
  }
  return { copied, gone };
}

/**
 * What a stand-in takes from its host entry's stat: the mode and times (not for a symlink,
 * made or found), and, when sbx is root, the owner, unless the stand-in is made with those
 * ids anyway (`made`).
 */
/** What standInAttrs reads of a host entry's stat. */
type StandInStat = Pick<Stats, 'mode' | 'uid' | 'gid' | 'isSymbolicLink'>;

function standInAttrs(st: StandInStat, link: boolean, chown: boolean, made: { uid: number; gid: number } | null, host: string | ExactTimes): EntryAttrs {
  const plain = !link && !st.isSymbolicLink();
  const a: EntryAttrs = {};
  if (plain) a.mode = st.mode & 0o7777;
  if (chown && !(made && st.uid === made.uid && st.gid === made.gid)) a.owner = { uid: st.uid, gid: st.gid };
  // Stats' doubles of ms lose the last ns (and utimes a time before 1970): the host's own,
  // looked up now (`st` may be the planner's); none when the entry is gone since, as above.
  if (plain && typeof host !== 'string') a.times = host;
  else if (plain && typeof host === 'string') try { a.times = exactTimes(host); } catch { /* gone: left as made */ }
  return a;
}

/**
 * Plain files beside mount points (`/run/utmp`, a stray `/notes.txt`) become real lower files
 * of the skeleton's overlay: a copy, so they can be written, renamed and deleted like any file.
 * Files too big to copy on every run, or unreadable to us, stay bound read-only (announced).
 */
export const COPY_EACH = 1 << 20;
const COPY_TOTAL = 16 << 20;

/**
 * The copied file's stat and times (of the file read, before it was read), or 'gone': the file vanished since the plan
 * listed it (a busy /tmp), so it is left out.
 */
function copyFile(host: string, at: string, budget: { bytes: number }): { st: StandInStat; times: ExactTimes } | 'bind' | 'gone' {
  let fd: number;
  // O_NOATIME where we may (our own file, or CAP_FOWNER): the read would move the host's atime
  // (relatime), which the next run's copy, and the host, would then show.
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  try {
    try { fd = openSync(host, flags | constants.O_NOATIME); } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
      fd = openSync(host, flags);
    }
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'bind';
  }
  try {
    // One fstat, in ns: Stats' doubles of ms lose the last ns of the times.
    const big = fstatSync(fd, { bigint: true });
    const size = Number(big.size);
    if (!big.isFile() || size > COPY_EACH || size > budget.bytes) return 'bind';
    const st: StandInStat = { mode: Number(big.mode), uid: Number(big.uid), gid: Number(big.gid), isSymbolicLink: () => false };
    const times = { atime: fromNs(big.atimeNs), mtime: fromNs(big.mtimeNs) };
    // Read to the size just taken (readFileSync would fstat again); a file that grew since is
    // copied as it was then, one that shrank as far as it goes.
    const data = Buffer.allocUnsafe(size);
    let n = 0;
    for (let r; n < data.length && (r = readSync(fd, data, n, data.length - n, n)) > 0;) n += r;
    budget.bytes -= n;
    const out = openSync(at, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
    try { if (n) writeFileSync(out, data.subarray(0, n)); } finally { closeSync(out); }
    return { st, times };
  } catch {
    return 'bind';
  } finally {
    closeSync(fd);
  }
}
