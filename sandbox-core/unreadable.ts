// fuse-overlayfs reads the host as the invoking user, so a system directory that user cannot
// read (apt's 0700 `_apt` partial dir, /etc/ssl/private, a database's data dir) would fail
// inside with EACCES, where root would simply use it. sbx shows each such directory as an
// empty, writable directory instead: an opaque directory in the layer, with the host's mode
// and times. What the command puts there is an ordinary change; the host's hidden content is
// never reported as deleted, and the directory never as replaced (walk.ts reads `shownEmpty`).
import { accessSync, closeSync, constants, lstatSync, readdirSync, utimesSync, chmodSync, mkdirSync, type Dirent } from 'node:fs';
import { join, relative } from 'node:path';
import { Dir } from './beneath.js';
import type { Layer } from './types.js';

/** Where package managers and services keep state: walked (about 6k entries on a Debian host). */
const EMPTY_ROOTS = ['/var', '/etc'];

function readable(dir: string): boolean {
  try { accessSync(dir, constants.R_OK | constants.X_OK); return true; } catch { return false; }
}

/** Directories below `root` the user cannot list, not descending into them or into `skip`. */
function findUnreadableDirs(root: string, skip: Set<string>, canRead: (d: string) => boolean = readable): string[] {
  const out: string[] = [];
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
      if (canRead(p)) stack.push(p); else out.push(p);
    }
  }
  return out.sort();
}

/** The fuse layer holding host path `p`, if any. */
function fuseLayerOf(layers: Layer[], p: string): Layer | undefined {
  return layers
    .filter((l) => l.format === 'fuse' && (p === l.target || p.startsWith(l.target === '/' ? '/' : `${l.target}/`)))
    .sort((a, b) => b.target.length - a.target.length)[0];
}

/**
 * Puts an empty opaque copy of every unreadable directory under the fuse layers' parts of
 * EMPTY_ROOTS into the layer. Returns the host paths shown empty. Nothing is made where the
 * layer already has an entry (the sandbox's own, from an earlier run), and no symlink in the
 * layer is followed.
 */
export function showUnreadableEmpty(layers: Layer[], layersDir: string, roots = EMPTY_ROOTS): string[] {
  const fuse = layers.filter((l) => l.format === 'fuse');
  if (!fuse.length) return [];
  const targets = new Set(layers.map((l) => l.target));
  const shown: string[] = [];
  for (const root of roots) {
    const top = fuseLayerOf(fuse, root);
    if (!top) continue;
    for (const host of findUnreadableDirs(root, targets)) {
      const layer = fuseLayerOf(fuse, host);
      if (!layer || layer.target === host) continue;
      if (makeOpaqueDir(join(layersDir, layer.dir, 'upper'), layer.target, host)) shown.push(host);
    }
  }
  return shown;
}

/** Like the host (mode, times), made below `upper` one component at a time. */
function makeOpaqueDir(upper: string, target: string, host: string): boolean {
  const parts = relative(target, host).split('/');
  const name = parts.pop()!;
  const base = Dir.open(upper);
  let cur = base;
  let hostDir = target;
  try {
    for (const part of parts) {
      hostDir = join(hostDir, part);
      if (!cur.lstat(part)) likeHost(cur, part, hostDir);
      const next = Dir.openBeneath(cur, part);
      if (cur !== base) cur.close();
      cur = next;
    }
    if (cur.lstat(name)) return false;
    likeHost(cur, name, host);
    const d = Dir.openBeneath(cur, name);
    try { closeSync(d.openFile('.wh..wh..opq', constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL)); } finally { d.close(); }
    return true;
  } catch {
    return false;
  } finally {
    if (cur !== base) cur.close();
    base.close();
  }
}

function likeHost(dir: Dir, name: string, host: string): void {
  const st = lstatSync(host);
  mkdirSync(dir.at(name), { mode: 0o700 });
  chmodSync(dir.at(name), st.mode & 0o7777);
  utimesSync(dir.at(name), st.atimeMs / 1000, st.mtimeMs / 1000);
}
