// A review's listings of HOST directories, made by the helper (native/hostdirs.c) with
// O_NOATIME: a review leaves the host as it was, and getdents moves a directory's atime
// (relatime: when it is not newer than the mtime, or a day old). Node cannot list a directory
// through an fd it opened with that flag (readdir takes a path, and /proc/self/fd/N is a new
// open without it), so these listings are native. Root may use the flag on any directory, an
// ordinary user only on its own: another's is listed as before (the kernel allows no other way).
//
// - what a deleted directory held: overlayfs records `rm -rf /usr/share/doc` as one whiteout,
//   so the review counts the host's tree below it to say `5,128 entries, 118 MiB`; capped so a
//   deleted /usr cannot stall the review, and the summary's trees measured in one helper call;
// - the host names an opaque (replaced) directory hides (classify.ts);
// - whether a host tree a commit would remove holds anything changed after the sandbox started
//   (commit/plan.ts).
// Every directory is reached from the host root one component at a time with no symlink
// followed, and trees are walked with an explicit stack (the helper's).
import { spawnSyncPiped } from '../base/light-process.js';
import { closeSync, openSync, constants as C } from 'node:fs';
import { O_PATH } from '../beneath.js';
import { SbxError } from '../base/errors.js';
import { errnoName } from '../base/errno.js';
import { helperPath } from '../helper.js';
import { physicalRoot } from './fsat.js';

export interface TreeSize {
  /** Entries below the directory (not counting it). */
  entries: number;
  /** Apparent bytes of the regular files below it. */
  bytes: number;
  /** The walk stopped at the cap: the counts are a lower bound. */
  capped: boolean;
  /**
   * A dir of the tree (its top too) could not be listed, as an ordinary user's of a dir only
   * root may read: counted as empty, so the counts are a lower bound too.
   */
  unlisted?: boolean;
}

export const TREE_SIZE_CAP = 250_000;

type Job = { kind: 'S'; cap: number } | { kind: 'L' } | { kind: 'C'; afterMs: number };

/** One job of the request: its kind and arguments, then its path below the root (no leading `/`). */
function jobBytes(job: Job, p: string): Buffer[] {
  const head = Buffer.alloc(job.kind === 'S' ? 8 : job.kind === 'C' ? 16 : 4);
  head.writeUInt32LE(job.kind.charCodeAt(0), 0);
  if (job.kind === 'S') head.writeUInt32LE(Math.min(job.cap, 0xffffffff), 4);
  if (job.kind === 'C') {
    // ctime after afterMs: the second and the nanoseconds of the same instant.
    const sec = Math.floor(job.afterMs / 1000);
    head.writeBigInt64LE(BigInt(sec), 4);
    head.writeUInt32LE(Math.min(Math.round((job.afterMs - sec * 1000) * 1e6), 999_999_999), 12);
  }
  return [head, Buffer.from(`${p.replace(/^\/+/, '')}\0`, 'latin1')];
}

/** One 'S' job's answer at `at`: the tree's size (null: it cannot be reached, or the answer is short) and where the next starts. */
function readSize(b: Buffer, at: number): { size: TreeSize | null; next: number } {
  if (at + 4 > b.length) return { size: null, next: b.length };
  if (b.readUInt32LE(at)) return { size: null, next: at + 4 };
  const flags = b.readUInt32LE(at + 20);
  const size: TreeSize = { entries: Number(b.readBigUInt64LE(at + 4)), bytes: Number(b.readBigUInt64LE(at + 12)), capped: (flags & 1) !== 0 };
  if (flags & 2) size.unlisted = true;
  return { size, next: at + 24 };
}

/** Runs the jobs (one per path, byte strings) in one helper call; its answer, or null when it could not run. */
function hostDirs(paths: string[], job: Job): Buffer | null {
  const parts = paths.flatMap((p) => jobBytes(job, p));
  let root: number;
  // The sandbox's "host": an image sandbox's merged lowers, else `/` (fsat.ts decides).
  try { root = openSync(Buffer.from(physicalRoot('/'), 'latin1'), O_PATH | C.O_DIRECTORY); } catch { return null; }
  let r;
  try {
    r = spawnSyncPiped(helperPath(), ['host-dirs'], Buffer.concat(parts), [root], 2 ** 31 - 1);
  } finally {
    closeSync(root);
  }
  if (r.error || r.status !== 0) return null;
  return r.stdout;
}

