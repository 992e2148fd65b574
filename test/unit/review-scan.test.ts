// The review's scan that a run's helper makes once the sandbox ended (the spec's
// `review_scan`, native/outer.c): asked with reviewScanOf's request for every layer, empty
// ones too, and decoded by scanSandbox's `answer` into the very change list sbx's own scan
// (which lists the uppers first and skips the empty ones) makes of the same layers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeFixture, whiteout, copyUp, write, type Fixture } from './changes-fixture.js';
import { scanSandbox } from '../../sandbox-core/changes/scan.js';
import { reviewScanOf } from '../../sandbox-core/changes/scan-request.js';
import { changedNothing, rootModeMoved } from '../../sandbox-core/changes/empty-scan.js';
import { helperPath } from '../../sandbox-core/helper.js';
import { setXattrs } from '../../sandbox-core/changes/xattr.js';
import { parseStatusLines } from '../../sandbox-core/launch.js';

let f: Fixture;
test.before.each(() => { f = makeFixture(); });
test.after.each(() => { f.cleanup(); });

/** `k` layers with no owner bits of their own, for changedNothing. */
const layersOf = (k: number): Array<{ rootOwnerBits?: number }> => Array.from({ length: k }, () => ({}));

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

test('a sandbox that changed nothing: the answer holds each layer\'s start and untouched roots, and no change', () => {
  for (const d of ['a', 'b']) mkdirSync(join(f.host, d), { mode: 0o750 });
  f.addLayer(join(f.host, 'a'));
  f.addLayer(join(f.host, 'b'), 'fuse');
  const answer = helperAnswer();
  // Per layer: 'J' and the job's number, then 'R' and its three roots; nothing else.
  let o = 0;
  const starts: number[] = [];
  for (let j = 0; j < 3; j++) {
    starts.push(o);
    assert.is(answer[o], 0x4a);
    assert.is(answer.readUInt32LE(o + 1), j);
    assert.is(answer[o + 5], 0x52);
    o += 6;
    for (let k = 0; k < 3; k++) {
      assert.is(answer.readUInt32LE(o), 0, 'each root stat\'ed');
      const xerr = answer.readUInt32LE(o + 4 + 92);
      o += 4 + 92 + 4;
      if (xerr) continue;
      const count = answer.readUInt32LE(o);
      o += 4;
      for (let x = 0; x < count; x++) { o += 4 + answer.readUInt32LE(o); o += 4 + answer.readUInt32LE(o); }
    }
  }
  assert.is(o, answer.length);
  // What cli/run-exec.ts asks before it would load the review: that answer, and no other.
  assert.ok(changedNothing(answer, layersOf(3)));
  assert.not.ok(changedNothing(answer, layersOf(2)), 'a layer more than the run has');
  assert.not.ok(changedNothing(answer, layersOf(4)), 'a layer the helper did not answer');
  const swapped = Buffer.from(answer);
  swapped.writeUInt32LE(2, starts[1]! + 1);
  assert.not.ok(changedNothing(swapped, layersOf(3)), 'job 2 where job 1 starts');
  assert.not.ok(changedNothing(Buffer.concat([answer, Buffer.from('D\xff\xff\xff\xff\x0d\0\0\0', 'latin1')]), layersOf(3)), 'a record other than a job start');
  assert.not.ok(changedNothing(answer.subarray(0, answer.length - 1), layersOf(3)), 'a root cut short');
  // Nothing is opened to decode it: the layers may be gone already.
  for (const l of f.meta.layers) rmSync(join(f.meta.layersDir, l.dir), { recursive: true });
  assert.equal(scanSandbox(f.meta, { answer }), { changes: [], errors: [], links: new Map(), layerBytes: 0 });
});

