// What the test suites of try (binpash/try) and bubblewrap check, asked of sbx with our own
// cases (docs/architecture.md, "Checked against the peers' own tests", maps each to its peer
// check). Commits go only into a canary tree this file creates, after a canary write proved
// that a throwaway run does not reach the host. The runner executes it as root and again as the
// unprivileged test user.
// sbx-test: host-mounts (as root it mounts a tmpfs in its canary for the nested-mount case).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { SBX, makeCanary, makeStore, proveIsolation, removeCanary, removeStore, sbx, sbxAsync } from '../helpers/sbx.js';
import { ROOT_CASE, USER_CASE, testUnless } from '../helpers/skip.js';

const store = makeStore();
let canary = '';

test.before(() => {
  canary = makeCanary();
  proveIsolation(canary, store);
});
test.after(() => {
  removeCanary(canary);
  removeStore(store);
});

/** /tmp itself, not the runner's scratch TMPDIR (that is /tmp/sbx-testrun-*, also overlaid). */
const tmpdirOf = (): string => (tmpdir().startsWith('/tmp/') ? tmpdir() : '/tmp');

const entries = () => readdirSync(store).filter((n) => /^[0-9a-f]{8}$/.test(n));

/** Runs `script` in the canary with -y: every change is committed to the canary on the host. */
function keep(script: string, extra: string[] = []): void {
  const r = sbx(['run', '-y', '-q', ...extra, '--', 'sh', '-c', script], { store, cwd: canary });
  assert.is(r.code, 0, `${script}: ${r.stderr}`);
}

/** A fresh directory in the canary for one case, so cases never see each other's files. */
function caseDir(name: string): string {
  const d = join(canary, name);
  mkdirSync(d);
  return d;
}

const typeOf = (p: string): string => {
  if (!existsSync(p) && !isLink(p)) return 'absent';
  const s = lstatSync(p);
  return s.isSymbolicLink() ? 'link' : s.isDirectory() ? 'dir' : s.isFIFO() ? 'fifo' : s.isSocket() ? 'socket' : s.isFile() ? 'file' : 'other';
};
function isLink(p: string): boolean { try { return lstatSync(p).isSymbolicLink(); } catch { return false; } }

