// The new regular files of a names-only scan (WalkOptions.namesOnly), kept as columns: one
// shared buffer of name bytes, offsets and lengths in typed arrays, and each file's directory
// as an index into the few directory prefixes. A list of 100k new files is then a few arrays
// instead of 100k change objects and their path strings, which the garbage collector would
// copy on every young-generation collection (almost all of them live until the list is
// printed). A path is made only when something asks for it, and dropped right after.
import { isPlainBytes } from './bpath.js';
import type { Change, EntryStat } from './types.js';

export class NamedChanges {
  length = 0;
  /** Host path prefixes of the directories (each ends in '/'). */
  readonly dirs: string[] = [];
  /** The same directories' paths in the upper layer (each ends in '/'). */
  readonly uppers: string[] = [];
  private dir = new Int32Array(1024);
  private start = new Uint32Array(1024);
  /** Name lengths: the helper's are u16. */
  private len = new Uint16Array(1024);
  /** With --stat only (`counted`): each file's lines as the helper counted them (-1 binary, -2 too large). */
  private lines: Int32Array | null;
  /** With --stat only: each file's size as the helper found it. */
  private sizes: Float64Array | null;
  private bytes = Buffer.allocUnsafe(1 << 16);
  private used = 0;
  /**
   * With `stats` (the full review, WalkOptions.columns): each file's permission bits and
   * allocated blocks (sizes in `sizes`), and its text as the helper sent it: the answer piece
   * it lies in (an index into `pieces`), where, and its length, or the helper's reason (< 0).
   */
  private perm: Uint16Array | null = null;
  private blocks: Float64Array | null = null;
  private textPiece: Int32Array | null = null;
  private textStart: Uint32Array | null = null;
  private textLen: Int32Array | null = null;
  private readonly pieces: Buffer[] = [];
  /** With `mark`: what it said of each entry's path and mode as the entry was added (0-255). */
  private marks: Uint8Array | null = null;
  /** Each directory prefix's bytes, made when first printed. */
  private dirBytes: Array<Buffer | undefined> = [];

  /**
   * `mark` (the `stats` list only) is asked of each entry as it is added, with its host path
   * and permission bits, and its answer kept (markAt): the full review's summary rules, run
   * while the helper still walks (render-changes.ts summaryMarker), not after.
   */
  constructor(readonly counted = false, readonly stats = false, readonly mark: ((path: string, perm: number) => number) | null = null) {
    this.lines = counted ? new Int32Array(1024) : null;
    this.sizes = counted || stats ? new Float64Array(1024) : null;
    if (stats && mark) this.marks = new Uint8Array(1024);
    if (stats) {
      this.perm = new Uint16Array(1024);
      this.blocks = new Float64Array(1024);
      this.textPiece = new Int32Array(1024);
      this.textStart = new Uint32Array(1024);
      this.textLen = new Int32Array(1024);
    }
  }

  /**
   * push() for a file with its stat (the `stats` list): `text` is the file's text as a view
   * of the answer piece `piece` (kept, not copied), or the helper's reason (walk.ts).
   */
  pushStat(dir: number, b: Uint8Array, at: number, n: number, perm: number, size: number, blocks: number, piece: Buffer, text: Buffer | number | undefined, mark?: number): void {
    const i = this.length;
    this.push(dir, b, at, n, 0, size);
    this.perm![i] = perm;
    this.blocks![i] = blocks;
    if (this.marks) this.marks[i] = mark ?? this.mark!(this.flatPathAt(i), perm);
    if (typeof text === 'number' || text === undefined) { this.textLen![i] = text ?? -3; return; }
    let k = this.pieces.length - 1;
    if (k < 0 || this.pieces[k] !== piece) { this.pieces.push(piece); k++; }
    this.textPiece![i] = k;
    this.textStart![i] = text.byteOffset - piece.byteOffset;
    this.textLen![i] = text.length;
  }
  /** Adds the name at b[at, at + n) in directory `dir` (an index into `dirs`). */
  push(dir: number, b: Uint8Array, at: number, n: number, lines = 0, size = 0): void {
    const i = this.length;
    if (i === this.dir.length) {
      // Grown 4x at a time: each new array is fresh memory (page faults), the old one a copy.
      this.dir = grow(this.dir, new Int32Array(i * 4));
      this.start = grow(this.start, new Uint32Array(i * 4));
      this.len = grow(this.len, new Uint16Array(i * 4));
      if (this.lines) this.lines = grow(this.lines, new Int32Array(i * 4));
      if (this.sizes) this.sizes = grow(this.sizes, new Float64Array(i * 4));
      if (this.perm) {
        this.perm = grow(this.perm, new Uint16Array(i * 4));
        this.blocks = grow(this.blocks!, new Float64Array(i * 4));
        this.textPiece = grow(this.textPiece!, new Int32Array(i * 4));
        this.textStart = grow(this.textStart!, new Uint32Array(i * 4));
        this.textLen = grow(this.textLen!, new Int32Array(i * 4));
      }
      if (this.marks) this.marks = grow(this.marks, new Uint8Array(i * 4));
    }
    if (this.used + n > this.bytes.length) {
      const nb = Buffer.allocUnsafe(Math.max(this.bytes.length * 4, this.used + n));
      this.bytes.copy(nb, 0, 0, this.used);
      this.bytes = nb;
    }
    const dst = this.bytes;
    const u = this.used;
    // Names are short: a loop beats a native copy per name.
    for (let k = 0; k < n; k++) dst[u + k] = b[at + k]!;
    this.dir[i] = dir;
    this.start[i] = u;
    this.len[i] = n;
    if (this.lines) this.lines[i] = lines;
    if (this.sizes) this.sizes[i] = size;
    this.used = u + n;
    this.length = i + 1;
  }

