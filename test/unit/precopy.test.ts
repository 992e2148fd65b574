// The package managers' empty unreadable files (precopy.ts): found by listing their dirs once,
// then, while a dir's stamp holds, by looking again at the names found then.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { changedAccountCopies, findEmptyUnreadable, precopyEmptyUnreadable } from '../../sandbox-core/precopy.js';
import { Dir } from '../../sandbox-core/beneath.js';
import { scanSandbox } from '../../sandbox-core/changes/scan.js';
import { commitSandbox } from '../../sandbox-core/commit/index.js';
import { makeFixture } from './changes-fixture.js';

// Root reads every file: which files count as unreadable is given, by name.
const lockLike = (p: string): boolean => !/\/(lock|Lock|lock-frontend)$/.test(p);
/** A few ticks of the coarse clock file times come from: a stamp is kept only once they passed (unreadable.ts keptStamp). */
const settle = (): void => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30); };
const names = (m: Map<string, Array<{ name: string }>>, dir: string): string[] => (m.get(dir) ?? []).map((f) => f.name).sort();

test('empty files the user cannot read: listed once, then the names found are looked at again while the dir stamp holds', () => {
  const top = mkdtempSync(join(tmpdir(), 'sbx-precopy-'));
  try {
    const dir = join(top, 'archives');
    mkdirSync(dir);
    for (let i = 0; i < 50; i++) writeFileSync(join(dir, `pkg${i}.deb`), 'x');
    writeFileSync(join(dir, 'lock'), '');
    writeFileSync(join(dir, 'empty-but-readable'), '');
    writeFileSync(join(dir, 'Lock'), 'not empty');
    const cache = join(top, 'cache.json');
    settle();
    assert.equal(names(findEmptyUnreadable([dir, join(top, 'missing')], cache, lockLike), dir), ['lock']);
    const c = JSON.parse(readFileSync(cache, 'utf8')) as { dirs: Array<[string, number, number, string[]]> };
    assert.equal(c.dirs.map((d) => [d[0], d[3]]), [[dir, ['lock']]], 'only the names found are kept; a missing dir not at all');

    // Emptied in place (no entry added or removed, a file's own change): the dir's stamp holds,
    // so only 'lock' is looked at again. This is the documented trade.
    truncateSync(join(dir, 'Lock'));
    assert.equal(names(findEmptyUnreadable([dir], cache, lockLike), dir), ['lock']);
    // A name the cache lists is checked before it is believed: no longer empty, it is dropped.
    writeFileSync(join(dir, 'lock'), 'busy');
    assert.equal(names(findEmptyUnreadable([dir], cache, lockLike), dir), []);
    truncateSync(join(dir, 'lock'));
    // A new entry moves the dir's mtime: listed again, and 'Lock' is found.
    writeFileSync(join(dir, 'lock-frontend'), '');
    settle();
    assert.equal(names(findEmptyUnreadable([dir], cache, lockLike), dir), ['Lock', 'lock', 'lock-frontend']);
    // A chmod of the dir moves its ctime: listed again too.
    truncateSync(join(dir, 'pkg0.deb'));
    chmodSync(dir, 0o750);
    settle();
    assert.equal(names(findEmptyUnreadable([dir], cache, () => false), dir), ['Lock', 'empty-but-readable', 'lock', 'lock-frontend', 'pkg0.deb']);
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});

test('the cache is a hint: names that are no plain names, another user or groups, or a broken file mean a fresh listing', () => {
  const top = mkdtempSync(join(tmpdir(), 'sbx-precopy-'));
  try {
    const dir = join(top, 'lists');
    mkdirSync(dir);
    writeFileSync(join(dir, 'lock'), '');
    mkdirSync(join(top, 'outside'));
    writeFileSync(join(top, 'outside', 'lock'), '');
    const cache = join(top, 'cache.json');
    settle();
    findEmptyUnreadable([dir], cache, lockLike);
    const c = JSON.parse(readFileSync(cache, 'utf8')) as { key: string; dirs: Array<[string, number, number, string[]]> };
    c.dirs[0]![3] = ['../outside/lock', '/etc/passwd', '.', '', 'lock'];
    writeFileSync(cache, JSON.stringify(c));
    assert.equal(names(findEmptyUnreadable([dir], cache, lockLike), dir), ['lock'], 'only plain names of the dir itself');
    writeFileSync(cache, JSON.stringify({ ...c, key: '[12345,[]]', dirs: [[dir, c.dirs[0]![1], c.dirs[0]![2], []]] }));
    assert.equal(names(findEmptyUnreadable([dir], cache, lockLike), dir), ['lock'], "another user's answer is not used");
    writeFileSync(cache, '{not json');
    assert.equal(names(findEmptyUnreadable([dir], cache, lockLike), dir), ['lock']);
    assert.equal(names(findEmptyUnreadable([dir], null, lockLike), dir), ['lock'], 'no cache dir: the same answer');
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});

test('a dir changed a moment ago is listed again next time: a change in the same clock tick would not move its stamp', () => {
  const top = mkdtempSync(join(tmpdir(), 'sbx-precopy-'));
  try {
    const dir = join(top, 'dpkg');
    mkdirSync(dir);
    writeFileSync(join(dir, 'lock'), '');
    // "A moment ago" without a race against the scheduler: a time ahead of the clock is as recent.
    const ahead = Date.now() / 1000 + 10;
    utimesSync(dir, ahead, ahead);
    const cache = join(top, 'cache.json');
    assert.equal(names(findEmptyUnreadable([dir], cache, lockLike), dir), ['lock']);
    const c = JSON.parse(readFileSync(cache, 'utf8')) as { dirs: Array<[string, number, number, string[]]> };
    assert.equal(c.dirs[0]!.slice(1, 3), [-1, -1]);
    // Made in what may be the same tick: found, because nothing was taken on trust.
    writeFileSync(join(dir, 'lock-frontend'), '');
    assert.equal(names(findEmptyUnreadable([dir], cache, lockLike), dir), ['lock', 'lock-frontend']);
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});


test("a lock file copied in before the run is no change while the copy is untouched, whatever the host did to its own", () => {
  const f = makeFixture();
  try {
    f.meta.layers[0]!.format = 'fuse';
    const dir = join(f.host, 'dpkg');
    mkdirSync(dir);
    writeFileSync(join(dir, 'lock'), '');
    writeFileSync(join(dir, 'lock-frontend'), '');
    writeFileSync(join(dir, 'status'), 'Package: x\n');
    utimesSync(join(dir, 'lock'), 1000, 1000);
    const layers = Dir.open(f.meta.layersDir);
    let made;
    try { made = precopyEmptyUnreadable(f.meta.layers, layers, [dir], () => null, lockLike); } finally { layers.close(); }
    assert.equal(made.map(([p]) => p).sort(), [join(dir, 'lock'), join(dir, 'lock-frontend')]);
    f.meta.precopied = made;
    f.meta.createdMs = Date.now();
    f.save();
    const listed = (): string[] => scanSandbox(f.store.resolve(f.meta.id)).changes.map((c) => c.path.slice(dir.length + 1)).sort();
    assert.equal(listed(), [], 'copies with the host times: nothing');
    // The host's package manager takes its locks (dpkg opens them O_TRUNC): their times move.
    truncateSync(join(dir, 'lock'), 0);
    truncateSync(join(dir, 'lock-frontend'), 0);
    assert.equal(listed(), [], 'the host moved its own times, the copies are untouched');
    // Without the record, the same layer lists both (what a review showed before).
    const saved = f.meta.precopied;
    delete f.meta.precopied;
    f.save();
    assert.equal(listed(), ['lock', 'lock-frontend']);
    f.meta.precopied = saved;
    f.save();
    // The command truncates one and replaces the other with a new empty file: both listed.
    const u = join(f.upper(), 'dpkg');
    settle();
    truncateSync(join(u, 'lock'), 0);
    rmSync(join(u, 'lock-frontend'));
    writeFileSync(join(u, 'lock-frontend'), '', { mode: 0o640 });
    assert.equal(listed(), ['lock', 'lock-frontend']);
    // A commit then writes what the command did: the host's untouched state elsewhere stays.
    const host = statSync(join(dir, 'status')).mtimeMs;
    const r = commitSandbox(f.store, f.store.resolve(f.meta.id), { only: [], exclude: [], force: true, dryRun: false });
    assert.ok(r.complete);
    assert.equal(statSync(join(dir, 'status')).mtimeMs, host);
  } finally {
    f.cleanup();
  }
});

test('an account file the user cannot read is copied empty with the host mode, whatever it holds; changedAccountCopies names it once written', () => {
  const f = makeFixture();
  try {
    f.meta.layers[0]!.format = 'fuse';
    const etc = join(f.host, 'etc');
    mkdirSync(etc);
    writeFileSync(join(etc, 'shadow'), 'root:$y$secret:19000:0:99999:7:::\n', { mode: 0o640 });
    writeFileSync(join(etc, 'gshadow'), 'root:*::\n', { mode: 0o640 });
    writeFileSync(join(etc, 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
    utimesSync(join(etc, 'shadow'), 1000, 1000);
    const files = ['shadow', 'gshadow', 'passwd', 'missing'].map((n) => join(etc, n));
    const unreadable = (p: string): boolean => !/shadow$/.test(p);
    const layers = Dir.open(f.meta.layersDir);
    try {
      const made = precopyEmptyUnreadable(f.meta.layers, layers, [], () => null, unreadable, files);
      assert.equal(made.map(([p]) => p).sort(), [join(etc, 'gshadow'), join(etc, 'shadow')], 'only the unreadable ones that exist');
      const copy = statSync(join(f.upper(), 'etc', 'shadow'));
      assert.is(copy.size, 0, 'no byte of the host file');
      assert.is(copy.mode & 0o7777, 0o640);
      assert.is(copy.mtimeMs, 1000_000);
      assert.equal(changedAccountCopies(f.meta.layers, layers, made, files), []);
      settle();
      writeFileSync(join(f.upper(), 'etc', 'gshadow'), 'sbx-new:!::\n');
      assert.equal(changedAccountCopies(f.meta.layers, layers, made, files), [join(etc, 'gshadow')]);
      rmSync(join(f.upper(), 'etc', 'shadow'));
      assert.equal(changedAccountCopies(f.meta.layers, layers, made, files).sort(), [join(etc, 'gshadow'), join(etc, 'shadow')]);
    } finally {
      layers.close();
    }
  } finally {
    f.cleanup();
  }
});

test('meta.json: a precopied list that is not [absolute path, inode, ctime] entries is refused', () => {
  const f = makeFixture();
  try {
    for (const bad of [{}, [['rel/lock', 1, 2]], [['/lock', -1, 2]], [['/lock', 1, 'x']], [['/lock', 1]]]) {
      writeFileSync(join(f.store.dirOf(f.meta.id), 'meta.json'), JSON.stringify({ ...f.meta, precopied: bad }));
      assert.throws(() => f.store.resolve(f.meta.id), /invalid precopied list/);
    }
    writeFileSync(join(f.store.dirOf(f.meta.id), 'meta.json'), JSON.stringify({ ...f.meta, precopied: [['/lock', 1, 2.5]] }));
    assert.equal(f.store.resolve(f.meta.id).precopied, [['/lock', 1, 2.5]]);
  } finally {
    f.cleanup();
  }
});

test('a copy and the dirs made for it take the host times exactly, before 1970 too, the dirs once their entries are in; its ctime is the one after', () => {
  const f = makeFixture();
  try {
    f.meta.layers[0]!.format = 'fuse';
    const dir = join(f.host, 'dpkg', 'triggers');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Lock'), '', { mode: 0o640 });
    // Node's utimes keeps microseconds and takes a time before 1970 for now: touch sets these.
    const at = (p: string, t: string, ...only: string[]): void => { execFileSync('touch', ['-h', ...only, '-d', t, p]); };
    at(join(dir, 'Lock'), '1960-01-01 00:00:00.123456789 UTC');
    at(join(dir, 'Lock'), '2001-02-03 04:05:06.987654321 UTC', '-a');
    at(dir, '1961-06-01 00:00:00.000000001 UTC');
    at(join(f.host, 'dpkg'), '@-1.5');
    const layers = Dir.open(f.meta.layersDir);
    let made;
    try { made = precopyEmptyUnreadable(f.meta.layers, layers, [dir], () => null, lockLike); } finally { layers.close(); }
    const ns = (p: string): [bigint, bigint] => { const st = lstatSync(p, { bigint: true }); return [st.atimeNs, st.mtimeNs]; };
    const u = join(f.upper(), 'dpkg');
    assert.equal(ns(join(u, 'triggers', 'Lock')), ns(join(dir, 'Lock')), 'the copy');
    assert.equal(ns(join(u, 'triggers', 'Lock')), [981173106987654321n, -315619199876543211n]);
    assert.equal(ns(join(u, 'triggers')), ns(dir), 'its dir, made for it: not the moment the copy went in');
    assert.equal(ns(u), [-1500000000n, -1500000000n], 'a dir of @-1.5');
    assert.equal(made.map(([p, ino, ctime]) => [p, ino, ctime]), [[join(dir, 'Lock'), lstatSync(join(u, 'triggers', 'Lock')).ino, lstatSync(join(u, 'triggers', 'Lock')).ctimeMs]], 'the ctime after the times were set');
    f.meta.precopied = made;
    f.save();
    assert.equal(scanSandbox(f.store.resolve(f.meta.id)).changes.map((c) => c.path), [], 'an untouched copy: no change');
  } finally {
    f.cleanup();
  }
});

test.run();
