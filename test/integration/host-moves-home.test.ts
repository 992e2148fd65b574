// Mounts that appear, or go, in the test user's home while its sandboxes are planned, made and
// run again (host-moves.test.ts has root's side): planned again, the home stays writable; a
// saved sandbox's change a new mount would hide refuses `run --in`; a gone mount's layer keeps
// its place.
// sbx-test: host-mounts (it mounts and unmounts on the host).
// sbx-test: serial as root: its mounts are in the test user's home, where the other
// files' unprivileged runs keep their canaries: a saved sandbox's `run --in` planned while it
// is there would be refused (covered-changes.ts), as it should be on a real machine.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeStore, proveIsolation, removeCanary } from '../helpers/sbx.js';
import { hostMounts, makeUserStore, MOUNTS_AS_ROOT, runAsUser, TEST_USER, userCopy, userHomeCanary, userId } from '../helpers/host-moves.js';
import { testUnless } from '../helpers/skip.js';

// A mount that appears inside a tree the plan gave one overlay, before the helper's namespace
// exists: in an ordinary user's namespace it is locked, overlayfs cannot clone that lower
// (EINVAL), and the tree was shown read-only (a mount coming and going in the test user's home
// made 3 of 25 runs read-only there). The helper names the step; sbx plans again.
testUnless(MOUNTS_AS_ROOT)('a mount that appears in the user\'s home between the plan and the helper: planned again, the home stays writable', async () => {
  const home = `/home/${TEST_USER}`;
  const uid = userId();
  const canary = userHomeCanary();
  const m = join(canary, 'm');
  mkdirSync(m);
  chownSync(m, uid, uid);
  const store = makeStore();
  const userStore = makeUserStore();
  const go = join(userStore, 'go');
  let mounted = false;
  try {
    proveIsolation(canary, store);
    const child = spawn('setpriv', ['--reuid', TEST_USER, '--regid', TEST_USER, '--init-groups', process.execPath, join(userCopy!, 'dist', 'bin', 'sbx.js'),
      'run', '-n', '--', 'sh', '-c', `mkdir ${canary}/new && echo made`], {
      cwd: '/', stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HOME: home, SBX_HOME: userStore, NO_COLOR: '1', SBX_TEST_PAUSE_BEFORE_LAUNCH: go },
    });
    let out = '', err = '';
    child.stdout!.on('data', (d) => { out += d; });
    const paused = new Promise<void>((resolve) => child.stderr!.on('data', (d) => { err += d; if (err.includes('sbx-test: paused before launch')) resolve(); }));
    const exited = new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    await Promise.race([paused, exited]);
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'sbx-appeared', m], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    mounted = true;
    writeFileSync(go, '');
    const code = await exited;
    assert.is(code, 0, err);
    assert.is(out, 'made\n', err);
    assert.not.match(err, /could not be overlaid/);
    assert.not.ok(existsSync(join(canary, 'new')), 'the new dir stayed inside');
  } finally {
    if (mounted) spawnSync('umount', [m]);
    removeCanary(canary);
    spawnSync('rm', ['-rf', store, userStore]);
  }
});

// A mount in the test user's home made each dir of the home a mount point inside (the home a
// skeleton): `rm -rf ~/dir` ended in EBUSY (a FUSE mount left in the home failed run.test's
// canary deletion). The home is one overlay through the fuse daemon since 2026-12-07, and the
// working dir in it, where builds run, a kernel overlay of its own.
testUnless(MOUNTS_AS_ROOT)("a mount in the user's home: the dirs beside it removed and renamed inside; the working dir in the home is its own kernel overlay", () => {
  const uid = userId();
  const userCanary = userHomeCanary();
  const store = makeStore();
  const userStore = makeUserStore();
  const mounts = hostMounts('sbx-in-home');
  const work = join(userCanary, 'work');
  for (const d of ['sub/deep', 'ren', 'work']) mkdirSync(join(userCanary, d), { recursive: true });
  writeFileSync(join(userCanary, 'sub', 'deep', 'f'), 'f\n');
  spawnSync('chown', ['-R', `${uid}:${uid}`, userCanary]);
  try {
    proveIsolation(userCanary, store);
    mounts.mount(join(userCanary, 'm'), uid);
    const r = runAsUser(userStore, ['run', '-n', '--', 'sh', '-c', `rm -r ${userCanary}/sub && mv ${userCanary}/ren ${userCanary}/ren2 && echo w > made && echo done`], { SBX_DEBUG_SPEC: '1' }, work);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'done\n', r.stderr);
    // `/`, which holds the home: one overlay through the daemon, the home in it.
    assert.ok(r.stderr.includes('fuse_lower "/" '), r.stderr);
    assert.not.ok(r.stderr.includes(`overlay "/home/${TEST_USER}" `), r.stderr);
    assert.ok(r.stderr.includes(`overlay "${work}" "${work}" `), r.stderr);
    for (const line of [`deleted:  ${userCanary}/sub/`, `deleted:  ${userCanary}/ren/`, `added:    ${userCanary}/ren2/`, `added:    ${work}/made`]) assert.ok(r.stderr.includes(line), `${line}\n${r.stderr}`);
    assert.ok(existsSync(join(userCanary, 'sub', 'deep', 'f')) && existsSync(join(userCanary, 'ren')) && !existsSync(join(work, 'made')));
  } finally {
    mounts.release();
    removeCanary(userCanary);
    spawnSync('rm', ['-rf', store, userStore]);
  }
});

