// Copies of host files (a backup: `sed -i.bak`, `cp fstab fstab.bak`, `cp -r nvim nvim.bak`;
// a rotated log): new files the review said as whole new texts, every line added. Said as
// copies here, each only on evidence and always the bytes: the copy-up mark names the host
// file, or its size (and time) as exactly one changed host file's, or its name extends a host
// file's of its dir. Only the review changes: a commit writes a copy as every other new file.
import type { Change, EntryStat } from './types.js';
import type { NamedChanges } from './named.js';
import { sameContent } from './content.js';
import { joinB, nameB, parentB } from '../base/bpath.js';
import { hostDirNames } from './host-tree.js';
import { isBelow, isWithin } from '../base/within.js';
import { accessDiff, lstatB, sameTime, type Access } from './stat.js';
import { addTo, byteBudget, CANDIDATES_MAX, handleWords, noteAccess, sameWithin, timeKey, treeFiles, type ByteBudget, type HostTree, type MarkedFile, type TreeFile } from './pairing.js';

/**
 * Marks each new file that is a copy of a host file the sandbox then changed, replaced or
 * only touched (Change.copyOf, copiedTo): a backup (`sed -i.bak`, dpkg's `.dpkg-old`, `cp -p
 * conf conf.orig`), a rotated log (`mv app.log app.log.1` and a new app.log), a dir's files
 * backed up by `mv` before it was made again. `kept`: the scan's host files that are still
 * there, changed (keptHostFiles). A hard link to a host file is said as one, not as a copy.
 * On a move's evidence (pairMoves: a mark naming the file, or with no handle the same size,
 * and with no mark the same size and time, as exactly one), and only with the host file's
 * bytes: a copy changed after is no copy. Run after pairMoves, on the files it left unpaired.
 */
export function pairCopies(marked: readonly MarkedFile[], kept: readonly Change[], compare: (upper: string, host: string) => boolean = sameContent, budget = byteBudget()): void {
  if (!marked.length || !kept.length) return;
  const byPath = new Map<string, Change>();
  const byIno = new Map<number, Change[]>();
  const bySize = new Map<number, Change[]>();
  const byTime = new Map<string, Change[]>();
  for (const k of kept) {
    if (k.host?.type !== 'file' || k.host.size === 0) continue;
    byPath.set(k.path, k);
    addTo(byIno, k.host.ino % 0x100000000, k);
    addTo(bySize, k.host.size, k);
    addTo(byTime, timeKey(k.host.size, k.host.mtimeMs), k);
  }
  if (!byPath.size) return;
  for (const { change: c, mark } of marked) {
    if (c.change !== 'added' || c.type !== 'file' || c.movedFrom !== undefined || c.linksTo !== undefined || c.size === 0 || c.upper === undefined) continue;
    let found: Change[];
    if (typeof mark === 'string') found = mark !== c.path && byPath.has(mark) ? [byPath.get(mark)!] : [];
    else if (mark?.length) found = [...new Set((handleWords(mark) ?? []).flatMap((w) => byIno.get(w) ?? []))];
    else if (mark === null) found = c.up === undefined ? [] : byTime.get(timeKey(c.size, c.up.mtimeMs)) ?? [];
    else found = bySize.get(c.size) ?? [];
    // More than a few of that size (and time) is no evidence which, and never read: a checkout
    // that changes 10k files of one size and adds 10k more is not 10^8 comparisons.
    if (!found.length || found.length > CANDIDATES_MAX) continue;
    found = found.filter((k) => k.host!.size === c.size && (mark !== null || sameTime(k.host!.mtimeMs, c.up!.mtimeMs)));
    const equal: Change[] = [];
    let unsure = false;
    for (const k of found) {
      const s = sameWithin(budget, compare, c.upper, k.path, c.size);
      if (s === null) unsure = true;
      else if (s) equal.push(k);
    }
    if (equal.length !== 1 || unsure) continue;
    c.copyOf = equal[0]!.path;
    noteAccess(c, equal[0]!.host);
    savedAs(equal[0]!, c.path);
  }
}

