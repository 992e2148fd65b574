// Shapes a change list for reading: a new (or gone) directory with everything below it becomes
// one group with counts and bytes, and changes matching the fold list are counted per rule
// instead of listed. One pass over the list with a Set of directory paths: no per-path objects
// beyond the groups themselves, so 200k changes stay cheap. Nothing here drops a change from
// the commit; it only decides how the summary names it.
import type { Change, ChangeKind } from './types.js';
import { globLiteral, globRegExp } from './glob.js';
import type { NamedChanges } from './named.js';

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

/** Column entries (named.ts, all added files) that join a kind's changes: those `take` says yes to. */
export interface ColumnRest {
  list: NamedChanges;
  /** Asked once per entry, in path order, with its path (the caller's `!` rules: flagged ones are not taken). */
  take(j: number, path: string): boolean;
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
 * new dir has nothing below that is not new, a gone dir nothing that is not gone. `cols`:
 * column entries (new files) taken in path order with the changes; one of them becomes a
 * Change only when it is an item of its own (not grouped, not folded).
 */
export function viewKind(kind: ChangeKind, changes: Change[], fold: FoldSpec[], cols?: ColumnRest): KindView {
  const folds: FoldCount[] = [];
  const compiled = fold.map((f) => ({ name: f.name, test: anyOf(f.paths), n: { name: f.name, count: 0, bytes: 0 } as FoldCount }));
  // Most paths match no fold rule: one alternation of every rule rejects them in one test.
  const anyFold = anyOf(fold.flatMap((f) => f.paths));
  const folded = (p: string, file: boolean, size: number): boolean => {
    if (!compiled.length || !anyFold(p)) return false;
    for (const k of compiled) if (k.test(p)) { k.n.count++; if (file) k.n.bytes += size; return true; }
    return false;
  };
  const groupable = kind === 'added' || kind === 'deleted';
  const dirs = new Set<string>();
  if (groupable) for (const c of changes) if (c.type === 'dir') dirs.add(c.path);
  const groups = new Map<string, SubtreeGroup>();
  const items: Array<Change | SubtreeGroup> = [];
  const above = dirs.size ? new TopDirs(dirs) : null;
  const list = cols?.list;
  const n = list ? list.length : 0;
  let total = changes.length;
  // A file's new dir above it depends only on its directory: asked once per run of entries
  // of one directory (its group is made before them: a dir comes first in path order).
  let lastDir = -1;
  let lastGroup: SubtreeGroup | undefined;
  // In path order (the changes' and the columns' merged): a dir comes before what is below it.
  for (let i = 0, j = 0; i <= changes.length; i++) {
    const c = changes[i];
    for (; j < n && (c === undefined || list!.compareTo(j, c.path) < 0); j++) {
      const p = list!.pathAt(j);
      if (!cols!.take(j, p)) continue;
      total++;
      const size = list!.sizeAt(j);
      if (folded(p, true, size)) continue;
      const d = list!.dirAt(j);
      if (d !== lastDir) {
        const top = above ? above.of(p) : null;
        lastGroup = top === null ? undefined : groups.get(top);
        lastDir = d;
      }
      const g = lastGroup;
      // No new dir above it, or that dir was folded away: the file stands alone.
      if (!g) { items.push(list!.changeAt(j)); continue; }
      g.entries++;
      g.files++;
      g.bytes += size;
    }
    if (c === undefined) break;
    if (folded(c.path, c.type === 'file', c.size)) continue;
    const top = above ? above.of(c.path) : null;
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
  const tops: string[] = new Array(flat.length);
  const treeBytes = new Map<string, number>();
  for (let i = 0; i < flat.length; i++) {
    const x = flat[i]!;
    const t = topOf(isGroup(x) ? x.root.path : x.path);
    tops[i] = t;
    const b = isGroup(x) ? x.bytes : x.type === 'file' ? x.size : 0;
    treeBytes.set(t, (treeBytes.get(t) ?? 0) + b);
  }
  const order = [...treeBytes.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([t]) => t);
  // Largest tree first; within a tree the scan's path order stays (one bucket per tree).
  const buckets = new Map<string, Array<Change | SubtreeGroup>>(order.map((t) => [t, []]));
  for (let i = 0; i < flat.length; i++) buckets.get(tops[i]!)!.push(flat[i]!);
  const sorted: Array<Change | SubtreeGroup> = [];
  for (const b of buckets.values()) for (const x of b) sorted.push(x);
  for (const k of compiled) if (k.n.count) folds.push(k.n);
  return { kind, total, items: sorted, folds };
}

/**
 * The shallowest directory of `dirs` strictly above a path, or null. The directories above
 * the last path asked about stay on a stack with their answers: in path order (the scan's)
 * a path only adds the directories its predecessor did not have, and any order stays right.
 */
class TopDirs {
  private readonly stack: Array<{ dir: string; top: string | null }> = [];
  constructor(private readonly dirs: Set<string>) {}

  of(path: string): string | null {
    const st = this.stack;
    while (st.length) {
      const d = st[st.length - 1]!.dir;
      if (path.charCodeAt(d.length) === 0x2f && path.startsWith(d)) break;
      st.pop();
    }
    let top = st.length ? st[st.length - 1]!.top : null;
    const last = path.lastIndexOf('/');
    for (let i = path.indexOf('/', st.length ? st[st.length - 1]!.dir.length + 1 : 1); i > 0 && i <= last; i = path.indexOf('/', i + 1)) {
      const d = path.slice(0, i);
      if (top === null && this.dirs.has(d)) top = d;
      st.push({ dir: d, top });
    }
    return top;
  }
}

function anyOf(globs: string[]): (p: string) => boolean {
  if (!globs.length) return () => false;
  const res = globs.map(globRegExp);
  const full = (p: string) => res.some((r) => r.test(p));
  // A path holding none of the patterns' plain runs (`.npm/_cacache`, `.pyc`) matches none of
  // them: one scan for the runs rejects most paths before any pattern is tried.
  const lits = globs.map(globLiteral);
  if (lits.some((l) => l === null)) return full;
  const pre = new RegExp(lits.map((l) => l!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'));
  return (p) => pre.test(p) && full(p);
}