  /** The host path of entry i (byte string). */
  pathAt(i: number): string {
    const s = this.start[i]!;
    return this.dirs[this.dir[i]!]! + this.bytes.toString('latin1', s, s + this.len[i]!);
  }

  /** Where flatPathAt puts a path together, and the directory whose prefix it holds. */
  private scratch = Buffer.allocUnsafe(4096);
  private scratchDir = -1;

  /**
   * pathAt() as one flat string: a prefix and a name joined are a rope, which every regular
   * expression test copies into a flat string first (the mark's rules test 200k paths).
   */
  private flatPathAt(i: number): string {
    const d = this.dir[i]!;
    const s = this.start[i]!, n = this.len[i]!;
    const pre = (this.dirBytes[d] ??= Buffer.from(this.dirs[d]!, 'latin1'));
    if (pre.length + n > this.scratch.length) { this.scratch = Buffer.allocUnsafe(2 * (pre.length + n)); this.scratchDir = -1; }
    const dst = this.scratch;
    if (this.scratchDir !== d) { dst.set(pre, 0); this.scratchDir = d; }
    const b = this.bytes;
    for (let k = 0, at = pre.length; k < n; k++) dst[at + k] = b[s + k]!;
    return dst.toString('latin1', 0, pre.length + n);
  }

  /** Its path in the upper layer. */
  upperAt(i: number): string {
    const s = this.start[i]!;
    return this.uppers[this.dir[i]!]! + this.bytes.toString('latin1', s, s + this.len[i]!);
  }

  /** Entry i's directory (an index into `dirs`). */
  dirAt(i: number): number { return this.dir[i]!; }
  linesAt(i: number): number { return this.lines ? this.lines[i]! : NaN; }
  sizeAt(i: number): number { return this.sizes ? this.sizes[i]! : NaN; }
  permAt(i: number): number { return this.perm ? this.perm[i]! : NaN; }
  /** What `mark` said of entry i; 0 without a `mark`. */
  markAt(i: number): number { return this.marks ? this.marks[i]! : 0; }

  /** Where the text textPieceAt() last found lies in its piece, and its length. */
  textFrom = 0;
  textLength = 0;

  /**
   * textAt() without a Buffer made for it (200k new files are 200k views otherwise): the answer
   * piece entry i's text lies in, at [textFrom, textFrom + textLength), or null.
   */
  textPieceAt(i: number): Buffer | null {
    const n = this.textLen ? this.textLen[i]! : -3;
    if (n < 0) return null;
    this.textFrom = this.textStart![i]!;
    this.textLength = n;
    return this.pieces[this.textPiece![i]!]!;
  }

  /** Entry i's text as the helper sent it (a view of its answer), or null when it sent none. */
  textAt(i: number): Buffer | null {
    const piece = this.textPieceAt(i);
    return piece && piece.subarray(this.textFrom, this.textFrom + this.textLength);
  }

  /**
   * Entry i as the Change a full scan makes of a new file (classify.ts): made when something
   * prints it, and not kept. The stat holds what the scan read (type, mode, size, blocks; one
   * link); every other number is NaN, so a use the review does not make shows as NaN.
   */
  changeAt(i: number): Change {
    if (!this.perm) throw new Error('internal error: a name list has no stats');
    const size = this.sizes![i]!;
    const up: EntryStat = { type: 'file', perm: this.perm[i]!, uid: NaN, gid: NaN, size, mtimeMs: NaN, atimeMs: NaN, ctimeMs: NaN, ino: NaN, dev: NaN, nlink: 1, rdev: NaN, blocks: this.blocks![i]! };
    const c: Change = { path: this.pathAt(i), change: 'added', type: 'file', size, upper: this.upperAt(i), up };
    const text = this.textAt(i);
    if (text) c.newText = text;
    return c;
  }
  *paths(): Iterable<string> {
    for (let i = 0; i < this.length; i++) yield this.pathAt(i);
  }

