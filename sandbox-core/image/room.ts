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

/** What a refusal tells the user to do. */
const HINT = 'free some space (sbx images --prune), or the image is not what it claims';

const mib = (n: number): string => `${Math.ceil(n / (1 << 20))} MiB`;

/** Refuses (one line) when writing `bytes` more below `dir` would leave less than the reserve. */
export function ensureRoom(dir: string, bytes: number, what: string): void {
  const st = statfsSync(dir);
  const free = st.bavail * st.bsize;
  const reserve = reserveOf(st.blocks * st.bsize);
  if (free - bytes < reserve) {
    throw new SbxError(`${what} needs ${mib(bytes)} more and the store's filesystem has ${mib(free)} free (sbx keeps ${mib(reserve)} free): refused`, 125, HINT);
  }
}

/** Room is looked at once per CHECK_EVERY bytes written (one statfs, not one per file). */
export const CHECK_EVERY = 64 << 20;

/** Inodes an import leaves free: 5% of the filesystem's (a layer of a million empty files is an 8 MB blob). */
export function inodeReserveOf(files: number): number {
  return Math.floor(files / 20);
}

/** Inodes granted per look at the free count (a filesystem's inodes are counted, unlike a file's bytes, one per entry). */
const INODES_EVERY = 4096;

/**
 * What a stream may still write below `dir` before the next look at the filesystem: each look
 * grants at most CHECK_EVERY bytes and INODES_EVERY inodes, never more than what is free above
 * the reserves, so the reserves hold as an unpack goes (a gzip layer's size and entry count
 * are known only once it is unpacked). A filesystem that reports no inode count (btrfs) has
 * no inode reserve.
 */
export class RoomBudget {
  private bytes = 0;
  private inodes = 0;
  constructor(private readonly dir: string, private readonly what: string) {}

  /** Takes `bytes` (at most CHECK_EVERY) and `inodes` (new files, dirs, links of their own) from the budget, or refuses with one line. */
  take(bytes: number, inodes = 0): void {
    if (bytes <= this.bytes && inodes <= this.inodes) { this.bytes -= bytes; this.inodes -= inodes; return; }
    const st = statfsSync(this.dir);
    const free = st.bavail * st.bsize;
    const reserve = reserveOf(st.blocks * st.bsize);
    // Never below 0: a store already under its reserve still takes entries that write no byte
    // (an empty file asks for inodes only, and must not be refused for "0 MiB").
    this.bytes = Math.max(0, Math.min(CHECK_EVERY, free - reserve));
    this.inodes = st.files > 0 ? Math.max(0, Math.min(INODES_EVERY, st.ffree - inodeReserveOf(st.files))) : INODES_EVERY;
    if (bytes > this.bytes) ensureRoom(this.dir, bytes, this.what);
    if (inodes > this.inodes) {
      throw new SbxError(`${this.what} needs more inodes and the store's filesystem has ${st.ffree} free (sbx keeps ${inodeReserveOf(st.files)} free): refused`, 125, HINT);
    }
    this.bytes -= bytes;
    this.inodes -= inodes;
  }
}
