// Pass 1 of a scan: the helper (`sbx-helper scan`, native/scan.c) walks every upper layer and
// the matching host directories in one process and streams compact records: stat fields and
// xattrs of each upper entry and of its host counterpart. This module decodes overlayfs
// whiteouts and opaque dirs from them and skips what is not the layer's (another layer's
// mount point, hidden paths). The helper opens every directory one component at a time below
// the layers dir or `/` with no symlink followed, at any depth; names are bytes.
import { childProcess } from '../base/builtin.js';
import { spawnSyncPiped } from '../base/light-process.js';
import { closeSync, readFileSync, readdirSync } from 'node:fs';
import { throughFuse, type Layer, type SandboxMeta } from '../types.js';
import type { EntryStat, EntryType, Timespec } from './types.js';
import { fromUser } from '../base/bpath.js';
import { isWithin } from '../base/within.js';
import { errnoName } from '../base/errno.js';
import { SbxError } from '../base/errors.js';
import { helperPath } from '../helper.js';
import { isDataXattr, relTo, type Xattrs } from './xattr.js';
import { gidBack, uidBack, unshiftXattrs, type IdShift } from './acl.js';
import { subordinateIds } from '../idmap.js';
import { planLayers, requestOf, type WalkPlan } from './scan-request.js';
import { settleUnreadable, type UnreadableDir } from './unreadable-copy.js';
import { NamedChanges } from './named.js';
import { givenAway, reviewer, type Owned } from './owner.js';
import { changedNothing, rootModeMoved } from './empty-scan.js';

export { upperDirOf } from './scan-request.js';

export interface UpperEntry {
  /** Host path (byte string). */
  host: string;
  /** Path in the upper layer; '' for a whiteout in the `.wh.` form (nothing to read). */
  upper: string;
  /** Index of the parent entry, -1 at a layer root. */
  parent: number;
  whiteout: boolean;
  /** The directory hides what the host has below it (own xattr or `.wh..wh..opq`). */
  opaque: boolean;
  up: EntryStat | null;
  /** Host entry; null when absent. */
  host0: EntryStat | null;
  /** Not reported itself: another layer's mount point or an ancestor of one. */
  skeleton: boolean;
  /** The layer's own root (walk.ts rootEntry): only what the command changed there is in `xattrs`. */
  layerRoot?: true;
  /** A layer root's xattrs the command removed (rootEntry). */
  xattrsRemoved?: string[];
  /** Lines of a new file as the helper counted them (WalkOptions.countLinesUpTo; see scan.c). */
  lines?: number;
  /** A new file's text as the helper read it (WalkOptions.readNewUpTo), or why not (scan.c). */
  text?: Buffer | number;
  xattrs: Xattrs;
  hostXattrs: Xattrs;
  /** Why its xattrs could not be read (an errno name): a commit must not make it without them. */
  attrsUnread?: string;
  /**
   * Where a non-dir entry was copied up from, by overlayfs's origin mark: the lower file's
   * handle (kernel overlayfs; empty when it could not encode one, as in a user namespace) or
   * its path in the view (fuse-overlayfs records the lower path); none for a file made inside.
   * classify.ts tells a host file deleted since from a rename inside.
   */
  copiedFrom?: Buffer | string;
}

export interface WalkResult {
  entries: UpperEntry[];
  /** Where each layer's entries begin in `entries` (one run of entries per layer, in order). */
  layerStarts?: number[];
  /** Names-only scans: the new regular files the host lacks, as columns, in none of `entries`. */
  named?: NamedChanges;
  errors: string[];
  /** How many of `errors` are dirs this user may not read (EACCES) that hold something: root reads them. */
  rootOnly?: number;
  /** Bytes the upper layers hold on disk (allocated blocks): what discarding frees. */
  layerBytes: number;
}

export interface WalkOptions {
  /** Called now and then with the number of entries seen. */
  progress?: (n: number) => void;
  /**
   * Read xattrs only where the kind of change depends on them (dirs, empty files, entries the
   * host also has): enough for a listing, not for a commit (new files' xattrs are not read).
   */
  fewXattrs?: boolean;
  /**
   * Count the lines of new regular files (for `diff --stat`) up to this many bytes each, in
   * the helper, as each file is met: one read per file, no Node file handle.
   */
  countLinesUpTo?: number;
  /**
   * Have the helper send the text of new regular files up to this many bytes each (for the
   * diffs of `sbx diff`), TEXT_BUDGET in all; sbx reads the rest itself. Shares the per-file
   * cap with countLinesUpTo (the larger is used).
   */
  readNewUpTo?: number;
  /**
   * Only what a list of names needs (`sbx diff --name-only`): a regular file or symlink whose
   * name the host side lacks is reported by the helper from its directory entry alone, with no
   * stat and no xattrs (native/scan.c, 'N' records); its `up` is a KindOnly: the type and
   * nothing else. Everything the host also has is read as in a full scan, so the kinds of
   * change are the same, with one exception: an empty file marked as an overlay whiteout by
   * xattr over a name the host lacks (which neither overlayfs nor a sandboxed command writes)
   * is listed as added. With countLinesUpTo (`--stat`) the helper opens each such file by
   * name to count its lines and sends the size it found. Never for a commit; implies fewXattrs.
   */
  namesOnly?: boolean;
  /**
   * The full review (`sbx diff`): a new regular file the host lacks, with one link, no
   * xattrs and nothing else to decide about it, is kept as columns (named.ts, with its mode,
   * size, blocks and text) instead of an entry: WalkResult.named, none of `entries`. Its
   * change is the one classify() would make (NamedChanges.changeAt). Never for a commit.
   */
  columns?: boolean;
  /** With columns: asked of each column entry as it is decoded, its answer kept (NamedChanges.mark). */
  markColumn?: (path: string, perm: number) => number;
  /** With columns: each column entry's text copied out of the answer as it is decoded (NamedChanges.keepsTexts). */
  keepTexts?: boolean;
}

/**
 * The stat of an entry the helper reported by name only (WalkOptions.namesOnly): the type,
 * every number NaN, so that a use a name list does not make shows as NaN, never as a value.
 */
class KindOnly implements EntryStat {
  readonly perm = NaN; readonly uid = NaN; readonly gid = NaN; readonly size = NaN; readonly mtimeMs = NaN; readonly atimeMs = NaN;
  readonly ctimeMs = NaN; readonly ino = NaN; readonly dev = NaN; readonly nlink = NaN; readonly rdev = NaN; readonly blocks = NaN;
  constructor(readonly type: EntryType) { Object.freeze(this); }
}
const KIND_ONLY = { file: new KindOnly('file'), symlink: new KindOnly('symlink') };
/** d_type values native/scan.c sends 'N' records for. */
const DT_REG = 8, DT_LNK = 10;

// Each engine's own marks, which the command cannot set through it. sbx mounts every kernel
// overlay with `userxattr`, and it refuses `user.overlay.*` to the command; any other name there
// is the command's own xattr (`setfattr -n user.fuseoverlayfs.opaque` on a dir of root's layer
// made a commit delete what the dir held, though the sandbox still showed it). fuse-overlayfs
// reads all three opaque names and refuses each of its prefixes to the command.
const KERNEL_OPAQUE = 'user.overlay.opaque';
const FUSE_OPAQUE_NAMES = new Set([KERNEL_OPAQUE, 'trusted.overlay.opaque', 'user.fuseoverlayfs.opaque']);
const isOpaqueName = (fuse: boolean, n: string): boolean => (fuse ? FUSE_OPAQUE_NAMES.has(n) : n === KERNEL_OPAQUE);
const KERNEL_WHITEOUT = 'user.overlay.whiteout';
// overlayfs marks a copied-up entry with the lower inode's handle; fuse-overlayfs with its path.
const KERNEL_ORIGIN = 'user.overlay.origin';
const FUSE_ORIGIN = 'user.fuseoverlayfs.origin';
const FUSE_PREFIX = 'user.fuseoverlayfs.';
/** columnSlot's answers. */
const COLUMN = 0, DROP = 1, OBJECT = 2;

/** fuse-overlayfs's whiteouts are `.wh.NAME` files (and `.wh..wh..opq` marks a dir opaque). */
function isWhiteoutName(b: Buffer, at: number, len: number): boolean {
  return len >= 4 && b[at] === 0x2e && b[at + 1] === 0x77 && b[at + 2] === 0x68 && b[at + 3] === 0x2e;
}

