// How the layers of a sandbox are opened, registered by the store each meta came from (read by
// Store.entry, or written by Store.writeMeta). Its own module so that change lists (changes/walk.ts)
// reach the store's opener without importing the store: arrows only run down.
import type { Dir } from './beneath.js';
import type { SandboxMeta } from './types.js';

interface Opener {
  /** Where the store keeps this sandbox's layers (Store.layersDirOf), asked at each use. */
  layersDir(): string;
  /** Store.openLayers: from the store-root fd, never the layers path. */
  open(): Dir;
  /** store.ts sbxFor of that store: how the user at the keyboard runs sbx on it, for hints. */
  sbx(): string;
}

const openers = new WeakMap<SandboxMeta, Opener>();

/** Called by the store for each meta it reads or writes. */
export function setLayersOpener(meta: SandboxMeta, opener: Opener): void {
  openers.set(meta, opener);
}

/**
 * How the layers of `meta` are opened: Store.openLayers of the store it came from, so a meta
 * carries no path that any read of its layers follows.
 */
export function layersOpener(meta: SandboxMeta): () => Dir {
  const o = openers.get(meta);
  if (!o) throw new Error(`internal error: sandbox ${meta.id} was not read from a store`);
  if (o.layersDir() !== meta.layersDir) throw new Error(`internal error: sandbox ${meta.id}'s layers are not where its store keeps them`);
  return () => o.open();
}

/**
 * How the user at the keyboard runs sbx on `meta`'s sandbox (`sbx`, `sudo sbx`, `sudo
 * SBX_HOME=... sbx`: store.ts sbxFor of the store it came from), for a hint that names a command
 * where the store itself is out of reach. A meta no store read (tests) gets plain `sbx`.
 */
export function sbxOf(meta: SandboxMeta): string {
  return openers.get(meta)?.sbx() ?? 'sbx';
}
