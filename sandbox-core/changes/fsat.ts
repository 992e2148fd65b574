// Absolute byte-string paths turned into fd-relative ones, so the change list and the commit
// reach any depth and never follow a symlink in any component.
//
// A change list names its entries by absolute paths (host and upper layer), which may be
// longer than PATH_MAX (a 2,100-level chain) and whose components a sandbox or another
// process may have turned into symlinks. Every fs call here goes through `fsAt(p)`: the parent
// of `p` is opened one component at a time below a trusted root (beneath.ts: O_PATH,
// O_NOFOLLOW, O_DIRECTORY) and the call gets `/proc/self/fd/N/name`, which the kernel resolves
// like `*at(N, name)`. Callers walk in path order, so the open parents are kept as a chain of
// the last ancestors used: a sorted walk opens each directory once, and the chain is bounded.
import { Dir, NotBeneathError } from '../beneath.js';
import { isWithin } from '../base/within.js';
import { SbxError } from '../base/errors.js';
import { display } from '../base/bpath.js';
import { fdinfoField } from '../base/fdinfo.js';

/** Chain entries kept open at most; past that the shallow half is closed (and reopened on need). */
const MAX_CHAIN = 128;

interface Link { path: string; dir: Dir }

class Resolver {
  private chain: Link[];
  /** `top`: the open directory that stands for `root`, owned by the resolver from now on. */
  constructor(readonly root: string, top: Dir) {
    this.chain = [{ path: root, dir: top }];
  }

  /** The directory `dirPath` (at or below the root), opened without following any symlink. */
  dir(dirPath: string): Dir {
    const chain = this.chain;
    let k = chain.length - 1;
    while (k > 0 && !isWithin(dirPath, chain[k]!.path)) k--;
    for (let j = chain.length - 1; j > k; j--) chain[j]!.dir.close();
    chain.length = k + 1;
    let cur = chain[k]!;
    if (cur.path === dirPath) return cur.dir;
    const rest = dirPath.slice(cur.path === '/' ? 1 : cur.path.length + 1);
    let at = 0;
    while (at <= rest.length) {
      let end = rest.indexOf('/', at);
      if (end < 0) end = rest.length;
      const name = rest.slice(at, end);
      at = end + 1;
      const dir = Dir.openBeneath(cur.dir, name);
      const path = cur.path === '/' ? `/${name}` : `${cur.path}/${name}`;
      if (this.root === '/') {
        try { checkFence(path, dir.fd); } catch (e) { dir.close(); throw e; }
      }
      cur = { path, dir };
      chain.push(cur);
      if (chain.length > MAX_CHAIN) {
        const drop = chain.splice(1, MAX_CHAIN / 2);
        for (const l of drop) l.dir.close();
      }
    }
    return cur.dir;
  }

  /** Drops open directories at or below `p` (it was removed or replaced). */
  forget(p: string): void {
    const chain = this.chain;
    let k = chain.length - 1;
    while (k > 0 && isWithin(chain[k]!.path, p)) k--;
    for (let j = chain.length - 1; j > k; j--) chain[j]!.dir.close();
    chain.length = k + 1;
  }

  close(): void {
    for (const l of this.chain) l.dir.close();
    this.chain = [];
  }
}

/** A layer's host tree and the mount it was on when the commit was planned (commit/mounts.ts). */
export interface Fence { path: string; mnt: number }

/**
 * A filesystem mounted during a commit on a dir it writes in (or on the way to one): the
 * checks before the commit compared the dirs with the mounts as they were then.
 */
export class FenceError extends Error {
  readonly code = 'EXDEV';
  constructor(readonly dir: string) {
    super(`a filesystem was mounted on ${display(dir)} while the commit ran, which the review never showed: unmount it and commit again (or discard the sandbox)`);
  }
}

let fences: readonly Fence[] | null = null;

/**
 * While a commit writes: every host dir opened from `/` at or below a fence's tree must be on
 * that tree's mount (the deepest fence holding it), and the helper's writes are given the same
 * fences (fenceArgs). null ends it.
 */
export function setFences(f: readonly Fence[] | null): void {
  fences = f && f.length ? f : null;
  // Dirs opened before were never checked: they are opened again on need.
  resolvers.get('/')?.close();
  resolvers.delete('/');
  aux?.close();
  aux = null;
}

/** Throws a FenceError when `fd`, opened at host path `p`, is not on the mount of its deepest fence. */
export function checkFence(p: string, fd: number): void {
  if (!fences || hostDir) return;
  let best: Fence | null = null;
  for (const f of fences) if (isWithin(p, f.path) && (!best || f.path.length > best.path.length)) best = f;
  if (best && fdinfoField(fd, 'mnt_id') !== best.mnt) throw new FenceError(p);
}

/** The fences as the helper takes them (beneath.h): `--fence=MNT:HEX` with the path relative to `/`. */
export function fenceArgs(): string[] {
  if (!fences || hostDir) return [];
  return fences.map((f) => `--fence=${f.mnt}:${Buffer.from(f.path.slice(1), 'latin1').toString('hex')}`);
}

/**
 * Why the helper's write at host path `p` met EXDEV, if a fence did it: the dirs on the way
 * to it opened again and checked (a FenceError naming the mount point), else null.
 */
export function fenceBreachOf(p: string): FenceError | null {
  if (!fences) return null;
  resolvers.get('/')?.forget('/');
  try { parentAt(p); } catch (e) {
    if (e instanceof FenceError) return e;
  }
  return null;
}

