import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  mkdirSync, symlinkSync, chmodSync, utimesSync, writeFileSync, readFileSync, readlinkSync, lstatSync, existsSync,
  linkSync, readdirSync, statSync, mkdtempSync, openSync, writeSync, closeSync, truncateSync, rmSync,
} from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeFixture, markStarted, opaque, whiteout, setXattr, copyUp, write, waitForRemovers, type Fixture } from './changes-fixture.js';
import { scanSandbox } from '../../sandbox-core/changes/scan.js';
import { commitSandbox } from '../../sandbox-core/commit/index.js';
import { makePlan } from '../../sandbox-core/commit/plan.js';
import { applyPlan } from '../../sandbox-core/commit/apply.js';
import { fromUser } from '../../sandbox-core/base/bpath.js';
import { getXattrs, mknodBatch } from '../../sandbox-core/changes/xattr.js';
import { removeTree } from '../../sandbox-core/store.js';
import { timespecOfMs } from '../../sandbox-core/changes/stat.js';
import { helperPath } from '../../sandbox-core/helper.js';
import { chmodSocketNoFollow, validatePath } from '../../sandbox-core/commit/safe-fs.js';
import type { Change } from '../../sandbox-core/changes/types.js';
import { have, testUnless } from '../helpers/skip.js';
import { CANARY } from '../helpers/canary-name.js';

let f: Fixture;
let extra: string[] = [];
test.before.each(() => { f = makeFixture(); extra = []; });
test.after.each(() => { f.cleanup(); for (const d of extra) removeTree(d); });

const opts = { only: [] as string[], exclude: [] as string[], force: false, dryRun: false };
const H = (p: string) => join(f.host, p);
const U = (p: string) => join(f.upper(), p);
const kind = (p: string) => {
  const st = lstatSync(p);
  return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : 'other';
};
const mode = (p: string) => lstatSync(p).mode & 0o7777;

test('the matrix: every change kind against the host, checked after commit', () => {
  // host before
  write(H('mod.txt'), 'old content\n', 0o644);
  write(H('del.txt'), 'bye');
  write(H('deldir/a/b'), 'deep');
  write(H('f2d'), 'file');
  write(H('d2f/child'), 'c');
  symlinkSync('old-target', H('ln'));
  symlinkSync('t', H('ln2f'));
  write(H('f2ln'), 'f');
  write(H('d2ln/x'), 'x');
  write(H('chmod.sh'), '#!/bin/sh\n', 0o644);
  write(H('touched'), 't');
  mkdirSync(H('dmode'), { mode: 0o755 }); chmodSync(H('dmode'), 0o755);
  write(H('refill/old1'), 'o1');
  write(H('refill/same'), 'same');
  markStarted(f);
  // the sandbox's upper
  write(U('new/nested/tree/file.txt'), 'new\n', 0o640);
  utimesSync(U('new/nested/tree/file.txt'), 1_000_000, 1_000_000);
  mkdirSync(U('new/empty'));
  chmodSync(U('new/nested'), 0o751);
  copyUp(H('mod.txt'), U('mod.txt'));
  writeFileSync(U('mod.txt'), 'new content, longer\n');
  whiteout(U('del.txt'));
  whiteout(U('deldir'));
  mkdirSync(U('f2d')); opaque(U('f2d')); write(U('f2d/inside'), 'i');
  write(U('d2f'), 'was a dir');
  symlinkSync('new target with spaces', U('ln'));
  write(U('ln2f'), 'was a symlink');
  symlinkSync('../elsewhere', U('f2ln'));
  symlinkSync('/nonexistent/dir', U('d2ln'));
  symlinkSync('dangling', U('newln'));
  copyUp(H('chmod.sh'), U('chmod.sh')); chmodSync(U('chmod.sh'), 0o755);
  copyUp(H('touched'), U('touched')); utimesSync(U('touched'), 2_000_000, 2_000_000);
  mkdirSync(U('dmode')); chmodSync(U('dmode'), 0o700);
  mkdirSync(U('refill')); opaque(U('refill')); copyUp(H('refill/same'), U('refill/same')); write(U('refill/new'), 'n');
  mknodBatch('fifo', [Buffer.from(U('pipe')).toString('latin1')]); chmodSync(U('pipe'), 0o620);
  write(U('suid'), 'x'); chmodSync(U('suid'), 0o4755);
  write(U('hl1'), 'linked'); linkSync(U('hl1'), U('hl2'));
  write(U('xa'), 'x'); setXattr(U('xa'), 'user.sbx.test', 'kept');

  const r = commitSandbox(f.store, f.meta, opts);
  assert.equal(r.result!.failed, []);
  assert.equal(r.plan.conflicts, []);
  assert.ok(r.complete, 'complete');
  assert.equal(f.store.list(), [], 'sandbox removed after a complete commit');

  assert.is(readFileSync(H('new/nested/tree/file.txt'), 'utf8'), 'new\n');
  assert.is(mode(H('new/nested/tree/file.txt')), 0o640);
  assert.is(statSync(H('new/nested/tree/file.txt')).mtimeMs, 1_000_000_000);
  assert.is(mode(H('new/nested')), 0o751);
  assert.is(kind(H('new/empty')), 'dir');
  assert.is(readFileSync(H('mod.txt'), 'utf8'), 'new content, longer\n');
  assert.not.ok(existsSync(H('del.txt')));
  assert.not.ok(existsSync(H('deldir')));
  assert.is(kind(H('f2d')), 'dir'); assert.is(readFileSync(H('f2d/inside'), 'utf8'), 'i');
  assert.is(kind(H('d2f')), 'file'); assert.is(readFileSync(H('d2f'), 'utf8'), 'was a dir');
  assert.is(readlinkSync(H('ln')), 'new target with spaces');
  assert.is(kind(H('ln2f')), 'file');
  assert.is(readlinkSync(H('f2ln')), '../elsewhere');
  assert.is(readlinkSync(H('d2ln')), '/nonexistent/dir');
  assert.is(readlinkSync(H('newln')), 'dangling');
  assert.is(mode(H('chmod.sh')), 0o755);
  assert.is(statSync(H('touched')).mtimeMs, 2_000_000_000);
  assert.is(mode(H('dmode')), 0o700);
  assert.equal(readdirSync(H('refill')).sort(), ['new', 'same']);
  assert.is(kind(H('pipe')), 'fifo'); assert.is(mode(H('pipe')), 0o620);
  assert.is(mode(H('suid')), 0o755, 'setuid stripped');
  assert.equal(r.result!.setidStripped, [Buffer.from(H('suid')).toString('latin1')]);
  assert.is(statSync(H('hl1')).ino, statSync(H('hl2')).ino, 'hard links stay linked');
  const xa = getXattrs([Buffer.from(H('xa')).toString('latin1')])[0]!.attrs;
  assert.equal(xa.map(([n, v]) => [n, v.toString()]), [['user.sbx.test', 'kept']]);
  assert.equal(readdirSync(f.host).filter((n) => n.startsWith('.sbx-')), [], 'no staging leftovers');
});

