// A selective commit (`--only`, `--exclude`) can split what one package manager did: the files
// of a package without dpkg's record of them, or the record without the files. The package
// manager then disagrees with the disk. This finds such splits, so sbx can say so before
// committing and name what to add.
import { closeSync, readSync, openSync, constants } from 'node:fs';
import type { Change } from './changes/types.js';
import { parentB, toFs } from './base/bpath.js';
import { isWithin } from './base/within.js';
import { openNoFollow } from './changes/content.js';

export interface PackageSplit {
  /** dpkg, npm or pip. */
  manager: string;
  /** Changes of the group the selection leaves out (host paths, byte strings). */
  left: string[];
  /** A glob that would bring the rest along. */
  add: string;
}

const MAX_MANIFEST = 8 << 20;

/**
 * The bytes of a manifest: the sandbox's copy, else the host's (a removal); never a symlink.
 * The copy is opened below the layers' fd (fsat.ts), never by its path.
 */
function readManifest(c: Change): string | null {
  if (!c.upper && c.change !== 'deleted') return null;
  let fd: number;
  try { fd = c.upper ? openNoFollow(c.upper) : openSync(toFs(c.path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK); } catch { return null; }
  try {
    const buf = Buffer.alloc(Math.min(c.size || MAX_MANIFEST, MAX_MANIFEST));
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('latin1');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

interface Group { manager: string; members: Set<string>; add: string }

const DPKG = '/var/lib/dpkg';

function dpkgGroup(all: Change[]): Group | null {
  const state = all.filter((c) => isWithin(c.path, DPKG) && c.path !== DPKG);
  if (!state.length) return null;
  const members = new Set(state.map((c) => c.path));
  // The files each changed package lists (info/NAME.list, or NAME:ARCH.list).
  const listed = new Set<string>();
  for (const c of state) {
    if (!/^\/var\/lib\/dpkg\/info\/[^/]+\.list$/.test(c.path) || c.type !== 'file') continue;
    for (const line of (readManifest(c) ?? '').split('\n')) if (line.startsWith('/') && line !== '/.') listed.add(line);
  }
  for (const c of all) if (listed.has(c.path)) members.add(c.path);
  return { manager: 'dpkg', members, add: `${DPKG}/**` };
}

function npmGroups(all: Change[]): Group[] {
  const out: Group[] = [];
  for (const c of all) {
    const m = /^(.*\/node_modules)\/\.package-lock\.json$/.exec(c.path);
    if (!m) continue;
    const dir = m[1]!;
    out.push({ manager: 'npm', members: new Set(all.filter((x) => isWithin(x.path, dir) && x.path !== dir).map((x) => x.path)), add: `${dir}/**` });
  }
  return out;
}

function pipGroups(all: Change[]): Group[] {
  const out: Group[] = [];
  for (const c of all) {
    const m = /^(.*)\/[^/]+\.dist-info\/RECORD$/.exec(c.path);
    if (!m || c.type !== 'file') continue;
    const site = m[1]!;
    const members = new Set<string>([c.path]);
    const info = parentB(c.path);
    for (const x of all) if (isWithin(x.path, info)) members.add(x.path);
    for (const line of (readManifest(c) ?? '').split('\n')) {
      const rel = line.split(',')[0];
      if (!rel || rel.startsWith('/') || rel.split('/').includes('..')) continue;
      members.add(`${site}/${rel}`);
    }
    const present = new Set(all.map((x) => x.path));
    out.push({ manager: 'pip', members: new Set([...members].filter((p) => present.has(p))), add: `${site}/**` });
  }
  return out;
}

/** Groups that `selected` takes part of but not all of. */
export function packageSplits(all: Change[], selected: Change[]): PackageSplit[] {
  const chosen = new Set(selected.map((c) => c.path));
  const groups = [dpkgGroup(all), ...npmGroups(all), ...pipGroups(all)].filter((g): g is Group => g !== null);
  const out: PackageSplit[] = [];
  for (const g of groups) {
    const members = [...g.members];
    const inSel = members.filter((p) => chosen.has(p));
    if (!inSel.length || inSel.length === members.length) continue;
    const left = members.filter((p) => !chosen.has(p)).sort();
    // Files were chosen without the state: add the state dir. The state without some files:
    // add those files' common top directory.
    const stateChosen = g.manager === 'dpkg' ? inSel.some((p) => isWithin(p, DPKG)) : true;
    const add = g.manager === 'dpkg' && stateChosen ? commonGlob(left) : g.add;
    out.push({ manager: g.manager, left, add });
  }
  return out;
}

/** `--only` glob covering every path: their deepest common directory, `/**`. */
function commonGlob(paths: string[]): string {
  let prefix = parentB(paths[0]!);
  for (const p of paths) while (prefix !== '/' && !isWithin(p, prefix)) prefix = parentB(prefix);
  return prefix === '/' ? '/**' : `${prefix}/**`;
}
