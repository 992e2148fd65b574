// Shapes a change list for reading: a new (or gone) directory with everything below it becomes
// one group with counts and bytes, and changes matching the fold list are counted per rule
// instead of listed. One pass over the list with a Set of directory paths: no per-path objects
// beyond the groups themselves, so 200k changes stay cheap. Nothing here drops a change from
// the commit; it only decides how the summary names it.
import type { Change, ChangeKind } from './types.js';
import { globRegExp } from './glob.js';

export interface SubtreeGroup {
  root: Change;
  /** Entries below the root (not counting it). */
  entries: number;
  files: number;
  /** Apparent bytes of the regular files below the root. */
  bytes: number;
}

export interface FoldCount {
  name: string;
  count: number;
  bytes: number;
}

export interface KindView {
  kind: ChangeKind;
  /** Every change of this kind. */
  total: number;
  /** Single changes and subtree groups, largest top-level tree first. */
  items: Array<Change | SubtreeGroup>;
  folds: FoldCount[];
}

export interface FoldSpec {
  name: string;
  paths: string[];
}

export function isGroup(x: Change | SubtreeGroup): x is SubtreeGroup {
  return (x as SubtreeGroup).root !== undefined;
}

function topOf(p: string): string {
  const i = p.indexOf('/', 1);
  return i < 0 ? p : p.slice(0, i);
}

/**
 * Groups one kind's changes (already filtered to that kind, flagged ones left out by the caller).
 * A dir whose kind is `added` or `deleted` owns every change of the same kind below it: a
 * new dir has nothing below that is not new, a gone dir nothing that is not gone.
 */
export function viewKind(kind: ChangeKind, changes: Change[], fold: FoldSpec[]): KindView {
  const folds: FoldCount[] = [];
  const compiled = fold.map((f) => ({ name: f.name, test: anyOf(f.paths), n: { name: f.name, count: 0, bytes: 0 } as FoldCount }));
  const groupable = kind === 'added' || kind === 'deleted';
  const dirs = new Set<string>();
  if (groupable) for (const c of changes) if (c.type === 'dir') dirs.add(c.path);
  const groups = new Map<string, SubtreeGroup>();
  const items: Array<Change | SubtreeGroup> = [];
  const rest: Change[] = [];
  outer: for (const c of changes) {
    for (const k of compiled) if (k.test(c.path)) { k.n.count++; if (c.type === 'file') k.n.bytes += c.size; continue outer; }
    rest.push(c);
  }
  for (const c of rest) {
    let top: string | null = null;
    if (dirs.size) {
      for (let i = c.path.lastIndexOf('/'); i > 0; i = c.path.lastIndexOf('/', i - 1)) {
        const a = c.path.slice(0, i);
        if (dirs.has(a)) top = a;
      }
    }
    if (top === null) {
      if (groupable && c.type === 'dir') { const g = { root: c, entries: 0, files: 0, bytes: 0 }; groups.set(c.path, g); items.push(g); } else items.push(c);
      continue;
    }
    const g = groups.get(top);
    // The ancestor dir was folded away: the child stands alone.
    if (!g) { items.push(c); continue; }
    g.entries++;
    if (c.type === 'file') { g.files++; g.bytes += c.size; }
  }
  // A dir with nothing below it is just a change.
  const flat = items.map((x) => (isGroup(x) && x.entries === 0 ? x.root : x));
  const treeBytes = new Map<string, number>();
  for (const x of flat) {
    const p = isGroup(x) ? x.root.path : x.path;
    const b = isGroup(x) ? x.bytes : x.type === 'file' ? x.size : 0;
    treeBytes.set(topOf(p), (treeBytes.get(topOf(p)) ?? 0) + b);
  }
  const order = [...treeBytes.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([t]) => t);
  const rank = new Map(order.map((t, i) => [t, i]));
  const pathOf = (x: Change | SubtreeGroup) => (isGroup(x) ? x.root.path : x.path);
  // Stable sort: within a tree, the scan's path order stays.
  flat.sort((a, b) => rank.get(topOf(pathOf(a)))! - rank.get(topOf(pathOf(b)))!);
  for (const k of compiled) if (k.n.count) folds.push(k.n);
  return { kind, total: changes.length, items: flat, folds };
}

function anyOf(globs: string[]): (p: string) => boolean {
  const res = globs.map(globRegExp);
  return (p) => res.some((r) => r.test(p));
}
