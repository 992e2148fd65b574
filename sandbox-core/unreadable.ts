// fuse-overlayfs reads the host as the invoking user, so a system directory that user cannot
// read (apt's 0700 `_apt` partial dir, /etc/ssl/private, a database's data dir) would fail
// inside with EACCES, where root would simply use it. sbx shows each such directory as an
// empty, writable directory instead: an opaque directory in the layer, with the host's mode
// and times. What the command puts there is an ordinary change; the host's hidden content is
// never reported as deleted, and the directory never as replaced (walk.ts reads `shownEmpty`).
import { accessSync, closeSync, constants, readdirSync, readFileSync, rmdirSync, chmodSync, mkdirSync, type Dirent } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { Dir } from './beneath.js';
import { isWithin } from './base/within.js';
import { dirTimesHold, exactStat } from './base/dir-stat.js';
import { keptStamp, stamp, stampCacheFile, writeStampCache } from './stamp-cache.js';
import type { LayerTimes, UpperEntries } from './layer-dirs.js';
import { setXattrs } from './changes/xattr.js';
import { throughFuse, upperOf, type Layer } from './types.js';
import { searchableDir, topLevelDirs, WALKED_ROOTS } from './engines.js';

/**
 * What the last walk found, and the stamps that say it still holds: in the user's cache dir
 * (not the store, whose entries are sandboxes). null when there is no private place for it.
 */
export function unreadableCacheFile(env: NodeJS.ProcessEnv = process.env): string | null {
  return stampCacheFile('unreadable-dirs.json', env);
}

function readable(dir: string): boolean {
  try { accessSync(dir, constants.R_OK | constants.X_OK); return true; } catch { return false; }
}

/** A directory looked at by the walk, with its stamp (keptStamp) taken before it was listed. */
type Visited = [string, number, number];

/**
 * Directories below `root` the user cannot list, not descending into them or into `skip`.
 * `visited` receives every directory looked at (walked or found unreadable), for the cache,
 * stamped when it is found: before it is listed, so a change made while the walk goes on
 * shows as a new stamp next time.
 */
function findUnreadableDirs(root: string, skip: Set<string>, canRead: (d: string) => boolean = readable, visited: Visited[] = []): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    const now = Date.now();
    const s = stamp(d);
    if (s) visited.push([d, ...keptStamp(s, now)]);
  };
  visit(root);
  if (!canRead(root)) return out;
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop()!;
    let list: Dirent[];
    try { list = readdirSync(dir, { withFileTypes: true }); } catch { continue; }
    for (const d of list) {
      if (!d.isDirectory()) continue;
      const p = join(dir, d.name);
      if (skip.has(p)) continue;
      visit(p);
      if (canRead(p)) stack.push(p); else out.push(p);
    }
  }
  return out.sort();
}

interface WalkCache { v: 1; key: string; dirs: Array<[string, number, number]>; result: string[] }

/**
 * findUnreadableDirs over several roots, remembered in `cacheFile` (sbx's cache dir): the walk
 * reads every directory of /var and /etc (100-200 ms here, on every unprivileged run), while
 * checking that none of them changed is one lstat each. Whether a directory is unreadable
 * depends on its own mode and owner and on its parents' (each one's ctime), on the user's
 * groups (in the key), and a new directory changes its parent's mtime: if no stamp moved, the
 * answer is the same. The file is only ever a hint: anything odd in it means a fresh walk.
 */
