// A new file the command made unreadable (mode 000) sits in the upper layer owned by the user,
// who cannot open it without root: `diff --stat` and `diff` showed "internal error: EACCES" and
// exit 125 instead of the review. Now the file is listed with an "unreadable" marker. As root
// every file is readable: the unprivileged run covers this.
// sbx-test: serial as root (its root run makes dirs and mounts the test user cannot read, in /var
// and /opt: an ordinary user's run beside it would be told of them).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { IS_ROOT, USER_SBX, makeCanary, provenStore, removeCanary, sbx, testUserCanRunSbx } from '../helpers/sbx.js';
import { join } from 'node:path';
import { hostMounts } from '../helpers/host-moves.js';
import { ROOT_CASE, testUnless, USER_CASE } from '../helpers/skip.js';
import { CANARY } from '../helpers/canary-name.js';

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

// A dir the user cannot read is shown empty inside (sbx's opaque dir in the layer). When the
// host removed it while the sandbox lived, that dir of sbx's read as added, and a commit would
// have made it again; one the command put something in is the command's to add. The dirs are
// root's, under /var (which the view walks for such dirs); the runs are the test user's.
const userRuns = testUserCanRunSbx();
/** sbx as the test user (a root case's), with its store `userStore`. */
const asUserIn = (userStore: string) => (...args: string[]): SpawnSyncReturns<string> => spawnSync('setpriv', ['--reuid', 'sbxtest', '--regid', 'sbxtest', '--init-groups', '--reset-env', 'env', `SBX_HOME=${userStore}`, 'HOME=/home/sbxtest', 'PATH=/usr/bin:/bin',
  process.execPath, USER_SBX, ...args], { encoding: 'utf8', cwd: '/', input: '' });
testUnless(ROOT_CASE ?? (userRuns ? null : 'the test user sbxtest cannot run this build'), { missing: IS_ROOT })('an unreadable dir shown empty that the host removed meanwhile is no change, unless the command filled it', () => {
  const tree = `/var/tmp/sbx-vanish-${process.pid}`;
  const gone = `/var/tmp/sbx-vanish2-${process.pid}`;
  const userStore = mkdtempSync('/home/sbxtest/sbx-vanish-store-');
  const asUser = asUserIn(userStore);
  try {
    spawnSync('chown', ['sbxtest:sbxtest', userStore]);
    for (const d of [`${tree}/closed`, `${tree}/filled`, `${gone}/closed`]) { mkdirSync(d, { recursive: true }); chmodSync(d, 0o700); }
    // Mode 000: sbx's copy in the layer (the user's, with the host's mode) is one whose
    // opaque mark the user's scan cannot read (EACCES on a user xattr); it read as added, and
    // a commit made it again (integration/layer-times' canary, left by half of the full suites).
    mkdirSync(`${gone}/sealed`);
    chmodSync(`${gone}/sealed`, 0);
    const r = asUser('run', '-q', '--name', 'vanish', '--', 'sh', '-c', `ls -A ${tree}/closed && echo new > ${tree}/filled/new`);
    assert.is(r.status, 0, r.stderr);
    const changes = (): string[] => {
      const d = asUser('diff', 'vanish', '--json');
      assert.is(d.status, 0, d.stderr);
      return (JSON.parse(d.stdout) as { changes: Array<{ path: string; change: string }> }).changes
        .filter((c) => c.path.startsWith('/var/tmp/sbx-vanish')).map((c) => `${c.change} ${c.path}`);
    };
    assert.equal(changes(), [`added ${tree}/filled/new`]);
    for (const d of [`${tree}/closed`, `${tree}/filled`]) rmSync(d, { recursive: true });
    rmSync(gone, { recursive: true });
    assert.equal(changes(), [`added ${tree}/filled`, `added ${tree}/filled/new`]);
    assert.is(asUser('discard', 'vanish').status, 0);
  } finally {
    rmSync(tree, { recursive: true, force: true });
    rmSync(gone, { recursive: true, force: true });
    rmSync(userStore, { recursive: true, force: true });
  }
});

