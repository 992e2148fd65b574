// OCI image-spec output: a gzip layer with its diff-id and digest, and an image layout
// directory (oci-layout, index.json, blobs/sha256/…) whose config lists the layer's diff-id.
import { createHash } from 'node:crypto';
import { createGzip } from 'node:zlib';
import { PassThrough, type Writable } from 'node:stream';
import { once } from 'node:events';
import {
  createWriteStream, mkdirSync, renameSync, writeFileSync, existsSync, readdirSync, lstatSync, openSync, readSync, closeSync,
  fstatSync, rmSync, writeSync, constants as C,
} from 'node:fs';
import { join } from 'node:path';
import { TarWriter } from './tar.js';
import { writeLayer, type LayerOptions, type LayerReport } from './layer.js';
import type { ScanResult } from '../changes/scan.js';
import { SbxError } from '../base/errors.js';
import { displayText } from '../base/bpath.js';

export const MEDIA = {
  layout: '1.0.0',
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerTar: 'application/vnd.oci.image.layer.v1.tar',
} as const;

export interface WrittenLayer extends LayerReport {
  /** sha256 of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: string;
  /** sha256 of what was written (the manifest's layer digest). */
  digest: string;
  size: number;
}

/** Streams the change list as a tar into `sink`, gzip-compressed unless `gzip` is false. */
export async function streamLayer(scan: Pick<ScanResult, 'changes'>, sink: Writable, opts: LayerOptions & { gzip: boolean }): Promise<WrittenLayer> {
  const outHash = createHash('sha256');
  let size = 0;
  const counted = new PassThrough();
  counted.on('data', (b: Buffer) => { outHash.update(b); size += b.length; });
  counted.pipe(sink);
  let head: Writable = counted;
  if (opts.gzip) {
    const gz = createGzip({ level: 6 });
    gz.pipe(counted);
    head = gz;
  }
  const tar = new TarWriter(head);
  const report = await writeLayer(scan, tar, opts);
  await tar.finish();
  head.end();
  await once(sink, 'finish');
  return { ...report, diffId: `sha256:${tar.hash.digest('hex')}`, digest: `sha256:${outHash.digest('hex')}`, size };
}

function sha256(b: Buffer | string): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

function writeBlob(blobs: string, data: string): { digest: string; size: number } {
  const digest = sha256(data);
  writeFileSync(join(blobs, digest.slice(7)), data, { mode: 0o644 });
  return { digest, size: Buffer.byteLength(data) };
}

export const DIGEST = /^sha256:[0-9a-f]{64}$/;
const MAX_JSON = 4 << 20;

export interface Descriptor { mediaType: string; digest: string; size: number }

/** An image read from an OCI layout: its manifest, config and the layout it lives in. */
export interface OciImage {
  layout: string;
  /**
   * Opens a blob read-only (no symlink followed): an image of the store's cache reads its
   * blobs from the cache's checked fd (image/cache.ts), never by a path below the store.
   */
  openBlob?: (digest: string) => number;
  manifest: { schemaVersion: number; mediaType?: string; config: Descriptor; layers: Descriptor[] };
  config: { architecture?: string; os?: string; config?: Record<string, unknown>; rootfs: { type: string; diff_ids: string[] }; history?: unknown[] };
}

/** The file of a blob in a layout; a digest from a file names a path, so only the one exact form is accepted. */
export function blobPath(layout: string, digest: string): string {
  if (!DIGEST.test(digest)) throw new SbxError(`image ${layout}: invalid digest ${JSON.stringify(digest).slice(0, 80)}`, 125, 'is it an OCI image layout?');
  return join(layout, 'blobs', 'sha256', digest.slice(7));
}

/** Reads a small JSON file (no symlink as its last component, size-capped). */
function readJson(path: string, what: string): unknown {
  let fd: number;
  try { fd = openSync(path, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK); } catch (e) {
    throw new SbxError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 125, 'is it an OCI image layout?');
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_JSON) throw new SbxError(`${what} ${path} is not a regular file under ${MAX_JSON} bytes`, 125);
    const buf = Buffer.alloc(st.size);
    let n = 0;
    while (n < buf.length) { const r = readSync(fd, buf, n, buf.length - n, null); if (!r) break; n += r; }
    return JSON.parse(buf.subarray(0, n).toString('utf8'));
  } catch (e) {
    if (e instanceof SbxError) throw e;
    throw new SbxError(`${what} ${path} is not valid JSON`, 125, 'is it an OCI image layout?');
  } finally { closeSync(fd); }
}

function isDescriptor(d: unknown): d is Descriptor {
  const o = d as Descriptor;
  return !!o && typeof o.mediaType === 'string' && typeof o.digest === 'string' && DIGEST.test(o.digest) && Number.isSafeInteger(o.size) && o.size >= 0;
}

/** The annotation that tags an image in a layout's index.json (skopeo's `oci:DIR:TAG`, umoci's `DIR:TAG`). */
export const REF_NAME = 'org.opencontainers.image.ref.name';

