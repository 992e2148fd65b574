// The commit's last line and its lists: what went wrong first, then what it left.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { causesFirst, refusedText } from '../../cli/commit-report.js';

test('a refused entry below a refused dir is listed after the dir\'s own refusal', () => {
  const list = [
    { path: '/d/a', reason: 'inside /d, which is not committed' },
    { path: '/d/b', reason: 'not committed: /d failed' },
    { path: '/d', reason: 'mkdir: EACCES' },
    { path: '/e', reason: 'device nodes are never committed' },
  ];
  assert.equal(causesFirst(list).map((x) => x.path), ['/d', '/e', '/d/a', '/d/b']);
});

test('the last line\'s cause: counts, and the reason itself when there is one short one', () => {
  assert.is(refusedText(0, 0, 0, 0, []), null);
  assert.is(refusedText(0, 0, 1, 0, [{ reason: 'create: ENOENT' }]), '1 change not committed (create: ENOENT)');
  assert.is(refusedText(2, 0, 1, 3, [{ reason: 'x' }, { reason: 'y' }]), '2 conflicts, 1 change not committed, 3 below them (listed above)');
  assert.is(refusedText(0, 1, 0, 1, [{ reason: 'cannot write /opt' }]), '1 change denied, 1 below it (cannot write /opt)');
  assert.is(refusedText(0, 0, 1, 0, [{ reason: 'r'.repeat(61) }]), '1 change not committed (listed above)');
  assert.is(refusedText(0, 0, 1, 0, [{ reason: 'bad \x1b[2J name' }]), '1 change not committed (bad \\x1b[2J name)');
});

test.run();