const S_IFMT = 0o170000;
const TYPES = new Map<number, EntryType>([
  [0o100000, 'file'], [0o040000, 'dir'], [0o120000, 'symlink'], [0o010000, 'fifo'], [0o140000, 'socket'], [0o020000, 'char'], [0o060000, 'block'],
]);
const EMPTY: Xattrs = [];
/** Bytes of a STAT in the helper's records (native/scan.c). */
const STAT_BYTES = 92;

// Little-endian reads without Buffer's bounds-checked methods (the decoder checks the end).
const u32 = (b: Buffer, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
const u64 = (b: Buffer, o: number): number => u32(b, o) + u32(b, o + 4) * 0x100000000;
const i64 = (b: Buffer, o: number): number => u32(b, o) + (b.readInt32LE(o + 4)) * 0x100000000;
/** Milliseconds as Node's Stats computes them (sec * 1e3 + nsec / 1e6). */
const msAt = (b: Buffer, o: number): number => i64(b, o) * 1e3 + u32(b, o + 8) / 1e6;
const typeAt = (b: Buffer, o: number): EntryType => TYPES.get(u32(b, o) & S_IFMT) ?? 'block';

/**
 * A STAT of the helper's answer, read from it when a field is asked for: a scan of 100k
 * entries keeps one small object per entry instead of thirteen fields and four heap numbers,
 * most of which a listing never reads. The owner can be set (walkUppers maps ids).
 */
class RecordStat implements EntryStat {
  private u = -1;
  private g = -1;
  /** Read by every step of the scan: decoded once. */
  readonly type: EntryType;
  constructor(private readonly b: Buffer, private readonly o: number) { this.type = typeAt(b, o); }
  get perm(): number { return u32(this.b, this.o) & 0o7777; }
  get uid(): number { return this.u >= 0 ? this.u : u32(this.b, this.o + 4); }
  set uid(v: number) { this.u = v; }
  get gid(): number { return this.g >= 0 ? this.g : u32(this.b, this.o + 8); }
  set gid(v: number) { this.g = v; }
  get nlink(): number { return u32(this.b, this.o + 12); }
  get size(): number { return u64(this.b, this.o + 16); }
  get blocks(): number { return u64(this.b, this.o + 24); }
  get ino(): number { return u64(this.b, this.o + 32); }
  get dev(): number { return u64(this.b, this.o + 40); }
  get rdev(): number { return u64(this.b, this.o + 48); }
  get atimeMs(): number { return msAt(this.b, this.o + 56); }
  get mtimeMs(): number { return msAt(this.b, this.o + 68); }
  get ctimeMs(): number { return msAt(this.b, this.o + 80); }
  get atimeSpec(): Timespec { return { sec: i64(this.b, this.o + 56), nsec: u32(this.b, this.o + 64) }; }
  get mtimeSpec(): Timespec { return { sec: i64(this.b, this.o + 68), nsec: u32(this.b, this.o + 76) }; }
  /** The plain fields (JSON, logs): never the record buffer. */
  toJSON(): EntryStat {
    return { type: this.type, perm: this.perm, uid: this.uid, gid: this.gid, size: this.size, mtimeMs: this.mtimeMs, atimeMs: this.atimeMs, ctimeMs: this.ctimeMs, ino: this.ino, dev: this.dev, nlink: this.nlink, rdev: this.rdev, blocks: this.blocks };
  }
}

/** Thrown by Reader when a record runs past the bytes received so far (see WalkDecoder.feed). */
const INCOMPLETE = Symbol('incomplete record');

/**
 * Progress is told every 16384 entries from the 64th on. A branch that record() first takes
 * after V8 has optimized it throws that code away and record() is compiled again (30-75 ms
 * of compiling in --trace-opt, on a core the helper walks with); before about its 8th call
 * nothing it takes is noted (V8 makes a function's feedback then). Entry 64 is in between.
 */
const PROGRESS_AT = 64;

/** Decodes the helper's records (native/scan.c) with a cursor: no per-field allocation. */
class Reader {
  off = 0;
  constructor(readonly b: Buffer) {}
  private need(n: number): void { if (this.off + n > this.b.length) throw INCOMPLETE; }
  u8(): number { this.need(1); return this.b[this.off++]!; }
  u16(): number { this.need(2); const v = this.b[this.off]! | (this.b[this.off + 1]! << 8); this.off += 2; return v; }
  u32(): number { this.need(4); const v = u32(this.b, this.off); this.off += 4; return v; }
  i32(): number { this.need(4); const v = u32(this.b, this.off) | 0; this.off += 4; return v; }
  u64(): number { this.need(8); const v = u64(this.b, this.off); this.off += 8; return v; }
  str(n: number): string { this.need(n); const v = this.b.toString('latin1', this.off, this.off + n); this.off += n; return v; }
  bytes(n: number): Buffer { this.need(n); const v = Buffer.from(this.b.subarray(this.off, this.off + n)); this.off += n; return v; }
  skip(n: number): void { this.need(n); this.off += n; }
  /** A `text` field: the bytes (a view of the answer, not a copy), or the helper's reason. */
  text(): Buffer | number {
    const n = this.i32();
    if (n < 0) return n;
    this.need(n);
    const v = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
  /** A STAT, read lazily from the record; the cursor moves past it. */
  stat(): RecordStat {
    this.need(STAT_BYTES);
    const st = new RecordStat(this.b, this.off);
    this.off += STAT_BYTES;
    return st;
  }
  /** A ROOT of an 'R' record: its stat and xattrs (or their errno), or null when not stat'ed. */
  root(): { st: RecordStat; x: Xattrs | number } | null {
    if (this.u32()) return null;
    const st = this.stat();
    return { st, x: this.xattrs() };
  }
  /** An xattr list, or its errno. */
  xattrs(): Xattrs | number {
    const errno = this.u32();
    if (errno) return errno;
    const n = this.u32();
    if (!n) return EMPTY;
    const list: Xattrs = [];
    for (let i = 0; i < n; i++) {
      const name = this.str(this.u32());
      list.push([name, this.bytes(this.u32())]);
    }
    return list;
  }
}

/** The exit status of a scan whose answer passed its `--whole-max` (native/scan.c). */
const PAST_WHOLE_MAX = 3;
const wholeMaxArgs = (max: number | undefined): string[] => (max ? [`--whole-max=${max}`] : []);

/**
 * Runs `sbx-helper scan` and returns its whole record stream; with `max`, null when the
 * answer passed `max` bytes (the helper stops as soon as it does: `--whole-max`).
 */
function runScan(req: { input: Buffer; fds: number[] }, max?: number): Buffer | null {
  let r;
  try {
    r = spawnSyncPiped(helperPath(), ['scan', ...wholeMaxArgs(max)], req.input, req.fds, max ? 2 * max : 2 ** 31 - 1);
  } finally {
    for (const fd of req.fds) closeSync(fd);
  }
  if (max && r.status === PAST_WHOLE_MAX) return null;
  if (r.error) throw new SbxError(`sbx-helper scan: ${r.error.message}`);
  if (r.status !== 0) throw new SbxError(`sbx-helper scan failed: ${String(r.stderr).trim()}`);
  return r.stdout;
}

/** runScanAsync's piece of the answer decoded per turn of the event loop, and the most it holds undecoded. */
const SLICE = 16 << 10, QUEUE_MAX = 8 << 20;

/**
 * The same, decoding the records as they arrive: Node decodes while the helper walks (two
 * processes, two cores) instead of after it, and the answer is never one buffer.
 */
function runScanAsync(req: { input: Buffer; fds: number[] }, dec: WalkDecoder): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let child;
    try {
      child = childProcess().spawn(helperPath(), ['scan'], { stdio: ['pipe', 'pipe', 'pipe', ...req.fds] });
    } catch (e) {
      reject(new SbxError(`sbx-helper scan: ${(e as Error).message}`));
      return;
    } finally {
      // The child has its own copies once spawned.
      for (const fd of req.fds) closeSync(fd);
    }
    let failed: unknown = null;
    const err: Buffer[] = [];
    // The helper's stdout is a socket (libuv makes a child's stdio pipes as socketpairs, so
    // scan.c's F_SETPIPE_SZ does nothing): it holds ~200 KiB, and the helper writes a
    // megabyte at a time. Decoded as it was read, a piece kept Node from reading while the
    // socket filled, and the helper's write, and with it its walk, waited for Node (1.2-1.9 s
    // of the helper's time in write(2) on 200k new files, against 0.35-0.6 s so). So a piece
    // read is only queued, and the queue is decoded about SLICE bytes (whole records) per turn
    // of the event loop, which reads the socket again in between; past QUEUE_MAX the socket
    // is not read until the queue empties.
    const queue: Buffer[] = [];
    let queued = 0;
    let scheduled = false;
    let exit: number | null | undefined;
    const settle = (): void => {
      if (failed) { reject(failed); return; }
      if (exit !== 0) { reject(new SbxError(`sbx-helper scan failed: ${Buffer.concat(err).toString().trim()}`)); return; }
      resolve();
    };
    const decodeSlice = (): void => {
      scheduled = false;
      const d = failed ? undefined : queue[0];
      if (d) {
        try {
          // Whole records up to SLICE bytes; the rest stays first in the queue, uncopied.
          const rest = dec.feed(d, SLICE);
          if (rest) queue[0] = rest; else queue.shift();
          queued -= d.length - (rest ? rest.length : 0);
        } catch (e) { failed = e; queue.length = 0; queued = 0; child.kill('SIGKILL'); }
      }
      if (queue.length) { scheduled = true; setImmediate(decodeSlice); return; }
      if (exit !== undefined) settle(); else if (child.stdout!.isPaused()) child.stdout!.resume();
    };
    child.on('error', (e) => { failed ??= new SbxError(`sbx-helper scan: ${e.message}`); });
    child.stdin!.on('error', () => { /* the exit status says why */ });
    child.stdin!.end(req.input);
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.stdout!.on('data', (d: Buffer) => {
      if (failed) return;
      queue.push(d);
      queued += d.length;
      if (queued > QUEUE_MAX) child.stdout!.pause();
      if (!scheduled) { scheduled = true; setImmediate(decodeSlice); }
    });
    child.on('close', (status) => {
      exit = status;
      if (!scheduled) settle();
    });
  });
}