/** `PATH:TAG` → path and tag, when PATH alone does not exist and the part before the first colon after the last `/` does. */
export function splitRef(ref: string): { path: string; tag: string | null } {
  const exists = (p: string): boolean => { try { lstatSync(p); return true; } catch { return false; } };
  if (exists(ref)) return { path: ref, tag: null };
  const i = ref.indexOf(':', ref.lastIndexOf('/') + 1);
  if (i > 0 && exists(ref.slice(0, i))) return { path: ref.slice(0, i), tag: ref.slice(i + 1) };
  return { path: ref, tag: null };
}

type IndexEntry = Descriptor & { annotations?: Record<string, unknown>; platform?: { os?: unknown; architecture?: unknown } };

/** Nested image indexes followed at most this deep (each is one more small file to read). */
const MAX_NESTED = 4;
const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

/** Up to 10 names of a list, escaped for the terminal, and how many more. */
function listed(names: string[]): string {
  const shown = names.slice(0, 10).map((n) => `'${displayText(n.slice(0, 100))}'`).join(', ');
  return names.length > 10 ? `${shown} and ${names.length - 10} more` : shown;
}

function indexEntries(index: unknown, where: string): IndexEntry[] {
  const list = (index as { manifests?: unknown } | null)?.manifests;
  if (!Array.isArray(list)) throw new SbxError(`the image index of ${where} has no manifests list`, 125, 'is it an OCI image layout?');
  list.forEach((m, i) => {
    if (!isDescriptor(m)) throw new SbxError(`entry ${i + 1} of the image index of ${where} is not a descriptor`, 125, 'the image is damaged or was tampered with');
  });
  return list as IndexEntry[];
}

/**
 * The one rule that says which image `LAYOUT[:TAG]` means, for `sbx run --image` (the cache)
 * and `sbx export --base` alike: the manifest tagged TAG (`org.opencontainers.image.ref.name`),
 * else, with no tag, the only one; two candidates or none is one line listing the layout's
 * tags. A nested image index (a multi-platform image) is followed to the manifest for this
 * machine's platform, or its only one.
 */
export function pickManifest(layout: string, tag: string | null): Descriptor {
  const top = indexEntries(readJson(join(layout, 'index.json'), 'image index'), layout);
  const tags = top.map((m) => (typeof m.annotations?.[REF_NAME] === 'string' ? m.annotations[REF_NAME] : '(untagged)'));
  const hits = tag === null ? top : top.filter((m) => m.annotations?.[REF_NAME] === tag);
  const name = tag === null ? '' : ` tagged '${displayText(tag.slice(0, 100))}'`;
  if (hits.length !== 1) {
    const what = hits.length === 0 ? (top.length === 0 ? 'holds no image' : `has no image${name}`) : `holds ${hits.length} images${name}`;
    throw new SbxError(`${layout} ${what}${top.length ? ` (its tags: ${listed(tags)})` : ''}`, 125, hits.length > 1 && tag === null ? 'name one: LAYOUT:TAG' : 'give LAYOUT:TAG with one of its tags');
  }
  let pick = hits[0]!;
  for (let depth = 0; pick.mediaType === MEDIA.index; depth++) {
    if (depth === MAX_NESTED) throw new SbxError(`the image index of ${layout} nests more than ${MAX_NESTED} indexes`, 125, 'the image is damaged or was tampered with');
    const inner = indexEntries(readJson(blobPath(layout, pick.digest), 'image index'), `${layout} (${pick.digest})`);
    const arch = GOARCH[process.arch] ?? process.arch;
    const mine = inner.filter((m) => m.platform?.os === 'linux' && m.platform.architecture === arch);
    const one = mine.length === 1 ? mine[0] : inner.length === 1 ? inner[0] : undefined;
    if (!one) {
      const platforms = inner.map((m) => `${String(m.platform?.os ?? '?')}/${String(m.platform?.architecture ?? '?')}`);
      throw new SbxError(`the image${name} in ${layout} is an index of ${inner.length} images with ${mine.length} for linux/${arch} (its platforms: ${listed(platforms)})`, 125, 'copy the one image wanted into a layout of its own (skopeo copy --override-arch)');
    }
    pick = one;
  }
  return pick;
}

/** Opens `LAYOUT[:TAG]` (see splitRef and pickManifest). */
export function readImage(ref: string): OciImage & { manifestDigest: string } {
  const { path, tag } = splitRef(ref);
  return openImage(path, tag);
}

/** The image of a layout pickManifest chooses, and its manifest's digest. */
export function openImage(layout: string, tag: string | null): OciImage & { manifestDigest: string } {
  const pick = pickManifest(layout, tag);
  const manifest = readJson(blobPath(layout, pick.digest), 'image manifest');
  checkManifest(manifest, pick.digest, layout);
  const config = readJson(blobPath(layout, manifest.config.digest), 'image config');
  checkConfig(config, manifest, layout);
  return { layout, manifest, config, manifestDigest: pick.digest };
}

