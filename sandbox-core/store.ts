// The on-disk store: one directory per sandbox under storeRoot(), holding meta.json and the
// layer directories. Every directory is 0700 and created without following symlinks.
import { randomBytes } from 'node:crypto';
import {
  closeSync, fchownSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync,
  chmodSync, writeSync, constants as C,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { Dir, removeTreeAt } from './beneath.js';
import { ensurePrivateDir, storeRoot } from './paths.js';

export { ensurePrivateDir };
import { SbxError, UnknownSandboxError } from './errors.js';
import type { SandboxMeta } from './types.js';
import { chooseIdMapping } from './idmap.js';
import { encodeSpec } from './spec.js';
import { parseStatusLines } from './launch.js';
import { expectedHelperVersion, helperPath } from './helper.js';

const ID_RE = /^[0-9a-f]{8}$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** mkdir -p where every component we create is 0700 and no existing component is a symlink we did not expect. */
/** A well-formed id or name: safe to print and to hand to a shell's completion. */
export function isPlainName(s: string): boolean {
  return ID_RE.test(s) || NAME_RE.test(s);
}

export function validateName(name: string): void {
  if (!NAME_RE.test(name) || ID_RE.test(name)) {
    throw new SbxError(`invalid sandbox name '${name}'`, 125,
      'use letters, digits, _ . - (up to 64), and not 8 hex digits (that is an id)');
  }
}

/**
 * Under sudo without SBX_HOME, the store of the user who ran sudo: `sudo sbx commit ID` is how
 * an ordinary user commits system paths of a sandbox they made.
 */
export function sudoUserStore(env: NodeJS.ProcessEnv = process.env): string | null {
  if (process.getuid?.() !== 0 || env.SBX_HOME || !env.SUDO_USER || !env.SUDO_UID || env.SUDO_UID === '0') return null;
  let passwd: string;
  try { passwd = readFileSync('/etc/passwd', 'utf8'); } catch { return null; }
  const entry = passwd.split('\n').map((l) => l.split(':')).find((f) => f[0] === env.SUDO_USER && f[2] === env.SUDO_UID);
  return entry && entry[5] ? join(entry[5], '.local', 'state', 'sbx') : null;
}

/** Finds a sandbox in our store, or under sudo in the invoking user's; with the store it is in. */
export function resolveAnywhere(ref: string): { store: Store; meta: SandboxMeta } {
  const own = new Store();
  try {
    return { store: own, meta: own.resolve(ref) };
  } catch (e) {
    const other = sudoUserStore();
    if (!(e instanceof UnknownSandboxError) || !other) throw e;
    const store = new Store(other);
    return { store, meta: store.resolve(ref) };
  }
}

/**
 * Root writing in an ordinary user's store (`sudo sbx commit ID`) gives what it writes to the
 * owner of the directory it writes in, so the user's `sbx ls`, `diff` and `discard` still see
 * the sandbox. The owner comes from the directory, never from meta.json.
 */
export function keepStoreOwner(fd: number, dir: string): void {
  if (process.geteuid?.() !== 0) return;
  const st = lstatSync(dir);
  if (st.isDirectory() && st.uid !== 0) fchownSync(fd, st.uid, st.gid);
}

export function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

export class Store {
  readonly root: string;
  constructor(root = storeRoot()) {
    this.root = root;
  }

  dirOf(id: string): string {
    return join(this.root, id);
  }

  /** Creates an empty sandbox directory with a fresh id. */
  create(name: string | null): { id: string; dir: string } {
    ensurePrivateDir(this.root);
    if (name !== null) {
      validateName(name);
      if (this.list().some((m) => m.name === name)) {
        throw new SbxError(`a sandbox named '${name}' already exists`, 125, `pick another --name, or 'sbx discard ${name}'`);
      }
    }
    for (;;) {
      const id = randomBytes(4).toString('hex');
      const dir = this.dirOf(id);
      try {
        mkdirSync(dir, { mode: 0o700 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw new SbxError(`cannot create ${dir}: ${(e as Error).message}`);
      }
      return { id, dir };
    }
  }

  /** Atomically replaces meta.json (write beside, fsync, rename). */
  writeMeta(meta: SandboxMeta): void {
    const dir = this.dirOf(meta.id);
    const tmp = join(dir, `.meta.json.${process.pid}`);
    const fd = openSync(tmp, C.O_WRONLY | C.O_CREAT | C.O_TRUNC | C.O_NOFOLLOW, 0o600);
    try {
      keepStoreOwner(fd, dir);
      writeSync(fd, JSON.stringify(meta, null, 2) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(dir, 'meta.json'));
  }

  readMeta(id: string): SandboxMeta | null {
    try {
      const meta = JSON.parse(readFileSync(join(this.dirOf(id), 'meta.json'), 'utf8')) as SandboxMeta;
      if (meta.version !== 1) return null;
      // The sbx that ran it was killed: its sandbox died with it (parent-death signals), so
      // what is left is a saved sandbox, not a running one.
      if (meta.state === 'running' && meta.runnerPid !== undefined && meta.runnerPid !== process.pid && !pidAlive(meta.runnerPid)) meta.state = 'saved';
      return meta;
    } catch {
      return null;
    }
  }

  /** All sandboxes with a readable meta.json, oldest first. */
  list(): SandboxMeta[] {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch {
      return [];
    }
    const metas: SandboxMeta[] = [];
    for (const n of names) {
      if (!ID_RE.test(n)) continue;
      const m = this.readMeta(n);
      if (m) metas.push(m);
    }
    return metas.sort((a, b) => a.createdMs - b.createdMs);
  }

  /** Resolves an id, a unique id prefix, or a name. */
  resolve(ref: string): SandboxMeta {
    const all = this.list();
    const exact = all.find((m) => m.id === ref || m.name === ref);
    if (exact) return exact;
    const prefixed = ref.length >= 3 ? all.filter((m) => m.id.startsWith(ref)) : [];
    if (prefixed.length === 1) return prefixed[0]!;
    if (prefixed.length > 1) throw new SbxError(`'${ref}' matches more than one sandbox`, 125, 'give more of the id');
    throw new UnknownSandboxError(ref);
  }

  /**
   * Removes throwaway (`run -n`) sandboxes whose sbx was killed before it could: their layers
   * sit on tmpfs, in memory, and nobody will ever ask for them.
   */
  sweepAbandoned(): void {
    for (const m of this.list()) {
      if (!m.throwaway || m.runnerPid === undefined || m.runnerPid === process.pid || pidAlive(m.runnerPid)) continue;
      try { this.remove(m); } catch { /* left for 'sbx discard' */ }
    }
  }

  /** Removes a sandbox's layers and directory. */
  remove(meta: SandboxMeta): void {
    const dirs = [this.dirOf(meta.id)];
    if (meta.layersDir && !meta.layersDir.startsWith(this.dirOf(meta.id))) dirs.unshift(meta.layersDir);
    for (const d of dirs) removeTree(d);
  }
}

/** rm -rf, iterative and fd-relative (any depth, bounded fds; Node's rmSync recurses and overflows). */
function removeTreeAtPath(path: string): void {
  const parent = Dir.open(dirname(path));
  try { removeTreeAt(parent, basename(path)); } finally { parent.close(); }
}

/**
 * Removes a tree that may hold files owned by our subordinate uids (written by root-inside
 * programs that switched users): we cannot delete those as ourselves, but root in a user
 * namespace with the same mapping can.
 */
function removeAsMappedRoot(path: string): void {
  const idmap = chooseIdMapping({ keepUser: false });
  const spec = encodeSpec([
    ...idmap.ops,
    { op: 'cwd', args: ['/'] },
    { op: 'arg', args: ['/bin/rm'] }, { op: 'arg', args: ['-rf'] }, { op: 'arg', args: ['--'] }, { op: 'arg', args: [path] },
    { op: 'env', args: ['PATH=/usr/bin:/bin'] },
  ]);
  const r = spawnSync(helperPath(), ['run', '0', '2', expectedHelperVersion()], { input: spec, stdio: ['pipe', 'ignore', 'pipe'], encoding: 'latin1' });
  const { outcome } = parseStatusLines(r.stderr ?? '');
  if (!outcome || outcome.kind !== 'exited' || outcome.code !== 0) {
    throw new SbxError(`cannot remove ${path}`, 125, 'remove it by hand');
  }
}

/**
 * rm -rf that also handles overlayfs work dirs (created mode 000) by making directories
 * writable before descending. Never follows symlinks (rmSync does not).
 */
export function removeTree(path: string): void {
  try {
    removeTreeAtPath(path);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'ENOTEMPTY') throw e;
  }
  const stack = [path];
  while (stack.length) {
    const d = stack.pop()!;
    let st;
    try { st = lstatSync(d); } catch { continue; }
    if (!st.isDirectory()) continue;
    try { chmodSync(d, 0o700); } catch { /* not ours: rmSync below reports it */ }
    try {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) stack.push(join(d, e.name));
    } catch { /* unreadable: rmSync reports it */ }
  }
  try {
    removeTreeAtPath(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if ((code === 'EACCES' || code === 'EPERM') && process.getuid?.() !== 0) removeAsMappedRoot(path);
    else throw e;
  }
}
