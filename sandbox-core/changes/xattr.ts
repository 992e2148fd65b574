// Batched calls to `sbx-helper xattr` (native/xattr.c): Node has no getxattr, setxattr or
// mknod. One helper process per batch, never one per file.
import { spawnSyncPiped } from '../base/light-process.js';
import { closeSync, openSync, constants as C } from 'node:fs';
import { O_PATH } from '../beneath.js';
import { SbxError } from '../base/errors.js';
import { helperPath } from '../helper.js';
import { fenceArgs, physicalRoot, rootPath } from './fsat.js';
import type { Timespec } from './types.js';

/** The ops that write; with `/` as their root during a commit, the helper gets its fences. */
const WRITES = new Set(['set', 'unset', 'mknod', 'times', 'stage']);

/**
 * Runs `sbx-helper xattr`. With `roots`, the helper gets each root directory as fd 3, 4, …
 * and resolves every path below it itself, one component at a time, no symlink followed, at
 * any depth (`--beneath`, native/beneath.c). A trusted root (a sandbox's layers dir) is
 * handed over from its open fd, not opened by its path again (fsat.ts rootPath).
 */
function callHelper(args: string[], input: Buffer, roots: string[] = []): Buffer {
  const bin = helperPath();
  const fds: number[] = [];
  try {
    for (const r of roots) fds.push(openSync(Buffer.from(rootPath(r), 'latin1'), O_PATH | C.O_DIRECTORY));
  } catch (e) {
    for (const fd of fds) closeSync(fd);
    throw e;
  }
  let r;
  try {
    // The writes of a commit in the host's tree are fenced (fsat.ts setFences); a read is not.
    const fenced = roots[roots.length - 1] === '/' && WRITES.has(args[0]!) ? fenceArgs() : [];
    // Not node:child_process: loading it is ~6 ms of a small commit (base/light-process.ts).
    r = spawnSyncPiped(bin, ['xattr', ...(roots.length ? ['--beneath', ...fenced] : []), ...args], input, fds, 1 << 30);
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  if (r.error) throw new SbxError(`sbx-helper xattr ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new SbxError(`sbx-helper xattr ${args.join(' ')} failed: ${String(r.stderr).trim()}`);
  return r.stdout;
}

export type Xattrs = Array<[string, Buffer]>;
export interface XattrResult {
  errno: number;
  attrs: Xattrs;
}

const EMPTY: Xattrs = [];

/** `p` relative to `root` (both absolute byte strings; p strictly below root). */
export function relTo(root: string, p: string): string {
  if (root === '/') return p.slice(1);
  if (!p.startsWith(root + '/')) throw new SbxError(`internal error: ${p} is not below ${root}`);
  return p.slice(root.length + 1);
}

/**
 * Every extended attribute of each path (byte strings). Paths are resolved below `root`
 * without following a symlink in any component (default `/`).
 */
export function getXattrs(paths: string[], root = '/'): XattrResult[] {
  if (!paths.length) return [];
  const input = Buffer.from(paths.map((p) => relTo(root, p)).join('\0') + '\0', 'latin1');
  const out = callHelper(['get'], input, [physicalRoot(root)]);
  const res: XattrResult[] = new Array(paths.length);
  let off = 0;
  for (let i = 0; i < paths.length; i++) {
    if (off + 4 > out.length) throw new SbxError('sbx-helper xattr get: short answer');
    const errno = out.readUInt32LE(off); off += 4;
    if (errno) { res[i] = { errno, attrs: EMPTY }; continue; }
    const n = out.readUInt32LE(off); off += 4;
    const attrs: Xattrs = n ? [] : EMPTY;
    for (let k = 0; k < n; k++) {
      const nl = out.readUInt32LE(off); off += 4;
      const name = out.toString('latin1', off, off + nl); off += nl;
      const vl = out.readUInt32LE(off); off += 4;
      attrs.push([name, Buffer.from(out.subarray(off, off + vl))]); off += vl;
    }
    res[i] = { errno: 0, attrs };
  }
  return res;
}

/** Sets attributes; returns the errno of the first failure per path (0 = all set). */
export function setXattrs(items: Array<{ path: string; attrs: Xattrs }>, root = '/'): number[] {
  if (!items.length) return [];
  const parts: Buffer[] = [];
  for (const it of items) {
    parts.push(Buffer.from(relTo(root, it.path) + '\0', 'latin1'));
    const n = Buffer.alloc(4); n.writeUInt32LE(it.attrs.length); parts.push(n);
    for (const [name, value] of it.attrs) {
      parts.push(Buffer.from(name + '\0', 'latin1'));
      const l = Buffer.alloc(4); l.writeUInt32LE(value.length); parts.push(l, value);
    }
  }
  const out = callHelper(['set'], Buffer.concat(parts), [root]);
  return items.map((_, i) => out.readUInt32LE(i * 4));
}

/** Creates fifos, sockets or overlay whiteouts (char 0/0) with mode 0600; errno per path. */
export function mknodBatch(kind: 'fifo' | 'socket' | 'whiteout', paths: string[], root = '/'): number[] {
  if (!paths.length) return [];
  const out = callHelper(['mknod', kind], Buffer.from(paths.map((p) => relTo(root, p)).join('\0') + '\0', 'latin1'), [root]);
  return paths.map((_, i) => out.readUInt32LE(i * 4));
}

export { isDataXattr } from './overlay-xattrs.js';

export function xattrsEqual(a: Xattrs, b: Xattrs): boolean {
  if (a.length !== b.length) return false;
  const m = new Map(a.map(([n, v]) => [n, v]));
  for (const [n, v] of b) {
    const w = m.get(n);
    if (!w || !w.equals(v)) return false;
  }
  return true;
}

/** One new file for `stageFiles`: copied from `src` (below srcRoot) to `dst` (below `/`). */
export interface StageItem {
  src: string;
  dst: string;
  uid: number;
  gid: number;
  perm: number;
  ino: number;
  dev: number;
  atime: Timespec;
  mtime: Timespec;
  xattrs: Xattrs;
  /** The file the copy replaces, a name in dst's dir ('' for none), and which of its inode flags (chattr's, FS_IOC_GETFLAGS) the copy takes. */
  like: string;
  flagsMask: number;
}

export interface StageResult {
  errno: number;
  /** What failed: open source, source changed, create, copy, owner, xattr, mode, times. */
  step: string;
  ownerKept: boolean;
  xattrErrno: number;
  /** Why the replaced file's inode flags could not be given to the copy (0: given, or none). */
  flagsErrno: number;
  bytes: number;
}

const STAGE_STEPS = ['', 'open the sandbox copy', 'the sandbox copy changed since the review', 'create', 'copy', 'owner', 'xattrs', 'mode', 'times'];

/** Bytes of an atime and an mtime in a request: i64 seconds (signed: before 1970), u32 ns each. */
const TIMES_BYTES = 2 * (8 + 4);

function putTimes(b: Buffer, o: number, atime: Timespec, mtime: Timespec): number {
  o = b.writeBigInt64LE(BigInt(atime.sec), o); o = b.writeUInt32LE(atime.nsec, o);
  o = b.writeBigInt64LE(BigInt(mtime.sec), o);
  return b.writeUInt32LE(mtime.nsec, o);
}

/** An entry whose times `setTimes` sets: it must still be the inode `ino` on `dev`. */
export interface TimesItem {
  path: string;
  ino: number;
  dev: number;
  atime: Timespec;
  mtime: Timespec;
}

/**
 * Sets the atime and mtime of entries below `root` (default `/`; no symlink followed at any
 * depth; a symlink's own) to the nanosecond, of any sign, in one helper call: Node's utimes
 * keeps microseconds and takes a time before 1970 for the current one. An errno per item
 * (ESTALE: the name holds another inode now, left alone).
 */
export function setTimes(items: TimesItem[], root = '/'): number[] {
  return setTimesThenSync(items, [], root).errnos;
}

/**
 * The head of a `--then-syncfs` request: the dirs (below `root`) whose filesystems the helper
 * syncs once the op's items are done, so a commit's writes and their sync take one start.
 */
function syncHead(dirs: string[], root: string): Buffer {
  const n = Buffer.alloc(4);
  n.writeUInt32LE(dirs.length);
  return Buffer.concat([n, ...dirs.map((d) => Buffer.from(`${d === root ? '' : relTo(root, d)}\0`, 'latin1'))]);
}

/** The errnos of the `--then-syncfs` dirs after `items` answers of `size` bytes. */
function syncAnswers(out: Buffer, items: number, size: number, dirs: number, op: string): { answers: Buffer; synced: number[] } {
  if (out.length !== items * size + dirs * 4) throw new SbxError(`sbx-helper xattr ${op}: short answer`);
  const at = items * size;
  return { answers: out.subarray(0, at), synced: Array.from({ length: dirs }, (_, i) => out.readUInt32LE(at + i * 4)) };
}

/**
 * setTimes, then a syncfs of the filesystem holding each of `syncDirs` (below `root`), in one
 * helper call: `errnos` per item, `synced` an errno per dir (0: on disk).
 */
export function setTimesThenSync(items: TimesItem[], syncDirs: string[], root = '/'): { errnos: number[]; synced: number[] } {
  if (!items.length && !syncDirs.length) return { errnos: [], synced: [] };
  const parts: Buffer[] = syncDirs.length ? [syncHead(syncDirs, root)] : [];
  for (const it of items) {
    parts.push(Buffer.from(`${relTo(root, it.path)}\0`, 'latin1'));
    const h = Buffer.alloc(8 * 2 + TIMES_BYTES);
    let o = h.writeBigUInt64LE(BigInt(it.ino), 0);
    o = h.writeBigUInt64LE(BigInt(it.dev), o);
    putTimes(h, o, it.atime, it.mtime);
    parts.push(h);
  }
  const out = callHelper(['times', ...(syncDirs.length ? ['--then-syncfs'] : [])], Buffer.concat(parts), [root]);
  const { answers, synced } = syncAnswers(out, items.length, 4, syncDirs.length, 'times');
  return { errnos: items.map((_, i) => answers.readUInt32LE(i * 4)), synced };
}

/**
 * Writes new files beside their targets in one helper call: data copied with holes kept
 * (SEEK_DATA/SEEK_HOLE), owner, xattrs, mode, times; then a syncfs of the filesystem holding
 * each of `syncDirs` (host dirs), in the same call. A result per item, an errno per dir.
 */
export function stageFiles(items: StageItem[], srcRoot: string, syncDirs: string[] = []): { results: StageResult[]; synced: number[] } {
  if (!items.length) return { results: [], synced: [] };
  const parts: Buffer[] = syncDirs.length ? [syncHead(syncDirs, '/')] : [];
  for (const it of items) {
    parts.push(Buffer.from(`${relTo(srcRoot, it.src)}\0${relTo('/', it.dst)}\0${it.like}\0`, 'latin1'));
    const h = Buffer.alloc(4 * 3 + 8 * 2 + TIMES_BYTES + 4 + 4);
    let o = 0;
    o = h.writeUInt32LE(it.uid, o); o = h.writeUInt32LE(it.gid, o); o = h.writeUInt32LE(it.perm, o);
    o = h.writeBigUInt64LE(BigInt(it.ino), o); o = h.writeBigUInt64LE(BigInt(it.dev), o);
    o = putTimes(h, o, it.atime, it.mtime);
    o = h.writeUInt32LE(it.flagsMask >>> 0, o);
    h.writeUInt32LE(it.xattrs.length, o);
    parts.push(h);
    for (const [name, value] of it.xattrs) {
      const l = Buffer.alloc(4); l.writeUInt32LE(value.length);
      parts.push(Buffer.from(name + '\0', 'latin1'), l, value);
    }
  }
  const out = callHelper(['stage', ...(syncDirs.length ? ['--then-syncfs'] : [])], Buffer.concat(parts), [srcRoot, '/']);
  const { answers, synced } = syncAnswers(out, items.length, 28, syncDirs.length, 'stage');
  const results = items.map((_, i): StageResult => {
    const o = i * 28;
    const step = answers.readUInt32LE(o + 4);
    return {
      errno: answers.readUInt32LE(o), step: STAGE_STEPS[step] ?? `step ${step}`, ownerKept: answers.readUInt32LE(o + 8) === 0,
      xattrErrno: answers.readUInt32LE(o + 12), flagsErrno: answers.readUInt32LE(o + 16), bytes: Number(answers.readBigUInt64LE(o + 20)),
    };
  });
  return { results, synced };
}