/**
 * Turns the helper's records into UpperEntry objects, fed in pieces of any size: a record cut
 * by a piece's end is decoded once the rest has come.
 */
class WalkDecoder {
  readonly entries: UpperEntry[] = [];
  readonly errors: string[] = [];
  layerBytes = 0;
  private readonly meta: SandboxMeta;
  private readonly opts: WalkOptions;
  /**
   * The layers' host ids back to the sandbox's (acl.ts): root's shifted range from meta.json;
   * an ordinary user's subordinate range from /etc/subuid and /etc/subgid, looked up the first
   * time an entry is not the user's own (undefined until then). Never from that user's
   * meta.json, which root's review would otherwise trust to give a file any uid.
   */
  private shiftIds: IdShift | null | undefined;
  private readonly asRoot: boolean;
  /**
   * A new file a root commit may give away (owner.ts givenAway, asked with no parent) is an
   * object classify sees and flags or not, not a column entry: in root's review and in an
   * ordinary user's, which says what `sudo sbx commit` would give away.
   */
  private readonly reviewer = reviewer();
  /** The ids and mode givenAway is asked about, set per file (no object made per file). */
  private readonly owned: Owned = { uid: 0, gid: 0, perm: 0 };
  /**
   * Root's review of an ordinary user's sandbox: that user wrote meta.json and its layers'
   * `format`, which decides how owners and whiteouts are read; the layer must bear it out.
   */
  private readonly checkFormat: boolean;
  private readonly ownLower: boolean;
  private readonly targets: string[];
  private readonly roots: string[];
  private readonly jobLayers: number[];
  private readonly hidden: string[];
  private readonly bindPoints: string[];
  readonly shownEmpty: string[];
  /** precopy.ts's copies by host path: their inode and ctime in the layer when made. */
  private readonly precopied: Map<string, [number, number]> | null;
  private readonly lines: boolean;
  private readonly layersRoot: string;
  /** Dirs the scan could not read (EACCES): which error line each made. */
  private readonly unreadable: UnreadableDir[] = [];
  /** Dirs the helper made on the way to a bind's destination (entries' indexes, in path order). */
  private readonly madeForBinds: number[] = [];
  private readonly layerStarts: number[] = [];
  private readonly texts: boolean;
  // The helper's entry number (per layer) -> index in `entries`, -1 when not taken (skipped,
  // or below an entry that is not walked).
  private toIdx = new Int32Array(1024);
  private layer: Layer | null = null;
  private target = '';
  private root = '';
  private fuse = false;
  /** The layer's tree read through fuse-overlayfs (throughFuse): every host file looked root's (ownerBack). */
  private squash = false;
  private others: string[] = [];
  private num = 0;
  /** The entry (-1: the layer's root) whose children's path prefixes are cached below. */
  private prefixOf = -2;
  private hostPrefix = '';
  /** hostPrefix's bytes, at the start of `scratch`. */
  private hostPrefixLen = 0;
  private upperPrefix = '';
  /** Where a host path is put together: its dir's prefix, then the name's bytes (grows for deep paths). */
  private scratch = Buffer.allocUnsafe(4096);
  /** The new files of a names-only scan (see record()), and the current dir's index there. */
  readonly named: NamedChanges;
  private namedDir = -1;
  /**
   * The helper's number of the dir whose new files the last 'N' record added to `named` with
   * nothing to check (no hidden path, no other layer, no bind, no line count), or -2: the
   * next such record of that dir is taken by decodeFrom's short loop (the prefix is the same).
   */
  private fastParent = -2;
  /**
   * The same for the full review (WalkOptions.columns with the text of new files): the
   * helper's number of the dir whose last 'E' record record() kept as a column entry with
   * nothing to check but the record itself (no hidden path, no other layer, no bind, no fuse
   * layer), or -2: the next plain new file of that dir is taken by columnRecord().
   */
  private colParent = -2;
  /** Bytes received but not decoded yet (a record cut by the end of a piece). */
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** Pending bytes needed before decoding is tried again: a long record is not re-tried per piece. */
  private retryAt = 0;

  constructor(p: WalkPlan, opts: WalkOptions) {
    const meta = p.meta;
    this.meta = meta;
    this.opts = opts;
    this.asRoot = meta.uid !== 0 && !meta.options?.keepUser;
    this.shiftIds = meta.idShift ?? (this.asRoot ? undefined : null);
    // The lower layers are a tree the user owns (an image sandbox, --rootfs), not the host's.
    this.ownLower = !!(meta.image || meta.rootfs);
    this.checkFormat = process.geteuid?.() === 0 && meta.uid !== 0;
    this.targets = p.targets;
    this.roots = p.roots;
    this.jobLayers = p.jobLayers;
    this.layersRoot = p.layersRoot;
    this.hidden = meta.hidden.map(fromUser);
    // A bind's destination that the view lacked is made by the helper in the layer below the
    // bind; the command only ever saw the bound host path there.
    this.bindPoints = (meta.bindPoints ?? []).map(fromUser);
    // Directories shown empty because the user cannot read them (unreadable.ts): opaque in the
    // layer, but hiding nothing the sandbox saw; the host below them may be unreadable to us.
    this.shownEmpty = (meta.shownEmpty ?? []).map(fromUser);
    this.precopied = meta.precopied?.length ? new Map(meta.precopied.map(([p, ino, ctimeMs]) => [fromUser(p), [ino, ctimeMs]])) : null;
    this.lines = opts.countLinesUpTo !== undefined;
    this.named = new NamedChanges(this.lines, !!opts.columns && !opts.namesOnly, opts.markColumn ?? null, !!opts.keepTexts);
    this.texts = opts.readNewUpTo !== undefined;
  }

