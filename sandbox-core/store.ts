// The on-disk store: one directory per sandbox under storeRoot(), holding meta.json and the
// layer directories. Every directory is 0700 and created without following symlinks.
import { randomHex } from './random.js';
import {
  closeSync, fchownSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmdirSync, unlinkSync,
  chmodSync, chownSync, statfsSync, writeSync, constants as C,
} from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { Dir, holdsAtLeast, removeTreeAt } from './beneath.js';
import { ensurePrivateDir, scratchPath, storeRoot, sudoUserHome } from './base/paths.js';
import { isWithin } from './base/within.js';
import { display, displayText, fromUser } from './base/bpath.js';

export { ensurePrivateDir };
import { SbxError, UnknownSandboxError } from './base/errors.js';
import { EXTRA_IDS_MAX, layerDirs, type Layer, type SandboxMeta } from './types.js';
import { setLayersOpener } from './layers-opener.js';
import { removeAsMappedRoot } from './mapped-root.js';
import { BOOT_ID_RE, START_RE, bootId, pidRunning, readProcText, recordedAlive, selfStamp } from './base/process.js';
import { checkImageRecord, IMAGES_DIR, lowerRootFromCache } from './image/record.js';

const ID_RE = /^[0-9a-f]{8}$/;
/** The name removeId claims an entry under while it removes it. */
const claimName = (id: string): string => `.removing-${id}.${process.pid}`;
/** A removed sandbox's tree being deleted in the background: unclaimed, or claimed by a pid. */
const REMOVING_RE = /^\.removing-[0-9a-f]{8}(?:\.(\d+))?$/;
/** Starts a detached remover of `names` below the directory `rootFd` (commit/remover.ts). */
export type TreeRemover = (rootFd: number, names: string[]) => void;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** mkdir -p where every component we create is 0700 and no existing component is a symlink we did not expect. */
/** A well-formed id or name: safe to print and to hand to a shell's completion. */
export function isPlainName(s: string): boolean {
  return ID_RE.test(s) || NAME_RE.test(s);
}

function validateName(name: string): void {
  if (!NAME_RE.test(name) || ID_RE.test(name)) {
    throw new SbxError(`invalid sandbox name '${displayText(name)}'`, 125,
      'use letters, digits, _ . - (up to 64), and not 8 hex digits (that is an id)');
  }
}

/**
 * Under sudo without SBX_HOME, the store of the user who ran sudo: `sudo sbx commit ID` is how
 * an ordinary user commits system paths of a sandbox they made.
 */
function sudoUserStore(env: NodeJS.ProcessEnv = process.env): { store: Store; user: string } | null {
  if (env.SBX_HOME) return null;
  const sudo = sudoUserHome(env);
  // Everything in it must belong to that user: root acting on it trusts nothing else.
  return sudo ? { store: new Store(storeRoot({ HOME: sudo.home }), sudo.uid), user: env.SUDO_USER! } : null;
}

/**
 * `sbx` as root for the user who types it, on `store`: `sudo sbx`, which finds root's default
 * store, or the invoking user's there (sudoUserStore); else SBX_HOME names it.
 */
export function sudoSbx(store: Store, env: NodeJS.ProcessEnv = process.env): string {
  const defaultStore = !!env.HOME && store.root === storeRoot({ HOME: env.HOME });
  return `${defaultStore ? 'sudo' : `sudo SBX_HOME=${display(store.root)}`} sbx`;
}

/**
 * How the user at the keyboard runs sbx on `store`'s sandboxes, for a hint that names a
 * command: `sbx`; under sudo, for a store that is not the invoking user's (root's own, where
 * `sudo sbx run` saves), sudoSbx: their plain `sbx diff ID` looks in their own store and
 * answers "no sandbox called".
 */
export function sbxFor(store: Store, env: NodeJS.ProcessEnv = process.env): string {
  const sudo = sudoUserHome(env);
  return !sudo || store.owner === sudo.uid ? 'sbx' : sudoSbx(store, env);
}

/** Looks in our store, then under sudo in the invoking user's: what `find` found, and where. */
function inOwnOrSudoStore<T>(find: (store: Store) => T): { store: Store; found: T } {
  const own = new Store();
  try {
    return { store: own, found: find(own) };
  } catch (e) {
    const sudo = sudoUserStore();
    if (!(e instanceof UnknownSandboxError) || !sudo) throw e;
    try {
      return { store: sudo.store, found: find(sudo.store) };
    } catch (e2) {
      // In neither: the hint's `sudo sbx ls` lists both.
      throw e2 instanceof UnknownSandboxError ? new UnknownSandboxError(e2.ref, sbxFor(own)) : e2;
    }
  }
}

/** A store `sbx ls` and `sbx prune` act on; `whose` names its owner under sudo, else null. */
export interface ListedStore { store: Store; whose: string | null }

/**
 * The stores `sbx ls` and `sbx prune` act on: ours, and under sudo without SBX_HOME first the
 * invoking user's, where `discard`, `commit` and `diff` look too, with the same checks (that
 * user the owner of everything in it, a store on another mount namespace refused). Root's own
 * store (HOME=/root under sudo) holds what `sudo sbx run` saved.
 */
export function listedStores(env: NodeJS.ProcessEnv = process.env): ListedStore[] {
  const own = new Store();
  const sudo = sudoUserStore(env);
  if (!sudo) return [{ store: own, whose: null }];
  const theirs = { store: sudo.store, whose: sudo.user };
  // sudo kept HOME: our store is theirs.
  return own.root === sudo.store.root ? [theirs] : [theirs, { store: own, whose: 'root' }];
}

/** Like resolveAnywhere, for discard: broken entries are found too. */
export function resolveEntryAnywhere(ref: string): { store: Store; entry: StoreEntry } {
  const { store, found } = inOwnOrSudoStore((s) => s.resolveEntry(ref));
  return { store, entry: found };
}

/** Finds a sandbox in our store, or under sudo in the invoking user's; with the store it is in. */
export function resolveAnywhere(ref: string): { store: Store; meta: SandboxMeta } {
  const { store, found } = inOwnOrSudoStore((s) => s.resolve(ref));
  return { store, meta: found };
}

/**
 * Replaces the store file `name` in `dir` with `text` at once: written to `tmp` beside it
 * (fsynced when `sync`), then renamed over it. `tmp` is always a new file, an old one under that
 * name unlinked first: the store's owner may have left there a hard link to a file they may
 * write but do not own, which root would fill and give to them, or a fifo the open would wait
 * on. Root writing in an ordinary user's store (`sudo sbx commit ID`) gives the file to the
 * owner of the directory (never meta.json's word), so the user's `sbx ls`, `diff` and
 * `discard` still see the sandbox.
 */
