// Pass 1 of a scan: the helper (`sbx-helper scan`, native/scan.c) walks every upper layer and
// the matching host directories in one process and streams compact records: stat fields and
// xattrs of each upper entry and of its host counterpart. This module decodes overlayfs
// whiteouts and opaque dirs from them and skips what is not the layer's (another layer's
// mount point, hidden paths). The helper opens every directory one component at a time below
// the layers dir or `/` with no symlink followed, at any depth; names are bytes.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, constants as C } from 'node:fs';
import type { Layer, SandboxMeta } from '../types.js';
import type { EntryStat, EntryType } from './types.js';
import { fromUser, joinB } from './bpath.js';
import { isWithin } from '../base/within.js';
import { errnoName } from '../base/errno.js';
import { SbxError } from '../base/errors.js';
import { O_PATH } from '../beneath.js';
import { helperPath } from '../helper.js';
import { isOverlayXattr, relTo, type Xattrs } from './xattr.js';
import { unshiftXattrs } from './acl.js';
import { dirAt, physicalRoot, trustRoot } from './fsat.js';
import { settleUnreadable, type UnreadableDir } from './unreadable-copy.js';

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
  /** Lines of a new file as the helper counted them (WalkOptions.countLinesUpTo; see scan.c). */
  lines?: number;
  /** A new file's text as the helper read it (WalkOptions.readNewUpTo), or why not (scan.c). */
  text?: Buffer | number;
  xattrs: Xattrs;
  hostXattrs: Xattrs;
}

export interface WalkResult {
  entries: UpperEntry[];
  errors: string[];
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
}

/** Bytes of new files' text one scan brings at most (the answer is held in memory whole). */
const TEXT_BUDGET = 64 * 2 ** 20;

const OPAQUE_NAMES = new Set(['user.overlay.opaque', 'trusted.overlay.opaque', 'user.fuseoverlayfs.opaque']);
const WHITEOUT_NAMES = new Set(['user.overlay.whiteout', 'trusted.overlay.whiteout']);

export function upperDirOf(meta: SandboxMeta, layer: Layer): string {
  return `${meta.layersDir}/${layer.dir}/upper`;
}

function unshift(id: number, base: number, count: number): number {
  return id >= base && id < base + count ? id - base : id;
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
  /** The plain fields (JSON, logs): never the record buffer. */
  toJSON(): EntryStat {
    return { type: this.type, perm: this.perm, uid: this.uid, gid: this.gid, size: this.size, mtimeMs: this.mtimeMs, atimeMs: this.atimeMs, ctimeMs: this.ctimeMs, ino: this.ino, dev: this.dev, nlink: this.nlink, rdev: this.rdev, blocks: this.blocks };
  }
}

