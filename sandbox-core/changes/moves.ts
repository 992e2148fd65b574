// Host files the sandbox moved (`mv a.txt b.txt`, a log rotated): the layer holds the new name
// as a new file and a whiteout at the old one, which the review listed as an unrelated addition
// and deletion. Paired here, each line names the other. Only on evidence: the new file's
// copy-up mark names the old one (fuse-overlayfs: its path; overlayfs: a handle holding its
// inode number), or, where overlayfs could encode no handle (a user namespace: an ordinary
// user's sandbox), the mark says it was copied up from some host file and exactly one deleted
// file holds the same bytes. A commit writes the new name and removes the old one, each checked
// against the host as every change is; it only never removes the old name without the new one.
// Copies of host files (a backup, a rotated log) are paired the same way, to be said as copies.
import type { Change } from './types.js';
import { sameContent } from './content.js';
import { display, joinB, nameB, parentB } from '../base/bpath.js';
import { hostDirNames } from './host-tree.js';
import { isBelow, isWithin } from '../base/within.js';
import { lstatB, sameTime } from './stat.js';
import type { NamedChanges } from './named.js';

/**
 * The 32-bit words of the file id in overlayfs's origin mark (struct ovl_fb: version 0, magic
 * 0xfb, length, flags, type, a 16-byte uuid, then the lower filesystem's file id), or null when
 * it is not one. Every common filesystem's id holds the inode number (or its low half) as one
 * of them: ext4 (ino, generation), tmpfs (generation, ino low, ino high), btrfs, xfs.
 */
export function handleWords(fh: Buffer): number[] | null {
  if (fh.length < 25 || fh[0] !== 0 || fh[1] !== 0xfb || fh[2] !== fh.length || (fh.length - 21) % 4 !== 0) return null;
  const words: number[] = [];
  for (let o = 21; o < fh.length; o += 4) words.push(fh.readUInt32LE(o));
  return words;
}

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
 * An added (or modified) regular file of one name (nlink 1) with its copy-up mark (walk.ts
 * copiedFrom), or null for a file made anew (no copy-up: `mv` across two overlays copies).
 */
export interface MarkedFile { change: Change; mark: Buffer | string | null }

// Reading content only to find a move: bounded, so a review of many equal-sized files copied
// up in a user namespace never reads them all (past the budget, they stay an addition and a
// deletion, as before).
const CANDIDATES_MAX = 8;
const BYTES_MAX = 64 << 20;

/** What a review may still read to find moves: BYTES_MAX for all of its pairings. */
export interface ByteBudget { left: number }
export const byteBudget = (): ByteBudget => ({ left: BYTES_MAX });