test('after a partial commit only the rest is still a change', () => {
  write(U('keep/a'), 'a');
  write(U('skip/b'), 'b');
  markStarted(f);
  const r = commitSandbox(f.store, f.meta, { ...opts, only: [H('keep/a')] });
  assert.not.ok(r.complete);
  assert.is(r.unselected, 2);
  assert.ok(existsSync(H('keep/a')), 'ancestor dir came along');
  assert.not.ok(existsSync(H('skip')));
  const left = scanSandbox(f.meta).changes.map((c) => c.path.slice(f.host.length));
  assert.equal(left, ['/skip', '/skip/b']);
  assert.is(f.store.readMeta(f.meta.id)!.state, 'saved');
  assert.ok(commitSandbox(f.store, f.meta, opts).complete);
});

test('--only FILE: its new dirs are named; one below a flagged new dir is left out, saying which and how to add it', () => {
  write(U('keep/a'), 'a');
  write(U('ww/sub/g'), 'g');
  chmodSync(U('ww'), 0o777);
  markStarted(f);
  const rel = (p: string) => p.slice(f.host.length);
  const r = commitSandbox(f.store, f.meta, { ...opts, only: [H('keep/a'), H('ww/sub/g')] });
  assert.equal(r.needed.map((d) => [rel(d.dir), rel(d.for)]), [['/keep', '/keep/a']]);
  assert.equal(r.plan.skipped.map((x) => rel(x.path)), ['/ww/sub/g']);
  assert.match(r.plan.skipped[0]!.reason, `below the new dir ${H('ww')}, which is flagged [! world-writable`);
  assert.match(r.plan.skipped[0]!.reason, `add --only '${H('ww')}'`);
  assert.is(r.unselected, 2, 'ww and ww/sub; ww/sub/g is counted as not committed');
  assert.ok(existsSync(H('keep/a')));
  assert.not.ok(existsSync(H('ww')), 'the flagged dir did not come along');
  // Named, it comes with what it holds.
  const all = commitSandbox(f.store, f.meta, { ...opts, only: [H('ww')] });
  assert.ok(all.complete);
  assert.equal(all.needed, []);
  assert.is(readFileSync(H('ww/sub/g'), 'utf8'), 'g');
});

test('a file staged and then refused at its rename is not counted in the bytes committed', () => {
  write(U('a'), 'four');
  write(U('b'), 'twelve bytes');
  markStarted(f);
  const scan = scanSandbox(f.meta);
  const plan = makePlan(scan.changes, { createdMs: f.meta.createdMs, force: false });
  assert.equal(plan.conflicts, []);
  // Made on the host between the plan and the rename: the place op's last check refuses it.
  write(H('a'), 'host');
  const res = applyPlan(plan, {
    sandboxId: f.meta.id, createdMs: f.meta.createdMs, force: false, journal: null, links: scan.links, ours: new Set(),
    layersRoot: fromUser(f.meta.layersDir), openLayers: () => f.store.openLayers(f.meta), fences: [],
  });
  assert.equal(res.conflicts.map((x) => x.path), [Buffer.from(H('a')).toString('latin1')]);
  assert.is(readFileSync(H('a'), 'utf8'), 'host');
  assert.is(res.bytes, 12, 'b only: "0 changes committed (4 B)" counted a staged file never placed');
});

