// The helper a run uses: a helper of another version in the package (an upgrade without a
// rebuild) is detected before it does anything, and sbx builds this version into the
// per-user cache once and runs there; its as-mapped-root reader of hostile layer dirs; and
// its timeline of a run (SBX_DEBUG_TIMES), printed only when asked.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, fstatSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, makeStore, removeStore, sbx } from '../helpers/sbx.js';
import { expectedHelperVersion, helperPath } from '../../sandbox-core/helper.js';
import { encodeSpec, type SpecOp } from '../../sandbox-core/spec.js';
import { entryOp } from '../../sandbox-core/layer-dirs.js';
import { parseStatusLines } from '../../sandbox-core/launch.js';
import { getXattrs, setXattrs } from '../../sandbox-core/changes/xattr.js';
import { have, ROOT_CASE, testUnless } from '../helpers/skip.js';

const work = mkdtempSync(join(tmpdir(), 'sbx-helpertest-'));
const store = makeStore();
test.after(() => { rmSync(work, { recursive: true, force: true }); removeStore(store); });

(have('cc') ? test : test.skip)('a stale helper in the package is replaced by one built into the cache, once', () => {
  const pkg = join(work, 'pkg');
  mkdirSync(pkg);
  spawnSync('cp', ['-a', join(REPO, 'dist'), join(REPO, 'native'), join(REPO, 'scripts'), join(REPO, 'policies'), join(REPO, 'package.json'), `${pkg}/`]);
  // A real helper of the same sources under another version: what an upgrade leaves. The
  // built one with its version (compiled in: what it answers to `version` and to a run of
  // another sbx) overwritten in place, not compiled again: a second build of the helper was
  // half this test's time.
  const helper = readFileSync(join(REPO, 'native', 'build', 'sbx-helper'));
  const ours = Buffer.from(`${expectedHelperVersion()}\0`);
  const stale = Buffer.from('0.0.1+0123456789ab\0');
  assert.is(stale.length, ours.length, `a stale version as long as ${ours}`);
  let found = 0;
  for (let i = helper.indexOf(ours); i >= 0; i = helper.indexOf(ours, i + 1)) { stale.copy(helper, i); found++; }
  assert.ok(found > 0, `native/build/sbx-helper is not this checkout's helper (${expectedHelperVersion()}): npm run build`);
  writeFileSync(join(pkg, 'native', 'build', 'sbx-helper'), helper);
  assert.is(spawnSync(join(pkg, 'native', 'build', 'sbx-helper'), ['version'], { encoding: 'utf8' }).stdout, '0.0.1+0123456789ab\n');
  const cache = join(work, 'cache');
  const run = () => spawnSync(process.execPath, [join(pkg, 'dist', 'bin', 'sbx.js'), 'run', '-n', '-q', '--', 'true'], {
    encoding: 'utf8', cwd: '/', env: { ...process.env, SBX_HOME: store, XDG_CACHE_HOME: cache, NO_COLOR: '1' },
  });
  const first = run();
  assert.is(first.status, 0, first.stderr);
  assert.match(first.stderr, /building its helper for this machine \(.*is version 0\.0\.1\+0123456789ab\)/);
  assert.ok(existsSync(join(cache, 'sbx', 'helper', expectedHelperVersion(), 'sbx-helper')));
  const second = run();
  assert.is(second.status, 0, second.stderr);
  assert.not.match(second.stderr, /building/);
  const v = spawnSync(process.execPath, [join(pkg, 'dist', 'bin', 'sbx.js'), '--version'], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cache } });
  assert.match(v.stdout, new RegExp(`^helper .*, matches \\(${cache.replace(/[.+]/g, '\\$&')}/`, 'm'));
});