  /** The directory and path compareTo last met, and what the prefix alone decided (0: nothing). */
  private cmpDir = -1;
  private cmpPath = '';
  private cmpPrefix = 0;

  /** Compares entry i's path with `p` as comparePaths does (by bytes), without making it. */
  compareTo(i: number, p: string): number {
    const dir = this.dir[i]!;
    const pre = this.dirs[dir]!;
    const s = this.start[i]!, n = this.len[i]!, b = this.bytes;
    const total = pre.length + n;
    const m = Math.min(total, p.length);
    let k = 0;
    // A merge compares one path with a run of one directory's entries: their prefix's part of
    // the answer is the same for each, found once.
    if (dir === this.cmpDir && p === this.cmpPath) {
      if (this.cmpPrefix) return this.cmpPrefix;
      k = Math.min(m, pre.length);
    } else {
      this.cmpDir = dir;
      this.cmpPath = p;
      this.cmpPrefix = 0;
      const pm = Math.min(pre.length, p.length);
      for (; k < pm; k++) {
        const d = pre.charCodeAt(k) - p.charCodeAt(k);
        if (d) { this.cmpPrefix = d; return d; }
      }
      k = Math.min(m, pre.length);
    }
    for (; k < m; k++) {
      const d = b[s + k - pre.length]! - p.charCodeAt(k);
      if (d) return d;
    }
    return total - p.length;
  }

  /** The first entry in [lo, hi) whose path is not before `p` (entries are in path order). */
  lowerBound(lo: number, hi: number, p: string): number {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compareTo(mid, p) < 0) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /**
   * `--name-only`: entries from i on, each as display() shows its path and a newline, until
   * `to` or until `out` holds a piece (PIECE bytes); returns where it stopped.
   */
  writeLines(i: number, to: number, out: ByteOut, shown: Shown): number {
    for (; i < to && out.at < PIECE; i++) {
      this.writeShown(i, out, shown);
      out.byte(0x0a);
    }
    return i;
  }

  private copyInto(out: NamedChanges, i: number): void {
    if (this.perm) {
      const n = this.textLen![i]!;
      const piece = n >= 0 ? this.pieces[this.textPiece![i]!]! : EMPTY_PIECE;
      const at = n >= 0 ? this.textStart![i]! : 0;
      out.pushStat(this.dir[i]!, this.bytes, this.start[i]!, this.len[i]!, this.perm[i]!, this.sizes![i]!, this.blocks![i]!, piece, n >= 0 ? piece.subarray(at, at + n) : n, this.marks ? this.marks[i] : undefined);
      return;
    }
    out.push(this.dir[i]!, this.bytes, this.start[i]!, this.len[i]!, this.lines ? this.lines[i]! : 0, this.sizes ? this.sizes[i]! : 0);
  }

  private empty(): NamedChanges {
    const out = new NamedChanges(this.counted, this.stats, this.mark);
    out.dirs.push(...this.dirs);
    out.uppers.push(...this.uppers);
    return out;
  }

  /** Only the entries whose path passes `keep`. */
  filter(keep: (path: string) => boolean): NamedChanges {
    const out = this.empty();
    for (let i = 0; i < this.length; i++) if (keep(this.pathAt(i))) this.copyInto(out, i);
    return out;
  }

  /**
   * In path order. The helper sends each directory's names in that order (native/scan.c), so
   * one pass over neighbours usually finds nothing to do; otherwise the entries are sorted.
   */
  sorted(): NamedChanges {
    let ok = true;
    for (let i = 1; i < this.length && ok; i++) {
      if (this.dir[i] === this.dir[i - 1]) ok = this.compareNames(i - 1, i) < 0;
      else ok = this.compareTo(i - 1, this.pathAt(i)) < 0;
    }
    if (ok) return this;
    const order = Array.from({ length: this.length }, (_, i) => i);
    const paths = order.map((i) => this.pathAt(i));
    order.sort((a, b) => (paths[a]! < paths[b]! ? -1 : paths[a]! > paths[b]! ? 1 : 0));
    const out = this.empty();
    for (const i of order) this.copyInto(out, i);
    return out;
  }

