// One layer of an OCI image as a verified stream of entries: the blob's digest is checked
// before a byte of it is trusted, and the uncompressed stream against the config's diff-id
// before the reader finishes — a consumer keeps what it unpacked only once iteration completes.
import { createHash } from 'node:crypto';
import { closeSync, constants as C, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { SbxError } from '../base/errors.js';
import { blobPath, type OciImage } from '../export/oci.js';
import { readTar, type LayerEntry } from './tar-reader.js';

const GZIP = new Set(['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.docker.image.rootfs.diff.tar.gzip']);
const PLAIN = new Set(['application/vnd.oci.image.layer.v1.tar']);
const TAMPERED = 'the image is damaged or was tampered with';

function openBlob(img: OciImage, digest: string): number {
  try { return img.openBlob ? img.openBlob(digest) : openSync(blobPath(img.layout, digest), C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK); } catch (e) {
    if (e instanceof SbxError) throw e;
    throw new SbxError(`cannot read layer ${digest} of ${img.layout}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 125, TAMPERED);
  }
}

/** Reads layer `i` of `img`, refusing it (one SbxError line) if its digest, size or diff-id is wrong. */
export async function* readLayer(img: OciImage, i: number): AsyncGenerator<LayerEntry> {
  const d = img.manifest.layers[i];
  const diffId = img.config.rootfs.diff_ids[i];
  if (!d || !diffId) throw new SbxError(`${img.layout} has no layer ${i}`, 125, TAMPERED);
  const digest = d.digest;
  if (!GZIP.has(d.mediaType) && !PLAIN.has(d.mediaType)) {
    throw new SbxError(`layer ${d.digest} of ${img.layout} has media type ${JSON.stringify(d.mediaType).slice(0, 100)}, which sbx cannot read`, 125, 'use gzip or uncompressed layers');
  }
  let fd = openBlob(img, d.digest);
  try {
    if (!fstatSync(fd).isFile()) throw new SbxError(`layer ${d.digest} of ${img.layout} is not a regular file`, 125, TAMPERED);
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 20);
    let size = 0;
    for (;;) { const n = readSync(fd, buf, 0, buf.length, null); if (!n) break; h.update(buf.subarray(0, n)); size += n; }
    if (size !== d.size || `sha256:${h.digest('hex')}` !== d.digest) throw new SbxError(`layer ${d.digest} of ${img.layout} does not match its digest`, 125, TAMPERED);
  } finally { closeSync(fd); }
  // Read again from a fresh open: the checked bytes and the unpacked ones are the same file,
  // and a layout someone rewrites while sbx reads it fails the diff-id check below.
  fd = openBlob(img, d.digest);
  const raw = createReadStream('', { fd, autoClose: true });
  const stream = GZIP.has(d.mediaType) ? raw.pipe(createGunzip()) : raw;
  const diff = createHash('sha256');
  async function* hashed(): AsyncGenerator<Buffer> {
    try {
      for await (const c of stream as AsyncIterable<Buffer>) { diff.update(c); yield c; }
    } catch (e) {
      if (e instanceof SbxError) throw e;
      throw new SbxError(`layer ${digest} of ${img.layout} cannot be decompressed: ${(e as Error).message}`, 125, TAMPERED);
    }
  }
  try {
    const src = hashed();
    yield* readTar(src);
    // Drain what follows the end-of-archive blocks: it is part of the diff-id.
    for await (const _ of src) { /* hashed */ }
    if (`sha256:${diff.digest('hex')}` !== diffId) throw new SbxError(`layer ${d.digest} of ${img.layout} does not match its diff-id ${diffId}`, 125, TAMPERED);
  } finally { raw.destroy(); }
}