test('conflicts: changed host files are not overwritten, the rest is committed; --force overrides', () => {
  write(H('a'), 'host a');
  write(H('tree/x'), 'x');
  markStarted(f);
  copyUp(H('a'), U('a')); writeFileSync(U('a'), 'sandbox a');
  write(U('created'), 'sandbox');
  write(U('fine'), 'fine');
  whiteout(U('tree'));
  // the host moves on while the sandbox ran
  writeFileSync(H('a'), 'host edit');
  write(H('created'), 'host made this');
  write(H('tree/new-on-host'), 'precious');
  const r = commitSandbox(f.store, f.meta, opts);
  const paths = r.plan.conflicts.map((c) => c.path.slice(f.host.length)).sort();
  assert.equal(paths, ['/a', '/created', '/tree']);
  assert.is(readFileSync(H('a'), 'utf8'), 'host edit');
  assert.is(readFileSync(H('created'), 'utf8'), 'host made this');
  assert.is(readFileSync(H('tree/new-on-host'), 'utf8'), 'precious');
  assert.is(readFileSync(H('fine'), 'utf8'), 'fine');
  assert.not.ok(r.complete);
  const forced = commitSandbox(f.store, f.meta, { ...opts, force: true });
  assert.ok(forced.complete);
  assert.is(readFileSync(H('a'), 'utf8'), 'sandbox a');
  assert.not.ok(existsSync(H('tree')));
});

test('a host change after the review is a conflict even for the reviewed list', () => {
  write(U('new'), 'sandbox');
  markStarted(f);
  const reviewed = scanSandbox(f.meta);
  write(H('new'), 'host, after the review');
  const r = commitSandbox(f.store, f.meta, { ...opts, reviewed });
  assert.equal(r.plan.conflicts.map((c) => c.reason), ['created on the host since the sandbox started']);
  assert.is(readFileSync(H('new'), 'utf8'), 'host, after the review');
});

test('a symlink planted on the way cannot make commit write outside', () => {
  const outside = mkdtempSync(join(tmpdir(), 'sbx-outside-'));
  extra.push(outside);
  mkdirSync(H('d'));
  markStarted(f);
  mkdirSync(U('d'));
  write(U('d/evil'), 'evil');
  const reviewed = scanSandbox(f.meta);
  // Between review and commit, d becomes a symlink to a dir outside.
  removeTree(H('d'));
  symlinkSync(outside, H('d'));
  const r = commitSandbox(f.store, f.meta, { ...opts, reviewed, force: true });
  assert.equal(readdirSync(outside), []);
  assert.ok(r.result!.failed.some((x) => /symlink/.test(x.reason)));
  // A change list that itself replaces d by a symlink and then writes "inside" it.
  const evilSrc = join(f.root, 'evil-src');
  writeFileSync(evilSrc, 'evil');
  const up = lstatSync(evilSrc);
  const crafted: Change[] = [
    { path: Buffer.from(H('e')).toString('latin1'), change: 'added', type: 'symlink', size: 0, target: outside, upper: '', up: { type: 'symlink', perm: 0o777, uid: up.uid, gid: up.gid, size: 0, mtimeMs: up.mtimeMs, atimeMs: up.atimeMs, ctimeMs: up.ctimeMs, ino: 1, dev: 1, nlink: 1, rdev: 0 } },
    { path: Buffer.from(H('e/passwd')).toString('latin1'), change: 'added', type: 'file', size: 4, upper: evilSrc, up: { type: 'file', perm: 0o644, uid: up.uid, gid: up.gid, size: 4, mtimeMs: up.mtimeMs, atimeMs: up.atimeMs, ctimeMs: up.ctimeMs, ino: up.ino, dev: up.dev, nlink: 1, rdev: 0 } },
    { path: Buffer.from(f.host + '/x/../../escape').toString('latin1'), change: 'added', type: 'file', size: 4, upper: evilSrc, up: { type: 'file', perm: 0o644, uid: up.uid, gid: up.gid, size: 4, mtimeMs: 0, atimeMs: 0, ctimeMs: 0, ino: 2, dev: 2, nlink: 1, rdev: 0 } },
  ];
  const r2 = commitSandbox(f.store, f.meta, { ...opts, reviewed: { changes: crafted, links: new Map(), errors: [] } });
  assert.equal(readdirSync(outside), []);
  assert.is(readlinkSync(H('e')), outside);
  assert.ok(r2.result!.failed.some((x) => x.path.endsWith('/e/passwd') && /symlink/.test(x.reason)));
  assert.ok(r2.plan.skipped.some((x) => /unsafe/.test(x.reason)));
  assert.not.ok(existsSync(join(f.root, 'escape')));
});

