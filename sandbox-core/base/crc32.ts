// zlib's CRC-32, for the caches sbx loads and runs (the code cache, the compiled seccomp
// programs): a damaged file is then never used. From Node's binding: node:zlib itself costs
// ~3 ms to load, more than the checks it would serve.
import { builtin } from './builtin.js';
import { nodeBinding } from './node-binding.js';

export type Crc32 = (data: Uint8Array, value: number) => number;

let found: Crc32 | null | undefined;

/**
 * zlib's crc32(data, start) once it gave the standard check value (0xCBF43926 for
 * "123456789"): Node's binding, else node:zlib's; null in a Node without either (before
 * 20.15), where a caller uses no cache, since none could be checked.
 */
export function crc32Fn(): Crc32 | null {
  if (found !== undefined) return found;
  found = null;
  const candidates: Array<() => unknown> = [
    () => { const z = nodeBinding('zlib'); return typeof z?.crc32 === 'function' ? (z.crc32 as Crc32).bind(z) : null; },
    () => builtin<{ crc32?: unknown }>('node:zlib').crc32,
  ];
  for (const get of candidates) {
    try {
      const f = get();
      if (typeof f === 'function' && (f as Crc32)(Buffer.from('123456789', 'latin1'), 0) === 0xcbf43926) return (found = f as Crc32);
    } catch { /* the next one */ }
  }
  return null;
}

/** Bytes a seal adds: the CRC-32, then the mark (4 bytes each, little-endian). */
export const SEAL_BYTES = 8;

function crcOf(crc: Crc32, data: Uint8Array, salt: string): number {
  return crc(data, salt ? crc(Buffer.from(salt, 'utf8'), 0) : 0);
}

/**
 * `data` as a cache file holds it: followed by the CRC-32 of `salt` and `data`, then `mark`
 * (which says what kind of file it is); null when no CRC-32 can be had. A salt (the name the
 * file is filed under) makes a file copied under another name fail its check.
 */
export function seal(data: Uint8Array, mark: number, salt = ''): Buffer | null {
  const crc = crc32Fn();
  if (!crc) return null;
  const trailer = Buffer.allocUnsafe(SEAL_BYTES);
  trailer.writeUInt32LE(crcOf(crc, data, salt), 0);
  trailer.writeUInt32LE(mark, 4);
  return Buffer.concat([data, trailer]);
}

/** The data `seal` was given, when `file` ends with `mark` and the CRC-32 holds; else undefined. */
export function unseal(file: Buffer, mark: number, salt = ''): Buffer | undefined {
  if (file.length <= SEAL_BYTES || file.readUInt32LE(file.length - 4) !== mark) return undefined;
  const crc = crc32Fn();
  const data = file.subarray(0, file.length - SEAL_BYTES);
  return crc && crcOf(crc, data, salt) === file.readUInt32LE(file.length - SEAL_BYTES) ? data : undefined;
}
