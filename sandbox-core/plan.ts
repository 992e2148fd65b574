// Plans the sandbox's filesystem view from the host's mount table. An overlay of `/` alone
// fails in a user namespace (its sub-mounts are locked), so every directory that has no mount
// below it becomes its own overlay, and directories that contain mount points become read-only
// skeleton directories holding those overlays (or, for an ordinary user with fuse-overlayfs,
// overlays of the daemon's view of them, `/` itself first: `throughFuse`). Root builds the view outside any user
// namespace (`whole`): there each mount is one overlay whose lower layer is that mount alone
// (the helper's idmapped clone of it takes no sub-mount), the mounts below it placed on top,
// so `/` is one overlay and not ~20 (each a few inodes made and removed by the kernel's
// checks: ~0.8 ms on a disk here), and a rename between top-level dirs is no EXDEV. The plan
// is pure data; the helper applies it.
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PSEUDO_FS, type MountEntry } from './mountinfo.js';
import { isBelow } from './base/within.js';
import { codeUnitOrder } from './base/code-order.js';

/** Read access to the host tree, injectable so planning can be unit-tested on any tree. */
export interface HostFs {
  list(dir: string): Array<{ name: string; kind: 'dir' | 'file' | 'symlink' | 'other' }>;
  mode(path: string): number;
  readlink(path: string): string;
}

export const realHostFs: HostFs = {
  list(dir) {
    return readdirSync(dir, { withFileTypes: true }).map((d) => ({
      name: d.name,
      kind: d.isDirectory() ? 'dir' : d.isSymbolicLink() ? 'symlink' : d.isFile() ? 'file' : 'other',
    }));
  },
  mode(path) {
    return lstatSync(path).mode & 0o7777;
  },
  readlink(path) {
    return readlinkSync(path);
  },
};

export type ViewUnit =
  // `holdsMounts`: a dir with mounts below it, overlaid whole through the read-only
  // fuse-overlayfs daemon's view of it (planView's `throughFuse`), those mounts on top.
  | { kind: 'overlay'; path: string; holdsMounts?: true }
  // `unsearchable`: not a dir holding mounts but a tree the user may not search on the host,
  // shown as an empty stand-in (engines.ts assignEngines).
  | { kind: 'skeleton'; path: string; mode: number; unsearchable?: true }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'ro-bind'; path: string; reason: 'file-in-split-dir' | 'file-mount' }
  | { kind: 'special'; path: '/proc' | '/sys' | '/dev' }
  | { kind: 'unavailable'; path: string; reason: string };

export const SPECIAL_PATHS = ['/proc', '/sys', '/dev'] as const;

export interface PlanOptions {
  /** Root's view, built outside any user namespace: `/` and each mount one overlay. */
  whole?: boolean;
  /**
   * Whether a dir with mounts below it, `/` first, can be one overlay over the read-only
   * fuse-overlayfs daemon's view of it (an ordinary user's, with that daemon; sandbox.ts says
   * when): else it is a skeleton, as every one was before 2026-12-07 and `/` before 2026-12-07's
   * s80 (a rename between top-level dirs was EXDEV).
   */
  throughFuse?: (dir: string) => boolean;
}

/**
 * Every path of the host view, parents before children. `mounts` must be the visible mounts
 * (see visibleMounts). Paths under /proc, /sys and /dev are replaced wholesale.
 */