// try: test/all-commit-cases.sh, mkdir_on_file.sh, symlinks.sh, touch_and_rm_*.sh. Each row: what
// the host has before, what the command does, what the host must have after the commit.
test('commit: every type change, deletion and replacement lands as the command left it', () => {
  const d = caseDir('types');
  const at = (n: string) => join(d, n);
  // The host side before the run.
  mkdirSync(at('olddir')); writeFileSync(at('olddir/oldfile'), 'old\n');
  writeFileSync(at('wasfile'), 'hi\n');
  symlinkSync('/etc/hostname', at('waslink'));
  mkdirSync(at('existdir')); writeFileSync(at('existdir/file'), '');
  writeFileSync(at('goner'), 'alas\n');
  symlinkSync(keepTarget(), at('trylink'));
  symlinkSync(keepTarget(), at('sneaky'));
  mkdirSync(at('wasdir/inner'), { recursive: true }); writeFileSync(at('wasdir/inner/goodbye'), '');
  writeFileSync(at('overwritten'), 'sup\n');
  writeFileSync(at('gonnago'), 'so long\n');
  symlinkSync('/etc/passwd', at('otherlink'));
  mkdirSync(at('formerdir/en'), { recursive: true }); writeFileSync(at('formerdir/en/file1'), 'hello\n');
  writeFileSync(at('target'), '');
  writeFileSync(at('filepipe'), '');
  mkdirSync(at('dirpipe'));
  symlinkSync(keepTarget(), at('linkpipe'));
  writeFileSync(at('filesock'), '');
  mkdirSync(at('dirsock'));
  symlinkSync(keepTarget(), at('linksock'));
  const sock = (n: string) => `'${process.execPath}' -e "require('net').createServer().listen('${n}', () => process.exit(0))"`;
  keep([
    `cd '${d}'`,
    'rm -r olddir && mkdir olddir && echo fresh > olddir/newfile',
    'mkdir newdir',
    'mv wasfile stillfile && mkdir wasfile && mv stillfile wasfile/',
    `rm waslink && mkdir waslink && ln -s '${keepTarget()}' waslink/newlink`,
    'rm -r existdir',
    'rm goner',
    'rm trylink',
    'touch absent && rm absent',
    // The host has a symlink here: the new file must replace the link, never write through it.
    'rm sneaky && echo gotcha > sneaky',
    'echo arceus > missingno',
    "rm -r wasdir && echo 'a humble file' > wasdir",
    "echo 'what is up' > overwritten",
    `ln -s '${keepTarget()}' linktobe`,
    `ln -sf '${keepTarget()}' gonnago`,
    `ln -sf '${keepTarget()}' otherlink`,
    'rm -r formerdir && ln -s /this/is/a/broken/symlink formerdir',
    'rm target && mkdir target',
    'rm filepipe && mkfifo filepipe', 'rm -r dirpipe && mkfifo dirpipe', 'rm linkpipe && mkfifo linkpipe', 'mkfifo newpipe',
    `rm filesock && ${sock('filesock')}`, `rm -r dirsock && ${sock('dirsock')}`, `rm linksock && ${sock('linksock')}`, sock('newsock'),
  ].join(' && '));
  const want: Record<string, string> = {
    olddir: 'dir', 'olddir/newfile': 'file', 'olddir/oldfile': 'absent', newdir: 'dir', wasfile: 'dir', 'wasfile/stillfile': 'file',
    waslink: 'dir', 'waslink/newlink': 'link', existdir: 'absent', goner: 'absent', trylink: 'absent', absent: 'absent', sneaky: 'file',
    missingno: 'file', wasdir: 'file', overwritten: 'file', linktobe: 'link', gonnago: 'link', otherlink: 'link', formerdir: 'link',
    target: 'dir', filepipe: 'fifo', dirpipe: 'fifo', linkpipe: 'fifo', newpipe: 'fifo',
    filesock: 'socket', dirsock: 'socket', linksock: 'socket', newsock: 'socket',
  };
  const got = Object.fromEntries(Object.keys(want).map((n) => [n, typeOf(at(n))]));
  assert.equal(got, want);
  assert.is(readFileSync(at('olddir/newfile'), 'utf8'), 'fresh\n');
  assert.is(readFileSync(at('wasfile/stillfile'), 'utf8'), 'hi\n');
  assert.is(readlinkSync(at('waslink/newlink')), keepTarget());
  assert.is(readFileSync(at('sneaky'), 'utf8'), 'gotcha\n');
  assert.is(readFileSync(keepTarget(), 'utf8'), 'precious\n', 'the link the host had was not written through');
  assert.is(readFileSync(at('missingno'), 'utf8'), 'arceus\n');
  assert.is(readFileSync(at('wasdir'), 'utf8'), 'a humble file\n');
  assert.is(readFileSync(at('overwritten'), 'utf8'), 'what is up\n');
  for (const l of ['linktobe', 'gonnago', 'otherlink']) assert.is(readlinkSync(at(l)), keepTarget(), l);
  assert.is(readlinkSync(at('formerdir')), '/this/is/a/broken/symlink');
  assert.equal(readdirSync(at('target')), []);
  assert.equal(entries(), [], 'a committed run leaves nothing in the store');
});

/** A file the host keeps whatever happens: links in the cases point at it. */
function keepTarget(): string { return join(canary, 'keep.txt'); }

// try: test/summary.sh (and empty_summary.sh): the review names each kind of change.
test('summary: added, modified, deleted, file replaced by a dir, new nested dirs; nothing for no change', () => {
  const d = caseDir('summary');
  writeFileSync(join(d, 'file_2.txt'), 'fail\n');
  writeFileSync(join(d, 'gone.gz'), 'x');
  writeFileSync(join(d, 'target'), '');
  let r = sbx(['run', '--name', 'peers-sum', '-q', '--', 'sh', '-c',
    `cd '${d}' && touch file_1.txt && echo test > file_2.txt && rm gone.gz && rm target && mkdir target && mkdir -p new_dir/nested`], { store });
  assert.is(r.code, 0, r.stderr);
  const rep = join(canary, 'sum.json');
  r = sbx(['diff', 'peers-sum'], { store });
  assert.is(r.code, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, `added:    ${d}/file_1.txt`);
  assert.match(out, `modified: ${d}/file_2.txt`);
  assert.match(out, `deleted:  ${d}/gone.gz`);
  assert.match(out, `replaced: ${d}/target/ (file → dir)`);
  assert.match(out, `added:    ${d}/new_dir/`);
  sbx(['discard', 'peers-sum'], { store });
  r = sbx(['run', '--name', 'peers-empty', '-q', '--report', rep, '--', 'true'], { store });
  assert.is(r.code, 0, r.stderr);
  assert.equal(JSON.parse(readFileSync(rep, 'utf8')).changes, []);
  r = sbx(['diff', 'peers-empty'], { store });
  assert.not.match(r.stdout, /added|modified|deleted|replaced/);
  sbx(['discard', 'peers-empty'], { store });
});

