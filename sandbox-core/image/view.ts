// `sbx run --image` / `--rootfs`: the sandbox's root is an overlay whose lower layers are an
// image's cached layers (or one directory tree) instead of the host's mounts. What the image's
// config says about the process (Env, WorkingDir, User, Cmd/Entrypoint) applies where the
// command line does not say otherwise.
import { closeSync, fstatSync, readSync, statSync } from 'node:fs';
import { Dir, resolveParentBeneath } from '../beneath.js';
import { SbxError } from '../base/errors.js';
import type { ImageRecord } from '../types.js';
import { ImageCache, type CacheStore } from './cache.js';
import { displayText } from '../base/bpath.js';

export interface LowerView {
  image?: ImageRecord;
  rootfs?: string;
  /** Overlay lower layers, top first. */
  lowers: string[];
  /** What the change list compares the sandbox with (the merged lowers, or the rootfs). */
  lowerRoot: string;
  process: ImageProcess;
}

export interface ImageProcess {
  env: string[];
  cwd: string;
  /** Entrypoint and Cmd, used when the command line names no command. */
  entrypoint: string[];
  cmd: string[];
  /** "" = root; else `uid[:gid]` or `name[:group]` as the image says. */
  user: string;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const strings = (v: unknown): string[] => (Array.isArray(v) && v.every((x) => typeof x === 'string' && !x.includes('\0')) ? v as string[] : []);

/** The process fields of an image config (hostile: anything malformed is left out). */
export function imageProcess(config: Record<string, unknown> | undefined): ImageProcess {
  const c = config ?? {};
  // A malformed variable is dropped alone; a malformed argv is dropped whole (half a command is worse).
  const env = (Array.isArray(c.Env) ? c.Env : []).filter((e): e is string => typeof e === 'string' && !e.includes('\0') && e.indexOf('=') > 0);
  const wd = typeof c.WorkingDir === 'string' && c.WorkingDir.startsWith('/') && !c.WorkingDir.includes('\0') ? c.WorkingDir : '/';
  const user = typeof c.User === 'string' && !c.User.includes('\0') ? c.User : '';
  return { env: env.some((e) => e.startsWith('PATH=')) ? env : [DEFAULT_PATH, ...env], cwd: wd, entrypoint: strings(c.Entrypoint), cmd: strings(c.Cmd), user };
}

/** Brings an image into the store's cache (each layer unpacked once) and returns its view. */
export async function prepareImage(store: CacheStore, ref: string, say: (line: string) => void): Promise<LowerView> {
  const cache = new ImageCache(store);
  const { record, image } = await cache.importImage(ref);
  const lowers = await cache.ensureLayers(image, record, process.getuid?.() === 0, say);
  return { image: record, lowers, lowerRoot: cache.mergedPath(record.chainId), process: imageProcess(image.config.config) };
}

/** A directory tree as the root (its own files are the lower layer, never written). */
export function prepareRootfs(dir: string): LowerView {
  let st;
  try { st = statSync(dir); } catch (e) {
    throw new SbxError(`--rootfs ${displayText(dir)}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message}`, 125);
  }
  if (!st.isDirectory()) throw new SbxError(`--rootfs ${displayText(dir)}: not a directory`, 125, 'give the root directory of a tree, e.g. one made by debootstrap or umoci unpack');
  return { rootfs: dir, lowers: [dir], lowerRoot: dir, process: imageProcess({}) };
}

/** Reads a small file of the lower root without following a symlink in any component. */
function readLowerFile(root: string, rel: string): string | null {
  let base: Dir | null = null;
  try {
    base = Dir.open(root);
    const { dir, name } = resolveParentBeneath(base, rel);
    try {
      const fd = dir.openFile(name);
      try {
        const st = fstatSync(fd);
        if (!st.isFile() || st.size > 1 << 20) return null;
        const buf = Buffer.alloc(st.size);
        let n = 0;
        while (n < buf.length) { const r = readSync(fd, buf, n, buf.length - n, null); if (!r) break; n += r; }
        return buf.subarray(0, n).toString('utf8');
      } finally { closeSync(fd); }
    } finally { dir.close(); }
  } catch {
    return null;
  } finally {
    base?.close();
  }
}

/**
 * The image's User as numeric ids inside, looked up in the image's own /etc/passwd and
 * /etc/group (never the host's). null: root, nothing to switch.
 */
export function resolveUser(user: string, lowerRoot: string, ref: string): { uid: number; gid: number } | null {
  if (user === '' || user === 'root' || user === '0' || user === '0:0' || user === 'root:root') return null;
  const [u, g] = user.split(':', 2) as [string, string | undefined];
  const table = (file: string): string[][] => (readLowerFile(lowerRoot, file) ?? '').split('\n').map((l) => l.split(':'));
  let uid: number, gid: number | undefined;
  if (/^[0-9]+$/.test(u)) {
    uid = Number(u);
    const row = table('etc/passwd').find((f) => f[2] === u);
    if (row && /^[0-9]+$/.test(row[3] ?? '')) gid = Number(row[3]);
  } else {
    const row = table('etc/passwd').find((f) => f[0] === u);
    if (!row || !/^[0-9]+$/.test(row[2] ?? '') || !/^[0-9]+$/.test(row[3] ?? '')) {
      throw new SbxError(`image ${ref}: its user '${u}' is not in the image's /etc/passwd`, 125, 'pass --image-user UID[:GID]');
    }
    uid = Number(row[2]);
    gid = Number(row[3]);
  }
  if (g !== undefined) {
    if (/^[0-9]+$/.test(g)) gid = Number(g);
    else {
      const row = table('etc/group').find((f) => f[0] === g);
      if (!row || !/^[0-9]+$/.test(row[2] ?? '')) throw new SbxError(`image ${ref}: its group '${g}' is not in the image's /etc/group`, 125);
      gid = Number(row[2]);
    }
  }
  if (uid > 0xfffffffe || (gid ?? 0) > 0xfffffffe) throw new SbxError(`image ${ref}: user '${user}' is out of range`, 125);
  return { uid, gid: gid ?? uid };
}

/** The view of an existing image or rootfs sandbox (`run --in`): its layers from the cache again. */
export async function reopenLowerView(store: CacheStore, meta: { image?: ImageRecord; rootfs?: string }, say: (line: string) => void): Promise<LowerView | null> {
  if (meta.rootfs) return prepareRootfs(meta.rootfs);
  if (!meta.image) return null;
  const cache = new ImageCache(store);
  const image = cache.image(meta.image);
  const lowers = await cache.ensureLayers(image, meta.image, process.getuid?.() === 0, say);
  return { image: meta.image, lowers, lowerRoot: cache.mergedPath(meta.image.chainId), process: imageProcess(image.config.config) };
}