export function findUnreadableDirsCached(roots: string[], skip: Set<string>, cacheFile: string | null, canRead: (d: string) => boolean = readable): string[] {
  const key = JSON.stringify([process.getuid?.(), process.getgroups?.(), roots, [...skip].sort()]);
  if (cacheFile) {
    try {
      const c = JSON.parse(readFileSync(cacheFile, 'utf8')) as WalkCache;
      if (c.v === 1 && c.key === key && Array.isArray(c.dirs) && Array.isArray(c.result) && c.dirs.length
        && dirTimesHold(c.dirs)
        && c.result.every((r) => typeof r === 'string' && roots.some((root) => r.startsWith(`${root}/`)))) {
        return c.result;
      }
    } catch { /* none yet, or unusable: walk */ }
  }
  const visited: Visited[] = [];
  const result = roots.flatMap((r) => findUnreadableDirs(r, skip, canRead, visited));
  if (cacheFile) writeStampCache(cacheFile, { v: 1, key, dirs: visited, result } satisfies WalkCache);
  return result;
}

/**
 * The dirs directly in `/` the user may not even search, but the view's own layers (`skip`)
 * and those holding one: what a skeleton made empty stand-ins of. One the user may search but
 * not list (0711) stays as the host's, its names found by lookup, as a kernel overlay over it
 * showed it.
 */
function unsearchableTopDirs(skip: Set<string>, topDirs: () => string[]): string[] {
  return topDirs().filter((p) => !skip.has(p) && ![...skip].some((t) => isWithin(t, p)) && !searchableDir(p));
}

/** The layer read through fuse-overlayfs holding host path `p`, if any. */
function fuseLayerOf(layers: Layer[], p: string): Layer | undefined {
  return layers
    .filter((l) => throughFuse(l) && isWithin(p, l.target))
    .sort((a, b) => b.target.length - a.target.length)[0];
}

/**
 * Puts an empty opaque copy of every unreadable directory under the fuse layers' parts of
 * WALKED_ROOTS (where package managers and services keep state: about 6k entries on a Debian
 * host) into the layer. Returns the host paths shown empty. Nothing is made where the
 * layer already has an entry (the sandbox's own, from an earlier run), nor at or below a
 * `hidden` path (its whiteout, which the helper makes later, would find a dir there and the
 * path would show), and no symlink in the layer is followed. What sbx makes itself (not
 * `into`) takes the host's times once `times` is flushed. `topDirs`: the dirs directly in `/`
 * (the run's one listing of it), asked when a fuse layer is `/`'s.
 */
export function showUnreadableEmpty(layers: Layer[], layersDir: string, times: LayerTimes, roots = WALKED_ROOTS, cacheFile: string | null = null, into: UpperEntries | null = null, hidden: string[] = [], topDirs: () => string[] = topLevelDirs): string[] {
  const fuse = layers.filter(throughFuse);
  if (!fuse.length) return [];
  const targets = new Set(layers.map((l) => l.target));
  const shown: string[] = [];
  // Dirs made in kernel layers, their opaque xattr still to set: all in one start of the helper.
  const unmarked: Array<[host: string, rel: string]> = [];
  const walked = roots.filter((root) => fuseLayerOf(fuse, root));
  // `/` itself through the daemon: its top-level dirs the user cannot search (`/root`,
  // `/lost+found`), which a skeleton made empty stand-ins of; one listing, no walk.
  const tops = fuse.some((l) => l.target === '/') ? unsearchableTopDirs(targets, topDirs) : [];
  for (const host of [...findUnreadableDirsCached(walked, targets, cacheFile), ...tops]) {
    const layer = fuseLayerOf(fuse, host);
    if (!layer || layer.target === host || hidden.some((h) => isWithin(host, h))) continue;
    const fuseMarks = layer.format === 'fuse';
    if (into ? !opaqueEntries(into, layer, host) : !makeOpaqueDir(join(layersDir, upperOf(layer)), upperOf(layer), layer.target, host, fuseMarks, times)) continue;
    if (into || fuseMarks) shown.push(host);
    else unmarked.push([host, `${upperOf(layer)}/${relative(layer.target, host)}`]);
  }
  if (unmarked.length) shown.push(...markOpaque(layersDir, unmarked, times));
  return shown;
}

