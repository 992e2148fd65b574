// sandbox-core/image/tar-reader.ts + unpack.ts: a layer's file is streamed from the archive to
// its file in chunks, never held whole, and its zero regions stay holes. Entries were held
// whole (up to 1 GiB): a 512 MiB file made `sbx run --image` peak at 1.2 GB RSS, and a file
// over 1 GiB was refused. Runs first in its own process: the peak RSS asserted is this test's.
// sbx-test: host-free (it streams archives into its TMPDIR).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, openSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTar, CHUNK, type LayerEntry } from '../../sandbox-core/image/tar-reader.js';
import { unpackLayer } from '../../sandbox-core/image/unpack.js';
import { tarPad, ustarHeader } from '../helpers/tar.js';

const IS_ROOT = process.getuid?.() === 0;

const header = (name: string, size: number): Buffer => ustarHeader(name, { size });
const pad = tarPad;

const MARK = (at: number): Buffer => Buffer.from(`mark@${at}`);
const BIG = (1 << 30) + (1 << 20) + 7; // over the old 1 GiB cap, not a multiple of anything
const MARKS = [0, 5 << 20, 700 << 20, (1 << 30) + 1000]; // each inside one 256 KiB piece

/** `big`: BIG bytes of zeros with MARKS written at their offsets, made on the fly 256 KiB at a time (never held). */
async function* bigLayer(): AsyncGenerator<Buffer> {
  yield header('big', BIG);
  const step = 256 << 10;
  for (let at = 0; at < BIG; at += step) {
    const c = Buffer.alloc(Math.min(step, BIG - at));
    for (const m of MARKS) if (m >= at && m < at + c.length) MARK(m).copy(c, m - at);
    yield c;
  }
  yield pad(BIG);
  yield header('after', 3); yield Buffer.from('end'); yield pad(3);
  yield Buffer.alloc(1024);
}

test('a file over 1 GiB streams to disk in bounded memory, its zero regions left as holes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-imgstream-'));
  try {
    const layer = join(dir, 'layer');
    mkdirSync(layer);
    await unpackLayer(readTar(bigLayer()), layer, 'l', IS_ROOT);
    const st = statSync(join(layer, 'big'));
    assert.is(st.size, BIG);
    assert.ok(st.blocks * 512 <= 1 << 20, `the zeros were written: ${st.blocks * 512} bytes allocated`);
    const fd = openSync(join(layer, 'big'), 'r');
    try {
      for (const m of MARKS) {
        const b = Buffer.alloc(MARK(m).length);
        readSync(fd, b, 0, b.length, m);
        assert.is(b.toString(), MARK(m).toString());
      }
    } finally { closeSync(fd); }
    assert.is(statSync(join(layer, 'after')).size, 3, 'the entry after it is read in place');
    // maxRSS is in KiB: the whole file held once was over 1 GiB.
    const peak = process.resourceUsage().maxRSS * 1024;
    assert.ok(peak < 256 << 20, `peak RSS ${peak >> 20} MiB`);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('content comes in chunks of at most CHUNK bytes; unread content is skipped; a late read is refused', async () => {
  async function* src(): AsyncGenerator<Buffer> {
    const data = Buffer.alloc(3 * CHUNK + 5, 1);
    yield header('a', data.length); yield data; yield pad(data.length);
    yield header('b', 2); yield Buffer.from('ok'); yield pad(2);
    yield Buffer.alloc(1024);
  }
  const sizes: number[] = [];
  let first: LayerEntry | null = null;
  const seen: string[] = [];
  for await (const e of readTar(src())) {
    seen.push(e.name);
    if (e.name === 'a') { first = e; continue; } // not read: skipped by the reader
    for await (const c of e.chunks) sizes.push(c.length);
  }
  assert.equal(seen, ['a', 'b']);
  assert.equal(sizes, [2]);
  assert.ok(first);
  const again: number[] = [];
  let a: LayerEntry | null = null;
  for await (const e of readTar(src())) {
    if (e.name === 'a') { a = e; for await (const c of e.chunks) again.push(c.length); continue; }
    try { for await (const _ of a!.chunks) { /* late */ } assert.unreachable('a stale entry was read'); } catch (err) { assert.match((err as Error).message, /after the next one/); }
  }
  assert.equal(again, [CHUNK, CHUNK, CHUNK, 5]);
});

test.run();
