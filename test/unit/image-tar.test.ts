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
type Read = LayerEntry & { data: Buffer };
/** Every entry with its content read (as a consumer must, before the next entry). */
async function all(src: AsyncIterable<Buffer>): Promise<Read[]> {
  const out: Read[] = [];
  for await (const e of readTar(src)) {
    const parts: Buffer[] = [];
    for await (const c of e.chunks) parts.push(c);
    out.push({ ...e, data: Buffer.concat(parts) });
  }
  return out;
}
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

/** One ustar entry whose name (or link target) may be any length, through a pax header. */
function paxEntry(name: string, opts: { type?: string; link?: string; data?: Buffer; size?: number } = {}): Buffer {
  const header = (n: string, type: string, size: number, link = ''): Buffer => {
    const h = Buffer.alloc(512);
    h.write(n.slice(0, 99), 0, 'latin1');
    h.write('0000644\0', 100); h.write('0000000\0', 108); h.write('0000000\0', 116);
    h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write(type, 156);
    h.write(link.slice(0, 99), 157, 'latin1');
    h.write('ustar\0' + '00', 257, 'latin1');
    h.fill(0x20, 148, 156);
    let sum = 0; for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    return h;
  };
  const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
  const rec = (k: string, v: string): string => {
    const body = ` ${k}=${v}\n`;
    let len = body.length;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    return `${len}${body}`;
  };
  const pax = Buffer.from(rec('path', name) + (opts.link ? rec('linkpath', opts.link) : ''), 'latin1');
  const data = opts.data ?? Buffer.alloc(0);
  const size = opts.size ?? data.length;
  return Buffer.concat([header('pax', 'x', pax.length), pad(pax), header(name, opts.type ?? '0', size, opts.link), pad(data)]);
}

test('names longer than PATH_MAX or deeper than 256 levels are refused (each level costs an open per entry)', async () => {
  const end = Buffer.alloc(1024);
  await rejects(all(once(Buffer.concat([paxEntry('d/'.repeat(2100) + 'f'), end]))), /longer than 4095 bytes/);
  await rejects(all(once(Buffer.concat([paxEntry('d/'.repeat(300) + 'f'), end]))), /more than 256 levels deep/);
  await rejects(all(once(Buffer.concat([paxEntry('h', { type: '1', link: 'd/'.repeat(300) + 'f' }), end]))), /more than 256 levels deep/);
  await rejects(all(once(Buffer.concat([paxEntry('s', { type: '2', link: 'x'.repeat(5000) }), end]))), /link target .* longer than 4095/);
  // At the limits: read.
  const ok = await all(once(Buffer.concat([paxEntry('d/'.repeat(255) + 'f'), paxEntry('s', { type: '2', link: 'x'.repeat(4095) }), end])));
  assert.equal(ok.map((e) => e.name.split('/').length), [256, 1]);
});

test('a big entry in many small chunks reads back exactly; the blocks of a data-less entry are skipped', async () => {
  const data = Buffer.alloc(3 << 20);
  for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i, i);
  // A symlink whose size field claims 1 MiB of blocks: they are skipped, never taken as data.
  const tar = Buffer.concat([paxEntry('big', { data }), paxEntry('s', { type: '2', link: 't', data: Buffer.alloc(1 << 20, 7) }), paxEntry('after', { data: Buffer.from('x') }), Buffer.alloc(1024)]);
  const es = await all(chunks(tar, 1000));
  assert.equal(es.map((e) => [e.name, e.type, e.data.length]), [['big', 'file', 3 << 20], ['s', 'symlink', 0], ['after', 'file', 1]]);
  assert.ok(es[0]!.data.equals(data), 'the data survives the chunking');
  assert.is(es[2]!.data.toString(), 'x');
});

test.run();
