// The native scanner (sbx-helper scan, native/scan.c) behind walkUppers: its stat fields are
// exactly lstat's, it reaches any depth, follows no symlink, keeps names as bytes, and the
// listing mode (fewXattrs) still sees every whiteout and opaque dir.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { linkSync, lstatSync, mkdirSync, openSync, closeSync, ftruncateSync, rmSync, symlinkSync, utimesSync, writeFileSync, readFileSync, chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { makeFixture, whiteout, opaque, setXattr, write, type Fixture } from './changes-fixture.js';
import { runScanMany, scanAnswer, walkRequest, walkUppers, type PlannedWalk } from '../../sandbox-core/changes/walk.js';
import { scanSandbox, scanSandboxes } from '../../sandbox-core/changes/scan.js';
import { closeAll } from '../../sandbox-core/changes/fsat.js';
import { toEntryStat } from '../../sandbox-core/changes/stat.js';
import type { EntryStat } from '../../sandbox-core/changes/types.js';
import { helperPath } from '../../sandbox-core/helper.js';
import { have, testUnless } from '../helpers/skip.js';

const STAT_KEYS = ['type', 'perm', 'uid', 'gid', 'size', 'mtimeMs', 'atimeMs', 'ctimeMs', 'ino', 'dev', 'nlink', 'rdev', 'blocks'] as const;
const plainStat = (st: EntryStat) => Object.fromEntries(STAT_KEYS.map((k) => [k, st[k]]));

let f: Fixture;
test.before.each(() => { f = makeFixture(); });
test.after.each(() => { f.cleanup(); });

test('stat fields are exactly lstat\'s: sizes, sparse blocks, links, modes, times, fifos, symlinks', () => {
  const u = f.upper();
  write(join(u, 'small'), 'hello', 0o4755);
  const fd = openSync(join(u, 'sparse'), 'w');
  ftruncateSync(fd, 5 * 2 ** 30);
  closeSync(fd);
  write(join(u, 'big'), Buffer.alloc(3 * 2 ** 20, 7));
  linkSync(join(u, 'small'), join(u, 'hard'));
  symlinkSync('/etc/passwd', join(u, 'link'));
  spawnSync('mkfifo', [join(u, 'fifo')]);
  mkdirSync(join(u, 'dir'), { mode: 0o1777 });
  write(join(f.host, 'small'), 'host');
  const { entries, errors } = walkUppers(f.meta);
  assert.equal(errors, []);
  const names = entries.map((e) => e.host.slice(f.host.length)).sort();
  assert.equal(names, ['/big', '/dir', '/fifo', '/hard', '/link', '/small', '/sparse']);
  // A dir's atime moves when the scan reads it. Fields compared one by one: the scan's stat
  // is read from the helper's record on demand, lstat's is a plain object.
  const noDirAtime = (st: ReturnType<typeof toEntryStat> | null) => (st ? { ...plainStat(st), ...(st.type === 'dir' ? { atimeMs: 0 } : {}) } : st);
  for (const e of entries) {
    assert.equal(noDirAtime(e.up), noDirAtime(toEntryStat(lstatSync(e.upper))), e.upper);
    const hostSt = lstatSync(e.host, { throwIfNoEntry: false });
    assert.equal(noDirAtime(e.host0), hostSt ? noDirAtime(toEntryStat(hostSt)) : null, e.host);
  }
});

test('entries come in path order, each dir\'s names by bytes and its subtree right after it', () => {
  const u = f.upper();
  for (const p of ['c/d/e', 'b', 'a.txt', 'a/y', 'a/x', 'a-b/z', '\xff', 'A']) write(join(u, p), 'x');
  const { entries, errors } = walkUppers(f.meta);
  assert.equal(errors, []);
  assert.equal(entries.map((e) => e.host.slice(f.host.length + 1)), ['A', 'a', 'a/x', 'a/y', 'a-b', 'a-b/z', 'a.txt', 'b', 'c', 'c/d', 'c/d/e', '\xc3\xbf']);
});

