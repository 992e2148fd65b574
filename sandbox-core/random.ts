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
  // Four 16-bit limbs, low first: every product and sum below stays under 2^31, a small
  // integer to V8. Two 32-bit halves made a heap number per step (~22 KB of young garbage per
  // run for the seccomp cache key, measured with the sampling heap profiler).
  private h = [0x2325, 0x8422, 0x9ce4, 0xcbf2];
  update(data: string | Buffer): this {
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    let [h0, h1, h2, h3] = this.h as [number, number, number, number];
    for (let i = 0; i < b.length; i++) {
      h0 ^= b[i]!;
      // Times the FNV prime 0x100000001b3: its limbs are 0x1b3 (bits 0-15) and 0x100 (bits 32-47).
      const r0 = h0 * 0x1b3;
      const r1 = h1 * 0x1b3 + (r0 >>> 16);
      const r2 = h2 * 0x1b3 + h0 * 0x100 + (r1 >>> 16);
      const r3 = h3 * 0x1b3 + h1 * 0x100 + (r2 >>> 16);
      h0 = r0 & 0xffff; h1 = r1 & 0xffff; h2 = r2 & 0xffff; h3 = r3 & 0xffff;
    }
    this.h = [h0, h1, h2, h3];
    return this;
  }
  hex(): string {
    const [h0, h1, h2, h3] = this.h as [number, number, number, number];
    return (h3 * 0x10000 + h2).toString(16).padStart(8, '0') + (h1 * 0x10000 + h0).toString(16).padStart(8, '0');
  }
}