/** Decodes the helper's records (native/scan.c) with a cursor: no per-field allocation. */
class Reader {
  off = 0;
  constructor(readonly b: Buffer) {}
  u8(): number { return this.b[this.off++]!; }
  u16(): number { const v = this.b[this.off]! | (this.b[this.off + 1]! << 8); this.off += 2; return v; }
  u32(): number { const v = u32(this.b, this.off); this.off += 4; return v; }
  i32(): number { const v = u32(this.b, this.off) | 0; this.off += 4; return v; }
  str(n: number): string { const v = this.b.toString('latin1', this.off, this.off + n); this.off += n; return v; }
  bytes(n: number): Buffer { const v = Buffer.from(this.b.subarray(this.off, this.off + n)); this.off += n; return v; }
  /** A `text` field: the bytes (a view of the answer, not a copy), or the helper's reason. */
  text(): Buffer | number {
    const n = this.i32();
    if (n < 0) return n;
    if (this.off + n > this.b.length) throw new SbxError('sbx-helper scan: malformed answer');
    const v = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
  /** A STAT, read lazily from the record; the cursor moves past it. */
  stat(): RecordStat {
    if (this.off + STAT_BYTES > this.b.length) throw new SbxError('sbx-helper scan: malformed answer');
    const st = new RecordStat(this.b, this.off);
    this.off += STAT_BYTES;
    return st;
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

/** Runs `sbx-helper scan` over the jobs (one per layer); its whole record stream. */
function runScan(jobs: Array<{ upper: string; host: string; fuse: boolean }>, layersRoot: string, fewXattrs: boolean, linesUpTo: number | undefined, textUpTo: number | undefined): Buffer {
  const input = Buffer.concat(jobs.map((j) => {
    const words = [(j.fuse ? 1 : 0) | (fewXattrs ? 2 : 0) | (linesUpTo === undefined ? 0 : 4) | (textUpTo === undefined ? 0 : 8)];
    if (linesUpTo !== undefined || textUpTo !== undefined) words.push(Math.min(Math.max(linesUpTo ?? 0, textUpTo ?? 0), 0xffffffff));
    if (textUpTo !== undefined) words.push(TEXT_BUDGET);
    const flags = Buffer.alloc(4 * words.length);
    words.forEach((w, i) => flags.writeUInt32LE(w, 4 * i));
    return Buffer.concat([Buffer.from(`${j.upper}\0${j.host}\0`, 'latin1'), flags]);
  }));
  // The host side is `/`, or an image sandbox's lower root (fsat.ts: the one place that decides).
  const fds = [layersRoot, physicalRoot('/')].map((r) => openSync(Buffer.from(r, 'latin1'), O_PATH | C.O_DIRECTORY));
  let r;
  try {
    r = spawnSync(helperPath(), ['scan'], { input, maxBuffer: 2 ** 31 - 1, stdio: ['pipe', 'pipe', 'pipe', ...fds] });
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  if (r.error) throw new SbxError(`sbx-helper scan: ${r.error.message}`);
  if (r.status !== 0) throw new SbxError(`sbx-helper scan failed: ${String(r.stderr).trim()}`);
  return r.stdout;
}

export function walkUppers(meta: SandboxMeta, opts: WalkOptions = {}): WalkResult {
  const shift = meta.idShift ?? null;
  const asRoot = meta.uid !== 0 && !meta.options?.keepUser;
  // The lower layers are a tree the user owns (an image sandbox, --rootfs), not the host's.
  const ownLower = !!(meta.image || meta.rootfs);
  const entries: UpperEntry[] = [];
  const errors: string[] = [];
  const targets = meta.layers.map((l) => fromUser(l.target));
  const hidden = meta.hidden.map(fromUser);
  // A bind's destination that the view lacked is made by the helper in the layer below the
  // bind; the command only ever saw the bound host path there.
  const bindPoints = (meta.bindPoints ?? []).map(fromUser);
  // Directories shown empty because the user cannot read them (unreadable.ts): opaque in the
  // layer, but hiding nothing the sandbox saw; the host below them may be unreadable to us.
  const shownEmpty = (meta.shownEmpty ?? []).map(fromUser);
  const layersRoot = fromUser(meta.layersDir);
  // Dirs the scan could not read (EACCES): which error line each made.
  const unreadable: UnreadableDir[] = [];
  let layerBytes = 0;
  if (!meta.layers.length) return { entries, errors, layerBytes };
  const roots = meta.layers.map((layer) => fromUser(upperDirOf(meta, layer)));
  // Layers whose upper is empty hold no change: a sandbox that changed little (most) is
  // reviewed without starting the helper at all.
  trustRoot(layersRoot);
  const jobLayers = meta.layers.map((_, li) => li).filter((li) => {
    try { return dirAt(roots[li]!).list().length > 0; } catch { return true; } // the helper reports why
  });
  if (!jobLayers.length) return { entries, errors, layerBytes };
  const out = runScan(jobLayers.map((li) => ({
    upper: relTo(layersRoot, roots[li]!), host: targets[li] === '/' ? '' : relTo('/', targets[li]!), fuse: meta.layers[li]!.format === 'fuse',
  })), layersRoot, !!opts.fewXattrs, opts.countLinesUpTo, opts.readNewUpTo);
  const lines = opts.countLinesUpTo !== undefined;
  const texts = opts.readNewUpTo !== undefined;
  const r = new Reader(out);
  // The helper's entry number (per layer) -> index in `entries`, -1 when not taken (skipped,
  // or below an entry that is not walked).
  let toIdx = new Int32Array(1024);
  let li = -1;
  let layer: Layer | null = null;
  let target = '', root = '', fuse = false;
  let others: string[] = [];
  let num = 0;
  while (r.off < out.length) {
    const kind = r.u8();
    if (kind === 0x4a /* J */) {
      li = jobLayers[r.u32()]!;
      layer = meta.layers[li]!;
      target = targets[li]!;
      root = roots[li]!;
      fuse = layer.format === 'fuse';
      others = targets.filter((t, k) => k !== li && t !== target && isWithin(t, target));
      num = 0;
      continue;
    }
    if (kind === 0x44 /* D */) {
      const dir = r.i32(), errno = r.u32();
      const at = dir < 0 ? target : toIdx[dir]! >= 0 ? entries[toIdx[dir]!]!.host : null;
      if (at === null) continue;
      errors.push(`${at}: cannot read the sandbox's copy (${errnoName(errno)})`);
      if (errno === 13 /* EACCES */) {
        const e = dir < 0 ? null : entries[toIdx[dir]!]!;
        // Shown empty, the host's entries there were never the sandbox's to hide.
        const hidesHost = e ? e.host0 !== null && !shownEmpty.includes(e.host) : true;
        unreadable.push({ error: errors.length - 1, rel: relTo(layersRoot, e ? e.upper : root), fuse, hidesHost });
      }
      continue;
    }
    if (kind !== 0x45 /* E */) throw new SbxError('sbx-helper scan: malformed answer');
    const parentNum = r.i32();
    const rawName = r.str(r.u16());
    const uerr = r.u32();
    const up0 = uerr ? null : r.stat();
    const hstate = r.u32();
    const host1 = hstate === 1 ? r.stat() : null;
    const upX = uerr ? EMPTY : r.xattrs();
    const upType = up0 ? up0.type : null;
    const hostType = host1 ? host1.type : null;
    const hostX = up0 && hostType === upType && hostType !== 'symlink' ? r.xattrs() : EMPTY;
    const counted = lines && upType === 'file' && hostType !== 'file' ? r.i32() : undefined;
    const text = texts && upType === 'file' && hostType !== 'file' ? r.text() : undefined;
    if (!(r.off <= out.length)) throw new SbxError('sbx-helper scan: malformed answer');
    const me = num++;
    if (me >= toIdx.length) { const t = new Int32Array(toIdx.length * 2); t.set(toIdx); toIdx = t; }
    toIdx[me] = -1;
    const parent = parentNum < 0 ? -1 : toIdx[parentNum]!;
    if (parentNum >= 0 && parent < 0) continue;
    const pe = parent >= 0 ? entries[parent]! : null;
    // Only directories that are walked have children taken (see the push below).
    if (pe && (pe.whiteout || pe.up?.type !== 'dir')) continue;
    const udir = pe ? pe.upper : root;
    const hdir = pe ? pe.host : target;
    let name = rawName;
    let wh = false;
    if (fuse && name.startsWith('.wh.')) {
      if (name === '.wh..wh..opq') {
        if (pe) pe.opaque = true;
        continue;
      }
      name = name.slice(4);
      wh = true;
    }
    const host = joinB(hdir, name);
    const upper = wh ? '' : joinB(udir, rawName);
    // Most sandboxes have none of these: the checks cost nothing per entry then.
    if (others.length && others.some((t) => t === host)) continue;
    const skeleton = others.length > 0 && others.some((t) => isWithin(t, host));
    if (hidden.length && hidden.some((h) => isWithin(host, h))) continue;
    if (bindPoints.length && bindPoints.includes(host)) continue;
    let up: EntryStat | null = null;
    if (!wh) {
      if (uerr) {
        if (uerr !== 2) errors.push(`${host}: cannot stat the sandbox's copy (${errnoName(uerr)})`);
        continue;
      }
      up = up0!;
      layerBytes += (up.blocks ?? 0) * 512;
      if (upType === 'char' && up.rdev === 0) wh = true;
    }
    let host0: EntryStat | null = host1;
    if (hstate > 1) {
      if (hstate !== 13 /* EACCES */ || !shownEmpty.some((d) => host !== d && isWithin(host, d))) {
        errors.push(`${host}: cannot stat the host path (${errnoName(hstate)})`);
        continue;
      }
      host0 = null;
    }
    // fuse-overlayfs (squash_to_root) writes its upper files under whatever uid it runs as:
    // ownership there means nothing. Inside, everything looked root-owned, so a copy-up
    // keeps the host's owner and a new entry is root's.
    if (fuse && up) { up.uid = host0 && host0.type === up.type ? host0.uid : 0; up.gid = host0 && host0.type === up.type ? host0.gid : 0; }
    // Root's remapped sandboxes: the layers hold shifted ids; the change list speaks in
    // the ids the sandbox saw, which are what a commit restores.
    else if (shift && up) { up.uid = unshift(up.uid, shift.uid, shift.count); up.gid = unshift(up.gid, shift.gid, shift.count); }
    // An ordinary user's skeleton layers (new entries in `/`, `/run`, ...) were written by
    // root inside, which is the user on the host: they are root's, as a real root run makes them.
    else if (asRoot && up && (layer!.skeleton || ownLower)) { up.uid = up.uid === meta.uid ? 0 : up.uid; up.gid = up.gid === meta.gid ? 0 : up.gid; }
    // An ordinary user's image cache (or --rootfs tree) is the user's, and root's inside.
    if (asRoot && host0 && ownLower) { if (host0.uid === meta.uid) host0.uid = 0; if (host0.gid === meta.gid) host0.gid = 0; }
    const idx = entries.length;
    toIdx[me] = idx;
    const e: UpperEntry = { host, upper, parent, whiteout: wh, opaque: false, up, host0, skeleton, xattrs: EMPTY, hostXattrs: EMPTY, lines: counted, text };
    entries.push(e);
    if (!wh && up) {
      // Every entry's attributes: data to commit, and the marks of whiteouts and opaque dirs.
      if (typeof upX === 'number') errors.push(`${host}: cannot read the sandbox copy's attributes (errno ${upX})`);
      else if (upX.length) {
        for (const [n, v] of upX) {
          if (OPAQUE_NAMES.has(n) && up.type === 'dir' && v.length === 1 && v[0] === 0x79 /* y */) e.opaque = true;
          if (WHITEOUT_NAMES.has(n) && up.type === 'file' && up.size === 0) e.whiteout = true;
        }
        const user = upX.filter(([n]) => !isOverlayXattr(n));
        // ACL and capability ids in a shifted layer are shifted like owners (see acl.ts).
        if (user.length) e.xattrs = shift ? unshiftXattrs(user, shift) : user;
      }
      if (host0 && host0.type === up.type && host0.type !== 'symlink' && typeof hostX !== 'number' && hostX.length) {
        const user = hostX.filter(([n]) => !isOverlayXattr(n));
        if (user.length) e.hostXattrs = user;
      }
    }
    if ((idx & 0x3fff) === 0 && opts.progress) opts.progress(idx);
  }
  if (shownEmpty.length) for (const e of entries) if (e.opaque && shownEmpty.includes(e.host)) e.opaque = false;
  if (unreadable.length) settleUnreadable(layersRoot, unreadable, errors);
  return { entries, errors: errors.filter((e) => e), layerBytes };
}