// Removing such a dir inside: fuse-overlayfs looked up a dir the user cannot read as "no such
// entry" (EACCES on its opaque marks, with static_nlink), so the kernel overlay made no
// whiteout when the command removed sbx's copy: the name came back in its parent's listing,
// unreachable, and the parent could not be removed (`rm -rf /var/cache/apt`: ENOTEMPTY). The
// daemons' preload reads those marks as absent (native/preload/fuse-noplus.c). The user's
// commit then refuses the removal: the tree holds a dir it cannot list (said so, not "changed").
testUnless(ROOT_CASE ?? (userRuns ? null : 'the test user sbxtest cannot run this build'), { missing: IS_ROOT })('an unreadable dir shown empty can be removed inside, and its parent with it; the user\'s commit says why it leaves them', () => {
  const tree = `/var/tmp/sbx-ghost-${process.pid}`;
  const shut = `${tree}-shut`;
  const userStore = mkdtempSync('/home/sbxtest/sbx-ghost-store-');
  const asUser = asUserIn(userStore);
  try {
    spawnSync('chown', ['sbxtest:sbxtest', userStore]);
    mkdirSync(`${tree}/closed`, { recursive: true });
    chmodSync(`${tree}/closed`, 0o700);
    writeFileSync(`${tree}/f`, 'f\n');
    // A tree whose top the user cannot list: its line says so, where it read as an empty dir.
    mkdirSync(shut, { mode: 0o700 });
    writeFileSync(`${shut}/secret`, 's\n');
    const r = asUser('run', '-q', '--name', 'ghost', '--', 'sh', '-c', `rmdir ${tree}/closed && ls -A ${tree} && rm -rf ${tree} ${shut} && echo gone; test -e ${tree} || echo absent`);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'f\ngone\nabsent\n');
    const d = asUser('diff', 'ghost', '--json');
    assert.is(d.status, 0, d.stderr);
    const changes = (JSON.parse(d.stdout) as { changes: Array<{ path: string; change: string }> }).changes.filter((c) => c.path.startsWith(tree)).map((c) => `${c.change} ${c.path}`);
    assert.equal(changes, [`deleted ${tree}`, `deleted ${shut}`]);
    // What the user's review can say of what a root commit would take (root's counts all).
    const text = asUser('diff', 'ghost').stdout.split('\n').filter((l) => l.includes(tree)).map((l) => l.trim().replace(/ +/g, ' '));
    assert.equal(text, [`deleted: ${tree}/ (2+ entries, 2 B, more unreadable to you)`, `deleted: ${shut}/ (unreadable to you: what it holds is unknown)`]);
    const c = asUser('commit', 'ghost');
    assert.is(c.status, 1, c.stderr);
    assert.match(c.stderr, `${tree}: the host dir would be removed but ${tree}/closed cannot be listed by you: what it holds is unknown`);
    assert.ok(existsSync(`${tree}/closed`) && existsSync(`${tree}/f`) && existsSync(`${shut}/secret`), 'the host trees are whole');
    assert.is(asUser('discard', 'ghost').status, 0);
  } finally {
    rmSync(tree, { recursive: true, force: true });
    rmSync(shut, { recursive: true, force: true });
    rmSync(userStore, { recursive: true, force: true });
  }
});

