// An ordinary user's review of a sandbox where a command gave a dir to another inside user and
// closed it (a daemon's 0700 spool dir, apt's `_apt` partial dir): the user cannot read what
// it holds, and the review says how to see it. Root reads it: the command the hint names,
// run as root with the environment sudo gives it, lists and diffs those entries (root's case,
// for the user's default store and for a store named by SBX_HOME). A throwaway run (-n) leaves
// no sandbox, and says so; a closed dir that holds nothing gets no hint.
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { IS_ROOT, SBX, USER_SBX, canary, proveIsolation, sbx as run, storeAndCanary, testUserCanRunSbx, type SbxResult } from '../helpers/sbx.js';
import { ROOT_CASE, USER_CASE, testUnless } from '../helpers/skip.js';

const store = storeAndCanary();
const sbx = (args: string[]): SbxResult => run(args, { store, timeoutMs: 300_000 });
const WHY = (dir: string, n: number): string => `sbx: warning: ${dir}: cannot read the sandbox's copy (EACCES): ${n} entr${n === 1 ? 'y' : 'ies'} only root can read`;
/** The command's script: `dir` made, `n` files written in it, then given to uid 42 and closed. */
const spool = (dir: string, n = 2): string => `mkdir ${dir} && ${Array.from({ length: n }, (_, i) => `echo job${i} > ${dir}/job${i}`).concat('true').join(' && ')} && chown -R 42:42 ${dir} && chmod 700 ${dir}`;
const lines = (out: string): string[] => out.split('\n').filter((l) => l.startsWith('sbx: ') && /only root can read/.test(l));

// Inside, more ids than the user's own exist only with a subordinate range (newuidmap).
const manyIds = IS_ROOT || sbx(['run', '-n', '-q', '--', 'cat', '/proc/self/uid_map']).stdout.trim().split('\n').length > 1;
const NO_IDS = 'no subordinate uid range for this user: a sandbox cannot give files to another user';

testUnless(USER_CASE ?? (manyIds ? null : NO_IDS), { missing: !IS_ROOT })('an ordinary user: entries only root can read come with how to see them, in the run\'s review and every sbx diff', () => {
  proveIsolation(canary, store);
  const d = `${canary}/spool`;
  const r = sbx(['run', '--name', 'spool', '--', 'sh', '-c', spool(d)]);
  assert.is(r.code, 0, r.stderr);
  // A private store (SBX_HOME): root is told where it is.
  const diffAsRoot = `sudo SBX_HOME=${store} sbx diff spool`;
  assert.equal(lines(r.stderr), [WHY(d, 2), `sbx: to see what only root can read: ${diffAsRoot} (once the sandbox is saved)`], r.stderr);
  for (const view of [[], ['--name-only'], ['--stat'], ['--json']]) {
    const v = sbx(['diff', 'spool', ...view]);
    assert.is(v.code, 1, `the list may be incomplete: ${v.stderr}`);
    assert.equal(lines(v.stderr), [WHY(d, 2), `sbx: to see what only root can read: ${diffAsRoot}`], `${view}: ${v.stderr}`);
  }
  assert.is(sbx(['discard', 'spool']).code, 0);
});

testUnless(USER_CASE ?? (manyIds ? null : NO_IDS), { missing: !IS_ROOT })('an ordinary user: a throwaway run says to run again without -n; a closed dir that holds nothing gets no hint', () => {
  proveIsolation(canary, store);
  const r = sbx(['run', '-n', '--', 'sh', '-c', spool(`${canary}/spool`, 1)]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(lines(r.stderr), [WHY(`${canary}/spool`, 1),
    `sbx: to see what only root can read: run it again without -n (a throwaway run leaves no sandbox to read), then sudo SBX_HOME=${store} sbx diff ID with the id it is saved under`], r.stderr);
  const e = sbx(['run', '-n', '--', 'sh', '-c', spool(`${canary}/empty`, 0)]);
  assert.is(e.code, 0, e.stderr);
  assert.not.match(e.stderr, /only root can read|cannot read/, e.stderr);
});

const userRuns = testUserCanRunSbx();
testUnless(ROOT_CASE ?? (userRuns ? null : 'the test user sbxtest cannot run this build'), { missing: IS_ROOT })('root: the command the hint names shows what the user could not read, for a store named by SBX_HOME and for the user\'s default store', () => {
  const home = mkdtempSync('/home/sbxtest/sbx-unread-');
  const userStore = mkdtempSync('/home/sbxtest/sbx-unread-store-');
  spawnSync('chown', ['sbxtest:sbxtest', home, userStore]);
  // The user's default store (~/.local/state/sbx) is the only place `sudo sbx diff NAME` looks.
  const name = `unread-${process.pid}`;
  const asUser = (env: string[], ...args: string[]): SpawnSyncReturns<string> => spawnSync('setpriv', ['--reuid', 'sbxtest', '--regid', 'sbxtest', '--init-groups', '--reset-env', 'env', ...env, 'HOME=/home/sbxtest', 'PATH=/usr/bin:/bin', 'NO_COLOR=1',
    process.execPath, USER_SBX, ...args], { encoding: 'utf8', cwd: '/', input: '', timeout: 300_000 });
  // What sudo gives root: its own HOME and PATH, who ran it, no SBX_HOME unless typed.
  const asSudo = (env: Record<string, string>, ...args: string[]): SpawnSyncReturns<string> => spawnSync(process.execPath, [SBX, ...args],
    { encoding: 'utf8', cwd: '/', input: '', timeout: 300_000, env: { HOME: '/root', PATH: '/usr/sbin:/usr/bin:/sbin:/bin', NO_COLOR: '1', SUDO_USER: 'sbxtest', SUDO_UID: '1001', SUDO_GID: '1001', ...env } });
  const cases: Array<[string[], Record<string, string>, string]> = [[[`SBX_HOME=${userStore}`], { SBX_HOME: userStore }, `sudo SBX_HOME=${userStore} sbx diff ${name}`], [[], {}, `sudo sbx diff ${name}`]];
  try {
    for (const [userEnv, sudoEnv, hint] of cases) {
      const d = `${home}/spool${userEnv.length}`;
      const r = asUser(userEnv, 'run', '-q', '--name', name, '--', 'sh', '-c', spool(d));
      assert.is(r.status, 0, r.stderr);
      const v = asUser(userEnv, 'diff', name, '--name-only');
      assert.equal(lines(v.stderr), [WHY(d, 2), `sbx: to see what only root can read: ${hint}`], v.stderr);
      assert.not.match(v.stdout, 'job0');
      // The hint's command, as sudo runs it: the entries, and their diffs.
      const s = asSudo(sudoEnv, 'diff', name);
      assert.is(s.status, 0, s.stderr);
      assert.equal(lines(s.stderr), [], s.stderr);
      for (const j of ['job0', 'job1']) {
        assert.match(s.stdout, new RegExp(`^  added: +${d}/${j}$`, 'm'), s.stdout);
        assert.match(s.stdout, new RegExp(`^\\+${j}$`, 'm'), s.stdout);
      }
      assert.is(asUser(userEnv, 'discard', name).status, 0);
    }
  } finally {
    for (const [userEnv] of cases) asUser(userEnv, 'discard', name);
    rmSync(home, { recursive: true, force: true });
    rmSync(userStore, { recursive: true, force: true });
  }
});

test.run();
