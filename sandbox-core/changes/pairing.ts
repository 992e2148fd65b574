// What the review's pairings (moves.ts, copies.ts) share: the evidence they read and its
// bounds. A pairing reads host and layer files only to say what a change is; it never decides
// what a commit writes, so past a bound a change is said as it was before, never more.
import type { Change } from './types.js';
import { joinB } from '../base/bpath.js';
import { hostDirNames } from './host-tree.js';
import { accessDiff, lstatB, type Access } from './stat.js';

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
 * An added (or modified) regular file of one name (nlink 1) with its copy-up mark (walk.ts
 * copiedFrom), or null for a file made anew (no copy-up: `mv` across two overlays copies).
 */
export interface MarkedFile { change: Change; mark: Buffer | string | null }

// Reading content only to find a move: bounded, so a review of many equal-sized files copied
// up in a user namespace never reads them all (past the budget, they stay an addition and a
// deletion, as before).
export const CANDIDATES_MAX = 8;
const BYTES_MAX = 64 << 20;

/** What a review may still read to find moves: BYTES_MAX for all of its pairings. */
export interface ByteBudget { left: number }
export const byteBudget = (): ByteBudget => ({ left: BYTES_MAX });

/** Whether an upper file and a host file of `size` bytes hold the same ones; null past the budget or unreadable. */
export function sameWithin(budget: ByteBudget, compare: (upper: string, host: string) => boolean, upper: string, host: string, size: number): boolean | null {
  if (budget.left < size) return null;
  budget.left -= size;
  try { return compare(upper, host); } catch { return null; }
}

/** Says on c, paired with host entry `was` (a move or a copy), how its mode and owner differ from it (Change.sourceDetails). */
export function noteAccess(c: Change, was: Access | null | undefined): void {
  const d = c.up && was ? accessDiff(c.up, was) : [];
  if (d.length) c.sourceDetails = d;
}

export const addTo = <K, V>(m: Map<K, V[]>, k: K, v: V): void => { const l = m.get(k); if (l) l.push(v); else m.set(k, [v]); };

// How many host entries a host dir's tree may hold to be read (treeFiles).
const DIR_ENTRIES_MAX = 4096;


/** A regular file of a host dir's tree: its path below the dir, size, time, mode and owner. */
export interface TreeFile extends Access { rel: string; size: number; mtimeMs: number }

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
export function treeFiles(dir: string, mayHaveGone: (f: TreeFile) => boolean): HostTree | null {
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
            const f = { rel: r, size: st.size, mtimeMs: st.mtimeMs, perm: st.perm, uid: st.uid, gid: st.gid };
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

// The files of a deleted tree asked where it went: one of them changed after the move still
// leaves the others to find the new dir by.
export const PROBE_FILES = 8;

// Whole milliseconds: the helper's and Node's stat make the same time as doubles a hair apart.
export const timeKey = (size: number, mtimeMs: number): string => `${size}:${Math.round(mtimeMs)}`;
