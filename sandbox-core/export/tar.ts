// A streaming POSIX tar (pax) writer. Names are byte strings and go into the archive as the
// exact bytes; anything ustar cannot hold (long names, big ids or sizes, sub-second times,
// xattrs) goes into a pax extended header, as GNU tar and the OCI tools read it.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, readSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { once } from 'node:events';

export type TarType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'char' | 'block';

export interface TarEntry {
  /** Byte-string path relative to the archive root; a directory ends without `/` (added here). */
  name: string;
  type: TarType;
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  size?: number;
  /** Symlink target or hard-link source name (byte strings). */
  linkName?: string;
  rdev?: { major: number; minor: number };
  xattrs?: Array<[string, Buffer]>;
}

const TYPEFLAG: Record<TarType, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };
const BLOCK = 512;
const ZERO = Buffer.alloc(BLOCK * 2);
const CHUNK = 1 << 20;

function octal(buf: Buffer, off: number, len: number, n: number): boolean {
  const s = Math.trunc(n).toString(8);
  if (s.length > len - 1 || n < 0) return false;
  buf.write(s.padStart(len - 1, '0') + '\0', off, len, 'latin1');
  return true;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'latin1'), value, Buffer.from('\n')]);
  // The length prefix counts itself: find the fixed point.
  let n = body.length + 1;
  while (String(n).length + body.length !== n) n = String(n).length + body.length;
  return Buffer.concat([Buffer.from(String(n)), body]);
}

function isUtf8(b: Buffer): boolean {
  try { new TextDecoder('utf-8', { fatal: true }).decode(b); return true; } catch { return false; }
}

export class TarWriter {
  /** sha256 of the uncompressed stream: an OCI layer's diff-id. */
  readonly hash: Hash = createHash('sha256');
  bytes = 0;

  constructor(private readonly out: Writable) {}

  private async push(b: Buffer): Promise<void> {
    this.hash.update(b);
    this.bytes += b.length;
    if (!this.out.write(b)) await once(this.out, 'drain');
  }

  private header(name: Buffer, e: TarEntry, typeflag: string, size: number, linkName: Buffer): { block: Buffer; pax: Buffer[] } {
    const h = Buffer.alloc(BLOCK);
    const pax: Buffer[] = [];
    if (name.length <= 100) name.copy(h, 0); else { pax.push(paxRecord('path', name)); name.subarray(0, 100).copy(h, 0); }
    if (!isUtf8(name) || !isUtf8(linkName)) pax.unshift(paxRecord('hdrcharset', Buffer.from('BINARY')));
    octal(h, 100, 8, e.mode & 0o7777);
    if (!octal(h, 108, 8, e.uid)) { pax.push(paxRecord('uid', Buffer.from(String(e.uid)))); octal(h, 108, 8, 0); }
    if (!octal(h, 116, 8, e.gid)) { pax.push(paxRecord('gid', Buffer.from(String(e.gid)))); octal(h, 116, 8, 0); }
    if (!octal(h, 124, 12, size)) { pax.push(paxRecord('size', Buffer.from(String(size)))); octal(h, 124, 12, 0); }
    const sec = Math.floor(e.mtimeMs / 1000);
    octal(h, 136, 12, Math.max(0, sec));
    const frac = e.mtimeMs - sec * 1000;
    if (frac > 0) pax.push(paxRecord('mtime', Buffer.from(`${sec}.${String(Math.round(frac * 1e6)).padStart(9, '0')}`)));
    h.write(typeflag, 156, 1, 'latin1');
    if (linkName.length <= 100) linkName.copy(h, 157); else { pax.push(paxRecord('linkpath', linkName)); linkName.subarray(0, 100).copy(h, 157); }
    h.write('ustar\0' + '00', 257, 8, 'latin1');
    if (e.rdev) { octal(h, 329, 8, e.rdev.major); octal(h, 337, 8, e.rdev.minor); }
    for (const [k, v] of e.xattrs ?? []) pax.push(paxRecord(`SCHILY.xattr.${k}`, v));
    return { block: h, pax };
  }

  private static checksum(h: Buffer): void {
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  }

  /** Writes one entry; for a file, `contentFd` is read to exactly `size` bytes and closed. */
  async add(e: TarEntry, contentFd?: number): Promise<void> {
    const name = Buffer.from(e.type === 'dir' && !e.name.endsWith('/') ? `${e.name}/` : e.name, 'latin1');
    const size = e.type === 'file' ? e.size ?? (contentFd !== undefined ? fstatSync(contentFd).size : 0) : 0;
    const { block, pax } = this.header(name, e, TYPEFLAG[e.type], size, Buffer.from(e.linkName ?? '', 'latin1'));
    if (pax.length) {
      const body = Buffer.concat(pax);
      const ph = Buffer.alloc(BLOCK);
      Buffer.from('PaxHeader', 'latin1').copy(ph, 0);
      octal(ph, 100, 8, 0o644); octal(ph, 108, 8, 0); octal(ph, 116, 8, 0);
      octal(ph, 124, 12, body.length); octal(ph, 136, 12, 0);
      ph.write('x', 156, 1, 'latin1');
      ph.write('ustar\0' + '00', 257, 8, 'latin1');
      TarWriter.checksum(ph);
      await this.push(ph);
      await this.push(body);
      await this.pad(body.length);
    }
    TarWriter.checksum(block);
    await this.push(block);
    if (e.type === 'file') await this.content(contentFd, size);
  }

  private async content(fd: number | undefined, size: number): Promise<void> {
    let done = 0;
    if (fd !== undefined) {
      try {
        const buf = Buffer.allocUnsafe(CHUNK);
        while (done < size) {
          const n = readSync(fd, buf, 0, Math.min(CHUNK, size - done), null);
          if (n === 0) break; // shrank under us: padded with zeros below, size stays what the header says
          await this.push(Buffer.from(buf.subarray(0, n)));
          done += n;
        }
      } finally { closeSync(fd); }
    }
    while (done < size) {
      const n = Math.min(CHUNK, size - done);
      await this.push(Buffer.alloc(n));
      done += n;
    }
    await this.pad(size);
  }

  private async pad(n: number): Promise<void> {
    const r = n % BLOCK;
    if (r) await this.push(ZERO.subarray(0, BLOCK - r));
  }

  /** The two zero blocks that end an archive. */
  async finish(): Promise<void> {
    await this.push(ZERO);
  }
}