// try: test/nonexistent_sandbox.sh.
test('diff, commit and --in of a sandbox that does not exist fail and say so', () => {
  for (const args of [['diff', 'peers-nosuch'], ['commit', 'peers-nosuch'], ['run', '--in', 'peers-nosuch', '--', 'true']]) {
    const r = sbx(args, { store });
    assert.ok(r.code !== 0, args.join(' '));
    assert.match(r.stderr, 'peers-nosuch', args.join(' '));
  }
});

// try: test/reuse_sandbox.sh, touch_and_rm_N_flag_commit.sh: a saved sandbox, run in again, then committed.
test('a saved sandbox run in twice commits the sum of both runs', () => {
  const d = caseDir('reuse');
  writeFileSync(join(d, 'file.gz'), 'x');
  let r = sbx(['run', '--name', 'peers-reuse', '-q', '--', 'sh', '-c', `cd '${d}' && touch file_1.txt && echo test > file_2.txt && rm file.gz`], { store });
  assert.is(r.code, 0, r.stderr);
  r = sbx(['run', '--in', 'peers-reuse', '-q', '--', 'sh', '-c', `cd '${d}' && rm file_1.txt && echo test2 >> file_2.txt && touch file.gz`], { store });
  assert.is(r.code, 0, r.stderr);
  assert.equal(readdirSync(d).sort(), ['file.gz'], 'nothing reached the host before the commit');
  r = sbx(['commit', 'peers-reuse'], { store });
  assert.is(r.code, 0, r.stderr);
  assert.equal(readdirSync(d).sort(), ['file.gz', 'file_2.txt']);
  assert.is(readFileSync(join(d, 'file_2.txt'), 'utf8'), 'test\ntest2\n');
  assert.is(statSync(join(d, 'file.gz')).size, 0);
});

// try: test/include_flag.sh, exclude_flag.sh (our --only / --exclude globs).
test('--only and --exclude choose what a -y run commits', () => {
  const d = caseDir('select');
  keep(`cd '${d}' && touch foo1.txt foo2.txt bar.txt`, ['--only', `${d}/foo*`]);
  assert.equal(readdirSync(d).sort(), ['foo1.txt', 'foo2.txt']);
  const e = caseDir('select2');
  keep(`cd '${e}' && touch foo1.txt foo2.txt bar.txt`, ['--exclude', `${e}/foo1.txt`, '--exclude', `${e}/foo2.txt`]);
  assert.equal(readdirSync(e), ['bar.txt']);
});

// try: test/newline-filename.sh; names with spaces and any byte.
test('names with a newline, spaces and a leading dash are committed, deletions too', () => {
  const d = caseDir('names');
  writeFileSync(join(d, 'this\nsucks'), '');
  keep(`cd '${d}' && rm "$(printf 'this\\nsucks')" && echo s > 'with  two spaces' && echo n > "$(printf 'new\\nline')" && echo h > ./-dash`);
  assert.equal(readdirSync(d).sort(), ['-dash', 'new\nline', 'with  two spaces']);
});

// try: test/dev_urandom.sh, unzip_*.sh (a tool's output file) and large files.
test('a file from /dev/urandom and a 64 MiB file are committed byte for byte', () => {
  const d = caseDir('big');
  const r = sbx(['run', '-y', '-q', '--', 'sh', '-c', `cd '${d}' && head -c 5 /dev/urandom > target && head -c 67108864 /dev/urandom > big && sha256sum big`], { store, timeoutMs: 180_000 });
  assert.is(r.code, 0, r.stderr);
  assert.is(statSync(join(d, 'target')).size, 5);
  const inside = r.stdout.split(' ')[0];
  assert.is(createHash('sha256').update(readFileSync(join(d, 'big'))).digest('hex'), inside);
});

