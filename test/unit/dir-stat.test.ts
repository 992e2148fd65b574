// dirStat (sandbox-core/base/dir-stat.ts) answers what lstatSync's nlink, size, mtimeMs and
// ctimeMs are, through Node's fs binding where it may: the unreadable-dirs and lock-file hints
// compare stamps that lstatSync wrote, so any other answer would make every remembered walk stale.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirStat, dirStatFromBinding, dirTimesHold } from '../../sandbox-core/base/dir-stat.js';
import { testUnless } from '../helpers/skip.js';

const work = mkdtempSync(join(tmpdir(), 'sbx-dir-times-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

const expected = (p: string) => { const st = lstatSync(p); return { nlink: st.nlink, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs }; };

test('a directory: the same numbers lstatSync gives, to the last bit', () => {
  const d = join(work, 'd');
  mkdirSync(d);
  // A time with a fraction of a millisecond, as most are.
  utimesSync(d, 1_700_000_000.123456, 1_700_000_000.987654);
  for (const p of ['/', '/etc', '/usr', tmpdir(), work, d]) assert.equal(dirStat(p), expected(p), p);
});

test('entries added change its times, a subdirectory its link count; it follows', () => {
  const d = join(work, 'grows');
  mkdirSync(d);
  utimesSync(d, 1_600_000_000, 1_600_000_000);
  const before = dirStat(d);
  writeFileSync(join(d, 'new'), '');
  mkdirSync(join(d, 'sub'));
  const after = dirStat(d);
  assert.is.not(after!.mtimeMs, before!.mtimeMs);
  assert.is(after!.nlink, before!.nlink + 1);
  assert.equal(after, expected(d));
});

test('not a directory, a symlink to one (not followed), or nothing there: null', () => {
  writeFileSync(join(work, 'file'), 'x');
  symlinkSync(work, join(work, 'link'));
  assert.is(dirStat(join(work, 'file')), null);
  assert.is(dirStat(join(work, 'link')), null);
  assert.is(dirStat(join(work, 'missing')), null);
  assert.is(dirStat(join(work, 'file', 'below')), null);
});

test('dirTimesHold: true while every directory keeps its times, false at a moved one, a file, a symlink or nothing', () => {
  const a = join(work, 'held-a'), b = join(work, 'held-b');
  mkdirSync(a);
  mkdirSync(b);
  utimesSync(a, 1_700_000_000.123456, 1_700_000_000.987654);
  const times = (p: string): [string, number, number] => { const st = lstatSync(p); return [p, st.mtimeMs, st.ctimeMs]; };
  const held = [times('/'), times(a), times(b)];
  assert.ok(dirTimesHold(held));
  assert.ok(dirTimesHold([]));
  assert.not.ok(dirTimesHold([held[0], [a, held[1]![1] + 0.001, held[1]![2]], held[2]]), 'mtime off by a microsecond');
  assert.not.ok(dirTimesHold([held[0], [a, held[1]![1], held[1]![2] - 1]]), 'ctime');
  writeFileSync(join(b, 'new'), '');
  assert.not.ok(dirTimesHold(held), 'an entry added to the last one');
  writeFileSync(join(work, 'held-file'), '');
  symlinkSync(a, join(work, 'held-link'));
  for (const p of ['held-file', 'held-link', 'held-missing']) {
    const st = lstatSync(join(work, p), { throwIfNoEntry: false });
    assert.not.ok(dirTimesHold([[join(work, p), st?.mtimeMs ?? 0, st?.ctimeMs ?? 0]]), p);
  }
});

test('dirTimesHold and dirStat: what a hint file may hold instead of a path is no match, never a crash', () => {
  const [, m, c] = ((st) => ['/', st.mtimeMs, st.ctimeMs])(lstatSync('/'));
  // A number reached Node's binding before and aborted the process (exit 134) on every run.
  for (const bad of [[42, m, c], [null, m, c], [['/'], m, c], ['etc', m, c], ['/\0/etc', m, c], ['/', String(m), c], ['/', m], '/', null, {}]) {
    assert.not.ok(dirTimesHold([bad]), JSON.stringify(bad));
    assert.not.ok(dirTimesHold([['/', m, c], bad]), `after a good one: ${JSON.stringify(bad)}`);
  }
  assert.is(dirStat(42 as unknown as string), null);
});

const bindingWhy = typeof (process as { binding?: unknown }).binding !== 'function' ? `no process.binding in Node ${process.version}` : null;
testUnless(bindingWhy)('on this Node the answers come from its fs binding, not from an fs.Stats per call', () => {
  assert.ok(dirStatFromBinding());
});

test.run();
