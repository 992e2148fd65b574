// Shapes a change list for reading: a new (or gone) directory with everything below it becomes
// one group with counts and bytes, and changes matching the fold list are counted per rule
// instead of listed. One pass over the list with a Set of directory paths: no per-path objects
// beyond the groups themselves, so 200k changes stay cheap. Nothing here drops a change from
// the commit; it only decides how the summary names it.
import type { Change, ChangeKind } from './types.js';
import { globLiteral, globRegExp } from './glob.js';
import { parentB } from '../base/bpath.js';
import type { NamedChanges } from './named.js';

export interface SubtreeGroup {
  root: Change;
  /** Entries below the root (not counting it). */
  entries: number;
  files: number;
  /** Dirs below the root (of `entries`). */
  dirs: number;
  /** Symlinks below the root (of `entries`): the rest that are none of these are fifos, sockets, devices. */
  links: number;
  /** Apparent bytes of the regular files below the root. */
  bytes: number;
}

export interface FoldCount {
  name: string;
  count: number;
  bytes: number;
  /**
   * A fold of metadata changes that moved the mtime alone (timesOnly), made by no rule: the
   * dir they are in (null: the dirs past TIMES_DIRS, `dirs` of them) and the changes.
   */
  times?: { dir: string | null; dirs: number; files: boolean; changes: Change[]; other?: boolean };
}

/**
 * A metadata change whose one difference is the mtime (no mode, owner, xattr or ACL): a
 * package manager that rewrites files with the bytes they had (dpkg, an upgrade of
 * ca-certificates: 159 such lines) leaves a directory of these, which crowd out real edits.
 */
export function timesOnly(c: Change): boolean {
  return c.change === 'metadata' && c.details?.length === 1 && c.details[0] === 'mtime' && !c.givenAway;
}

/** Times-only fold lines a summary shows at most: past that the smaller dirs share one line. */
export const TIMES_DIRS = 10;
/** Dirs holding one times-only change each that keep a line each at most: past that they share the line of the other dirs. */
export const TIMES_ALONE = 3;

/**
 * The times-only metadata changes of `flat` (timesOnly) folded per directory, one line for a
 * dir holding two or more (one alone keeps its line, which is no longer than the fold's, but
 * past TIMES_ALONE such dirs they share one: a perl upgrade rewrote 173 files of its unicore
 * tables, one per dir, a line each); the largest TIMES_DIRS - 1 dirs keep a line each, in path
 * order, when there are more, and the rest share one. What is left to list, and the folds.
 */
function foldTimes(flat: Array<Change | SubtreeGroup>): { rest: Array<Change | SubtreeGroup>; folds: FoldCount[] } {
  const byDir = new Map<string, Change[]>();
  for (const x of flat) {
    if (isGroup(x) || !timesOnly(x)) continue;
    const d = parentB(x.path);
    const l = byDir.get(d);
    if (l) l.push(x); else byDir.set(d, [x]);
  }
  const dirs = [...byDir].filter(([, cs]) => cs.length > 1);
  const alone = [...byDir].filter(([, cs]) => cs.length === 1);
  let others = alone.length > TIMES_ALONE ? alone : [];
  if (!dirs.length && !others.length) return { rest: flat, folds: [] };
  let own = dirs;
  if (dirs.length + (others.length ? 1 : 0) > TIMES_DIRS) {
    const big = new Set([...dirs].sort((a, b) => b[1].length - a[1].length).slice(0, TIMES_DIRS - 1));
    own = dirs.filter((d) => big.has(d));
    others = [...dirs.filter((d) => !big.has(d)), ...others];
  }
  const folded = new Set<Change>();
  for (const [, cs] of [...own, ...others]) for (const c of cs) folded.add(c);
  const fold = (dir: string | null, n: number, cs: Change[]): FoldCount => ({ name: '', count: cs.length, bytes: 0, times: { dir, dirs: n, files: cs.every((c) => c.type === 'file'), changes: cs, ...(dir === null && own.length ? { other: true } : {}) } });
  const folds = own.map(([d, cs]) => fold(d, 1, cs));
  if (others.length) folds.push(fold(null, others.length, others.flatMap(([, cs]) => cs)));
  return { rest: flat.filter((x) => isGroup(x) || !folded.has(x)), folds };
}

export interface KindView {
  kind: ChangeKind;
  /** Every change of this kind. */
  total: number;
  /** Single changes and subtree groups, largest top-level tree first. */
  items: Array<Change | SubtreeGroup>;
  folds: FoldCount[];
  /**
   * New (or gone) dirs counted into a fold rule's line (path -> rule index): everything below
   * one was folded by that rule, so listed alone it would read as an empty dir.
   */
  foldedDirs: Map<string, number>;
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
  /**
   * With marks made by the same `!` rules and fold list (list.markedBy, see columnMark): an
   * entry marked plain or folded is taken through this, with no path made and no rule asked.
   */
  kept?(j: number): void;
  /** kept() of entries [from, to). */
  keptRun?(from: number, to: number): void;
}

