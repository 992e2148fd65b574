// Host files the sandbox moved (`mv a.txt b.txt`, a log rotated): the layer holds the new name
// as a new file and a whiteout at the old one, which the review listed as an unrelated addition
// and deletion. Paired here, each line names the other. Only on evidence: the new file's
// copy-up mark names the old one (fuse-overlayfs: its path; overlayfs: a handle holding its
// inode number), or, where overlayfs could encode no handle (a user namespace: an ordinary
// user's sandbox), the mark says it was copied up from some host file and exactly one deleted
// file holds the same bytes. A commit writes the new name and removes the old one, each checked
// against the host as every change is; it only never removes the old name without the new one.
// Copies of host files (a backup, a rotated log) are said as copies by copies.ts, the full
// review's columns among them from here.
import type { Change } from './types.js';
import { sameContent } from './content.js';
import { display, joinB, nameB } from '../base/bpath.js';
import { isWithin } from '../base/within.js';
import { accessDiff, lstatB, sameTime } from './stat.js';
import type { NamedChanges } from './named.js';
import { addTo, byteBudget, CANDIDATES_MAX, handleWords, noteAccess, PROBE_FILES, sameWithin, timeKey, treeFiles, type HostTree, type MarkedFile, type TreeFile } from './pairing.js';
import { keptHostFiles, namedColumnCopies, pairCopies } from './copies.js';

/**
 * The new name of a moved file or dir (`c` its deletion) when `chosen` takes the deletion
 * without it (for a dir, without all of its new tree): deleting the old name alone would lose
 * the content. Undefined for every other change. What a commit holds (commit/plan.ts) and pick
 * mode leaves out (cli/review.ts).
 */
export function movedAwayAlone(c: Change, chosen: ReadonlySet<string>, byPath: ReadonlyMap<string, Change>): Pick<Change, 'path' | 'type'> | undefined {
  if (c.change !== 'deleted' || c.movedTo === undefined) return undefined;
  const to = byPath.get(c.movedTo);
  if (to?.movedFrom === c.path) {
    if (!chosen.has(to.path)) return to;
    if (to.type !== 'dir') return undefined;
  } else if (c.type !== 'dir' || to?.change === 'added') {
    return undefined;
  }
  // A moved dir: every change of its new tree (a few dirs a review, so a pass each). A move a
  // commit held before (heldMovesAgain) has a new dir that is no longer new: no line of its own.
  for (const p of byPath.keys()) if (!chosen.has(p) && isWithin(p, c.movedTo)) return to ?? { path: c.movedTo, type: 'dir' };
  return undefined;
}

/**
 * How a held deletion names the move that holds it (`to`: movedAwayAlone's answer): `moved to
 * /srv/new, which is not all selected`. `chosen`: the word for what the user chose (a commit's
 * selection, pick mode's picks).
 */
export function movedAwayText(to: Pick<Change, 'path' | 'type'>, chosen: 'selected' | 'picked'): string {
  return `moved to ${display(to.path)}, which is not ${to.type === 'dir' ? 'all ' : ''}${chosen}`;
}

/**
 * The dir moves a commit held the deletion of while it wrote part of the new tree
 * (SandboxMeta.heldMoves): the old dir, still a deleted dir here and paired with nothing, is
 * moved to the new one again, which the pairing can no longer find (the new dir is on the
 * host now, part of its tree with it). So a later commit holds the deletion until the rest of
 * the new tree is selected too, or nothing of it is left to commit.
 */
export function heldMovesAgain(changes: readonly Change[], moves: ReadonlyArray<readonly [string, string]>): void {
  const byOld = new Map(moves);
  for (const c of changes) {
    if (c.change !== 'deleted' || c.type !== 'dir' || c.movedTo !== undefined) continue;
    const to = byOld.get(c.path);
    if (to !== undefined) c.movedTo = to;
  }
}

/** The moves a commit that held these deletions (`held`, their paths) remembers for the next (heldMovesAgain), with those remembered before. */
export function heldMovesAfter(changes: readonly Change[], held: ReadonlySet<string>, before: ReadonlyArray<[string, string]>, max: number): Array<[string, string]> {
  const out = new Map(before);
  for (const c of changes) if (c.change === 'deleted' && c.type === 'dir' && c.movedTo !== undefined && held.has(c.path)) { out.delete(c.path); out.set(c.path, c.movedTo); }
  return [...out].slice(-max);
}

