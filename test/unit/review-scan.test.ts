// The review's scan that a run's helper makes once the sandbox ended (the spec's
// `review_scan`, native/outer.c): asked with reviewScanOf's request for every layer, empty
// ones too, and decoded by scanSandbox's `answer` into the very change list sbx's own scan
// (which lists the uppers first and skips the empty ones) makes of the same layers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeFixture, whiteout, copyUp, write, type Fixture } from './changes-fixture.js';
import { scanSandbox } from '../../sandbox-core/changes/scan.js';
import { reviewScanOf } from '../../sandbox-core/changes/scan-request.js';
import { onlyJobStarts } from '../../sandbox-core/changes/empty-scan.js';
import { helperPath } from '../../sandbox-core/helper.js';
import { parseStatusLines } from '../../sandbox-core/launch.js';

let f: Fixture;
test.before.each(() => { f = makeFixture(); });
test.after.each(() => { f.cleanup(); });

/** What the helper answers to the run's request, through `sbx-helper scan` (the same walk, native/scan.c scan_answer). */
function helperAnswer(): Buffer {
  const req = reviewScanOf(f.meta);
  assert.ok(req, 'a sandbox with layers has a review scan');
  try {
    const r = spawnSync(helperPath(), ['scan'], { input: req.input, stdio: ['pipe', 'pipe', 'pipe', req.layersFd, req.hostFd], maxBuffer: 1 << 30 });
    assert.is(r.status, 0, String(r.stderr));
    return r.stdout;
  } finally {
    closeSync(req.layersFd);
    closeSync(req.hostFd);
  }
}

/**
 * A change list as plain data. Without atimes: the first scan compares a modified file's
 * content with the host's, which reads the host's file (the fixture's own, not opened
 * O_NOATIME by its owner), so the second sees a later atime.
 */
function shown(r: ReturnType<typeof scanSandbox>): unknown {
  return JSON.parse(JSON.stringify({ changes: r.changes, errors: r.errors, links: [...r.links] }, (k, v: unknown) => (k === 'atimeMs' ? undefined : v)));
}

test('the run\'s scan of every layer, empty ones first, decodes to the change list sbx\'s own scan makes', () => {
  // Layer 0 (the fixture's, over the host dir) stays empty: sbx's own scan skips it unlisted.
  write(join(f.host, 'etc', 'conf'), 'old\n');
  write(join(f.host, 'etc', 'gone'), 'x');
  write(join(f.host, 'var', 'kept'), 'k');
  const etc = f.addLayer(join(f.host, 'etc'));
  copyUp(join(f.host, 'etc', 'conf'), join(etc, 'conf'));
  writeFileSync(join(etc, 'conf'), 'new\n');
  write(join(etc, 'new', 'deep', 'file'), 'made inside\n');
  symlinkSync('conf', join(etc, 'link'));
  whiteout(join(etc, 'gone'));
  f.addLayer(join(f.host, 'empty'));
  // A fuse-overlayfs layer: its whiteouts are `.wh.NAME` files.
  const varUpper = f.addLayer(join(f.host, 'var'), 'fuse');
  writeFileSync(join(varUpper, '.wh.kept'), '');
  mkdirSync(join(varUpper, 'cache'));
  write(join(varUpper, 'cache', 'x'), 'y');
  const own = scanSandbox(f.meta);
  assert.ok(own.changes.length >= 6, JSON.stringify(own.changes.map((c) => c.path)));
  const answer = helperAnswer();
  assert.equal(shown(scanSandbox(f.meta, { answer })), shown(own));
});

test('a sandbox that changed nothing: the answer holds each layer\'s start and no change', () => {
  f.addLayer(join(f.host, 'a'));
  f.addLayer(join(f.host, 'b'), 'fuse');
  const answer = helperAnswer();
  // 'J' and the job's number, per layer: nothing else.
  assert.is(answer.length, 3 * 5);
  // What cli/run-exec.ts asks before it would load the review: that answer, and no other.
  assert.ok(onlyJobStarts(answer, 3));
  assert.not.ok(onlyJobStarts(answer, 2), 'a layer more than the run has');
  assert.not.ok(onlyJobStarts(answer, 4), 'a layer the helper did not answer');
  const swapped = Buffer.from(answer);
  swapped.writeUInt32LE(2, 6);
  assert.not.ok(onlyJobStarts(swapped, 3), 'job 2 where job 1 starts');
  assert.not.ok(onlyJobStarts(Buffer.concat([answer.subarray(0, 10), Buffer.from('D'), answer.subarray(11)]), 3), 'a record other than a job start');
  // Nothing is opened to decode it: the layers may be gone already.
  for (const l of f.meta.layers) rmSync(join(f.meta.layersDir, l.dir), { recursive: true });
  assert.equal(scanSandbox(f.meta, { answer }), { changes: [], errors: [], links: new Map(), layerBytes: 0 });
});

test('the answer of a plain walk is not taken for a walk that asks for more', () => {
  const answer = helperAnswer();
  assert.throws(() => scanSandbox(f.meta, { answer, countLinesUpTo: 1 << 20 }), /answers a plain walk only/);
});

test('the helper says whether it made the scan and synced the layers; a failure of either is no outcome of the run', () => {
  assert.ok(parseStatusLines('started 2\nexit 0\nreview-scanned 0\n').reviewScanned);
  assert.ok(parseStatusLines('started 2\nexit 0\nsynced 0\n').synced);
  assert.not.ok(parseStatusLines('started 2\nexit 0\nsync-failed 5\n').synced);
  const failed = parseStatusLines('started 2\nexit 3\nreview-scan-failed 2\n');
  assert.not.ok(failed.reviewScanned);
  assert.equal(failed.outcome, { kind: 'exited', code: 3 });
});

test.run();
