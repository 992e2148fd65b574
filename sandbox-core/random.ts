// Random ids without loading node:crypto (several milliseconds of a run's start-up): a few
// bytes from the kernel's generator.
import { closeSync, openSync, readSync } from 'node:fs';

export function randomHex(bytes: number): string {
  const buf = Buffer.alloc(bytes);
  const fd = openSync('/dev/urandom', 'r');
  try {
    if (readSync(fd, buf, 0, bytes, null) !== bytes) throw new Error('short read from /dev/urandom');
  } finally {
    closeSync(fd);
  }
  return buf.toString('hex');
}

/**
 * A 64-bit FNV-1a digest as hex: a cache key, not a security boundary (the cache sits in the
 * user's own private directory).
 */
export class Fnv64 {
  private hi = 0xcbf29ce4;
  private lo = 0x84222325;
  update(data: string | Buffer): this {
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    let hi = this.hi, lo = this.lo;
    for (let i = 0; i < b.length; i++) {
      lo = (lo ^ b[i]!) >>> 0;
      // Multiply by the FNV prime 0x100000001b3 in 32-bit halves.
      const l = lo * 0x1b3;
      const h = Math.imul(hi, 0x1b3) + Math.imul(lo, 0x100) + Math.floor(l / 0x100000000);
      lo = l >>> 0;
      hi = h >>> 0;
    }
    this.hi = hi;
    this.lo = lo;
    return this;
  }
  hex(): string {
    return this.hi.toString(16).padStart(8, '0') + this.lo.toString(16).padStart(8, '0');
  }
}