/**
 * Marks each moved file's two changes (Change.movedFrom, movedTo, movedChanged). `deleted`:
 * the deleted changes of the same scan (only regular files are paired). `compare`: whether an
 * upper file and a host file hold the same bytes (content.ts sameContent; a test's own).
 */
export function pairMoves(marked: readonly MarkedFile[], deleted: readonly Change[], compare: (upper: string, host: string) => boolean = sameContent, budget = byteBudget()): void {
  if (!marked.length || !deleted.length) return;
  // What the marks ask for, then one pass over the deleted files that keeps only those: a
  // review of 200k deletions and a few moves indexes a few, not 200k (~0.8 s here).
  const paths = new Set<string>(), words = new Map<Change, number[]>(), wantedIno = new Set<number>(), sizes = new Set<number>(), madeSizes = new Set<number>();
  for (const { change: c, mark } of marked) {
    if (mark === null) { if (c.size > 0) madeSizes.add(c.size); }
    else if (typeof mark === 'string') paths.add(mark);
    else if (mark.length) { const w = handleWords(mark); if (w) { words.set(c, w); for (const x of w) wantedIno.add(x); } }
    else sizes.add(c.size);
  }
  const byPath = new Map<string, Change>();
  const byIno = new Map<number, Change[]>();
  const bySize = new Map<number, Change[]>();
  const byTime = new Map<string, Change[]>();
  for (const d of deleted) {
    if (d.type !== 'file' || !d.host || d.movedTo !== undefined) continue;
    if (paths.has(d.path)) byPath.set(d.path, d);
    const ino = d.host.ino % 0x100000000;
    if (wantedIno.has(ino)) addTo(byIno, ino, d);
    if (sizes.has(d.size)) addTo(bySize, d.size, d);
    if (madeSizes.has(d.size)) addTo(byTime, timeKey(d.size, d.host.mtimeMs), d);
  }
  if (!byPath.size && !byIno.size && !bySize.size && !byTime.size) return;
  const same = (c: Change, d: Change): boolean | null => {
    if (c.size !== d.size) return false;
    if (c.size === 0) return true;
    return c.upper === undefined ? null : sameWithin(budget, compare, c.upper, d.path, c.size);
  };
  const pair = (c: Change, d: Change, changed: boolean): void => {
    c.movedFrom = d.path;
    if (changed) c.movedChanged = true;
    noteAccess(c, d.host);
    d.movedTo = c.path;
  };
  for (const { change: c, mark } of marked) {
    // A modified file is a host file another was moved over (`mv foo.conf.dpkg-dist foo.conf`):
    // only a mark that names that file says so, never the same bytes alone.
    if ((c.change !== 'added' && (c.change !== 'modified' || !mark?.length)) || c.type !== 'file' || c.movedFrom !== undefined) continue;
    if (mark === null) {
      // Made anew: `mv` to another overlay (EXDEV) copies the file and keeps its modification
      // time, so the same size, time and bytes as exactly one deleted file. A copy changed
      // after, or made without the time (`cp` without -p), is no evidence.
      const t = c.up?.mtimeMs;
      const timed = t === undefined ? undefined : byTime.get(timeKey(c.size, t))?.filter((d) => sameTime(d.host!.mtimeMs, t));
      if (timed && timed.length <= CANDIDATES_MAX) pairOnBytes(c, timed);
      continue;
    }
    if (typeof mark === 'string') {
      const d = mark !== c.path ? byPath.get(mark) : undefined;
      if (d && d.movedTo === undefined) pair(c, d, same(c, d) !== true);
      continue;
    }
    if (mark.length) {
      const found = [...new Set((words.get(c) ?? []).flatMap((w) => byIno.get(w) ?? []))].filter((d) => d.movedTo === undefined);
      // Two deleted files whose inode numbers are words of one handle: which it was is not known.
      if (found.length === 1) pair(c, found[0]!, same(c, found[0]!) !== true);
      continue;
    }
    // No handle: the same bytes, in exactly one deleted file (an empty file's proves nothing,
    // so an empty one pairs only with an empty file of its own name). Asked of a few only.
    const bucket = bySize.get(c.size);
    if (!bucket || bucket.length > CANDIDATES_MAX) continue;
    pairOnBytes(c, bucket.filter((d) => c.size > 0 || nameB(d.path) === nameB(c.path)));
  }
  /** Pairs c with the one of `candidates` (not yet paired) that holds its bytes, when exactly one does and none was left unread. */
  function pairOnBytes(c: Change, candidates: readonly Change[]): void {
    const equal: Change[] = [];
    let unsure = false;
    for (const d of candidates) {
      if (d.movedTo !== undefined) continue;
      const s = same(c, d);
      if (s === null) unsure = true;
      else if (s) equal.push(d);
    }
    if (equal.length === 1 && !unsure) pair(c, equal[0]!, false);
  }
}