test('a tree deeper than PATH_MAX is walked to the bottom', () => {
  // 1,200 levels of 8-byte names: about 10,800 bytes of path, beyond PATH_MAX (4096).
  // Made in a child with relative calls (chdir down a level at a time), as a sandbox can.
  const make = "const fs = require('fs'); process.chdir(process.argv[1]); for (let i = 0; i < 1200; i++) { fs.mkdirSync('d0000000'); process.chdir('d0000000'); } fs.writeFileSync('leaf', 'leaf\\n');";
  const r = spawnSync(process.execPath, ['-e', make, f.upper()]);
  assert.is(r.status, 0, String(r.stderr));
  const { changes, errors } = scanSandbox(f.meta);
  assert.equal(errors, []);
  assert.is(changes.length, 1201);
  const leaf = changes[changes.length - 1]!;
  assert.ok(leaf.path.endsWith('/d0000000/leaf'));
  assert.is(leaf.path.length, f.host.length + 1200 * 9 + 5);
  assert.is(leaf.size, 5);
});

test('symlinks in the upper are entries, never followed', () => {
  const u = f.upper();
  mkdirSync(join(f.root, 'outside'));
  write(join(f.root, 'outside/secret'), 's');
  symlinkSync(join(f.root, 'outside'), join(u, 'dirlink'));
  const { changes, errors } = scanSandbox(f.meta);
  assert.equal(errors, []);
  assert.equal(changes.map((c) => [c.path.slice(f.host.length), c.change, c.type, c.target]), [['/dirlink', 'added', 'symlink', join(f.root, 'outside')]]);
});

test('a host path with a symlinked parent is not looked up through the symlink', () => {
  // The host has /sub -> outside; the upper has sub/ (a dir): the host side must not be read through the link.
  mkdirSync(join(f.root, 'outside'));
  write(join(f.root, 'outside/file'), 'host file');
  symlinkSync(join(f.root, 'outside'), join(f.host, 'sub'));
  write(join(f.upper(), 'sub/file'), 'host file');
  const { entries } = walkUppers(f.meta);
  const file = entries.find((e) => e.host.endsWith('/sub/file'))!;
  assert.is(file.host0, null);
});

test('names are bytes: invalid UTF-8 and control characters survive', () => {
  const u = f.upper();
  const name = Buffer.from([0x66, 0xff, 0xfe, 0x0a, 0x1b, 0x80]);
  writeFileSync(Buffer.concat([Buffer.from(`${u}/`), name]), 'x');
  const { entries } = walkUppers(f.meta);
  assert.equal(Buffer.from(entries[0]!.host.slice(f.host.length + 1), 'latin1'), name);
});

test('listing mode (fewXattrs) still finds whiteouts, opaque dirs and changed xattrs, and skips new files\' xattrs', () => {
  write(join(f.host, 'gone1'), 'g');
  write(join(f.host, 'gone2'), 'g');
  write(join(f.host, 'op/hidden'), 'h');
  write(join(f.host, 'x'), 'x');
  const u = f.upper();
  whiteout(join(u, 'gone1'));
  write(join(u, 'gone2'), '');
  setXattr(join(u, 'gone2'), 'user.overlay.whiteout', 'y');
  mkdirSync(join(u, 'op'));
  opaque(join(u, 'op'));
  write(join(u, 'x'), 'x');
  setXattr(join(u, 'x'), 'user.note', 'new');
  write(join(u, 'new'), 'n');
  setXattr(join(u, 'new'), 'user.note', 'n');
  const all = scanSandbox(f.meta);
  const few = scanSandbox(f.meta, { fewXattrs: true });
  const kinds = (r: typeof all) => r.changes.map((c) => `${c.path.slice(f.host.length)} ${c.change}`);
  assert.equal(kinds(few), kinds(all));
  assert.equal(kinds(all), ['/gone1 deleted', '/gone2 deleted', '/new added', '/op replaced', '/op/hidden deleted', '/x metadata']);
  assert.ok(all.changes.find((c) => c.path.endsWith('/new'))!.xattrs);
  assert.is(few.changes.find((c) => c.path.endsWith('/new'))!.xattrs, undefined);
});

