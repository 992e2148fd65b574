// The new regular files of a names-only scan (WalkOptions.namesOnly), kept as columns: one
// shared buffer of name bytes, offsets and lengths in typed arrays, and each file's directory
// as an index into the few directory prefixes. A list of 100k new files is then four arrays
// instead of 100k change objects and their path strings, which the garbage collector would
// copy on every young-generation collection (almost all of them live until the list is
// printed). A path is made only when something asks for it, and dropped right after.
import { isPlainBytes } from './bpath.js';

export class NamedChanges {
  length = 0;
  /** Host path prefixes of the directories (each ends in '/'). */
  readonly dirs: string[] = [];
  private dir = new Int32Array(1024);
  private start = new Uint32Array(1024);
  private len = new Uint32Array(1024);
  private bytes = Buffer.allocUnsafe(1 << 16);
  private used = 0;

  /** Adds the name at b[at, at + n) in directory `dir` (an index into `dirs`). */
  push(dir: number, b: Buffer, at: number, n: number): void {
    const i = this.length;
    if (i === this.dir.length) {
      this.dir = grow(this.dir, new Int32Array(i * 2));
      this.start = grow(this.start, new Uint32Array(i * 2));
      this.len = grow(this.len, new Uint32Array(i * 2));
    }
    if (this.used + n > this.bytes.length) {
      const nb = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + n));
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
    this.used = u + n;
    this.length = i + 1;
  }

  /** The host path of entry i (byte string). */
  pathAt(i: number): string {
    const s = this.start[i]!;
    return this.dirs[this.dir[i]!]! + this.bytes.toString('latin1', s, s + this.len[i]!);
  }

  *paths(): Iterable<string> {
    for (let i = 0; i < this.length; i++) yield this.pathAt(i);
  }

  /** Compares entry i's path with `p` as comparePaths does (by bytes), without making it. */
  compareTo(i: number, p: string): number {
    const pre = this.dirs[this.dir[i]!]!;
    const s = this.start[i]!, n = this.len[i]!, b = this.bytes;
    const total = pre.length + n;
    const m = Math.min(total, p.length);
    let k = 0;
    for (; k < m && k < pre.length; k++) {
      const d = pre.charCodeAt(k) - p.charCodeAt(k);
      if (d) return d;
    }
    for (; k < m; k++) {
      const d = b[s + k - pre.length]! - p.charCodeAt(k);
      if (d) return d;
    }
    return total - p.length;
  }

  /** Only the entries whose path passes `keep`. */
  filter(keep: (path: string) => boolean): NamedChanges {
    const out = new NamedChanges();
    out.dirs.push(...this.dirs);
    for (let i = 0; i < this.length; i++) {
      if (keep(this.pathAt(i))) out.push(this.dir[i]!, this.bytes, this.start[i]!, this.len[i]!);
    }
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
    const out = new NamedChanges();
    out.dirs.push(...this.dirs);
    for (const i of order) out.push(this.dir[i]!, this.bytes, this.start[i]!, this.len[i]!);
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

  /**
   * Appends entry i's path as the terminal shows it to `out` at `at`, returning the new end, or
   * -1 when it does not fit. A name of plain bytes in a plain directory is copied as it is,
   * which is what display() returns for such a path; any other goes through display().
   */
  writeDisplayed(i: number, out: Buffer, at: number, display: (p: string) => string, plainDir: Uint8Array): number {
    const d = this.dir[i]!;
    const s = this.start[i]!, n = this.len[i]!;
    if (plainDir[d] === 0) plainDir[d] = display(this.dirs[d]!) === this.dirs[d]! ? 1 : 2;
    if (plainDir[d] === 1 && isPlainBytes(this.bytes, s, s + n)) {
      const pre = this.dirs[d]!;
      if (at + pre.length + n + 1 > out.length) return -1;
      at += out.write(pre, at, 'latin1');
      const b = this.bytes;
      for (let k = 0; k < n; k++) out[at + k] = b[s + k]!;
      at += n;
      out[at++] = 0x0a;
      return at;
    }
    const shown = display(this.pathAt(i));
    if (at + shown.length * 3 + 1 > out.length) return -1;
    at += out.write(shown, at, 'utf8');
    out[at++] = 0x0a;
    return at;
  }
}

function grow<T extends Int32Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