  /**
   * Decodes the records of `chunk`; with `upTo`, stops at the first record that starts at or
   * past that offset and returns the rest (from that record on: a view, no copy), else null.
   */
  feed(chunk: Buffer, upTo = Infinity): Buffer | null {
    if (!chunk.length) return null;
    if (!this.pendingLen) return this.decodeFrom(chunk, 0, upTo);
    this.pending.push(chunk);
    this.pendingLen += chunk.length;
    if (this.pendingLen < this.retryAt) return null;
    // The cut record is completed from the front of the new piece (a few KiB copied, more
    // only for a longer record), then the piece is decoded where it lies, never copied whole.
    let head: Buffer = Buffer.concat(this.pending.slice(0, -1));
    this.pending = [];
    this.pendingLen = 0;
    for (let take = Math.min(chunk.length, Math.max(4096, head.length)); ; take = Math.min(chunk.length, take * 4)) {
      const joined = Buffer.concat([head, chunk.subarray(0, take)]);
      const r = new Reader(joined);
      let start = 0;
      try {
        // Records that lie in `head` and the one that crosses into the new piece.
        do { start = r.off; this.record(r); } while (r.off < head.length);
      } catch (e) {
        if (e !== INCOMPLETE) throw e;
        if (take === chunk.length) { this.keep(joined.subarray(start)); return null; }
        head = joined.subarray(start, head.length);
        continue;
      }
      return this.decodeFrom(chunk, r.off - head.length, upTo);
    }
  }

  end(): WalkResult {
    if (this.pendingLen) {
      const rest = Buffer.concat(this.pending, this.pendingLen);
      this.pending = [];
      this.pendingLen = 0;
      this.decodeFrom(rest, 0);
      if (this.pendingLen) throw new SbxError('sbx-helper scan: malformed answer');
    }
    // Every job starts with its 'J' record, even one whose root cannot be read: an answer that
    // lacks one (a helper that read no request) would otherwise read as a layer with no change.
    if (this.layerStarts.length !== this.jobLayers.length) throw new SbxError(`sbx-helper scan: answered ${this.layerStarts.length} of ${this.jobLayers.length} layers`);
    const { entries, errors, layerBytes, shownEmpty } = this;
    const made = shownEmpty.length ? vanishedShownEmpty(entries, shownEmpty) : [];
    if (this.madeForBinds.length) made.push(...this.madeForBinds);
    if (made.length) keepFilledMadeDirs(entries, made);
    const rootOnly = this.unreadable.length ? settleUnreadable(this.layersRoot, this.unreadable, errors) : 0;
    // A names-only scan did not stat the new files: their blocks are unknown.
    return { entries, layerStarts: this.layerStarts, errors: errors.filter((e) => e), ...(rootOnly ? { rootOnly } : {}), layerBytes: this.opts.namesOnly ? NaN : layerBytes, ...(this.opts.namesOnly || this.opts.columns ? { named: this.named } : {}) };
  }

  /**
   * Decodes the whole records of `b` from `off`; the start of a cut one is kept for the next
   * piece. Returns the rest of `b` from the first record at or past `upTo`, or null.
   */
  private decodeFrom(b: Buffer, off: number, upTo = Infinity): Buffer | null {
    const r = new Reader(b);
    r.off = off;
    let start = off;
    const named = this.named;
    const fast = !!this.opts.namesOnly && !this.lines;
    const cols = named.stats && this.texts && !this.lines;
    try {
      while (r.off < b.length) {
        start = r.off;
        if (start >= upTo) return b.subarray(start);
        if (cols && b[start] === 0x45 /* E */ && start + 5 <= b.length && (u32(b, start + 1) | 0) === this.colParent) {
          const end = this.columnRecord(b, start);
          if (end > 0) { r.off = end; continue; }
        }
        // A names-only scan is mostly runs of 'N' records of one dir: each is a name added
        // to the columns, in a loop small enough to be optimized early (100k names are read
        // once, mostly before a large function would be).
        if (fast && b[start] === 0x4e /* N */ && start + 8 <= b.length && (u32(b, start + 1) | 0) === this.fastParent && b[start + 5] === DT_REG) {
          const at = start + 8;
          const n = b[start + 6]! | (b[start + 7]! << 8);
          if (at + n <= b.length && !(this.fuse && isWhiteoutName(b, at, n))) {
            this.numberEntries(1);
            named.push(this.namedDir, b, at, n);
            r.off = at + n;
            continue;
          }
        }
        this.record(r);
      }
    } catch (e) {
      if (e !== INCOMPLETE) throw e;
      this.keep(b.subarray(start));
    }
    return null;
  }

  /** Keeps a cut record's start; a long one is not re-tried before twice its bytes have come. */
  private keep(rest: Buffer): void {
    this.pending = [rest];
    this.pendingLen = rest.length;
    this.retryAt = rest.length * 2;
  }

  /**
   * Numbers the next `count` entries of the helper's walk, none with a change index yet
   * (toIdx -1); returns the first one's number.
   */
  private numberEntries(count: number): number {
    const me = this.num;
    this.num = me + count;
    if (this.num > this.toIdx.length) { const t = new Int32Array(Math.max(this.toIdx.length * 2, this.num)); t.set(this.toIdx); this.toIdx = t; }
    if (count === 1) this.toIdx[me] = -1; else this.toIdx.fill(-1, me, this.num);
    return me;
  }

  /**
   * decodeFrom's short path for the full review's most common record: an 'E' record (scan.c)
   * of a plain new file (a regular file the host lacks, one link, no xattrs) in the dir whose
   * last entry record() kept as a column (colParent: the dir's own checks are done). Its fields
   * are read where the record holds them, with no stat view or text view made, and it is added
   * as record() adds it; the record's end, or -1 for any other record or one cut by the end
   * of the piece (record() takes it then).
   */
  private columnRecord(b: Buffer, start: number): number {
    if (start + 7 > b.length) return -1;
    const nameLen = b[start + 5]! | (b[start + 6]! << 8);
    const nameAt = start + 7;
    const st = nameAt + nameLen + 4;
    const after = st + STAT_BYTES;
    // uerr, STAT, host state, upper xattrs (errno, count), text length.
    if (after + 16 > b.length || u32(b, st - 4) !== 0) return -1;
    const mode = u32(b, st);
    if ((mode & 0o170000) !== 0o100000 || u32(b, st + 12) !== 1) return -1;
    if (this.mayGiveAway(u32(b, st + 4), u32(b, st + 8), mode & 0o7777)) return -1;
    if (u32(b, after) !== 0 || u32(b, after + 4) !== 0 || u32(b, after + 8) !== 0) return -1;
    const textLen = u32(b, after + 12) | 0;
    const end = after + 16 + (textLen > 0 ? textLen : 0);
    if (end > b.length) return -1;
    this.numberEntries(1);
    const blocks = u64(b, st + 24);
    this.layerBytes += blocks * 512;
    this.named.pushStatAt(this.namedDir, b, nameAt, nameLen, mode & 0o7777, u64(b, st + 16), blocks, b, after + 16, textLen);
    if ((this.named.length & 0x3fff) === PROGRESS_AT && this.opts.progress) this.opts.progress(this.entries.length + this.named.length);
    return end;
  }

  /** The host ids back to the sandbox's for this sandbox (shiftIds), null when they are the host's. */
  private shift(): IdShift | null {
    if (this.shiftIds !== undefined) return this.shiftIds;
    const sub = subordinateIds(this.meta.uid);
    // Both or none, as chooseIdMapping maps them.
    this.shiftIds = sub.uid && sub.gid ? { uid: sub.uid.start, count: sub.uid.count, gid: sub.gid.start, gidCount: sub.gid.count, from: 1 } : null;
    return this.shiftIds;
  }

  /**
   * The owner of an entry of this layer as its sandbox saw it, which is what a commit
   * restores; `host` is the host entry's owner when it is of the same type (else null). A
   * layer read through fuse-overlayfs showed every host file as root's: an entry there keeps
   * the host's owner (a new one is root's), unless the command gave it one of the subordinate
   * ids, which a kernel overlay over the daemon's mount keeps (fuse-overlayfs's own upper
   * does not: its owners mean nothing). An ordinary user's skeleton and image layers were
   * written by root inside, which is the user on the host: the user's ids there are root's,
   * as a real root run makes them. Elsewhere the user's own ids stay theirs.
   */
  private ownerBack(up: { uid: number; gid: number }, host: { uid: number; gid: number } | null): void {
    const { meta } = this;
    // The user's own ids need no lookup: they are in no range.
    const s = meta.uid !== 0 && up.uid === meta.uid && up.gid === meta.gid ? null : this.shift();
    const uid = s ? uidBack(up.uid, s) : up.uid, gid = s ? gidBack(up.gid, s) : up.gid;
    if (this.squash) {
      const kept = !this.fuse;
      up.uid = kept && uid !== up.uid ? uid : host ? host.uid : 0;
      up.gid = kept && gid !== up.gid ? gid : host ? host.gid : 0;
      return;
    }
    const asRootIds = this.asRoot && (this.layer!.skeleton || this.ownLower);
    up.uid = asRootIds && uid === meta.uid ? 0 : uid;
    up.gid = asRootIds && gid === meta.gid ? 0 : gid;
  }