  private compareNames(i: number, j: number): number {
    const b = this.bytes;
    const si = this.start[i]!, sj = this.start[j]!, ni = this.len[i]!, nj = this.len[j]!;
    const m = Math.min(ni, nj);
    for (let k = 0; k < m; k++) {
      const d = b[si + k]! - b[sj + k]!;
      if (d) return d;
    }
    return ni - nj;
  }

  /** Whether entry i's path is what display() shows for it (then it is copied as bytes). */
  private plain(i: number, shown: Shown): boolean {
    const d = this.dir[i]!;
    let p = shown.plainDir[d];
    if (p === undefined || p === 0) { p = shown.display(this.dirs[d]!) === this.dirs[d]! ? 1 : 2; shown.plainDir[d] = p; }
    const s = this.start[i]!;
    return p === 1 && isPlainBytes(this.bytes, s, s + this.len[i]!);
  }

  /** The length of entry i's path as display() shows it (in UTF-16 units, as padEnd counts). */
  shownLength(i: number, shown: Shown): number {
    return this.plain(i, shown) ? this.dirs[this.dir[i]!]!.length + this.len[i]! : shown.display(this.pathAt(i)).length;
  }

  /**
   * Appends entry i's path as the terminal shows it to `out`, padded with spaces to `pad`
   * units. A name of plain bytes in a plain directory is copied as it is, which is what
   * display() returns for such a path; any other goes through display().
   */
  writeShown(i: number, out: ByteOut, shown: Shown, pad = 0): void {
    if (this.plain(i, shown)) {
      const d = this.dir[i]!;
      const pre = (this.dirBytes[d] ??= Buffer.from(this.dirs[d]!, 'latin1'));
      const s = this.start[i]!, n = this.len[i]!;
      const spaces = Math.max(0, pad - pre.length - n);
      out.reserve(pre.length + n + spaces);
      // A directory prefix is tens of bytes: one native copy; a name is short: a loop.
      out.buf.set(pre, out.at);
      out.at += pre.length;
      out.bytes(this.bytes, s, s + n);
      if (spaces) out.spaces(spaces);
      return;
    }
    out.text(shown.display(this.pathAt(i)).padEnd(pad));
  }
}

/** The escaping function and what it said of each directory prefix (0 not asked, 1 plain, 2 not). */
export interface Shown {
  display: (p: string) => string;
  plainDir: Uint8Array;
}

/**
 * Output made as bytes in one growing buffer, handed on in pieces by the caller. Pieces of
 * PIECE bytes: a fresh megabyte costs 256 page faults (about 7 ms on this VM), while memory of
 * this size is reused by the allocator once the pieces written before are collected.
 */
export const PIECE = 1 << 16;
export class ByteOut {
  buf = Buffer.allocUnsafe(PIECE + 4096);
  at = 0;
  reserve(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const nb = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(nb, 0, 0, this.at);
    this.buf = nb;
  }
  /** Text (any JS string), as UTF-8. */
  text(s: string): void {
    const n = s.length;
    if (n < 64) {
      // Short ASCII (a diff's header, a count): a loop beats a native write per string.
      this.reserve(n);
      const dst = this.buf, at = this.at;
      let k = 0;
      for (; k < n; k++) {
        const c = s.charCodeAt(k);
        if (c > 0x7f) break;
        dst[at + k] = c;
      }
      if (k === n) { this.at = at + n; return; }
    }
    this.reserve(n * 3);
    this.at += this.buf.write(s, this.at, 'utf8');
  }
  bytes(b: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.reserve(n);
    const dst = this.buf;
    const at = this.at;
    for (let k = 0; k < n; k++) dst[at + k] = b[start + k]!;
    this.at = at + n;
  }
  spaces(n: number): void {
    this.reserve(n);
    this.buf.fill(0x20, this.at, this.at + n);
    this.at += n;
  }
  byte(c: number): void {
    this.reserve(1);
    this.buf[this.at++] = c;
  }
  /** A non-negative integer in decimal, as `${n}` writes it (a count: no string made for it). */
  decimal(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) { this.text(String(n)); return; }
    let digits = 1;
    for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
    this.reserve(digits);
    const dst = this.buf;
    for (let k = this.at + digits - 1, m = n; k >= this.at; k--, m = Math.floor(m / 10)) dst[k] = 0x30 + (m % 10);
    this.at += digits;
  }
  /** What was written since the last take, as a buffer of its own; the writer starts over. */
  take(): Buffer {
    const b = this.buf.subarray(0, this.at);
    this.buf = Buffer.allocUnsafe(PIECE + 4096);
    this.at = 0;
    return b;
  }
}

const EMPTY_PIECE = Buffer.alloc(0);

function grow<T extends Int32Array | Uint32Array | Uint16Array | Uint8Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
