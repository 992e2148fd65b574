// What meta.json says about a sandbox's image, checked when read (meta.json is hostile input),
// and where the cache keeps what it names: every location is derived from a digest.
import { join } from 'node:path';
import type { ImageRecord } from '../types.js';
import { builtin } from '../base/builtin.js';

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

/** The image cache of a store. */
export function imageCacheRoot(storeRoot: string): string {
  return join(storeRoot, 'images');
}

/** The merged lower tree of a checked record: what its sandboxes are compared with. */
export function mergedTreeOf(storeRoot: string, rec: ImageRecord): string {
  return join(imageCacheRoot(storeRoot), 'merged', rec.chainId.slice(7));
}