  /**
   * The layer's own root, from its 'R' record, as an entry when the command changed its mode,
   * owner or xattrs; none when nothing of it changed (or a side could not be read: the walk
   * says why). The upper root is the overlay's root dir, made by sbx with the host's mode and
   * with the owner and xattrs of the layer's work dir (`base`, made beside it the same way,
   * with the mode the root was made with: empty-scan.ts rootModeMoved): all three are
   * compared with the base's, so a host dir changed since is not the command's change. A changed
   * owner is the one the sandbox saw (ownerBack); the xattrs are those the command set or
   * changed, and the names of those it removed: a commit sets the first and takes only the
   * second off the host (a root made before the roots took the host dir's xattrs, or by sbx
   * itself, has none of the host's, nor has its work dir: what it lacks was never removed).
   */
  private rootEntry(u: { st: RecordStat; x: Xattrs | number } | null, h: { st: RecordStat; x: Xattrs | number } | null, base: { st: RecordStat; x: Xattrs | number } | null): void {
    const target = this.target;
    if (!u || !h || u.st.type !== 'dir' || h.st.type !== 'dir') return;
    if (this.hidden.length && this.hidden.some((p) => isWithin(target, p))) return;
    const up = u.st, host0 = h.st;
    // An ordinary user's image cache (or --rootfs tree) is the user's, and root's inside (record()).
    if (this.asRoot && this.ownLower) { if (host0.uid === this.meta.uid) host0.uid = 0; if (host0.gid === this.meta.gid) host0.gid = 0; }
    const bits = this.layer!.rootOwnerBits;
    const modeMoved = rootModeMoved(up.perm, host0.perm, base ? base.st.perm : null, bits);
    const ownerMoved = !!base && (up.uid !== base.st.uid || up.gid !== base.st.gid);
    if (ownerMoved) this.ownerBack(up, host0);
    else { up.uid = host0.uid; up.gid = host0.gid; }
    const userX = (x: Xattrs | number): Xattrs | null => (typeof x === 'number' ? null : x.filter(([n]) => isDataXattr(n)));
    const upX = userX(u.x), baseX = base ? userX(base.x) : null;
    if (upX === null) this.errors.push(`${target}: cannot read the sandbox copy's attributes (${errnoName(u.x as number)})`);
    let set: Xattrs = upX && baseX ? upX.filter(([n, v]) => !baseX.some(([m, w]) => m === n && w.equals(v))) : EMPTY;
    const removed = upX && baseX ? baseX.filter(([n]) => !upX.some(([m]) => m === n)).map(([n]) => n) : [];
    if (set.length) { const shift = this.shift(); if (shift) set = unshiftXattrs(set, shift); }
    if (!modeMoved && !ownerMoved && !set.length && !removed.length) return;
    const hostX = userX(h.x) ?? EMPTY;
    const names = new Set([...set.map(([n]) => n), ...removed]);
    // Owner bits still as sbx gave them stand for the host dir's: a `chmod g+w` is 755→775, not 755→575.
    const shown = bits !== undefined && (up.perm & 0o700) === (bits & 7) << 6 ? { ...up.toJSON(), atimeSpec: up.atimeSpec, mtimeSpec: up.mtimeSpec, perm: (up.perm & 0o7077) | (host0.perm & 0o700) } : up;
    this.entries.push({
      host: target, upper: this.root, parent: -1, whiteout: false, opaque: false, up: shown, host0, skeleton: false,
      xattrs: set, hostXattrs: hostX.filter(([n]) => names.has(n)), layerRoot: true, ...(removed.length ? { xattrsRemoved: removed } : {}),
    });
  }

  /** Whether a root commit may give a new file of these layer ids away, whatever dir it is in. */
  private mayGiveAway(uid: number, gid: number, perm: number): boolean {
    const o = this.owned;
    o.uid = uid;
    o.gid = gid;
    o.perm = perm;
    this.ownerBack(o, null);
    return givenAway(o, null, this.reviewer);
  }

  /**
   * Whether an entry of an ordinary user's layer contradicts the format meta.json gives it:
   * the other engine's own xattrs (the command cannot set `user.overlay.*` in a kernel
   * overlay), or, in a kernel layer, a copy of a dir of root's, which kernel overlayfs cannot
   * copy up for an ordinary user (EOVERFLOW). fuse-overlayfs keeps its copy of such a dir
   * under a subordinate uid: read as a kernel layer's, the commit gave root's dir to that uid.
   * (A kernel overlay over fuse-overlayfs, `squash`, copies them up: that is its point.)
   */
  private formatMismatch(fuse: boolean, squash: boolean, up: EntryStat, host0: EntryStat, upX: Xattrs | number): boolean {
    let opaque = false;
    if (typeof upX !== 'number') {
      for (const [n, v] of upX) {
        if (fuse ? (n.startsWith('user.overlay.') || n.startsWith('trusted.overlay.')) && !FUSE_OPAQUE_NAMES.has(n) : n.startsWith(FUSE_PREFIX)) return true;
        if (isOpaqueName(fuse, n) && v.length === 1 && v[0] === 0x79 /* y */) opaque = true;
      }
    }
    return !squash && up.type === 'dir' && host0.type === 'dir' && host0.uid === 0 && up.uid !== 0 && !opaque;
  }

  /** The host path of the name at b[at, at + len) in the dir whose prefix is cached. */
  /**
   * Whether a new file the host lacks may be kept as a column entry of the current dir
   * (COLUMN), is not a change at all (DROP: another layer's mount point, or a hidden path), or
   * needs an object because the rules of record() need its path (OBJECT: on the way to
   * another layer's mount point).
   */
  private columnSlot(b: Buffer, nameAt: number, nameLen: number): typeof COLUMN | typeof DROP | typeof OBJECT {
    const { others, hidden } = this;
    if (hidden.length || others.length) {
      const host = this.flatPath(b, nameAt, nameLen);
      if (others.length && others.some((t) => t === host)) return DROP;
      if (hidden.length && hidden.some((h) => isWithin(host, h))) return DROP;
      if (others.length && others.some((t) => isWithin(t, host))) return OBJECT;
    }
    if (this.namedDir < 0) { this.named.dirs.push(this.hostPrefix); this.named.uppers.push(this.upperPrefix); this.namedDir = this.named.dirs.length - 1; }
    return COLUMN;
  }

  private flatPath(b: Buffer, at: number, len: number): string {
    const sc = this.scratch;
    const pre = this.hostPrefixLen;
    // A name is at most a few hundred bytes (the helper's u16): a loop beats a native copy.
    if (pre + len > sc.length) return this.hostPrefix + b.toString('latin1', at, at + len);
    for (let k = 0; k < len; k++) sc[pre + k] = b[at + k]!;
    return sc.toString('latin1', 0, pre + len);
  }

  /**
   * An 'M' record: `count` new regular files of one directory by name, each ended by a 0 byte
   * (names-only scans without line counts). Each name is the 'N' record it stands for; once
   * the first has set its directory up for decodeFrom's short path (fastParent: nothing to
   * check per name), the rest go to the columns in one go (NamedChanges.pushNames): one copy
   * of the names instead of a record decoded per name (~50 ms of 100k, before V8 optimizes).
   */
  private nameRun(r: Reader): void {
    const parentNum = r.i32(), count = r.u32(), nbytes = r.u32();
    const at = r.off;
    r.skip(nbytes);
    if (!this.opts.namesOnly || this.lines || count === 0) throw new SbxError('sbx-helper scan: malformed answer');
    const b = r.b, end = at + nbytes;
    let k = at;
    for (let left = count; left > 0; left--) {
      if (left < count && parentNum === this.fastParent && !this.fuse) {
        this.numberEntries(left);
        if (!this.named.pushNames(this.namedDir, b, k, end, left)) throw new SbxError('sbx-helper scan: malformed answer');
        return;
      }
      // Byte by byte, no Buffer method: this runs once per run, and V8 optimizes it with what
      // it calls inlined.
      let z = k;
      while (z < end && b[z] !== 0) z++;
      const n = z - k;
      if (z === end || n === 0 || n > 0xffff) throw new SbxError('sbx-helper scan: malformed answer');
      const rec = Buffer.allocUnsafe(8 + n);
      rec[0] = 0x4e; /* N */
      for (let q = 0; q < 4; q++) rec[1 + q] = (parentNum >>> (8 * q)) & 0xff;
      rec[5] = DT_REG;
      rec[6] = n & 0xff;
      rec[7] = n >>> 8;
      for (let q = 0; q < n; q++) rec[8 + q] = b[k + q]!;
      this.record(new Reader(rec));
      k = z + 1;
    }
    if (k !== end) throw new SbxError('sbx-helper scan: malformed answer');
  }