// A dir the command made mode 000 after setting a user xattr on it: the user's scan cannot
// read the value (EACCES), which it sent as empty, and the user's commit made the dir with the
// xattr emptied. Now the review says it cannot read them, the user's commit leaves the dir,
// and root's (sudo, which reads them) commits it whole.
testUnless(ROOT_CASE ?? (userRuns ? null : 'the test user sbxtest cannot run this build'), { missing: IS_ROOT })('a new dir of mode 000 with a user xattr: the user\'s commit leaves it rather than lose the xattr, root\'s commits it whole', () => {
  const userStore = mkdtempSync('/home/sbxtest/sbx-xattr-store-');
  const canary = mkdtempSync(`/home/sbxtest/${CANARY}`);
  const d = `${canary}/d`;
  const asUser = asUserIn(userStore);
  try {
    spawnSync('chown', ['sbxtest:sbxtest', userStore, canary]);
    const r = asUser('run', '-q', '--name', 'xa', '--', 'python3', '-c', `import os; os.mkdir('${d}'); os.setxattr('${d}', 'user.note', b'precious'); os.chmod('${d}', 0)`);
    assert.is(r.status, 0, r.stderr);
    const c = asUser('commit', 'xa');
    assert.is(c.status, 1, c.stderr);
    assert.match(c.stderr, `${d}: cannot read the sandbox copy's attributes (EACCES)`);
    assert.match(c.stderr, `${d}: its extended attributes cannot be read (EACCES): not committed, so that none is lost`);
    assert.not.ok(existsSync(d), 'the dir was made without its xattr');
    const root = sbx(['commit', 'xa'], { store: userStore, env: { SUDO_USER: 'sbxtest', SUDO_UID: '1001', SUDO_GID: '1001' } });
    assert.is(root.code, 0, root.stderr);
    assert.is(spawnSync('python3', ['-c', `import os, sys; sys.stdout.write(os.getxattr('${d}', 'user.note').decode())`], { encoding: 'utf8' }).stdout, 'precious');
  } finally {
    asUser('discard', 'xa');
    rmSync(canary, { recursive: true, force: true });
    rmSync(userStore, { recursive: true, force: true });
  }
});

// The notice of dirs shown empty is said on the first run and when a dir joins the list, not when
// one leaves it, nor for a dir that is a unit of the view only while a mount splits its parent
// (another user's tmpfs in /opt or /tmp): such mounts come and go, and each change said again was
// one more line on an ordinary user's unrelated runs.
testUnless(ROOT_CASE ?? (userRuns ? null : 'the test user sbxtest cannot run this build'), { missing: IS_ROOT })('an ordinary user is told of dirs shown empty when one joins the list, not when one leaves it or a mount of another user\'s splits a tree for a while', () => {
  const userStore = mkdtempSync('/home/sbxtest/sbx-shown-store-');
  const asUser = asUserIn(userStore);
  const canary = makeCanary();
  const mounts = hostMounts('sbx-canary');
  const tree = `/var/tmp/sbx-shown-${process.pid}`;
  /** How many dirs the run's notice says are shown empty; 0 without the notice. */
  const told = (): number => {
    const r = asUser('run', '-n', '--', 'true');
    assert.is(r.status, 0, r.stderr);
    assert.not.match(r.stderr, 'is empty inside (EACCES)');
    const many = /sbx: warning: (\d+) unreadable dirs shown empty inside/.exec(r.stderr);
    return many ? Number(many[1]) : r.stderr.includes('(unreadable on the host) is shown empty inside') ? 1 : 0;
  };
  try {
    spawnSync('chown', ['sbxtest:sbxtest', userStore]);
    const first = told();
    assert.ok(first > 0, 'a first run names the dirs it shows empty (/root at least)');
    assert.is(told(), 0, 'said again with nothing new');
    // Another user's mount that this one may not search: not said (shown empty, or, in a dir
    // planned whole through the fuse daemon, as unsearchable inside as on the host).
    mounts.mount(join(canary, 'theirs'), undefined, 0o700);
    assert.is(told(), 0, 'said for a mount that splits /opt');
    // One in a dir of root's that the user may not list: that dir is empty and read-only inside,
    // as unreadable as on the host.
    mkdirSync(join(canary, 'private'), { mode: 0o700 });
    mounts.mount(join(canary, 'private', 'mnt'));
    assert.is(told(), 0, 'said for a mount in a dir the user may not list');
    // A dir of root's in /var that the user may not read: a new dir shown empty.
    mkdirSync(`${tree}/closed`, { recursive: true });
    chmodSync(`${tree}/closed`, 0o700);
    assert.is(told(), first + 1);
    rmSync(`${tree}/closed`, { recursive: true });
    assert.is(told(), 0, 'said again when a dir left the list');
    mkdirSync(`${tree}/closed`, { mode: 0o700 });
    assert.is(told(), first + 1, 'its return is new against the list remembered last');
  } finally {
    mounts.release();
    removeCanary(canary);
    rmSync(tree, { recursive: true, force: true });
    rmSync(userStore, { recursive: true, force: true });
  }
});

test.run();
