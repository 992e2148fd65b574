// The new regular files of a names-only scan (WalkOptions.namesOnly), kept as columns: one
// shared buffer of name bytes, offsets and lengths in typed arrays, and each file's directory
// as an index into the few directory prefixes. A list of 100k new files is then a few arrays
// instead of 100k change objects and their path strings, which the garbage collector would
// copy on every young-generation collection (almost all of them live until the list is
// printed). A path is made only when something asks for it, and dropped right after.
import { isPlainBytes } from '../base/bpath.js';
import { codeUnitOrder } from '../base/code-order.js';
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
  /** The names one after the other, each followed by a 0 byte (no name holds one): see writeLines. */
  private bytes = Buffer.allocUnsafe(1 << 16);
  private used = 0;
  /**
   * With `stats` (the full review, WalkOptions.columns): each file's permission bits and
   * allocated blocks (sizes in `sizes`), and its text: the piece it lies in (an index into
   * `pieces`: the helper's answer; with `keepsTexts`, a negative k is kept[-1 - k]), where,
   * and its length, or the helper's reason (< 0).
   */
  private perm: Uint16Array | null = null;
  private blocks: Float64Array | null = null;
  private textPiece: Int32Array | null = null;
  private textStart: Uint32Array | null = null;
  private textLen: Int32Array | null = null;
  private readonly pieces: Buffer[] = [];
  /**
   * Where each run of entries of one directory index starts (ascending): a run's names lie one
   * after the other in `bytes` (push appends), so sorted() and writeLines() work a run at a
   * time, not an entry at a time.
   */
  private readonly runs: number[] = [];
  /** With `mark`: what it said of each entry's path and mode as the entry was added (0-255). */
  private marks: Uint8Array | null = null;
  /** Each directory prefix's bytes, made when first printed. */
  private dirBytes: Array<Buffer | undefined> = [];
  /**
   * With `keepsTexts` (the `stats` list only): the texts copied out of the helper's answer as
   * each entry is added, one after the other in pieces of about PIECE bytes, so that no
   * entry's text lies in the answer and its pieces can go. The full review's diffs are made
   * from them after the walk (cli/render-changes.ts writeDiffs), into one reused buffer: ~20
   * bytes kept per new file of the 200k-file fixture, where its diff made during the walk held
   * ~150 bytes of fresh memory to the end (peak RSS 138 -> 111 MiB). `keeping` is the piece
   * being written (index kept.length), sealed when full or first read.
   */
  private readonly kept: Buffer[] = [];
  private keeping: ByteOut | null = null;

  /**
   * `mark` (the `stats` list only) is asked of each entry as it is added, with its host path
   * and permission bits, and its answer kept (markAt): the full review's summary rules, run
   * while the helper still walks (cli/summary-marker.ts), not after. With `keepsTexts` (the
   * `stats` list only), each entry's text is copied out of the helper's answer as it is added.
   */
  constructor(readonly counted = false, readonly stats = false, readonly mark: ((path: string, perm: number) => number) | null = null, readonly keepsTexts = false) {
    this.lines = counted ? new Int32Array(1024) : null;
    this.sizes = counted || stats ? new Float64Array(1024) : null;
    if (stats && mark) this.marks = new Uint8Array(1024);
    if (stats) {
      this.perm = new Uint16Array(1024);
      this.blocks = new Float64Array(1024);
      this.textPiece = new Int32Array(1024);
      this.textStart = new Uint32Array(1024);
      this.textLen = new Int32Array(1024);
      if (keepsTexts) this.keeping = new ByteOut();
    }
  }

  /**
   * push() for a file with its stat (the `stats` list): `text` is the file's text as a view
   * of the answer piece `piece` (kept, not copied), or the helper's reason (walk.ts).
   */
  pushStat(dir: number, b: Uint8Array, at: number, n: number, perm: number, size: number, blocks: number, piece: Buffer, text: Buffer | number | undefined, mark?: number): void {
    if (typeof text === 'number' || text === undefined) this.pushStatAt(dir, b, at, n, perm, size, blocks, piece, 0, text ?? -3, mark);
    else this.pushStatAt(dir, b, at, n, perm, size, blocks, piece, text.byteOffset - piece.byteOffset, text.length, mark);
  }
  /** pushStat() with the text given as where it lies in `piece` (textLen < 0: the helper's reason, scan.c). */
  pushStatAt(dir: number, b: Uint8Array, at: number, n: number, perm: number, size: number, blocks: number, piece: Buffer, textAt: number, textLen: number, mark?: number): void {
    const i = this.length;
    this.push(dir, b, at, n, 0, size);
    this.perm![i] = perm;
    this.blocks![i] = blocks;
    if (this.marks) this.marks[i] = mark ?? this.mark!(this.flatPathAt(i), perm);
    if (textLen < 0) { this.textLen![i] = textLen; return; }
    this.textLen![i] = textLen;
    const out = this.keeping;
    if (out) {
      // Copied out of the answer while its bytes are at hand: no pass over the entries again.
      this.textPiece![i] = -1 - this.kept.length;
      this.textStart![i] = out.at;
      out.reserve(textLen);
      // Most texts are a few lines: a loop beats a native copy.
      if (textLen > 64) piece.copy(out.buf, out.at, textAt, textAt + textLen);
      else { const dst = out.buf, at = out.at; for (let k = 0; k < textLen; k++) dst[at + k] = piece[textAt + k]!; }
      out.at += textLen;
      if (out.at >= PIECE) this.kept.push(out.take());
      return;
    }
    let k = this.pieces.length - 1;
    if (k < 0 || this.pieces[k] !== piece) { this.pieces.push(piece); k++; }
    this.textPiece![i] = k;
    this.textStart![i] = textAt;
  }
  /** Adds the name at b[at, at + n) in directory `dir` (an index into `dirs`). */
  push(dir: number, b: Uint8Array, at: number, n: number, lines = 0, size = 0): void {
    const i = this.length;
    this.room(1, n + 1);
    const dst = this.bytes;
    const u = this.used;
    // Names are short: a loop beats a native copy per name.
    for (let k = 0; k < n; k++) dst[u + k] = b[at + k]!;
    dst[u + n] = 0;
    if (i === 0 || this.dir[i - 1] !== dir) this.runs.push(i);
    this.dir[i] = dir;
    this.start[i] = u;
    this.len[i] = n;
    if (this.lines) this.lines[i] = lines;
    if (this.sizes) this.sizes[i] = size;
    this.used = u + n + 1;
    this.length = i + 1;
  }

  /**
   * push() of `count` names that lie one after the other in b[from, end), each ended by a 0
   * byte (the helper's 'M' record, a directory's new files): copied in one go, as `bytes`
   * holds them, so only the columns are set a name at a time. False, and nothing added,
   * unless b[from, end) is exactly `count` such names of 1 to 65535 bytes.
   */
  pushNames(dir: number, b: Uint8Array, from: number, end: number, count: number): boolean {
    if (this.lines || this.sizes) throw new Error('internal error: a run of names has no line counts or stats');
    const n = end - from;
    this.room(count, n);
    const dst = this.bytes, u = this.used, e = u + n, first = this.length;
    const dirs = this.dir, starts = this.start, lens = this.len;
    dst.set(b.subarray(from, end), u);
    let k = u;
    for (let i = first; i < first + count; i++) {
      const s = k;
      while (k < e && dst[k] !== 0) k++;
      if (k === e || k === s || k - s > 0xffff) return false;
      dirs[i] = dir;
      starts[i] = s;
      lens[i] = k - s;
      k++;
    }
    if (k !== e) return false;
    if (first === 0 || dirs[first - 1] !== dir) this.runs.push(first);
    this.used = e;
    this.length = first + count;
    return true;
  }

  /** Room for `entries` more entries and `bytes` more bytes of names. */
  private room(entries: number, bytes: number): void {
    const need = this.length + entries;
    if (need > this.dir.length) {
      // Grown 4x at a time: each new array is fresh memory (page faults), the old one a copy.
      const cap = Math.max(this.dir.length * 4, need);
      this.dir = grow(this.dir, new Int32Array(cap));
      this.start = grow(this.start, new Uint32Array(cap));
      this.len = grow(this.len, new Uint16Array(cap));
      if (this.lines) this.lines = grow(this.lines, new Int32Array(cap));
      if (this.sizes) this.sizes = grow(this.sizes, new Float64Array(cap));
      if (this.perm) {
        this.perm = grow(this.perm, new Uint16Array(cap));
        this.blocks = grow(this.blocks!, new Float64Array(cap));
        this.textPiece = grow(this.textPiece!, new Int32Array(cap));
        this.textStart = grow(this.textStart!, new Uint32Array(cap));
        this.textLen = grow(this.textLen!, new Int32Array(cap));
      }
      if (this.marks) this.marks = grow(this.marks, new Uint8Array(cap));
    }
    if (this.used + bytes > this.bytes.length) {
      const nb = Buffer.allocUnsafe(Math.max(this.bytes.length * 4, this.used + bytes));
      this.bytes.copy(nb, 0, 0, this.used);
      this.bytes = nb;
    }
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

  /** The sizes of the entries markRun() last passed over, added up. */
  runBytes = 0;

  /**
   * The end of the entries from i on, before `to`, that `mark` said `m` of and that lie in
   * entry i's directory (i itself when it is not one): viewKind takes a directory's plain new
   * files as one run, not an entry at a time. Their sizes added up are in runBytes.
   */
  markRun(i: number, to: number, m: number): number {
    const marks = this.marks;
    if (!marks) return i;
    const dirs = this.dir, sizes = this.sizes!, d = dirs[i]!;
    let bytes = 0;
    let k = i;
    for (; k < to && marks[k] === m && dirs[k] === d; k++) bytes += sizes[k]!;
    this.runBytes = bytes;
    return k;
  }

  /** Where the name nameBytesAt() last found lies in its buffer, and its length. */
  nameFrom = 0;
  nameLength = 0;

  /** Entry i's name as it lies in the buffer of names, at [nameFrom, nameFrom + nameLength): no Buffer made for it. */
  nameBytesAt(i: number): Buffer {
    this.nameFrom = this.start[i]!;
    this.nameLength = this.len[i]!;
    return this.bytes;
  }

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
    const k = this.textPiece![i]!;
    if (k >= 0) return this.pieces[k]!;
    // A kept text: its piece is sealed when first read (never written to after).
    if (-1 - k === this.kept.length) this.kept.push(this.keeping!.take());
    return this.kept[-1 - k]!;
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

  /** Compares entry i's path with `p` as codeUnitOrder does (by bytes), without making it. */
  compareTo(i: number, p: string): number {
    const pre = this.dirs[this.dir[i]!]!;
    // A path outside entry i's directory compares with the entry as with the directory's
    // prefix, where they first differ (or it is a shorter start of it): two native string
    // operations instead of a loop over the prefix's characters.
    if (!p.startsWith(pre)) return pre < p ? -1 : 1;
    const s = this.start[i]!, n = this.len[i]!, b = this.bytes;
    const total = pre.length + n;
    const m = Math.min(total, p.length);
    for (let k = pre.length; k < m; k++) {
      const d = b[s + k - pre.length]! - p.charCodeAt(k);
      if (d) return d;
    }
    return total - p.length;
  }

  /**
   * The first entry in [lo, hi) whose path is not before `p` (entries are in path order). A
   * run whose directory `p` lies outside of compares with `p` as its directory's prefix does,
   * so such runs are passed over whole (writeNameOnly's merge of 1000 dirs with 100k names:
   * a compare or two per dir instead of a binary search over all the names each).
   */
  lowerBound(lo: number, hi: number, p: string): number {
    while (lo < hi) {
      const pre = this.dirs[this.dir[lo]!]!;
      const end = Math.min(this.runEnd(lo), hi);
      if (!p.startsWith(pre)) {
        if (pre > p) return lo;
        lo = end;
        continue;
      }
      let a = lo, b = end;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (this.compareTo(mid, p) < 0) a = mid + 1; else b = mid;
      }
      if (a < end) return a;
      lo = end;
    }
    return lo;
  }

  /**
   * `--name-only`: entries from i on, each as display() shows its path and a newline, until
   * `to` or until `out` holds a piece (PIECE bytes); returns where it stopped.
   */
  writeLines(i: number, to: number, out: ByteOut, shown: Shown): number {
    // A run of one directory's names is written with a few native string operations, not a
    // loop over bytes per line: this runs once over 100k names, mostly before V8 has
    // optimized it (a line at a time, writing 100k names took ~70 ms). The run's names lie one
    // after the other in `bytes`, each ended by a 0 byte; when none needs escaping (one regular
    // expression test) and neither does the directory, display() of each path is the path
    // itself, and the lines are the run with each 0 made a newline and the prefix put before
    // each name. Any other entry goes through display() on its own.
    const starts = this.start, lens = this.len;
    while (i < to && out.at < PIECE) {
      const s = starts[i]!;
      const pre = this.plainPrefix(this.dir[i]!, shown);
      if (pre !== null) {
        // The run's entries from i on, up to `to` and about what the piece has room for.
        let j = Math.min(this.runEnd(i), to);
        const room = PIECE - out.at;
        const size = (k: number): number => (k - i) * pre.length + this.startOf(k) - s;
        if (j > i + 1 && size(j) > room) {
          let lo = i + 1;
          while (lo < j) { const mid = (lo + j + 1) >>> 1; if (size(mid) <= room) lo = mid; else j = mid - 1; }
          j = lo;
        }
        let names = this.bytes.toString('latin1', s, this.startOf(j));
        const bad = NOT_PLAIN.exec(names);
        if (bad) {
          // The names before the first that needs escaping.
          const cut = s + bad.index;
          for (j = i; starts[j]! + lens[j]! < cut; j++);
          names = names.slice(0, this.startOf(j) - s);
        }
        if (j > i) {
          // "pre" + each name + "\npre", the last "pre" left out.
          const lines = names.replaceAll('\0', `\n${pre}`);
          out.reserve(pre.length + lines.length);
          out.at += out.buf.write(pre, out.at, 'latin1');
          out.at += out.buf.write(lines, out.at, lines.length - pre.length, 'latin1');
          i = j;
          continue;
        }
      }
      out.text(shown.display(this.pathAt(i)));
      out.byte(0x0a);
      i++;
    }
    return i;
  }

  /** Where entry k's name starts in `bytes` (the end of the names for k = length). */
  private startOf(k: number): number {
    return k < this.length ? this.start[k]! : this.used;
  }

  /** The end of the run entry i is in (the start of the next run, or length). */
  private runEnd(i: number): number {
    const runs = this.runs;
    let lo = 0, hi = runs.length;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (runs[mid]! <= i) lo = mid + 1; else hi = mid; }
    return lo < runs.length ? runs[lo]! : this.length;
  }

  /** Directory d's prefix when display() shows it as it is, else null. */
  plainPrefix(d: number, shown: Shown): string | null {
    let p = shown.plainDir[d];
    if (p === undefined || p === 0) { p = shown.display(this.dirs[d]!) === this.dirs[d]! ? 1 : 2; shown.plainDir[d] = p; }
    return p === 1 ? this.dirs[d]! : null;
  }

  private copyInto(out: NamedChanges, i: number): void {
    if (this.perm) {
      const piece = this.textPieceAt(i);
      const at = this.textFrom;
      out.pushStat(this.dir[i]!, this.bytes, this.start[i]!, this.len[i]!, this.perm[i]!, this.sizes![i]!, this.blocks![i]!, piece ?? EMPTY_PIECE, piece ? piece.subarray(at, at + this.textLength) : this.textLen![i]!, this.marks ? this.marks[i] : undefined);
      return;
    }
    out.push(this.dir[i]!, this.bytes, this.start[i]!, this.len[i]!, this.lines ? this.lines[i]! : 0, this.sizes ? this.sizes[i]! : 0);
  }

  private empty(): NamedChanges {
    // The entries copied in bring their texts as they lie (kept already, or in the answer).
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
   * In path order. Entries of one directory index are one stretch of one directory's listing
   * (walk.ts starts a new index where the helper's preorder walk comes back from a
   * subdirectory), which the helper sends in byte order (native/scan.c's protocol), so they
   * are in path order among themselves. Only where the index changes can the walk's order
   * differ from path order (`a.b` comes after the subtree of `a`), so only the entries there
   * are compared (1000 compares for 100k names in 1000 dirs, not 100k); if any is out of
   * order, the entries are sorted.
   */
  sorted(): NamedChanges {
    let ok = true;
    for (let r = 1; r < this.runs.length && ok; r++) {
      const i = this.runs[r]!;
      ok = this.compareTo(i - 1, this.pathAt(i)) < 0;
    }
    if (ok) return this;
    const order = Array.from({ length: this.length }, (_, i) => i);
    const paths = order.map((i) => this.pathAt(i));
    order.sort((a, b) => codeUnitOrder(paths[a]!, paths[b]!));
    const out = this.empty();
    for (const i of order) this.copyInto(out, i);
    return out;
  }

  /** Whether entry i's path is what display() shows for it (then it is copied as bytes). */
  private plain(i: number, shown: Shown): boolean {
    const s = this.start[i]!;
    return this.plainPrefix(this.dir[i]!, shown) !== null && isPlainBytes(this.bytes, s, s + this.len[i]!);
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
/**
 * A byte display() would escape (bpath.ts PLAIN and the backslash, a space that ends a name),
 * or anything but the 0 after each name.
 */
const NOT_PLAIN = /[^\0\x20-\x5b\x5d-\x7e]| \0/;

function grow<T extends Int32Array | Uint32Array | Uint16Array | Uint8Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
