// The image cache under the store (`<store>/images/`, 0700): content-addressed, so each layer
// is unpacked once however many sandboxes use it.
//
//   blobs/sha256/<hex>    the image's manifest, config and layer blobs, copied in verified
//                         (docker-save archives are converted: their manifest is written here)
//   layers/<hex>          one unpacked layer (named by its diff-id), an overlay lower layer
//   merged/<hex>          the layers of one image as one tree of hard links (named by the
//                         chain-id): what the change list compares an image sandbox with
//   tmp/                  unpacks under way; renamed into place only once verified
//
// A name in the cache is always derived from a digest sbx computed or checked; every access is
// fd-relative through beneath.ts, from the cache dir the store opens from its checked root fd
// (Store.openImages): root acting on a user's store ('sudo sbx export', 'sudo SBX_HOME=…
// sbx images') reads and removes only what is really below that store, in its own mount
// namespace. Only the store's owner adds to a cache (see writable): the trees a run hands its
// helper (overlay lower layers, the unpack's mknod and xattr calls) are paths below the
// store, and only that owner's process resolves them, with that owner's own rights.
import { createHash } from 'node:crypto';
import {
  closeSync, createReadStream, fstatSync, mkdirSync, openSync, readSync, renameSync, statSync, writeSync, constants as C,
  fsyncSync,
} from 'node:fs';
import { createGunzip } from 'node:zlib';
import { join, dirname } from 'node:path';
import { Dir, NotBeneathError, removeTreeAt } from '../beneath.js';
import { SbxError } from '../base/errors.js';
import { ensurePrivateDir } from '../base/paths.js';
import { randomHex } from '../random.js';
import { checkConfig, checkManifest, copyHashing, DIGEST, MEDIA, openImage, splitRef, type OciImage } from '../export/oci.js';
import { readLayer } from './layer-blob.js';
import { readTar } from './tar-reader.js';
import { MAX_ENTRIES, MAX_IMAGE_ENTRIES, unpackLayer } from './unpack.js';
import { mergeLayers } from './merge.js';
import { ensureRoom, RoomBudget } from './room.js';

import type { ImageRecord } from '../types.js';
import { chainIdOf, imageCacheRoot, MAX_LAYERS } from './record.js';

export type { ImageRecord };
export { splitRef };

const TAMPERED = 'the image is damaged or was tampered with';
const MAX_JSON = 4 << 20;

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const hex = (digest: string): string => {
  if (!DIGEST.test(digest)) throw new SbxError(`invalid digest ${JSON.stringify(digest).slice(0, 80)}`, 125, TAMPERED);
  return digest.slice(7);
};

export interface CacheEntryInfo { digest: string; bytes: number; usedBy: string[] }

/** What the cache needs of its store (store.ts Store). */
export interface CacheStore {
  readonly root: string;
  /** The uid owning the store. */
  readonly owner: number;
  /** `images/` from the store root fd, checked (Store.openImages); an ENOENT error when absent and not `create`. */
  openImages(create?: boolean): Dir;
}

type Sub = 'blobs/sha256' | 'layers' | 'merged' | 'tmp';

export class ImageCache {
  readonly root: string;
  constructor(private readonly store: CacheStore) {
    this.root = imageCacheRoot(store.root);
  }

  layerPath(diffId: string): string { return join(this.root, 'layers', hex(diffId)); }
  mergedPath(chainId: string): string { return join(this.root, 'merged', hex(chainId)); }

  /**
   * Refuses a write to another user's cache: root adds nothing to a user's store (what it made
   * there would be root's, and the paths a run hands its helper are the user's to swap).
   */
  private writable(): void {
    const euid = process.geteuid?.() ?? 0;
    if (this.store.owner !== euid) throw new SbxError(`the image cache ${this.root} belongs to uid ${this.store.owner}: only its owner adds images to it`, 125, 'run images as that user (not under sudo), or in your own store');
  }

  /** A directory of the cache, from the store's checked fd; made (with the cache) only for a write. */
  private sub(name: Sub, write = false): Dir {
    if (write) { this.writable(); ensurePrivateDir(this.store.root); }
    const top = this.store.openImages(write);
    try {
      try { return Dir.openBeneath(top, name, { create: write }); } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw e;
        throw new SbxError(`the image cache's ${name} in ${this.root} ${e instanceof NotBeneathError ? 'is a symlink or not a directory' : `cannot be opened (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`}: refusing to use it`, 125);
      }
    } finally { top.close(); }
  }

