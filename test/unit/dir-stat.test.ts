// dirStat (sandbox-core/base/dir-stat.ts) answers what lstatSync's nlink, size, mtimeMs and
// ctimeMs are, through Node's fs binding where it may: the unreadable-dirs and lock-file hints
// compare stamps that lstatSync wrote, so any other answer would make every remembered walk stale.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirStat, dirStatFromBinding } from '../../sandbox-core/base/dir-stat.js';
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

const bindingWhy = typeof (process as { binding?: unknown }).binding !== 'function' ? `no process.binding in Node ${process.version}` : null;
testUnless(bindingWhy)('on this Node the answers come from its fs binding, not from an fs.Stats per call', () => {
  assert.ok(dirStatFromBinding());
});

test.run();
