// A saved sandbox's changes live in the upper dir of the layer whose tree they are in. A run
// in it (`run --in`) plans its view from the host as it is now, and the host's mounts may have
// moved since:
// - A mount appeared in a layer's tree: the plan gives the new mount point, or, for an
//   ordinary user, each dir on the way to it and their siblings, layers of their own, mounted
//   over the old layer's tree. What the sandbox had written at or below such a path in the old
//   layer would be hidden in the run, and the new layers recorded in the sandbox would keep it
//   out of every later review and commit (coveredChange).
// - A mount that had a layer of its own is gone: the plan has no place for that layer, so what
//   it holds would be hidden in the run, and while it stays recorded, what the run writes there
//   (into the layer above) is left out of the review, which gives that tree to it
//   (unplannedLayers). One that holds a change keeps its place where its dir is still there:
//   mounted over that dir as it is now (withOldPlaces); one that holds none is dropped
//   (sandbox.ts settleOldLayers).
// A run that would hide a change is refused before anything is made, and the sandbox stays as
// it was.
import { Dir, NotBeneathError, resolveParentBeneath } from './beneath.js';
import { fromUser } from './base/bpath.js';
import { isBelow } from './base/within.js';
import type { EngineUnit } from './engines.js';
import { upperOf, type Layer } from './types.js';

/** Where a new layer would cover a saved change: the new layer's tree, and the old layer's. */
export interface CoveredChange {
  path: string;
  layer: string;
}

/**
 * Whether the old layer `l` holds something at `rel` (below its tree's root) in its upper:
 * an entry there, or on the way to it one that is not a plain directory (a whiteout, a file or
 * a symlink the sandbox put in a dir's place). Resolved beneath the layers dir, no symlink
 * followed: the upper is the sandboxed command's writing.
 */
function holdsAt(layers: Dir, l: Layer, rel: string): boolean {
  let found: { dir: Dir; name: string };
  try {
    found = resolveParentBeneath(layers, `${fromUser(upperOf(l))}/${fromUser(rel)}`);
  } catch (e) {
    if (e instanceof NotBeneathError) return true;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  try {
    return found.dir.lstat(found.name) !== null;
  } finally {
    found.dir.close();
  }
}

/**
 * The first unit of a plan that would cover something a saved sandbox's layer holds: a unit
 * with no layer yet whose path lies strictly inside an existing layer's tree, where that
 * layer's upper holds an entry. Null when none does (the usual case: a new mount where the
 * sandbox never wrote).
 */
export function coveredChange(layers: Dir, existing: readonly Layer[], units: readonly EngineUnit[]): CoveredChange | null {
  const targets = new Set(existing.map((l) => l.target));
  for (const u of units) {
    if ((u.kind !== 'overlay' && u.kind !== 'skeleton') || targets.has(u.path)) continue;
    for (const l of existing) {
      if (!isBelow(u.path, l.target)) continue;
      const rel = l.target === '/' ? u.path.slice(1) : u.path.slice(l.target.length + 1);
      if (holdsAt(layers, l, rel)) return { path: u.path, layer: l.target };
    }
  }
  return null;
}

/** The layers of a saved sandbox that no layer unit of this plan is for: the host has no mount at their tree now. */
export function unplannedLayers(existing: readonly Layer[], units: readonly EngineUnit[]): Layer[] {
  const planned = new Set<string>();
  for (const u of units) if (u.kind === 'overlay' || u.kind === 'skeleton') planned.add(u.path);
  return existing.filter((l) => !planned.has(l.target));
}

/**
 * The plan with a unit for each layer of the sandbox whose mount is gone but whose dir is still
 * a directory on the host (`isDir`, not following a symlink) inside a tree the plan overlays:
 * an overlay of its engine (`fuse` for a fuse-overlayfs layer, when `fuse` says one can be
 * mounted), placed after the units of the trees it is in; and the layers it could not place,
 * which stay unplanned.
 */
export function withOldPlaces(units: readonly EngineUnit[], existing: readonly Layer[], isDir: (p: string) => boolean, fuse: boolean): { units: EngineUnit[]; unplaced: Layer[] } {
  const out = [...units];
  const unplaced: Layer[] = [];
  for (const l of unplannedLayers(existing, out)) {
    const engine = l.format === 'fuse' || l.fuseLower ? 'fuse' : 'kernel';
    if ((engine === 'fuse' && !fuse) || !isDir(l.target)) { unplaced.push(l); continue; }
    // The nearest unit at or above it must be a layer's (not a bind, /proc, a stand-in file).
    let parent = -1;
    for (let i = 0; i < out.length; i++) if (isBelow(l.target, out[i]!.path) && (parent < 0 || out[i]!.path.length > out[parent]!.path.length)) parent = i;
    const above = parent >= 0 ? out[parent]! : null;
    if (!above || (above.kind !== 'overlay' && above.kind !== 'skeleton')) { unplaced.push(l); continue; }
    // After its tree's units that sort before it: a dir's mounts come after its parent's.
    let at = parent + 1;
    while (at < out.length && isBelow(out[at]!.path, above.path) && out[at]!.path < l.target) at++;
    out.splice(at, 0, { kind: 'overlay', path: l.target, engine });
  }
  return { units: out, unplaced };
}