export function replaceStoreFile(dir: Dir, name: string, tmp: string, text: string, sync: boolean): void {
  try { unlinkSync(dir.at(tmp)); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; }
  const fd = openSync(dir.at(tmp), C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
  try {
    if (process.geteuid?.() === 0) { const st = dir.stat(); if (st.uid !== 0) fchownSync(fd, st.uid, st.gid); }
    writeSync(fd, text);
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(dir.at(tmp), dir.at(name));
}

/** meta.json is small; a bigger one is not sbx's and is not read. */
const META_MAX_BYTES = 1 << 20;
const LAYER_DIR_RE = /^L[0-9]{1,6}$/;
/** statfs's f_type of a tmpfs. */
export const TMPFS_MAGIC = 0x01021994;
const STATES = new Set(['created', 'running', 'saved', 'committing', 'committed']);

/** One directory in the store: its meta, or why it cannot be used (`broken` in `sbx ls`). */
export interface StoreEntry {
  id: string;
  meta: SandboxMeta | null;
  problem: string | null;
  /** A real directory of the store's owner (only its meta.json may be wrong). */
  plainDir: boolean;
}

const isStr = (v: unknown): v is string => typeof v === 'string' && !v.includes('\0');
const isAbs = (v: unknown): v is string => isStr(v) && v.startsWith('/');
const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
/** How far a sandbox's creation time may lie ahead of the clock (the clock set back since). */
const CLOCK_AHEAD_MS = 24 * 3600 * 1000;

/** A run starting now: which boot and which process it is (none where /proc does not say; entry() reads them). */
function stampRunBoot(meta: SandboxMeta): void {
  const { boot, start } = selfStamp();
  if (boot) meta.runBoot = boot; else delete meta.runBoot;
  if (start && meta.runnerPid === process.pid) meta.runnerStart = start; else delete meta.runnerStart;
}

/** Whether the sbx recorded as running a command in it still runs (recordedAlive: the one answer). */
export function runnerAlive(meta: Pick<SandboxMeta, 'runnerPid' | 'runBoot' | 'runnerStart'>): boolean {
  return meta.runnerPid !== undefined && recordedAlive({ pid: meta.runnerPid, boot: meta.runBoot, start: meta.runnerStart });
}

/** A path as the change lists hold it: bytes as latin1 characters, absolute, no NUL. */
const isBytePath = (v: unknown): v is string => isAbs(v) && v.length <= 4096 && !/[^\x01-\xff]/.test(v);
const isMovePair = (v: unknown): boolean => Array.isArray(v) && v.length === 2 && isBytePath(v[0]) && isBytePath(v[1]) && v[0] !== v[1];
/** The moves a sandbox's meta remembers, at most (commit/index.ts keeps the newest). */
export const HELD_MOVES_MAX = 64;
const isPrecopied = (v: unknown): boolean => Array.isArray(v) && v.length === 3 && isAbs(v[0]) && isUint(v[1]) && typeof v[2] === 'number' && Number.isFinite(v[2]);

/** A layer's hostDir record: its device, inode and birth time, as lstat gives them, and with no birth time its filesystem's size (statfs). */
const isHostDir = (v: unknown): boolean => {
  const d = v as Record<string, unknown> | null;
  if (typeof d !== 'object' || d === null) return false;
  const size = 'blocks' in d || 'files' in d;
  return Object.keys(d).length === (size ? 5 : 3) && isUint(d.dev) && isUint(d.ino) && typeof d.birthMs === 'number' && Number.isFinite(d.birthMs)
    && (!size || (d.birthMs === 0 && isUint(d.blocks) && isUint(d.files)));
};

/**
 * The fields sbx turns into host paths, ids or processes are checked here once; what is left
 * (command, times) is only displayed, through the escaping function.
 */
function checkMeta(m: unknown, id: string): string | null {
  if (!m || typeof m !== 'object') return 'meta.json is not an object';
  const x = m as Record<string, unknown>;
  if (x.version !== 1) return 'meta.json has an unknown version';
  if (x.id !== id) return 'meta.json names another sandbox';
  if (x.name !== null && !(isStr(x.name) && NAME_RE.test(x.name) && !ID_RE.test(x.name))) return 'meta.json has an invalid name';
  if (!STATES.has(x.state as string)) return 'meta.json has an unknown state';
  if (x.runnerPid !== undefined && !(isUint(x.runnerPid) && x.runnerPid > 0)) return 'meta.json has an invalid runnerPid';
  if (x.runBoot !== undefined && !(isStr(x.runBoot) && BOOT_ID_RE.test(x.runBoot))) return 'meta.json has an invalid runBoot';
  if (x.runnerStart !== undefined && !(isStr(x.runnerStart) && START_RE.test(x.runnerStart))) return 'meta.json has an invalid runnerStart';
  // createdMs bounds the commit's check for host changes made since: a time later than now
  // (1e999 reads as Infinity) would call every host change older, and turn the check off.
  if (!isUint(x.uid) || !isUint(x.gid) || !isUint(x.createdMs) || x.createdMs > Date.now() + CLOCK_AHEAD_MS) return 'meta.json has invalid ids or times';
  if (!Array.isArray(x.command) || !x.command.every(isStr) || !isStr(x.cwd)) return 'meta.json has an invalid command';
  if (!Array.isArray(x.layers)) return 'meta.json has no layer list';
  const dirs = new Set<string>();
  // A shared fuse daemon's dir is named by each of its trees: its upper is the daemon's view of
  // `/`, and each tree's upper a path in it made of the target. Those must not nest (the walk
  // would list a change twice) nor step anywhere but down.
  const shared = new Map<string, string[]>();
  for (const l of x.layers as unknown[]) {
    const y = l as Record<string, unknown> | null;
    if (!y || !isAbs(y.target) || !isStr(y.dir) || !LAYER_DIR_RE.test(y.dir) || (y.format !== 'kernel' && y.format !== 'fuse')) return 'meta.json has an invalid layer';
    // A tree as sbx names one (no `..`, `//` or trailing `/`): a run in the sandbox may mount the
    // layer there again even when the host has no mount there now (covered-changes.ts).
    if (y.target !== '/' && (posix.normalize(y.target) !== y.target || y.target.endsWith('/'))) return 'meta.json has an invalid layer';
    if (y.skeleton !== undefined && typeof y.skeleton !== 'boolean') return 'meta.json has an invalid layer';
    if (y.shared !== undefined && y.shared !== true) return 'meta.json has an invalid layer';
    // A tree read through a shared read-only daemon: a kernel layer of its own, naming the
    // layer dir that holds the daemon's mount (one whose tree names itself, checked below).
    if (y.fuseLower !== undefined && (!isStr(y.fuseLower) || !LAYER_DIR_RE.test(y.fuseLower) || y.format !== 'kernel' || y.skeleton || y.shared)) return 'meta.json has an invalid layer';
    // Read only by the commit's check that the host dir is still the one the layer was made over (a wrong value refuses that tree's changes, and lets none go elsewhere).
    if (y.hostDir !== undefined && !isHostDir(y.hostDir)) return 'meta.json has an invalid layer';
    // Read only by the review's comparison of this layer's root (a wrong value lists, or hides, a mode change of that root, and commits nothing elsewhere).
    if (y.rootOwnerBits !== undefined && (!isUint(y.rootOwnerBits) || y.rootOwnerBits > 7 || y.shared)) return 'meta.json has an invalid layer';
    if (y.shared) {
      const trees = shared.get(y.dir) ?? [];
      if (dirs.has(y.dir) && !trees.length) return 'meta.json has an invalid layer';
      if (y.format !== 'fuse' || y.skeleton || y.target === '/') return 'meta.json has an invalid layer';
      if (trees.some((t) => isWithin(t, y.target as string) || isWithin(y.target as string, t))) return 'meta.json has an invalid layer';
      trees.push(y.target);
      shared.set(y.dir, trees);
    } else if (dirs.has(y.dir)) {
      return 'meta.json has an invalid layer';
    }
    dirs.add(y.dir);
  }
  const heads = new Set((x.layers as Layer[]).filter((l) => l.fuseLower === l.dir).map((l) => l.dir));
  if ((x.layers as Layer[]).some((l) => l.fuseLower !== undefined && !heads.has(l.fuseLower))) return 'meta.json has an invalid layer';
  for (const k of ['hidden', 'binds'] as const) if (!Array.isArray(x[k]) || !(x[k] as unknown[]).every(isAbs)) return `meta.json has an invalid ${k} list`;
  if (x.bindPoints !== undefined && (!Array.isArray(x.bindPoints) || !(x.bindPoints as unknown[]).every(isAbs))) return 'meta.json has an invalid bindPoints list';
  if (x.secretsSeen !== undefined && typeof x.secretsSeen !== 'boolean') return 'meta.json has an invalid secretsSeen';
  if (x.precopied !== undefined && (!Array.isArray(x.precopied) || !(x.precopied as unknown[]).every(isPrecopied))) return 'meta.json has an invalid precopied list';
  // Read only to hold more deletions back (moves.ts heldMovesAgain): never to delete anything.
  if (x.heldMoves !== undefined && (!Array.isArray(x.heldMoves) || x.heldMoves.length > HELD_MOVES_MAX || !(x.heldMoves as unknown[]).every(isMovePair))) return 'meta.json has an invalid heldMoves list';
  if (!x.options || typeof x.options !== 'object') return 'meta.json has no options';
  if (x.image !== undefined && !checkImageRecord(x.image)) return 'meta.json has an invalid image record';
  if (x.rootfs !== undefined && !isAbs(x.rootfs)) return 'meta.json has an invalid rootfs';
  if (x.image !== undefined && x.rootfs !== undefined) return 'meta.json names both an image and a rootfs';
  const sh = x.idShift as Record<string, unknown> | null | undefined;
  if (sh !== undefined && sh !== null && !(isUint(sh.uid) && isUint(sh.gid) && isUint(sh.count) && extrasOk(sh.extraUids, sh.count as number) && extrasOk(sh.extraGids, sh.count as number))) return 'meta.json has an invalid idShift';
  return null;
}

/** An idShift's extras (idmap.ts): absent, or up to EXTRA_IDS_MAX distinct ids above its range. */
function extrasOk(v: unknown, count: number): boolean {
  return v === undefined || (Array.isArray(v) && v.length <= EXTRA_IDS_MAX && v.every((id) => isUint(id) && id >= count && id < 4294967295) && new Set(v).size === v.length);
}

// Where throwaway runs keep their layers: one of sbx's own dirs (base/paths.ts ownDirs).
export { scratchPath };

/**
 * The scratch dir if it is a real directory of `uid` (checked without following a symlink),
 * made when `create` (root may make the sudo user's); null when it is not (a squatter: another user's dir, a symlink, a file)
 * or /dev/shm is not a tmpfs.
 */
export function safeScratch(uid: number, create: boolean): string | null {
  let shm: Dir;
  try {
    // TMPFS_MAGIC: only a real tmpfs keeps a throwaway run off the disk.
    if (statfsSync('/dev/shm').type !== TMPFS_MAGIC) return null;
    shm = Dir.open('/dev/shm');
  } catch {
    return null;
  }
  const name = `sbx-${uid}`;
  try {
    if (create) {
      let made = true;
      try { mkdirSync(shm.at(name), { mode: 0o700 }); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return null; made = false; }
      // Root making the sudo user's (a bind of /dev/shm would show the one their next run
      // makes, uncovered): root's until chowned, in a sticky dir, so nobody can swap it first.
      if (made && uid !== process.getuid?.()) {
        const d = Dir.openBeneath(shm, name);
        try { chownSync(d.self(), uid, -1); } finally { d.close(); }
      }
    }
    const st = shm.lstat(name);
    if (!st || !st.isDirectory() || st.uid !== uid) return null;
    if ((st.mode & 0o777) !== 0o700) {
      // Ours but too open (made by hand, or by an older sbx): only we may list other runs' layers.
      const d = Dir.openBeneath(shm, name);
      try { if (d.stat().uid !== uid) return null; chmodSync(d.self(), 0o700); } finally { d.close(); }
    }
    return scratchPath(uid);
  } catch {
    return null;
  } finally {
    shm.close();
  }
}

/**
 * The file in each scratch tree that says whose it is: the store it belongs to (its path, and
 * the device and inode of its root) and the sbx that runs in it (pid, boot id, start time).
 * The store's own sweep goes by the store's entries; a tree whose store is gone (a removed
 * SBX_HOME, a deleted ~/.local/state/sbx, a removal killed after its claim) is found by this
 * alone, by any sbx of the same uid (Store.sweepOrphans).
 */
const SCRATCH_MARK = 'store';
/** A scratch tree being made (`.new-<id>.<pid>`): renamed to its id once its mark is written. */
const NEW_SCRATCH_RE = /^\.new-[0-9a-f]{8}\.(\d+)$/;
const SCRATCH_MARK_MAX_BYTES = 8192;

interface ScratchMark { store: string; dev: number; ino: number; pid: number; boot?: string; start?: string }

function checkScratchMark(m: unknown): ScratchMark | null {
  if (!m || typeof m !== 'object') return null;
  const x = m as Record<string, unknown>;
  if (!isAbs(x.store) || !isUint(x.dev) || !isUint(x.ino) || !isUint(x.pid) || x.pid === 0) return null;
  if (x.boot !== undefined && !(isStr(x.boot) && BOOT_ID_RE.test(x.boot))) return null;
  if (x.start !== undefined && !(isStr(x.start) && START_RE.test(x.start))) return null;
  return x as unknown as ScratchMark;
}

/**
 * Whether the store a mark names still has an entry for `id` (or cannot be looked at): then
 * that store's own sweep, prune or discard removes the tree. A store at that path with
 * another device or inode is another store (removed and made again), which never has it.
 */
function storeHolds(mark: ScratchMark, id: string): boolean {
  try {
    const st = lstatSync(mark.store, { throwIfNoEntry: false });
    if (!st || !st.isDirectory() || st.dev !== mark.dev || st.ino !== mark.ino) return false;
    return lstatSync(join(mark.store, id), { throwIfNoEntry: false }) !== undefined;
  } catch (e) {
    // A path through a file is no store; one we may not look at (EACCES) is left alone.
    return (e as NodeJS.ErrnoException).code !== 'ENOTDIR';
  }
}

/** All of the small regular file `fd` (`size` bytes as fstat said), from its start. */
export function readWhole(fd: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  let off = 0;
  for (let n; off < buf.length && (n = readSync(fd, buf, off, buf.length - off, off)) > 0;) off += n;
  return buf.subarray(0, off);
}

/** The mark of scratch tree `id`, when the tree and the mark are `owner`'s, no symlink followed; else null. */
function readScratchMark(scratch: Dir, id: string, owner: number): ScratchMark | null {
  let t: Dir;
  try { t = Dir.openBeneath(scratch, id); } catch { return null; }
  let fd = -1;
  try {
    if (t.stat().uid !== owner) return null;
    fd = t.openFile(SCRATCH_MARK);
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== owner || st.size > SCRATCH_MARK_MAX_BYTES) return null;
    return checkScratchMark(JSON.parse(readWhole(fd, st.size).toString('utf8')));
  } catch {
    return null;
  } finally {
    if (fd >= 0) closeSync(fd);
    t.close();
  }
}

/**
 * Whose store this is: ours, except that root may act on a user's store named with SBX_HOME
 * (`sudo SBX_HOME=… sbx commit ID`, the hint a denied commit prints): then its entries must
 * belong to the store directory's owner, as they would under plain sudo.
 */
function defaultOwner(root: string): number {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) return uid;
  let st;
  // ENOTDIR: a parent is a file (SBX_HOME=/etc/passwd/x); the store's own checks then say so.
  try { st = lstatSync(root, { throwIfNoEntry: false }); } catch { return uid; }
  return st && st.isDirectory() ? st.uid : uid;
}