export function planView(mounts: MountEntry[], host: HostFs = realHostFs, { whole = false, throughFuse }: PlanOptions = {}): ViewUnit[] {
  const special = new Set<string>(SPECIAL_PATHS);
  const relevant = mounts.filter((m) => !SPECIAL_PATHS.some((s) => m.mountPoint === s || isBelow(m.mountPoint, s)));
  const mountAt = new Map(relevant.map((m) => [m.mountPoint, m]));
  const units: ViewUnit[] = [];

  const visit = (path: string, isDir: boolean): void => {
    if (special.has(path)) {
      units.push({ kind: 'special', path: path as '/proc' | '/sys' | '/dev' });
      return;
    }
    const m = mountAt.get(path);
    if (m && path !== '/' && PSEUDO_FS.has(m.fsType)) {
      units.push({ kind: 'unavailable', path, reason: `${m.fsType} mount` });
      return;
    }
    if (m && path !== '/') {
      // Another user's FUSE mount without allow_other refuses even root (EACCES on lstat):
      // nothing of it can be shown, and it must not stop the run.
      try {
        host.mode(path);
      } catch (e) {
        units.push({ kind: 'unavailable', path, reason: `a mount sbx cannot read: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}` });
        return;
      }
    }
    if (m && !isDir) {
      units.push({ kind: 'ro-bind', path, reason: 'file-mount' });
      return;
    }
    const hasMountBelow = relevant.some((x) => isBelow(x.mountPoint, path)) || (path === '/' && SPECIAL_PATHS.length > 0);
    if (!hasMountBelow) {
      units.push({ kind: 'overlay', path });
      return;
    }
    // An ordinary user's dir holding mounts, whole: its subdirs are no mount points inside, so
    // they can be removed and renamed as on the host (a skeleton's are each an overlay).
    const viaFuse = !whole && !!throughFuse?.(path);
    if ((whole && (path === '/' || m)) || viaFuse) {
      units.push(viaFuse ? { kind: 'overlay', path, holdsMounts: true } : { kind: 'overlay', path });
      // The mount points nearest below it (none of the others in between), each planned as
      // itself: what this mount's own filesystem holds there stays under it, covered (through
      // the daemon, which sees past mounts, what the mount shows, covered the same).
      const below = [...(path === '/' ? SPECIAL_PATHS : []), ...relevant.map((x) => x.mountPoint)
        .filter((q) => isBelow(q, path) && !relevant.some((y) => y.mountPoint !== q && isBelow(y.mountPoint, path) && isBelow(q, y.mountPoint)))];
      // Through the daemon, a dir on the way to a mount that the user may not list is what a
      // skeleton made it: empty and read-only inside (the daemon cannot look in it either, and
      // nothing could be mounted past it), and its mounts are not planned.
      for (const q of [...new Set(below)].sort()) {
        if (viaFuse) {
          const shut = unlistedOnTheWay(path, q);
          if (shut === undefined) continue;
          if (shut) { units.push(shut); continue; }
        }
        const parent = q.slice(0, q.lastIndexOf('/')) || '/';
        const listing = listOf(parent);
        const kind = typeof listing === 'string' ? undefined : listing.find((e) => e.name === q.slice(parent.length === 1 ? 1 : parent.length + 1))?.kind;
        // A mount point its parent's listing does not show is taken as a dir, as a skeleton's is.
        visit(q, kind === undefined || kind === 'dir' || special.has(q));
      }
      return;
    }
    let entries: ReturnType<HostFs['list']>;
    try {
      entries = host.list(path);
    } catch (e) {
      units.push({ kind: 'unavailable', path, reason: (e as NodeJS.ErrnoException).code ?? 'unreadable' });
      return;
    }
    units.push({ kind: 'skeleton', path, mode: host.mode(path) });
    // Mount points that the directory listing may not show (e.g. a dir created and then covered).
    const names = new Set(entries.map((e) => e.name));
    for (const x of relevant) {
      if (!isBelow(x.mountPoint, path)) continue;
      const rest = x.mountPoint.slice(path === '/' ? 1 : path.length + 1);
      const first = rest.split('/')[0]!;
      if (!names.has(first)) { names.add(first); entries.push({ name: first, kind: 'dir' }); }
    }
    entries.sort((a, b) => codeUnitOrder(a.name, b.name));
    for (const e of entries) {
      const child = path === '/' ? `/${e.name}` : join(path, e.name);
      if (special.has(child) || mountAt.has(child) || e.kind === 'dir') visit(child, e.kind === 'dir' || special.has(child));
      else if (e.kind === 'symlink') units.push({ kind: 'symlink', path: child, target: host.readlink(child) });
      else if (e.kind === 'file') units.push({ kind: 'ro-bind', path: child, reason: 'file-in-split-dir' });
      // Sockets, fifos and device nodes directly in a split directory are left out on purpose:
      // binding a socket would hand the sandbox a host daemon.
    }
  };
  // The listings of a whole dir's way to its mounts: a dir on the way to several of them, or
  // a mount's parent, read once; a failure kept as its error code.
  const listings = new Map<string, ReturnType<HostFs['list']> | string>();
  const listOf = (d: string): ReturnType<HostFs['list']> | string => {
    let l = listings.get(d);
    if (l === undefined) {
      try { l = host.list(d); } catch (e) { l = (e as NodeJS.ErrnoException).code ?? 'unreadable'; }
      listings.set(d, l);
    }
    return l;
  };
  /**
   * The first dir between `top` and the mount `q` (both left out) that the user may not list,
   * as an unavailable unit; undefined when that dir was met before (planned already).
   */
  const unlistedOnTheWay = (top: string, q: string): ViewUnit | null | undefined => {
    let d = top;
    for (const part of q.slice(top === '/' ? 1 : top.length + 1).split('/').slice(0, -1)) {
      d = join(d, part);
      const met = listings.has(d);
      const l = listOf(d);
      if (typeof l === 'string') return met ? undefined : { kind: 'unavailable', path: d, reason: l };
    }
    return null;
  };
  visit('/', true);
  return units;
}