  /** One record; every field is read before anything is changed (a cut record changes nothing). */
  private record(r: Reader): void {
    const { meta, opts, entries, errors, asRoot, ownLower, hidden, bindPoints, shownEmpty } = this;
    const kind = r.u8();
    if (kind === 0x4d /* M */) { this.nameRun(r); return; }
    if (kind === 0x4a /* J */) {
      const job = r.u32();
      const li = this.jobLayers[job];
      if (li === undefined) throw new SbxError('sbx-helper scan: malformed answer');
      this.layer = meta.layers[li]!;
      this.layerStarts.push(entries.length);
      this.target = this.targets[li]!;
      this.root = this.roots[li]!;
      this.fuse = this.layer.format === 'fuse';
      this.squash = throughFuse(this.layer);
      const target = this.target;
      this.others = this.targets.filter((t, k) => k !== li && t !== target && isWithin(t, target));
      this.num = 0;
      this.prefixOf = -2;
      this.fastParent = -2;
      this.colParent = -2;
      return;
    }
    if (kind === 0x52 /* R */) {
      const up = r.root(), host = r.root(), base = r.root();
      this.rootEntry(up, host, base);
      return;
    }
    if (kind === 0x44 /* D */) {
      const dir = r.i32(), errno = r.u32();
      // -1: the layer's root; an entry that was not taken: nothing below it is.
      const idx = dir < 0 ? -1 : this.toIdx[dir]!;
      if (dir >= 0 && idx < 0) return;
      const e = idx >= 0 ? entries[idx]! : null;
      errors.push(`${e ? e.host : this.target}: cannot read the sandbox's copy (${errnoName(errno)})`);
      if (errno === 13 /* EACCES */) {
        // Shown empty, the host's entries there were never the sandbox's to hide.
        const hidesHost = e ? e.host0 !== null && !shownEmpty.includes(e.host) : true;
        this.unreadable.push({ error: errors.length - 1, rel: relTo(this.layersRoot, e ? e.upper : this.root), fuse: this.fuse, hidesHost });
      }
      return;
    }
    let parentNum: number, nameLen: number, nameAt: number, uerr: number, up0: EntryStat | null, hstate: number, host1: EntryStat | null;
    let upX: Xattrs | number = EMPTY, hostX: Xattrs | number = EMPTY, counted: number | undefined, text: Buffer | number | undefined;
    const byName = kind === 0x4e /* N */;
    let dtype = 0;
    let namedSize = 0;
    if (byName) {
      // A name the host lacks, read from its directory entry only (WalkOptions.namesOnly).
      parentNum = r.i32();
      dtype = r.u8();
      nameLen = r.u16();
      nameAt = r.off;
      r.skip(nameLen);
      if (!this.opts.namesOnly || (dtype !== DT_REG && dtype !== DT_LNK)) throw new SbxError('sbx-helper scan: malformed answer');
      // --stat: the helper counted the lines of a new file (never -3 here) and gives its size.
      const b = r.b;
      if (this.lines && dtype === DT_REG && !(this.fuse && isWhiteoutName(b, nameAt, nameLen))) {
        counted = r.i32();
        namedSize = r.u64();
        if (counted === -3) throw new SbxError('sbx-helper scan: malformed answer');
      }
      uerr = 0;
      up0 = dtype === DT_REG ? KIND_ONLY.file : KIND_ONLY.symlink;
      hstate = 0;
      host1 = null;
    } else {
      if (kind !== 0x45 /* E */) throw new SbxError('sbx-helper scan: malformed answer');
      parentNum = r.i32();
      nameLen = r.u16();
      nameAt = r.off;
      r.skip(nameLen);
      uerr = r.u32();
      up0 = uerr ? null : r.stat();
      hstate = r.u32();
      host1 = hstate === 1 ? r.stat() : null;
      upX = uerr ? EMPTY : r.xattrs();
      const upType = up0 ? up0.type : null;
      const hostType = host1 ? host1.type : null;
      hostX = up0 && hostType === upType && hostType !== 'symlink' ? r.xattrs() : EMPTY;
      counted = this.lines && upType === 'file' && hostType !== 'file' ? r.i32() : undefined;
      text = this.texts && upType === 'file' && hostType !== 'file' ? r.text() : undefined;
    }
    const upType = up0 ? up0.type : null;
    const fuse = this.fuse, squash = this.squash;
    const me = this.numberEntries(1);
    const toIdx = this.toIdx;
    if (parentNum >= me) throw new SbxError('sbx-helper scan: malformed answer');
    const parent = parentNum < 0 ? -1 : toIdx[parentNum]!;
    if (parentNum >= 0 && parent < 0) return;
    const pe = parent >= 0 ? entries[parent]! : null;
    // Only directories that are walked have children taken (see the push below).
    if (pe && (pe.whiteout || pe.up?.type !== 'dir')) return;
    if (parent !== this.prefixOf) {
      // A dir's entries come together: its prefixes are made once, not per entry.
      const hdir = pe ? pe.host : this.target;
      const udir = pe ? pe.upper : this.root;
      this.hostPrefix = hdir.endsWith('/') ? hdir : `${hdir}/`;
      this.hostPrefixLen = this.hostPrefix.length;
      if (this.hostPrefixLen + 256 > this.scratch.length) this.scratch = Buffer.allocUnsafe(2 * (this.hostPrefixLen + 256));
      this.scratch.write(this.hostPrefix, 0, 'latin1');
      this.upperPrefix = udir.endsWith('/') ? udir : `${udir}/`;
      this.prefixOf = parent;
      this.namedDir = -1;
      this.fastParent = -2;
      this.colParent = -2;
    }
    const b = r.b;
    // The full review's new regular file the host lacks, with one link and no xattrs (so no
    // whiteout mark, ACL or capability, nor a hard link to tell about): kept as columns with
    // what its change needs (WalkOptions.columns), unless a rule below needs its path.
    if (this.named.stats && up0 && upType === 'file' && hstate === 0 && !bindPoints.length && up0.nlink === 1 && typeof upX !== 'number' && upX.length === 0
      && !(fuse && isWhiteoutName(b, nameAt, nameLen)) && !this.mayGiveAway(up0.uid, up0.gid, up0.perm)) {
      const slot = this.columnSlot(b, nameAt, nameLen);
      if (slot === DROP) return;
      if (slot === COLUMN) {
        const blocks = up0.blocks ?? 0;
        this.layerBytes += blocks * 512;
        this.named.pushStat(this.namedDir, b, nameAt, nameLen, up0.perm, up0.size, blocks, b, text);
        if ((this.named.length & 0x3fff) === PROGRESS_AT && opts.progress) opts.progress(entries.length + this.named.length);
        if (!hidden.length && !this.others.length && !fuse && this.texts && !this.lines) this.colParent = parentNum;
        return;
      }
    }
    // A new regular file the host lacks (names-only scans): an added file, kept as a column
    // entry with no object (named.ts), unless a rule below needs its path: a bind's parent
    // (kept or not by what it holds), or one on the way to another layer's mount point.
    if (byName && dtype === DT_REG && !bindPoints.length && !(fuse && isWhiteoutName(b, nameAt, nameLen))) {
      const slot = this.columnSlot(b, nameAt, nameLen);
      if (slot === DROP) return;
      if (slot === COLUMN) {
        this.named.push(this.namedDir, b, nameAt, nameLen, counted ?? 0, namedSize);
        if (!hidden.length && !this.others.length && !this.lines) this.fastParent = parentNum;
        return;
      }
    }
    let wh = false;
    let host: string, upper: string;
    // fuse-overlayfs's whiteouts are `.wh.NAME` files, and `.wh..wh..opq` marks its dir opaque.
    if (fuse && isWhiteoutName(b, nameAt, nameLen)) {
      const rawName = b.toString('latin1', nameAt, nameAt + nameLen);
      // fuse-overlayfs makes its `.wh.` files empty and 0700 (or char 0/0, a whiteout either
      // way), and the command cannot make the name there; in a kernel layer it is any file the
      // command made (`touch .wh.x`: 0644), which a `format: fuse` written into meta.json would
      // turn into a deletion or an opaque dir. sbx's own opaque marks (of any mode) are in dirs
      // shown empty, where being opaque hides nothing of the host's (end()).
      const fuseMade = !!up0 && ((up0.type === 'file' && up0.size === 0 && up0.perm === 0o700) || (up0.type === 'char' && up0.rdev === 0));
      if (this.checkFormat && !fuseMade && !(rawName === '.wh..wh..opq' && shownEmpty.includes(pe ? pe.host : this.target))) {
        errors.push(`${this.hostPrefix}${rawName}: left out: meta.json says fuse-overlayfs made this layer, and this is no whiteout it made`);
        return;
      }
      if (rawName === '.wh..wh..opq') {
        if (pe) pe.opaque = true;
        return;
      }
      wh = true;
      host = this.hostPrefix + rawName.slice(4);
      upper = '';
    } else {
      // The host path as one flat string made from bytes: the sort, the escaping and the rules
      // read every path whole, and a joined (cons) string would be copied flat by the first.
      host = this.flatPath(b, nameAt, nameLen);
      // The same name after the upper dir's prefix: a slice of `host`, no bytes copied.
      upper = this.upperPrefix + host.slice(this.hostPrefixLen);
    }
    // Most sandboxes have none of these: the checks cost nothing per entry then.
    const others = this.others;
    if (others.length && others.some((t) => t === host)) return;
    // On the way to another layer's mount point, or a dir the host lacks on the way to a
    // bind's destination (the helper made it): no change itself, but what else is in it is.
    const toBind = bindPoints.length > 0 && !host1 && bindPoints.some((b) => b !== host && isWithin(b, host));
    const skeleton = (others.length > 0 && others.some((t) => isWithin(t, host))) || toBind;
    if (hidden.length && hidden.some((h) => isWithin(host, h))) return;
    if (bindPoints.length && bindPoints.includes(host)) return;
    let up: EntryStat | null = null;
    if (!wh) {
      if (uerr) {
        if (uerr !== 2) errors.push(`${host}: cannot stat the sandbox's copy (${errnoName(uerr)})`);
        return;
      }
      up = up0!;
      if (!byName) this.layerBytes += (up.blocks ?? 0) * 512;
      if (upType === 'char' && up.rdev === 0) wh = true;
    }
    let host0: EntryStat | null = host1;
    if (hstate > 1) {
      if (hstate !== 13 /* EACCES */ || !shownEmpty.some((d) => host !== d && isWithin(host, d))) {
        errors.push(`${host}: cannot stat the host path (${errnoName(hstate)})`);
        return;
      }
      host0 = null;
    }
    // A lock file sbx copied in before a run that is still that copy, unwritten (same inode and
    // ctime): the host's package manager may have moved its own file's times since; the
    // command changed nothing there.
    if (this.precopied && up && !wh && up.type === 'file' && up.size === 0 && host0?.type === 'file') {
      const was = this.precopied.get(host);
      if (was && was[0] === up.ino && was[1] === up.ctimeMs) return;
    }
    // The change list speaks in the ids the sandbox saw (an entry reported by name has none).
    if (!byName && up) this.ownerBack(up, host0 && host0.type === up.type ? host0 : null);
    // An ordinary user's image cache (or --rootfs tree) is the user's, and root's inside.
    if (asRoot && host0 && ownLower) { if (host0.uid === meta.uid) host0.uid = 0; if (host0.gid === meta.gid) host0.gid = 0; }
    else if (this.checkFormat && up && host0 && !byName && !skeleton && this.formatMismatch(fuse, squash, up, host0, upX)) {
      errors.push(`${host}: left out: meta.json says ${fuse ? 'fuse-overlayfs' : 'kernel overlayfs'} made this layer, and this entry says otherwise`);
      return;
    }
    const idx = entries.length;
    toIdx[me] = idx;
    if (toBind) this.madeForBinds.push(idx);
    const e: UpperEntry = { host, upper, parent, whiteout: wh, opaque: false, up, host0, skeleton, xattrs: EMPTY, hostXattrs: EMPTY, lines: counted, text };
    entries.push(e);
    if (!wh && up) {
      // Every entry's attributes: data to commit, and the marks of whiteouts and opaque dirs.
      // Not for sbx's copy of a dir shown empty (mode 000: the user cannot read its opaque
      // mark): what it holds is sbx's, and end() knows it by its name.
      if (typeof upX === 'number') {
        if (!shownEmpty.includes(host)) errors.push(`${host}: cannot read the sandbox copy's attributes (${errnoName(upX)})`);
        e.attrsUnread = errnoName(upX);
      }
      else if (upX.length) {
        for (const [n, v] of upX) {
          if (up.type === 'dir' && isOpaqueName(fuse, n) && v.length === 1 && v[0] === 0x79 /* y */) e.opaque = true;
          if (!fuse && n === KERNEL_WHITEOUT && up.type === 'file' && up.size === 0) e.whiteout = true;
          if (up.type !== 'dir') {
            if (!fuse && n === KERNEL_ORIGIN) e.copiedFrom = v;
            // A shared daemon's lower is `/`: its marks are paths from there.
            else if (fuse && n === FUSE_ORIGIN) e.copiedFrom = originPath(this.layer?.shared ? '/' : this.target, v);
          }
        }
        const user = upX.filter(([n]) => isDataXattr(n));
        // ACL and capability ids in a shifted layer are shifted like owners (see acl.ts).
        const shift = user.length ? this.shift() : null;
        if (user.length) e.xattrs = shift ? unshiftXattrs(user, shift) : user;
      }
      if (host0 && host0.type === up.type && host0.type !== 'symlink' && typeof hostX !== 'number' && hostX.length) {
        const user = hostX.filter(([n]) => isDataXattr(n));
        if (user.length) e.hostXattrs = user;
      }
    }
    if ((idx & 0x3fff) === PROGRESS_AT && opts.progress) opts.progress(idx);
  }
}