/**
 * Names the copy on the line of the host file it holds the bytes of, when the sandbox changed
 * that file's content: a file whose metadata alone changed lost nothing to save. Two copies of
 * one file (conf.orig, then conf.save): its line names the first.
 */
function savedAs(k: Change, copy: string): void {
  if (k.change !== 'metadata') k.copiedTo ??= copy;
}

// The named-copy pairing (findNamedCopies): the new files it looks at, the host files it asks
// with lstat (below the root each), the shorter names of a name it tries, and how many new files
// of one dir it asks by lstat before it lists the dir instead (one helper call for all such dirs).
const NAMED_COPY_FILES = 65536;
const NAMED_COPY_LSTATS = 4096;
const NAMED_COPY_NAMES = 4;
const NAMED_COPY_LSTAT_DIR = 8;
// Variants (other bytes) marked a review: each is a diff against its host file in sbx diff, and
// a column entry made an object (20,000 new f-N.txt beside a host f: 4,096 of them cost sbx
// diff 1.36x before this bound).
const NAMED_VARIANTS = 64;
const NAMED_COPY_LISTED = 256;

/**
 * What the named-copy pairing knows of a review's changes (namedCopies). `refilled`: the host
 * dirs the sandbox emptied and made again (opaque), whose old tree a dir copy may hold.
 */
interface NamedCopies { changedDirs: Set<string>; gone: Set<string>; kept: Map<string, Change>; refilled: Map<string, Change>; hidden: readonly string[] }

/**
 * Whether host path p (a file, or a dir with its tree) holds or is below a path the sandbox
 * hid (`--hide`, the credential stores a network run hides: meta.hidden): never a copy's
 * source. The command never saw it, so a copy named after it holds only what it guessed, and
 * the review would print the host's bytes in a changed copy's diff, or say that a guess was
 * right.
 */
function hiddenSource(p: string, hidden: readonly string[]): boolean {
  for (const h of hidden) if (isWithin(p, h) || isWithin(h, p)) return true;
  return false;
}

function namedCopies(changes: readonly Change[], hidden: readonly string[]): NamedCopies {
  const changedDirs = new Set<string>(), gone = new Set<string>(), kept = new Map<string, Change>(), refilled = new Map<string, Change>();
  for (const c of changes) {
    if (c.change === 'deleted') gone.add(c.path);
    else if (c.type === 'dir' && (c.change === 'added' || c.change === 'replaced')) {
      changedDirs.add(c.path);
      if (c.opaque) refilled.set(c.path, c);
    } else if (isKeptHostFile(c)) kept.set(c.path, c);
  }
  return { changedDirs, gone, kept, refilled, hidden };
}

/**
 * New files that may be copies named after host files: by host dir, the indices of those in
 * it, each with its name, size and upper path, and what to do when one is (`p`: that file).
 * Names and paths are made only for the files of a dir that could hold such a file.
 */
interface CopySource {
  byDir: Map<string, number[]>;
  name(i: number): string;
  size(i: number): number;
  upper(i: number): string;
  /** File i holds the bytes of host file p (`st`: its stat). */
  found(i: number, p: string, st: EntryStat): void;
  /** File i has another file's bytes than host file p, whose name its own extends (the longest such): Change.variantOf. */
  variant(i: number, p: string): void;
}

/** A host entry's stat; null when it is not there or cannot be asked (in a dir the user may not search: EACCES). */
function hostStat(p: string): ReturnType<typeof lstatB> {
  try { return lstatB(p); } catch { return null; }
}

const isNameBreak = (ch: number): boolean => ch === 0x2e || ch === 0x7e || ch === 0x2d || ch === 0x5f;

/** The names `name` extends (it up to a `.`, `~`, `-` or `_` past its first character), longest first, up to NAMED_COPY_NAMES. */
function shorterNames(name: string): string[] {
  const out: string[] = [];
  for (let k = name.length - 1; k > 0 && out.length < NAMED_COPY_NAMES; k--) if (isNameBreak(name.charCodeAt(k))) out.push(name.slice(0, k));
  return out;
}

/** Whether the name that starts at `from` in `s` extends another (shorterNames would find one), without making it. */
function hasNameBreak(s: string, from = 0): boolean {
  for (let k = s.length - 1; k > from; k--) if (isNameBreak(s.charCodeAt(k))) return true;
  return false;
}

