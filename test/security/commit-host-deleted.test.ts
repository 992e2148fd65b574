// A host file the sandbox changed, deleted on the host after the sandbox started: the next
// scan sees no host file there, so the change reads as `added`, and `sbx commit` brought the
// file back. overlayfs marks every copy-up with its origin (kernel overlayfs: the lower inode's
// handle; fuse-overlayfs: the lower path), which tells it from a file moved inside. Kernel
// overlayfs here in both lanes (root: /opt, the test user: $HOME); as the test user in a tree
// under /opt that root made for it (root's lane, from the runner's user copy), a kernel overlay
// over the read-only fuse-overlayfs daemon, which marks a copy-up as the test user's kernel
// overlayfs does (the daemon's files have no handle to record).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IS_ROOT, makeCanary, makeStore, proveIsolation, removeCanary, removeStore, sbx } from '../helpers/sbx.js';
import { testUnless } from '../helpers/skip.js';

const TEST_USER = 'sbxtest';
const userCopy = process.env.SBX_TEST_USER_COPY;
const hasFuse = spawnSync('sh', ['-c', 'command -v fuse-overlayfs']).status === 0;

// Only changes: every mark counts, whichever overlay.
const CHANGES = 'echo new > a && echo also > d && echo fresh > e';
// And moves inside: b2 carries b's mark, c2 c's (then c written anew).
const MOVES = `${CHANGES} && mv b b2 && mv c c2 && echo again > c`;

function seed(dir: string): void {
  for (const f of ['a', 'b', 'c', 'd']) writeFileSync(join(dir, f), `host ${f}\n`);
}

/**
 * What the commit must have done: a and d (deleted on the host) left out as conflicts, the rest
 * committed. `moved`: the script also moved files inside, committed as such, never conflicts;
 * `exact`: the marks name what was copied (root's overlayfs handle, fuse-overlayfs's path), so
 * the deleted files are found beside moves too. An ordinary user's kernel overlayfs leaves an
 * empty mark, which counts only where nothing could have been moved: there the deleted files
 * come back as before (the documented limit).
 */
function checkCommitted(dir: string, r: { code: number | null; stderr: string }, moved: boolean, exact: boolean): void {
  assert.is(readFileSync(join(dir, 'e'), 'utf8'), 'fresh\n');
  if (moved) {
    assert.is(readFileSync(join(dir, 'b2'), 'utf8'), 'host b\n');
    assert.not.ok(existsSync(join(dir, 'b')));
    assert.is(readFileSync(join(dir, 'c2'), 'utf8'), 'host c\n');
    assert.is(readFileSync(join(dir, 'c'), 'utf8'), 'again\n');
    // By whole path: a bare /b2|c2/ also matched the canary's own name (random hex since the
    // suite's id is in it).
    for (const f of ['b2', 'c2', 'c', 'e']) assert.not.ok(r.stderr.includes(`${join(dir, f)}:`), `a file moved inside is no conflict: ${r.stderr}`);
  }
  if (moved && !exact) { assert.is(r.code, 0, r.stderr); return; }
  assert.is(r.code, 1, `a conflict makes the commit's status 1: ${r.stderr}`);
  for (const f of ['a', 'd']) {
    assert.not.ok(existsSync(join(dir, f)), `${f}, deleted on the host, was brought back: ${r.stderr}`);
    assert.match(r.stderr, `${join(dir, f)}: the host file it was made from was deleted after the sandbox started`);
  }
}

test('a host file the sandbox changed and the host deleted since is a conflict; files moved inside are committed (kernel overlayfs)', () => {
  for (const [script, moved] of [[CHANGES, false], [MOVES, true]] as const) {
    const canary = makeCanary();
    const store = makeStore();
    try {
      proveIsolation(canary, store);
      seed(canary);
      const run = sbx(['run', '-q', '--name', 'gone', '--', 'sh', '-c', script], { store, cwd: canary });
      assert.is(run.code, 0, run.stderr);
      unlinkSync(join(canary, 'a'));
      unlinkSync(join(canary, 'd'));
      checkCommitted(canary, sbx(['commit', 'gone'], { store }), moved, IS_ROOT);
    } finally {
      removeStore(store);
      removeCanary(canary);
    }
  }
});

testUnless(!IS_ROOT ? "root's lane runs it (as the test user)" : !userCopy ? 'no user copy of the build (scripts/run-tests.mjs makes it)' : !hasFuse ? 'no fuse-overlayfs here' : null, { missing: IS_ROOT && !!userCopy })(
  'the same through a kernel overlay over fuse-overlayfs, as an ordinary user in a tree under /opt', () => {
    const uid = Number(spawnSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).stdout);
    for (const [script, moved] of [[CHANGES, false], [MOVES, true]] as const) {
      // Root's dir, writable by all: fuse-overlayfs serves it (a dir of the user's own would be
      // a kernel overlay of its own), and the user may commit into it.
      const canary = makeCanary();
      const store = mkdtempSync(join(tmpdir(), 'sbx-test-store-'));
      chownSync(store, uid, 0);
      const asUser = (args: string[]) => {
        const r = spawnSync('setpriv', ['--reuid', TEST_USER, '--regid', TEST_USER, '--init-groups', process.execPath, join(userCopy!, 'dist', 'bin', 'sbx.js'), ...args], {
          encoding: 'utf8', input: '', cwd: canary, timeout: 120_000, env: { ...process.env, HOME: `/home/${TEST_USER}`, SBX_HOME: store, NO_COLOR: '1' },
        });
        return { code: r.status, stdout: r.stdout, stderr: r.stderr };
      };
      try {
        chmodSync(canary, 0o777);
        seed(canary);
        for (const f of ['a', 'b', 'c', 'd']) chownSync(join(canary, f), uid, uid);
        // Isolation first: a write inside must not reach the host.
        // Root's dir shows root's (0) only through the daemon's squash_to_root; a kernel
        // overlay straight over the host would show it unmapped (65534).
        const probe = asUser(['run', '-n', '-q', '--', 'sh', '-c', `echo leaked > ${canary}/probe; grep -c ' ${canary} ' /proc/self/mountinfo; stat -c %u ${canary}`]);
        assert.is(probe.code, 0, probe.stderr);
        assert.not.ok(existsSync(join(canary, 'probe')), 'a write inside reached the host');
        assert.is(probe.stdout, '0\n0\n', `not read through fuse-overlayfs: this case tests nothing: ${probe.stdout}`);
        const run = asUser(['run', '-q', '--name', 'gone', '--', 'sh', '-c', script]);
        assert.is(run.code, 0, run.stderr);
        unlinkSync(join(canary, 'a'));
        unlinkSync(join(canary, 'd'));
        checkCommitted(canary, asUser(['commit', 'gone']), moved, false);
      } finally {
        asUser(['discard', 'gone']);
        rmSync(store, { recursive: true, force: true });
        removeCanary(canary);
      }
    }
  });

test.run();
