// A git repository's own files (`.git/`: objects, refs, logs, index) as one summary line per
// repository, saying what a user understands: which branches moved and by how many commits,
// how many objects came, what else git rewrote. The refs are read from the layer's files and
// the host's, never by running git (the sandbox wrote them: a repo's config would run its
// commands), each read bounded. Only what the `!` rules let through is folded here: hooks,
// config, info/ and a `.git` that is a file stay listed and flagged (sensitive.ts). Folding
// only shortens the summary: every entry is still in the change list and the commit.
import { closeSync, readSync } from 'node:fs';
import type { Change, ChangeKind } from './types.js';
import { openNoFollow } from './content.js';
import { display } from '../base/bpath.js';
import { countText as count } from '../base/count-text.js';
import { codeUnitOrder } from '../base/code-order.js';

/**
 * The root of the repository whose git dir a path is in or is (the path before its first
 * `/.git` component), or null. `/x/.github/a` is in none; `/x/.git/modules/m/HEAD` is in `/x`.
 */
export function gitRepoOf(p: string): string | null {
  for (let i = p.indexOf('/.git'); i >= 0; i = p.indexOf('/.git', i + 1)) {
    const end = i + 5;
    if (end === p.length || p.charCodeAt(end) === 0x2f) return i === 0 ? '/' : p.slice(0, i);
  }
  return null;
}

/** The git dir of a repository root. */
const gitDirOf = (root: string): string => (root === '/' ? '/.git' : `${root}/.git`);

/** Reads of refs, HEAD and packed-refs stop here (a ref is 41 bytes; packed-refs of 10k refs ~1 MiB). */
export const MAX_REF = 4096;
const MAX_PACKED = 1 << 20;
/** The new lines of a reflog read (the host's part is skipped, not read). */
const MAX_REFLOG_NEW = 256 << 10;
const HASH = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
const LOOSE_OBJECT = /^objects\/[0-9a-f]{2}\/[0-9a-f]{38}(?:[0-9a-f]{24})?$/;

interface Entry { change: ChangeKind; upper?: string | undefined; hostSize: number }

class Repo {
  readonly paths: string[] = [];
  /** Changes by kind (the line goes with the repo's main kind). */
  readonly kinds = new Map<ChangeKind, number>();
  entries = 0;
  bytes = 0;
  /** The `.git` dir itself is new: a repository made or cloned in the sandbox. */
  fresh = false;
  looseAdded = 0;
  packsAdded = 0;
  objectsGone = 0;
  /** Changed files that say where refs point (HEAD, refs/**, packed-refs, logs/**), by path inside .git. */
  readonly refFiles = new Map<string, Entry>();
  /** First components of the other changed files inside .git (index, COMMIT_EDITMSG, ...). */
  readonly others = new Set<string>();
  constructor(readonly root: string) {}
}

/** What a line of the summary needs of a folded repository. */
export interface RepoLine {
  root: string;
  kind: ChangeKind;
  entries: number;
  bytes: number;
  /** The text after the kind label, escaped. */
  text: string;
  paths: string[];
}

/**
 * Collects the changes inside git dirs, then says per repository what changed. `add` is asked
 * only for changes the `!` rules let through; `upper` is made only for the files it reads.
 */
export class RepoFold {
  private readonly repos = new Map<string, Repo>();

  /** Takes a change inside a git dir (true), or leaves it (false: not in one). */
  add(path: string, change: ChangeKind, type: Change['type'], size: number, upper: () => string | undefined, hostSize = 0): boolean {
    const root = gitRepoOf(path);
    if (root === null) return false;
    // A whole git dir gone or replaced is history lost: its own line, with what the host held.
    if ((change === 'deleted' || change === 'replaced') && path === gitDirOf(root)) return false;
    let r = this.repos.get(root);
    if (!r) this.repos.set(root, r = new Repo(root));
    r.paths.push(path);
    r.kinds.set(change, (r.kinds.get(change) ?? 0) + 1);
    r.entries++;
    if (type === 'file' && change !== 'deleted') r.bytes += size;
    const gitDir = gitDirOf(root);
    if (path === gitDir) { if (change === 'added') r.fresh = true; return true; }
    const rel = path.slice(gitDir.length + 1);
    const first = rel.slice(0, rel.indexOf('/') >>> 0);
    if (first === 'objects') {
      if (change === 'deleted') r.objectsGone++;
      else if (change === 'added' && type === 'file') {
        if (LOOSE_OBJECT.test(rel)) r.looseAdded++;
        else if (rel.startsWith('objects/pack/') && rel.endsWith('.pack')) r.packsAdded++;
      }
    } else if (rel === 'HEAD' || rel === 'packed-refs' || first === 'refs' || first === 'logs') {
      if (type !== 'dir') r.refFiles.set(rel, { change, upper: change === 'deleted' ? undefined : upper(), hostSize });
    } else r.others.add(first);
    return true;
  }