/**
 * Each new file of `src` that holds the bytes of the host file whose name its own extends
 * (its name up to a `.`, `~`, `-` or `_`, the longest first, up to NAMED_COPY_NAMES of them:
 * `fstab.bak`, `app.log.1`, `conf~`, `site.conf.dpkg-old`) in the same host dir, when the
 * sandbox kept that dir as a dir and did not delete the file. A copy made without its time
 * (`cp fstab fstab.bak`) of a file the sandbox did not touch has no other evidence, and its
 * name and the same bytes are all "copy of the host's fstab" says. A dir with many new files
 * (a build's output) is listed once, by the helper with all such dirs, instead of each
 * shorter name asked with lstat: a dir the host has empty asks nothing more. A file of other
 * bytes is a variant of the first such host file (src.variant): dpkg's `foo.conf.dpkg-dist`
 * (the package's new version beside the admin's), an edited `app.conf.new`.
 */
function findNamedCopies(src: CopySource, n: NamedCopies, compare: (upper: string, host: string) => boolean, budget: ByteBudget): void {
  let lstats = NAMED_COPY_LSTATS, variants = NAMED_VARIANTS;
  const tryNames = (dir: string, i: number, there: ReadonlySet<string> | null): void => {
    let variant: string | null = null;
    for (const base of shorterNames(src.name(i))) {
      if (lstats <= 0) break;
      if (there && !there.has(base)) continue;
      const p = joinB(dir, base);
      if (n.gone.has(p) || hiddenSource(p, n.hidden)) continue;
      lstats--;
      const st = hostStat(p);
      const size = src.size(i);
      if (st?.type !== 'file') continue;
      if (st.size === size && sameWithin(budget, compare, src.upper(i), p, size) === true) { src.found(i, p, st); return; }
      variant ??= p;
    }
    if (variant !== null && variants > 0) { variants--; src.variant(i, variant); }
  };
  const listed: string[] = [];
  for (const [dir, l] of src.byDir) {
    if (l.length <= NAMED_COPY_LSTAT_DIR) for (const i of l) tryNames(dir, i, null);
    else if (listed.length < NAMED_COPY_LISTED) listed.push(dir);
  }
  const names = hostDirNames(listed);
  for (const dir of listed) {
    const got = names.get(dir);
    if (typeof got !== 'object' || !got.length) continue;
    const there = new Set(got);
    for (const i of src.byDir.get(dir)!) tryNames(dir, i, there);
  }
}

/** Marks c a copy of host file p (`st`: its stat). */
function markCopy(n: NamedCopies, c: Change, p: string, st: EntryStat): void {
  c.copyOf = p;
  noteAccess(c, st);
  const k = n.kept.get(p);
  if (k) savedAs(k, c.path);
}

/** findNamedCopies for each new file of `added` (changes of `changes`) that no other pairing took. */
export function pairNamedCopies(added: readonly Change[], changes: readonly Change[], compare: (upper: string, host: string) => boolean = sameContent, budget = byteBudget(), hidden: readonly string[] = []): void {
  let n: NamedCopies | null = null;
  const byDir = new Map<string, number[]>();
  let count = 0;
  let last = '\0', list: number[] | null = null;
  for (let i = 0; i < added.length && count < NAMED_COPY_FILES; i++) {
    const c = added[i]!;
    if (c.change !== 'added' || c.type !== 'file' || c.movedFrom !== undefined || c.copyOf !== undefined || c.upper === undefined || c.size === 0) continue;
    const p = c.path;
    const slash = p.lastIndexOf('/');
    if (!hasNameBreak(p, slash + 1)) continue;
    n ??= namedCopies(changes, hidden);
    // A dir's files come one after another: its path is cut out and looked up once for them.
    if (slash !== last.length || !p.startsWith(last)) {
      last = slash > 0 ? p.slice(0, slash) : '';
      const dir = last || '/';
      list = n.changedDirs.has(dir) ? null : byDir.get(dir) ?? null;
      if (!list && !n.changedDirs.has(dir)) byDir.set(dir, list = []);
    }
    if (!list) continue;
    list.push(i);
    count++;
  }
  if (!n || !count) return;
  const nc = n;
  findNamedCopies({
    byDir, name: (i) => nameB(added[i]!.path), size: (i) => added[i]!.size, upper: (i) => added[i]!.upper!,
    found: (i, p, st) => markCopy(nc, added[i]!, p, st), variant: (i, p) => { added[i]!.variantOf = p; },
  }, n, compare, budget);
}