test('count-entries reads a layer dir as mapped root, beneath the layers dir, no symlink followed', () => {
  // The layers dir of a sandbox, as a hostile run could leave it.
  const layers = join(work, 'layers');
  mkdirSync(join(layers, 'L0', 'upper', 'empty'), { recursive: true });
  mkdirSync(join(layers, 'L0', 'upper', 'full'));
  for (const n of ['a', 'b', '.wh..wh..opq']) writeFileSync(join(layers, 'L0', 'upper', 'full', n), '');
  symlinkSync('full', join(layers, 'L0', 'upper', 'link'));
  // The mode a sandbox gives them does not stop root of the user's own namespace.
  chmodSync(join(layers, 'L0', 'upper', 'full'), 0);
  const uid = process.getuid!(), gid = process.getgid!();
  const rels = ['L0/upper/empty', 'L0/upper/full', 'L0/upper/link', 'L0/upper/link/a', 'L0/upper/nope', '../etc'];
  const fd = openSync(layers, 'r');
  let r;
  try {
    r = spawnSync(join(REPO, 'native', 'build', 'sbx-helper'), ['as-mapped-root', '-', `0 ${uid} 1\n`, '-', `0 ${gid} 1\n`, 'count-entries'], {
      input: rels.map((p) => `${p}\0`).join(''), stdio: ['pipe', 'pipe', 'pipe', fd],
    });
  } finally {
    closeSync(fd);
    chmodSync(join(layers, 'L0', 'upper', 'full'), 0o755);
  }
  assert.is(r.status, 0, String(r.stderr));
  const got = rels.map((_, i) => [0, 1, 2].map((k) => r.stdout.readUInt32LE(16 * i + 4 * k)).join(' '));
  // errno entries markers, per path: a symlink is ENOTDIR as the last name, ELOOP on the way, and .. is EXDEV
  assert.equal(got, ['0 0 0', '0 3 1', '20 0 0', '40 0 0', '2 0 0', '18 0 0']);
});


