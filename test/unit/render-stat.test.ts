// diff --stat counts: new and gone files are counted without a diff, modified files diffed;
// the numbers match what the unified diff of the same change shows.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { makeFixture, markStarted, whiteout, copyUp, write, type Fixture } from './changes-fixture.js';
import { scanSandbox } from '../../sandbox-core/changes/scan.js';
import { DIFF_MAX_BYTES, fileDiff, renderDiffs, renderStat, STAT_MAX_BYTES, writeDiffs } from '../../cli/render-changes.js';
import { countLines } from '../../sandbox-core/changes/content.js';

const plain = { green: (s: string) => s, red: (s: string) => s, yellow: (s: string) => s, cyan: (s: string) => s, magenta: (s: string) => s, dim: (s: string) => s, bold: (s: string) => s };
let f: Fixture;
test.before.each(() => { f = makeFixture(); });
test.after.each(() => f.cleanup());

test('per-file counts for added, modified, deleted, unterminated, empty and binary files', async () => {
  const H = (p: string) => join(f.host, p);
  const U = (p: string) => join(f.upper(), p);
  write(H('mod.txt'), 'a\nb\nc\nd\n');
  write(H('gone.txt'), 'x\ny\nz\n');
  markStarted(f);
  write(U('new.txt'), 'one\ntwo\nthree\n');
  write(U('noeol.txt'), 'one\ntwo');
  write(U('empty.txt'), '');
  writeFileSync(U('bin'), Buffer.from([1, 0, 2, 10]));
  writeFileSync(U('latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 10]));
  copyUp(H('mod.txt'), U('mod.txt'));
  writeFileSync(U('mod.txt'), 'a\nB\nc\nd\ne\n');
  whiteout(U('gone.txt'));
  const { changes } = scanSandbox(f.meta);
  const out = await renderStat(changes, plain);
  const row = (n: string) => out.split('\n').find((l) => l.includes(`/${n} `))!.split('|')[1]!.trim();
  assert.is(row('new.txt'), '+3 -0');
  assert.is(row('noeol.txt'), '+2 -0');
  assert.is(row('empty.txt'), '+0 -0');
  assert.is(row('mod.txt'), '+2 -1');
  assert.is(row('gone.txt'), '+0 -3');
  assert.match(row('bin'), /^Bin 0 -> 4 bytes$/);
  assert.match(row('latin1.txt'), /^Bin /);
  // The same numbers as the unified diff.
  for (const c of changes.filter((x) => x.type === 'file')) {
    const d = await fileDiff(c);
    if (!d?.lines) continue;
    assert.is(row(c.path.slice(f.host.length + 1)), `+${d.added} -${d.removed}`, c.path);
  }
  assert.match(out, / 1 modified, 5 added, 1 deleted\n$/);
});

test('the scan counts new files\' lines exactly as Node would: UTF-8 edge cases, NULs, sizes, names, links', async () => {
  const H = (p: string) => join(f.host, p);
  const U = (p: string) => join(f.upper(), p);
  mkdirSync(H('was-dir'));
  markStarted(f);
  const files: Record<string, Buffer> = {
    'plain.txt': Buffer.from('a\nb\n'), 'noeol.txt': Buffer.from('a\nb'), 'empty': Buffer.alloc(0), 'nl-only': Buffer.from('\n\n\n'),
    'utf8-4byte': Buffer.from('smile \u{1f600}\n'), 'utf8-2byte': Buffer.from('caf\u00e9\n'),
    'overlong': Buffer.from([0x61, 0xc0, 0xaf, 0x0a]), 'surrogate': Buffer.from([0xed, 0xa0, 0x80, 0x0a]),
    'past-10ffff': Buffer.from([0xf4, 0x90, 0x80, 0x80, 0x0a]), 'cut-seq': Buffer.from([0x61, 0x0a, 0xe2, 0x82]),
    'lone-cont': Buffer.from([0x80, 0x0a]), 'e0-low': Buffer.from([0xe0, 0x80, 0xaf]), 'f0-low': Buffer.from([0xf0, 0x80, 0x80, 0x80]),
    'nul-first': Buffer.from([0, 0x61, 0x0a]), 'nul-late': Buffer.concat([Buffer.alloc(200_000, 0x61), Buffer.from([0])]),
    'at-cap': Buffer.alloc(4096, 0x0a), 'past-cap': Buffer.alloc(4097, 0x0a),
    [`deep/${'d/'.repeat(40)}leaf`]: Buffer.from('x\ny\n'),
    'was-dir': Buffer.from('now a file\n'),
  };
  for (const [n, b] of Object.entries(files)) write(U(n), b);
  writeFileSync(Buffer.concat([Buffer.from(`${U('')}/`), Buffer.from([0x6e, 0xff, 0x0a])]), 'bytes\nname\n');
  linkSync(U('plain.txt'), U('hard.txt'));
  symlinkSync(U('plain.txt'), U('link'));
  spawnSync('mkfifo', [U('fifo')]);
  const cap = 4096;
  const counted = scanSandbox(f.meta, { countLinesUpTo: cap, fewXattrs: true });
  const plainScan = scanSandbox(f.meta, { fewXattrs: true });
  let n = 0;
  for (const c of counted.changes) {
    if (c.type !== 'file') { assert.is(c.lines, undefined, c.path); continue; }
    const want = countLines(c.upper!, c.up!.size, cap).lines;
    assert.is(c.lines, want, c.path);
    n++;
  }
  assert.is(n, Object.keys(files).length + 2);
  // --stat prints the same whether the helper or Node counted (Node reads with a 1 MiB cap).
  const withLines = scanSandbox(f.meta, { countLinesUpTo: STAT_MAX_BYTES, fewXattrs: true });
  assert.is(await renderStat(withLines.changes, plain), await renderStat(plainScan.changes, plain));
  assert.ok(withLines.changes.some((c) => c.lines === 2));
});

test('the diffs are the same whether the scan brought new files\' text or sbx read it', async () => {
  const H = (p: string) => join(f.host, p);
  const U = (p: string) => join(f.upper(), p);
  write(H('mod.txt'), 'a\nb\n');
  mkdirSync(H('was-dir'));
  markStarted(f);
  copyUp(H('mod.txt'), U('mod.txt'));
  writeFileSync(U('mod.txt'), 'a\nB\n');
  write(U('new.txt'), 'one\ntwo');
  write(U('empty'), '');
  writeFileSync(U('bin'), Buffer.from([1, 0, 2, 10]));
  writeFileSync(U('bad-utf8'), Buffer.from([0x61, 0xff, 0x0a]));
  write(U('big'), 'x\n'.repeat(600_000));
  write(U('was-dir'), 'file now\n');
  write(U(`deep/${'d/'.repeat(30)}leaf`), 'leaf\n');
  for (let i = 0; i < 30; i++) write(U(`many/f${i}`), 'a line of text\n'.repeat(300));
  const brought = scanSandbox(f.meta, { readNewUpTo: DIFF_MAX_BYTES });
  const read = scanSandbox(f.meta);
  const text = (n: string) => brought.changes.find((c) => c.path.endsWith(`/${n}`))!.newText?.toString();
  assert.is(text('new.txt'), 'one\ntwo');
  assert.is(text('was-dir'), 'file now\n');
  assert.is(text('leaf'), 'leaf\n');
  assert.is(text('empty'), '');
  for (const n of ['bin', 'bad-utf8', 'big', 'mod.txt']) assert.is(text(n), undefined, n);
  assert.is(await renderDiffs(brought.changes, plain), await renderDiffs(read.changes, plain));
  // Written in pieces to a writer that makes each wait (a slow pipe): the same text, in order.
  const pieces: Buffer[] = [];
  await writeDiffs(brought.changes, plain, async (b) => { await new Promise((r) => setTimeout(r, 1)); pieces.push(b); });
  assert.ok(pieces.length > 1);
  assert.is(Buffer.concat(pieces).toString('utf8'), await renderDiffs(read.changes, plain));
});

test.run();
