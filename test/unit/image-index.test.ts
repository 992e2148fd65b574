// sandbox-core/export/oci.ts pickManifest: one rule says which image LAYOUT[:TAG] means, for
// `sbx run --image` (the cache) and `sbx export --base` alike. Each had its own: the export
// split `LAYOUT:debian:12` at the last colon (no layout `LAYOUT:debian`), the cache took the
// first well-formed digest where the export skipped an entry that was not a full descriptor.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImage } from '../../sandbox-core/export/oci.js';
import { ImageCache } from '../../sandbox-core/image/cache.js';
import { Store } from '../../sandbox-core/store.js';

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const ARCH = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;

/** A layout whose index lists `entries` (made by `make` with the layout's put()). */
function layout(dir: string, make: (image: (label: string) => { mediaType: string; digest: string; size: number }, put: (b: string) => string) => unknown[]): void {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (b: string): string => { const d = sha(b); writeFileSync(join(blobs, d.slice(7)), b); return d; };
  const image = (label: string): { mediaType: string; digest: string; size: number } => {
    const layer = `layer of ${label}`;
    const config = JSON.stringify({ architecture: ARCH, os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(layer)] } });
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(config), size: config.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: put(layer), size: layer.length }] });
    return { mediaType: MANIFEST, digest: put(manifest), size: manifest.length };
  };
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: make(image, put) }));
}
const tagged = (d: object, tag: string): object => ({ ...d, annotations: { 'org.opencontainers.image.ref.name': tag } });

/** What `sbx export --base REF` and `sbx run --image REF` each take REF to mean (or their one-line errors). */
async function both(ref: string, store: string): Promise<[string, string]> {
  const err = (e: unknown): string => { const m = (e as Error).message; assert.not.match(m, /\n/); return `error: ${m}`; };
  let exp: string, run: string;
  try { exp = readImage(ref).manifestDigest; } catch (e) { exp = err(e); }
  try { run = (await new ImageCache(new Store(store)).importImage(ref)).record.manifest; } catch (e) { run = err(e); }
  return [exp, run];
}

test('a 2-manifest index: run --image and export --base pick the same image for each tag, and neither guesses without one', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sbx-imgindex-'));
  try {
    const dir = join(tmp, 'layout');
    let a = '', b = '';
    layout(dir, (image) => { const ia = image('a'); const ib = image('b'); a = ia.digest; b = ib.digest; return [tagged(ia, 'a'), tagged(ib, 'debian:12')]; });
    const store = join(tmp, 'store');
    mkdirSync(store, { mode: 0o700 });
    assert.equal(await both(`${dir}:a`, store), [a, a]);
    assert.equal(await both(`${dir}:debian:12`, store), [b, b], 'a tag holding a colon (skopeo oci:DIR:debian:12)');
    const [exp, run] = await both(dir, store);
    assert.is(exp, run);
    assert.match(exp, /holds 2 images \(its tags: 'a', 'debian:12'\)/);
    const [exp2, run2] = await both(`${dir}:nope`, store);
    assert.is(exp2, run2);
    assert.match(exp2, /has no image tagged 'nope' \(its tags: 'a', 'debian:12'\)/);
  } finally { rmSync(tmp, { recursive: true, force: true }); }
});

test('a tag named twice, or an index entry that is not a descriptor, is refused by both', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sbx-imgindex-'));
  try {
    const store = join(tmp, 'store');
    mkdirSync(store, { mode: 0o700 });
    const twice = join(tmp, 'twice');
    layout(twice, (image) => [tagged(image('a'), 'x'), tagged(image('b'), 'x')]);
    const [e1, r1] = await both(`${twice}:x`, store);
    assert.is(e1, r1);
    assert.match(e1, /holds 2 images tagged 'x'/);
    // The cache took this entry's digest (it has one) while the export skipped it (no size).
    const partial = join(tmp, 'partial');
    layout(partial, (image) => { const ia = image('a'); return [tagged({ mediaType: MANIFEST, digest: ia.digest }, 'x'), tagged(image('b'), 'x')]; });
    const [e2, r2] = await both(`${partial}:x`, store);
    assert.is(e2, r2);
    assert.match(e2, /entry 1 of the image index .* is not a descriptor/);
  } finally { rmSync(tmp, { recursive: true, force: true }); }
});

test("a nested index (multi-platform) gives this machine's image; tags are escaped in the error", async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sbx-imgindex-'));
  try {
    const store = join(tmp, 'store');
    mkdirSync(store, { mode: 0o700 });
    const dir = join(tmp, 'multi');
    let mine = '';
    layout(dir, (image, put) => {
      const m = image('mine');
      mine = m.digest;
      const inner = JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [{ ...image('other'), platform: { os: 'linux', architecture: 'riscv64' } }, { ...m, platform: { os: 'linux', architecture: ARCH } }] });
      return [tagged({ mediaType: INDEX, digest: put(inner), size: inner.length }, 'multi'), tagged(image('evil'), 'x\x1b[31m')];
    });
    assert.equal(await both(`${dir}:multi`, store), [mine, mine]);
    const [exp, run] = await both(dir, store);
    assert.is(exp, run);
    assert.match(exp, /its tags: 'multi', 'x\\x1b\[31m'/);
  } finally { rmSync(tmp, { recursive: true, force: true }); }
});

test.run();
