// diff --stat counts: new and gone files are counted without a diff, modified files diffed;
// the numbers match what the unified diff of the same change shows.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeFixture, markStarted, whiteout, copyUp, write, type Fixture } from './changes-fixture.js';
import { scanSandbox } from '../../sandbox-core/changes/scan.js';
import { fileDiff, renderStat } from '../../cli/render-changes.js';

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

test.run();