test('names with newlines, spaces and invalid UTF-8 are committed byte for byte', () => {
  markStarted(f);
  write(U('a b'), '1');
  write(U('new\nline'), '2');
  const bad = Buffer.concat([Buffer.from(U('bad')), Buffer.from([0xff, 0xfe])]);
  writeFileSync(bad, '3');
  assert.ok(commitSandbox(f.store, f.meta, opts).complete);
  assert.is(readFileSync(H('a b'), 'utf8'), '1');
  assert.is(readFileSync(H('new\nline'), 'utf8'), '2');
  assert.is(readFileSync(Buffer.concat([Buffer.from(H('bad')), Buffer.from([0xff, 0xfe])]), 'utf8'), '3');
});

test('times are committed to the nanosecond and of any sign: files, dirs, symlinks, fifos, host files in place', () => {
  write(H('old'), 'host');
  markStarted(f);
  write(U('new'), 'n');
  write(U('nd/inside'), 'i');
  symlinkSync('target', U('sl'));
  mknodBatch('fifo', [Buffer.from(U('ff')).toString('latin1')]);
  copyUp(H('old'), U('old'));
  // Node's utimes cannot set these (microseconds; a negative time becomes the current one).
  const set = (p: string, at: string, m: string) => {
    for (const [flag, t] of [['-a', at], ['-m', m]] as const) assert.is(spawnSync('touch', ['-h', flag, '-d', t, p]).status, 0);
  };
  set(U('new'), '@-157766400.000000001', '@-0.5');
  set(U('nd/inside'), '@1', '@-1');
  set(U('nd'), '@-631152000', '@978307200.123456789');
  set(U('sl'), '@-86400.25', '@-333000000.987654321');
  set(U('ff'), '@-2', '@-3');
  set(U('old'), '@-86400', '@-86400.999999999');
  const want = ['new', 'nd/inside', 'nd', 'sl', 'ff', 'old'].map((p) => [p, lstatSync(U(p), { bigint: true })] as const);
  const r = commitSandbox(f.store, f.meta, opts);
  assert.ok(r.complete, JSON.stringify(r.result?.failed));
  for (const [p, up] of want) {
    const got = lstatSync(H(p), { bigint: true });
    assert.is(got.mtimeNs, up.mtimeNs, `${p} mtime`);
    // A symlink's atime moves when its target is read (the scan's readlink).
    if (p !== 'sl') assert.is(got.atimeNs, up.atimeNs, `${p} atime`);
  }
  assert.is(lstatSync(H('old'), { bigint: true }).mtimeNs, -86400999999999n, 'the host file\'s own mtime, in place');
});

test('timespecOfMs: seconds floored, nanoseconds in range, for times of either sign', () => {
  assert.equal(timespecOfMs(-500), { sec: -1, nsec: 500_000_000 });
  assert.equal(timespecOfMs(-157766400000), { sec: -157766400, nsec: 0 });
  assert.equal(timespecOfMs(1500.25), { sec: 1, nsec: 500_250_000 });
  // A double just below a whole second rounds up to it, never to 1e9 ns (EINVAL).
  assert.equal(timespecOfMs(1999.99999999999), { sec: 2, nsec: 0 });
  assert.equal(timespecOfMs(-0.0000000001), { sec: 0, nsec: 0 });
});

test('dry run writes nothing', () => {
  markStarted(f);
  write(U('x'), 'x');
  const r = commitSandbox(f.store, f.meta, { ...opts, dryRun: true });
  assert.is(r.plan.steps.length, 1);
  assert.not.ok(existsSync(H('x')));
  assert.is(f.store.list().length, 1);
});

testUnless(process.getuid!() === 0 ? null : 'an unprivileged user cannot make a device node to test with')('device nodes are never committed', () => {
  markStarted(f);
  // Any char device but 0/0 (a whiteout) is a device node; make one with mknod(1) as root.
  assert.is(spawnSync('mknod', [U('null2'), 'c', '1', '3']).status, 0);
  const r = commitSandbox(f.store, f.meta, opts);
  assert.ok(r.plan.skipped.some((s) => s.path.endsWith('/null2') && /device/.test(s.reason)));
  assert.not.ok(existsSync(H('null2')));
});


test('a staging name left behind without a journal line is removed, never followed, and the file written', () => {
  const outside = mkdtempSync(join(tmpdir(), 'sbx-outside-'));
  extra.push(outside);
  mkdirSync(H('d'));
  markStarted(f);
  write(U('d/a'), 'a');
  write(U('d/b'), 'b');
  write(U('d/c'), 'c');
  const plan = commitSandbox(f.store, f.meta, { ...opts, dryRun: true }).plan;
  const step = (name: string) => plan.steps.findIndex((s) => s.change.path.endsWith(`/d/${name}`));
  // What a commit killed after staging, whose journal never reached the disk, leaves: a file,
  // a symlink to a file outside (written through, it would change that file), a dir tree.
  writeFileSync(H(`d/.sbx-${f.meta.id}-${step('a')}`), 'stale');
  writeFileSync(join(outside, 'victim'), 'untouched');
  symlinkSync(join(outside, 'victim'), H(`d/.sbx-${f.meta.id}-${step('b')}`));
  write(H(`d/.sbx-${f.meta.id}-${step('c')}/deep/x`), 'x');
  const r = commitSandbox(f.store, f.meta, { ...opts, force: true });
  assert.equal(r.result!.failed, []);
  assert.ok(r.complete);
  for (const n of ['a', 'b', 'c']) assert.is(readFileSync(H(`d/${n}`), 'utf8'), n);
  assert.is(readFileSync(join(outside, 'victim'), 'utf8'), 'untouched');
  assert.equal(readdirSync(H('d')).sort(), ['a', 'b', 'c']);
});

