// A change list as tar entries: an OCI layer (whiteouts for deletions, opaque markers for
// replaced directories) or a plain tar of what is new plus a list of what to delete.
//
// Contents come from the upper layer through the same no-follow opens the commit uses, owners
// are the host's ids (the scan already shifted a root sandbox's ids back), and setuid/setgid
// bits and file capabilities are dropped unless asked for, as in commit.
import type { Change } from '../changes/types.js';
import type { ScanResult } from '../changes/scan.js';
import { openNoFollow } from '../changes/content.js';
import { lstatB } from '../changes/stat.js';
import { nameB, parentB } from '../base/bpath.js';
import type { TarEntry, TarWriter } from './tar.js';

export type ExportFormat = 'oci-layer' | 'tar';

export interface LayerOptions {
  format: ExportFormat;
  keepSetuid: boolean;
}

export interface LayerReport {
  entries: number;
  /** Paths to delete on the target (plain tar only; a layer carries them as whiteouts). */
  deletions: string[];
  /** Changes a tar cannot carry (sockets, device nodes), with the reason. */
  skipped: Array<{ path: string; reason: string }>;
}

const CAPS_XATTR = 'security.capability';

/** `/a/b` → `a/b`: archive names are relative to the root. */
const rel = (p: string) => p.replace(/^\/+/, '');

function whiteoutName(p: string): string {
  const parent = parentB(p);
  return `${parent === '/' ? '' : rel(parent) + '/'}.wh.${nameB(p)}`;
}

export async function writeLayer(scan: Pick<ScanResult, 'changes'>, tar: TarWriter, opts: LayerOptions): Promise<LayerReport> {
  const report: LayerReport = { entries: 0, deletions: [], skipped: [] };
  const emittedDirs = new Set<string>(['/']);
  const firstOfInode = new Map<string, string>();
  const wanted = new Set(scan.changes.filter((c) => c.change !== 'deleted' && c.type === 'dir').map((c) => c.path));
  const layer = opts.format === 'oci-layer';

  const add = async (e: TarEntry, fd?: number) => { await tar.add(e, fd); report.entries++; };

  // Parents a change needs that are not changes themselves carry the host's metadata, so an
  // extractor recreates them as they are rather than with its own defaults.
  const ensureParents = async (p: string) => {
    const missing: string[] = [];
    for (let d = parentB(p); !emittedDirs.has(d); d = parentB(d)) missing.push(d);
    for (const d of missing.reverse()) {
      emittedDirs.add(d);
      if (wanted.has(d)) continue; // its own change comes first in path order
      const st = lstatB(d);
      if (!st || st.type !== 'dir') continue;
      await add({ name: rel(d), type: 'dir', mode: st.perm, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs });
    }
  };

  const whiteout = async (p: string) => {
    await add({ name: whiteoutName(p), type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeMs: 0, size: 0 });
  };

  for (const c of scan.changes) {
    // The view's `/` has no name in an archive (a change to its own mode, owner or xattrs).
    if (c.path === '/') { report.skipped.push({ path: c.path, reason: 'the root directory\'s own attributes have no name in a tar' }); continue; }
    await ensureParents(c.path);
    if (c.change === 'deleted') {
      if (layer) await whiteout(c.path); else report.deletions.push(c.path);
      continue;
    }
    if (c.change === 'replaced' && !c.opaque) {
      // A type change: the old entry goes, then the new one is written in its place.
      if (layer) await whiteout(c.path); else report.deletions.push(c.path);
    }
    const e = entryOf(c, opts);
    if (!e) { report.skipped.push({ path: c.path, reason: `a ${c.type} cannot be carried in a tar` }); continue; }
    if (c.type === 'dir') {
      emittedDirs.add(c.path);
      await add(e);
      if (c.opaque && layer) await add({ name: `${rel(c.path)}/.wh..wh..opq`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeMs: 0, size: 0 });
      continue;
    }
    if (c.type === 'file' && c.up && c.up.nlink > 1) {
      const key = `${c.up.dev}:${c.up.ino}`;
      const first = firstOfInode.get(key);
      if (first !== undefined) { await add({ ...e, type: 'hardlink', linkName: rel(first), size: 0 }); continue; }
      firstOfInode.set(key, c.path);
    }
    await add(e, c.type === 'file' ? openNoFollow(c.upper!) : undefined);
  }
  return report;
}

function entryOf(c: Change, opts: LayerOptions): TarEntry | null {
  const up = c.up;
  if (!up) return null;
  const mode = opts.keepSetuid ? up.perm : up.perm & ~0o6000;
  const xattrs = (c.xattrs ?? []).filter(([k]) => opts.keepSetuid || k !== CAPS_XATTR);
  const base = { name: rel(c.path), mode, uid: up.uid, gid: up.gid, mtimeMs: up.mtimeMs, xattrs };
  switch (c.type) {
    case 'file': return { ...base, type: 'file', size: up.size };
    case 'dir': return { ...base, type: 'dir' };
    case 'symlink': return { ...base, type: 'symlink', linkName: c.target ?? '' };
    case 'fifo': return { ...base, type: 'fifo' };
    default: return null; // sockets cannot be archived; device nodes are never carried out of a sandbox
  }
}