function helperFailed(): never {
  throw new SbxError('sbx-helper host-dirs failed: cannot list host directories', 125, "run 'sbx doctor'");
}

/** What each of the host trees below `paths` holds (null: it cannot be reached), in one helper call. */
export function hostTreeSizes(paths: string[], cap = TREE_SIZE_CAP): Map<string, TreeSize | null> {
  const out = new Map<string, TreeSize | null>();
  const b = paths.length ? hostDirs(paths, { kind: 'S', cap }) : null;
  let at = 0;
  for (const p of paths) {
    // No helper answer: no counts (the summary says nothing of the tree then, as for an unreadable one).
    if (!b) { out.set(p, null); continue; }
    const r = readSize(b, at);
    out.set(p, r.size);
    at = r.next;
  }
  return out;
}

/** Counts the host tree below `absPath` (a byte string); null when it cannot be opened. */
export function hostTreeSize(absPath: string, cap = TREE_SIZE_CAP): TreeSize | null {
  return hostTreeSizes([absPath], cap).get(absPath) ?? null;
}

/**
 * The summary's deleted trees, measured together: the ones added before the first `get` in
 * one helper call (the summary adds those it may show, then reads its lines), any other when
 * asked for.
 */
export class HostTreeSizes {
  private readonly queued: string[] = [];
  private readonly known = new Map<string, TreeSize | null>();
  constructor(private readonly cap = TREE_SIZE_CAP) {}

  add(absPath: string): void {
    this.queued.push(absPath);
  }

  get(absPath: string): TreeSize | null {
    if (!this.known.has(absPath)) {
      const batch = this.queued.includes(absPath) ? this.queued.splice(0) : [absPath];
      for (const [p, t] of hostTreeSizes(batch, this.cap)) this.known.set(p, t);
    }
    return this.known.get(absPath) ?? null;
  }
}

/** The names in each host directory of `paths`, or the errno name it cannot be listed with. */
export function hostDirNames(paths: string[]): Map<string, string[] | string> {
  const out = new Map<string, string[] | string>();
  if (!paths.length) return out;
  const b = hostDirs(paths, { kind: 'L' }) ?? helperFailed();
  let at = 0;
  for (const p of paths) {
    if (at + 4 > b.length) helperFailed();
    const err = b.readUInt32LE(at);
    at += 4;
    if (err) { out.set(p, errnoName(err)); continue; }
    const count = b.readUInt32LE(at), nbytes = b.readUInt32LE(at + 4);
    at += 8;
    const names = count ? b.toString('latin1', at, at + nbytes - 1).split('\0') : [];
    at += nbytes;
    out.set(p, names);
  }
  return out;
}

/** An entry below a host tree that keeps it from being removed: changed since, or a dir that cannot be listed. */
export interface FoundBelow { path: string; unlisted: boolean }

/**
 * For each host tree of `paths`, the first entry below it whose ctime is after `afterMs`, or a
 * directory in it that cannot be listed (`unlisted`); null when there is none.
 */
export function changedBelow(paths: string[], afterMs: number): Map<string, FoundBelow | null> {
  const out = new Map<string, FoundBelow | null>();
  if (!paths.length) return out;
  const b = hostDirs(paths, { kind: 'C', afterMs }) ?? helperFailed();
  let at = 0;
  for (const p of paths) {
    if (at + 4 > b.length) helperFailed();
    const state = b.readUInt32LE(at);
    at += 4;
    if (!state) { out.set(p, null); continue; }
    const len = b.readUInt32LE(at);
    out.set(p, { path: `/${b.toString('latin1', at + 4, at + 4 + len)}`, unlisted: state === 2 });
    at += 4 + len;
  }
  return out;
}
