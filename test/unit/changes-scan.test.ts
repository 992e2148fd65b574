// The native scanner (sbx-helper scan, native/scan.c) behind walkUppers: its stat fields are
// exactly lstat's, it reaches any depth, follows no symlink, keeps names as bytes, and the
// listing mode (fewXattrs) still sees every whiteout and opaque dir.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { linkSync, lstatSync, mkdirSync, openSync, closeSync, ftruncateSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { makeFixture, whiteout, opaque, setXattr, write, type Fixture } from './changes-fixture.js';
import { walkUppers } from '../../sandbox-core/changes/walk.js';
import { scanSandbox } from '../../sandbox-core/changes/scan.js';
import { toEntryStat } from '../../sandbox-core/changes/stat.js';
import type { EntryStat } from '../../sandbox-core/changes/types.js';

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

test.run();
