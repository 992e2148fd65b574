// Which filesystem a commit would write to, against the one the sandbox's layer stood for.
//
// Each layer of a sandbox is one host tree on one mount: the view is planned so that no mount
// lies below a layer's tree (an ordinary user's) or each mount below it is a layer of its own
// (root's). A mount made on the host after the run (a tmpfs on a dir the command wrote into,
// a bind of another tree there) leaves the change list's paths the same, and the commit's own
// scan sees the new filesystem as the host: every check passed and the files went into it, a
// filesystem the review never showed (or, bound from elsewhere, a tree it never named). So
// each dir a change is written in (its parent, and a host dir it changes itself) must be on
// the mount its layer's tree is on: read from an fd opened below `/` without following a
// symlink (fsat.ts), its mount id from /proc/self/fdinfo, once per dir. Nothing here is read
// from meta.json but the layers' paths and their host dirs' records (hostDir), and a path that
// names no layer refuses nothing more than a real one would: a wrong record can only compare a
// dir with the mount of another dir, or refuse a tree's changes. The trees' mounts read here
// are the commit's fences while it writes (changes/fsat.ts setFences): a filesystem mounted
// after this plan meets those, in Node and in the helper.
import { fstatSync, readFileSync, statfsSync } from 'node:fs';
import { fdinfoField } from '../base/fdinfo.js';
import { parseMountInfo } from '../mountinfo.js';
import type { Change } from '../changes/types.js';
import type { Layer } from '../types.js';
import { dirAt, type Fence } from '../changes/fsat.js';
import { NotBeneathError } from '../beneath.js';
import { display, fromUser, parentB } from '../base/bpath.js';
import { isWithin } from '../base/within.js';

/** The mount an open fd is on (`mnt_id` of proc(5)'s fdinfo): unlike st_dev, a bind mount of the same filesystem differs. */
export const mountIdOfFd = (fd: number): number => fdinfoField(fd, 'mnt_id');

/**
 * An fd of host dir `p` (byte string), opened below `/` without following a symlink, or null
 * when it is not there as a dir (missing, or a file or symlink in its place or on the way: the
 * commit makes the dir, or refuses, itself).
 */
