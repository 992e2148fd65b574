// What a sandboxed command leaves in its layers, read back by the host side: a directory
// chain deeper than PATH_MAX (walked, listed, committed and removed fd-relative, iteratively),
// a hard link to a file the host already had (committed as a copy unless asked), and a sparse
// file (committed with its holes).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync, writeFileSync, constants as C } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { SBX, awaitDetachedRemovals, makeCanary, makeStore, proveIsolation, removeCanary, sbx } from '../helpers/sbx.js';

const store = makeStore();
let canary = '';
test.before.each(() => { canary = makeCanary(); proveIsolation(canary, store); });
test.after.each(() => {
  // What a failed test left saved (deep, ln or sparse), in one discard; a passing one leaves
  // none, and three discards by name cost three starts of sbx after every test.
  const left = existsSync(store) ? readdirSync(store).filter((n) => /^[0-9a-f]{8}$/.test(n)) : [];
  if (left.length) sbx(['discard', ...left], { store });
  removeDeep(canary);
  removeCanary(canary);
});
test.after(() => { spawnSync('rm', ['-rf', '--', store]); });

const LEVELS = 2100;
// perl is in every Debian base system and chdir()s relatively, so the chain is not limited by
// the shell's idea of $PWD (dash stops near PATH_MAX).
const makeChain = (dir: string) => `cd ${dir} && perl -e 'for (1..${LEVELS}) { mkdir "d" or die "mkdir: $!"; chdir "d" or die "chdir: $!" } open(F, ">", "bottom") or die; print F "deep\\n"'`;

/** Depth of the d/d/d/… chain under dir, counted fd-relative (no path gets long). */
function chainDepth(dir: string): number {
  let fd = openSync(dir, C.O_RDONLY | C.O_DIRECTORY);
  let n = 0;
  try {
    for (;;) {
      let next: number;
      try { next = openSync(`/proc/self/fd/${fd}/d`, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW); } catch { return n; }
      closeSync(fd);
      fd = next;
      n++;
    }
  } finally { closeSync(fd); }
}

/** The test's own deep tree: rm(1) walks fd-relative (Node's rmSync recurses and overflows). */
function removeDeep(dir: string): void {
  if (existsSync(join(dir, 'd'))) spawnSync('rm', ['-rf', '--', join(dir, 'd')]);
}

/**
 * Throwaway layers of this test's sandboxes that hold our chain (must be none after a run),
 * once a detached remover that has them (2,101 changes: the run hands them to one) has ended.
 */
function leftoverLayers(): string[] {
  const scratch = `/dev/shm/sbx-${process.getuid!()}`;
  if (!existsSync(scratch)) return [];
  awaitDetachedRemovals(scratch);
  const rel = canary.slice(1);
  const out: string[] = [];
  for (const id of readdirSync(scratch)) {
    let layers: string[];
    try { layers = readdirSync(join(scratch, id)); } catch { continue; }
    for (const l of layers) if (existsSync(join(scratch, id, l, 'upper', rel, 'd'))) out.push(join(scratch, id));
  }
  return out;
}

test(`a ${LEVELS}-level chain: the throwaway run exits with the command's status and leaves nothing in /dev/shm`, () => {
  const r = sbx(['run', '-n', '--', 'sh', '-c', `${makeChain(canary)} && exit 7`], { store, timeoutMs: 600_000 });
  assert.is(r.code, 7, r.stderr.slice(-2000));
  assert.not.match(r.stderr, /ENAMETOOLONG|Maximum call stack|internal error/);
  assert.match(r.stderr, new RegExp(`${LEVELS + 1} added`));
  assert.equal(leftoverLayers(), []);
  assert.not.ok(existsSync(join(canary, 'd')), 'nothing reached the host');
});

test(`a ${LEVELS}-level chain: ls, diff, commit and discard of a saved sandbox`, () => {
  const r = sbx(['run', '--name', 'deep', '-q', '--', 'sh', '-c', makeChain(canary)], { store, timeoutMs: 600_000 });
  assert.is(r.code, 0, r.stderr.slice(-2000));
  const ls = sbx(['ls'], { store, timeoutMs: 600_000 });
  assert.is(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /deep/);
  // 2,101 names of up to 4 KB each: more than sbx()'s output buffer holds.
  const d = spawnSync(process.execPath, [SBX, 'diff', '--name-only', 'deep'], { env: { ...process.env, SBX_HOME: store, NO_COLOR: '1' }, encoding: 'utf8', maxBuffer: 1 << 28, timeout: 600_000 });
  assert.is(d.status, 0, String(d.stderr).slice(-2000));
  assert.is(d.stdout.trim().split('\n').length, LEVELS + 1);
  const c = sbx(['commit', 'deep'], { store, timeoutMs: 600_000 });
  assert.is(c.code, 0, c.stderr.slice(-2000));
  assert.is(chainDepth(canary), LEVELS);
  // The file at the bottom, read fd-relative.
  let fd = openSync(canary, C.O_RDONLY | C.O_DIRECTORY);
  for (let i = 0; i < LEVELS; i++) { const n = openSync(`/proc/self/fd/${fd}/d`, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW); closeSync(fd); fd = n; }
  assert.is(readFileSync(`/proc/self/fd/${fd}/bottom`, 'utf8'), 'deep\n');
  closeSync(fd);
  assert.not.match(sbx(['ls'], { store }).stdout, /deep/, 'committed sandbox removed');
});

test(`discard of a saved sandbox with a ${LEVELS}-level chain`, () => {
  const r = sbx(['run', '--name', 'deep', '-q', '--', 'sh', '-c', makeChain(canary)], { store, timeoutMs: 600_000 });
  assert.is(r.code, 0, r.stderr.slice(-2000));
  const x = sbx(['discard', 'deep'], { store, timeoutMs: 600_000 });
  assert.is(x.code, 0, x.stderr);
  assert.not.match(sbx(['ls'], { store }).stdout, /deep/);
  assert.not.ok(existsSync(join(canary, 'd')));
});

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
  const c = sbx(['commit', 'sparse'], { store, timeoutMs: 600_000 });
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
