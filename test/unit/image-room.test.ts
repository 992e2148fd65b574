// sandbox-core/image/room.ts: an image cannot fill the store's disk. A layer blob that is a
// sparse file (free space + 2 GiB of zeros, costing the layout nothing) with a manifest that
// declares that size is refused before a byte is copied, where the cache copied zeros until
// the disk was full.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageCache } from '../../sandbox-core/image/cache.js';
import { Store } from '../../sandbox-core/store.js';
import { reserveOf, RoomBudget } from '../../sandbox-core/image/room.js';

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('a layer blob bigger than the free space is refused before it is copied', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-imgroom-'));
  try {
    const layout = join(dir, 'layout');
    const blobs = join(layout, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    const st = statfsSync(dir);
    const size = st.bavail * st.bsize + 2 * 2 ** 30;
    // Its digest is never reached: the size alone refuses it.
    const fake = `sha256:${'ab'.repeat(32)}`;
    const fd = openSync(join(blobs, fake.slice(7)), 'w');
    try { ftruncateSync(fd, size); } finally { closeSync(fd); }
    const put = (b: string): string => { const d = sha(b); writeFileSync(join(blobs, d.slice(7)), b); return d; };
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [fake] } });
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(config), size: config.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: fake, size }] });
    writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: put(manifest), size: manifest.length }] }));
    const store = join(dir, 'store');
    mkdirSync(store, { mode: 0o700 });
    let err: Error | null = null;
    try { await new ImageCache(new Store(store)).importImage(layout); } catch (e) { err = e as Error; }
    assert.ok(err, 'the import went on');
    assert.match(err!.message, /store's filesystem has \d+ MiB free/);
    const cached = join(store, 'images', 'blobs', 'sha256');
    const big = readdirSync(cached).filter((n) => statSync(join(cached, n)).size > 1 << 20);
    assert.equal(big, [], 'nothing big was written');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('the reserve is 5% of the filesystem, at most 1 GiB', () => {
  assert.is(reserveOf(100 << 20), 5 << 20);
  assert.is(reserveOf(1e12), 1 << 30);
});

test('a budget asked for inodes only never refuses for bytes; bytes beyond the free space are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-imgroom-'));
  try {
    const room = new RoomBudget(dir, 'test');
    for (let i = 0; i < 10_000; i++) room.take(0, 1);
    const st = statfsSync(dir);
    // More than is free: refused on the first look, whatever the disk.
    const big = new RoomBudget(dir, 'big');
    let err: Error | null = null;
    try { for (let i = 0; i < 64; i++) big.take(st.bavail * st.bsize); } catch (e) { err = e as Error; }
    assert.match(err?.message ?? '', /big needs \d+ MiB more/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test.run();
