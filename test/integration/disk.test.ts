// --disk: the layers live on a size-limited tmpfs during the run, so a runaway writer gets
// ENOSPC inside, the host disk stays safe, and the change list is still readable afterwards.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCanary, makeStore, proveIsolation, removeCanary, sbx } from '../helpers/sbx.js';

const store = makeStore();
let canary = '';
const temps: string[] = [];
test.before.each(() => { canary = makeCanary(); });
test.after.each(() => removeCanary(canary));
test.after(() => {
  rmSync(store, { recursive: true, force: true });
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

test('a disk filler gets ENOSPC inside; the host keeps its space; the change list is readable', () => {
  proveIsolation(canary, store);
  const report = join(mkdtempSync(join(tmpdir(), 'sbx-disk-')), 'r.json');
  temps.push(join(report, '..'));
  const freeBefore = statfsSync(canary).bavail * statfsSync(canary).bsize;
  const r = sbx(['run', '-n', '--disk', '10M', '--report', report, '--', 'sh', '-c',
    `echo small > ${canary}/small.txt; head -c 100000000 /dev/zero > ${canary}/filler; echo rc=$?`], { store });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /No space left on device/);
  assert.match(r.stdout, /rc=1/);
  const changes = (JSON.parse(readFileSync(report, 'utf8')).changes as Array<{ path: string; change: string; size: number }>);
  const small = changes.find((c) => c.path === `${canary}/small.txt`);
  const filler = changes.find((c) => c.path === `${canary}/filler`);
  assert.ok(small && small.change === 'added');
  assert.ok(filler && filler.size <= 10 * 2 ** 20 && filler.size > 2 ** 20, `filler is ${filler?.size} bytes`);
  assert.not.ok(existsSync(join(canary, 'filler')));
  const freeAfter = statfsSync(canary).bavail * statfsSync(canary).bsize;
  // The 100 MB never reached the host's disk (allow for unrelated activity on the machine).
  assert.ok(freeBefore - freeAfter < 50 * 2 ** 20, `host lost ${(freeBefore - freeAfter) / 2 ** 20} MiB`);
});

test('a saved --disk sandbox keeps hard links, symlinks and deletions, and --in sees them', () => {
  const name = `dk${process.pid}`;
  const first = sbx(['run', '-q', '--name', name, '--disk', '20M', '--', 'sh', '-c',
    `cd ${canary} && echo a > a && ln a hard && ln -s a sym && rm keep.txt`], { store });
  assert.is(first.code, 0, first.stderr);
  try {
    const second = sbx(['run', '-q', '--in', name, '--disk', '20M', '--', 'sh', '-c',
      `cd ${canary} && stat -c '%h' a && readlink sym && test ! -e keep.txt && echo gone`], { store });
    assert.is(second.code, 0, second.stderr);
    assert.is(second.stdout, '2\na\ngone\n');
    const diff = sbx(['diff', name, '--name-only'], { store });
    assert.match(diff.stdout, /keep\.txt/);
    assert.ok(existsSync(join(canary, 'keep.txt')));
  } finally {
    sbx(['discard', name], { store });
  }
});

test('--disk takes a size', () => {
  const r = sbx(['run', '-n', '--disk', 'lots', '--', 'true'], { store });
  assert.is(r.code, 125);
  assert.match(r.stderr, /--disk: 'lots' is not a size/);
});

test.run();