test('reading new files for a review leaves their atimes as the sandbox left them', () => {
  // An atime no later than the mtime is what relatime moves on the next read (a file written
  // since it was last read): the review would then change the atime a commit keeps.
  const u = f.upper();
  write(join(u, 'a/new.txt'), 'one\ntwo\n');
  write(join(u, 'b.txt'), 'b\n');
  const t = new Date('2020-01-02T03:04:05Z');
  for (const p of ['a/new.txt', 'b.txt']) utimesSync(join(u, p), t, t);
  const before = ['a/new.txt', 'b.txt'].map((p) => lstatSync(join(u, p)).atimeMs);
  for (const opts of [{ readNewUpTo: 1 << 20 }, { countLinesUpTo: 1 << 20 }, { countLinesUpTo: 1 << 20, namesOnly: true }]) {
    const { entries, errors } = walkUppers(f.meta, opts);
    assert.equal(errors, []);
    const file = entries.find((e) => e.upper.endsWith('/new.txt'));
    if ('readNewUpTo' in opts) assert.equal(String(file?.text), 'one\ntwo\n');
    else assert.is(file?.lines ?? 2, 2);
    assert.equal(['a/new.txt', 'b.txt'].map((p) => lstatSync(join(u, p)).atimeMs), before, JSON.stringify(opts));
  }
});

const NO_STRACE = have('strace') ? null : 'strace is not installed';
const NO_URING = ((): string | null => {
  try { return readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim() === '0' ? null : 'io_uring is disabled on this host'; } catch { return 'no io_uring_disabled sysctl (a kernel without io_uring, or older than 6.6)'; }
})();