test('a change to a layer root\'s own mode, owner or xattrs is in the answer\'s change list, and nothing else of the root', () => {
  mkdirSync(join(f.host, 'a'), { mode: 0o755 });
  const a = f.addLayer(join(f.host, 'a'));
  assert.ok(changedNothing(helperAnswer(), layersOf(2)), 'untouched roots first');
  chmodSync(a, 0o700);
  const answer = helperAnswer();
  assert.not.ok(changedNothing(answer, layersOf(2)));
  const r = scanSandbox(f.meta, { answer });
  assert.equal(r.changes.map((c) => [c.path, c.change, c.details, c.layerRoot]), [[join(f.host, 'a'), 'metadata', ['mode 755→700'], true]]);
  // sbx's own scan says the same, as does one of the first layer's root.
  assert.equal(shown(scanSandbox(f.meta)), shown(r));
  chmodSync(a, 0o755);
  // A host dir whose mode moved since the sandbox was made: not the command's change (the work
  // dir keeps the mode the root was made with), in the answer's check too.
  chmodSync(join(f.host, 'a'), 0o711);
  assert.equal(scanSandbox(f.meta).changes, []);
  assert.ok(changedNothing(helperAnswer(), layersOf(2)));
  chmodSync(join(f.host, 'a'), 0o755);
  assert.ok(rootModeMoved(0o750, 0o755, 0o755) && !rootModeMoved(0o555, 0o555, 0o755) && rootModeMoved(0o555, 0o755, 0o755), 'owner bits against the host dir\'s');
  assert.ok(!rootModeMoved(0o755, 0o755, 0o700) && rootModeMoved(0o755, 0o750, 0o700) && rootModeMoved(0o755, 0o750, null), 'no mode kept: the host dir\'s');
  chmodSync(f.upper(0), 0o711);
  assert.equal(scanSandbox(f.meta).changes.map((c) => [c.path, c.details]), [[f.host, ['mode 755→711']]]);
  chmodSync(f.upper(0), 0o755);
  assert.equal(scanSandbox(f.meta).changes, []);
  // An xattr the command set on the root is the change's, the host's own are not; one the
  // work dir has too (sbx made both so) is none.
  const work = join(f.meta.layersDir, f.meta.layers[1]!.dir, 'work');
  const xattrsHere = setXattrs([{ path: join(f.host, 'a'), attrs: [['user.host', Buffer.from('h')]] }, { path: a, attrs: [['user.set', Buffer.from('s')]] }]);
  if (xattrsHere[0] === 95 /* EOPNOTSUPP */) { console.log(`  (skipped here: no user xattrs on ${f.root}'s filesystem)`); return; }
  assert.equal(xattrsHere, [0, 0]);
  const set = scanSandbox(f.meta).changes;
  assert.equal(set.map((c) => [c.path, c.details, c.xattrs?.map(([n, v]) => `${n}=${v.toString()}`)]), [[join(f.host, 'a'), ['xattrs'], ['user.set=s']]]);
  assert.equal(setXattrs([{ path: work, attrs: [['user.set', Buffer.from('s')]] }]), [0]);
  assert.ok(changedNothing(helperAnswer(), layersOf(2)), 'an xattr sbx gave both');
  assert.equal(scanSandbox(f.meta).changes, []);
  // The owner is compared with the layer's work dir, made as the upper was (root only: chown).
  if (process.getuid!() === 0) {
    chownSync(a, 1234, 1234);
    assert.ok(!changedNothing(helperAnswer(), layersOf(2)));
    chownSync(join(f.meta.layersDir, f.meta.layers[1]!.dir, 'work'), 1234, 1234);
    assert.ok(changedNothing(helperAnswer(), layersOf(2)), 'an owner sbx gave both');
  } else console.log('  (skipped here: the owner part needs root to chown)');
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

test('a root given the user\'s own bits on the host (--user, rootOwnerBits) is no change as made, and a chmod of it is', () => {
  assert.ok(!rootModeMoved(0o555, 0o755, 0o755, 5) && !rootModeMoved(0o000, 0o700, 0o700, 0) && !rootModeMoved(0o1777, 0o1777, 0o1777, 7), 'as made: /etc, /root, /tmp');
  assert.ok(rootModeMoved(0o755, 0o755, 0o755, 5) && rootModeMoved(0o700, 0o700, 0o700, 0) && rootModeMoved(0o551, 0o755, 0o755, 5), 'chmod u+w, chmod 700, o-r+x');
  assert.ok(!rootModeMoved(0o555, 0o700, 0o755, 5), 'the host dir\'s mode moved since: not the command\'s');
  mkdirSync(join(f.host, 'a'), { mode: 0o755 });
  const a = f.addLayer(join(f.host, 'a'));
  chmodSync(a, 0o555);
  const layer = f.meta.layers[1]!;
  assert.not.ok(changedNothing(helperAnswer(), f.meta.layers), 'without the record: today\'s comparison');
  layer.rootOwnerBits = 5;
  assert.ok(changedNothing(helperAnswer(), f.meta.layers));
  assert.equal(scanSandbox(f.meta).changes, []);
  chmodSync(a, 0o700);
  assert.not.ok(changedNothing(helperAnswer(), f.meta.layers));
  assert.equal(scanSandbox(f.meta).changes.map((c) => [c.path, c.details]), [[join(f.host, 'a'), ['mode 755→700']]]);
  // The owner bits as sbx gave them are the host dir's: what the command changed is the rest.
  chmodSync(a, 0o575);
  assert.equal(scanSandbox(f.meta).changes.map((c) => [c.path, c.details, c.up?.perm]), [[join(f.host, 'a'), ['mode 755→775'], 0o775]]);
});

test.run();
