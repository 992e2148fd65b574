// sandbox-core/image/tar-reader.ts: image layers read back exactly (pax, GNU and sbx's own
// writer), OCI whiteouts recognised, and damaged or hostile archives refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { TarWriter } from '../../sandbox-core/export/tar.js';
import { readTar, layerOp, cleanName, type LayerEntry } from '../../sandbox-core/image/tar-reader.js';

async function* once(b: Buffer): AsyncGenerator<Buffer> { yield b; }
/** Splits the archive into odd-sized chunks, so headers straddle chunk boundaries. */
async function* chunks(b: Buffer, n = 77): AsyncGenerator<Buffer> { for (let i = 0; i < b.length; i += n) yield b.subarray(i, i + n); }
async function all(src: AsyncIterable<Buffer>): Promise<LayerEntry[]> { const out: LayerEntry[] = []; for await (const e of readTar(src)) out.push(e); return out; }
async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  try { await p; } catch (e) { assert.match((e as Error).message, re); return; }
  assert.unreachable('accepted');
}

async function sbxTar(): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-imgtar-'));
  try {
    const f = join(dir, 'f');
    writeFileSync(f, 'hello\n');
    const out = new PassThrough();
    const parts: Buffer[] = [];
    out.on('data', (c: Buffer) => parts.push(c));
    const w = new TarWriter(out);
    const long = `${'d'.repeat(120)}/${'n'.repeat(150)}\xff`;
    await w.add({ name: 'etc', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtimeMs: 1000 });
    await w.add({ name: 'etc/hello', type: 'file', mode: 0o4755, uid: 3000000, gid: 5, mtimeMs: 1500, size: 6, xattrs: [['user.k', Buffer.from('v')]] }, openSync(f, 'r'));
    await w.add({ name: long, type: 'file', mode: 0o600, uid: 1, gid: 1, mtimeMs: 0, size: 6 }, openSync(f, 'r'));
    await w.add({ name: 'etc/link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtimeMs: 0, linkName: `/${'t'.repeat(200)}` });
    await w.add({ name: 'etc/hard', type: 'hardlink', mode: 0o644, uid: 0, gid: 0, mtimeMs: 0, linkName: 'etc/hello' });
    await w.add({ name: 'etc/.wh.gone', type: 'file', mode: 0, uid: 0, gid: 0, mtimeMs: 0, size: 0 });
    await w.add({ name: 'var/.wh..wh..opq', type: 'file', mode: 0, uid: 0, gid: 0, mtimeMs: 0, size: 0 });
    await w.finish();
    return Buffer.concat(parts);
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

test("sbx's own layers read back exactly, across chunk boundaries", async () => {
  const tar = await sbxTar();
  for (const src of [once(tar), chunks(tar)]) {
    const es = await all(src);
    assert.equal(es.map((e) => [e.name, e.type]), [
      ['etc', 'dir'], ['etc/hello', 'file'], [`${'d'.repeat(120)}/${'n'.repeat(150)}\xff`, 'file'],
      ['etc/link', 'symlink'], ['etc/hard', 'hardlink'], ['etc/.wh.gone', 'file'], ['var/.wh..wh..opq', 'file'],
    ]);
    const hello = es[1];
    assert.is(hello!.data.toString(), 'hello\n');
    assert.is(hello!.mode, 0o4755);
    assert.is(hello!.uid, 3000000, 'a big uid comes from the pax header');
    assert.is(hello!.mtimeMs, 1500);
    assert.equal(hello!.xattrs, [['user.k', Buffer.from('v')]]);
    assert.is(es[3]!.linkName, `/${'t'.repeat(200)}`);
    assert.is(es[4]!.linkName, 'etc/hello');
    assert.equal(es.map(layerOp).map((o) => o.op === 'put' ? o.entry.name : `${o.op}:${o.op === 'opaque' ? o.dir : o.name}`).slice(5),
      ['whiteout:etc/gone', 'opaque:var']);
  }
});

test('GNU tar archives (long-name headers, ./ prefixes) read back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-imgtar-'));
  try {
    const root = join(dir, 'root');
    const deep = join(root, 'a'.repeat(90), 'b'.repeat(90));
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'file'), 'x');
    symlinkSync('../x', join(root, 'sl'));
    for (const format of ['gnu', 'posix']) {
      const tar = execFileSync('tar', [`--format=${format}`, '-C', root, '-cf', '-', '.'], { maxBuffer: 1 << 24 });
      const es = await all(chunks(tar, 1000));
      const names = es.map((e) => e.name).sort();
      assert.equal(names, ['', 'a'.repeat(90), `${'a'.repeat(90)}/${'b'.repeat(90)}`, `${'a'.repeat(90)}/${'b'.repeat(90)}/file`, 'sl'], format);
      assert.is(es.find((e) => e.name === 'sl')!.linkName, '../x');
      assert.is(es.find((e) => e.name.endsWith('/file'))!.data.toString(), 'x');
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('damaged and hostile archives are refused, never cleaned up', async () => {
  const tar = await sbxTar();
  const flipped = Buffer.from(tar); flipped[10]! ^= 1;
  await rejects(all(once(flipped)), /checksum/);
  await rejects(all(once(tar.subarray(0, 1536 + 100))), /truncated/);
  for (const evil of ['../etc/passwd', 'a/../../b']) {
    const h = Buffer.from(tar.subarray(0, 512));
    h.fill(0, 0, 100); h.write(evil, 0, 'latin1');
    h.fill(0x20, 148, 156);
    let sum = 0; for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
    await rejects(all(once(Buffer.concat([h, Buffer.alloc(1024)]))), /leaves the root/);
  }
  assert.is(cleanName('/./a//b/'), 'a/b', 'a leading / or ./ is the layer root, as in docker');
  assert.throws(() => layerOp({ name: 'd/.wh...', type: 'file' } as LayerEntry), /whiteout/);
  assert.throws(() => layerOp({ name: 'd/.wh.', type: 'file' } as LayerEntry), /whiteout/);
});

test.run();