  get size(): number { return this.repos.size; }

  /** One line per repository, in path order. */
  lines(): RepoLine[] {
    return [...this.repos.values()].sort((a, b) => codeUnitOrder(a.root, b.root)).map((r) => lineOf(r));
  }
}

function lineOf(r: Repo): RepoLine {
  const parts: string[] = [];
  const gitDir = gitDirOf(r.root);
  const host = (rel: string) => `${gitDir}/${rel}`;
  // The sandbox's side of a file inside .git: its changed copy, gone, or the host's untouched one.
  const now = (rel: string, limit: number): Buffer | null => {
    const e = r.refFiles.get(rel);
    if (!e) return r.fresh ? null : readBounded(host(rel), limit);
    return e.upper === undefined ? null : readBounded(e.upper, limit);
  };
  const before = (rel: string, limit: number): Buffer | null => (r.fresh ? null : readBounded(host(rel), limit));
  const packedNow = r.refFiles.has('packed-refs') ? parsePacked(now('packed-refs', MAX_PACKED)) : null;
  const packedBefore = r.refFiles.has('packed-refs') ? parsePacked(before('packed-refs', MAX_PACKED)) : null;
  // A ref's value: its loose file, else its packed-refs line (only read when packed-refs changed;
  // when it did not, a ref with no loose file has the same packed value on both sides).
  let packedHostOnce: Map<string, string> | null | undefined;
  const packedHost = () => (packedHostOnce === undefined ? (packedHostOnce = r.fresh ? null : parsePacked(readBounded(host('packed-refs'), MAX_PACKED))) : packedHostOnce);
  // The loose file as read (`loose`): a symbolic ref's `ref: ...` is shown from it (symbolicRef).
  const valueNow = (ref: string, loose: Buffer | null): string | null => valueOf(loose) ?? (packedNow ?? packedHost())?.get(ref) ?? null;
  const valueBefore = (ref: string): string | null => valueOf(before(ref, MAX_REF)) ?? (packedBefore ?? packedHost())?.get(ref) ?? null;
  // The refs that may have moved: those whose loose file or packed line changed.
  const names = new Set<string>();
  for (const rel of r.refFiles.keys()) if (rel.startsWith('refs/')) names.add(rel);
  if (packedNow || packedBefore) {
    for (const [ref, v] of packedNow ?? new Map()) if (packedBefore?.get(ref) !== v) names.add(ref);
    for (const [ref, v] of packedBefore ?? new Map()) if (packedNow?.get(ref) !== v) names.add(ref);
  }
  // Every moved ref by its name, not a count: a tag or remote ref moved to a forged commit was
  // `1 tag`, `1 other ref` (which one, and where from, is what a reader checks).
  const branches: string[] = [], tags: string[] = [], remotes: string[] = [], otherRefs: string[] = [];
  for (const ref of [...names].sort()) {
    const loose = now(ref, MAX_REF);
    const a = valueBefore(ref), b = valueNow(ref, loose);
    if (a === b) continue;
    const [list, name] = ref.startsWith('refs/heads/') ? [branches, display(ref.slice(11))]
      : ref.startsWith('refs/tags/') ? [tags, `tag ${display(ref.slice(10))}`]
        : ref.startsWith('refs/remotes/') ? [remotes, `remote ${display(ref.slice(13))}`] : [otherRefs, display(ref)];
    const commits = list === branches ? commitsOf(r, `logs/${ref}`) : 0;
    const n = commits > 0 ? ` (${count(commits)} commit${commits === 1 ? '' : 's'})` : '';
    // A symbolic ref (a clone's refs/remotes/origin/HEAD) by the ref it names, not as `?`.
    const to = b === '?' ? symbolicRef(loose) : null;
    if (to !== null) list.push(`${name} ${a === null ? (r.fresh ? '' : 'new ') : `${short(a)} `}-> ${to}`);
    else list.push(b === null ? `${name} deleted` : a === null ? `${name} ${r.fresh ? '' : 'new '}${short(b)}${n}` : `${name} ${short(a)} -> ${short(b)}${n}`);
  }
  for (const [list, more] of [[branches, 'branches'], [tags, 'tags'], [remotes, 'remote refs'], [otherRefs, 'other refs']] as const) {
    if (list.length > 3) parts.push(...list.slice(0, 3), `${count(list.length - 3)} more ${more}`); else parts.push(...list);
  }
  if (r.refFiles.has('HEAD')) {
    const head = symbolicHead(now('HEAD', MAX_REF));
    if (head !== null && (r.fresh || head !== symbolicHead(before('HEAD', MAX_REF)))) parts.push(`HEAD -> ${head}`);
  }
  if (r.looseAdded) parts.push(`${count(r.looseAdded)} object${r.looseAdded === 1 ? '' : 's'}`);
  if (r.packsAdded) parts.push(`${count(r.packsAdded)} pack${r.packsAdded === 1 ? '' : 's'}`);
  if (r.objectsGone) parts.push(`${count(r.objectsGone)} object entr${r.objectsGone === 1 ? 'y' : 'ies'} removed`);
  const others = [...r.others].sort();
  if (others.length) parts.push(others.length > 4 ? `${others.slice(0, 4).map(display).join(', ')} and ${others.length - 4} more` : others.map(display).join(', '));
  // With the kind that says most about the repository: new, else modified when anything was.
  const kind: ChangeKind = r.fresh ? 'added' : r.kinds.has('modified') ? 'modified' : [...r.kinds.keys()][0]!;
  const what = r.fresh ? 'new git repository' : 'git';
  return { root: r.root, kind, entries: r.entries, bytes: r.bytes, paths: r.paths, text: `${display(r.root)}: ${what}${parts.length ? `: ${parts.join(', ')}` : ''}` };
}

