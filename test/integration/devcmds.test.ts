// Ordinary developer commands behave inside as they do outside (docs/architecture.md, "What
// cannot look like the host" lists what cannot).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SBX, makeStore, removeStore, sbx, sbxAsync } from '../helpers/sbx.js';
import { which } from '../../sandbox-core/which.js';
import { USER_CASE, testUnless } from '../helpers/skip.js';

const store = makeStore();
const shq = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
test.after(() => removeStore(store));

/** Runs `sbx run -n -- sh -c SCRIPT` in a session of its own (no controlling terminal), sends it SIGNAL once the command said ready. */
async function signalledRun(signal: NodeJS.Signals, script: string): Promise<{ code: number | null; out: string }> {
  // detached: a new session, so no terminal sends the helper the signal too; what reaches the
  // command came through sbx.
  const child = sbxAsync(['run', '-n', '--', 'sh', '-c', script], { store, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let ready: () => void = () => {};
  const isReady = new Promise<void>((r) => { ready = r; });
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('ready\n')) ready(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const ended = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  try {
    await Promise.race([isReady, ended]);
    child.kill(signal);
    return { code: await ended, out };
  } finally {
    child.kill('SIGKILL');
  }
}

test('SIGINT sent to sbx alone (no terminal: a supervisor, timeout -s INT) stops the command, as it would outside', async () => {
  // The old sbx ignored it: the sleep ran its 20 s and the run exited 0.
  const r = await signalledRun('SIGINT', 'echo ready; exec sleep 20');
  assert.is(r.code, 130, r.out);
  assert.match(r.out, /killed by signal 2/);
});

test('SIGQUIT sent to sbx alone reaches the command too', async () => {
  const r = await signalledRun('SIGQUIT', 'trap "echo got-quit; exit 3" QUIT; echo ready; sleep 20 & wait');
  assert.is(r.code, 3, r.out);
  assert.match(r.out, /^got-quit$/m);
});

// The command's shell traps the signal and waits for a shell of its own, which traps it too: a
// signal that reached the whole process group, as a terminal's Ctrl-C or `timeout -s INT`
// outside, interrupts the child's wait at once; sent to the first process alone (sbx until
// 2026-12-04), the leader's trap waited for its child, and the child for its `sleep 30`.
const groupScript = (sig: string): string => `trap "echo leader-got-${sig}" ${sig}; sh -c 'trap "echo child-got-${sig}; exit 5" ${sig}; echo ready; sleep 30 & wait'; echo "after $?"`;

for (const sig of ['SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGTERM'] as const) {
  const name = sig.slice(3);
  test(`${sig} sent to sbx reaches the command's whole process group, not its first process alone`, async () => {
    const r = await signalledRun(sig, groupScript(name));
    assert.match(r.out, new RegExp(`^child-got-${name}$`, 'm'), `the command's child did not get ${sig}: ${r.out}`);
    assert.match(r.out, new RegExp(`^leader-got-${name}$`, 'm'), r.out);
    assert.match(r.out, /^after 5$/m, r.out);
    assert.is(r.code, 0, r.out);
  });
}

test('SIGINT to sbx ends a shell\'s running child as `timeout -s INT` does outside: the next command never runs', async () => {
  const started = Date.now();
  // The child says ready itself and execs: dash vforks `sleep` after the echo, and a SIGINT
  // that came before the vfork would find no child, here as outside.
  const r = await signalledRun('SIGINT', `sh -c 'echo ready; exec sleep 30'; echo after`);
  // A bound far from the child's 30 s, not a timing: before, sbx returned when the sleep ended.
  assert.ok(Date.now() - started < 15_000, `sbx returned only after the child's sleep: ${r.out}`);
  assert.not.match(r.out, /^after$/m, r.out);
  assert.is(r.code, 130, r.out);
});

test('SIGUSR1 sent to sbx reaches the command alone: its children, which die of one by default, are left alone', async () => {
  const r = await signalledRun('SIGUSR1', `trap "echo leader-got-USR1" USR1; sh -c 'trap "echo child-got-USR1" USR1; echo ready; sleep 1 & wait; echo child-done'; echo "after $?"`);
  assert.match(r.out, /^leader-got-USR1$/m, r.out);
  assert.not.match(r.out, /child-got-USR1/, r.out);
  assert.match(r.out, /^child-done$/m, r.out);
  assert.match(r.out, /^after 0$/m, r.out);
  assert.is(r.code, 0, r.out);
});

testUnless(USER_CASE ?? (which('script') ? null : 'script (util-linux) is missing: no pty to run sbx on'))('--user: a write root\'s files refuse (as they do on the host) is not blamed on the view', () => {
  // On a pty (script), so the helper sees the command's error lines. The old sbx said "without
  // fuse-overlayfs ... install fuse-overlayfs", also where fuse-overlayfs was installed.
  const inner = 'mkdir /usr/local/sbx-devcmds-x; touch /etc/sbx-devcmds-y; exit 0';
  const r = spawnSync('script', ['-qec', [process.execPath, SBX, 'run', '-n', '--user', '--', 'sh', '-c', inner].map(shq).join(' '), '/dev/null'],
    { encoding: 'utf8', env: { ...process.env, SBX_HOME: store, NO_COLOR: '1' }, input: '' });
  assert.is(r.status, 0, r.stdout);
  // On a terminal sbx wraps its own lines at 80 columns, next lines indented by two: unwrapped here.
  const shown = r.stdout.replace(/\r?\n  /g, ' ');
  assert.match(shown, /Permission denied/, `the command's own errors are there: ${r.stdout}`);
  assert.not.match(shown, /because of sbx's view/, r.stdout);
});

test('the command gets the umask sbx was started with, as it would outside', () => {
  // The old helper gave every command 022, so a user's 077 made files others could read (and
  // 002 files the group could not write), in the layers and after a commit.
  for (const [mask, want] of [['077', '0077 600 700'], ['002', '0002 664 775']] as const) {
    const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', 'cd "$(mktemp -d)" && touch f && mkdir d && echo "$(umask) $(stat -c %a f) $(stat -c %a d)"'],
      { store, prefix: ['sh', '-c', `umask ${mask} && exec "$@"`, 'sh'] });
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout.trim(), want, `umask ${mask}`);
  }
});

const ACL_SCRIPT = String.raw`set -e
mkdir -p /opt/sbx-devcmds-acl/d && echo a > /opt/sbx-devcmds-acl/d/f
/usr/bin/python3 -c '
import os, struct
e = lambda tag, perm, id=0xffffffff: struct.pack("<HHI", tag, perm, id)
acl = struct.pack("<I", 2) + e(1, 6) + e(2, 4, 4321) + e(4, 4) + e(0x10, 4) + e(0x20, 4)
os.setxattr("/opt/sbx-devcmds-acl/d/f", "system.posix_acl_access", acl)
os.setxattr("/opt/sbx-devcmds-acl/d/f", "user.sbx", b"v")
'
cp -a /opt/sbx-devcmds-acl/d /usr/local/sbx-devcmds-acl
/usr/bin/python3 -c 'import os; print("xattrs=" + ",".join(sorted(os.listxattr("/usr/local/sbx-devcmds-acl/f"))))'
`;

testUnless(existsSync('/usr/bin/python3') ? null : '/usr/bin/python3 is missing: nothing here sets an ACL')('a POSIX ACL set in a system tree is kept, and cp -a copies it, as root does', () => {
  // An ordinary user's fuse trees were mounted noacl: the setxattr was EOPNOTSUPP, and cp -a of
  // a tree with ACLs dropped them without a word.
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', ACL_SCRIPT], { store, timeoutMs: 60_000 });
  assert.is(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^xattrs=system\.posix_acl_access,user\.sbx$/m);
  assert.not.ok(existsSync('/opt/sbx-devcmds-acl'), 'the host is untouched');
});

testUnless(which('git') ? null : 'git is missing: no local clone to make')("a local git clone that fails git's hardlink check inside is explained, with the way around it", () => {
  // Root on a host filesystem with a null UUID (this VM's) and an ordinary user in one tree:
  // the link's inode is not the source's (docs/architecture.md). Elsewhere it may work: then
  // nothing is said.
  const dir = mkdtempSync(join(tmpdir(), 'sbx-git-'));
  try {
    const src = join(dir, 'src'), dst = join(dir, 'dst');
    const git = (...a: string[]) => spawnSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...a], { cwd: dir, encoding: 'utf8' });
    assert.is(git('init', '-q', src).status, 0);
    assert.is(spawnSync('sh', ['-c', 'echo a > f && git add f && git -c user.email=t@example.com -c user.name=t commit -qm one'], { cwd: src }).status, 0);
    // Through a shell's pipe: Node gives a child sockets, which the helper passes on as they
    // are, and it reads only the output it relays (view.test.ts).
    const args = ['run', '-n', '--', 'sh', '-c', `git clone -q ${shq(src)} ${shq(dst)}; echo "clone=$?"`];
    const r = spawnSync('sh', ['-c', `${[process.execPath, SBX, ...args].map(shq).join(' ')} 2>&1 | cat`], { encoding: 'utf8', env: { ...process.env, SBX_HOME: store, NO_COLOR: '1' }, input: '' });
    assert.is(r.status, 0, r.stdout);
    if (r.stdout.includes('clone=0')) {
      assert.not.match(r.stdout, /hardlink/);
      return;
    }
    assert.match(r.stdout, /hardlink different from source at/, r.stdout);
    assert.match(r.stdout, /hardlink different from source because of sbx's view: .*--no-hardlinks/, r.stdout);
    const again = sbx(['run', '-n', '--', 'sh', '-c', `git clone -q --no-hardlinks ${shq(src)} ${shq(dst)} && git -C ${shq(dst)} log --format=%s`], { store });
    assert.is(again.code, 0, again.stderr);
    assert.match(again.stdout, /^one$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
