// File contents compared and read in bounded memory: size first, then 64 KiB at a time. Paths
// are resolved fd-relative (fsat.ts): any depth, no symlink followed in any component.
import { closeSync, openSync, readSync, readlinkSync, constants as C } from 'node:fs';
import { fsAt } from './fsat.js';

const CHUNK = 1 << 16;
const bufA = Buffer.allocUnsafe(CHUNK);
const bufB = Buffer.allocUnsafe(CHUNK);

export function openNoFollow(p: string): number {
  return openSync(fsAt(p), C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY);
}

function readFull(fd: number, buf: Buffer): number {
  let n = 0;
  while (n < buf.length) {
    const r = readSync(fd, buf, n, buf.length - n, null);
    if (r === 0) break;
    n += r;
  }
  return n;
}

/** Do two regular files (byte strings) hold the same bytes? */
export function sameContent(a: string, b: string): boolean {
  const fa = openNoFollow(a);
  try {
    const fb = openNoFollow(b);
    try {
      for (;;) {
        const na = readFull(fa, bufA);
        const nb = readFull(fb, bufB);
        if (na !== nb) return false;
        if (na === 0) return true;
        if (bufA.compare(bufB, 0, nb, 0, na) !== 0) return false;
        if (na < CHUNK) return true;
      }
    } finally { closeSync(fb); }
  } finally { closeSync(fa); }
}

/** Up to `limit` bytes of a file, and whether it was cut. */
export function readHead(p: string, limit: number): { data: Buffer; cut: boolean } {
  const fd = openNoFollow(p);
  try {
    const buf = Buffer.allocUnsafe(limit + 1);
    const n = readFull(fd, buf);
    return { data: buf.subarray(0, Math.min(n, limit)), cut: n > limit };
  } finally { closeSync(fd); }
}

/** A symlink's target as a byte string (the exact bytes, never resolved). */
export function readlinkB(p: string): string {
  return (readlinkSync(fsAt(p), { encoding: 'buffer' }) as Buffer).toString('latin1');
}