/**
 * What the summary's rules said of a column entry while the scan read it (NamedChanges marks,
 * made during the helper's walk, when Node would otherwise wait): not flagged but left to
 * decide when the summary is made (a git dir's entry, fold rule 253 on: a mark fits a byte; or
 * not asked at all, for a list made without marks), taken and not folded, flagged by a `!`
 * rule (asked again then, for its reason and with the file's content), or folded by fold rule
 * k (MARK_FOLD + k).
 */
export const MARK_UNKNOWN = 0, MARK_PLAIN = 1, MARK_FLAGGED = 2, MARK_FOLD = 3;

/** The mark of an entry: flagged or not by the `!` rules, and its fold rule index (or -1). */
export function columnMark(flagged: boolean, fold: number): number {
  return flagged ? MARK_FLAGGED : fold < 0 ? MARK_PLAIN : MARK_FOLD + fold <= 0xff ? MARK_FOLD + fold : MARK_UNKNOWN;
}

/**
 * The first fold rule a path matches (an index into `fold`), or -1: what viewKind folds a
 * change under. Most paths match none: one alternation of every rule rejects them in one test.
 */
export function foldIndex(fold: FoldSpec[]): (p: string) => number {
  // A review asks for the same rules' index once per kind and once more for its summary: the
  // globs are compiled once per list of rules (~40 regular expressions for the shipped ones).
  let index = foldIndexes.get(fold);
  if (!index) foldIndexes.set(fold, index = makeFoldIndex(fold));
  return index;
}

const foldIndexes = new WeakMap<FoldSpec[], (p: string) => number>();

function makeFoldIndex(fold: FoldSpec[]): (p: string) => number {
  const any = anyOf(fold.flatMap((f) => f.paths));
  // Each rule's own test is made once a path passes the test of them all: most reviews have
  // no such path, and making every rule's patterns twice was ~2 ms of a one-change review.
  let tests: Array<(p: string) => boolean> | null = null;
  return (p) => {
    if (!any(p)) return -1;
    tests ??= fold.map((f) => anyOf(f.paths));
    for (let k = 0; k < tests.length; k++) if (tests[k]!(p)) return k;
    return -1;
  };
}

export function isGroup(x: Change | SubtreeGroup): x is SubtreeGroup {
  return (x as SubtreeGroup).root !== undefined;
}

