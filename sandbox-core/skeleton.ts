// Skeleton directories (those holding mount points, `/` first of all) cannot be overlaid with
// the host directory as the lower layer: in a user namespace the kernel refuses a lower layer
// with locked mounts below it. So sbx builds a copy-less stand-in for each of them, a tree of
// empty directories, symlinks and empty files with the host's names, modes and owners, and
// mounts an overlay on it with its own upper layer. New entries then land in an upper that the
// change walker reads like any other layer, and the host's mounts are placed on top after.
import { chmodSync, closeSync, constants, fstatSync, lchownSync, lstatSync, mkdirSync, openSync, readFileSync, symlinkSync, utimesSync, writeFileSync, type Stats } from 'node:fs';
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
  const like = (host: string, at: string, fallbackMode: number): void => {
    let st;
    // `seen`: what the planner's lstat of the same path found a moment ago.
    try { st = seen?.get(host) ?? lstatSync(host); } catch {
      if (!lstatSync(at).isSymbolicLink()) chmodSync(at, fallbackMode);
      return;
    }
    if (!st.isSymbolicLink()) chmodSync(at, st.mode & 0o7777);
    // In a user namespace of our own, root's ids may not be mapped (EINVAL): then the
    // stand-in keeps ours, as for an ordinary user.
    if (chown) {
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
        if (how === 'copied') copied.add(u.path);
        // Otherwise the host file is bound read-only on top of this empty stand-in.
        else closeSync(openSync(at, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600));
        like(u.path, at, 0o644);
        break;
      }
      default:
        mkdirSync(at, { mode: 0o700 });
        like(u.path, at, 0o755);
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

/** 'gone': the file vanished since the plan listed it (a busy /tmp), so it is left out. */
function copyFile(host: string, at: string, budget: { bytes: number }): 'copied' | 'bind' | 'gone' {
  let fd: number;
  try { fd = openSync(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK); } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'bind';
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > COPY_EACH || st.size > budget.bytes) return 'bind';
    const data = readFileSync(fd);
    budget.bytes -= data.length;
    const out = openSync(at, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
    try { writeFileSync(out, data); } finally { closeSync(out); }
    return 'copied';
  } catch {
    return 'bind';
  } finally {
    closeSync(fd);
  }
}
