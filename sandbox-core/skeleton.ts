// Skeleton directories (those holding mount points, `/` first of all) cannot be overlaid with
// the host directory as the lower layer: in a user namespace the kernel refuses a lower layer
// with locked mounts below it. So sbx builds a copy-less stand-in for each of them, a tree of
// empty directories, symlinks and empty files with the host's names, modes and owners, and
// mounts an overlay on it with its own upper layer. New entries then land in an upper that the
// change walker reads like any other layer, and the host's mounts are placed on top after.
import { chmodSync, closeSync, constants, fstatSync, lchownSync, lstatSync, mkdirSync, openSync, readSync, symlinkSync, utimesSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EngineUnit } from './engines.js';
import { entryOp, type EntryAttrs } from './layer-dirs.js';
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
 * before the view is built: Node pays ~15-25 us per fs call, the helper 1-2 us.
 */
export function buildSkeletonTree(units: EngineUnit[], root: string, chown: boolean, seen?: ReadonlyMap<string, Stats>, helper?: SkeletonByHelper): { copied: Set<string>; gone: Set<string> } {
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
  const attrsOf = (host: string, link: boolean, fallbackMode: number): EntryAttrs => {
    let st;
    // `seen`: what the planner's lstat of the same path found a moment ago.
    try { st = seen?.get(host) ?? lstatSync(host); } catch { return link ? {} : { mode: fallbackMode }; }
    return standInAttrs(st, link, chown, made);
  };
  // Owner, then mode, then times: a chown clears a file's setuid and setgid bits (even root's,
  // even to the same ids), so the mode comes after it.
  const apply = (a: EntryAttrs, at: string): void => {
    // In a user namespace of our own, root's ids may not be mapped (EINVAL): then the
    // stand-in keeps ours, as for an ordinary user.
    if (a.owner) {
      try { lchownSync(at, a.owner.uid, a.owner.gid); } catch (e) { const c = (e as NodeJS.ErrnoException).code; if (c !== 'EINVAL' && c !== 'EPERM') throw e; }
    }
    if (a.mode !== undefined) chmodSync(at, a.mode);
    if (a.times) utimesSync(at, a.times.atime, a.times.mtime);
  };
  const forHelper = (a: EntryAttrs): EntryAttrs => (a.owner ? { ...a, flags: ['owner-optional'] } : a);
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
        apply(attrsOf(u.path, true, 0o777), at);
        break;
      case 'ro-bind': {
        const how = u.reason === 'file-in-split-dir' ? copyFile(u.path, at, budget) : 'bind';
        if (how === 'gone') { gone.add(u.path); break; }
        if (typeof how === 'object') {
          copied.add(u.path);
          // The copy takes the stat of the very file it read (opened without following).
          apply(standInAttrs(how, false, chown, made), at);
          break;
        }
        // Otherwise the host file is bound read-only on top of this empty stand-in.
        closeSync(openSync(at, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600));
        apply(attrsOf(u.path, false, 0o644), at);
        break;
      }
      default:
        mkdirSync(at, { mode: 0o700 });
        // A skeleton's own stand-in is done below, once its entries are in it (making them
        // changes its times).
        if (u.kind !== 'skeleton') apply(attrsOf(u.path, false, 0o755), at);
    }
  }
  // The skeleton dirs themselves: their mode inside comes from their upper's root, but a
  // lower dir that root inside cannot search would hide the mounts below it.
  for (const u of units) {
    if (u.kind !== 'skeleton') continue;
    if (helper) helper.entries.push(entryOp('dir-attrs', skeletonPath(helper.rel, u.path), forHelper(attrsOf(u.path, false, 0o755))));
    else apply(attrsOf(u.path, false, 0o755), skeletonPath(root, u.path));
  }
  return { copied, gone };
}

/**
 * What a stand-in takes from its host entry's stat: the mode and times (not for a symlink,
 * made or found), and, when sbx is root, the owner, unless the stand-in is made with those
 * ids anyway (`made`).
 */
function standInAttrs(st: Stats, link: boolean, chown: boolean, made: { uid: number; gid: number } | null): EntryAttrs {
  const plain = !link && !st.isSymbolicLink();
  const a: EntryAttrs = {};
  if (plain) a.mode = st.mode & 0o7777;
  if (chown && !(made && st.uid === made.uid && st.gid === made.gid)) a.owner = { uid: st.uid, gid: st.gid };
  // Seconds as numbers: the Date objects of st.atime/st.mtime are made on first use.
  if (plain) a.times = { atime: st.atimeMs / 1000, mtime: st.mtimeMs / 1000 };
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
 * The copied file's stat (of the file read), or 'gone': the file vanished since the plan
 * listed it (a busy /tmp), so it is left out.
 */
function copyFile(host: string, at: string, budget: { bytes: number }): Stats | 'bind' | 'gone' {
  let fd: number;
  try { fd = openSync(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK); } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'bind';
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > COPY_EACH || st.size > budget.bytes) return 'bind';
    // Read to the size just taken (readFileSync would fstat again); a file that grew since is
    // copied as it was then, one that shrank as far as it goes.
    const data = Buffer.allocUnsafe(st.size);
    let n = 0;
    for (let r; n < data.length && (r = readSync(fd, data, n, data.length - n, n)) > 0;) n += r;
    budget.bytes -= n;
    const out = openSync(at, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
    try { if (n) writeFileSync(out, data.subarray(0, n)); } finally { closeSync(out); }
    return st;
  } catch {
    return 'bind';
  } finally {
    closeSync(fd);
  }
}