// try: test/tempfiles.sh, touch_and_rm_with_cleanup: -n keeps nothing anywhere.
test('-n leaves nothing on the host and nothing in the store', () => {
  const d = caseDir('discard');
  const before = entries();
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', `cd '${d}' && touch foo && mkdir bar`], { store });
  assert.is(r.code, 0, r.stderr);
  assert.equal(readdirSync(d), []);
  assert.equal(entries(), before);
});

// try: test/stdstream.sh, pipeline.sh, command_substitution.sh. Through a shell so that stdio are
// pipes and files, as a user's shell gives them (spawnSync's are sockets, which /dev/stdin cannot
// reopen on the host either).
test('stdin reaches the command; its stdout and stderr stay apart; pipes and $(...) work', () => {
  const d = caseDir('stdio');
  const viaShell = (script: string): { out: string; err: string } => {
    const r = spawnSync('sh', ['-c', `echo 5 | '${process.execPath}' '${SBX}' run -n -q -- sh -c '${script}' > '${d}/out' 2> '${d}/err'`], { cwd: canary, encoding: 'utf8', env: { ...process.env, SBX_HOME: store, NO_COLOR: '1' } });
    assert.is(r.status, 0, readFileSync(join(d, 'err'), 'utf8'));
    return { out: readFileSync(join(d, 'out'), 'utf8'), err: readFileSync(join(d, 'err'), 'utf8') };
  };
  assert.equal(viaShell('read x; echo $((x * 2)); echo $((x * 3)) >&2'), { out: '10\n', err: '15\n' });
  assert.equal(viaShell('read x < /dev/stdin; echo $((x * 2)) > /dev/stdout; echo $((x * 3)) > /dev/stderr'), { out: '10\n', err: '15\n' });
  assert.equal(viaShell('echo test | tr t T; echo "$(pwd)"'), { out: `TesT\n${canary}\n`, err: '' });
});

// try: test/toplevel-perms.sh (integration/run compares the names and link targets; this, modes).
test('the top-level entries of / have the host\'s modes inside', () => {
  const list = "stat -c '%A %n' /*";
  const host = spawnSync('sh', ['-c', list], { encoding: 'utf8' }).stdout;
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', list], { store });
  assert.is(r.code, 0, r.stderr);
  assert.fixture(r.stdout, host);
});

// try: test/check_env.sh, hidden_variables.sh; bwrap's environment checks.
test('cwd, PWD, OLDPWD and the environment are the caller\'s; sbx adds no variable of its own', () => {
  const env = { PWD: canary, OLDPWD: '/usr', PEERS_PROBE: 'a b\nc' };
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', 'pwd; echo "$PWD $OLDPWD"; printf %s "$PEERS_PROBE"'], { store, cwd: canary, env });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, `${canary}\n${canary} /usr\na b\nc`);
  const outside = spawnSync('env', ['-0'], { encoding: 'utf8', env: { ...process.env, SBX_HOME: store, NO_COLOR: '1' } }).stdout.split('\0').filter(Boolean).map((l) => l.split('=')[0]!);
  const inside = sbx(['run', '-n', '-q', '--', 'env', '-0'], { store }).stdout.split('\0').filter(Boolean).map((l) => l.split('=')[0]!);
  const added = inside.filter((k) => !outside.includes(k) && k !== '_' && k !== 'PWD' && k !== 'SHLVL');
  assert.equal(added, [], 'variables that appeared inside');
});

// bwrap's umask is the caller's (the kernel keeps it across exec); try relies on it for new files.
test('the caller\'s umask holds inside and shapes the committed modes', () => {
  const d = caseDir('umask');
  const r = spawnSync('sh', ['-c', `umask 027 && exec '${process.execPath}' '${SBX}' run -y -q -- sh -c 'umask; touch f; mkdir g'`], { cwd: d, encoding: 'utf8', env: { ...process.env, SBX_HOME: store, NO_COLOR: '1' } });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '0027\n');
  assert.is(statSync(join(d, 'f')).mode & 0o777, 0o640);
  assert.is(statSync(join(d, 'g')).mode & 0o777, 0o750);
});

