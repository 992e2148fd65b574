// A streaming tar reader for image layers (the first step of `sbx run --image`): ustar, pax
// extended headers and GNU long names, as docker, umoci and sbx export write them. A layer is
// hostile input: every header is checksummed, sizes are bounded, and a name that would leave the
// root (absolute, `..`, empty) is refused rather than cleaned up, so the caller never has to.
import { SbxError } from '../base/errors.js';

export type LayerEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'char' | 'block';

export interface LayerEntry {
  /** Byte-string path (latin1, one char per byte) relative to the root, no leading `./` or `/`, no trailing `/`. */
  name: string;
  type: LayerEntryType;
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  size: number;
  linkName: string;
  rdev: { major: number; minor: number };
  xattrs: Array<[string, Buffer]>;
  /**
   * A `file` entry's content, read from the archive as it is iterated, in chunks of at most
   * CHUNK bytes (other types: nothing). It must be read before the reader is asked for the next
   * entry; what is left unread then is skipped.
   */
  chunks: AsyncIterable<Buffer>;
}

/** What an OCI layer entry means to the merged tree (image-spec "whiteouts"). */
export type LayerOp =
  | { op: 'put'; entry: LayerEntry }
  | { op: 'whiteout'; name: string }
  | { op: 'opaque'; dir: string };

const BLOCK = 512;
const TYPES: Record<string, LayerEntryType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };
/** Metadata blocks (pax records, GNU long names) are small; a huge one is an attack. */
const MAX_META = 1 << 20;
/**
 * An entry's content is handed on this many bytes at a time, never held whole: a layer's file
 * can be any size (a 512 MiB file made sbx's RSS 1.2 GB when entries were read whole).
 */
export const CHUNK = 1 << 20;
const NOTHING: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }) };

function bad(what: string): SbxError {
  return new SbxError(`image layer: ${what}`, 125, 'the image is damaged or was tampered with');
}

function cstr(b: Buffer): Buffer { const z = b.indexOf(0); return z < 0 ? b : b.subarray(0, z); }

function num(b: Buffer): number {
  if (b.readUInt8(0) & 0x80) {
    // base-256 (GNU): big sizes and ids
    let n = 0;
    for (let i = 0; i < b.length; i++) n = n * 256 + (i === 0 ? b.readUInt8(i) & 0x7f : b.readUInt8(i));
    if (!Number.isSafeInteger(n)) throw bad('a number does not fit');
    return n;
  }
  const s = cstr(b).toString('latin1').trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw bad(`bad octal field ${JSON.stringify(s)}`);
  return parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h.readUInt8(i);
  return sum === num(h.subarray(148, 156));
}

function parsePax(body: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    if (sp < 0) throw bad('bad pax record');
    const len = Number(body.subarray(i, sp).toString('latin1'));
    if (!Number.isSafeInteger(len) || len <= sp - i || i + len > body.length || body[i + len - 1] !== 0x0a) throw bad('bad pax record');
    const rec = body.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw bad('bad pax record');
    out.set(rec.subarray(0, eq).toString('utf8'), Buffer.from(rec.subarray(eq + 1)));
    i += len;
  }
  return out;
}

/** PATH_MAX less its NUL: no program in the image could name a longer path in one call. */
export const MAX_NAME = 4095;
/**
 * Directory levels in a name. Real images stay far below (tens); every level costs sbx an open
 * per entry, and a few thousand made unpacking run for minutes.
 */
export const MAX_DEPTH = 256;

/**
 * A name from the archive as a clean relative byte-string path. `./a/b/` -> `a/b`; the root
 * itself -> ''. Refuses `..` components and NUL rather than normalising them away, and names
 * longer than MAX_NAME bytes or deeper than MAX_DEPTH levels.
 */