  /** Opens a blob read-only without following a symlink (for export's base layers and unpacking), from the checked cache dir. */
  openBlob(digest: string): number {
    const blobs = this.sub('blobs/sha256');
    try { return blobs.openFile(hex(digest)); } finally { blobs.close(); }
  }

  /** Writes `data` (a manifest sbx made) into the blob store under its sha256; returns the digest. */
  private putBlob(data: Buffer): string {
    const digest = sha(data);
    const blobs = this.sub('blobs/sha256', true);
    try {
      if (blobs.lstat(digest.slice(7))?.isFile()) return digest;
      ensureRoom(this.root, data.length, `blob ${digest}`);
      const tmp = `.tmp-${randomHex(6)}`;
      const fd = openSync(blobs.at(tmp), C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
      try {
        for (let off = 0; off < data.length;) off += writeSync(fd, data, off, data.length - off);
        fsyncSync(fd);
      } finally { closeSync(fd); }
      renameSync(blobs.at(tmp), blobs.at(digest.slice(7)));
      return digest;
    } finally { blobs.close(); }
  }

  /**
   * Streams a docker-save archive's file into the blob store as it is read (a layer can be any
   * size: it is never held whole), taking its bytes from the room budget; returns its digest,
   * size and whether it is gzip.
   */
  private async putBlobFrom(chunks: AsyncIterable<Buffer>, room: RoomBudget): Promise<{ digest: string; size: number; gzip: boolean }> {
    const blobs = this.sub('blobs/sha256', true);
    const tmp = `.tmp-${randomHex(6)}`;
    try {
      const h = createHash('sha256');
      const head: number[] = [];
      let size = 0;
      const fd = openSync(blobs.at(tmp), C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
      try {
        for await (const c of chunks) {
          room.take(c.length);
          h.update(c);
          for (let i = 0; head.length < 2 && i < c.length; i++) head.push(c[i]!);
          for (let off = 0; off < c.length;) off += writeSync(fd, c, off, c.length - off);
          size += c.length;
        }
        fsyncSync(fd);
      } finally { closeSync(fd); }
      const digest = `sha256:${h.digest('hex')}`;
      if (blobs.lstat(digest.slice(7))?.isFile()) removeTreeAt(blobs, tmp); else renameSync(blobs.at(tmp), blobs.at(digest.slice(7)));
      return { digest, size, gzip: head[0] === 0x1f && head[1] === 0x8b };
    } catch (e) {
      try { removeTreeAt(blobs, tmp); } catch { /* best effort */ }
      throw e;
    } finally { blobs.close(); }
  }

  /** Streams a file into the blob store, checking it against `expect` (and `size`, when the manifest gives one). */
  private copyBlobIn(srcPath: string, expect: string, size?: number): void {
    const blobs = this.sub('blobs/sha256', true);
    try {
      if (blobs.lstat(hex(expect))?.isFile()) return;
      let src: number;
      try { src = openSync(srcPath, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK); } catch (e) {
        throw new SbxError(`cannot read blob ${expect}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 125, TAMPERED);
      }
      const tmp = `.tmp-${randomHex(6)}`;
      try {
        const st = fstatSync(src);
        if (!st.isFile()) throw new SbxError(`blob ${expect} is not a regular file`, 125, TAMPERED);
        // Checked before a byte is copied: a sparse terabyte in the layout costs it nothing.
        if (size !== undefined && st.size !== size) throw new SbxError(`blob ${expect} is ${st.size} bytes, not the ${size} its manifest says`, 125, TAMPERED);
        ensureRoom(this.root, st.size, `blob ${expect}`);
        const dst = openSync(blobs.at(tmp), C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
        let digest: string;
        try {
          digest = copyHashing(src, dst);
          fsyncSync(dst);
        } finally { closeSync(dst); }
        if (digest !== expect) throw new SbxError(`blob ${expect} does not match its digest`, 125, TAMPERED);
        renameSync(blobs.at(tmp), blobs.at(hex(expect)));
      } catch (e) {
        try { removeTreeAt(blobs, tmp); } catch { /* best effort */ }
        throw e;
      } finally { closeSync(src); }
    } finally { blobs.close(); }
  }

  /** A small blob of the cache, checked against its digest again (the cache is read back as hostile). */
  readBlobJson(digest: string, what: string): unknown {
    let fd: number;
    try { fd = this.openBlob(digest); } catch (e) {
      if (e instanceof SbxError) throw e;
      throw new SbxError(`the image cache has no ${what} ${digest}`, 125, 'run the image again with --image to bring it back');
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.size > MAX_JSON) throw new SbxError(`${what} ${digest} in the image cache is not a small regular file`, 125, TAMPERED);
      const buf = Buffer.alloc(st.size);
      let n = 0;
      while (n < buf.length) { const r = readSync(fd, buf, n, buf.length - n, null); if (!r) break; n += r; }
      if (sha(buf.subarray(0, n)) !== digest) throw new SbxError(`${what} ${digest} in the image cache does not match its digest`, 125, TAMPERED);
      try { return JSON.parse(buf.subarray(0, n).toString('utf8')); } catch { throw new SbxError(`${what} ${digest} is not valid JSON`, 125, TAMPERED); }
    } finally { closeSync(fd); }
  }

  /** The image a record names, read back from the cache (for export and for layers to unpack again). */
  image(rec: Pick<ImageRecord, 'manifest'>): OciImage {
    const manifest = this.readBlobJson(rec.manifest, 'image manifest');
    checkManifest(manifest, rec.manifest, 'the image cache');
    const config = this.readBlobJson(manifest.config.digest, 'image config');
    checkConfig(config, manifest, 'the image cache');
    return { layout: this.root, manifest, config, openBlob: (d) => this.openBlob(d) };
  }

  /**
   * Brings an image into the cache: an OCI layout `DIR[:TAG]` or a `docker save` archive
   * `FILE[:TAG]`. Returns the record and the image as read from the cache.
   */
  async importImage(ref: string): Promise<{ record: ImageRecord; image: OciImage }> {
    this.writable();
    const { path, tag } = splitRef(ref);
    let st;
    try { st = statSync(path); } catch (e) {
      throw new SbxError(`--image ${ref}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`, 125, 'give an OCI image layout directory or a docker save archive');
    }
    const manifestDigest = st.isDirectory() ? this.importLayout(path, tag) : await this.importArchive(path, tag, ref);
    const image = this.image({ manifest: manifestDigest });
    if (image.manifest.layers.length === 0 || image.manifest.layers.length > MAX_LAYERS) {
      throw new SbxError(`image ${ref} has ${image.manifest.layers.length} layers; sbx runs images of 1 to ${MAX_LAYERS}`, 125);
    }
    const diffIds = image.config.rootfs.diff_ids;
    return { record: { ref, manifest: manifestDigest, config: image.manifest.config.digest, diffIds, chainId: chainIdOf(diffIds) }, image };
  }

  private importLayout(layout: string, tag: string | null): string {
    // The same choice `sbx export --base` makes (pickManifest): one rule for what LAYOUT:TAG means.
    const src = openImage(layout, tag);
    const index = src.manifestDigest;
    this.copyBlobIn(join(layout, 'blobs', 'sha256', hex(index)), index);
    this.copyBlobIn(join(layout, 'blobs', 'sha256', hex(src.manifest.config.digest)), src.manifest.config.digest);
    for (const l of src.manifest.layers) this.copyBlobIn(join(layout, 'blobs', 'sha256', hex(l.digest)), l.digest, l.size);
    return index;
  }

  /**
   * A `docker save` archive: its files go into the blob store under their own digests, and an
   * OCI manifest is written for the image it describes (docker's layers are tar files whose
   * digest is their diff-id). Each file is streamed into the store, never held whole.
   */
  private async importArchive(path: string, tag: string | null, ref: string): Promise<string> {
    const byName = new Map<string, { digest: string; size: number; gzip: boolean }>();
    const links = new Map<string, string>();
    const fd = openSync(path, C.O_RDONLY | C.O_NONBLOCK);
    const head = Buffer.alloc(2);
    readSync(fd, head, 0, 2, 0);
    const raw = createReadStream('', { fd, autoClose: true });
    const stream = head[0] === 0x1f && head[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
    const room = new RoomBudget(this.root, `--image ${ref}`);
    try {
      for await (const e of readTar(stream as AsyncIterable<Buffer>)) {
        if (e.type === 'file') {
          byName.set(e.name, await this.putBlobFrom(e.chunks, room));
        } else if (e.type === 'symlink' || e.type === 'hardlink') {
          const target = e.type === 'hardlink' ? e.linkName : join(dirname(e.name), e.linkName).replace(/^\.\//, '');
          links.set(e.name, target);
        }
      }
    } catch (e) {
      if (e instanceof SbxError) throw e;
      throw new SbxError(`--image ${ref}: cannot read the archive (${(e as Error).message})`, 125, 'give an OCI image layout directory or a docker save archive');
    } finally { raw.destroy(); }
    const find = (name: string): { digest: string; size: number; gzip: boolean } | undefined => {
      let n = name;
      for (let hops = 0; hops < 8 && !byName.has(n) && links.has(n); hops++) n = links.get(n)!;
      return byName.get(n);
    };
    const mf = find('manifest.json');
    if (!mf) throw new SbxError(`--image ${ref}: not an OCI layout and not a docker save archive (no manifest.json)`, 125, 'give an OCI image layout directory or a docker save archive');
    const list = this.readBlobJson(mf.digest, 'docker manifest') as Array<{ Config?: unknown; RepoTags?: unknown; Layers?: unknown }>;
    if (!Array.isArray(list) || !list.length) throw new SbxError(`--image ${ref}: manifest.json lists no image`, 125, TAMPERED);
    const pick = tag === null
      ? (list.length === 1 ? list[0] : undefined)
      : list.find((m) => Array.isArray(m.RepoTags) && m.RepoTags.some((t) => t === tag || t === `${tag}:latest`));
    if (!pick) throw new SbxError(`no image ${tag === null ? '(the archive holds several: name one)' : `tagged '${tag}'`} in ${path}`, 125, 'give ARCHIVE:REPO:TAG');
    if (typeof pick.Config !== 'string' || !Array.isArray(pick.Layers) || !pick.Layers.every((l) => typeof l === 'string')) throw new SbxError(`--image ${ref}: manifest.json is not a docker image manifest`, 125, TAMPERED);
    const cfg = find(pick.Config);
    if (!cfg) throw new SbxError(`--image ${ref}: the archive lacks the config ${JSON.stringify(pick.Config).slice(0, 100)}`, 125, TAMPERED);
    const layers = (pick.Layers as string[]).map((l) => {
      const b = find(l);
      if (!b) throw new SbxError(`--image ${ref}: the archive lacks the layer ${JSON.stringify(l).slice(0, 100)}`, 125, TAMPERED);
      return { mediaType: b.gzip ? MEDIA.layerGzip : MEDIA.layerTar, digest: b.digest, size: b.size };
    });
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.manifest, config: { mediaType: MEDIA.config, digest: cfg.digest, size: cfg.size }, layers });
    return this.putBlob(Buffer.from(manifest));
  }

  /**
   * Unpacks every layer of the image not yet in the cache (each verified against its digest
   * and diff-id before it is renamed into place), then the merged tree. Returns the lower
   * layer paths, top first.
   */
  async ensureLayers(image: OciImage, rec: ImageRecord, asRoot: boolean, say: (line: string) => void, maxImageEntries = MAX_IMAGE_ENTRIES): Promise<string[]> {
    const layers = this.sub('layers', true);
    // The entries unpacked here count against the image's limit (layers cached before were
    // counted by their own image; the merge below counts them all).
    let unpacked = 0;
    try {
      for (let i = 0; i < rec.diffIds.length; i++) {
        const name = hex(rec.diffIds[i]!);
        const there = layers.lstat(name);
        if (there?.isDirectory()) continue;
        if (there) removeTreeAt(layers, name);
        say(`unpacking layer ${i + 1}/${rec.diffIds.length} of ${rec.ref} (${rec.diffIds[i]!.slice(0, 19)})`);
        const left = maxImageEntries - unpacked;
        await this.build(layers, name, async (dir) => {
          unpacked += (await (left < MAX_ENTRIES
            ? unpackLayer(readLayer(image, i), dir, rec.diffIds[i]!, asRoot, left, `per image (${maxImageEntries} in all its layers)`)
            : unpackLayer(readLayer(image, i), dir, rec.diffIds[i]!, asRoot))).entries;
        });
      }
    } finally { layers.close(); }
    const merged = this.sub('merged', true);
    try {
      const name = hex(rec.chainId);
      const there = merged.lstat(name);
      if (!there?.isDirectory()) {
        // Anything else there (a symlink swapped in) goes first: the rename below would fail on it.
        if (there) removeTreeAt(merged, name);
        await this.build(merged, name, async (dir) => { mergeLayers(rec.diffIds.map((d) => this.layerPath(d)), dir, asRoot, rec.ref, maxImageEntries); });
      }
    } finally { merged.close(); }
    return rec.diffIds.map((d) => this.layerPath(d)).reverse();
  }

  /** Makes `name` in `into` by filling a fresh dir under tmp/ and renaming it in when complete. */
  private async build(into: Dir, name: string, fill: (dir: string) => Promise<unknown>): Promise<void> {
    const tmp = this.sub('tmp', true);
    const t = `${name.slice(0, 12)}-${randomHex(6)}`;
    try {
      mkdirSync(tmp.at(t), { mode: 0o700 });
      try {
        await fill(join(this.root, 'tmp', t));
        try { renameSync(tmp.at(t), into.at(name)); } catch (e) {
          // Another sbx made the same one meanwhile: theirs is as good as ours.
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw e;
          removeTreeAt(tmp, t);
        }
      } catch (e) {
        try { removeTreeAt(tmp, t); } catch { /* left for prune */ }
        throw e;
      }
    } finally { tmp.close(); }
  }

  /** Layers and merged trees with their sizes and the sandboxes using them. */
  list(users: Array<{ name: string; rec: ImageRecord }>): { layers: CacheEntryInfo[]; merged: CacheEntryInfo[]; blobs: CacheEntryInfo[] } {
    const entries = (sub: 'layers' | 'merged' | 'blobs/sha256', uses: (rec: ImageRecord, digest: string) => boolean, sizeOf: (d: Dir, n: string) => number): CacheEntryInfo[] => {
      let d: Dir;
      try { d = this.sub(sub); } catch (e) {
        // No cache (or not this part of it) yet is an empty one; a refused one is said.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw e;
      }
      try {
        return d.list().filter((e) => /^[0-9a-f]{64}$/.test(e.name)).map((e) => {
          const digest = `sha256:${e.name}`;
          return { digest, bytes: sizeOf(d, e.name), usedBy: users.filter((u) => uses(u.rec, digest)).map((u) => u.name) };
        });
      } finally { d.close(); }
    };
    const usedBlobs = new Map<string, Set<string>>();
    for (const u of users) {
      const set = new Set([u.rec.manifest, u.rec.config]);
      try { for (const l of this.image(u.rec).manifest.layers) set.add(l.digest); } catch { /* its blobs are gone */ }
      usedBlobs.set(u.name, set);
    }
    return {
      layers: entries('layers', (r, d) => r.diffIds.includes(d), treeBytes),
      merged: entries('merged', (r, d) => r.chainId === d, (dir, n) => treeBytes(dir, n, true)),
      blobs: entries('blobs/sha256', () => false, (dir, n) => (dir.lstat(n)?.blocks ?? 0) * 512).map((b) => ({ ...b, usedBy: users.filter((u) => usedBlobs.get(u.name)?.has(b.digest)).map((u) => u.name) })),
    };
  }

  /** Removes what no sandbox uses (and unpacks a killed sbx left in tmp/); returns bytes freed. */
  prune(users: Array<{ name: string; rec: ImageRecord }>): { removed: number; bytes: number } {
    const l = this.list(users);
    let removed = 0, bytes = 0;
    const drop = (sub: Sub, list: CacheEntryInfo[]): void => {
      if (!list.some((e) => !e.usedBy.length)) return;
      const d = this.sub(sub);
      try {
        for (const e of list) if (!e.usedBy.length) { removeTreeAt(d, e.digest.slice(7)); removed++; bytes += e.bytes; }
      } finally { d.close(); }
    };
    // Merged trees first: they hold links to the layers' inodes.
    drop('merged', l.merged);
    drop('layers', l.layers);
    drop('blobs/sha256', l.blobs);
    let tmp: Dir;
    try { tmp = this.sub('tmp'); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { removed, bytes };
      throw e;
    }
    try { for (const e of tmp.list()) removeTreeAt(tmp, e.name); } finally { tmp.close(); }
    return { removed, bytes };
  }
}

/** Disk blocks of a tree (`linksFree`: files with more than one link belong to a layer, not here). */
function treeBytes(parent: Dir, name: string, linksFree = false): number {
  // Not a directory (a symlink swapped into the cache): its own size, and prune removes it.
  const self = parent.lstat(name);
  if (!self?.isDirectory()) return (self?.blocks ?? 0) * 512;
  let total = 0;
  const stack = [name];
  const top = Dir.openBeneath(parent, '');
  try {
    while (stack.length) {
      const rel = stack.pop()!;
      const d = Dir.openBeneath(top, rel);
      try {
        total += d.stat().blocks * 512;
        for (const e of d.list()) {
          if (e.isDirectory()) { stack.push(`${rel}/${e.name}`); continue; }
          const st = d.lstat(e.name);
          if (st && !(linksFree && st.nlink > 1)) total += st.blocks * 512;
        }
      } finally { d.close(); }
    }
  } finally { top.close(); }
  return total;
}
