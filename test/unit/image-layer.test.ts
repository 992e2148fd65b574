// sandbox-core/image/layer-blob.ts: a layer is read only when its digest, size and diff-id all
// match; a tampered blob is refused with one line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { readImage } from '../../sandbox-core/export/oci.js';
import { readLayer } from '../../sandbox-core/image/layer-blob.js';

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function layout(dir: string, tar: Buffer, gzip: boolean): string {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer | string): string => { const d = sha(b); writeFileSync(join(blobs, d.slice(7)), b); return d; };
  const blob = gzip ? gzipSync(tar) : tar;
  const layer = { mediaType: `application/vnd.oci.image.layer.v1.tar${gzip ? '+gzip' : ''}`, digest: put(blob), size: blob.length };
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(tar)] } });
  const cfg = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(config), size: config.length };
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: cfg, layers: [layer] });
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: put(manifest), size: manifest.length }] }));
  return join(blobs, layer.digest.slice(7));
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of readLayer(readImage(dir), 0)) {
    const parts: Buffer[] = [];
    for await (const c of e.chunks) parts.push(c);
    out.push(`${e.name}:${e.type}:${Buffer.concat(parts).toString()}`);
  }
  return out;
}

async function refused(dir: string, re: RegExp): Promise<void> {
  try { await names(dir); } catch (e) { assert.match((e as Error).message, re); assert.not.match((e as Error).message, /\n/); return; }
  assert.unreachable('a tampered layer was read');
}

test('a gzip and a plain layer read back; tampering with either is refused', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sbx-imglayer-'));
  try {
    const src = join(tmp, 'src');
    mkdirSync(join(src, 'etc'), { recursive: true });
    writeFileSync(join(src, 'etc', 'os-release'), 'ID=test\n');
    const tar = execFileSync('tar', ['--format=posix', '-C', src, '-cf', '-', 'etc']);
    for (const gzip of [true, false]) {
      const dir = join(tmp, `img-${gzip}`);
      const blob = layout(dir, tar, gzip);
      assert.equal(await names(dir), ['etc:dir:', 'etc/os-release:file:ID=test\n']);
      const good = readFileSync(blob);
      const bad = Buffer.from(good); bad[bad.length - 30]! ^= 0x40;
      writeFileSync(blob, bad);
      await refused(dir, /does not match its digest/);
      writeFileSync(blob, good.subarray(0, good.length - 1));
      await refused(dir, /does not match its digest/);
    }
    // A blob whose digest is right but whose config names another diff-id (a swapped layer).
    const dir = join(tmp, 'swap');
    layout(dir, tar, true);
    const img = readImage(dir);
    img.config.rootfs.diff_ids[0] = sha('something else');
    try { for await (const _ of readLayer(img, 0)) { /* read */ } assert.unreachable('read'); } catch (e) { assert.match((e as Error).message, /does not match its diff-id/); }
  } finally { rmSync(tmp, { recursive: true, force: true }); }
});

test.run();
