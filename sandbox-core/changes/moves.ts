// Host files the sandbox moved (`mv a.txt b.txt`, a log rotated): the layer holds the new name
// as a new file and a whiteout at the old one, which the review listed as an unrelated addition
// and deletion. Paired here, each line names the other. Only on evidence: the new file's
// copy-up mark names the old one (fuse-overlayfs: its path; overlayfs: a handle holding its
// inode number), or, where overlayfs could encode no handle (a user namespace: an ordinary
// user's sandbox), the mark says it was copied up from some host file and exactly one deleted
// file holds the same bytes. A commit writes the new name and removes the old one, each checked
// against the host as every change is; it only never removes the old name without the new one.
import type { Change } from './types.js';
import { sameContent } from './content.js';
import { nameB } from '../base/bpath.js';
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
 * The new name of a moved file (`c` its deletion) when `chosen` takes the deletion without it:
 * deleting the old name alone would lose the content. Undefined for every other change. What
 * a commit holds (commit/plan.ts) and pick mode leaves out (cli/review.ts).
 */
export function movedAwayAlone(c: Change, chosen: ReadonlySet<string>, byPath: ReadonlyMap<string, Change>): Change | undefined {
  if (c.change !== 'deleted' || c.movedTo === undefined || chosen.has(c.movedTo)) return undefined;
  const to = byPath.get(c.movedTo);
  return to?.movedFrom === c.path ? to : undefined;
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

/**
 * Marks each moved file's two changes (Change.movedFrom, movedTo, movedChanged). `deleted`:
 * the deleted changes of the same scan (only regular files are paired). `compare`: whether an
 * upper file and a host file hold the same bytes (content.ts sameContent; a test's own).
 */
export function pairMoves(marked: readonly MarkedFile[], deleted: readonly Change[], compare: (upper: string, host: string) => boolean = sameContent): void {
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
  const add = <K>(m: Map<K, Change[]>, k: K, d: Change): void => { const l = m.get(k); if (l) l.push(d); else m.set(k, [d]); };
  for (const d of deleted) {
    if (d.type !== 'file' || !d.host || d.movedTo !== undefined) continue;
    if (paths.has(d.path)) byPath.set(d.path, d);
    const ino = d.host.ino % 0x100000000;
    if (wantedIno.has(ino)) add(byIno, ino, d);
    if (sizes.has(d.size)) add(bySize, d.size, d);
    if (madeSizes.has(d.size)) add(byTime, timeKey(d.size, d.host.mtimeMs), d);
  }
  if (!byPath.size && !byIno.size && !bySize.size && !byTime.size) return;
  let budget = BYTES_MAX;
  const same = (c: Change, d: Change): boolean | null => {
    if (c.size !== d.size) return false;
    if (c.size === 0) return true;
    if (c.upper === undefined || budget < c.size) return null;
    budget -= c.size;
    try { return compare(c.upper, d.path); } catch { return null; }
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

// A full review's column entries asked for their time, at most: each is an lstat of a layer file.
const COLUMN_STATS_MAX = 4096;

/**
 * The full review's plain new files are columns (named.ts), not changes, so pairMoves never
 * sees them: a new file a file was moved to across overlays (made anew, no mark) is one. Those
 * of a deleted file's size are made changes with their time read from the layer and paired as
 * made files; the ones that pair leave the columns for the change list. Up to
 * COLUMN_STATS_MAX of them (past that, they stay an addition and a deletion).
 */
export function pairColumnMoves(named: NamedChanges, deleted: readonly Change[], compare?: (upper: string, host: string) => boolean): { moved: Change[]; named: NamedChanges } {
  const sizes = new Set<number>();
  for (const d of deleted) if (d.type === 'file' && d.host && d.movedTo === undefined && d.size > 0) sizes.add(d.size);
  if (!sizes.size || !named.stats) return { moved: [], named };
  const asked: Change[] = [];
  for (let i = 0; i < named.length && asked.length < COLUMN_STATS_MAX; i++) {
    if (!sizes.has(named.sizeAt(i))) continue;
    const c = named.changeAt(i);
    const st = c.upper === undefined ? null : lstatB(c.upper);
    if (st?.type === 'file' && st.size === c.size) asked.push({ ...c, up: { ...c.up!, mtimeMs: st.mtimeMs } });
  }
  pairMoves(asked.map((change) => ({ change, mark: null })), deleted, compare);
  const moved = asked.filter((c) => c.movedFrom !== undefined);
  if (!moved.length) return { moved, named };
  const paths = new Set(moved.map((c) => c.path));
  return { moved, named: named.filter((p) => !paths.has(p)) };
}

// Whole milliseconds: the helper's and Node's stat make the same time as doubles a hair apart.
const timeKey = (size: number, mtimeMs: number): string => `${size}:${Math.round(mtimeMs)}`;