/**
 * The changes of host files that are still there, changed (pairCopies' `kept`). Their metadata
 * alone among them: `mv conf conf.bak && mkdir conf && cp conf.bak/a conf/` leaves conf/a the
 * host's bytes with a new time, and conf.bak/a, which `mv` made with the old time, a copy of it.
 */
export const keptHostFiles = (changes: readonly Change[]): Change[] => changes.filter(isKeptHostFile);
function isKeptHostFile(c: Change): boolean {
  return (c.change === 'modified' || c.change === 'replaced' || c.change === 'metadata') && c.host?.type === 'file';
}

/**
 * The full review's column entries that are named copies (findNamedCopies), as changes: a
 * plain new file in a host dir the sandbox kept, whose name has a `.`, `~`, `-` or `_` past its
 * first byte. `taken`: the paths another pairing took already.
 */
export function namedColumnCopies(named: NamedChanges, changes: readonly Change[], taken: ReadonlySet<string>, compare: (upper: string, host: string) => boolean, budget: ByteBudget, hidden: readonly string[] = []): Change[] {
  const out: Change[] = [];
  let n: NamedCopies | null = null;
  const byDir = new Map<string, number[]>();
  // Each dir index's path, or null when the sandbox made or replaced that dir.
  const dirOf: Array<string | null | undefined> = [];
  let count = 0;
  for (let i = 0; i < named.length && count < NAMED_COPY_FILES; i++) {
    const d = named.dirAt(i);
    if (dirOf[d] === null) continue;
    const b = named.nameBytesAt(i), from = named.nameFrom;
    let k = from + named.nameLength - 1;
    while (k > from && !isNameBreak(b[k]!)) k--;
    if (k <= from) continue;
    n ??= namedCopies(changes, hidden);
    let dir = dirOf[d];
    if (dir === undefined) {
      const pre = named.dirs[d]!;
      dir = dirOf[d] = pre.length > 1 ? pre.slice(0, -1) : '/';
      if (n.changedDirs.has(dir)) { dirOf[d] = null; continue; }
    }
    if (dir === null) continue;
    const l = byDir.get(dir);
    if (l) l.push(i); else byDir.set(dir, [i]);
    count++;
  }
  if (!n || !count) return out;
  const nc = n;
  const name = (i: number): string => { const b = named.nameBytesAt(i); return b.toString('latin1', named.nameFrom, named.nameFrom + named.nameLength); };
  /** Column entry i as a change joining the list, unless another pairing took it. */
  const take = (i: number): Change | null => {
    if (taken.has(named.pathAt(i))) return null;
    const c = named.changeAt(i);
    out.push(c);
    return c;
  };
  findNamedCopies({
    byDir, name, size: (i) => named.sizeAt(i), upper: (i) => named.upperAt(i),
    found: (i, p, st) => { const c = take(i); if (c) markCopy(nc, c, p, st); },
    // An object, so that sbx diff can show it against that file (render-changes.ts writeDiff).
    variant: (i, p) => { const c = take(i); if (c) c.variantOf = p; },
  }, n, compare, budget);
  return out;
}

// A dir copied with its tree (`cp -r nvim nvim.bak`): how many new dirs are looked into.
const DIR_COPIES_MAX = 8;