/** What to do about a store this user cannot use. */
const STORE_HINT = 'give SBX_HOME a directory of your own, or unset it for the default store';

/**
 * Whether the mount `fd` is on belongs to this process's mount namespace. The fd pins its
 * mount, so the id fdinfo gives cannot be reused meanwhile: found in our mountinfo, it is that
 * mount.
 */
function onOwnMount(fd: number): boolean {
  let info: string;
  let mounts: string;
  try {
    info = readProcText(`/proc/self/fdinfo/${fd}`);
    mounts = readProcText('/proc/self/mountinfo');
  } catch {
    return false;
  }
  const id = /^mnt_id:\s*(\d+)$/m.exec(info)?.[1];
  return id !== undefined && (mounts.startsWith(`${id} `) || mounts.includes(`\n${id} `));
}

/** Why a directory of the store could not be opened, as the end of a sentence. */
function whyNot(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'is gone' : code === 'ENOTBENEATH' ? 'is a symlink or not a directory' : `cannot be opened (${code ?? (e as Error).message})`;
}

export class Store {
  readonly root: string;
  /** The uid that owns this store and everything in it (the invoking user's under sudo). */
  readonly owner: number;
  constructor(root = storeRoot(), owner = defaultOwner(root)) {
    this.root = root;
    this.owner = owner;
  }