/** The top-level dir a path is in (`/home` of `/home/u/x`): what the summary orders and counts by. */
export function topOf(p: string): string {
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
  const counts = fold.map((f): FoldCount => ({ name: f.name, count: 0, bytes: 0 }));
  const foldOf = foldIndex(fold);
  const count = (k: number, file: boolean, size: number): void => { const n = counts[k]!; n.count++; if (file) n.bytes += size; };
  // The rule that folded what is below each group's root (-2: more than one), for the roots
  // with nothing of their own to list.
  const foldedBelow = new Map<SubtreeGroup, number>();
  const foldedIn = (g: SubtreeGroup | undefined, k: number): void => {
    if (!g) return;
    const was = foldedBelow.get(g);
    foldedBelow.set(g, was === undefined || was === k ? k : -2);
  };
  /** The fold rule p matches (counted), or -1. */
  // A hard-linked file's bytes count once per inode, as the commit writes them (its other
  // names are links to the first): a new dir with two names of one 4-byte file said 8 B here
  // and 4 B in the commit's line. Column entries have one link: never asked.
  const seenInodes = new Set<string>();
  const bytesOf = (c: Change): number => {
    if (c.type !== 'file' || !c.up || c.up.nlink < 2) return c.size;
    const key = `${c.up.dev}:${c.up.ino}`;
    if (seenInodes.has(key)) return 0;
    seenInodes.add(key);
    return c.size;
  };
  const folded = (p: string, file: boolean, size: number): number => {
    const k = foldOf(p);
    if (k >= 0) count(k, file, size);
    return k;
  };
  const groupable = kind === 'added' || kind === 'deleted';
  const dirs = new Set<string>();
  if (groupable) for (const c of changes) if (c.type === 'dir') dirs.add(c.path);
  const groups = new Map<string, SubtreeGroup>();
  const items: Array<Change | SubtreeGroup> = [];
  const above = dirs.size ? new TopDirs(dirs) : null;
  const list = cols?.list;
  const n = list ? list.length : 0;
  // Marks made with these rules (the caller's word, given with `kept`): most entries need no path here.
  const marked = !!cols?.kept;
  let total = changes.length;
  // A file's new dir above it depends only on its directory: asked once per run of entries
  // of one directory (its group is made before them: a dir comes first in path order).
  let lastDir = -1;
  let lastGroup: SubtreeGroup | undefined;
  /** The group of column entry j's new dir (asked once per directory of entries), if any. */
  const groupAt = (j: number): SubtreeGroup | undefined => {
    const d = list!.dirAt(j);
    if (d !== lastDir) {
      const top = above ? above.of(list!.pathAt(j)) : null;
      lastGroup = top === null ? undefined : groups.get(top);
      lastDir = d;
    }
    return lastGroup;
  };
  // In path order (the changes' and the columns' merged): a dir comes before what is below it.
  // (No read past the array's end for the last round: optimized code that meets one is thrown
  // away and the function compiled again, after the loop over 200k entries.)
  const runs = marked && !!cols!.keptRun;
  // The end of a run that has no group (its entries are taken one at a time).
  let alone = 0;
  for (let i = 0, j = 0; i <= changes.length; i++) {
    const c = i < changes.length ? changes[i] : undefined;
    // The column entries before c (all that are left after the last change).
    const to = !n ? 0 : c === undefined ? n : list!.lowerBound(j, n, c.path);
    for (; j < to; j++) {
      // A directory's plain new files below a new dir: counted into its group as one run.
      if (runs && j >= alone) {
        const e = list!.markRun(j, to, MARK_PLAIN);
        if (e > j + 1) {
          const g = groupAt(j);
          if (g) {
            cols!.keptRun!(j, e);
            total += e - j;
            g.entries += e - j;
            g.files += e - j;
            g.bytes += list!.runBytes;
            j = e - 1;
            continue;
          }
          alone = e;
        }
      }
      const m = marked ? list!.markAt(j) : MARK_UNKNOWN;
      const size = list!.sizeAt(j);
      if (m === MARK_PLAIN || m >= MARK_FOLD) {
        cols!.kept!(j);
        total++;
        if (m >= MARK_FOLD) { count(m - MARK_FOLD, true, size); foldedIn(groupAt(j), m - MARK_FOLD); continue; }
      } else {
        const p = list!.pathAt(j);
        if (!cols!.take(j, p)) continue;
        total++;
        const k = folded(p, true, size);
        if (k >= 0) { foldedIn(groupAt(j), k); continue; }
      }
      const g = groupAt(j);
      // No new dir above it, or that dir was folded away: the file stands alone.
      if (!g) { items.push(list!.changeAt(j)); continue; }
      g.entries++;
      g.files++;
      g.bytes += size;
    }
    if (c === undefined) break;
    const size = bytesOf(c);
    const k = folded(c.path, c.type === 'file', size);
    const top = above ? above.of(c.path) : null;
    if (k >= 0) { if (top !== null) foldedIn(groups.get(top), k); continue; }
    if (top === null) {
      if (groupable && c.type === 'dir') { const g = { root: c, entries: 0, files: 0, dirs: 0, links: 0, bytes: 0 }; groups.set(c.path, g); items.push(g); } else items.push(c);
      continue;
    }
    const g = groups.get(top);
    // The ancestor dir was folded away: the child stands alone.
    if (!g) { items.push(c); continue; }
    g.entries++;
    if (c.type === 'file') { g.files++; g.bytes += size; } else if (c.type === 'dir') g.dirs++; else if (c.type === 'symlink') g.links++;
  }
  // A dir with nothing below it is just a change, and one whose every entry below was folded
  // by one rule is counted on that rule's line (~/.npm made by npm for its cache alone).
  const foldedDirs = new Map<string, number>();
  let flat: Array<Change | SubtreeGroup> = [];
  for (const x of items) {
    if (!isGroup(x) || x.entries) { flat.push(x); continue; }
    const k = foldedBelow.get(x) ?? -1;
    if (k < 0) { flat.push(x.root); continue; }
    count(k, false, 0);
    foldedDirs.set(x.root.path, k);
  }
  let timeFolds: FoldCount[] = [];
  if (kind === 'metadata') ({ rest: flat, folds: timeFolds } = foldTimes(flat));
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
  for (const k of counts) if (k.count) folds.push(k);
  folds.push(...timeFolds);
  return { kind, total, items: sorted, folds, foldedDirs };
}

/** Added or deleted entries of one dir a summary may count on one line, at least (siblingRuns). */
export const SIBLINGS = 8;

