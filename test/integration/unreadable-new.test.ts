// A new file the command made unreadable (mode 000) sits in the upper layer owned by the user,
// who cannot open it without root: `diff --stat` and `diff` showed "internal error: EACCES" and
// exit 125 instead of the review. Now the file is listed with an "unreadable" marker. As root
// every file is readable: the unprivileged run covers this.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, rmSync } from 'node:fs';
import { provenStore, sbx } from '../helpers/sbx.js';
import { testUnless, USER_CASE } from '../helpers/skip.js';

const store = provenStore();

const tag = `sbx-unread-${process.pid}`;
const home = process.env.HOME ?? '/nonexistent';
// In $HOME (a kernel overlay) and in /tmp (fuse-overlayfs for an ordinary user): a mode 000
// file, a readable one and a fifo.
const script = [
  `echo secret > ${home}/${tag}-locked`, `chmod 000 ${home}/${tag}-locked`,
  `mkdir /tmp/${tag}`, `echo secret > /tmp/${tag}/locked`, `chmod 000 /tmp/${tag}/locked`,
  `echo a > /tmp/${tag}/plain`, `mkfifo /tmp/${tag}/fifo`,
].join(' && ');

testUnless(USER_CASE)('diff --stat and diff list a new file the user cannot read as unreadable, with no error', () => {
  const r = sbx(['run', '-q', '--name', 'unread', '--', 'sh', '-c', script], { store });
  assert.is(r.code, 0, r.stderr);
  const stat = sbx(['diff', 'unread', '--stat'], { store });
  assert.is(stat.code, 0, stat.stderr);
  assert.is(stat.stderr, '');
  const rows = stat.stdout.split('\n').map((l) => l.replace(/ +/g, ' ').trim());
  assert.ok(rows.includes(`${home}/${tag}-locked | unreadable, 7 bytes`), stat.stdout);
  assert.ok(rows.includes(`/tmp/${tag}/locked | unreadable, 7 bytes`), stat.stdout);
  assert.ok(rows.includes(`/tmp/${tag}/plain | +1 -0`), stat.stdout);
  assert.ok(rows.includes(`/tmp/${tag}/fifo | added fifo`), stat.stdout);
  const diff = sbx(['diff', 'unread'], { store });
  assert.is(diff.code, 0, diff.stderr);
  assert.is(diff.stderr, '');
  assert.match(diff.stdout, `diff ${home}/${tag}-locked (added)\nUnreadable file: - → 7 B\n`);
  assert.match(diff.stdout, `diff /tmp/${tag}/locked (added)\nUnreadable file: - → 7 B\n`);
  assert.match(diff.stdout, '+a\n');
  assert.is(sbx(['discard', 'unread'], { store }).code, 0);
  assert.not.ok(existsSync(`${home}/${tag}-locked`));
});

testUnless(USER_CASE)('the review after a run shows such a file without an error', () => {
  const r = sbx(['run', '-n', '--', 'sh', '-c', script], { store });
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stderr, /internal error|EACCES|\n\s+at /);
  assert.match(r.stderr, `${tag}-locked`);
});

testUnless(USER_CASE)('commit refuses such a file once, with its reason, and commits the rest', () => {
  const name = `unreadc-${process.pid}`;
  const r = sbx(['run', '-q', '--name', name, '--', 'sh', '-c', `echo secret > ${home}/${tag}-c0 && chmod 000 ${home}/${tag}-c0 && echo ok > ${home}/${tag}-c1`], { store });
  try {
    assert.is(r.code, 0, r.stderr);
    const c = sbx(['commit', name], { store });
    const mentions = c.stderr.split('\n').filter((l) => l.includes(`${tag}-c0`));
    assert.is(mentions.length, 1, c.stderr);
    assert.match(c.stderr, 'Not committed (1)');
    assert.ok(existsSync(`${home}/${tag}-c1`));
    assert.not.ok(existsSync(`${home}/${tag}-c0`));
  } finally {
    sbx(['discard', name], { store });
    rmSync(`${home}/${tag}-c1`, { force: true });
    rmSync(`${home}/${tag}-c0`, { force: true });
  }
});

test.run();
