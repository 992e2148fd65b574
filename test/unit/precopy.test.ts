// The package managers' empty unreadable files (precopy.ts): found by listing their dirs once,
// then, while a dir's stamp holds, by looking again at the names found then.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findEmptyUnreadable } from '../../sandbox-core/precopy.js';

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

test.run();