/** fuse-overlayfs's origin mark (the lower path, relative, NUL-ended) as a path in the view (a byte string). */
function originPath(target: string, v: Buffer): string {
  const rel = v.toString('latin1').replace(/\0+$/, '');
  return target === '/' ? `/${rel}` : `${target}/${rel}`;
}

/**
 * Clears the opaque mark of the dirs shown empty (meta.json shownEmpty: a wrong list only
 * leaves out what it names; it hid nothing the host showed the user) and
 * returns those of them the host removed while the sandbox lived, with the dirs the layer made
 * to hold them that the host lacks too, now marked as sbx's own (`skeleton`): they were never
 * the command's, and would otherwise read as added (and a commit would make them again).
 */
function vanishedShownEmpty(entries: UpperEntry[], shownEmpty: string[]): number[] {
  const made = new Set<number>();
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    // Not asked whether it is opaque: sbx's copy has the host dir's mode, and one of mode 000
    // is the user's but unreadable to the user's scan, whose user xattrs (the opaque mark)
    // then read as empty. Such a dir, once the host removed it, read as added and a commit
    // made it again. A dir the command made there in its place holds nothing the host lacks
    // unless filled (keepFilledMadeDirs).
    if (e.whiteout || e.up?.type !== 'dir' || !shownEmpty.includes(e.host)) continue;
    e.opaque = false;
    for (let k = i; k >= 0 && !made.has(k); k = entries[k]!.parent) {
      const d = entries[k]!;
      if (d.host0 || d.whiteout || d.up?.type !== 'dir' || d.skeleton) break;
      d.skeleton = true;
      made.add(k);
    }
  }
  return [...made];
}

/**
 * A dir sbx made (for a bind, or to show an unreadable dir the host has since removed) in
 * which the command also put something is the command's new dir after all: without it, what
 * it holds could not be committed. A whiteout of a name the host lacks puts nothing there.
 */
