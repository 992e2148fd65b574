// The renames of staged files over their targets, in one `sbx-helper place` call per batch
// (native/place.c): the helper does each entry's last conflict check, journal line and
// rename in a fixed order; which entries, their order and the state each target must be in
// are decided here and in apply.ts.
import { childProcess } from '../base/builtin.js';
import { spawnSyncPiped } from '../base/light-process.js';
import { closeSync, openSync, constants as C } from 'node:fs';
import { O_PATH } from '../beneath.js';
import { SbxError } from '../base/errors.js';
import { helperPath } from '../helper.js';
import type { EntryStat, EntryType } from '../changes/types.js';
import { fenceArgs } from '../changes/fsat.js';

export interface PlaceItem {
  step: number;
  /** Absolute host path (byte string). */
  path: string;
  /** The staged name, in the same directory as `path`. */
  tmpName: string;
  /** The host entry must be: anything (null), absent, or exactly this one (not a dir). */
  expect: null | 'absent' | EntryStat;
}

export type PlaceResult =
  | { kind: 'placed' }
  | { kind: 'conflict'; why: 'exists' | 'gone' | 'differs' | 'changed-after-start'; errno: number }
  | { kind: 'failed'; step: 'parent' | 'rename' | 'journal'; errno: number };

const TYPE_BITS: Record<EntryType, number> = {
  file: 0o100000, dir: 0o040000, symlink: 0o120000, fifo: 0o010000, socket: 0o140000, char: 0o020000, block: 0o060000,
};
const CONFLICTS = ['', 'exists', 'gone', 'differs', 'changed-after-start'] as const;
const FAILS = ['', 'parent', 'rename', 'journal'] as const;
const NO_PAUSE = 0xffffffff;

export interface PlaceOptions {
  /** The journal's fd (O_APPEND): the helper writes `b N` before and `d N` after each rename. */
  journalFd: number | null;
  createdMs: number;
  /** fdatasync the journal after this many renames (0: never). */
  syncEvery: number;
  /** Test hook: stop before renaming this step, after its `b` line, so a test can SIGKILL there. */
  pauseAt?: number;
}

function encode(items: PlaceItem[], opts: PlaceOptions): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(20);
  head.writeUInt32LE(opts.journalFd === null ? 0 : 1, 0);
  head.writeUInt32LE(opts.pauseAt ?? NO_PAUSE, 4);
  head.writeUInt32LE(opts.syncEvery, 8);
  head.writeDoubleLE(opts.createdMs, 12);
  parts.push(head);
  for (const it of items) {
    const n = Buffer.alloc(4); n.writeUInt32LE(it.step);
    parts.push(n, Buffer.from(`${it.path.slice(1)}\0${it.tmpName}\0`, 'latin1'));
    const e = it.expect;
    if (e === null || e === 'absent') {
      const k = Buffer.alloc(4); k.writeUInt32LE(e === null ? 0 : 1); parts.push(k);
      continue;
    }
    const b = Buffer.alloc(4 * 4 + 8 * 5);
    let o = b.writeUInt32LE(2, 0);
    o = b.writeUInt32LE((TYPE_BITS[e.type] | e.perm) >>> 0, o); o = b.writeUInt32LE(e.uid, o); o = b.writeUInt32LE(e.gid, o);
    o = b.writeBigUInt64LE(BigInt(e.ino), o); o = b.writeBigUInt64LE(BigInt(e.dev), o); o = b.writeBigUInt64LE(BigInt(e.size), o);
    o = b.writeDoubleLE(e.mtimeMs, o); b.writeDoubleLE(e.ctimeMs, o);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

/** Places every item in order; one result per item. */
export function placeFiles(items: PlaceItem[], opts: PlaceOptions): PlaceResult[] {
  if (!items.length) return [];
  const root = openSync('/', O_PATH | C.O_DIRECTORY);
  let r;
  try {
    const fds = opts.journalFd !== null ? [root, opts.journalFd] : [root];
    // A paused place (the tests' pauseAt) says on the caller's stderr where it waits; else
    // not node:child_process, whose load is ~6 ms of a small commit (base/light-process.ts).
    r = opts.pauseAt !== undefined
      ? childProcess().spawnSync(helperPath(), ['place', ...fenceArgs()], { input: encode(items, opts), maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'inherit', ...fds] })
      : spawnSyncPiped(helperPath(), ['place', ...fenceArgs()], encode(items, opts), fds, 1 << 30);
  } finally {
    closeSync(root);
  }
  if (r.error) throw new SbxError(`sbx-helper place: ${r.error.message}`);
  if (r.status !== 0) throw new SbxError(`sbx-helper place failed: ${String(r.stderr ?? '').trim()}`);
  const out = r.stdout;
  if (out.length !== items.length * 12) throw new SbxError('sbx-helper place: short answer');
  return items.map((_, i): PlaceResult => {
    const kind = out.readUInt32LE(i * 12), what = out.readUInt32LE(i * 12 + 4), errno = out.readUInt32LE(i * 12 + 8);
    if (kind === 0) return { kind: 'placed' };
    if (kind === 1) return { kind: 'conflict', why: CONFLICTS[what] || 'differs', errno };
    return { kind: 'failed', step: FAILS[what] || 'rename', errno };
  });
}
