// Batched calls to `sbx-helper xattr` (native/xattr.c): Node has no getxattr, setxattr or
// mknod. One helper process per batch, never one per file.
import { spawnSync } from 'node:child_process';
import { SbxError } from '../errors.js';
import { helperPath } from '../helper.js';

function callHelper(args: string[], input: Buffer): Buffer {
  const bin = helperPath();
  const r = spawnSync(bin, ['xattr', ...args], { input, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe'] });
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

/** Every extended attribute of each path (byte strings; the last component is not followed). */
export function getXattrs(paths: string[]): XattrResult[] {
  if (!paths.length) return [];
  const input = Buffer.from(paths.join('\0') + '\0', 'latin1');
  const out = callHelper(['get'], input);
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
export function setXattrs(items: Array<{ path: string; attrs: Xattrs }>): number[] {
  if (!items.length) return [];
  const parts: Buffer[] = [];
  for (const it of items) {
    parts.push(Buffer.from(it.path + '\0', 'latin1'));
    const n = Buffer.alloc(4); n.writeUInt32LE(it.attrs.length); parts.push(n);
    for (const [name, value] of it.attrs) {
      parts.push(Buffer.from(name + '\0', 'latin1'));
      const l = Buffer.alloc(4); l.writeUInt32LE(value.length); parts.push(l, value);
    }
  }
  const out = callHelper(['set'], Buffer.concat(parts));
  return items.map((_, i) => out.readUInt32LE(i * 4));
}

/** Creates fifos, sockets or overlay whiteouts (char 0/0) with mode 0600; errno per path. */
export function mknodBatch(kind: 'fifo' | 'socket' | 'whiteout', paths: string[]): number[] {
  if (!paths.length) return [];
  const out = callHelper(['mknod', kind], Buffer.from(paths.join('\0') + '\0', 'latin1'));
  return paths.map((_, i) => out.readUInt32LE(i * 4));
}

/** overlayfs's own bookkeeping attributes: never user data, never compared or committed. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith('user.overlay.') || name.startsWith('trusted.overlay.') || name.startsWith('user.fuseoverlayfs.');
}

export function xattrsEqual(a: Xattrs, b: Xattrs): boolean {
  if (a.length !== b.length) return false;
  const m = new Map(a.map(([n, v]) => [n, v]));
  for (const [n, v] of b) {
    const w = m.get(n);
    if (!w || !w.equals(v)) return false;
  }
  return true;
}

export function errnoName(e: number): string {
  const names: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 13: 'EACCES', 17: 'EEXIST', 20: 'ENOTDIR', 22: 'EINVAL', 28: 'ENOSPC', 30: 'EROFS', 40: 'ELOOP', 61: 'ENODATA', 95: 'EOPNOTSUPP' };
  return names[e] ?? `errno ${e}`;
}