  dirOf(id: string): string {
    return join(this.root, id);
  }

  /**
   * Where a sandbox's layers are, derived from its id: the scratch dir for a throwaway run
   * that got one, else its store dir. meta.layersDir only says which of the two was chosen.
   */
  layersDirOf(meta: Pick<SandboxMeta, 'id' | 'throwaway' | 'layersDir'>): string {
    const scratch = join(scratchPath(this.owner), meta.id);
    return meta.throwaway && meta.layersDir === scratch ? scratch : this.dirOf(meta.id);
  }

  /**
   * Opens the directory holding a sandbox's layer dirs, from fds only: the store root (or
   * /dev/shm, then the owner's scratch dir in it), then the id's dir, each opened without
   * following a symlink and checked to be the owner's on the open fd. Every host-side read of
   * the layers starts from what this returns (fsat.ts trustRoot, the helper's fd 3), never
   * from the path: a process of the owner may swap any directory on it meanwhile.
   */
  openLayers(meta: Pick<SandboxMeta, 'id' | 'throwaway' | 'layersDir'>): Dir {
    if (!ID_RE.test(meta.id)) throw new SbxError(`'${meta.id}' is not a sandbox id`);
    const dir = this.layersDirOf(meta);
    const inScratch = dir !== this.dirOf(meta.id);
    const refused = (path: string, e: unknown): SbxError => new SbxError(`the layers of sandbox ${meta.id} cannot be opened: ${path} ${whyNot(e)}`, 125);
    const open = (at: Dir, name: string, path: string): Dir => {
      let d: Dir;
      try { d = Dir.openBeneath(at, name); } catch (e) { throw refused(path, e); }
      return this.owned(d, path);
    };
    let top: Dir;
    try { top = inScratch ? this.openScratchDir() : this.openRoot(); } catch (e) {
      if (e instanceof SbxError) throw e;
      throw refused(inScratch ? scratchPath(this.owner) : this.root, e);
    }
    try { return open(top, meta.id, dir); } finally { top.close(); }
  }

  /** Every read of `meta`'s layers opens them through this store (layers-opener.ts). */
  private registerOpener(meta: SandboxMeta): void {
    setLayersOpener(meta, { layersDir: () => this.layersDirOf(meta), open: () => this.openLayers(meta), sbx: () => sbxFor(this) });
  }

  /** `d` if the store's owner owns it (checked on the fd), else closed and refused. */
  private owned(d: Dir, path: string): Dir {
    const st = d.stat();
    if (st.uid !== this.owner) { d.close(); throw new SbxError(`${path} is owned by uid ${st.uid}, not ${this.owner}: refusing to use it`, 125); }
    return d;
  }

  /**
   * A sandbox's entry, opened from the store root fd without following a symlink in it, and
   * owned by the store's owner: what it holds (the commit journal) is reached only through it.
   */
  openEntry(id: string, name = id): Dir {
    if (!ID_RE.test(id) || (name !== id && name !== claimName(id))) throw new SbxError(`'${id}' is not a sandbox id`);
    const root = this.openRoot();
    try {
      let d: Dir;
      try { d = Dir.openBeneath(root, name); } catch (e) {
        throw new SbxError(`${this.dirOf(id)} cannot be opened (${(e as NodeJS.ErrnoException).code ?? 'a symlink or not a directory'})`, 125, `'${sbxFor(this)} discard ${id}' removes it`);
      }
      const st = d.stat();
      if (st.uid !== this.owner) { d.close(); throw new SbxError(`${this.dirOf(id)} is owned by uid ${st.uid}, not ${this.owner}: refusing to use it`, 125); }
      return d;
    } finally {
      root.close();
    }
  }