/**
 * A new dir that is a copy of a host dir (`cp -r ~/.config/nvim ~/.config/nvim.bak`, `cp -a
 * /etc/nginx /etc/nginx.orig`): named after it as a copied file is (findNamedCopies), in a host
 * dir the sandbox kept, the host dir not deleted inside, and its tree the host dir's: each of
 * the host dir's regular files at its place with its bytes, and below it nothing else the
 * sandbox added but dirs. Change.copyOf on the new dir and on each of its files; a tree of
 * other or more files, or of no non-empty one, is no copy. A host dir backed up by `mv conf
 * conf.bak && mkdir conf` (the sandbox emptied and refilled it) is one too: the files of the
 * new tree that pairMoves found moved from their place in it, unchanged, hold their bytes (they
 * keep their movedFrom), and the refilled dir's change names the copy (copiedTo). Up to DIR_COPIES_MAX dirs of up to
 * DIR_ENTRIES_MAX host entries (the tree listed as a deleted one is, no host atime moved), the
 * same byte budget. `named`: the full review's plain new files; its entries of such a tree are
 * returned as changes, to join the list.
 */
export function pairDirCopies(changes: readonly Change[], named: NamedChanges | null, compare: (upper: string, host: string) => boolean = sameContent, budget = byteBudget(), hidden: readonly string[] = []): Change[] {
  const out: Change[] = [];
  let n: NamedCopies | null = null;
  let tried = 0;
  for (const d of changes) {
    if (d.change !== 'added' || d.type !== 'dir' || d.movedFrom !== undefined || d.copyOf !== undefined) continue;
    const name = nameB(d.path);
    if (!hasNameBreak(name)) continue;
    n ??= namedCopies(changes, hidden);
    const dir = parentB(d.path);
    if (n.changedDirs.has(dir)) continue;
    let host: string | null = null;
    let hostSt: EntryStat | null = null;
    for (const base of shorterNames(name)) {
      const p = joinB(dir, base);
      if (n.gone.has(p) || (n.changedDirs.has(p) && !n.refilled.has(p)) || hiddenSource(p, hidden)) continue;
      hostSt = hostStat(p);
      if (hostSt?.type === 'dir') { host = p; break; }
    }
    if (host === null || tried++ >= DIR_COPIES_MAX) continue;
    const tree = treeFiles(host, () => true);
    const refilled = n.refilled.get(host);
    if (tree) out.push(...copiedTree(d, host, tree, changes, named, compare, budget, refilled !== undefined));
    if (d.copyOf !== undefined) noteAccess(d, hostSt);
    if (refilled && d.copyOf !== undefined && !d.copyChanged) refilled.copiedTo ??= d.path;
  }
  return out;
}

/** A new file (or dir) of a dir copy that is the host dir's at its place moved there unchanged, mode and owner too (pairMoves, pairDirMoves checked the bytes). */
export function movedIntoCopy(c: Change, dir: Change): boolean {
  return c.movedFrom !== undefined && !c.movedChanged && !c.sourceDetails && dir.copyOf !== undefined && c.movedFrom === joinB(dir.copyOf, c.path.slice(dir.path.length + 1));
}

/**
 * The new dir d, when its tree is the host dir's (pairDirCopies): marked, with its column
 * entries made changes. `refilled`: the sandbox emptied the host dir and made it again, and
 * its files moved to their places below d count as held. A tree that holds at least half of
 * the host dir's non-empty files at their places with their bytes, and other files too or
 * other bytes at some places or not all of them, is a copy then changed (copyChanged on d and
 * on each file at a host file's place with other bytes, whose diff is against that file); the
 * files at no host file's place stay additions. A file with the host file's bytes and another
 * mode or owner is held, with its sourceDetails, and makes the copy one then changed too.
 */