function hostDirFd(p: string): number | null {
  try { return dirAt(p).fd; } catch (e) {
    if (e instanceof NotBeneathError || (e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
}

/** The mount of host dir `p`, or null when it is not there as a dir (hostDirFd). */
function mountOf(p: string): number | null {
  const fd = hostDirFd(p);
  return fd === null ? null : mountIdOfFd(fd);
}

/** The mount points of this mount namespace now, as byte strings (mountinfo's octal escapes undone). */
function hostMountPoints(): string[] {
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'latin1')).map((m) => m.mountPoint);
}

const text = display;

/**
 * A filesystem with no birth times whose size (statfs blocks and inodes) is not the recorded
 * one: another on the same device and root inode (a USB stick swapped for another).
 */
function otherSize(fd: number, want: NonNullable<Layer['hostDir']>): boolean {
  if (want.blocks === undefined || want.files === undefined) return false;
  const fs = statfsSync(`/proc/self/fd/${fd}`);
  return fs.blocks !== want.blocks || fs.files !== want.files;
}

export interface MountGuard {
  check: (c: Change) => string | null;
  /** The trees of the layers `check` was asked about (their changes), each with its mount then: the commit's fences. */
  fences: () => readonly Fence[];
}

/**
 * `check` answers, for a change, why it would be written on another filesystem than
 * its layer's (naming the mount point), or null. Answers are kept per dir.
 */
export function mountGuard(layers: readonly Layer[], mountPoints: readonly string[] = hostMountPoints()): MountGuard {
  const targets = [...new Set(layers.map((l) => fromUser(l.target)))];
  // Every mount point on the way to a layer's tree was one at the run (a layer's own, or a
  // skeleton's: plan.ts splits a dir holding a mount into layers). Only a dir below one of
  // the others can be on a mount its layer's tree is not on; the rest need no syscall.
  const others = mountPoints.filter((m) => !targets.some((t) => isWithin(t, m)));
  const byDir = new Map<string, string | null>();
  const mountAt = new Map<string, number | null>();
  const cachedMount = (p: string): number | null => {
    let m = mountAt.get(p);
    if (m === undefined) mountAt.set(p, (m = mountOf(p)));
    return m;
  };
  const layerOf = (p: string): string | null => {
    let best: string | null = null;
    for (const t of targets) if (isWithin(p, t) && (best === null || t.length > best.length)) best = t;
    return best;
  };
  const checkDir = (dir: string): string | null => {
    const known = byDir.get(dir);
    if (known !== undefined) return known;
    if (!others.some((m) => isWithin(dir, m))) return null;
    let why: string | null = null;
    try {
      // A dir the host lacks is made by the commit on its nearest existing ancestor's mount.
      let at = dir;
      let m = cachedMount(at);
      while (m === null && at !== '/') { at = parentB(at); m = cachedMount(at); }
      const top = layerOf(at);
      const want = top === null ? null : cachedMount(top);
      if (m !== null && want !== null && m !== want) {
        // Name the mount point: the highest dir on the way up from `at` still on the other mount.
        let point = at;
        while (point !== top) {
          const up = parentB(point);
          if (cachedMount(up) !== m) break;
          point = up;
        }
        why = `a filesystem was mounted on ${text(point)} after the sandbox ran, which the review never showed: unmount it and commit again (or discard the sandbox)`;
      }
    } catch (e) {
      why = `cannot tell which filesystem ${text(dir)} is on (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): not written`;
    }
    byDir.set(dir, why);
    return why;
  };
  // A layer's own tree is still the dir it was made over: a filesystem mounted exactly on it
  // since (a tmpfs on /opt, /var/tmp mounted anew) passes every check above, which compare
  // with the tree's mount as it is now. Read per layer, once; the mount read from the same fd
  // is the tree's fence while the commit writes (a filesystem mounted during it, fsat.ts).
  const recorded = new Map<string, Layer['hostDir']>();
  for (const l of layers) if (l.hostDir) recorded.set(fromUser(l.target), l.hostDir);
  const treeMoved = new Map<string, string | null>();
  const fences: Fence[] = [];
  const moved = (top: string): string | null => {
    let why = treeMoved.get(top);
    if (why !== undefined) return why;
    why = null;
    const want = recorded.get(top);
    try {
      // Gone, or a symlink in its place (null): the commit's own checks refuse or make it.
      const fd = hostDirFd(top);
      if (fd !== null) {
        // One reading of the tree's mount: its fence, and what checkDir compares its dirs with.
        const mnt = mountIdOfFd(fd);
        mountAt.set(top, mnt);
        fences.push({ path: top, mnt });
      }
      const st = fd === null || !want ? null : fstatSync(fd);
      if (want && st && (st.dev !== want.dev || st.ino !== want.ino || st.birthtimeMs !== want.birthMs)) why = `${text(top)} is no longer the directory the sandbox ran over (a filesystem was mounted on it, or it was made anew, after the run), which the review never showed: unmount it and commit again (or discard the sandbox)`;
      else if (want && st && otherSize(fd!, want)) why = `${text(top)} is on a filesystem of another size than the one the sandbox ran over (another disk in the same place, or this one resized, after the run), which the review never showed: mount that one there again and commit again (or discard the sandbox)`;
    } catch (e) {
      why = `cannot tell whether ${text(top)} is still the directory the sandbox ran over (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): not written`;
    }
    treeMoved.set(top, why);
    return why;
  };
  const check = (c: Change): string | null => {
    if (c.path === '/') return null;
    const top = layerOf(c.path);
    const tree = top === null ? null : moved(top);
    if (tree) return tree;
    const parent = checkDir(parentB(c.path));
    if (parent) return parent;
    // A host dir the change keeps (its mode, owner, times; an opaque dir's new content) is
    // written in itself: a mount on it is as foreign as one on its parent.
    return c.host?.type === 'dir' ? checkDir(c.path) : null;
  };
  return { check, fences: () => fences };
}