  /**
   * The store's image cache (`images/`), from the store root fd (its owner and mount namespace
   * checked there), no symlink followed, the owner's on the fd: every host-side read of the
   * cache starts here (image/cache.ts, the merged tree of lowerRootFromCache), never at its path.
   */
  openImages(create = false): Dir {
    const root = this.openRoot();
    try {
      let d: Dir;
      try { d = Dir.openBeneath(root, IMAGES_DIR, { create }); } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw e;
        throw new SbxError(`the image cache ${join(this.root, IMAGES_DIR)} ${whyNot(e)}: refusing to use it`, 125);
      }
      return this.owned(d, join(this.root, IMAGES_DIR));
    } finally {
      root.close();
    }
  }

  private openRoot(): Dir {
    const d = Dir.open(this.root);
    const st = d.stat();
    if (st.uid !== this.owner) {
      d.close();
      throw new SbxError(`the store ${display(fromUser(this.root))} is owned by uid ${st.uid}, not by uid ${this.owner}: refusing to use it`, 125,
        // Under sudo, the invoking user's store: SBX_HOME is not what is wrong there.
        this.owner === process.geteuid?.() ? STORE_HINT : undefined);
    }
    // Root on a user's store (sudo): the path is the user's to point anywhere, through
    // /proc/<pid>/root too, into a mount namespace of theirs, where they may bind any directory
    // of the host (a root-only one included) into the store: a removal walking down from this
    // fd would empty it. Every mount of our own namespace is one root (or the admin) made.
    if (this.owner !== process.geteuid?.() && !onOwnMount(d.fd)) {
      d.close();
      throw new SbxError(`the store ${this.root} is on a mount of another mount namespace (reached through /proc?): refusing to use it`, 125);
    }
    return d;
  }

  /**
   * Whether a sandbox can be made here (create's checks, made ahead): a run says nothing of
   * its limits or view before a store it cannot use is refused.
   */
  checkUsable(): void {
    ensurePrivateDir(this.root, STORE_HINT);
    this.openRoot().close();
  }

  /** Creates an empty sandbox directory with a fresh id. */
  create(name: string | null): { id: string; dir: string } {
    ensurePrivateDir(this.root, STORE_HINT);
    if (name !== null) {
      validateName(name);
      if (this.list().some((m) => m.name === name)) {
        throw new SbxError(`a sandbox named '${name}' already exists`, 125, `pick another --name, or '${sbxFor(this)} discard ${name}'`);
      }
    }
    const root = this.openRoot();
    try {
      for (;;) {
        const id = randomHex(4);
        const dir = this.dirOf(id);
        try {
          mkdirSync(root.at(id), { mode: 0o700 });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
          throw new SbxError(`cannot create ${dir}: ${(e as Error).message}`);
        }
        return { id, dir };
      }
    } finally {
      root.close();
    }
  }

  /**
   * Makes the scratch tree of a throwaway run of this process, `<id>` in `shm` (safeScratch's
   * dir), with its mark (SCRATCH_MARK) in it. Made as `.new-<id>.<pid>` and renamed once
   * marked, so every tree under an id says whose it is; one a killed sbx left half made goes
   * by its dead pid (sweepOrphans).
   */
  makeScratch(shm: string, meta: SandboxMeta): void {
    const d = Dir.open(shm);
    try {
      const tmp = `.new-${meta.id}.${process.pid}`;
      mkdirSync(d.at(tmp), { mode: 0o700 });
      const root = lstatSync(this.root);
      const mark: ScratchMark = {
        store: this.root, dev: root.dev, ino: root.ino, pid: meta.runnerPid ?? process.pid,
        ...(meta.runBoot ? { boot: meta.runBoot } : {}), ...(meta.runnerStart ? { start: meta.runnerStart } : {}),
      };
      // Through the dir just made, opened without following a symlink, never by its path: the
      // scratch dir is 0700 and covered wherever a sandbox's view or --bind shows it (ownDirs),
      // but until 2026-12-04 a sandbox of the user given --bind /dev/shm could write in it, and
      // swap the new dir for a symlink between the mkdir and the open.
      const made = Dir.openBeneath(d, tmp);
      try {
        const fd = openSync(made.at(SCRATCH_MARK), C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
        try { writeSync(fd, JSON.stringify(mark) + '\n'); } finally { closeSync(fd); }
      } finally { made.close(); }
      renameSync(d.at(tmp), d.at(meta.id));
    } finally {
      d.close();
    }
  }

  /**
   * Atomically replaces meta.json (write beside, fsync, rename), in the entry opened without
   * following a symlink. A throwaway sandbox's is not fsynced: nothing of it outlives the run,
   * and a meta.json lost in a crash leaves an entry the next run's sweep removes.
   */
  writeMeta(meta: SandboxMeta): void {
    this.registerOpener(meta);
    const root = this.openRoot();
    let dir: Dir | null = null;
    try {
      dir = Dir.openBeneath(root, meta.id);
      replaceStoreFile(dir, 'meta.json', `.meta.json.${process.pid}`, JSON.stringify(meta, null, 2) + '\n', !meta.throwaway);
    } finally {
      dir?.close();
      root.close();
    }
  }

  // meta.state changes only through these methods, each written at once (fsynced unless throwaway): the
  // states are running -> saved (-> running -> saved ... | committing -> committed | saved).

  /**
   * A new sandbox's meta.json, already `running` (fields.runnerPid is the process setting it
   * up). `created` is only read: meta.json files written by an older sbx.
   */
  markCreated(fields: Omit<SandboxMeta, 'state'>): SandboxMeta {
    const meta: SandboxMeta = { ...fields, state: 'running' };
    stampRunBoot(meta);
    this.writeMeta(meta);
    return meta;
  }

  /** The command is about to start, in a run of this process. */
  markRunning(meta: SandboxMeta): void {
    meta.state = 'running';
    meta.runnerPid = process.pid;
    stampRunBoot(meta);
    this.writeMeta(meta);
  }

  /** The run ended (or a commit left changes): reviewable, committable, discardable. */
  /**
   * `write` false: saved in memory only, for an entry the caller removes next (a quiet
   * discard); on disk it stays `running` with this pid, swept as abandoned if sbx dies first.
   */
  markSaved(meta: SandboxMeta, write = true): void {
    meta.state = 'saved';
    delete meta.runBoot;
    if (write) this.writeMeta(meta);
  }

  /** A commit's journal is about to be written: the next sbx commit finishes it. */
  markCommitting(meta: SandboxMeta): void {
    meta.state = 'committing';
    this.writeMeta(meta);
  }

  /** Every change reached the host; the entry is removed next. */
  markCommitted(meta: SandboxMeta): void {
    meta.state = 'committed';
    this.writeMeta(meta);
  }

  /** One store entry, checked: a plain directory of the owner, holding a regular meta.json of the owner. */
  entry(id: string, name = id): StoreEntry | null {
    let root: Dir;
    try { root = this.openRoot(); } catch { return null; }
    try {
      const st = root.lstat(name);
      if (!st) return null;
      const broken = (problem: string, plainDir = true): StoreEntry => ({ id, meta: null, problem, plainDir });
      if (!st.isDirectory()) return broken(st.isSymbolicLink() ? 'a symlink, not a directory' : 'not a directory', false);
      if (st.uid !== this.owner) return broken(`owned by uid ${st.uid}, not ${this.owner}`, false);
      let dir: Dir;
      try { dir = Dir.openBeneath(root, name); } catch { return broken('cannot be opened', false); }
      let fd = -1;
      try {
        try { fd = dir.openFile('meta.json'); } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          return broken(code === 'ENOENT' ? 'no meta.json (a run that failed early?)' : code === 'ELOOP' ? 'meta.json is a symlink' : `meta.json cannot be read (${code})`);
        }
        const ms = fstatSync(fd);
        if (!ms.isFile()) return broken('meta.json is not a regular file');
        if (ms.uid !== this.owner) return broken(`meta.json is owned by uid ${ms.uid}, not ${this.owner}`);
        if (ms.size > META_MAX_BYTES) return broken('meta.json is too big');
        let parsed: unknown;
        try { parsed = JSON.parse(readWhole(fd, ms.size).toString('utf8')); } catch { return broken('meta.json is not valid JSON'); }
        const problem = checkMeta(parsed, id);
        if (problem) return broken(problem);
        const meta = parsed as SandboxMeta;
        // Root's commit of another owner's sandbox maps the layers' owners by these fields, and
        // that owner writes meta.json: a made-up idShift turned the ids of their files into any
        // uid (root's, another user's), and a uid other than theirs switched the mapping of
        // their own ids off. Only root's remapped sandboxes have an idShift (sandbox.ts), and
        // root's store is root's alone; a sandbox of another store ran as its owner.
        if (this.owner !== 0 && meta.idShift) return broken('meta.json has an idShift, which only root\'s sandboxes have');
        if (this.owner !== 0 && meta.uid !== this.owner) return broken(`meta.json names uid ${meta.uid}, not the store's owner ${this.owner}`);
        meta.layersDir = this.layersDirOf(meta);
        this.registerOpener(meta);
        // Derived like layersDir: the file's own value, if any, is never used. An image's
        // merged tree is opened from the store root fd when first asked for (record.ts).
        if (meta.image) lowerRootFromCache(meta, meta.image, () => this.openImages(), `${this.owner}:${this.root}`);
        else meta.lowerRoot = meta.rootfs;
        delete meta.interrupted;
        if (meta.state === 'running' && meta.runnerPid !== process.pid) {
          const boot = bootId();
          // The machine stopped mid-run: its runner is gone whatever that pid is now, and the
          // layers (mounted volatile) may miss writes sbx had not synced yet.
          if (meta.runBoot && boot && meta.runBoot !== boot) { meta.state = 'saved'; meta.interrupted = true; }
          // The sbx that ran it was killed: its sandbox died with it (parent-death signals), so
          // what is left is a saved sandbox, not a running one, with every write in the page cache.
          // A live pid that started at another time is not it either: pids are reused.
          else if (meta.runnerPid !== undefined && !runnerAlive(meta)) meta.state = 'saved';
        }
        return { id, meta, problem: null, plainDir: true };
      } finally {
        if (fd >= 0) closeSync(fd);
        dir.close();
      }
    } finally {
      root.close();
    }
  }

  readMeta(id: string): SandboxMeta | null {
    return this.entry(id)?.meta ?? null;
  }

  /** Every entry with a sandbox id for a name, oldest first, broken ones last. */
  entries(): StoreEntry[] {
    let names: string[];
    try {
      const root = this.openRoot();
      try { names = root.list().map((e) => e.name); } finally { root.close(); }
    } catch (e) {
      // No store yet is no sandbox; a store refused (not the owner's, a symlink, another mount
      // namespace's) is said, never listed or pruned as if empty.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      if (e instanceof SbxError) throw e;
      throw new SbxError(`the store ${this.root} ${whyNot(e)}: refusing to use it`, 125);
    }
    const out: StoreEntry[] = [];
    for (const n of names) {
      if (!ID_RE.test(n)) continue;
      const e = this.entry(n);
      if (e) out.push(e);
    }
    return out.sort((a, b) => (a.meta?.createdMs ?? Infinity) - (b.meta?.createdMs ?? Infinity) || (a.id < b.id ? -1 : 1));
  }

  /** All sandboxes with a valid meta.json, oldest first. */
  list(): SandboxMeta[] {
    return this.entries().flatMap((e) => (e.meta ? [e.meta] : []));
  }

  /** Resolves an id, a unique id prefix, or a name; a broken entry is refused with why. */
  resolve(ref: string): SandboxMeta {
    const e = this.resolveEntry(ref);
    if (!e.meta) throw new SbxError(`sandbox ${e.id} in ${this.root} is broken: ${e.problem}`, 125, `'${sbxFor(this)} discard ${e.id}' removes it`);
    return e.meta;
  }

  /** Like resolve, but a broken entry is returned (for discard). */
  resolveEntry(ref: string): StoreEntry {
    const all = this.entries();
    const exact = all.find((e) => e.id === ref || (e.meta && e.meta.name === ref));
    if (exact) return exact;
    const prefixed = ref.length >= 3 ? all.filter((e) => e.id.startsWith(ref)) : [];
    if (prefixed.length === 1) return prefixed[0]!;
    if (prefixed.length > 1) throw new SbxError(`'${ref}' matches more than one sandbox`, 125, 'give more of the id');
    throw new UnknownSandboxError(ref, sbxFor(this));
  }

  /**
   * /dev/shm/sbx-<owner>, opened from /dev/shm without following a symlink and checked on the
   * fd to be the owner's: the one start of every removal in it, never the path walked again
   * (the owner may swap it meanwhile, or leave its name to another user's directory). Null
   * when there is none, or not one safeScratch accepts.
   */
  private openScratch(): Dir | null {
    if (!safeScratch(this.owner, false)) return null;
    try { return this.openScratchDir(); } catch { return null; }
  }

  /** /dev/shm/sbx-<owner> from /dev/shm, no symlink followed, the owner's on the fd; else throws why not. */
  private openScratchDir(): Dir {
    const shm = Dir.open('/dev/shm');
    try { return this.owned(Dir.openBeneath(shm, `sbx-${this.owner}`), scratchPath(this.owner)); } finally { shm.close(); }
  }

  /** Removes a throwaway run's scratch tree of `id` (see removeTree for `dirs`, `files` and `layers`). */
  private removeScratch(id: string, dirs: string[] = [], files: string[] = [], layers: readonly string[] = []): void {
    const d = this.openScratch();
    if (!d) return;
    try { removeTreeIn(d, id, join(scratchPath(this.owner), id), dirs, files, layers); } finally { d.close(); }
  }

  /**
   * Hands a throwaway run's scratch tree to a detached remover (commit/remover.ts, fd 3 the
   * scratch dir), as handToRemover does. A review of thousands of new files waited ~10 us a
   * file for sbx's unlinks. A remover that dies, or cannot finish (an ordinary user's could
   * not enter its mapped-root namespace), leaves its claim to the next run's sweep
   * (sweepOrphansIn, with removeTreeIn's mapped-root fallback).
   */
  private removeScratchInBackground(id: string, launch: TreeRemover): void {
    const d = this.openScratch();
    if (!d) return;
    try {
      const unclaimed = d.list().map((e) => e.name).filter((n) => { const m = REMOVING_RE.exec(n); return m !== null && m[1] === undefined; });
      this.handToRemover(d, scratchPath(this.owner), id, id, unclaimed, launch);
    } finally {
      d.close();
    }
  }

  /**
   * Renames `from` in `d` (the scratch dir, or the store root: `dirPath` names it) to
   * `.removing-<id>`, which no sweep takes for a run's, and starts a detached remover for it and
   * for `unclaimed` (trees of earlier removers that never started); the remover claims each as
   * `.removing-<id>.<pid>` first. What cannot be handed on is removed here. False, and nothing
   * done, when the rename fails (`from` is gone, or an earlier tree holds the name).
   */
  private handToRemover(d: Dir, dirPath: string, from: string, id: string, unclaimed: string[], launch: TreeRemover): boolean {
    const gone = `.removing-${id}`;
    try { renameSync(d.at(from), d.at(gone)); } catch { return false; }
    launchOrRemove(d, dirPath, [gone, ...unclaimed.filter((n) => n !== gone)], launch);
    return true;
  }

  /**
   * Whether sandbox `id`'s entry holds at least `n` files and dirs (counted only until `n`,
   * nothing followed): `sbx discard` hands a tree that big to a detached remover.
   */
  holdsAtLeast(id: string, n: number): boolean {
    if (!ID_RE.test(id)) return false;
    try {
      const root = this.openRoot();
      try { return holdsAtLeast(root, id, n); } finally { root.close(); }
    } catch {
      return false;
    }
  }

  /** Whether a throwaway run left a scratch tree for this id. */
  private hasScratch(id: string): boolean {
    const d = this.openScratch();
    if (!d) return false;
    try { return d.lstat(id)?.isDirectory() ?? false; } catch { return false; } finally { d.close(); }
  }

  /**
   * The ids the sweep reads, without opening any meta.json. Only a throwaway run can be
   * abandoned, and whenever this machine has a scratch tree one keeps its layers there: its
   * store entry holds meta.json alone. So while there is one, an entry with subdirectories
   * (layers) is a saved sandbox and is skipped: every run used to read every saved sandbox's
   * meta.json (~0.6 ms each here). A directory's link count is 2 plus its subdirectories on
   * ext4, xfs and tmpfs; btrfs says 1, so there nothing is skipped. A throwaway run of a time
   * without a scratch tree (its layers in the store) is then left for `sbx discard`.
   */
  private maybeAbandoned(layered: boolean): { all: string[]; maybe: string[]; claims: string[] } {
    try {
      const root = this.openRoot();
      try {
        const names = root.list().map((e) => e.name);
        const all = names.filter((n) => ID_RE.test(n));
        return { all, maybe: all.filter((n) => !(layered && (root.lstat(n)?.nlink ?? 0) > 2)), claims: names.filter((n) => REMOVING_RE.exec(n)?.[1] !== undefined) };
      } finally {
        root.close();
      }
    } catch {
      return { all: [], maybe: [], claims: [] };
    }
  }

  /**
   * Removes throwaway (`run -n`) sandboxes whose sbx was killed before it could: their layers
   * sit on tmpfs, in memory, and nobody will ever ask for them. A broken entry goes too when
   * a scratch tree says it was a throwaway run: meta.json is written before that tree is made.
   * `own`: the caller's running sandbox, never read (its meta.json and check cost a run ~1.5
   * ms of CPU, --cpu-prof).
   */
  sweepAbandoned(own?: string): void {
    const scratch = this.openScratch();
    try {
      const { all, maybe, claims } = this.maybeAbandoned(scratch !== null);
      // What a detached remover left in the store (it died, or could not finish; removeTreeIn
      // has the mapped-root fallback): gone by the next run.
      if (claims.length) this.sweepStoreClaims(claims);
      for (const id of maybe) {
        if (id === own) continue;
        const e = this.entry(id);
        if (!e) continue;
        const m = e.meta;
        if (m) {
          if (!m.throwaway || m.runnerPid === process.pid || (!m.interrupted && (m.runnerPid === undefined || runnerAlive(m)))) continue;
        } else if (!e.plainDir || !this.hasScratch(e.id)) {
          continue;
        }
        try { this.removeId(e.id); } catch { /* left for 'sbx discard' */ }
      }
      // Each run lists the scratch dir once; only a name that is no entry of this store costs more.
      if (scratch) this.sweepOrphansIn(scratch, new Set(all));
    } finally {
      scratch?.close();
    }
  }

  /** sweepOrphansIn for `sbx prune`: how many trees went. */
  sweepOrphans(): number {
    const scratch = this.openScratch();
    if (!scratch) return 0;
    try { return this.sweepOrphansIn(scratch, new Set(this.maybeAbandoned(false).all)); } finally { scratch.close(); }
  }

  /**
   * Removes the scratch trees no store will remove: a tree whose mark says its sbx is gone
   * (pid, boot and start time: recordedAlive) and whose store is gone or no longer has its
   * entry; a tree left half made (`.new-<id>.<pid>`, that pid gone); and a tree whose
   * detached remover died (`.removing-<id>.<pid>`, removeScratchInBackground; one no remover
   * claimed is prune's, sweepScratchClaims). A tree of a live run is never taken,
   * whatever became of its store: that sbx removes it (or, its store gone, the next sweep
   * after it ended). `ours`: this store's entries, which its own sweep handles. Only in our
   * own uid's scratch dir (root acting on a user's store leaves theirs). A tree without a
   * mark (an older sbx's) is left alone.
   */
  private sweepOrphansIn(scratch: Dir, ours: Set<string>): number {
    if (this.owner !== process.geteuid?.()) return 0;
    let removed = 0;
    for (const { name } of scratch.list()) {
      if (ours.has(name)) continue;
      const made = NEW_SCRATCH_RE.exec(name) ?? REMOVING_RE.exec(name);
      if (made && made[1] === undefined) {
        // Handed to a remover that has not claimed it yet (it may be starting): prune takes it (sweepScratchClaims).
        continue;
      } else if (made) {
        const pid = Number(made[1]);
        if (pid === process.pid || pidRunning(pid)) continue;
      } else if (!ID_RE.test(name) || !this.orphaned(scratch, name)) {
        continue;
      }
      try { removeTreeIn(scratch, name, join(scratchPath(this.owner), name)); removed++; } catch { /* tried again next time */ }
    }
    return removed;
  }

  /** Whether scratch tree `id` is marked as this owner's, its sbx gone and its store without it. */
  private orphaned(scratch: Dir, id: string): boolean {
    const mark = readScratchMark(scratch, id, this.owner);
    return mark !== null && mark.pid !== process.pid && !recordedAlive(mark) && !storeHolds(mark, id);
  }

  /**
   * Removes a sandbox's layers and directory. `remover`: its trees go to a detached remover
   * instead of being unlinked while sbx waits (removeId).
   */
  remove(meta: SandboxMeta, remover?: TreeRemover): void {
    this.removeId(meta.id, undefined, layerDirs(meta.layers), remover);
  }

  /**
   * Removes a sandbox without waiting for its files to go: its entry is renamed to
   * `.removing-<id>` (gone from every listing at once) and `launch` starts a detached remover
   * for it (commit/remover.ts: `sbx-helper rmtree`, which claims each tree first as
   * `.removing-<id>.<pid>`). A commit of 10k files spent longer unlinking its layers than
   * writing them (this VM's disk is mounted with `discard`). Trees a remover left behind (it
   * died, or could not finish) are removed here, in the foreground, the next time; trees no remover has claimed yet go to the new
   * one. Whatever cannot be handed on is removed in the foreground.
   */
  removeInBackground(meta: SandboxMeta, launch: TreeRemover): void {
    const id = meta.id;
    if (!ID_RE.test(id)) throw new SbxError(`'${id}' is not a sandbox id`);
    this.removeScratch(id);
    let root: Dir;
    try { root = this.openRoot(); } catch { this.removeId(id); return; }
    try {
      const { unclaimed } = this.sweepIn(root);
      if (!this.handToRemover(root, this.root, id, id, unclaimed, launch)) {
        this.removeId(id);
        if (unclaimed.length) launchOrRemove(root, this.root, unclaimed, launch);
      }
    } finally {
      root.close();
    }
  }

  /**
   * Removes the trees whose remover died (`.removing-<id>.<pid>`, the pid gone or a zombie: a
   * killed prune, discard or background remover), in the store and in the scratch dir (there
   * also those no remover claimed: sweepScratchClaims); how many went.
   */
  sweepDeadClaims(): number {
    let removed = this.sweepScratchClaims();
    let root: Dir;
    try { root = this.openRoot(); } catch { return removed; }
    try { removed += this.sweepIn(root).removed; } finally { root.close(); }
    return removed;
  }

  /**
   * The scratch trees handed to a detached remover (removeScratchInBackground) that are still
   * there: claimed by one that died, or never claimed (its remover did not start, or is
   * starting: a prune asked for it). How many went.
   */
  private sweepScratchClaims(): number {
    if (this.owner !== process.geteuid?.()) return 0;
    const scratch = this.openScratch();
    if (!scratch) return 0;
    try {
      const path = scratchPath(this.owner);
      const swept = this.sweepIn(scratch, path);
      let removed = swept.removed;
      for (const name of swept.unclaimed) try { removeTreeIn(scratch, name, join(path, name)); removed++; } catch { /* tried again next time */ }
      return removed;
    } finally {
      scratch.close();
    }
  }

  /** sweepIn of the store root for these names, read already. */
  private sweepStoreClaims(names: string[]): void {
    try {
      const root = this.openRoot();
      try { this.sweepIn(root, this.root, names); } finally { root.close(); }
    } catch { /* tried again next time */ }
  }

  /**
   * sweepDeadClaims in `root` (the open store root, or the scratch dir at `rootPath`), among
   * `names` (all it holds unless given); also the unclaimed trees (`.removing-<id>`, waiting
   * for a remover).
   */
  private sweepIn(root: Dir, rootPath = this.root, names = root.list().map((e) => e.name)): { removed: number; unclaimed: string[] } {
    const unclaimed: string[] = [];
    let removed = 0;
    for (const name of names) {
      const m = REMOVING_RE.exec(name);
      if (!m) continue;
      if (m[1] === undefined) { unclaimed.push(name); continue; }
      const pid = Number(m[1]);
      if (pid === process.pid || pidRunning(pid)) continue;
      try { removeTreeIn(root, name, join(rootPath, name)); removed++; } catch { /* tried again next time */ }
    }
    return { removed, unclaimed };
  }

  /** Trees of removed sandboxes still being deleted in the background (or left by a remover). */
  removing(): string[] {
    try {
      const root = this.openRoot();
      try { return root.list().map((e) => e.name).filter((n) => REMOVING_RE.test(n)); } finally { root.close(); }
    } catch {
      return [];
    }
  }

  /**
   * Removes what belongs to an id, at the locations derived from it: its store entry is
   * claimed first (renamed to `.removing-<id>.<pid>`, a rename only one remover can win, so
   * two prunes, or a prune and a discard, never trip over each other's unlinks), then its
   * scratch tree goes, then the claimed entry. Nothing is followed. `live` is asked about the
   * entry as read after the claim: a run or commit that began after the caller's own check
   * has written so by then (or finds its entry gone and stops), and true puts the entry back.
   * 'gone': another sbx removed it meanwhile. A claim whose remover died is removed by the
   * next prune or commit (sweepDeadClaims). `layers`: the layer dirs its meta.json names, which
   * a throwaway run leaves in its scratch tree each holding an empty upper (removeKnown).
   * `remover`: the scratch tree, and the entry when it holds layers, go to a detached remover
   * (handToRemover) once the claim and `live` said they may: sbx returns without waiting for
   * the unlinks (a saved sandbox of 50,000 new files took `sbx discard` 0.7 s here).
   */
  removeId(id: string, live?: (e: StoreEntry, name: string) => boolean, layers: readonly string[] = [], remover?: TreeRemover): 'removed' | 'gone' | 'live' {
    if (!ID_RE.test(id)) throw new SbxError(`'${id}' is not a sandbox id`);
    // From the store root fd, checked to be the owner's: never the store path walked again.
    let root: Dir;
    try { root = this.openRoot(); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      throw e;
    }
    try {
      const claimed = claimName(id);
      let name = claimed;
      try { renameSync(root.at(id), root.at(claimed)); } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone'; // another sbx has it
        name = id; // removed where it is
      }
      const e = live ? this.entry(id, name) : null;
      if (e && live!(e, name)) {
        if (name === claimed) renameSync(root.at(claimed), root.at(id));
        return 'live';
      }
      // What a run normally leaves in the scratch tree: its stage dir and its mark (the helper removed the rest).
      if (remover) this.removeScratchInBackground(id, remover);
      else this.removeScratch(id, ['root'], [SCRATCH_MARK], layers);
      // A throwaway run's entry holds meta.json alone (no subdirectory: link count 2), removed
      // here; one with layers goes to the remover, after the trees dead removers left (sweepIn,
      // which never takes this sbx's own claim), as a commit's does.
      const holdsLayers = (root.lstat(name)?.nlink ?? 2) !== 2;
      if (!remover || !holdsLayers || !this.handToRemover(root, this.root, name, id, this.sweepIn(root).unclaimed, remover)) {
        removeTreeIn(root, name, join(this.root, name), [], ['meta.json']);
      }
      return 'removed';
    } finally {
      root.close();
    }
  }
}

