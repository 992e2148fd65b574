// What meta.json says about a sandbox's image, checked when read (meta.json is hostile input),
// and where the cache keeps what it names: every location is derived from a digest.
import { join } from 'node:path';
import type { ImageRecord } from '../types.js';
import { builtin } from '../base/builtin.js';
import { Dir } from '../beneath.js';
import { SbxError } from '../base/errors.js';

export const MAX_LAYERS = 127;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

// node:crypto is loaded on first use: every run imports this module (the store checks
// meta.json with it), and only image runs hash anything.
const sha = (s: string): string => `sha256:${builtin<typeof import('node:crypto')>('node:crypto').createHash('sha256').update(s).digest('hex')}`;

/** OCI chain-id: the identity of a stack of layers, bottom first. */
export function chainIdOf(diffIds: string[]): string {
  let chain = diffIds[0]!;
  for (let i = 1; i < diffIds.length; i++) chain = sha(`${chain} ${diffIds[i]}`);
  return chain;
}

/** A record from meta.json is well formed (its chain-id must be the one its diff-ids make). */
export function checkImageRecord(r: unknown): r is ImageRecord {
  const x = r as ImageRecord;
  return !!x && typeof x === 'object' && typeof x.ref === 'string' && !x.ref.includes('\0') && x.ref.length < 4096
    && typeof x.manifest === 'string' && DIGEST.test(x.manifest)
    && typeof x.config === 'string' && DIGEST.test(x.config) && Array.isArray(x.diffIds) && x.diffIds.length > 0
    && x.diffIds.length <= MAX_LAYERS && x.diffIds.every((d) => typeof d === 'string' && DIGEST.test(d))
    && typeof x.chainId === 'string' && x.chainId === chainIdOf(x.diffIds);
}

/** The image cache's directory in a store. */
export const IMAGES_DIR = 'images';

/** The image cache of a store (its path: for messages, and for the trees a run hands its helper). */
export function imageCacheRoot(storeRoot: string): string {
  return join(storeRoot, IMAGES_DIR);
}

/**
 * Gives `meta.lowerRoot` (what the change list compares an image sandbox with) as the merged
 * tree `merged/<chain-id>` opened below the cache dir `openCache` gives (the store root fd,
 * checked: Store.openImages), no symlink followed, and named by that fd: `/proc/self/fd/N/.`
 * is this very directory to whoever opens it in this process (changes/fsat.ts setHostRoot), so
 * no path below the user's store is walked again. The store's owner may swap any directory in
 * it for a symlink to a tree only root may read, or bind one there in a mount namespace of
 * theirs: 'sudo sbx diff ID' showed that tree's files as the image's. Opened when first asked
 * for (sbx ls reads every meta and compares nothing); the fd stays open for the process, one
 * per image tree and store (`cacheKey`: the store's root and owner), whatever the number of
 * sandboxes made from it (sbx ls of 2,000 such sandboxes would otherwise hold 2,000 fds).
 */
export function lowerRootFromCache(meta: { lowerRoot?: string }, rec: ImageRecord, openCache: () => Dir, cacheKey: string): void {
  const key = `${cacheKey}\0${rec.chainId}`;
  Object.defineProperty(meta, 'lowerRoot', {
    configurable: true,
    // Never written back to meta.json (store.ts ignores the file's value anyway).
    enumerable: false,
    get: (): string => {
      let path = openedMerged.get(key);
      if (path === undefined) openedMerged.set(key, (path = openMerged(openCache, rec).self() + '/.'));
      return path;
    },
    set: (v: string | undefined): void => { Object.defineProperty(meta, 'lowerRoot', { value: v, writable: true, enumerable: true, configurable: true }); },
  });
}

/** The merged trees opened in this process, by store and chain id: their `/proc/self/fd/N/.`. */
const openedMerged = new Map<string, string>();

function openMerged(openCache: () => Dir, rec: ImageRecord): Dir {
  const rel = `merged/${rec.chainId.slice(7)}`;
  let cache: Dir | null = null;
  try {
    cache = openCache();
    return Dir.openBeneath(cache, rel);
  } catch (e) {
    if (e instanceof SbxError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'is gone' : code === 'ENOTBENEATH' ? 'is a symlink or not a directory' : `cannot be opened (${code ?? (e as Error).message})`;
    throw new SbxError(`the image tree this sandbox is compared with (${IMAGES_DIR}/${rel} in its store) ${why}`, 125, "an image's cached tree is made again by 'sbx run --in NAME -- true'");
  } finally {
    cache?.close();
  }
}