/**
 * What pairDirMoves found of a tree the command changed after moving it (the new dir's
 * movedChanged): the old tree's non-empty files not below the new dir as they were, and all
 * of its regular files, by their paths below the old dir. What `sbx diff` shows against the
 * old files, and the old files the new tree no longer has, without reading either tree again.
 */
export interface ChangedTree { differ: ReadonlySet<string>; files: readonly string[] }
const changedTrees = new WeakMap<Change, ChangedTree>();
/** The ChangedTree of a new dir's change that pairDirMoves marked movedChanged. */
export const changedTree = (dir: Change): ChangedTree | undefined => changedTrees.get(dir);

// A dir `mv` copied: how many deleted dirs are looked into.
const DIRS_MAX = 8;

/** The deleted host dirs pairDirMoves looks into (up to DIRS_MAX), each with its tree's files (treeFiles). */
export function deletedTrees(changes: readonly Change[], mayHaveGone: (f: TreeFile) => boolean): Map<Change, HostTree | null> {
  const out = new Map<Change, HostTree | null>();
  for (const c of changes) {
    if (out.size >= DIRS_MAX) break;
    if (c.change === 'deleted' && c.type === 'dir' && c.host && c.movedTo === undefined) out.set(c, treeFiles(c.path, mayHaveGone));
  }
  return out;
}

/**
 * A host dir the sandbox moved (`mv old new`): overlayfs refuses to rename a host dir (EXDEV),
 * so `mv` copies its tree, keeping each file's time, then removes it; the layer holds a new
 * dir of files with no mark and the old dir deleted as one change. Paired (Change.movedFrom on
 * the new dir, movedTo on the old) when at least half of the non-empty regular files the
 * host's dir holds are at the same place below a new dir (files made anew) with their size,
 * time and bytes: the command may have changed or removed the others after the move
 * (movedChanged on the new dir; the review shows those against the old files, and those of
 * another mode or owner too, with it; sourceDetails on the new dir says its own). Up to DIRS_MAX
 * deleted dirs of up to DIR_ENTRIES_MAX entries; `made`: the new files with no mark; `trees`:
 * deletedTrees when the caller read them already; `changedAfter`: false when `made` may lack
 * some of the new tree's files (classify's objects without the columns): whole trees only.
 */