/**
 * rm -rf of `path` (its parent is trusted) without following a symlink at any depth; overlayfs
 * work dirs (mode 000) are opened up first. Files of our subordinate uids are left to mapped root.
 * `dirs` (empty directories) and `files`: what the tree most likely holds, removed by name
 * first (rmdir and unlink act on the name, never on a symlink's target): when that was all,
 * the tree is gone without listing a directory (~25 syscalls fewer for a run's entry).
 */
export function removeTree(path: string, dirs: string[] = [], files: string[] = []): void {
  let parent: Dir;
  try { parent = Dir.open(dirname(path)); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try { removeTreeIn(parent, basename(path), path, dirs, files); } finally { parent.close(); }
}

/** Starts a detached remover of `names` in `d` (`dirPath` names it); if it cannot start, removes them here. */
function launchOrRemove(d: Dir, dirPath: string, names: string[], launch: TreeRemover): void {
  try {
    launch(d.fd, names);
  } catch {
    for (const n of names) try { removeTreeIn(d, n, join(dirPath, n)); } catch { /* swept next time */ }
  }
}

/** removeTree of `name` in `parent` (an open trusted dir; `path` names it for the mapped-root fallback). */
function removeTreeIn(parent: Dir, name: string, path: string, dirs: string[] = [], files: string[] = [], layers: readonly string[] = []): void {
  for (let tries = 0; ; tries++) {
    try {
      if ((dirs.length || files.length || layers.length) && removeKnown(parent, name, dirs, files, layers)) return;
      removeTreeAt(parent, name);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Something vanished under us: another sbx removing the same tree. Start over from the
      // top (removeTreeAt picks up what is left; a tree gone entirely ends it).
      if (code === 'ENOENT' && tries < 16) continue;
      if ((code === 'EACCES' || code === 'EPERM') && process.getuid?.() !== 0) { removeAsMappedRoot(path); return; }
      throw e;
    }
  }
}

/**
 * Whether `name` in `parent` was exactly `dirs` (empty), `files` and `layers` (each a dir
 * holding an empty `upper` and, after a review, its empty `work`: what the helper leaves of a
 * layer nothing was written to), now removed; false: removeTreeAt's turn, for whatever is
 * left. A layer costs five calls here (open, three rmdirs, close) where the walk's failed
 * rmdir, open, listing and removals cost eleven and an exception: ~130 calls of every `sbx
 * run -n`. The tree is listed first: a quiet root run's layers were never on the host (the
 * helper's tmpfs), and asking for each by opening it cost an exception apiece (21 of them
 * ~0.3-1.5 ms; the listing ~0.1). A reviewed run's kernel layers keep their work dir for the
 * review (sandbox.ts scrapOps): without it here each of an ordinary user's ~26 layers failed
 * its rmdir and was walked.
 */
function removeKnown(parent: Dir, name: string, dirs: string[], files: string[], layers: readonly string[] = []): boolean {
  let d: Dir;
  try { d = Dir.openBeneath(parent, name); } catch { return false; }
  try {
    let present: Set<string>;
    try { present = new Set(readdirSync(d.self(), { encoding: 'latin1' as BufferEncoding })); } catch { return false; }
    for (const l of layers) {
      if (!present.has(l)) continue;
      // Beneath the tree, no symlink followed: the upper is removed only where it is the layer's own.
      let ld: Dir;
      try { ld = Dir.openBeneath(d, l); } catch { continue; }
      try {
        try { rmdirSync(ld.at('upper')); } catch { /* written to, or absent: the walk sees */ }
        try { rmdirSync(ld.at('work')); } catch { /* absent (scrapped whole, fuse-overlayfs's), or not empty: the walk sees */ }
      } finally { ld.close(); }
      try { rmdirSync(d.at(l)); } catch { /* not empty: the walk sees */ }
    }
    // The files last: a scratch tree's mark says whose it is until the tree is all but gone.
    for (const n of dirs) try { rmdirSync(d.at(n)); } catch { /* absent, or not empty: the walk sees */ }
    for (const f of files) try { unlinkSync(d.at(f)); } catch { /* absent, or not a file: the walk sees */ }
  } finally {
    d.close();
  }
  try { rmdirSync(parent.at(name)); return true; } catch { return false; }
}
