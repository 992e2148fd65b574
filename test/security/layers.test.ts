// What a sandboxed command leaves in its layers, read back by the host side: a directory
// chain deeper than PATH_MAX (walked, listed, committed and removed fd-relative, iteratively),
// a hard link to a file the host already had (committed as a copy unless asked), and a sparse
// file (committed with its holes).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeCanary, makeStore, proveIsolation, removeCanary, sbx } from '../helpers/sbx.js';

const store = makeStore();
let canary = '';
test.before.each(() => { canary = makeCanary(); proveIsolation(canary, store); });
test.after.each(() => {
  sbx(['discard', 'deep'], { store });
  sbx(['discard', 'ln'], { store });
  sbx(['discard', 'sparse'], { store });
  removeDeep(canary);
  removeCanary(canary);
});
test.after(() => { spawnSync('rm', ['-rf', '--', store]); });

/** The test's own deep tree: rm(1) walks fd-relative (Node's rmSync recurses and overflows). */
function removeDeep(dir: string): void {
  if (existsSync(join(dir, 'd'))) spawnSync('rm', ['-rf', '--', join(dir, 'd')]);
}

test('a hard link to a file the host already had is shown as such and committed as a copy', () => {
  const host = join(canary, 'keep.txt');
  const r = sbx(['run', '--name', 'ln', '-q', '--', 'sh', '-c', `mkdir ${canary}/proj && ln ${host} ${canary}/proj/notes.txt`], { store });
  assert.is(r.code, 0, r.stderr);
  const d = sbx(['diff', 'ln'], { store });
  assert.match(d.stdout, new RegExp(`added:\\s+${canary}/proj/notes.txt \\(hard link to ${canary}/keep.txt\\)`), d.stdout);
  const c = sbx(['commit', 'ln'], { store });
  assert.is(c.code, 0, c.stderr);
  assert.match(c.stderr, /committed as copies \(--link-host-files/);
  const notes = join(canary, 'proj', 'notes.txt');
  assert.is(readFileSync(notes, 'utf8'), 'precious\n');
  assert.is.not(statSync(notes).ino, statSync(host).ino, 'the new name shares the host file\'s inode');
  writeFileSync(host, 'changed later\n');
  assert.is(readFileSync(notes, 'utf8'), 'precious\n', 'a later write to the host file shows through the new name');
});

test('--link-host-files keeps such a link a link', () => {
  const host = join(canary, 'keep.txt');
  const r = sbx(['run', '--name', 'ln', '-q', '--', 'sh', '-c', `ln ${host} ${canary}/alias.txt`], { store });
  assert.is(r.code, 0, r.stderr);
  const c = sbx(['commit', '--link-host-files', 'ln'], { store });
  assert.is(c.code, 0, c.stderr);
  assert.is(statSync(join(canary, 'alias.txt')).ino, statSync(host).ino);
});

test('a sparse file is committed with its holes', () => {
  const r = sbx(['run', '--name', 'sparse', '-q', '--', 'sh', '-c',
    `truncate -s 1G ${canary}/big && printf middle | dd of=${canary}/big bs=1 seek=536870912 conv=notrunc status=none`], { store });
  assert.is(r.code, 0, r.stderr);
  const c = sbx(['commit', 'sparse'], { store, timeoutMs: 120_000 });
  assert.is(c.code, 0, c.stderr);
  const st = statSync(join(canary, 'big'));
  assert.is(st.size, 1 << 30);
  assert.ok(st.blocks * 512 < 1 << 20, `the holes were filled: ${st.blocks * 512} bytes allocated`);
  const fd = openSync(join(canary, 'big'), 'r');
  const buf = Buffer.alloc(6);
  readSync(fd, buf, 0, 6, 536870912);
  closeSync(fd);
  assert.is(buf.toString(), 'middle');
});

test.run();