testUnless(NO_STRACE ?? NO_URING, { missing: true })('a review opens new files in batches, and answers as the plain calls do where io_uring is refused', () => {
  const u = f.upper();
  const files = new Map<string, Buffer>();
  for (let i = 0; i < 200; i++) {
    const kind = i % 8;
    const body = kind === 0 ? Buffer.alloc(0) : kind === 1 ? Buffer.from(`a\0b${i}`) : kind === 2 ? Buffer.from([0xff, 0xfe, i & 0x7f])
      : kind === 3 ? Buffer.alloc(70_000 + i, 'x') : Buffer.from(`line ${i}\nnext\n`);
    const name = `new/f${String(i).padStart(3, '0')}`;
    write(join(u, name), body);
    files.set(name, body);
    if (kind === 5) setXattr(join(u, name), 'user.note', `n${i}`);
    if (kind === 6) linkSync(join(u, name), join(u, `new/h${i}`));
    if (kind === 7 && i % 16 === 7) chmodSync(join(u, name), 0);
  }
  // And in a dir the host has: there only what the host has no regular file for is opened.
  for (let i = 500; i < 560; i++) {
    if (i % 3 === 0) write(join(f.host, `old/f${i}`), 'host\n');
    write(join(u, `old/f${i}`), `layer ${i}\n`);
    if (i % 3 !== 0) files.set(`old/f${i}`, Buffer.from(`layer ${i}\n`));
  }
  symlinkSync('f001', join(u, 'new/s-link'));
  spawnSync('mkfifo', [join(u, 'new/p-fifo')]);
  mkdirSync(join(u, 'new/f100-dir'));
  write(join(u, 'new/f100-dir/inner'), 'inner\n');
  const helper = helperPath();
  const flags = Buffer.alloc(12);
  flags.writeUInt32LE(8, 0); flags.writeUInt32LE(1 << 20, 4); flags.writeUInt32LE(64 << 20, 8);
  const input = Buffer.concat([Buffer.from(`L0/upper\0${f.host.slice(1)}\0`), flags]);
  const scan = (refused: boolean) => {
    const log = join(f.root, `strace-${refused}`);
    const fds = [openSync(f.meta.layersDir, 'r'), openSync('/', 'r')];
    try {
      const inject = refused ? ['-e', 'inject=io_uring_setup:error=ENOSYS'] : [];
      const r = spawnSync('strace', ['-f', '-qq', '-o', log, '-e', 'trace=openat,io_uring_setup', ...inject, helper, 'scan'], { input, stdio: ['pipe', 'pipe', 'pipe', ...fds], maxBuffer: 1 << 28 });
      assert.is(r.status, 0, String(r.stderr));
      const opens = readFileSync(log, 'latin1').split('\n').filter((l) => /openat\(\d+, "f\d{3}"/.test(l)).length;
      return { out: r.stdout, opens };
    } finally { for (const fd of fds) closeSync(fd); }
  };
  const batched = scan(false);
  const plain = scan(true);
  assert.ok(plain.out.equals(batched.out), 'the same answer with io_uring and without');
  assert.ok(plain.opens >= files.size - 30 && plain.opens <= files.size, `without io_uring each new file is opened by openat (${plain.opens} for ${files.size})`);
  assert.ok(batched.opens < files.size / 20, `with io_uring new files are opened in batches (${batched.opens} openat calls for ${files.size} files)`);
  // And the answer is right: each new file's text as read here, or why not.
  const { entries, errors } = walkUppers(f.meta, { readNewUpTo: 1 << 20 });
  assert.equal(errors, []);
  for (const [name, body] of files) {
    const e = entries.find((x) => x.upper.endsWith(`/${name}`));
    assert.ok(e, name);
    const unreadable = (e!.up!.perm & 0o444) === 0 && process.getuid!() !== 0;
    const text = body.length === 0 ? '' : body.length > 65536 || unreadable ? undefined : body.includes(0) || !Buffer.from(body.toString('utf8')).equals(body) ? -1 : body.toString();
    if (text !== undefined) assert.equal(typeof e!.text === 'number' ? e!.text : String(e!.text ?? ''), text, name);
  }
});

testUnless(NO_STRACE, { missing: true })('scan --whole-max: an answer within it is the whole answer; past it the walk stops with status 3 at once, having written no more than the limit', () => {
  const u = f.upper();
  for (let i = 0; i < 3000; i++) write(join(u, `new/d${i % 30}/f${String(i).padStart(4, '0')}`), `${i}\n`);
  const input = Buffer.concat([Buffer.from(`L0/upper\0${f.host.slice(1)}\0`), Buffer.alloc(4)]);
  const scan = (args: string[]) => {
    const log = join(f.root, 'strace-whole');
    const fds = [openSync(f.meta.layersDir, 'r'), openSync('/', 'r')];
    try {
      const r = spawnSync('strace', ['-f', '-qq', '-o', log, '-e', 'trace=newfstatat', helperPath(), 'scan', ...args], { input, stdio: ['pipe', 'pipe', 'pipe', ...fds], maxBuffer: 1 << 28 });
      return { status: r.status, out: r.stdout, err: String(r.stderr), stats: readFileSync(log, 'latin1').split('\n').filter((l) => l.includes('newfstatat(')).length };
    } finally { for (const fd of fds) closeSync(fd); }
  };
  const full = scan([]);
  assert.is(full.status, 0, full.err);
  assert.ok(full.out.length > 64 << 10, `${full.out.length} bytes`);
  const within = scan([`--whole-max=${full.out.length}`]);
  assert.is(within.status, 0, within.err);
  assert.ok(within.out.equals(full.out), 'the same answer');
  const past = scan([`--whole-max=${full.out.length - 1}`]);
  assert.is(past.status, 3, past.err);
  assert.is(past.err, '', 'nothing said: the caller asks again');
  assert.ok(past.out.length <= full.out.length - 1);
  const early = scan(['--whole-max=16384']);
  assert.is(early.status, 3, early.err);
  assert.ok(early.out.length <= 16384);
  assert.ok(early.stats < full.stats / 4, `the walk stopped early: ${early.stats} of ${full.stats} stats`);
  for (const bad of ['--whole-max=0', '--whole-max=', '--whole-max=12x', '--max=5']) assert.is(scan([bad]).status, 2, bad);
});

test('scan-many answers each sandbox byte for byte as its own scan does; scanSandboxes lists what scanSandbox does, an error only for the sandbox that met one', async () => {
  const g = makeFixture(), empty = makeFixture(), broken = makeFixture();
  try {
    write(join(f.host, 'gone'), 'x');
    write(join(f.host, 'mod'), 'host');
    write(join(f.upper(), 'mod'), 'changed');
    write(join(f.upper(), 'a/new.txt'), 'new');
    whiteout(join(f.upper(), 'gone'));
    mkdirSync(join(g.host, 'sub'));
    write(join(g.upper(), 'b'), 'bee');
    write(join(g.addLayer(join(g.host, 'sub')), 'deep/x'), 'x');
    // Its layers dir gone: planning its walk fails, and only its scan says so.
    rmSync(broken.meta.layersDir, { recursive: true, force: true });
    const opts = { fewXattrs: true };
    // Once first: a scan that reads a dir may move its atime, which the answer holds.
    for (const m of [f.meta, g.meta]) scanAnswer(m, opts);
    closeAll();
    const alone = [f.meta, g.meta].map((m) => scanAnswer(m, opts)!.toString('hex'));
    closeAll();
    const reqs = [f.meta, g.meta].map((m) => walkRequest(m, opts) as PlannedWalk);
    closeAll();
    const many = runScanMany(reqs.map((r) => r.req));
    assert.equal(many.map((a) => (a instanceof Error ? a.message : a!.toString('hex'))), alone);
    // --whole-max: an answer past it is null (that scan stopped there), the others whole.
    const sizes = alone.map((h) => h.length / 2);
    const capped = runScanMany([f.meta, g.meta].map((m) => (walkRequest(m, opts) as PlannedWalk).req), Math.max(...sizes) - 1);
    closeAll();
    assert.equal(capped.map((a) => (a instanceof Error ? a.message : a === null ? null : a.toString('hex'))), alone.map((h, i) => (sizes[i] === Math.max(...sizes) ? null : h)));
    const listed = (r: { changes: Array<{ path: string; change: string }> }) => r.changes.map((c) => `${c.change} ${c.path.slice(c.path.indexOf('/host/') + 5)}`);
    const got = await scanSandboxes([f.meta, empty.meta, broken.meta, g.meta], opts);
    assert.instance(got[2], Error);
    const ok = [got[0], got[1], got[3]].map((r) => { if (r instanceof Error) throw r; return listed(r!); });
    assert.equal(ok, [f.meta, empty.meta, g.meta].map((m) => listed(scanSandbox(m, opts))));
    assert.equal(ok[0], ['modified /mod', 'added /a', 'added /a/new.txt', 'deleted /gone'].sort((a, b) => (a.slice(a.indexOf(' ')) < b.slice(b.indexOf(' ')) ? -1 : 1)));
    assert.equal(ok[1], []);
    assert.throws(() => walkRequest(broken.meta, opts), undefined, 'a sandbox whose layers are gone was planned');
    closeAll();
    // The bigger one past the bound, scanned again alone; the other from the helper's batch: the same lists.
    for (const bound of [Math.max(...sizes) - 1, Math.min(...sizes) - 1, Math.max(...sizes)]) {
      const split = await scanSandboxes([f.meta, broken.meta, g.meta], opts, bound);
      assert.instance(split[1], Error);
      assert.equal([split[0], split[2]].map((r) => { if (r instanceof Error) throw r; return listed(r!); }), [ok[0], ok[2]], `bound ${bound}`);
    }
  } finally {
    for (const x of [g, empty, broken]) x.cleanup();
  }
});

test.run();
