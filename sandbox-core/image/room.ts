// Disk space for what an image brings into the store. An image's sizes are the stranger's to
// choose: a layer blob can declare (and be, sparse in the layout) a terabyte of zeros, and a
// gzip layer unpacks ~1000 times bigger than its blob. sbx refuses to fill the store's
// filesystem with them: what it writes must leave RESERVE free (other programs, the sandbox's
// own upper layer, live on the same disk).
import { statfsSync } from 'node:fs';
import { SbxError } from '../base/errors.js';

/** The free space an import leaves: 5% of the filesystem, at most 1 GiB. */
export function reserveOf(total: number): number {
  return Math.min(1 << 30, Math.floor(total / 20));
}

const mib = (n: number): string => `${Math.ceil(n / (1 << 20))} MiB`;

/** Refuses (one line) when writing `bytes` more below `dir` would leave less than the reserve. */
export function ensureRoom(dir: string, bytes: number, what: string): void {
  const st = statfsSync(dir);
  const free = st.bavail * st.bsize;
  const reserve = reserveOf(st.blocks * st.bsize);
  if (free - bytes < reserve) {
    throw new SbxError(`${what} needs ${mib(bytes)} more and the store's filesystem has ${mib(free)} free (sbx keeps ${mib(reserve)} free): refused`, 125, 'free some space (sbx images --prune), or the image is not what it claims');
  }
}

/** Room is looked at once per CHECK_EVERY bytes written (one statfs, not one per file). */
export const CHECK_EVERY = 64 << 20;

/**
 * Bytes a stream may write below `dir` before the next look at the free space: each look
 * grants at most CHECK_EVERY and never more than the free space above the reserve, so the
 * reserve holds as bytes arrive (a gzip layer's size is known only once it is unpacked).
 */
export class RoomBudget {
  private left = 0;
  constructor(private readonly dir: string, private readonly what: string) {}

  /** Takes `bytes` (at most CHECK_EVERY) from the budget, or refuses with one line. */
  take(bytes: number): void {
    if (bytes <= this.left) { this.left -= bytes; return; }
    const st = statfsSync(this.dir);
    const free = st.bavail * st.bsize;
    const reserve = reserveOf(st.blocks * st.bsize);
    this.left = Math.min(CHECK_EVERY, free - reserve);
    if (bytes > this.left) ensureRoom(this.dir, bytes, this.what);
    this.left -= bytes;
  }
}