test('files are copied byte for byte: empty, whole, holes in the middle and at the end, larger than one copy call', () => {
  markStarted(f);
  write(U('empty'), '');
  const big = Buffer.alloc(3 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 12)) & 0xff;
  write(U('whole'), big);
  // Data, a 1 MiB hole, data, then a trailing hole: the size comes from ftruncate.
  write(U('holes'), 'head');
  const fd = openSync(U('holes'), 'r+');
  writeSync(fd, 'middle', 1 << 20);
  closeSync(fd);
  truncateSync(U('holes'), 4 << 20);
  assert.ok(commitSandbox(f.store, f.meta, opts).complete);
  assert.is(statSync(H('empty')).size, 0);
  assert.ok(readFileSync(H('whole')).equals(big), 'whole file');
  const got = readFileSync(H('holes'));
  assert.is(got.length, 4 << 20);
  assert.is(got.subarray(0, 4).toString(), 'head');
  assert.is(got.subarray(1 << 20, (1 << 20) + 6).toString(), 'middle');
  assert.ok(got.subarray(4, 1 << 20).every((b) => b === 0) && got.subarray((1 << 20) + 6).every((b) => b === 0), 'holes read as zeros');
  assert.ok(statSync(H('holes')).blocks * 512 < 1 << 20, `holes kept: ${statSync(H('holes')).blocks * 512} bytes allocated`);
});