function copiedTree(d: Change, host: string, tree: HostTree, changes: readonly Change[], named: NamedChanges | null, compare: (upper: string, host: string) => boolean, budget: ByteBudget, refilled: boolean): Change[] {
  const want = new Map<string, number>();
  const hostFiles = new Map<string, TreeFile>();
  for (const f of tree.files) { want.set(f.rel, f.size); hostFiles.set(f.rel, f); }
  for (const rel of tree.empty) want.set(rel, 0);
  const relOf = (p: string): string => p.slice(d.path.length + 1);
  // Below d: the files at a host file's place (objects, then column entries), the rest counted.
  const files: Change[] = [];
  const cols: number[] = [];
  // `opened`: the files with the host file's bytes at its place and another mode or owner (moved there, or copies).
  let moved = 0, held = 0, other = 0, opened = 0;
  for (const c of changes) {
    if (!isBelow(c.path, d.path)) continue;
    if (c.change !== 'added') return [];
    if (c.movedFrom !== undefined) {
      // A dir of it moved whole (pairDirMoves) holds its files as they were: they are asked below.
      if (!refilled || c.movedFrom !== joinB(host, relOf(c.path))) return [];
      if (c.type === 'dir') { if (c.movedChanged) other++; continue; }
      if (c.type !== 'file' || !want.has(relOf(c.path))) return [];
      // One changed after the move shows as that (its own diff against the host file).
      if (c.movedChanged) other++;
      else { moved++; if (c.size > 0) held++; if (c.sourceDetails) opened++; }
      continue;
    }
    if (c.type === 'dir') continue;
    if (c.type === 'file' && want.has(relOf(c.path))) files.push(c);
    else other++;
  }
  if (named?.stats) {
    // Not sorted yet (scan.ts sorts it last): the tree's dirs by their prefixes, then one pass.
    const pre = `${d.path}/`;
    const inTree = new Uint8Array(named.dirs.length);
    let any = false;
    for (let k = 0; k < named.dirs.length; k++) if (named.dirs[k]!.startsWith(pre)) { inTree[k] = 1; any = true; }
    for (let j = 0; any && j < named.length; j++) {
      if (!inTree[named.dirAt(j)]) continue;
      if (want.has(relOf(named.pathAt(j)))) cols.push(j);
      else other++;
    }
  }
  // Fewer than half of the host's non-empty files could be held: no bytes read.
  const half = (n: number): boolean => n > 0 && n * 2 >= tree.files.length;
  let could = held;
  for (const c of files) if (c.size > 0 && c.size === want.get(relOf(c.path))) could++;
  for (const j of cols) if (named!.sizeAt(j) > 0 && named!.sizeAt(j) === want.get(relOf(named!.pathAt(j)))) could++;
  if (!half(could)) return [];
  const same = (upper: string | undefined, rel: string, size: number): boolean =>
    size === want.get(rel) && (size === 0 || (upper !== undefined && sameWithin(budget, compare, upper, joinB(host, rel), size) === true));
  let differ = 0;
  // Given up as soon as half can no longer be held: the other files' bytes are not read.
  const ask = (upper: string | undefined, rel: string, size: number): boolean => {
    const s = same(upper, rel, size);
    if (s) { if (size > 0) held++; } else { differ++; if (size > 0 && size === want.get(rel)) could--; }
    return s;
  };
  const fileSame: boolean[] = [], colSame: boolean[] = [];
  for (const c of files) { fileSame.push(ask(c.upper, relOf(c.path), c.size)); if (!half(could)) return []; }
  for (const j of cols) { colSame.push(ask(named!.upperAt(j), relOf(named!.pathAt(j)), named!.sizeAt(j))); if (!half(could)) return []; }
  // Of those that hold their bytes, the ones whose mode or owner is not the host file's: each
  // its own line in sbx diff, as a copy with that mode (a column entry's owner is the sandbox's).
  const access = (now: Access | undefined, rel: string): string[] => { const f = hostFiles.get(rel); return now && f ? accessDiff(now, f) : []; };
  const fileAccess = files.map((c, i) => (fileSame[i] ? access(c.up, relOf(c.path)) : []));
  const colAccess = cols.map((j, i) => (colSame[i] ? access({ perm: named!.permAt(j), uid: NaN, gid: NaN }, relOf(named!.pathAt(j))) : []));
  for (const a of [...fileAccess, ...colAccess]) if (a.length) opened++;
  const whole = !differ && !other && !opened && files.length + cols.length + moved === want.size;
  if (!whole && !half(held)) return [];
  d.copyOf = host;
  if (!whole) d.copyChanged = true;
  const mark = (c: Change, same: boolean, details: string[]): Change => {
    c.copyOf = joinB(host, relOf(c.path));
    if (!same) c.copyChanged = true;
    if (details.length) c.sourceDetails = details;
    return c;
  };
  files.forEach((c, i) => mark(c, fileSame[i]!, fileAccess[i]!));
  return cols.map((j, i) => mark(named!.changeAt(j), colSame[i]!, colAccess[i]!));
}