export function cleanName(raw: string): string {
  if (raw.length > MAX_NAME) throw bad(`entry ${JSON.stringify(raw.slice(0, 100))}... is longer than ${MAX_NAME} bytes`);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw bad(`entry ${JSON.stringify(raw).slice(0, 200)} leaves the root`);
  if (parts.length > MAX_DEPTH) throw bad(`entry ${JSON.stringify(raw.slice(0, 100))}... is more than ${MAX_DEPTH} levels deep`);
  return parts.join('/');
}

/** Reads a whole (uncompressed) tar stream, yielding one entry at a time. */
export async function* readTar(input: AsyncIterable<Buffer | string>): AsyncGenerator<LayerEntry> {
  // The unread input as a queue of chunks: appending each chunk to one buffer copied everything
  // held so far on every chunk, quadratic in an entry's size (a 64 MiB file took minutes).
  let queue: Buffer[] = [];
  let head = 0; // queue[head] is the next unread chunk (no shift(): that moves the whole array)
  let held = 0;
  const it = input[Symbol.asyncIterator]();
  let ended = false;
  const need = async (n: number): Promise<boolean> => {
    while (held < n && !ended) {
      const r = await it.next();
      if (r.done) { ended = true; break; }
      const c = typeof r.value === 'string' ? Buffer.from(r.value, 'latin1') : r.value;
      if (c.length) { queue.push(c); held += c.length; }
    }
    return held >= n;
  };
  /** The next n bytes (n <= held), as a buffer of their own; or dropped, with `keep` false. */
  const take = (n: number, keep = true): Buffer => {
    const out = keep ? Buffer.allocUnsafe(n) : Buffer.alloc(0);
    for (let got = 0; got < n;) {
      const c = queue[head]!;
      const k = Math.min(c.length, n - got);
      if (keep) c.copy(out, got, 0, k);
      got += k;
      if (k === c.length) head++; else queue[head] = c.subarray(k);
    }
    held -= n;
    // Chunks read are dropped now and then, so neither the array nor what it holds grows.
    if (head === queue.length) { queue = []; head = 0; } else if (head >= 64) { queue = queue.slice(head); head = 0; }
    return out;
  };
  /** Drops `n` bytes of input a chunk at a time: what is skipped is never held. */
  const skip = async (n: number): Promise<void> => {
    for (let left = n; left > 0;) {
      if (!(await need(Math.min(left, CHUNK)))) throw bad('truncated archive');
      const k = Math.min(left, held);
      take(k, false);
      left -= k;
    }
  };
  /** A metadata entry's body (pax records, a GNU long name): small, so held. */
  const body = async (size: number): Promise<Buffer> => {
    if (size > MAX_META) throw bad(`a metadata entry of ${size} bytes is too big`);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (!(await need(padded))) throw bad('truncated archive');
    return take(padded).subarray(0, size);
  };
  let unread = 0; // content bytes of the entry last yielded that its consumer has not read
  let serial = 0; // which entry was yielded last: a content read after the next one is a bug
  const contentOf = (size: number): AsyncIterable<Buffer> => {
    const mine = ++serial;
    unread = size;
    return {
      async *[Symbol.asyncIterator]() {
        while (unread > 0) {
          if (serial !== mine) throw new Error('tar reader: an entry was read after the next one');
          const n = Math.min(unread, CHUNK);
          if (!(await need(n))) throw bad('truncated archive');
          unread -= n;
          yield take(n);
        }
      },
    };
  };

  let pax = new Map<string, Buffer>();
  let longName: Buffer | null = null;
  let longLink: Buffer | null = null;
  for (;;) {
    if (!(await need(BLOCK))) {
      if (held === 0) return; // some writers omit the end-of-archive blocks
      throw bad('truncated archive');
    }
    const h = take(BLOCK);
    if (h.every((b) => b === 0)) return;
    if (!checksumOk(h)) throw bad('header checksum mismatch');
    const flag = String.fromCharCode(h.readUInt8(156));
    let size = num(h.subarray(124, 136));
    if (flag === 'x') { for (const [k, v] of parsePax(await body(size))) pax.set(k, v); continue; }
    if (flag === 'g') { await body(size); continue; }
    if (flag === 'L') { longName = cstr(await body(size)); continue; }
    if (flag === 'K') { longLink = cstr(await body(size)); continue; }
    const type = TYPES[flag];
    if (!type) throw bad(`unsupported entry type ${JSON.stringify(flag)}`);
    const ustar = h.subarray(257, 262).toString('latin1') === 'ustar';
    const prefix = ustar ? cstr(h.subarray(345, 500)) : Buffer.alloc(0);
    let nameB = longName ?? (prefix.length ? Buffer.concat([prefix, Buffer.from('/'), cstr(h.subarray(0, 100))]) : cstr(h.subarray(0, 100)));
    let linkB = longLink ?? cstr(h.subarray(157, 257));
    if (pax.has('path')) nameB = pax.get('path')!;
    if (pax.has('linkpath')) linkB = pax.get('linkpath')!;
    if (pax.has('size')) size = Number(pax.get('size')!.toString('latin1'));
    const paxNum = (k: string, d: number): number => {
      if (!pax.has(k)) return d;
      const n = Number(pax.get(k)!.toString('latin1'));
      if (!Number.isFinite(n) || n < 0) throw bad(`bad pax ${k}`);
      return n;
    };
    if (!Number.isSafeInteger(size) || size < 0) throw bad('bad size');
    if (nameB.includes(0) || linkB.includes(0)) throw bad('a name holds NUL');
    const xattrs: Array<[string, Buffer]> = [];
    for (const [k, v] of pax) if (k.startsWith('SCHILY.xattr.')) xattrs.push([k.slice(13), v]);
    const entry: LayerEntry = {
      name: cleanName(nameB.toString('latin1')),
      type,
      mode: num(h.subarray(100, 108)) & 0o7777,
      uid: paxNum('uid', num(h.subarray(108, 116))),
      gid: paxNum('gid', num(h.subarray(116, 124))),
      mtimeMs: paxNum('mtime', num(h.subarray(136, 148))) * 1000,
      size: type === 'file' ? size : 0,
      linkName: linkB.toString('latin1'),
      rdev: { major: num(h.subarray(329, 337)), minor: num(h.subarray(337, 345)) },
      xattrs,
      chunks: NOTHING,
    };
    if (type === 'hardlink') entry.linkName = cleanName(entry.linkName);
    if (entry.linkName.length > MAX_NAME) throw bad(`the link target of ${JSON.stringify(entry.name.slice(0, 100))} is longer than ${MAX_NAME} bytes`);
    pax = new Map(); longName = null; longLink = null;
    const padding = Math.ceil(size / BLOCK) * BLOCK - size;
    // Only regular files carry data; anything else with a size field still has its blocks skipped.
    if (type === 'file') {
      entry.chunks = contentOf(size);
      yield entry;
      ++serial;
      await skip(unread + padding);
      unread = 0;
    } else {
      await skip(size + padding);
      yield entry;
    }
  }
}

/** The OCI meaning of an entry: `.wh..wh..opq` hides the lower dir's contents, `.wh.NAME` deletes NAME. */
export function layerOp(e: LayerEntry): LayerOp {
  const slash = e.name.lastIndexOf('/');
  const dir = slash < 0 ? '' : e.name.slice(0, slash);
  const base = e.name.slice(slash + 1);
  if (base === '.wh..wh..opq') return { op: 'opaque', dir };
  if (base.startsWith('.wh.')) {
    const target = base.slice(4);
    if (target === '' || target === '.' || target === '..' || target.startsWith('.wh.')) throw bad(`bad whiteout ${JSON.stringify(e.name).slice(0, 200)}`);
    return { op: 'whiteout', name: dir ? `${dir}/${target}` : target };
  }
  return { op: 'put', entry: e };
}