export interface SiblingRun {
  /** The dir they are in, or below (it is not theirs: it was there before and is still). */
  dir: string;
  /** How many dirs they are in: 1 for siblings. */
  dirs: number;
  /** Single changes and new trees (SubtreeGroup), in path order. */
  members: Array<Change | SubtreeGroup>;
}

const pathOfItem = (x: Change | SubtreeGroup): string => (isGroup(x) ? x.root.path : x.path);
/** The first `n` components of p's dir (all of them when it has fewer): `/usr/share/locale` of its `de/LC_MESSAGES/x.mo` for 3. */
export function dirPrefix(p: string, n: number): string {
  let i = 0;
  for (let k = 0; k < n; k++) { i = p.indexOf('/', i + 1); if (i < 0) break; }
  const dir = parentB(p);
  return i < 0 || i > dir.length ? dir : p.slice(0, i);
}

/**
 * The runs of items side by side in `items` (a kind's view: path order within each tree) that
 * a summary shows as one line when its lines would not fit in `fit`, by the index of each run's
 * first: first at least `min` that share a parent dir (`rm -rf /usr/share/doc/*` deletes each
 * of 741 package dirs; an install adds a dir there for each package), then, while the lines
 * still do not fit, those runs and single items side by side below one dir of three components
 * (an install's `.mo` files, one or two in each of 40 dirs under /usr/share/locale). The
 * largest runs are taken first, and only as many as it takes to fit: a list that fits, or an
 * unlimited one (`sbx diff`), names each entry.
 */
export function siblingRuns(items: ReadonlyArray<Change | SubtreeGroup>, min: number, fit: number): Map<number, SiblingRun> {
  const runs = new Map<number, SiblingRun>();
  if (items.length <= fit) return runs;
  let lines = items.length;
  // Units: a run taken or a single item, as [first index, end index).
  const take = (units: Array<[number, number]>, keyOf: (i: number) => string, least: number): void => {
    const all: Array<{ from: number; to: number; first: number; end: number; key: string }> = [];
    for (let u = 0; u < units.length;) {
      const key = keyOf(units[u]![0]);
      let v = u + 1;
      while (v < units.length && keyOf(units[v]![0]) === key) v++;
      const end = units[v - 1]![1];
      if (v - u >= 2 && end - units[u]![0] >= least) all.push({ from: u, to: v, first: units[u]![0], end, key });
      u = v;
    }
    for (const r of all.sort((a, b) => (b.to - b.from) - (a.to - a.from) || a.first - b.first)) {
      if (lines <= fit) break;
      for (let u = r.from; u < r.to; u++) runs.delete(units[u]![0]);
      const members = items.slice(r.first, r.end);
      runs.set(r.first, { dir: r.key, dirs: new Set(members.map((x) => parentB(pathOfItem(x)))).size, members });
      lines -= (r.to - r.from) - 1;
    }
  };
  take(items.map((_, i) => [i, i + 1]), (i) => parentB(pathOfItem(items[i]!)), min);
  if (lines > fit) {
    const units: Array<[number, number]> = [];
    for (let i = 0; i < items.length;) { const r = runs.get(i); const e = r ? i + r.members.length : i + 1; units.push([i, e]); i = e; }
    take(units, (i) => dirPrefix(pathOfItem(items[i]!), 3), 2);
  }
  return runs;
}

/** What a run's members hold in all, as one SubtreeGroup's counts (its root: the first member's). */
export function runTotals(run: SiblingRun): SubtreeGroup {
  const first = run.members[0]!;
  const t: SubtreeGroup = { root: isGroup(first) ? first.root : first, entries: 0, files: 0, dirs: 0, links: 0, bytes: 0 };
  for (const x of run.members) {
    if (isGroup(x)) { t.entries += x.entries + 1; t.files += x.files; t.dirs += x.dirs + 1; t.links += x.links; t.bytes += x.bytes; continue; }
    t.entries++;
    if (x.type === 'file') { t.files++; t.bytes += x.size; } else if (x.type === 'dir') t.dirs++; else if (x.type === 'symlink') t.links++;
  }
  return t;
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
      if (d.length < path.length && path.charCodeAt(d.length) === 0x2f && path.startsWith(d)) break;
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
  // The patterns themselves are made for the first path that gets past the plain runs below.
  let res: RegExp[] | null = null;
  const full = (p: string) => (res ??= globs.map(globRegExp)).some((r) => r.test(p));
  // A path holding none of the patterns' plain runs (`.npm/_cacache`, `.pyc`) matches none of
  // them: one scan for the runs rejects most paths before any pattern is tried.
  const lits = globs.map(globLiteral);
  if (lits.some((l) => l === null)) return full;
  const pre = new RegExp(lits.map((l) => l!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'));
  return (p) => pre.test(p) && full(p);
}