/** A manifest read from a file (hostile) has the shape sbx relies on, or one line says it has not. */
export function checkManifest(m: unknown, digest: string, where: string): asserts m is OciImage['manifest'] {
  const manifest = m as OciImage['manifest'];
  if (!manifest || !isDescriptor(manifest.config) || !Array.isArray(manifest.layers) || !manifest.layers.every(isDescriptor)) {
    throw new SbxError(`image manifest ${digest} in ${where} is not an OCI image manifest`, 125);
  }
}

/** A config read from a file lists one well-formed diff-id per layer of its manifest. */
export function checkConfig(c: unknown, manifest: OciImage['manifest'], where: string): asserts c is OciImage['config'] {
  const config = c as OciImage['config'];
  if (!config?.rootfs || !Array.isArray(config.rootfs.diff_ids) || config.rootfs.diff_ids.length !== manifest.layers.length || !config.rootfs.diff_ids.every((d) => typeof d === 'string' && DIGEST.test(d))) {
    throw new SbxError(`image config ${manifest.config.digest} in ${where} does not list one diff-id per layer`, 125);
  }
}

/**
 * Copies a blob of `from` into the layout `to`, checking its digest on the way: read from the
 * image's own opener when it has one, else opened without following a symlink as its last
 * component; only a regular file is read, and nothing is kept unless its digest matches.
 */
/**
 * Copies what is left of fd `src` to fd `out`, 1 MiB at a time (a blob of any size in bounded
 * memory), and returns the sha256 digest of what was copied (`sha256:<hex>`): a blob is
 * checked against its name as it is written, never read twice.
 */
export function copyHashing(src: number, out: number): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  for (;;) {
    const n = readSync(src, buf, 0, buf.length, null);
    if (!n) break;
    h.update(buf.subarray(0, n));
    for (let off = 0; off < n;) off += writeSync(out, buf, off, n - off);
  }
  return `sha256:${h.digest('hex')}`;
}

function copyBlob(from: OciImage, to: string, d: Descriptor): void {
  const dst = blobPath(to, d.digest);
  const tmp = `${dst}.tmp-${process.pid}`;
  let src: number;
  try { src = from.openBlob ? from.openBlob(d.digest) : openSync(blobPath(from.layout, d.digest), C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK); } catch (e) {
    if (e instanceof SbxError) throw e;
    throw new SbxError(`cannot read blob ${d.digest} of ${from.layout}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 125, 'the image is damaged or was tampered with');
  }
  try {
    if (!fstatSync(src).isFile()) throw new SbxError(`blob ${d.digest} of ${from.layout} is not a regular file`, 125, 'the image is damaged or was tampered with');
    const out = openSync(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o644);
    let digest: string;
    try { digest = copyHashing(src, out); } finally { closeSync(out); }
    if (digest !== d.digest) throw new SbxError(`blob ${d.digest} of ${from.layout} does not match its digest`, 125, 'the image is damaged or was tampered with');
    renameSync(tmp, dst);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally { closeSync(src); }
}

export interface ImageInfo {
  /** `created_by` of the layer's history entry: the sandboxed command. */
  createdBy: string;
  comment: string;
  tag: string;
  arch: string;
  /** An image to put this layer on top of (docker commit's equivalent); its blobs are copied and verified. */
  base?: OciImage;
}

/**
 * Writes an OCI image layout at `dir` (new or empty) holding one image: the change list as its
 * only layer. Returns the layer and the manifest digest.
 */
export async function writeImageLayout(dir: string, scan: Pick<ScanResult, 'changes'>, opts: LayerOptions, info: ImageInfo): Promise<WrittenLayer & { manifest: string }> {
  if (existsSync(dir)) {
    const st = lstatSync(dir);
    if (!st.isDirectory() || readdirSync(dir).length) throw new SbxError(`${dir} exists and is not an empty directory`, 125, 'give -o a new directory');
  }
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true, mode: 0o755 });
  const tmp = join(blobs, `.layer-${process.pid}`);
  const layer = await streamLayer(scan, createWriteStream(tmp, { mode: 0o644 }), { ...opts, gzip: true });
  renameSync(tmp, join(blobs, layer.digest.slice(7)));
  const base = info.base;
  for (const l of base?.manifest.layers ?? []) copyBlob(base!, dir, l);
  const created = new Date().toISOString();
  const config = writeBlob(blobs, JSON.stringify({
    ...(base?.config ?? {}),
    created,
    architecture: base?.config.architecture ?? GOARCH[info.arch] ?? info.arch,
    os: base?.config.os ?? 'linux',
    config: base?.config.config ?? {},
    rootfs: { type: 'layers', diff_ids: [...(base?.config.rootfs.diff_ids ?? []), layer.diffId] },
    history: [...(base?.config.history ?? []), { created, created_by: info.createdBy, comment: info.comment }],
  }));
  const manifest = writeBlob(blobs, JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: { mediaType: MEDIA.config, ...config },
    layers: [...(base?.manifest.layers ?? []), { mediaType: MEDIA.layerGzip, digest: layer.digest, size: layer.size }],
  }));
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: MEDIA.layout }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.index,
    manifests: [{ mediaType: MEDIA.manifest, ...manifest, annotations: { 'org.opencontainers.image.ref.name': info.tag } }],
  }));
  return { ...layer, manifest: manifest.digest };
}