const short = (h: string): string => h.slice(0, 7);

/** A loose ref's hash; `?` when it is there but holds no hash (unreadable, a symlink, text); null when absent. */
export function valueOf(b: Buffer | null): string | null {
  if (!b) return null;
  const s = b.toString('latin1').trim();
  return HASH.test(s) ? s : '?';
}

/** The ref a symbolic ref names (`ref: refs/remotes/origin/main` is `origin/main`), escaped; null for anything else. */
function symbolicRef(b: Buffer | null): string | null {
  const s = b?.toString('latin1').trim();
  if (!s?.startsWith('ref: refs/')) return null;
  const ref = s.slice(5);
  return display(ref.startsWith('refs/heads/') ? ref.slice(11) : ref.startsWith('refs/remotes/') ? ref.slice(13) : ref.startsWith('refs/tags/') ? `tag ${ref.slice(10)}` : ref);
}

/** The branch HEAD names (`ref: refs/heads/x`), escaped; `detached` for a hash; null when unreadable. */
function symbolicHead(b: Buffer | null): string | null {
  if (!b) return null;
  const s = b.toString('latin1').trim();
  if (s.startsWith('ref: ')) { const ref = s.slice(5); return display(ref.startsWith('refs/heads/') ? ref.slice(11) : ref); }
  return HASH.test(s) ? `detached ${short(s)}` : null;
}

/** packed-refs' `HASH refname` lines (peeled `^` lines and comments skipped). */
export function parsePacked(b: Buffer | null): Map<string, string> | null {
  if (!b) return null;
  const m = new Map<string, string>();
  for (const l of b.toString('latin1').split('\n')) {
    const sp = l.indexOf(' ');
    if (sp < 0 || l[0] === '#' || l[0] === '^') continue;
    const h = l.slice(0, sp);
    if (HASH.test(h)) m.set(l.slice(sp + 1), h);
  }
  return m;
}

/**
 * Commits a branch gained, from its reflog: the lines the sandbox appended (after the host's
 * bytes) whose message says commit (`commit:`, `commit (initial):`, `commit (amend):`, ...).
 * 0 when there is no reflog to read.
 */
function commitsOf(r: Repo, rel: string): number {
  const e = r.refFiles.get(rel);
  if (!e?.upper) return 0;
  // An appended reflog keeps the host's bytes first: only what follows is read.
  const from = e.change === 'modified' ? e.hostSize : 0;
  const b = readBounded(e.upper, MAX_REFLOG_NEW, from);
  if (!b) return 0;
  let n = 0;
  for (const l of b.toString('latin1').split('\n')) {
    const tab = l.indexOf('\t');
    if (tab >= 0 && l.startsWith('commit', tab + 1)) n++;
  }
  return n;
}

/**
 * Up to `limit` bytes of a file from `at`, no symlink followed; null when there is none, no
 * bytes when it is there but cannot be read (a symlink, no permission).
 */
export function readBounded(p: string, limit: number, at = 0): Buffer | null {
  let fd: number;
  try { fd = openNoFollow(p); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? null : Buffer.alloc(0);
  }
  try {
    const buf = Buffer.allocUnsafe(limit);
    let n = 0;
    while (n < limit) {
      const k = readSync(fd, buf, n, limit - n, at + n);
      if (k === 0) break;
      n += k;
    }
    return buf.subarray(0, n);
  } catch { return Buffer.alloc(0); } finally { closeSync(fd); }
}