// A saved sandbox's change at a dir on the way to a new mount in the test user's home (each is
// planned as a layer of its own then): a run in it would mount the new layer over the change
// (2026-12-04: a saved file in the test user's home vanished from `sbx diff` after one such run).
testUnless(MOUNTS_AS_ROOT)('a new host mount over what a saved sandbox changed: run --in refused and the sandbox unchanged; after the unmount it runs and shows the change (the test user)', () => {
  const home = `/home/${TEST_USER}`;
  const userCanary = userHomeCanary();
  const store = makeStore();
  const userStore = makeUserStore();
  const mounts = hostMounts('sbx-covers');
  const mount = mounts.mount, unmountAll = mounts.release;
  try {
    proveIsolation(userCanary, store);
    // The test user: its home is one layer, in `/` read through the daemon; a mount in it would
    // split the home into layers of its own, one of them over the saved change's dir, and `/`
    // into a skeleton whose top-level dirs would hide what `/`'s layer holds.
    const userMade = runAsUser(userStore, ['run', '-q', '--name', 'covered', '--', 'sh', '-c', `echo r > ${userCanary}/r`]);
    assert.is(userMade.status, 0, userMade.stderr);
    mount(join(userCanary, 'm'));
    const userRefused = runAsUser(userStore, ['run', '-q', '--in', 'covered', '--', 'sh', '-c', `echo ran > ${userCanary}/ran`]);
    assert.is(userRefused.status, 125, userRefused.stderr);
    assert.match(userRefused.stderr, `sbx: error: sandbox covered: a mount made in ${home} since the sandbox was made (${userCanary}/m) cannot be placed in its layer of that dir, and what it holds would be hidden in this run; nothing ran`);
    assert.is(runAsUser(userStore, ['diff', 'covered', '--name-only']).stdout, `${userCanary}/r\n`);
    unmountAll();
    const userAfter = runAsUser(userStore, ['run', '-q', '--in', 'covered', '--', 'cat', `${userCanary}/r`]);
    assert.is(userAfter.stdout, 'r\n', userAfter.stderr);
    assert.not.ok(existsSync(join(userCanary, 'ran')) || existsSync(join(userCanary, 'r')));
  } finally {
    unmountAll();
    removeCanary(userCanary);
    spawnSync('rm', ['-rf', store, userStore]);
  }
});

// The other way: a mount in the test user's home that made the dirs on the way to it layers of
// their own is gone since the sandbox was saved; what those layers hold is shown, and what a
// run writes there reviewed.
testUnless(MOUNTS_AS_ROOT)('a mount gone since a sandbox was saved: its layer keeps its place over the dir; with the dir gone too, run --in refused while the layer holds a change, an empty one dropped (the test user)', () => {
  const uid = userId();
  const userCanary = userHomeCanary();
  const store = makeStore();
  const userStore = makeUserStore();
  const mounts = hostMounts('sbx-gone');
  const { mount, unmount } = mounts;
  try {
    proveIsolation(userCanary, store);
    // The test user: a mount in its home made the dirs on the way to it layers of their own;
    // once it is gone, they keep their places.
    mount(join(userCanary, 'm'), uid);
    const userMade = runAsUser(userStore, ['run', '-q', '--name', 'gone', '--', 'sh', '-c', `echo r > ${userCanary}/r`]);
    assert.is(userMade.status, 0, userMade.stderr);
    unmount(join(userCanary, 'm'));
    const userRan = runAsUser(userStore, ['run', '-q', '--in', 'gone', '--', 'sh', '-c', `cat ${userCanary}/r && echo w > ${userCanary}/w`]);
    assert.is(userRan.stdout, 'r\n', userRan.stderr);
    assert.is(runAsUser(userStore, ['diff', 'gone', '--name-only']).stdout, `${userCanary}/r\n${userCanary}/w\n`);
    assert.not.ok(existsSync(join(userCanary, 'r')) || existsSync(join(userCanary, 'w')));
  } finally {
    mounts.release();
    removeCanary(userCanary);
    spawnSync('rm', ['-rf', store, userStore]);
  }
});

test.run();