/** Whether an upper file and a host file of `size` bytes hold the same ones; null past the budget or unreadable. */
function sameWithin(budget: ByteBudget, compare: (upper: string, host: string) => boolean, upper: string, host: string, size: number): boolean | null {
  if (budget.left < size) return null;
  budget.left -= size;
  try { return compare(upper, host); } catch { return null; }
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
 * Marks each new file that is a copy of a host file the sandbox then changed or replaced
 * (Change.copyOf, copiedTo): a backup (`sed -i.bak`, dpkg's `.dpkg-old`, `cp -p conf
 * conf.orig`), a rotated log (`mv app.log app.log.1` and a new app.log). `kept`: the scan's
 * host files that are still there, changed. On a move's evidence (pairMoves: a mark naming the
 * file, or with no handle the same size, and with no mark the same size and time, as exactly
 * one), and only with the host file's bytes: a copy changed after is no copy. Run after
 * pairMoves, on the files it left unpaired.
 */
export function pairCopies(marked: readonly MarkedFile[], kept: readonly Change[], compare: (upper: string, host: string) => boolean = sameContent, budget = byteBudget()): void {
  if (!marked.length || !kept.length) return;
  const byPath = new Map<string, Change>();
  const byIno = new Map<number, Change[]>();
  const bySize = new Map<number, Change[]>();
  const byTime = new Map<string, Change[]>();
  for (const k of kept) {
    if (k.host?.type !== 'file' || k.host.size === 0) continue;
    byPath.set(k.path, k);
    addTo(byIno, k.host.ino % 0x100000000, k);
    addTo(bySize, k.host.size, k);
    addTo(byTime, timeKey(k.host.size, k.host.mtimeMs), k);
  }
  if (!byPath.size) return;
  for (const { change: c, mark } of marked) {
    if (c.change !== 'added' || c.type !== 'file' || c.movedFrom !== undefined || c.size === 0 || c.upper === undefined) continue;
    let found: Change[];
    if (typeof mark === 'string') found = mark !== c.path && byPath.has(mark) ? [byPath.get(mark)!] : [];
    else if (mark?.length) found = [...new Set((handleWords(mark) ?? []).flatMap((w) => byIno.get(w) ?? []))];
    else if (mark === null) found = c.up === undefined ? [] : byTime.get(timeKey(c.size, c.up.mtimeMs)) ?? [];
    else found = bySize.get(c.size) ?? [];
    // More than a few of that size (and time) is no evidence which, and never read: a checkout
    // that changes 10k files of one size and adds 10k more is not 10^8 comparisons.
    if (!found.length || found.length > CANDIDATES_MAX) continue;
    found = found.filter((k) => k.host!.size === c.size && (mark !== null || sameTime(k.host!.mtimeMs, c.up!.mtimeMs)));
    const equal: Change[] = [];
    let unsure = false;
    for (const k of found) {
      const s = sameWithin(budget, compare, c.upper, k.path, c.size);
      if (s === null) unsure = true;
      else if (s) equal.push(k);
    }
    if (equal.length !== 1 || unsure) continue;
    c.copyOf = equal[0]!.path;
    // Two copies of one file (conf.orig, then conf.save): its line names the first.
    equal[0]!.copiedTo ??= c.path;
  }
}

// The named-copy pairing (findNamedCopies): the new files it looks at, the host files it asks
// with lstat (below the root each), the shorter names of a name it tries, and how many new files
// of one dir it asks by lstat before it lists the dir instead (one helper call for all such dirs).
const NAMED_COPY_FILES = 65536;
const NAMED_COPY_LSTATS = 4096;
const NAMED_COPY_NAMES = 4;
const NAMED_COPY_LSTAT_DIR = 8;
const NAMED_COPY_LISTED = 256;

/** What the named-copy pairing knows of a review's changes (namedCopies). */
export interface NamedCopies { changedDirs: Set<string>; gone: Set<string>; kept: Map<string, Change> }

export function namedCopies(changes: readonly Change[]): NamedCopies {
  const changedDirs = new Set<string>(), gone = new Set<string>(), kept = new Map<string, Change>();
  for (const c of changes) {
    if (c.change === 'deleted') gone.add(c.path);
    else if (c.type === 'dir' && (c.change === 'added' || c.change === 'replaced')) changedDirs.add(c.path);
    else if (c.host?.type === 'file' && (c.change === 'modified' || c.change === 'replaced')) kept.set(c.path, c);
  }
  return { changedDirs, gone, kept };
}

/**
 * New files that may be copies named after host files: by host dir, the indices of those in
 * it, each with its name, size and upper path, and what to do when one is (`p`: that file).
 * Names and paths are made only for the files of a dir that could hold such a file.
 */
interface CopySource {
  byDir: Map<string, number[]>;
  name(i: number): string;
  size(i: number): number;
  upper(i: number): string;
  found(i: number, p: string): void;
}

/** A host entry's stat; null when it is not there or cannot be asked (in a dir the user may not search: EACCES). */
function hostStat(p: string): ReturnType<typeof lstatB> {
  try { return lstatB(p); } catch { return null; }
}

const isNameBreak = (ch: number): boolean => ch === 0x2e || ch === 0x7e || ch === 0x2d || ch === 0x5f;

/**
 * Each new file of `src` that holds the bytes of the host file whose name its own extends
 * (its name up to a `.`, `~`, `-` or `_`, the longest first, up to NAMED_COPY_NAMES of them:
 * `fstab.bak`, `app.log.1`, `conf~`, `site.conf.dpkg-old`) in the same host dir, when the
 * sandbox kept that dir as a dir and did not delete the file. A copy made without its time
 * (`cp fstab fstab.bak`) of a file the sandbox did not touch has no other evidence, and its
 * name and the same bytes are all "copy of the host's fstab" says. A dir with many new files
 * (a build's output) is listed once, by the helper with all such dirs, instead of each
 * shorter name asked with lstat: a dir the host has empty asks nothing more.
 */
function findNamedCopies(src: CopySource, n: NamedCopies, compare: (upper: string, host: string) => boolean, budget: ByteBudget): void {
  let lstats = NAMED_COPY_LSTATS;
  const tryNames = (dir: string, i: number, there: ReadonlySet<string> | null): void => {
    const name = src.name(i);
    for (let k = name.length - 1, tried = 0; k > 0 && tried < NAMED_COPY_NAMES && lstats > 0; k--) {
      if (!isNameBreak(name.charCodeAt(k))) continue;
      tried++;
      const base = name.slice(0, k);
      if (there && !there.has(base)) continue;
      const p = joinB(dir, base);
      if (n.gone.has(p)) continue;
      lstats--;
      const st = hostStat(p);
      const size = src.size(i);
      if (st?.type === 'file' && st.size === size && sameWithin(budget, compare, src.upper(i), p, size) === true) { src.found(i, p); return; }
    }
  };
  const listed: string[] = [];
  for (const [dir, l] of src.byDir) {
    if (l.length <= NAMED_COPY_LSTAT_DIR) for (const i of l) tryNames(dir, i, null);
    else if (listed.length < NAMED_COPY_LISTED) listed.push(dir);
  }
  const names = hostDirNames(listed);
  for (const dir of listed) {
    const got = names.get(dir);
    if (typeof got !== 'object' || !got.length) continue;
    const there = new Set(got);
    for (const i of src.byDir.get(dir)!) tryNames(dir, i, there);
  }
}

/** Marks c a copy of host file p. */
function markCopy(n: NamedCopies, c: Change, p: string): void {
  c.copyOf = p;
  const k = n.kept.get(p);
  if (k) k.copiedTo ??= c.path;
}

/** findNamedCopies for each new file of `added` (changes of `changes`) that no other pairing took. */
export function pairNamedCopies(added: readonly Change[], changes: readonly Change[], compare: (upper: string, host: string) => boolean = sameContent, budget = byteBudget()): void {
  let n: NamedCopies | null = null;
  const byDir = new Map<string, number[]>();
  let count = 0;
  let last = '\0', list: number[] | null = null;
  for (let i = 0; i < added.length && count < NAMED_COPY_FILES; i++) {
    const c = added[i]!;
    if (c.change !== 'added' || c.type !== 'file' || c.movedFrom !== undefined || c.copyOf !== undefined || c.upper === undefined || c.size === 0) continue;
    const p = c.path;
    const slash = p.lastIndexOf('/');
    let k = p.length - 1;
    while (k > slash + 1 && !isNameBreak(p.charCodeAt(k))) k--;
    if (k <= slash + 1) continue;
    n ??= namedCopies(changes);
    // A dir's files come one after another: its path is cut out and looked up once for them.
    if (slash !== last.length || !p.startsWith(last)) {
      last = slash > 0 ? p.slice(0, slash) : '';
      const dir = last || '/';
      list = n.changedDirs.has(dir) ? null : byDir.get(dir) ?? null;
      if (!list && !n.changedDirs.has(dir)) byDir.set(dir, list = []);
    }
    if (!list) continue;
    list.push(i);
    count++;
  }
  if (!n || !count) return;
  const nc = n;
  findNamedCopies({ byDir, name: (i) => nameB(added[i]!.path), size: (i) => added[i]!.size, upper: (i) => added[i]!.upper!, found: (i, p) => markCopy(nc, added[i]!, p) }, n, compare, budget);
}

/** The changes of host files that are still there, changed (pairCopies' `kept`). */
export const keptHostFiles = (changes: readonly Change[]): Change[] => changes.filter((c) => (c.change === 'modified' || c.change === 'replaced') && c.host?.type === 'file');

const addTo = <K>(m: Map<K, Change[]>, k: K, d: Change): void => { const l = m.get(k); if (l) l.push(d); else m.set(k, [d]); };

// A dir `mv` copied: how many deleted dirs are looked into, and how many host entries each may hold.
const DIRS_MAX = 8;
const DIR_ENTRIES_MAX = 4096;

/** A regular file of a deleted host dir's tree: its path below the dir, size and time. */
export interface TreeFile { rel: string; size: number; mtimeMs: number }

/** A deleted host dir's tree: its non-empty regular files, and its empty ones' paths (below the dir). */
export interface HostTree { files: TreeFile[]; empty: string[] }

/**
 * The regular files of a host dir's tree, or null when it holds no non-empty one, more than
 * DIR_ENTRIES_MAX entries, or cannot be read. Each level's dirs are listed by the helper in one
 * call (host-tree.ts hostDirNames: a review moves no host atime; Node's readdir would) and
 * each entry is asked with lstat below the root (no symlink followed). An empty file's bytes
 * and time say nothing of where it went: only its path is kept. `mayHaveGone`: whether a
 * file could have gone somewhere; when none of the first PROBE_FILES non-empty ones could,
 * the rest is not read (a review after `rm -rf node_modules; npm ci` lists a few files of it,
 * not 4,096 entries).
 */
function treeFiles(dir: string, mayHaveGone: (f: TreeFile) => boolean): HostTree | null {
  const files: TreeFile[] = [];
  const empty: string[] = [];
  let level = [''];
  let seen = 0;
  let ok = false;
  try {
    while (level.length) {
      const at = (rel: string): string => (rel ? joinB(dir, rel) : dir);
      const listed = hostDirNames(level.map(at));
      const next: string[] = [];
      for (const rel of level) {
        const names = listed.get(at(rel));
        // Counted before any is asked: a dir of 23k files cost ~4,096 lstats before its give-up.
        if (typeof names !== 'object' || (seen += names.length) > DIR_ENTRIES_MAX) return null;
        for (const name of names) {
          const r = rel ? `${rel}/${name}` : name;
          const st = lstatB(joinB(dir, r));
          if (st?.type === 'dir') next.push(r);
          else if (st?.type === 'file' && st.size === 0) empty.push(r);
          else if (st?.type === 'file') {
            const f = { rel: r, size: st.size, mtimeMs: st.mtimeMs };
            if (!ok && files.length < PROBE_FILES) ok = mayHaveGone(f);
            files.push(f);
            if (!ok && files.length >= PROBE_FILES) return null;
          }
        }
      }
      level = next;
    }
  } catch { return null; }
  return ok ? { files, empty } : null;
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

// The files of a deleted tree asked where it went: one of them changed after the move still
// leaves the others to find the new dir by.
const PROBE_FILES = 8;

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
 * (movedChanged on the new dir; the review shows those against the old files). Up to DIRS_MAX
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
    let best: { root: string; differ: Set<string> } | null = null;
    for (const root of [...roots].slice(0, CANDIDATES_MAX)) {
      const differ = new Set<string>();
      for (const f of files) {
        const c = madeAt.get(joinB(root, f.rel));
        const held = c !== undefined && c.size === f.size && sameTime(c.up!.mtimeMs, f.mtimeMs) && c.upper !== undefined &&
          sameWithin(budget, compare, c.upper, joinB(d.path, f.rel), c.size) === true;
        if (!held && differ.add(f.rel).size > most) break;
      }
      if (differ.size <= most && (!best || differ.size < best.differ.size)) best = { root, differ };
      if (!differ.size) break;
    }
    if (!best) continue;
    const to = newDirs.get(best.root)!;
    to.movedFrom = d.path;
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
 * The full review's plain new files are columns (named.ts), not changes, so pairMoves never
 * sees them: a new file a file was moved to across overlays (made anew, no mark) is one. Those
 * of a deleted file's size (or a changed host file's: a copy, pairCopies) are made changes with
 * their time read from the layer and paired as made files; the ones that pair leave the
 * columns for the change list. Up to
 * COLUMN_STATS_MAX of them (past that, they stay an addition and a deletion). `made`: the
 * new files with no mark that are changes of their own (classify.ts, those with xattrs).
 */
export function pairColumnMoves(named: NamedChanges, changes: readonly Change[], made: readonly Change[], compare: (upper: string, host: string) => boolean = sameContent, budget = byteBudget()): { moved: Change[]; named: NamedChanges } {
  if (!named.stats) return { moved: [], named };
  const deleted = changes.filter((c) => c.change === 'deleted');
  const kept = keptHostFiles(changes);
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
  for (let i = 0; i < named.length && asked.length < COLUMN_STATS_MAX && sizes.size; i++) {
    if (!sizes.has(named.sizeAt(i))) continue;
    const c = named.changeAt(i);
    const st = c.upper === undefined ? null : lstatB(c.upper);
    if (st?.type === 'file' && st.size === c.size) asked.push({ ...c, up: { ...c.up!, mtimeMs: st.mtimeMs } });
  }
  pairMoves(asked.map((change) => ({ change, mark: null })), deleted, compare, budget);
  // A dir's pairing marks the two dirs (objects), not its files, which stay columns. The new
  // tree's files with xattrs are objects (named.ts): asked with the columns, or a tree holding
  // both kinds was paired by neither this nor classify's attempt (which sees only objects).
  if (trees?.size) pairDirMoves(changes, [...asked, ...made], compare, budget, trees);
  pairCopies(asked.map((change) => ({ change, mark: null })), kept, compare, budget);
  const moved = asked.filter((c) => c.movedFrom !== undefined || c.copyOf !== undefined);
  const paths = new Set(moved.map((c) => c.path));
  // A copy (`cp fstab fstab.bak`) is found by its name, not its size.
  for (const c of namedColumnCopies(named, changes, paths, compare, budget)) { moved.push(c); paths.add(c.path); }
  if (!moved.length) return { moved, named };
  return { moved, named: named.filter((p) => !paths.has(p)) };
}

/**
 * The full review's column entries that are named copies (findNamedCopies), as changes: a
 * plain new file in a host dir the sandbox kept, whose name has a `.`, `~`, `-` or `_` past its
 * first byte. `taken`: the paths another pairing took already.
 */
function namedColumnCopies(named: NamedChanges, changes: readonly Change[], taken: ReadonlySet<string>, compare: (upper: string, host: string) => boolean, budget: ByteBudget): Change[] {
  const out: Change[] = [];
  let n: NamedCopies | null = null;
  const byDir = new Map<string, number[]>();
  // Each dir index's path, or null when the sandbox made or replaced that dir.
  const dirOf: Array<string | null | undefined> = [];
  let count = 0;
  for (let i = 0; i < named.length && count < NAMED_COPY_FILES; i++) {
    const d = named.dirAt(i);
    if (dirOf[d] === null) continue;
    const b = named.nameBytesAt(i), from = named.nameFrom;
    let k = from + named.nameLength - 1;
    while (k > from && !isNameBreak(b[k]!)) k--;
    if (k <= from) continue;
    n ??= namedCopies(changes);
    let dir = dirOf[d];
    if (dir === undefined) {
      const pre = named.dirs[d]!;
      dir = dirOf[d] = pre.length > 1 ? pre.slice(0, -1) : '/';
      if (n.changedDirs.has(dir)) { dirOf[d] = null; continue; }
    }
    if (dir === null) continue;
    const l = byDir.get(dir);
    if (l) l.push(i); else byDir.set(dir, [i]);
    count++;
  }
  if (!n || !count) return out;
  const nc = n;
  const name = (i: number): string => { const b = named.nameBytesAt(i); return b.toString('latin1', named.nameFrom, named.nameFrom + named.nameLength); };
  findNamedCopies({
    byDir, name, size: (i) => named.sizeAt(i), upper: (i) => named.upperAt(i),
    found: (i, p) => { if (taken.has(named.pathAt(i))) return; const c = named.changeAt(i); markCopy(nc, c, p); out.push(c); },
  }, n, compare, budget);
  return out;
}

// A dir copied with its tree (`cp -r nvim nvim.bak`): how many new dirs are looked into.
const DIR_COPIES_MAX = 8;

/**
 * A new dir that is a copy of a host dir (`cp -r ~/.config/nvim ~/.config/nvim.bak`, `cp -a
 * /etc/nginx /etc/nginx.orig`): named after it as a copied file is (findNamedCopies), in a host
 * dir the sandbox kept, the host dir not deleted inside, and its tree the host dir's: each of
 * the host dir's regular files at its place with its bytes, and below it nothing else the
 * sandbox added but dirs. Change.copyOf on the new dir and on each of its files; a tree of
 * other or more files, or of no non-empty one, is no copy. Up to DIR_COPIES_MAX dirs of up to
 * DIR_ENTRIES_MAX host entries (the tree listed as a deleted one is, no host atime moved), the
 * same byte budget. `named`: the full review's plain new files; its entries of such a tree are
 * returned as changes, to join the list.
 */
export function pairDirCopies(changes: readonly Change[], named: NamedChanges | null, compare: (upper: string, host: string) => boolean = sameContent, budget = byteBudget()): Change[] {
  const out: Change[] = [];
  let n: NamedCopies | null = null;
  let tried = 0;
  for (const d of changes) {
    if (d.change !== 'added' || d.type !== 'dir' || d.movedFrom !== undefined || d.copyOf !== undefined) continue;
    const name = nameB(d.path);
    let k = name.length - 1;
    while (k > 0 && !isNameBreak(name.charCodeAt(k))) k--;
    if (k <= 0) continue;
    n ??= namedCopies(changes);
    const dir = parentB(d.path);
    if (n.changedDirs.has(dir)) continue;
    let host: string | null = null;
    for (let tries = 0; k > 0 && tries < NAMED_COPY_NAMES && host === null; k--) {
      if (!isNameBreak(name.charCodeAt(k))) continue;
      tries++;
      const p = joinB(dir, name.slice(0, k));
      if (!n.gone.has(p) && !n.changedDirs.has(p) && hostStat(p)?.type === 'dir') host = p;
    }
    if (host === null || tried++ >= DIR_COPIES_MAX) continue;
    const tree = treeFiles(host, () => true);
    if (tree) out.push(...copiedTree(d, host, tree, changes, named, compare, budget));
  }
  return out;
}

/** The new dir d, when its tree is the host dir's (pairDirCopies): marked, with its column entries made changes. */
function copiedTree(d: Change, host: string, tree: HostTree, changes: readonly Change[], named: NamedChanges | null, compare: (upper: string, host: string) => boolean, budget: ByteBudget): Change[] {
  const want = new Map<string, number>();
  for (const f of tree.files) want.set(f.rel, f.size);
  for (const rel of tree.empty) want.set(rel, 0);
  const files: Change[] = [];
  const relOf = (p: string): string => p.slice(d.path.length + 1);
  const fits = (rel: string, size: number): boolean => want.get(rel) === size;
  for (const c of changes) {
    if (!isBelow(c.path, d.path)) continue;
    if (c.change !== 'added' || c.movedFrom !== undefined) return [];
    if (c.type === 'dir') continue;
    if (c.type !== 'file' || !fits(relOf(c.path), c.size)) return [];
    files.push(c);
  }
  const cols: number[] = [];
  if (named?.stats) {
    // Not sorted yet (scan.ts sorts it last): the tree's dirs by their prefixes, then one pass.
    const pre = `${d.path}/`;
    const inTree = new Uint8Array(named.dirs.length);
    let any = false;
    for (let k = 0; k < named.dirs.length; k++) if (named.dirs[k]!.startsWith(pre)) { inTree[k] = 1; any = true; }
    for (let j = 0; any && j < named.length; j++) {
      if (!inTree[named.dirAt(j)]) continue;
      if (cols.length + files.length >= want.size || !fits(relOf(named.pathAt(j)), named.sizeAt(j))) return [];
      cols.push(j);
    }
  }
  if (files.length + cols.length !== want.size) return [];
  const same = (upper: string | undefined, rel: string, size: number): boolean => size === 0 || (upper !== undefined && sameWithin(budget, compare, upper, joinB(host, rel), size) === true);
  for (const c of files) if (!same(c.upper, relOf(c.path), c.size)) return [];
  for (const j of cols) if (!same(named!.upperAt(j), relOf(named!.pathAt(j)), named!.sizeAt(j))) return [];
  d.copyOf = host;
  for (const c of files) c.copyOf = joinB(host, relOf(c.path));
  return cols.map((j) => {
    const c = named!.changeAt(j);
    c.copyOf = joinB(host, relOf(c.path));
    return c;
  });
}

// Whole milliseconds: the helper's and Node's stat make the same time as doubles a hair apart.
const timeKey = (size: number, mtimeMs: number): string => `${size}:${Math.round(mtimeMs)}`;
