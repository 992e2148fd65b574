// sandbox-core/image/merge.ts: the merged tree of an image's layers, with whiteouts and opaque
// directories applied as overlayfs applies them, built in work proportional to its size: a
// layer's directories are walked with an fd per level, never reopened from the top by path
// (one chain of 5000 directories cost sbx 12.5 million opens and minutes before).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unpackLayer } from '../../sandbox-core/image/unpack.js';
import { mergeLayers } from '../../sandbox-core/image/merge.js';
import type { LayerEntry } from '../../sandbox-core/image/tar-reader.js';
import { inodeReserveOf } from '../../sandbox-core/image/room.js';
import { testUnless } from '../helpers/skip.js';
import { smallTmpfs } from '../helpers/small-tmpfs.js';
import { createHash } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { ImageCache } from '../../sandbox-core/image/cache.js';
import { Store } from '../../sandbox-core/store.js';
import { tarPad, ustarHeader } from '../helpers/tar.js';

const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');
const IS_ROOT = process.getuid?.() === 0;
const DEPTH = 200;
const chain = Array.from({ length: DEPTH }, () => 'a').join('/');

function entry(name: string, type: LayerEntry['type'] = 'file', data = ''): LayerEntry {
  return { name, type, mode: type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, mtimeMs: 1_000_000, size: data.length, linkName: '', rdev: { major: 0, minor: 0 }, xattrs: [], chunks: contentOf(Buffer.from(data)) };
}
async function* contentOf(b: Buffer): AsyncGenerator<Buffer> { if (b.length) yield b; }
async function* entries(es: LayerEntry[]): AsyncGenerator<LayerEntry> { yield* es; }

/** Counts open(2) calls made through node:fs while `fn` runs (beneath.ts imports openSync by name). */
function countOpens(fn: () => void): number {
  const real = fs.openSync;
  let n = 0;
  fs.openSync = ((...a: Parameters<typeof real>) => { n++; return real(...a); }) as typeof real;
  syncBuiltinESMExports();
  try { fn(); } finally { fs.openSync = real; syncBuiltinESMExports(); }
  return n;
}

test('a deep tree merges with its whiteouts and opaque dirs, in opens proportional to its directories', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-imgmerge-'));
  try {
    const l1 = join(dir, 'l1'), l2 = join(dir, 'l2'), out = join(dir, 'out');
    for (const d of [l1, l2, out]) mkdirSync(d);
    await unpackLayer(entries([entry(`c/${chain}/f`, 'file', 'f'), entry('o', 'dir'), entry('o/old', 'file', 'old'), entry('w', 'file', 'w')]), l1, 'l1', IS_ROOT);
    await unpackLayer(entries([entry(`c/${chain}/g`, 'file', 'g'), entry('o/.wh..wh..opq'), entry('o/new', 'file', 'new'), entry('.wh.w')]), l2, 'l2', IS_ROOT);
    const opens = countOpens(() => mergeLayers([l1, l2], out, IS_ROOT));
    assert.is(readFileSync(join(out, 'c', chain, 'f'), 'utf8'), 'f');
    assert.is(readFileSync(join(out, 'c', chain, 'g'), 'utf8'), 'g');
    assert.equal(readdirSync(join(out, 'o')), ['new'], 'the opaque dir hides the lower layer');
    assert.ok(!existsSync(join(out, 'w')), 'the whiteout deletes');
    // About three walks of ~200 directories per layer, an open each; reopening every directory
    // from the top (the old way) took tens of thousands.
    assert.ok(opens < 20 * DEPTH, `${opens} opens for ${DEPTH + 2} directories`);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('every entry of every layer counts against the image\'s limit: one line past it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-imgmerge-'));
  try {
    const l1 = join(dir, 'l1'), l2 = join(dir, 'l2'), out = join(dir, 'out');
    for (const d of [l1, l2, out, join(dir, 'ok')]) mkdirSync(d);
    // Each layer alone is far below a layer's limit; together they are past the image's (5 here).
    await unpackLayer(entries([entry('a'), entry('b'), entry('d', 'dir')]), l1, 'l1', IS_ROOT);
    await unpackLayer(entries([entry('c'), entry('d/e'), entry('f')]), l2, 'l2', IS_ROOT);
    mergeLayers([l1, l2], join(dir, 'ok'), IS_ROOT, 'img', 7);
    let err: Error | null = null;
    try { mergeLayers([l1, l2], out, IS_ROOT, 'img', 5); } catch (e) { err = e as Error; }
    assert.match(err?.message ?? '', /^image "img" has more than 5 entries in all its layers, sbx's limit per image: refused$/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

/** A plain tar layer of empty files named `names`. */
const tarOf = (names: string[]): Buffer => Buffer.concat([...names.flatMap((n) => [ustarHeader(n), tarPad(0)]), Buffer.alloc(1024)]);

test("the layers unpacked for one image count against its limit together: the one past it stops with one line", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-imgmerge-cap-'));
  try {
    const layout = join(dir, 'layout');
    const blobs = join(layout, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    const put = (b: Buffer | string): string => { const d = sha(b); writeFileSync(join(blobs, d.slice(7)), b); return d; };
    const layers = [tarOf(['a', 'b', 'c']), tarOf(['d', 'e', 'f'])];
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => sha(l)) } });
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(config), size: config.length }, layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: put(l), size: l.length })) });
    writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: put(manifest), size: manifest.length }] }));
    const store = join(dir, 'store');
    mkdirSync(store);
    chmodSync(store, 0o700);
    const cache = new ImageCache(new Store(store));
    const { record, image } = await cache.importImage(layout);
    let err: Error | null = null;
    // Each layer's 3 entries are far below a layer's limit; the second passes the image's 5.
    try { await cache.ensureLayers(image, record, IS_ROOT, () => {}, 5); } catch (e) { err = e as Error; }
    assert.match(err?.message ?? '', /^image layer sha256:[0-9a-f]{64} has more than 2 entries, sbx's limit per image \(5 in all its layers\): refused$/);
    assert.equal(readdirSync(join(store, 'images', 'layers')), [record.diffIds[0]!.slice(7)], 'only the first layer is kept');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

const tmpfsCase = testUnless(IS_ROOT ? null : 'mounts a small tmpfs: the root run covers it');

tmpfsCase("the merged tree's directories take inodes from the store's 5% reserve: one line, never the last inode", async () => {
  const { mnt, release } = smallTmpfs('sbx-imgmerge-ino-', 'size=16m,nr_inodes=2000');
  try {
    const layer = join(mnt, 'l1'), out = join(mnt, 'out');
    mkdirSync(layer);
    mkdirSync(out);
    // 1200 directories fit once (the unpack leaves ~800 inodes), not twice: the merge makes its own.
    await unpackLayer(entries(Array.from({ length: 1200 }, (_, i) => entry(`d${i}`, 'dir'))), layer, 'l1', IS_ROOT);
    let err: Error | null = null;
    try { mergeLayers([layer], out, IS_ROOT, 'img'); } catch (e) { err = e as Error; }
    assert.match(err?.message ?? '', /the merged tree of "img" needs more inodes and the store's filesystem has \d+ free \(sbx keeps 100 free\): refused/);
    const st = statfsSync(mnt);
    assert.ok(st.ffree >= inodeReserveOf(st.files), `${st.ffree} inodes left of ${st.files}`);
  } finally {
    release();
  }
});

test.run();
