// sandbox-core/image/merge.ts: the merged tree of an image's layers, with whiteouts and opaque
// directories applied as overlayfs applies them, built in work proportional to its size: a
// layer's directories are walked with an fd per level, never reopened from the top by path
// (one chain of 5000 directories cost sbx 12.5 million opens and minutes before).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unpackLayer } from '../../sandbox-core/image/unpack.js';
import { mergeLayers } from '../../sandbox-core/image/merge.js';
import type { LayerEntry } from '../../sandbox-core/image/tar-reader.js';

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

test.run();
