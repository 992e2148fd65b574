// sandbox-core/image/unpack.ts: a layer whose later entries replace earlier ones. The later
// entry wins, as in tar; nothing is ever done through a symlink the layer made, and a refusal
// is one line (an SbxError), never an internal error.
// sbx-test: host-free (it unpacks layers into its TMPDIR).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SbxError } from '../../sandbox-core/base/errors.js';
import { MAX_ENTRIES, unpackLayer } from '../../sandbox-core/image/unpack.js';
import type { LayerEntry } from '../../sandbox-core/image/tar-reader.js';
import { testUnless } from '../helpers/skip.js';

const IS_ROOT = process.getuid?.() === 0;

function entry(name: string, type: LayerEntry['type'] = 'file', opts: { mode?: number; link?: string } = {}): LayerEntry {
  return { name, type, mode: opts.mode ?? 0o644, uid: 0, gid: 0, mtimeMs: 1_000_000, size: 0, linkName: opts.link ?? '', rdev: { major: 0, minor: 0 }, xattrs: [], chunks: nothing() };
}
async function* nothing(): AsyncGenerator<Buffer> { /* no content */ }
async function* entries(es: LayerEntry[]): AsyncGenerator<LayerEntry> { yield* es; }

function fixture(): { dir: string; layer: string; canary: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-imgunpack-'));
  const layer = join(dir, 'layer');
  const canary = join(dir, 'canary');
  mkdirSync(layer);
  mkdirSync(canary, { mode: 0o700 });
  writeFileSync(join(canary, 'file'), 'x', { mode: 0o600 });
  return { dir, layer, canary };
}

test('a directory replaced by a later symlink: the symlink stays, the directory mode is never applied through it', async () => {
  const { dir, layer, canary } = fixture();
  try {
    await unpackLayer(entries([entry('d', 'dir', { mode: 0o777 }), entry('d', 'symlink', { link: canary }), entry('e', 'dir', { mode: 0o750 }), entry('.wh.e')]), layer, 'l', IS_ROOT);
    assert.is(readlinkSync(join(layer, 'd')), canary);
    assert.is(statSync(canary).mode & 0o7777, 0o700, 'the canary dir was chmod-ed through the symlink');
    assert.ok(lstatSync(join(layer, 'e')).isCharacterDevice(), 'a whiteout replaces the directory');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('an opaque marker below a symlink the layer made is refused with one line', async () => {
  const { dir, layer, canary } = fixture();
  try {
    let err: unknown = null;
    try { await unpackLayer(entries([entry('l', 'symlink', { link: canary }), entry('l/.wh..wh..opq')]), layer, 'l', IS_ROOT); } catch (e) { err = e; }
    assert.ok(err instanceof SbxError, `not a one-line refusal: ${String(err)}`);
    assert.match((err as Error).message, /goes through a symlink/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a layer of more entries than the limit is refused with one line naming the layer and the limit', async () => {
  const { dir, layer } = fixture();
  try {
    async function* many(): AsyncGenerator<LayerEntry> { for (let i = 0; i < 101; i++) yield entry(`f${i}`); }
    let err: unknown = null;
    try { await unpackLayer(many(), layer, 'sha256:abc', IS_ROOT, 100); } catch (e) { err = e; }
    assert.ok(err instanceof SbxError, `not a one-line refusal: ${String(err)}`);
    assert.match((err as Error).message, /^image layer sha256:abc has more than 100 entries, sbx's limit per layer: refused$/);
    assert.is(MAX_ENTRIES, 1_000_000);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

// ext4 (0xEF53) allows 65000 links to one inode; tmpfs has no such limit.
const EXT4 = statfsSync(tmpdir()).type === 0xef53;
testUnless(EXT4 ? null : `${tmpdir()} is not ext4 (no 65000-link limit to reach)`)('a layer linking one file more often than the filesystem allows is refused with one line', async () => {
  const { dir, layer } = fixture();
  try {
    async function* many(): AsyncGenerator<LayerEntry> {
      yield entry('t');
      for (let i = 0; i < 65_001; i++) yield entry(`l${i}`, 'hardlink', { link: 't' });
    }
    let err: unknown = null;
    try { await unpackLayer(many(), layer, 'l', IS_ROOT); } catch (e) { err = e; }
    assert.ok(err instanceof SbxError, `not a one-line refusal: ${String(err)}`);
    assert.match((err as Error).message, /"t" has more hard links than the store's filesystem allows/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test.run();