test('a commit killed by SIGKILL half way is finished by the next commit', async () => {
  for (let i = 0; i < 20; i++) write(U(`dir/f${String(i).padStart(2, '0')}`), `content ${i}\n`);
  copyUp(H('.'), U('.')); // no-op for the root; the host dir exists
  markStarted(f);
  const mod = pathToFileURL(join(process.cwd(), 'dist/sandbox-core/commit/index.js')).href;
  const storeMod = pathToFileURL(join(process.cwd(), 'dist/sandbox-core/store.js')).href;
  const script = `import { commitSandbox } from ${JSON.stringify(mod)}; import { Store } from ${JSON.stringify(storeMod)};
    const s = new Store(${JSON.stringify(f.store.root)}); const m = s.resolve(${JSON.stringify(f.meta.id)});
    commitSandbox(s, m, { only: [], exclude: [], force: false, dryRun: false });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, SBX_TEST_COMMIT_PAUSE_AFTER: '8' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d) => { err += d; if (err.includes('paused at step 8')) resolve(); });
    child.on('exit', () => reject(new Error(`child exited before pausing: ${err}`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  // The half state: a journal, a staged file beside its target, some files committed.
  assert.ok(existsSync(join(f.store.dirOf(f.meta.id), 'commit.journal')));
  assert.ok(readdirSync(H('dir')).some((n) => n.startsWith(`.sbx-${f.meta.id}-`)), 'staged file left by the kill');
  assert.is(f.store.readMeta(f.meta.id)!.state, 'committing');
  const r = commitSandbox(f.store, f.meta, opts);
  assert.ok(r.resumed, 'resumed');
  assert.is(r.resumed!.inFlight.length, 1);
  assert.equal(r.plan.conflicts, []);
  assert.ok(r.complete);
  const names = readdirSync(H('dir')).sort();
  assert.is(names.length, 20);
  assert.ok(names.every((n) => /^f\d\d$/.test(n)));
  for (let i = 0; i < 20; i++) assert.is(readFileSync(H(`dir/f${String(i).padStart(2, '0')}`), 'utf8'), `content ${i}\n`);
});

/** Starts a commit in a child that stops at step `at` (or the named point), and SIGKILLs it there. */
async function killCommitAt(at: number | 'staged'): Promise<void> {
  const mod = pathToFileURL(join(process.cwd(), 'dist/sandbox-core/commit/index.js')).href;
  const storeMod = pathToFileURL(join(process.cwd(), 'dist/sandbox-core/store.js')).href;
  const script = `import { commitSandbox } from ${JSON.stringify(mod)}; import { Store } from ${JSON.stringify(storeMod)};
    const s = new Store(${JSON.stringify(f.store.root)}); const m = s.resolve(${JSON.stringify(f.meta.id)});
    commitSandbox(s, m, { only: [], exclude: [], force: false, dryRun: false });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, SBX_TEST_COMMIT_PAUSE_AFTER: String(at) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d) => { err += d; if (err.includes(`paused at step ${at}`)) resolve(); });
    child.on('exit', () => reject(new Error(`child exited before pausing at ${at}: ${err}`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
}

test('SIGKILL at random points of every phase: the next commit finishes with the same result', async () => {
  // Steps: 2 deletes, then mkdirs and a symlink (phase 1), 24 files staged in one batch and
  // renamed (phase 3), dir metadata (phase 4). One point per phase, the rest random.
  const build = () => {
    write(H('old1'), 'o'); write(H('old2/x'), 'x');
    markStarted(f);
    whiteout(U('old1')); whiteout(U('old2'));
    for (let i = 0; i < 24; i++) write(U(`n${i % 3}/f${String(i).padStart(2, '0')}`), `c ${i}\n`);
    symlinkSync('target', U('ln'));
    chmodSync(U('n1'), 0o750);
  };
  const total = 2 + 3 + 1 + 24 + 3;
  const points = [0, 3, 10, total - 1, ...Array.from({ length: 3 }, () => Math.floor(Math.random() * total))];
  for (const at of points) {
    f.cleanup();
    f = makeFixture();
    build();
    await killCommitAt(at);
    const r = commitSandbox(f.store, f.meta, opts);
    assert.ok(r.resumed, `resumed (killed at ${at})`);
    assert.equal(r.plan.conflicts, [], `no conflicts (killed at ${at})`);
    assert.ok(r.complete, `complete (killed at ${at}): ${JSON.stringify(r.result?.failed)}`);
    assert.not.ok(existsSync(H('old1')) || existsSync(H('old2')), `deletions (killed at ${at})`);
    for (let i = 0; i < 24; i++) assert.is(readFileSync(H(`n${i % 3}/f${String(i).padStart(2, '0')}`), 'utf8'), `c ${i}\n`, `killed at ${at}`);
    assert.is(readlinkSync(H('ln')), 'target');
    assert.is(mode(H('n1')), 0o750, `dir mode (killed at ${at})`);
    for (const d of ['', 'n0', 'n1', 'n2']) assert.equal(readdirSync(H(d)).filter((n) => n.startsWith('.sbx-')), [], `staging leftovers in /${d} (killed at ${at})`);
  }
});

const NO_STRACE = have('strace') ? null : 'strace is not installed: it shows the helper starts and their syncfs calls';

testUnless(NO_STRACE, { missing: true })('a commit syncs the staged files before the first rename and the renames before it ends, in the helper calls that wrote them', () => {
  for (let i = 0; i < 6; i++) write(U(`q${i % 2}/f${i}`), `v ${i}\n`);
  markStarted(f);
  const mod = pathToFileURL(join(process.cwd(), 'dist/sandbox-core/commit/index.js')).href;
  const storeMod = pathToFileURL(join(process.cwd(), 'dist/sandbox-core/store.js')).href;
  const script = `import { commitSandbox } from ${JSON.stringify(mod)}; import { Store } from ${JSON.stringify(storeMod)};
    const s = new Store(${JSON.stringify(f.store.root)}); const m = s.resolve(${JSON.stringify(f.meta.id)});
    const r = commitSandbox(s, m, { only: [], exclude: [], force: false, dryRun: false }); if (!r.complete) process.exit(3);`;
  const log = join(f.root, 'strace.log');
  const r = spawnSync('strace', ['-f', '-qq', '-s', '4096', '-o', log, '-e', 'trace=execve,syncfs,rename,renameat,renameat2', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  for (let i = 0; i < 6; i++) assert.is(readFileSync(H(`q${i % 2}/f${i}`), 'utf8'), `v ${i}\n`);
  // Each line: PID syscall(...) = result; the helper's starts by their argv.
  const lines = readFileSync(log, 'utf8').split('\n').filter((l) => / = 0/.test(l) || /execve\(/.test(l));
  const starts = lines.filter((l) => l.includes(`execve("${helperPath()}"`)).map((l) => /\[(.*)\]/.exec(l)![1]!.replace(/"--fence=[^"]*", /g, ''));
  assert.equal(starts.filter((a) => a.includes('"xattr"')).map((a) => a.replace(/^.*"--beneath", /, '')),
    ['"stage", "--then-syncfs"', '"times", "--then-syncfs"'], `the commit's xattr starts: ${starts.join(' | ')}`);
  // The syncfs calls are the stage and times helpers' own (their pids), on either side of the renames.
  const pidOf = (op: string) => lines.find((l) => l.includes(`execve("${helperPath()}"`) && l.includes(`"${op}", "--then-syncfs"`))!.split(' ')[0]!;
  const syncBy = (pid: string) => lines.findIndex((l) => l.startsWith(`${pid} `) && / syncfs\(/.test(l));
  const renames = lines.map((l, n) => (/ rename(at2?)?\(.*\.sbx-/.test(l) ? n : -1)).filter((n) => n >= 0);
  assert.is(renames.length, 6, 'the staged files were renamed');
  const staged = syncBy(pidOf('stage')), last = syncBy(pidOf('times'));
  assert.ok(staged >= 0 && staged < renames[0]!, `the stage helper's syncfs before the first rename: ${lines.join('\n')}`);
  assert.ok(last > renames[renames.length - 1]!, `the times helper's syncfs after the last rename: ${lines.join('\n')}`);
});

test('SIGKILL after every file is staged and synced, before any rename: the next commit finishes', async () => {
  // Two dirs, so the staged files span several parents and the stage call's syncfs covers them all.
  for (let i = 0; i < 12; i++) write(U(`s${i % 2}/f${String(i).padStart(2, '0')}`), `v ${i}\n`);
  const badName = (p: string) => Buffer.concat([Buffer.from(p), Buffer.from([0xff, 0xfe])]);
  writeFileSync(badName(U('s0/n')), 'bytes'); // a name that is not UTF-8
  markStarted(f);
  await killCommitAt('staged');
  const staged = ['s0', 's1'].flatMap((d) => readdirSync(H(d)).filter((n) => n.startsWith('.sbx-')));
  assert.is(staged.length, 13, 'every file staged, none renamed');
  const r = commitSandbox(f.store, f.meta, opts);
  assert.ok(r.resumed, 'resumed');
  assert.equal(r.plan.conflicts, []);
  assert.ok(r.complete, JSON.stringify(r.result?.failed));
  for (let i = 0; i < 12; i++) assert.is(readFileSync(H(`s${i % 2}/f${String(i).padStart(2, '0')}`), 'utf8'), `v ${i}\n`);
  assert.is(readFileSync(badName(H('s0/n')), 'utf8'), 'bytes');
  for (const d of ['s0', 's1']) assert.equal(readdirSync(H(d)).filter((n) => n.startsWith('.sbx-')), [], `no staging leftovers in ${d}`);
});

test('a complete commit takes its sandbox out of the store at once and deletes its files in the background', () => {
  for (let i = 0; i < 50; i++) write(U(`bg/f${i}`), `x${i}`);
  markStarted(f);
  const dir = f.store.dirOf(f.meta.id);
  assert.ok(commitSandbox(f.store, f.meta, opts).complete);
  assert.not.ok(existsSync(dir), 'the entry is gone when commit returns');
  assert.equal(f.store.list(), []);
  waitForRemovers(f.store);
  assert.equal(readdirSync(f.store.root), [], 'the detached remover deleted the tree');
  assert.is(readFileSync(H('bg/f49'), 'utf8'), 'x49');
});

test('trees a remover left are removed by the next commit without following symlinks; a live remover keeps its own', () => {
  const outside = mkdtempSync(`/tmp/${CANARY}outside-`);
  extra.push(outside);
  write(join(outside, 'keep'), 'precious');
  const dead = spawnSync('true').pid;
  const root = f.store.root;
  // Died half way: a dir it could not enter, a symlink out, a non-UTF-8 name.
  const left = join(root, `.removing-aaaaaaaa.${dead}`);
  write(join(left, 'locked/inner'), 'i');
  chmodSync(join(left, 'locked'), 0);
  symlinkSync(outside, join(left, 'out'));
  writeFileSync(Buffer.concat([Buffer.from(`${left}/`), Buffer.from([0xff, 0xfe])]), 'x');
  // Still being removed by a live process (this one): not ours to touch.
  const live = join(root, `.removing-bbbbbbbb.${process.pid}`);
  write(join(live, 'f'), 'f');
  // Unclaimed, and a symlink to a tree outside: only the link may go.
  symlinkSync(outside, join(root, '.removing-cccccccc'));
  write(U('n'), 'n');
  markStarted(f);
  assert.ok(commitSandbox(f.store, f.meta, opts).complete);
  const until = Date.now() + 60_000;
  while (readdirSync(root).length > 1 && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  assert.equal(readdirSync(root), [`.removing-bbbbbbbb.${process.pid}`]);
  assert.is(readFileSync(join(outside, 'keep'), 'utf8'), 'precious', 'nothing outside the store followed');
  removeTree(live);
});

test('a socket\'s mode is set on the socket itself; a symlink swapped in at its name is refused, its target untouched', () => {
  const d = mkdtempSync(join(tmpdir(), 'sbx-sock-'));
  try {
    const sock = join(d, 's');
    mknodBatch('socket', [sock]);
    chmodSocketNoFollow(sock, 0o640);
    assert.is(lstatSync(sock).mode & 0o777, 0o640);
    const victim = join(d, 'victim');
    writeFileSync(victim, 'x');
    chmodSync(victim, 0o600);
    rmSync(sock);
    symlinkSync(victim, sock);
    // O_PATH|O_NOFOLLOW opens the symlink itself: not a socket, refused.
    assert.throws(() => chmodSocketNoFollow(sock, 0o666), /no longer a socket/);
    assert.is(statSync(victim).mode & 0o777, 0o600);
    rmSync(sock);
    writeFileSync(sock, 'a file now');
    assert.throws(() => chmodSocketNoFollow(sock, 0o666), /no longer a socket/);
  } finally { rmSync(d, { recursive: true, force: true }); }
});

test('validatePath refuses exactly the paths with an empty, . or .. component, a NUL, or not absolute', () => {
  // The definition, component by component; the shipped check tests substrings instead.
  const unsafe = (p: string) => !p.startsWith('/') || p === '/' || p.includes('\0') || p.slice(1).split('/').some((c) => c === '' || c === '.' || c === '..');
  const parts = ['', '.', '..', '...', 'a', '.a', 'a.', '..a', 'a..', '\xff\xfe', ' ', 'a\0b'];
  const paths = new Set<string>(['/', '', 'a', 'a/b', '//']);
  for (const x of parts) for (const y of parts) for (const z of parts) {
    paths.add(`/${x}`); paths.add(`/${x}/${y}`); paths.add(`/${x}/${y}/${z}`); paths.add(`${x}/${y}`); paths.add(`/${x}/${y}/`);
  }
  for (const p of paths) {
    let threw = false;
    try { validatePath(p); } catch { threw = true; }
    assert.is(threw, unsafe(p), JSON.stringify(p));
  }
});

// remove_tree_at removes a directory as if empty first and opens it only when that fails, and
// takes each entry's kind from getdents: every kind, at any depth, through no symlink.
test('sbx-helper rmtree removes a tree of every kind, 100 levels deep, and follows no symlink', () => {
  const d = mkdtempSync(`/tmp/${CANARY}rmtree-`);
  const outside = mkdtempSync(`/tmp/${CANARY}outside-`);
  extra.push(d, outside);
  write(join(outside, 'keep'), 'precious');
  mkdirSync(join(outside, 'dir'));
  write(join(outside, 'dir/inner'), 'inner');
  const t = join(d, 't');
  let deep = t;
  for (let i = 0; i < 100; i++) {
    deep = join(deep, i % 2 ? 'a' : 'b');
    mkdirSync(join(deep, 'empty'), { recursive: true });
  }
  write(join(deep, 'end'), 'end');
  // Links out, to a directory and to a file, at the top and at the bottom.
  for (const at of [t, deep]) {
    symlinkSync(join(outside, 'dir'), join(at, 'to-dir'));
    symlinkSync(join(outside, 'keep'), join(at, 'to-file'));
  }
  linkSync(join(outside, 'keep'), join(t, 'hard'));
  spawnSync('mkfifo', [join(t, 'fifo')]);
  // The overlay's kind of work dir: mode 0, full and empty.
  write(join(t, 'w/work/incompat/volatile/dirty'), '');
  mkdirSync(join(t, 'w/work/empty0'));
  for (const p of ['w/work/incompat/volatile', 'w/work/incompat', 'w/work/empty0', 'w/work']) chmodSync(join(t, p), 0);
  const fd = openSync(d, 'r');
  try {
    const r = spawnSync(helperPath(), ['rmtree', 't'], { stdio: ['ignore', 'ignore', 'pipe', fd], encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
  } finally {
    closeSync(fd);
  }
  assert.equal(readdirSync(d), [], 'the tree is gone');
  assert.is(readFileSync(join(outside, 'keep'), 'utf8'), 'precious');
  assert.is(readFileSync(join(outside, 'dir/inner'), 'utf8'), 'inner', 'nothing through a symlink');
});

testUnless(process.getuid!() === 0 ? null : 'only root can mount a tmpfs to test with')('sbx-helper rmtree never enters a mount point inside the tree: its contents stay', () => {
  const d = mkdtempSync(`/tmp/${CANARY}rmtree-`);
  extra.push(d);
  const m = join(d, 't/a/mnt');
  mkdirSync(m, { recursive: true });
  write(join(d, 't/a/f'), 'f');
  assert.is(spawnSync('mount', ['-t', 'tmpfs', 'none', m]).status, 0);
  try {
    write(join(m, 'mounted'), 'kept');
    const fd = openSync(d, 'r');
    let r;
    try {
      r = spawnSync(helperPath(), ['rmtree', 't'], { stdio: ['ignore', 'ignore', 'pipe', fd], encoding: 'utf8' });
    } finally {
      closeSync(fd);
    }
    assert.is(r.status, 1, 'a removal that met a mount point failed');
    assert.match(r.stderr, /EBUSY|busy/i);
    assert.is(readFileSync(join(d, `t.${r.pid}/a/mnt/mounted`), 'utf8'), 'kept', 'the mounted tree was not entered');
  } finally {
    for (const e of readdirSync(d)) spawnSync('umount', ['-l', join(d, e, 'a/mnt')]);
  }
});

test('sbx-helper rmtree refuses a name that is not one component and removes nothing for it', () => {
  const d = mkdtempSync(`/tmp/${CANARY}rmtree-`);
  extra.push(d);
  write(join(d, 'a/b/c'), 'c');
  const fd = openSync(d, 'r');
  try {
    const r = spawnSync(helperPath(), ['rmtree', '..', 'a/b', '', '.'], { stdio: ['ignore', 'ignore', 'pipe', fd], encoding: 'utf8' });
    assert.is(r.status, 2, r.stderr);
    const ok = spawnSync(helperPath(), ['rmtree', 'missing'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
    assert.is(ok.status, 0, 'a name already gone (another remover took it) is no error');
  } finally {
    closeSync(fd);
  }
  assert.is(readFileSync(join(d, 'a/b/c'), 'utf8'), 'c');
});

test.run();
