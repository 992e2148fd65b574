// Skeleton directories (those holding mount points, `/` first of all) cannot be overlaid with
// the host directory as the lower layer: in a user namespace the kernel refuses a lower layer
// with locked mounts below it. So sbx builds a copy-less stand-in for each of them, a tree of
// empty directories, symlinks and empty files with the host's names, modes and owners, and
// mounts an overlay on it with its own upper layer. New entries then land in an upper that the
// change walker reads like any other layer, and the host's mounts are placed on top after.
import { chmodSync, closeSync, constants, fstatSync, lchownSync, lstatSync, mkdirSync, openSync, readSync, symlinkSync, utimesSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EngineUnit } from './engines.js';
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
 * (Re)builds the stand-in tree at `root`. `chown` (root only) gives each entry the host's
 * owner, so an idmapped lower layer shows it as the host does; an ordinary user's entries are
 * theirs, which is root inside.
 */
export function buildSkeletonTree(units: EngineUnit[], root: string, chown: boolean, seen?: ReadonlyMap<string, Stats>): { copied: Set<string>; gone: Set<string> } {
  const copied = new Set<string>(), gone = new Set<string>();
  const budget = { bytes: COPY_TOTAL };
  removeTree(root);
  mkdirSync(root, { mode: 0o700 });
  // What an entry made here is owned by: our ids, the group of its directory when that is
  // setgid. Only the root can be (it inherits that from where it is); the stand-ins of
  // skeleton dirs, the only ones that get entries, take the host's mode after those are
  // made. So outside a setgid root, an entry whose host ids are ours needs no lchown.
  const made = chown && !(lstatSync(root).mode & 0o2000) ? { uid: process.geteuid!(), gid: process.getegid!() } : null;
  const like = (host: string, at: string, fallbackMode: number): void => {
    let st;
    // `seen`: what the planner's lstat of the same path found a moment ago.
    try { st = seen?.get(host) ?? lstatSync(host); } catch {
      if (!lstatSync(at).isSymbolicLink()) chmodSync(at, fallbackMode);
      return;
    }
    likeStat(st, at);
  };
  const likeStat = (st: Stats, at: string): void => {
    if (!st.isSymbolicLink()) chmodSync(at, st.mode & 0o7777);
    // In a user namespace of our own, root's ids may not be mapped (EINVAL): then the
    // stand-in keeps ours, as for an ordinary user.
    if (chown && !(made && st.uid === made.uid && st.gid === made.gid)) {
      try { lchownSync(at, st.uid, st.gid); } catch (e) { const c = (e as NodeJS.ErrnoException).code; if (c !== 'EINVAL' && c !== 'EPERM') throw e; }
    }
    if (!st.isSymbolicLink()) utimesSync(at, st.atimeMs / 1000, st.mtimeMs / 1000);
  };
  for (const u of skeletonChildren(units)) {
    const at = skeletonPath(root, u.path);
    switch (u.kind) {
      case 'symlink':
        symlinkSync(u.target, at);
        like(u.path, at, 0o777);
        break;
      case 'ro-bind': {
        const how = u.reason === 'file-in-split-dir' ? copyFile(u.path, at, budget) : 'bind';
        if (how === 'gone') { gone.add(u.path); break; }
        if (typeof how === 'object') {
          copied.add(u.path);
          // The copy takes the stat of the very file it read (opened without following).
          likeStat(how, at);
          break;
        }
        // Otherwise the host file is bound read-only on top of this empty stand-in.
        closeSync(openSync(at, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600));
        like(u.path, at, 0o644);
        break;
      }
      default:
        mkdirSync(at, { mode: 0o700 });
        // A skeleton's own stand-in is done below, once its entries are in it (making them
        // changes its times).
        if (u.kind !== 'skeleton') like(u.path, at, 0o755);
    }
  }
  // The skeleton dirs themselves: their mode inside comes from their upper's root, but a
  // lower dir that root inside cannot search would hide the mounts below it.
  for (const u of units) if (u.kind === 'skeleton') like(u.path, skeletonPath(root, u.path), 0o755);
  return { copied, gone };
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