/**
 * Trusted roots below `/`, each with how it is opened: from an fd, never by its path (a
 * sandbox's layers dir from the store-root fd, Store.openLayers). Their resolvers (and open
 * fds) are made on first use and closed by closeAll; the openers stay.
 */
const roots = new Map<string, () => Dir>();
const resolvers = new Map<string, Resolver>();

/** The deepest trusted root holding `p` (strictly below it, or at it with `self`); '/' when none. */
function rootOf(p: string, self = false): string {
  let best = '/';
  for (const r of roots.keys()) {
    if (isWithin(p, r) && (self || p !== r) && r.length > best.length) best = r;
  }
  return best;
}

/** The resolver of the deepest root holding `p` (strictly below it, or at it with `self`). */
function resolverFor(p: string, self = false): Resolver {
  const best = rootOf(p, self);
  let r = resolvers.get(best);
  if (!r) {
    const top = best !== '/' ? roots.get(best)!() : hostDir ? Dir.openBeneath(hostDir, '') : Dir.open('/');
    resolvers.set(best, (r = new Resolver(best, top)));
  }
  return r;
}

/**
 * The directory that stands for the host's `/` when the change list compares a sandbox with
 * something else: the merged lower layers of an image sandbox, or a --rootfs tree. This is
 * the one place host-side lookups are resolved, so every comparison (walk, classify, diff
 * text, export) sees that tree; null restores the real `/`.
 */
let hostRoot: string | null = null;
/**
 * The lower root, opened once with its last component not followed; every use goes through
 * this fd (its /proc/self/fd path). The merged tree is in the store's image cache, which is
 * hostile input: one swapped for a symlink to a directory of this machine made the walk (which
 * opened the path) compare the sandbox with that directory's files.
 */
let hostDir: Dir | null = null;

export function setHostRoot(root: string | null): void {
  if (root === hostRoot) return;
  resolvers.get('/')?.close();
  resolvers.delete('/');
  hostDir?.close();
  hostDir = null;
  hostRoot = null;
  if (root === null) return;
  try { hostDir = Dir.open(root); } catch (e) {
    throw new SbxError(`the tree this sandbox is compared with, ${root}, is not a directory (${e instanceof NotBeneathError ? 'a symlink?' : (e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 125, "an image's cached tree is made again by 'sbx run --in NAME -- true'");
  }
  hostRoot = root;
}

/** The tree that stands for the host's `/` (setHostRoot), or null for the real one: what a cache of host facts is kept for. */
export const hostRootPath = (): string | null => hostRoot;

/** The physical directory of a trusted root (`/` may stand for an image's lower root). */
export function physicalRoot(root: string): string {
  return root === '/' ? (hostDir ? hostDir.self() : root) : rootPath(root);
}

/**
 * What to open for a directory handed to the helper as a root: a trusted root's open fd (its
 * /proc/self/fd path, which names that very directory), never its path walked again; any
 * other path (`/`, an image's own trees) as it is.
 */
export function rootPath(root: string): string {
  return root !== '/' && roots.has(root) ? dirAt(root).self() : root;
}

/**
 * Paths at or below `root` are resolved from the directory `open` gives (an fd opened and
 * checked by its owner, e.g. the store), never from `root`'s path: nothing on the way to it or
 * below it is followed. Without a registered root, paths are resolved from `/` with no
 * symlink in any component. Registering a root again replaces how it is opened.
 */
export function trustRoot(root: string, open: () => Dir): void {
  if (root === '/') throw new Error('internal error: `/` is not registered');
  roots.set(root, open);
  resolvers.get(root)?.close();
  resolvers.delete(root);
}

function split(p: string): [string, string] {
  const i = p.lastIndexOf('/');
  if (i < 0 || p.length === 1) throw new NotBeneathError(`not an absolute path below a root: ${JSON.stringify(p)}`);
  return [i === 0 ? '/' : p.slice(0, i), p.slice(i + 1)];
}

/** The open parent directory of `p` and its last name. */
export function parentAt(p: string): { dir: Dir; name: string } {
  const [parent, name] = split(p);
  return { dir: resolverFor(p).dir(parent), name };
}

/**
 * A path for any fs call that does not follow its last component (lstat, readlink, open with
 * O_NOFOLLOW, mkdir, unlink, rename, symlink, link): short at any depth, and no component
 * above the last is a symlink (ELOOP/ENOTDIR otherwise, as a NotBeneathError).
 */
export function fsAt(p: string): Buffer {
  const { dir, name } = parentAt(p);
  return dir.at(name);
}

let aux: Resolver | null = null;

/**
 * Like fsAt, from `/`, through a chain of its own: for the one call that names two paths in
 * different directories (link), so resolving the second cannot close the first's directory.
 */
export function auxAt(p: string): Buffer {
  if (!aux) aux = new Resolver('/', Dir.open('/'));
  const [parent, name] = split(p);
  return aux.dir(parent).at(name);
}

/** The directory `p` itself, opened without following any symlink on the way. */
export function dirAt(p: string): Dir {
  return resolverFor(p, true).dir(p);
}

/** `p` was removed or replaced: directories cached at or below it are stale. */
export function forgetAt(p: string): void {
  for (const r of resolvers.values()) if (!isWithin(r.root, p)) r.forget(p);
  aux?.forget(p);
}

/** Closes every cached directory (end of a scan or a commit); they are reopened on need. */
export function closeAll(): void {
  for (const r of resolvers.values()) r.close();
  resolvers.clear();
  aux?.close();
  aux = null;
}