// scrap_after: once the sandbox ended, the helper removes REL beneath BASE, mode-0 dirs of
// the overlay's kind included, and follows no symlink on the way.
test('scrap_after removes a work dir beneath its base once the sandbox ended, through no symlink', () => {
  const base = join(work, 'scrap');
  const outside = join(work, 'scrap-outside');
  mkdirSync(join(base, 'L000', 'work', 'work', 'incompat', 'volatile'), { recursive: true });
  writeFileSync(join(base, 'L000', 'work', 'work', 'incompat', 'volatile', 'dirty'), '');
  for (const d of ['work/work/incompat/volatile', 'work/work/incompat', 'work/work']) chmodSync(join(base, 'L000', d), 0);
  mkdirSync(join(base, 'L000', 'upper'));
  mkdirSync(join(outside, 'work'), { recursive: true });
  symlinkSync(outside, join(base, 'L001'));
  const uid = process.getuid!(), gid = process.getgid!();
  const spec = encodeSpec([
    { op: 'uid_map', args: [`0 ${uid} 1\n`] }, { op: 'setgroups', args: ['deny'] }, { op: 'gid_map', args: [`0 ${gid} 1\n`] },
    { op: 'scrap_after', args: [base, 'L000/work'] }, { op: 'scrap_after', args: [base, 'L001/work'] },
    { op: 'cwd', args: ['/'] }, { op: 'arg', args: ['true'] }, { op: 'env', args: ['PATH=/usr/bin:/bin'] },
  ]);
  const r = spawnSync('sh', ['-c', 'exec "$0" run 0 4 4>&3 3>&-', helperPath()], { input: spec, encoding: 'latin1', stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  assert.is(parseStatusLines((r.output[3] as string | null) ?? '').outcome?.kind, 'exited', `${r.stderr} ${r.output[3]}`);
  assert.not.ok(existsSync(join(base, 'L000', 'work')), 'the work dir is gone');
  assert.ok(existsSync(join(base, 'L000', 'upper')), 'its sibling stays');
  assert.ok(existsSync(join(outside, 'work')), 'nothing through a symlink');
});

// entry: a fresh run's layer dirs and stand-ins, made by the helper's outer process exactly as
// listed (mode, owner, times), beneath the layers dir; a symlink planted on the way (an earlier
// sandbox's, a tampered store) is refused, never followed.
function runEntries(layers: string, entries: SpecOp[]): ReturnType<typeof parseStatusLines> {
  const uid = process.getuid!(), gid = process.getgid!();
  const spec = encodeSpec([
    { op: 'uid_map', args: [`0 ${uid} 1\n`] }, { op: 'setgroups', args: ['deny'] }, { op: 'gid_map', args: [`0 ${gid} 1\n`] },
    { op: 'layers_dir', args: [layers] }, ...entries,
    { op: 'cwd', args: ['/'] }, { op: 'arg', args: ['true'] }, { op: 'env', args: ['PATH=/usr/bin:/bin'] },
  ]);
  const r = spawnSync('sh', ['-c', 'exec "$0" run 0 4 4>&3 3>&-', helperPath()], { input: spec, encoding: 'latin1', stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  return parseStatusLines((r.output[3] as string | null) ?? '');
}

test('entry ops make each dir, file and symlink with the mode, owner and times listed, a dir\'s times after its entries', () => {
  const layers = join(work, 'entries');
  mkdirSync(layers);
  // Root gives the host's owners; an ordinary user can only give its own.
  const owner = process.getuid!() === 0 ? { uid: 1234, gid: 5678 } : { uid: process.getuid!(), gid: process.getgid!() };
  // Every nanosecond, and before 1970: -5.5 s is second -6 and 500000000 ns after it.
  const times = { atime: { sec: 1000000000, nsec: 123456789 }, mtime: { sec: -6, nsec: 500000000 } };
  const r = runEntries(layers, [
    entryOp('dir', 'L0'),
    entryOp('dir', 'L0/upper', { mode: 0o1751, owner, times }),
    entryOp('dir', 'S'),
    // setuid and setgid: a chown after the chmod would clear them.
    entryOp('file', 'S/f', { mode: 0o6750, owner, times: { atime: { sec: 1, nsec: 500000000 }, mtime: { sec: 1700000000, nsec: 250000001 } } }),
    entryOp('symlink', 'S/l', { owner, flags: ['owner-optional'] }, '/nowhere'),
    entryOp('dir-attrs', 'S', { mode: 0o555, times: { atime: { sec: 2, nsec: 0 }, mtime: { sec: 3, nsec: 0 } } }),
    // A file sbx wrote itself (a stand-in's copy) takes its attributes the same way.
    entryOp('file', 'L0/copied'),
    entryOp('file-attrs', 'L0/copied', { mode: 0o4440, owner, times: { atime: { sec: -100, nsec: 1 }, mtime: { sec: 5, nsec: 999999999 } } }),
  ]);
  const st = (p: string) => lstatSync(join(layers, p), { bigint: true });
  // Its mode would keep the test's clean-up from removing what is in it.
  const s = lstatSync(join(layers, 'S'), { bigint: true, throwIfNoEntry: false });
  if (s) chmodSync(join(layers, 'S'), 0o755);
  assert.is(r.outcome?.kind, 'exited', JSON.stringify(r.outcome));
  const l0 = st('L0');
  assert.is(l0.mode & 0o7777n, 0o700n, 'made 0700, left so');
  const up = st('L0/upper');
  assert.equal([up.mode & 0o7777n, up.uid, up.gid], [0o1751n, BigInt(owner.uid), BigInt(owner.gid)]);
  assert.equal([up.atimeNs, up.mtimeNs], [1000000000123456789n, -5500000000n]);
  const f = st('S/f');
  assert.ok(f.isFile());
  assert.equal([f.mode & 0o7777n, f.uid, f.gid, f.atimeNs, f.mtimeNs], [0o6750n, BigInt(owner.uid), BigInt(owner.gid), 1500000000n, 1700000000250000001n]);
  const l = st('S/l');
  assert.ok(l.isSymbolicLink());
  assert.equal([readlinkSync(join(layers, 'S/l')), l.uid, l.gid], ['/nowhere', BigInt(owner.uid), BigInt(owner.gid)]);
  assert.equal([s!.mode & 0o7777n, s!.atimeNs, s!.mtimeNs], [0o555n, 2000000000n, 3000000000n]);
  const c = st('L0/copied');
  assert.equal([c.mode & 0o7777n, c.uid, c.gid, c.atimeNs, c.mtimeNs, c.size], [0o4440n, BigInt(owner.uid), BigInt(owner.gid), -99999999999n, 5999999999n, 0n]);
});

test('entry host-xattrs: a layer\'s upper and work dirs take the host dir\'s user.* xattrs and ACL, its named ids moved by the shift; a malformed source is refused', () => {
  const layers = join(work, 'entries-xattrs');
  const host = join(work, 'xattrs-host');
  mkdirSync(layers);
  mkdirSync(host);
  // An access ACL: user::rwx, user:1005:r-x, group::r-x, mask::r-x, other::--- (posix_acl_xattr, version 2).
  const acl = Buffer.alloc(4 + 5 * 8);
  acl.writeUInt32LE(2, 0);
  [[0x01, 7, 0xffffffff], [0x02, 5, 1005], [0x04, 5, 0xffffffff], [0x10, 5, 0xffffffff], [0x20, 0, 0xffffffff]].forEach(([t, perm, id], i) => {
    acl.writeUInt16LE(t!, 4 + 8 * i); acl.writeUInt16LE(perm!, 6 + 8 * i); acl.writeUInt32LE(id!, 8 + 8 * i);
  });
  const set = setXattrs([{ path: host, attrs: [['user.kept', Buffer.from('k')], ['system.posix_acl_access', acl]] }]);
  if (set[0] === 95 /* EOPNOTSUPP */) { console.log(`  skip: no user xattrs or ACLs on ${work}'s filesystem`); return; }
  assert.equal(set, [0]);
  const flags = ['host-xattrs' as const];
  const o = runEntries(layers, [entryOp('dir', 'L0'), entryOp('dir', 'L0/work', { flags }, `100:200:65536:${host}`), entryOp('dir', 'L0/upper', { mode: 0o750, flags }, `100:200:65536:${host}`)]);
  assert.equal(o.outcome, { kind: 'exited', code: 0 });
  for (const d of ['work', 'upper']) {
    const x = getXattrs([join(layers, 'L0', d)])[0]!;
    assert.is(x.errno, 0);
    const attrs = new Map(x.attrs);
    assert.is(attrs.get('user.kept')?.toString(), 'k', d);
    const a = attrs.get('system.posix_acl_access');
    assert.ok(a, `${d} has the ACL`);
    assert.is(a!.readUInt32LE(8 + 8), 1105, 'user:1005 moved by the shift\'s uid base');
  }
  assert.is(lstatSync(join(layers, 'L0', 'upper')).mode & 0o7777, 0o750, 'the mode set after the ACL');
  mkdirSync(join(work, 'entries-bad'));
  const bad = runEntries(join(work, 'entries-bad'), [entryOp('dir', 'L0', { flags }, host)]).outcome;
  assert.ok(bad?.kind === 'setup-failed' && bad.step === 'spec' && /host-xattrs takes a dir and UIDBASE:GIDBASE:COUNT:\/HOST/.test(bad.message ?? ''), JSON.stringify(bad));
  assert.equal(readdirSync(join(work, 'entries-bad')), []);
});


test('entry ops follow no symlink planted in the layers dir: the step fails and names the path', () => {
  const layers = join(work, 'entries-planted');
  const outside = join(work, 'entries-outside');
  mkdirSync(layers);
  mkdirSync(outside);
  writeFileSync(join(outside, 'x'), '');
  chmodSync(join(outside, 'x'), 0o644);
  symlinkSync(outside, join(layers, 'P'));
  symlinkSync(join(outside, 'x'), join(layers, 'Q'));
  mkdirSync(join(layers, 'R'), { mode: 0o700 });
  const cases: Array<[SpecOp, string, number]> = [
    [entryOp('dir', 'P/upper', { mode: 0o777 }), 'entry-parent', 40],
    [entryOp('dir-attrs', 'Q', { mode: 0o777, times: { atime: { sec: 1, nsec: 0 }, mtime: { sec: 1, nsec: 0 } } }), 'entry-open', 20],
    [entryOp('file', 'Q', { mode: 0o777 }), 'entry-file', 17],
    [entryOp('file-attrs', 'Q', { mode: 0o777, times: { atime: { sec: 1, nsec: 0 }, mtime: { sec: 1, nsec: 0 } } }), 'entry-open', 40],
    // A file-attrs op is for a regular file sbx wrote: a dir there is refused, not changed.
    [entryOp('file-attrs', 'R', { mode: 0o777 }), 'entry-open', 22],
    [entryOp('dir', 'Q'), 'entry-mkdir', 17],
    [entryOp('dir', '../entries-outside/up'), 'entry-parent', 18],
  ];
  for (const [op, step, errno] of cases) {
    const r = runEntries(layers, [op]);
    const o = r.outcome;
    assert.ok(o?.kind === 'setup-failed', `${op.args[1]}: ${JSON.stringify(o)}`);
    if (o?.kind !== 'setup-failed') continue;
    assert.equal([o.step, o.errno, o.path], [step, errno, `${layers}/${op.args[1]}`]);
  }
  assert.equal(readdirSync(outside), ['x'], 'nothing made outside');
  const x = statSync(join(outside, 'x'));
  assert.is(x.mode & 0o7777, 0o644, 'its mode unchanged');
  assert.ok(x.mtimeMs > 1000, 'its times unchanged');
});

// whiteout (--hide): made beneath the layers root; a whiteout already there is kept, but
// anything else at the name (a dir made after sbx planned it) fails the run: it would leave the
// hidden path showing.
test('a whiteout op where a dir is already at the name fails the run; one where a whiteout is, runs', () => {
  const layers = mkdtempSync(join(work, 'wh-'));
  mkdirSync(join(layers, 'L0', 'upper', 'hidden'), { recursive: true });
  const uid = process.getuid!(), gid = process.getgid!();
  const run = (rel: string) => {
    const stage = mkdtempSync(join(work, 'wh-stage-'));
    const view: SpecOp[] = [{ op: 'stage', args: [stage] }, { op: 'bind', args: ['/usr', '/usr', ['ro', 'rec']] }];
    for (const d of ['bin', 'sbin', 'lib', 'lib64']) {
      if (existsSync(`/${d}`)) view.push(lstatSync(`/${d}`).isSymbolicLink() ? { op: 'symlink', args: [readlinkSync(`/${d}`), `/${d}`] } : { op: 'bind', args: [`/${d}`, `/${d}`, ['ro', 'rec']] });
    }
    const spec = encodeSpec([
      { op: 'uid_map', args: [`0 ${uid} 1\n`] }, { op: 'setgroups', args: ['deny'] }, { op: 'gid_map', args: [`0 ${gid} 1\n`] },
      { op: 'whiteout', args: [layers, rel] }, ...view,
      { op: 'cwd', args: ['/'] }, { op: 'arg', args: ['true'] }, { op: 'env', args: ['PATH=/usr/bin:/bin'] },
    ]);
    const r = spawnSync('sh', ['-c', 'exec "$0" run 0 4 4>&3 3>&-', helperPath()], { input: spec, encoding: 'latin1', stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    return parseStatusLines((r.output[3] as string | null) ?? '').outcome;
  };
  const o = run('L0/upper/hidden');
  assert.ok(o?.kind === 'setup-failed' && o.step === 'whiteout-exists' && o.errno === 17, JSON.stringify(o));
  assert.ok(statSync(join(layers, 'L0', 'upper', 'hidden')).isDirectory(), 'the dir is left as it was');
  assert.is(run('L0/upper/new')?.kind, 'exited', 'a new whiteout');
  const wh = lstatSync(join(layers, 'L0', 'upper', 'new'));
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'made as a whiteout');
  assert.is(run('L0/upper/new')?.kind, 'exited', 'a whiteout already there');
});

// review_scan: once the sandbox ended, the outer process walks the layers as `sbx-helper scan`
// would and writes the answer into the file sbx gave it; no process of the sandbox holds any of
// the three fds; a scan that fails is said and leaves the command's outcome as it was.
function runReviewScan(request: Buffer, layers: string, host: string): { status: ReturnType<typeof parseStatusLines>; answer: Buffer; out: string } {
  const uid = process.getuid!(), gid = process.getgid!();
  const answerPath = join(work, `review-answer-${Math.random().toString(16).slice(2)}`);
  const fds = [openSync(layers, 'r'), openSync(host, 'r'), openSync(answerPath, 'wx+', 0o600)];
  try {
    // A view of its own (the host's /usr, a /proc of the sandbox's): pid 1's fds can be read.
    const stage = mkdtempSync(join(work, 'rs-stage-'));
    const view: SpecOp[] = [{ op: 'stage', args: [stage] }, { op: 'bind', args: ['/usr', '/usr', ['ro', 'rec']] }];
    for (const d of ['bin', 'sbin', 'lib', 'lib64']) {
      if (existsSync(`/${d}`)) view.push(lstatSync(`/${d}`).isSymbolicLink() ? { op: 'symlink', args: [readlinkSync(`/${d}`), `/${d}`] } : { op: 'bind', args: [`/${d}`, `/${d}`, ['ro', 'rec']] });
    }
    view.push({ op: 'mkdir', args: ['/proc', '555'] }, { op: 'proc', args: ['/proc'] });
    const spec = encodeSpec([
      { op: 'uid_map', args: [`0 ${uid} 1\n`] }, { op: 'setgroups', args: ['deny'] }, { op: 'gid_map', args: [`0 ${gid} 1\n`] },
      ...view,
      { op: 'review_scan', args: ['5', '6', '7', request] },
      { op: 'cwd', args: ['/'] }, { op: 'arg', args: ['sh'] }, { op: 'arg', args: ['-c'] },
      // Each fd of the command, then each of pid 1's, as a link's target.
      { op: 'arg', args: ['ls /proc/self/fd | tr "\\n" " "; echo; for f in /proc/1/fd/*; do readlink "$f"; done; exit 3'] },
      { op: 'env', args: ['PATH=/usr/bin:/bin'] },
    ]);
    const r = spawnSync('sh', ['-c', 'exec "$0" run 0 4 4>&3 3>&-', helperPath()], { input: spec, encoding: 'latin1', stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'ignore', ...fds] });
    return { status: parseStatusLines((r.output[3] as string | null) ?? ''), answer: readFileSync(answerPath), out: `${r.stdout}${r.stderr}` };
  } finally {
    for (const fd of fds) closeSync(fd);
    rmSync(answerPath, { force: true });
  }
}

test('review_scan writes the scan of the layers once the sandbox ended; nothing inside holds its fds', () => {
  const layers = join(work, 'rs-layers'), host = join(work, 'rs-host');
  mkdirSync(join(layers, 'L0', 'upper', 'new'), { recursive: true });
  mkdirSync(join(layers, 'L1', 'upper'), { recursive: true });
  writeFileSync(join(layers, 'L0', 'upper', 'new', 'file'), 'inside\n');
  writeFileSync(join(layers, 'L0', 'upper', 'conf'), 'changed\n');
  mkdirSync(join(host, 'sub'), { recursive: true });
  writeFileSync(join(host, 'conf'), 'host\n');
  // L0 over the host dir itself, L1 (empty) over its `sub`: upper\0 host\0 and the flags word.
  const job = (upper: string, hostRel: string): Buffer => Buffer.concat([Buffer.from(`${upper}\0${hostRel}\0`), Buffer.alloc(4)]);
  const request = Buffer.concat([job('L0/upper', ''), job('L1/upper', 'sub')]);
  const r = runReviewScan(request, layers, host);
  assert.equal(r.status.outcome, { kind: 'exited', code: 3 }, r.out);
  assert.ok(r.status.reviewScanned, r.out);
  // The same walk as the subcommand's, byte for byte.
  const fds = [openSync(layers, 'r'), openSync(host, 'r')];
  let own;
  try { own = spawnSync(helperPath(), ['scan'], { input: request, stdio: ['pipe', 'pipe', 'pipe', ...fds] }); } finally { for (const fd of fds) closeSync(fd); }
  assert.is(own.status, 0, String(own.stderr));
  assert.ok(own.stdout.length > 10, 'the subcommand found the changes');
  assert.ok(r.answer.equals(own.stdout), `${r.answer.length} bytes against ${own.stdout.length}`);
  // The command's own fds are 0, 1, 2 (and the listing's own, 3); pid 1 holds nothing of the host's.
  const [ownFds, ...pid1] = r.out.trim().split('\n');
  assert.ok(ownFds!.trim().split(' ').map(Number).every((fd) => fd <= 3), r.out);
  for (const target of pid1) assert.not.ok(target === layers || target === host || target.includes('review-answer'), `pid 1 holds ${target}`);
});

// Seen from the host, as only root may look at the sandbox's processes (pid 1 is not dumpable):
// while the command runs, no process below the outer helper holds the layers root, the host
// root or the answer file, compared by device and inode.
testUnless(ROOT_CASE)('review_scan: no process of the sandbox holds its layers root, host root or answer file', async () => {
  const layers = join(work, 'rs-layers-fds'), host = join(work, 'rs-host-fds');
  mkdirSync(join(layers, 'L0', 'upper'), { recursive: true });
  mkdirSync(host, { recursive: true });
  const answerPath = join(work, 'rs-answer-fds');
  const fds = [openSync(layers, 'r'), openSync(host, 'r'), openSync(answerPath, 'wx+', 0o600)];
  const ids = (st: { dev: number; ino: number }): string => `${st.dev}:${st.ino}`;
  const ours = new Set(fds.map((fd) => ids(fstatSync(fd))));
  const spec = encodeSpec([
    { op: 'uid_map', args: ['0 0 4294967295\n'] }, { op: 'gid_map', args: ['0 0 4294967295\n'] },
    { op: 'review_scan', args: ['5', '6', '7', Buffer.concat([Buffer.from('L0/upper\0\0'), Buffer.alloc(4)])] },
    { op: 'cwd', args: ['/'] }, { op: 'arg', args: ['sh'] }, { op: 'arg', args: ['-c'] }, { op: 'arg', args: ['echo up; sleep 30'] },
    { op: 'env', args: ['PATH=/usr/bin:/bin'] },
  ]);
  const child = spawn('sh', ['-c', 'exec "$0" run 0 4 4>&3 3>&-', helperPath()], { stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'ignore', ...fds] });
  for (const fd of fds) closeSync(fd);
  try {
    child.stdin!.end(spec);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('up')) resolve(); });
      child.on('exit', () => reject(new Error('the helper ended before the command said it was up')));
    });
    const below = (pid: number): number[] => {
      const kids = readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
      return kids.flatMap((k) => [k, ...below(k)]);
    };
    const sandbox = below(child.pid!);
    assert.ok(sandbox.length >= 2, `pid 1 and the command below the helper: ${sandbox}`);
    let seen = 0;
    for (const pid of sandbox) {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        let st;
        try { st = statSync(`/proc/${pid}/fd/${fd}`); } catch { continue; }
        seen++;
        assert.not.ok(ours.has(ids(st)), `process ${pid} holds fd ${fd}: ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`);
      }
    }
    assert.ok(seen > 0, 'the sandbox\'s fds were read');
    // The outer helper itself holds them: what the check above would see, had they leaked.
    const outer = readdirSync(`/proc/${child.pid}/fd`).filter((fd) => { try { return ours.has(ids(statSync(`/proc/${child.pid}/fd/${fd}`))); } catch { return false; } });
    assert.is(outer.length, 3, 'the outer helper holds the three');
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.on('exit', r)));
    rmSync(answerPath, { force: true });
  }
});