function keepFilledMadeDirs(entries: UpperEntry[], made: number[]): void {
  const isMade = new Set(made);
  const filled = new Uint8Array(entries.length);
  // Children come after their parents: one backward pass carries "holds something" upwards.
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    const p = e.parent;
    if (p >= 0 && isMade.has(p) && (isMade.has(i) ? filled[i] : !e.whiteout || e.host0)) filled[p] = 1;
  }
  for (const i of made) if (filled[i]) entries[i]!.skeleton = false;
}

/**
 * With `answer`: what the run's helper answered to scan-request.ts reviewScanOf's request
 * (every layer, plain options), decoded instead of starting the helper's scan now.
 */
export function walkUppers(meta: SandboxMeta, opts: WalkOptions = {}, answer: Buffer | null = null): WalkResult {
  if (answer && (opts.countLinesUpTo !== undefined || opts.readNewUpTo !== undefined || opts.namesOnly || opts.fewXattrs)) throw new Error('internal error: the run\'s scan answers a plain walk only');
  // Each layer's start and its untouched roots: the sandbox changed nothing, and nothing is opened to say so.
  if (answer && changedNothing(answer, meta.layers)) return { entries: [], errors: [], layerBytes: 0 };
  const p = planLayers(meta);
  if (!p) return { entries: [], errors: [], layerBytes: 0 };
  const dec = new WalkDecoder(p, opts);
  dec.feed(answer ?? runScan(requestOf(p, opts))!);
  return dec.end();
}

/**
 * The most of a scan's answer walkUppersAsync takes whole first: a small sandbox's `sbx diff`
 * then starts the helper as a run does (base/light-process.ts), without node:child_process and
 * the socket and streams it brings (a diff of one new file: 0.92x its CPU, --name-only
 * 0.85x). A bigger answer stops that helper as soon as it passes this and is asked for again,
 * decoded as it comes: the first start and its walk this far are lost (100,000 new files
 * listed: within the noise).
 */
const WHOLE_ANSWER_MAX = 1 << 16;

/**
 * walkUppers, decoding the helper's records while it still walks (`wholeFirst`: unless its
 * answer is small, taken whole, WHOLE_ANSWER_MAX).
 */
export async function walkUppersAsync(meta: SandboxMeta, opts: WalkOptions = {}, wholeFirst = true): Promise<WalkResult> {
  const p = planLayers(meta);
  if (!p) return { entries: [], errors: [], layerBytes: 0 };
  const whole = wholeFirst ? runScan(requestOf(p, opts), WHOLE_ANSWER_MAX) : null;
  const dec = new WalkDecoder(p, opts);
  if (whole) dec.feed(whole);
  else await runScanAsync(requestOf(p, opts), dec);
  return dec.end();
}

/** One sandbox's part of a walk of many (scan.ts scanSandboxes): which layers its request asks for, and the request. */
export interface PlannedWalk { jobLayers: number[]; req: { input: Buffer; fds: number[] } }

/**
 * The walk of `meta` to run with others (runScanMany, which closes its fds); null when no layer
 * holds anything; 'alone' when the layers to walk hold `aloneFrom` entries or more between them
 * (counted only that far through the dirs the plan opened, nothing followed): its answer is
 * better decoded as it comes than held whole with the others'.
 */
export function walkRequest(meta: SandboxMeta, opts: WalkOptions = {}): PlannedWalk | null {
  const p = planLayers(meta);
  if (!p) return null;
  return { jobLayers: p.jobLayers, req: requestOf(p, opts) };
}

/** walkUppers of `meta` from the helper's answer to walkRequest's request (the same options). */
export function decodeWalk(meta: SandboxMeta, opts: WalkOptions, planned: PlannedWalk, answer: Buffer): WalkResult {
  // Planned again for the roots it trusts (the classification reads through them), with the layers asked for then.
  const p = planLayers(meta);
  if (!p) throw new Error(`internal error: sandbox ${meta.id} lost its layers`);
  const dec = new WalkDecoder({ ...p, jobLayers: planned.jobLayers }, opts);
  dec.feed(answer);
  return dec.end();
}

/** How many walks one `sbx-helper scan-many` takes: two fds each stay open until it runs. */
const SCAN_MANY_MAX = 100;

/**
 * How many walks one scan-many may take now: SCAN_MANY_MAX, or fewer under a low fd limit
 * (`ulimit -n 40`: planned 100 at a time, most failed with EMFILE and showed `?`), with room
 * left for the spawn's pipes and the decoding after it.
 */
export function walksPerStart(): number {
  try {
    const limit = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]);
    const open = readdirSync('/proc/self/fd').length;
    if (Number.isFinite(limit)) return Math.max(1, Math.min(SCAN_MANY_MAX, Math.floor((limit - open - 16) / 2)));
  } catch { /* not known: the most */ }
  return SCAN_MANY_MAX;
}

/**
 * Runs `sbx-helper scan-many` (native/scan.c) on these requests, at most SCAN_MANY_MAX, and
 * closes their fds: each answer, or the error its scan ended with, in order; with `wholeMax`,
 * null for a scan whose answer passed that many bytes (stopped there: `--whole-max`). One
 * start of the helper for all: `sbx ls` started one per sandbox, ~5 ms of Node's fork each.
 */
export function runScanMany(reqs: Array<{ input: Buffer; fds: number[] }>, wholeMax?: number): Array<Buffer | Error | null> {
  if (!reqs.length) return [];
  const fds = reqs.flatMap((r) => r.fds);
  let r;
  try {
    if (reqs.length > SCAN_MANY_MAX) throw new Error(`internal error: ${reqs.length} walks for one scan-many`);
    // In the helper the fds are 3, 4, 5, ...: two for each request, in order.
    const input = Buffer.concat(reqs.flatMap((q, i) => {
      const head = Buffer.alloc(12);
      head.writeUInt32LE(3 + 2 * i, 0);
      head.writeUInt32LE(4 + 2 * i, 4);
      head.writeUInt32LE(q.input.length, 8);
      return [head, q.input];
    }));
    r = spawnSyncPiped(helperPath(), ['scan-many', ...wholeMaxArgs(wholeMax)], input, fds, 2 ** 31 - 1);
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  const said = String(r.stderr).trim();
  if (r.error || r.status !== 0) {
    const e = new SbxError(`sbx-helper scan-many: ${r.error ? r.error.message : `failed: ${said}`}`);
    return reqs.map(() => e);
  }
  const out = r.stdout;
  let at = 0;
  return reqs.map(() => {
    if (out.length - at < 8) return new SbxError('sbx-helper scan-many: its answer ended early');
    const status = out.readUInt32LE(at), n = out.readUInt32LE(at + 4);
    at += 8;
    if (out.length - at < n) { at = out.length; return new SbxError('sbx-helper scan-many: its answer ended early'); }
    const answer = out.subarray(at, at + n);
    at += n;
    if (wholeMax && status === PAST_WHOLE_MAX) return null;
    return status === 0 ? answer : new SbxError(`sbx-helper scan failed (status ${status})${said ? `: ${said}` : ''}`);
  });
}

/** The helper's whole answer for `meta`, undecoded; null when the sandbox has no layers (tests). */
export function scanAnswer(meta: SandboxMeta, opts: WalkOptions = {}): Buffer | null {
  const p = planLayers(meta);
  return p ? runScan(requestOf(p, opts)) : null;
}

/**
 * Decodes an answer that arrives in these pieces, as walkUppersAsync does (tests): each piece
 * about `upTo` bytes of whole records at a time, the rest of it fed again (runScanAsync).
 */
export function decodeAnswer(meta: SandboxMeta, opts: WalkOptions, pieces: Iterable<Buffer>, upTo = Infinity): WalkResult {
  const p = planLayers(meta);
  if (!p) return { entries: [], errors: [], layerBytes: 0 };
  const dec = new WalkDecoder(p, opts);
  for (const b of pieces) {
    for (let rest = dec.feed(b, upTo); rest; rest = dec.feed(rest, upTo)) {
      // A view of the piece, from a record's start: nothing copied, nothing decoded twice.
      if (rest.buffer !== b.buffer || rest.byteOffset <= b.byteOffset || rest.byteOffset + rest.length !== b.byteOffset + b.length) throw new Error('internal error: a rest that is not the end of its piece');
    }
  }
  return dec.end();
}
