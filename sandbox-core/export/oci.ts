// OCI image-spec output: a gzip layer with its diff-id and digest, and an image layout
// directory (oci-layout, index.json, blobs/sha256/…) whose config lists the layer's diff-id.
import { createHash } from 'node:crypto';
import { createGzip } from 'node:zlib';
import { PassThrough, type Writable } from 'node:stream';
import { once } from 'node:events';
import {
  createWriteStream, mkdirSync, renameSync, writeFileSync, existsSync, readdirSync, lstatSync, openSync, readSync, closeSync,
  fstatSync, copyFileSync, constants as C,
} from 'node:fs';
import { join } from 'node:path';
import { TarWriter } from './tar.js';
import { writeLayer, type LayerOptions, type LayerReport } from './layer.js';
import type { ScanResult } from '../changes/scan.js';
import { SbxError } from '../base/errors.js';

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

/** Opens `LAYOUT[:TAG]`: the image tagged TAG, or the layout's only image. */
export function readImage(ref: string): OciImage {
  const colon = ref.lastIndexOf(':');
  const [layout, tag] = colon > 0 && !ref.slice(colon + 1).includes('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, null];
  const index = readJson(join(layout, 'index.json'), 'image index') as { manifests?: unknown };
  const list = Array.isArray(index.manifests) ? index.manifests.filter(isDescriptor) as Array<Descriptor & { annotations?: Record<string, string> }> : [];
  const pick = tag === null ? (list.length === 1 ? list[0] : undefined) : list.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!pick) throw new SbxError(`no image ${tag === null ? '(the layout holds several: name one)' : `tagged '${tag}'`} in ${layout}`, 125, 'give LAYOUT:TAG');
  const manifest = readJson(blobPath(layout, pick.digest), 'image manifest');
  checkManifest(manifest, pick.digest, layout);
  const config = readJson(blobPath(layout, manifest.config.digest), 'image config');
  checkConfig(config, manifest, layout);
  return { layout, manifest, config };
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

/** Copies a blob between layouts, checking its digest on the way. */
function copyBlob(from: string, to: string, d: Descriptor): void {
  const src = blobPath(from, d.digest);
  const dst = blobPath(to, d.digest);
  const tmp = `${dst}.tmp-${process.pid}`;
  copyFileSync(src, tmp);
  const h = createHash('sha256');
  const fd = openSync(tmp, C.O_RDONLY);
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) { const n = readSync(fd, buf, 0, buf.length, null); if (!n) break; h.update(buf.subarray(0, n)); }
  } finally { closeSync(fd); }
  if (`sha256:${h.digest('hex')}` !== d.digest) throw new SbxError(`blob ${d.digest} of ${from} does not match its digest`, 125, 'the image is damaged or was tampered with');
  renameSync(tmp, dst);
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

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

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
  for (const l of base?.manifest.layers ?? []) copyBlob(base!.layout, dir, l);
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