test('review_scan refuses an fd that is the status fd: the spec is wrong, nothing runs', () => {
  const uid = process.getuid!(), gid = process.getgid!();
  const spec = encodeSpec([
    { op: 'uid_map', args: [`0 ${uid} 1\n`] }, { op: 'setgroups', args: ['deny'] }, { op: 'gid_map', args: [`0 ${gid} 1\n`] },
    { op: 'review_scan', args: ['4', '6', '7', Buffer.concat([Buffer.from('L0/upper\0\0'), Buffer.alloc(4)])] },
    { op: 'cwd', args: ['/'] }, { op: 'arg', args: ['true'] }, { op: 'env', args: ['PATH=/usr/bin:/bin'] },
  ]);
  const r = spawnSync('sh', ['-c', 'exec "$0" run 0 4 4>&3 3>&- 6</dev/null 7</dev/null', helperPath()], { input: spec, encoding: 'latin1', stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  const o = parseStatusLines((r.output[3] as string | null) ?? '').outcome;
  assert.ok(o?.kind === 'setup-failed' && o.step === 'review-scan-fd', JSON.stringify(o));
});

test('review_scan that fails is said, and the command\'s outcome stands', () => {
  const layers = join(work, 'rs-layers-bad'), host = join(work, 'rs-host-bad');
  mkdirSync(join(layers, 'L0', 'upper'), { recursive: true });
  mkdirSync(host, { recursive: true });
  // A job without its flags word: the scan refuses the request.
  const r = runReviewScan(Buffer.from('L0/upper\0\0'), layers, host);
  assert.equal(r.status.outcome, { kind: 'exited', code: 3 }, r.out);
  assert.not.ok(r.status.reviewScanned, r.out);
  assert.not.match(r.out, /sbx-helper scan/, 'the scan\'s own error line stays unsaid: sbx scans again and says it');
});

// syncfs_after: a saved run's layers are synced by the helper once the sandbox ended, and it
// says so; a dir it cannot open is said too (sbx then starts `sync -f` itself), and the
// command's outcome stands.
test('syncfs_after syncs the dir\'s filesystem once the sandbox ended and says so, or says why not', () => {
  const uid = process.getuid!(), gid = process.getgid!();
  const run = (dir: string) => {
    const spec = encodeSpec([
      { op: 'uid_map', args: [`0 ${uid} 1\n`] }, { op: 'setgroups', args: ['deny'] }, { op: 'gid_map', args: [`0 ${gid} 1\n`] },
      { op: 'syncfs_after', args: [dir] },
      { op: 'cwd', args: ['/'] }, { op: 'arg', args: ['sh'] }, { op: 'arg', args: ['-c'] }, { op: 'arg', args: ['exit 4'] }, { op: 'env', args: ['PATH=/usr/bin:/bin'] },
    ]);
    const r = spawnSync('sh', ['-c', 'exec "$0" run 0 4 4>&3 3>&-', helperPath()], { input: spec, encoding: 'latin1', stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    return { status: parseStatusLines((r.output[3] as string | null) ?? ''), text: (r.output[3] as string | null) ?? '' };
  };
  const ok = run(work);
  assert.equal(ok.status.outcome, { kind: 'exited', code: 4 }, ok.text);
  assert.ok(ok.status.synced, ok.text);
  const missing = run(join(work, 'no-such-dir'));
  assert.equal(missing.status.outcome, { kind: 'exited', code: 4 }, missing.text);
  assert.not.ok(missing.status.synced, missing.text);
  assert.match(missing.text, /^sync-failed 2$/m);
});

test('SBX_DEBUG_TIMES=1: the helper prints each step of the run on stderr, and nothing without it', () => {
  const run = (env: Record<string, string>) => sbx(['run', '-n', '-q', '--', 'sh', '-c', 'echo out; echo err >&2'], { store, env });
  const on = run({ SBX_DEBUG_TIMES: '1' });
  assert.is(on.code, 0, on.stderr);
  assert.is(on.stdout, 'out\n', 'the command\'s output as without it');
  assert.match(on.stderr, /^err$/m);
  const lines = on.stderr.split('\n').filter((l) => l.startsWith('sbx-helper time '));
  // PID, ms since the helper started, then the step's wall, CPU and runqueue ms, and its name.
  for (const l of lines) assert.match(l, /^sbx-helper time \d+ \+\d+\.\d{3} \d+\.\d{3} -?\d+\.\d{3} -?\d+\.\d{3} \S/);
  const steps = lines.map((l) => l.split(' ').slice(7).join(' '));
  for (const s of ['spec', 'clone', 'released', 'command: forked', 'command init: command ended', 'sandbox-ended'])
    assert.ok(steps.includes(s), `step ${s} in: ${steps.join(', ')}`);
  const off = run({});
  assert.is(off.code, 0, off.stderr);
  assert.not.match(off.stderr, /sbx-helper time/);
});

test.run();