export function pairDirMoves(changes: readonly Change[], made: readonly Change[], compare: (upper: string, host: string) => boolean = sameContent, budget = byteBudget(), trees?: Map<Change, HostTree | null>, changedAfter = true): void {
  if (!made.length) return;
  const madeAt = new Map<string, Change>();
  for (const c of made) if (c.movedFrom === undefined) madeAt.set(c.path, c);
  const newDirs = new Map<string, Change>();
  for (const c of changes) if (c.change === 'added' && c.type === 'dir' && c.movedFrom === undefined) newDirs.set(c.path, c);
  if (!madeAt.size || !newDirs.size) return;
  // One file's name, size and time, to find where the tree went: the new dirs whose file of
  // that place matches.
  const byKey = new Map<string, Change[]>();
  const keyOf = (name: string, size: number, mtimeMs: number): string => `${name}\0${timeKey(size, mtimeMs)}`;
  for (const c of madeAt.values()) {
    const k = keyOf(nameB(c.path), c.size, c.up!.mtimeMs);
    const l = byKey.get(k);
    if (l) l.push(c); else byKey.set(k, [c]);
  }
  trees ??= deletedTrees(changes, (f) => byKey.has(keyOf(nameB(f.rel), f.size, f.mtimeMs)));
  for (const [d, tree] of trees) {
    if (!tree || d.movedTo !== undefined) continue;
    const files = tree.files;
    // The new dirs that a probed file's name, size and time place the tree at.
    const roots = new Set<string>();
    for (const f of files.slice(0, PROBE_FILES)) {
      for (const c of byKey.get(keyOf(nameB(f.rel), f.size, f.mtimeMs)) ?? []) {
        if (!c.path.endsWith(`/${f.rel}`)) continue;
        const r = c.path.slice(0, c.path.length - f.rel.length - 1);
        if (r !== d.path && newDirs.has(r) && newDirs.get(r)!.movedFrom === undefined) roots.add(r);
      }
    }
    // How many files may differ: past that a candidate is given up, its other files' bytes
    // not read (they would only spend the budget the review's other pairings share).
    const most = changedAfter ? Math.floor(files.length / 2) : 0;
    let best: { root: string; differ: Set<string>; other: number } | null = null;
    for (const root of [...roots].slice(0, CANDIDATES_MAX)) {
      // `differ`: the files no longer as they were; `other`: those of them with other bytes. A
      // file with its bytes and another mode or owner (opened to others after the move) is
      // evidence of the move all the same, and shown as changed, with its mode.
      const differ = new Set<string>();
      let other = 0;
      for (const f of files) {
        const c = madeAt.get(joinB(root, f.rel));
        const held = c !== undefined && c.size === f.size && sameTime(c.up!.mtimeMs, f.mtimeMs) && c.upper !== undefined &&
          sameWithin(budget, compare, c.upper, joinB(d.path, f.rel), c.size) === true;
        if (held) { if (accessDiff(c.up!, f).length) differ.add(f.rel); continue; }
        differ.add(f.rel);
        if (++other > most) break;
      }
      if (other <= most && (!best || other < best.other || (other === best.other && differ.size < best.differ.size))) best = { root, differ, other };
      if (!differ.size) break;
    }
    if (!best) continue;
    const to = newDirs.get(best.root)!;
    to.movedFrom = d.path;
    noteAccess(to, d.host);
    if (best.differ.size) {
      to.movedChanged = true;
      changedTrees.set(to, { differ: best.differ, files: [...files.map((f) => f.rel), ...tree.empty] });
    }
    d.movedTo = best.root;
  }
}

// A full review's column entries asked for their time, at most: each is an lstat of a layer file.
const COLUMN_STATS_MAX = 4096;

/**
 * The column dirs (by index, 1) at or below a new dir where a deleted tree's first files
 * (PROBE_FILES of them) are, by their paths below it and their sizes: where the tree may have
 * gone (pairDirMoves looks for it there). Up to DIRS_MAX * CANDIDATES_MAX such new dirs.
 */
function treeRootDirs(named: NamedChanges, trees: ReadonlyMap<Change, HostTree | null>, changes: readonly Change[]): Uint8Array | null {
  const probes = new Map<string, TreeFile[]>();
  const sizes = new Set<number>();
  for (const [d, tree] of trees) {
    if (!tree || d.movedTo !== undefined) continue;
    for (const f of tree.files.slice(0, PROBE_FILES)) { addTo(probes, nameB(f.rel), f); sizes.add(f.size); }
  }
  if (!probes.size) return null;
  const newDirs = new Set<string>();
  for (const c of changes) if (c.change === 'added' && c.type === 'dir' && c.movedFrom === undefined) newDirs.add(c.path);
  const roots = new Set<string>();
  for (let i = 0; i < named.length && roots.size < DIRS_MAX * CANDIDATES_MAX; i++) {
    if (!sizes.has(named.sizeAt(i))) continue;
    const b = named.nameBytesAt(i);
    const l = probes.get(b.toString('latin1', named.nameFrom, named.nameFrom + named.nameLength));
    if (!l) continue;
    const p = named.pathAt(i);
    for (const f of l) {
      const root = p.endsWith(`/${f.rel}`) && f.size === named.sizeAt(i) ? p.slice(0, p.length - f.rel.length - 1) : '';
      if (newDirs.has(root)) roots.add(root);
    }
  }
  if (!roots.size) return null;
  const inRoot = new Uint8Array(named.dirs.length);
  for (let k = 0; k < named.dirs.length; k++) {
    const dir = named.dirs[k]!;
    for (const r of roots) if (dir.startsWith(`${r}/`)) { inRoot[k] = 1; break; }
  }
  return inRoot;
}