// bwrap: test-run.sh's "no caps as uid != 0" / expected caps, no_new_privs; its seccomp tests.
test('no_new_privs is set, seccomp is filtering, no CAP_SYS_ADMIN or CAP_NET_ADMIN', () => {
  const r = sbx(['run', '-n', '-q', '--', 'grep', '-E', '^(NoNewPrivs|Seccomp|CapEff|CapBnd):', '/proc/self/status'], { store });
  assert.is(r.code, 0, r.stderr);
  const f = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(/:\s+/) as [string, string]));
  assert.is(f.NoNewPrivs, '1');
  assert.is(f.Seccomp, '2');
  for (const k of ['CapEff', 'CapBnd']) {
    const caps = BigInt(`0x${f[k]}`);
    assert.is(caps & (1n << 21n), 0n, `${k} has CAP_SYS_ADMIN`);
    assert.is(caps & (1n << 12n), 0n, `${k} has CAP_NET_ADMIN`);
  }
});

// bwrap: test-run.sh's "cannot read /etc/shadow" as a user that cannot read it outside. sbx
// shows the account databases empty on purpose (sandbox-core/precopy.ts: useradd in a
// postinst needs to open them); what must hold is that their content never shows.
testUnless(USER_CASE)('a file the user cannot read outside shows nothing of it inside, root inside or not', () => {
  assert.ok(spawnSync('cat', ['/etc/shadow']).status !== 0, 'the host refuses /etc/shadow to this user');
  assert.ok(spawnSync('ls', ['/root']).status !== 0, 'the host refuses to list /root to this user');
  for (const extra of [[], ['--user']]) {
    let r = sbx(['run', '-n', '-q', ...extra, '--', 'cat', '/etc/shadow'], { store });
    assert.is(r.stdout, '', `${extra.join(' ')}: /etc/shadow`);
    // Root inside sees it empty (a stand-in it may write in: integration/view); --user cannot list it.
    r = sbx(['run', '-n', '-q', ...extra, '--', 'ls', '-A', '/root'], { store });
    assert.is(r.code, extra.length ? 2 : 0, `${extra.join(' ')}: ls /root: ${r.stderr}`);
    assert.is(r.stdout, '');
  }
});

// bwrap: --as-pid-1 / pid 1 reaps: an orphan that exits must not stay a zombie.
test('pid 1 inside reaps orphans: no zombie is left', () => {
  const script = '(sh -c "exit 0" &); i=0; while [ $i -lt 100 ]; do z=$(grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null); [ -z "$z" ] && break; i=$((i+1)); sleep 0.05; done; echo "zombies: $z"';
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', script], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'zombies: \n');
});

// bwrap: --die-with-parent: when sbx dies, the command dies with it.
test('when sbx is killed the command does not live on', async () => {
  const mark = `${Date.now() % 100000}.${process.pid % 1000}`;
  const child = sbxAsync(['run', '-n', '-q', '--', 'sh', '-c', `echo ready; exec sleep ${mark}`], { store, stdio: ['ignore', 'pipe', 'pipe'] });
  const sleeping = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return readFileSync(`/proc/${p}/cmdline`, 'latin1') === `sleep\0${mark}\0`; } catch { return false; }
  });
  try {
    await new Promise<void>((res, rej) => {
      child.stdout!.on('data', (b: Buffer) => { if (b.toString().includes('ready')) res(); });
      child.on('exit', () => rej(new Error('sbx ended before the command was ready')));
    });
    // 'ready' is printed just before the shell execs sleep: wait for the exec.
    const seen = Date.now() + 20_000;
    while (!sleeping().length && Date.now() < seen) await new Promise((r) => setTimeout(r, 20));
    assert.ok(sleeping().length, 'the probe sees the command before the kill');
    const gone = new Promise((res) => child.on('exit', res));
    child.kill('SIGKILL');
    await gone;
    const until = Date.now() + 20_000;
    while (sleeping().length && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.equal(sleeping(), [], 'the command outlived sbx');
  } finally {
    // Never leave the probe behind: it holds the pipe that keeps this file alive.
    for (const p of sleeping()) try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ }
    child.stdout!.destroy();
    child.stderr!.destroy();
  }
});

// bwrap: "options like --dev-bind are defanged by --", "inadvisable executable name with --".
test('after --, an option-like word is the command, not an option', () => {
  const bin = caseDir('bin');
  writeFileSync(join(bin, '--inadvisable--'), '#!/bin/sh\necho hello\n');
  chmodSync(join(bin, '--inadvisable--'), 0o755);
  let r = sbx(['run', '-n', '-q', '--', '--inadvisable--'], { store, env: { PATH: `${bin}:${process.env.PATH}` } });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'hello\n');
  r = sbx(['run', '-n', '-q', '--', '--net', 'sh', '-c', 'echo should not have run'], { store });
  assert.is(r.code, 127, r.stderr);
  assert.is(r.stdout, '');
});

