// What a deleted directory held on the host: overlayfs records `rm -rf /usr/share/doc` as one
// whiteout, so the review counts the host's tree below it to say `5,128 entries, 118 MiB`.
// Walked fd-relative from `/` with no symlink followed (Dir.openBeneath), iteratively, one
// directory open at a time, and capped so a deleted /usr cannot stall the review.
import { Dir } from '../beneath.js';
import { physicalRoot } from './fsat.js';

export interface TreeSize {
  /** Entries below the directory (not counting it). */
  entries: number;
  /** Apparent bytes of the regular files below it. */
  bytes: number;
  /** The walk stopped at the cap: the counts are a lower bound. */
  capped: boolean;
}

export const TREE_SIZE_CAP = 250_000;

/** Counts the host tree below `absPath` (a byte string); null when it cannot be opened. */
export function hostTreeSize(absPath: string, cap = TREE_SIZE_CAP): TreeSize | null {
  let root: Dir;
  // The sandbox's "host": an image sandbox's merged lowers, else `/` (fsat.ts decides).
  try { root = Dir.open(physicalRoot('/')); } catch { return null; }
  const out: TreeSize = { entries: 0, bytes: 0, capped: false };
  try {
    const queue = [absPath.replace(/^\/+/, '')];
    let first = true;
    while (queue.length) {
      const rel = queue.pop()!;
      let dir: Dir;
      try { dir = Dir.openBeneath(root, rel); } catch { if (first) return null; continue; }
      first = false;
      try {
        for (const e of dir.list()) {
          if (++out.entries >= cap) { out.capped = true; return out; }
          if (e.isDirectory()) queue.push(`${rel}/${e.name}`);
          else if (e.isFile()) out.bytes += dir.lstat(e.name)?.size ?? 0;
        }
      } catch { /* unreadable: counted as far as it could be read */ } finally {
        dir.close();
      }
    }
    return out;
  } finally {
    root.close();
  }
}