/** makeOpaqueDir's entries, for the helper to make (UpperEntries): for a run whose layers nothing reads afterwards. */
function opaqueEntries(into: UpperEntries, layer: Layer, host: string): boolean {
  try {
    const rel = into.at(layer, host);
    if (into.has(rel)) return false;
    into.dirs(layer, host, true);
    // fuse-overlayfs's opaque mark is a file in the dir; kernel overlayfs's an xattr of it.
    const { mode, times } = exactStat(host);
    if (layer.format === 'fuse') {
      into.add('dir', rel, mode, times);
      into.empty(`${rel}/.wh..wh..opq`);
    } else {
      into.add('dir', rel, mode, times, ['opaque']);
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Like the host (mode, times), made below `upper` (`upperRel` below the layers dir) one
 * component at a time, with fuse-overlayfs's mark in it (`fuse`); else made empty and 0700,
 * for markOpaque. The times go to `times`, set once all is made (the mark moves the mtime).
 */
function makeOpaqueDir(upper: string, upperRel: string, target: string, host: string, fuse: boolean, times: LayerTimes): boolean {
  const parts = relative(target, host).split('/');
  const name = parts.pop()!;
  const base = Dir.open(upper);
  let cur = base;
  let hostDir = target;
  let rel = upperRel;
  try {
    for (const part of parts) {
      hostDir = join(hostDir, part);
      if (!cur.lstat(part)) likeHost(cur, rel, part, hostDir, times);
      rel = `${rel}/${part}`;
      const next = Dir.openBeneath(cur, part);
      if (cur !== base) cur.close();
      cur = next;
    }
    if (cur.lstat(name)) return false;
    mkdirSync(cur.at(name), { mode: 0o700 });
    if (!fuse) return true;
    const d = Dir.openBeneath(cur, name);
    try { closeSync(d.openFile('.wh..wh..opq', constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL)); } finally { d.close(); }
    takeHostAttrs(cur, rel, name, host, times);
    return true;
  } catch {
    return false;
  } finally {
    if (cur !== base) cur.close();
    base.close();
  }
}

/**
 * Kernel overlayfs's opaque mark on each dir makeOpaqueDir made (`rel` below the layers dir),
 * set by the helper (Node has no setxattr), which resolves each below the layers dir's fd with
 * no symlink; then the host's mode and times (the mark first: a mode without the owner's write
 * bit would refuse it). A dir left unmarked would merge with the host's, unreadable: taken
 * out again. Returns the host paths marked.
 */
function markOpaque(layersDir: string, dirs: Array<[host: string, rel: string]>, times: LayerTimes): string[] {
  const top = Dir.open(layersDir);
  try {
    let errs: number[];
    try {
      errs = setXattrs(dirs.map(([, rel]) => ({ path: `${top.self()}/${rel}`, attrs: [['user.overlay.opaque', Buffer.from('y')]] })), top.self());
    } catch {
      errs = dirs.map(() => -1);
    }
    const marked: string[] = [];
    dirs.forEach(([host, rel], i) => {
      try {
        const parent = Dir.openBeneath(top, dirname(rel));
        try {
          if (errs[i] !== 0) { rmdirSync(parent.at(basename(rel))); return; }
          takeHostAttrs(parent, dirname(rel), basename(rel), host, times);
          marked.push(host);
        } finally { parent.close(); }
      } catch { /* left as it is, and not said to be shown empty */ }
    });
    return marked;
  } finally {
    top.close();
  }
}

function likeHost(dir: Dir, rel: string, name: string, host: string, times: LayerTimes): void {
  mkdirSync(dir.at(name), { mode: 0o700 });
  takeHostAttrs(dir, rel, name, host, times);
}

/** `name` in `dir` (`rel` below the layers dir) takes the host's mode now, and its times once all is made. */
function takeHostAttrs(dir: Dir, rel: string, name: string, host: string, times: LayerTimes): void {
  const st = exactStat(host);
  chmodSync(dir.at(name), st.mode & 0o7777);
  times.add(dir, rel, name, st.times);
}