/**
 * The full review's plain new files are columns (named.ts), not changes, so pairMoves never
 * sees them: a new file a file was moved to across overlays (made anew, no mark) is one. Those
 * of a deleted file's size (or a changed host file's: a copy, pairCopies) are made changes with
 * their time read from the layer and paired as made files; the ones that pair leave the
 * columns for the change list. Up to
 * COLUMN_STATS_MAX of them (past that, they stay an addition and a deletion). `made`: the
 * new files with no mark that are changes of their own (classify.ts, those with xattrs).
 * `copies`: as classify's (the copies among the columns, copies.ts).
 */
export function pairColumnMoves(named: NamedChanges, changes: readonly Change[], made: readonly Change[], compare: (upper: string, host: string) => boolean = sameContent, budget = byteBudget(), copies: readonly string[] | null = null): { moved: Change[]; named: NamedChanges } {
  if (!named.stats) return { moved: [], named };
  const deleted = changes.filter((c) => c.change === 'deleted');
  const kept = copies ? keptHostFiles(changes) : [];
  const sizes = new Set<number>();
  for (const d of deleted) if (d.type === 'file' && d.host && d.movedTo === undefined && d.size > 0) sizes.add(d.size);
  for (const k of kept) if (k.host!.size > 0) sizes.add(k.host!.size);
  // A dir moved: the files of its new tree are columns too, those with xattrs `made` (a tree
  // is read past its first file only when a new file of either kind has that file's size).
  let newSizes: Set<number> | null = null;
  const trees = deleted.some((d) => d.type === 'dir') ? deletedTrees(deleted, (f) => {
    if (!newSizes) {
      newSizes = new Set(made.map((c) => c.size));
      for (let i = 0; i < named.length; i++) newSizes.add(named.sizeAt(i));
    }
    return newSizes.has(f.size);
  }) : null;
  for (const tree of trees?.values() ?? []) for (const f of tree?.files ?? []) sizes.add(f.size);
  const asked: Change[] = [];
  const done = new Uint8Array(named.length);
  const ask = (i: number): void => {
    done[i] = 1;
    if (!sizes.has(named.sizeAt(i))) return;
    const c = named.changeAt(i);
    const st = c.upper === undefined ? null : lstatB(c.upper);
    if (st?.type === 'file' && st.size === c.size) asked.push({ ...c, up: { ...c.up!, mtimeMs: st.mtimeMs } });
  };
  // First the entries below the new dirs a moved tree's first files name: the budget goes in
  // path order, and new files of those sizes before the tree (a build's output, another copy)
  // took all of it, leaving a moved tree an addition and a deletion.
  const inRoot = trees?.size ? treeRootDirs(named, trees, changes) : null;
  for (let i = 0; inRoot && i < named.length && asked.length < COLUMN_STATS_MAX; i++) if (inRoot[named.dirAt(i)]) ask(i);
  for (let i = 0; i < named.length && asked.length < COLUMN_STATS_MAX && sizes.size; i++) if (!done[i]) ask(i);
  pairMoves(asked.map((change) => ({ change, mark: null })), deleted, compare, budget);
  // A dir's pairing marks the two dirs (objects), not its files, which stay columns. The new
  // tree's files with xattrs are objects (named.ts): asked with the columns, or a tree holding
  // both kinds was paired by neither this nor classify's attempt (which sees only objects).
  if (trees?.size) pairDirMoves(changes, [...asked, ...made], compare, budget, trees);
  pairCopies(asked.map((change) => ({ change, mark: null })), kept, compare, budget);
  const moved = asked.filter((c) => c.movedFrom !== undefined || c.copyOf !== undefined);
  const paths = new Set(moved.map((c) => c.path));
  // A copy (`cp fstab fstab.bak`) is found by its name, not its size.
  if (copies) for (const c of namedColumnCopies(named, changes, paths, compare, budget, copies)) { moved.push(c); paths.add(c.path); }
  if (!moved.length) return { moved, named };
  return { moved, named: named.filter((p) => !paths.has(p)) };
}