// try: the hidden-files and nested-mount cases (a dotfile is no different; a tree on its own
// mount is overlaid and committed like any other), and /tmp, which try overlays as sbx does.
test('dotfiles and /tmp are captured like any other path', () => {
  const d = caseDir('dots');
  const probe = join(tmpdirOf(), `peers-tmp-${process.pid}`);
  const rep = join(d, '..', `dots-${process.pid}.json`);
  const r = sbx(['run', '-n', '-q', '--report', rep, '--', 'sh', '-c', `touch '${d}/.hidden' '${probe}'`], { store });
  assert.is(r.code, 0, r.stderr);
  assert.not.ok(existsSync(probe), 'the /tmp write stayed inside');
  const paths = (JSON.parse(readFileSync(rep, 'utf8')).changes as { path: string }[]).map((c) => c.path).sort();
  assert.equal(paths, [`${d}/.hidden`, probe].sort());
});

testUnless(ROOT_CASE)('a change on a nested mount is committed to that mount', () => {
  const d = caseDir('nested');
  assert.is(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'sbx-peers', d]).status, 0, 'mount a nested tmpfs');
  try {
    writeFileSync(join(d, 'f'), 'old\n');
    keep(`echo new > '${d}/f' && touch '${d}/.hidden'`);
    assert.is(readFileSync(join(d, 'f'), 'utf8'), 'new\n');
    assert.equal(readdirSync(d).sort(), ['.hidden', 'f']);
  } finally {
    spawnSync('umount', [d]);
  }
});

// bwrap: "can bind a destination over a symlink", and the mount points it creates for a bind.
test('--bind onto a symlink lands on its target; a missing bind point is no change and leaves nothing behind', () => {
  const d = caseDir('binds');
  mkdirSync(join(d, 'src')); writeFileSync(join(d, 'src', 'x'), 's\n');
  mkdirSync(join(d, 'realdir'));
  symlinkSync('realdir', join(d, 'link'));
  writeFileSync(join(d, 'srcfile'), 'f\n');
  let r = sbx(['run', '--name', 'peers-binds', '-q', '--bind', `${d}/src:${d}/newmp`, '--ro-bind', `${d}/srcfile:${d}/newfile`, '--bind', `${d}/src:${d}/link`, '--',
    'sh', '-c', `cat '${d}/newmp/x' '${d}/realdir/x' '${d}/newfile'`], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 's\ns\nf\n');
  r = sbx(['diff', 'peers-binds'], { store });
  assert.match(r.stdout, 'no changes');
  sbx(['discard', 'peers-binds'], { store });
  assert.equal(readdirSync(d).sort(), ['link', 'realdir', 'src', 'srcfile']);
  assert.equal(readdirSync(join(d, 'realdir')), []);
  // A missing bind point below a linked dir: made where the link leads, and known there as
  // sbx's (until 2026-12-05 the change list named it `realdir/newmp/`, added, and a commit made it).
  const nothingMade = (name: string, flags: string[], command: string[], out: string): void => {
    const run = sbx(['run', '--name', name, '-q', ...flags, '--', ...command], { store });
    assert.is(run.code, 0, run.stderr);
    assert.is(run.stdout, out);
    assert.match(sbx(['diff', name], { store }).stdout, 'no changes');
    const c = sbx(['commit', name], { store });
    assert.is(c.code, 0, c.stderr);
    assert.equal(readdirSync(join(d, 'realdir')), [], 'nothing made on the host');
  };
  nothingMade('peers-binds2', ['--bind', `${d}/src:${d}/link/newmp`], ['sh', '-c', `cat '${d}/link/newmp/x'; test -L '${d}/link' && echo link`], 's\nlink\n');
  // ... and with missing dirs above it, made there too (until 2026-12-05 listed as `realdir/na/`, added).
  nothingMade('peers-binds3', ['--ro-bind', `${d}/src:${d}/link/na/nb/mp`], ['cat', `${d}/link/na/nb/mp/x`], 's\n');
});

test.run();
