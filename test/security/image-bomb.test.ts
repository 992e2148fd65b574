// A compressed-layer bomb cannot fill the store's disk: a gzip layer that unpacks over 100
// times its blob (256 MiB of a repeated non-zero block in ~1 MB, beside a busybox of ~1 MB)
// stops before the store keeps less than its 5% reserve, with one line, exit 125, and leaves
// no partial layer in the cache. The store is a 64 MiB tmpfs (mounting needs root: the
// unprivileged run is a visible skip). Zeros are different: they stay holes and cost the
// store nothing, so the same size of zeros unpacks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { IS_ROOT, sbx } from '../helpers/sbx.js';
import { testUnless } from '../helpers/skip.js';
import { smallTmpfs } from '../helpers/small-tmpfs.js';
import { tarPad, ustarHeader } from '../helpers/tar.js';

const BUSYBOX = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p) && spawnSync('sh', ['-c', `file -L ${p} 2>/dev/null | grep -q 'statically linked'`]).status === 0);
const why = !IS_ROOT ? 'a small tmpfs store needs root to mount' : !BUSYBOX ? 'no static busybox' : null;
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const BOMB = 256 << 20;

const header = (name: string, type: string, size = 0, link = ''): Buffer => ustarHeader(name, { type, size, link, mode: 0o755, mtime: 0o14000000000 });
const pad = tarPad;

/**
 * A one-layer gzip OCI layout tagged `t`: busybox as /bin/true, and /bomb made of `block`
 * repeated to BOMB bytes (never held whole); or `files` empty files instead. The layer is gzip
 * members end to end (RFC 1952 allows it; `gunzip` and Node's Gunzip read them all): 32 MiB of
 * the bomb's blocks is compressed once and its member repeated, so the test does not deflate
 * 256 MiB to make it (~2.5 s of CPU at level 9), and the blob is about one deflate stream's.
 */
function bombLayout(dir: string, block: Buffer, files = 0): void {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const diff = createHash('sha256');
  const bb = readFileSync(BUSYBOX!);
  const parts: Buffer[] = [header('bin/', '5'), header('bin/busybox', '0', bb.length), bb, pad(bb.length), header('bin/true', '2', 0, 'busybox')];
  const members: Buffer[] = [];
  const gz = (...bs: Buffer[]): void => { for (const b of bs) diff.update(b); members.push(gzipSync(Buffer.concat(bs), { level: 9 })); };
  if (files) {
    for (let i = 0; i < files; i++) parts.push(header(`many/f${i}`, '0'));
    gz(...parts, Buffer.alloc(1024));
  } else {
    gz(...parts, header('bomb', '0', BOMB));
    // 32 MiB a member: each starts its window afresh (~1 KB more a member).
    const chunk = Buffer.concat(Array.from({ length: (32 << 20) / block.length }, () => block));
    const member = gzipSync(chunk, { level: 9 });
    for (let at = 0; at < BOMB; at += chunk.length) { diff.update(chunk); members.push(member); }
    gz(Buffer.alloc(1024));
  }
  const blob = Buffer.concat(members);
  const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${sha(blob)}`, size: blob.length };
  writeFileSync(join(blobs, layer.digest.slice(7)), blob);
  const put = (b: string): { digest: string; size: number } => { const d = sha(b); writeFileSync(join(blobs, d), b); return { digest: `sha256:${d}`, size: Buffer.byteLength(b) }; };
  const cfg = put(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [`sha256:${diff.digest('hex')}`] } }));
  const m = put(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg }, layers: [layer] }));
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': 't' } }] }));
  assert.ok(layer.size < 2 << 20, `the bomb's blob is ${layer.size} bytes`);
}

testUnless(why)('a gzip bomb stops at the store\'s reserve with one line and leaves nothing in the cache; zeros stay holes', () => {
  const { work, mnt, release } = smallTmpfs('sbx-imgbomb-', 'size=64m');
  try {
    const store = join(mnt, 'store');
    mkdirSync(store, { mode: 0o700 });
    const block = Buffer.alloc(4096);
    for (let i = 0; i < block.length; i++) block[i] = (i * 131 + 7) & 0xff || 1;
    const bomb = join(work, 'bomb');
    bombLayout(bomb, block);
    const r = sbx(['run', '-n', '-q', '--image', `${bomb}:t`, '--', '/bin/true'], { store, timeoutMs: 300_000 });
    assert.is(r.code, 125, r.stderr);
    assert.match(r.stderr, /image layer sha256:[0-9a-f]+ needs 1 MiB more and the store's filesystem has \d+ MiB free \(sbx keeps 4 MiB free\): refused/);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    const images = join(store, 'images');
    assert.equal(readdirSync(join(images, 'tmp')), [], 'the partial unpack is removed');
    assert.equal(readdirSync(join(images, 'layers')), [], 'no layer was cached');
    // The same size of zeros: holes, so it fits in the small store.
    const zeros = join(work, 'zeros');
    bombLayout(zeros, Buffer.alloc(1 << 20));
    const z = sbx(['run', '-n', '-q', '--image', `${zeros}:t`, '--', '/bin/true'], { store, timeoutMs: 300_000 });
    assert.is(z.code, 0, z.stderr);
    const layers = readdirSync(join(images, 'layers'));
    assert.is(layers.length, 1);
    const st = statSync(join(images, 'layers', layers[0]!, 'bomb'));
    assert.is(st.size, BOMB);
    assert.ok(st.blocks * 512 < 1 << 20, `${st.blocks * 512} bytes allocated`);
  } finally {
    release();
  }
});

testUnless(why)("a layer of more entries than the store has inodes to spare stops at the 5% inode reserve with one line", () => {
  const { work, mnt, release } = smallTmpfs('sbx-imgbomb-', 'size=64m,nr_inodes=2000');
  try {
    const store = join(mnt, 'store');
    mkdirSync(store, { mode: 0o700 });
    const many = join(work, 'many');
    bombLayout(many, Buffer.alloc(0), 5000);
    const r = sbx(['run', '-n', '-q', '--image', `${many}:t`, '--', '/bin/true'], { store, timeoutMs: 300_000 });
    assert.is(r.code, 125, r.stderr);
    assert.match(r.stderr, /image layer sha256:[0-9a-f]+ needs more inodes and the store's filesystem has \d+ free \(sbx keeps 100 free\): refused/);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(readdirSync(join(store, 'images', 'tmp')), [], 'the partial unpack is removed');
    assert.equal(readdirSync(join(store, 'images', 'layers')), [], 'no layer was cached');
  } finally {
    release();
  }
});

test.run();
