// Issue 12: a faithful, writable copy of the whole host. New entries in `/` and in any
// directory that holds mount points are ordinary changes; mount points themselves stay busy.
// What commits into the host itself as root (packages into /usr and dpkg's database) is
// view-host-commit.test.ts, which runs with nothing beside it.
// sbx-test: host-mounts (its unprivileged run plans the view from the host's mounts: only beside other unprivileged runs).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CI, IS_ROOT, makeCanary, provenStore, removeCanary, runReport, SBX as SBX_PATH, sbx } from '../helpers/sbx.js';
import { buildDeb } from '../helpers/deb.js';
import { parseMountInfo, visibleMounts } from '../../sandbox-core/mountinfo.js';
import { planView } from '../../sandbox-core/plan.js';
import { ROOT_CASE, testUnless, USER_CASE } from '../helpers/skip.js';
import { makeUserStore, runAsUser, TEST_USER, userCopy, userHomeCanary, userId } from '../helpers/host-moves.js';

const temps: string[] = [];
const store = provenStore(temps);

const report = (args: string[], env?: NodeJS.ProcessEnv) => runReport(store, temps, args, env);

const tag = `sbx-view-${process.pid}`;

test('new entries directly in / are ordinary changes; the host is untouched', () => {
  const script = [
    `mkdir /${tag}-dir`, `echo hi > /${tag}-dir/f`, `touch /${tag}-file`, `ln -s nowhere /${tag}-link`,
    `touch /${tag}-tmp && mv /${tag}-tmp /${tag}-renamed`, `touch /${tag}-gone && rm /${tag}-gone`,
    `test -d /usr/bin`, `cat /${tag}-dir/f`,
  ].join(' && ');
  const { r, changes } = report(['--', 'sh', '-c', script]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'hi\n');
  assert.equal(changes, [
    `added /${tag}-dir`, `added /${tag}-dir/f`, `added /${tag}-file`, `added /${tag}-link`, `added /${tag}-renamed`,
  ]);
  for (const n of ['dir', 'file', 'link', 'renamed', 'gone']) assert.not.ok(existsSync(`/${tag}-${n}`));
});

test('a mount point cannot be removed inside (EBUSY, as on the host); /run takes new entries', () => {
  const { r, changes } = report(['--', 'sh', '-c', `rmdir /proc 2>&1; mkdir /run/${tag} && echo ok`]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /busy/i);
  assert.match(r.stdout, /ok\n$/);
  assert.equal(changes, [`added /run/${tag}`]);
  assert.not.ok(existsSync(`/run/${tag}`));
});

test('deleting a symlink in / is a deletion; new entries in / are root\'s inside', () => {
  const link = spawnSync('sh', ['-c', 'for f in /*; do [ -L "$f" ] && echo "$f" && break; done'], { encoding: 'utf8' }).stdout.trim();
  const script = `mkdir /${tag}-owned && stat -c %u:%g /${tag}-owned${link ? ` && rm ${link}` : ''}`;
  const { r, changes } = report(['--', 'sh', '-c', script]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '0:0\n');
  assert.ok(changes.includes(`added /${tag}-owned`), changes.join('\n'));
  if (link) assert.ok(changes.includes(`deleted ${link}`), changes.join('\n'));
  if (link) assert.ok(existsSync(link));
});

test('root inside gets the sbin dirs on its PATH (dpkg needs them); SBX_ROOT_PATH overrides', () => {
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', 'echo $PATH; command -v ldconfig || echo none'], { store, env: { PATH: '/usr/bin:/bin' } });
  assert.is(r.code, 0, r.stderr);
  const [path, ldconfig] = r.stdout.trim().split('\n');
  assert.is(path, '/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin');
  assert.match(ldconfig!, /sbin\/ldconfig$/);
  const o = sbx(['run', '-n', '-q', '--', '/bin/sh', '-c', 'echo $PATH'], { store, env: { PATH: '/usr/bin:/bin', SBX_ROOT_PATH: '/bin' } });
  assert.is(o.stdout, '/bin\n', o.stderr);
});


const debName = `sbx-view-${process.pid}`;
const deb = buildDeb(debName, temps, { 'sub/more.txt': 'more\n' });
if (!deb) assert.not.ok(CI, 'dpkg-deb or apt-get missing');
const USER_PATH = { PATH: '/usr/bin:/bin' };
const NO_DEB = 'dpkg-deb or apt-get missing';

testUnless(deb ? null : NO_DEB)('a local .deb installs with dpkg -i and with apt-get install ./x.deb from a user PATH', () => {
  for (const cmd of [['dpkg', '-i', deb!], ['apt-get', 'install', '-y', deb!]]) {
    const { r, changes } = report(['--', ...cmd], USER_PATH);
    assert.is(r.code, 0, `${cmd[0]}: ${r.stderr}${r.stdout}`);
    assert.ok(changes.includes(`added /usr/share/${debName}/hello.txt`), changes.join('\n'));
    assert.ok(changes.includes(`added /var/lib/dpkg/info/${debName}.list`), changes.join('\n'));
    assert.ok(changes.includes('modified /var/lib/dpkg/status'), changes.join('\n'));
    assert.not.ok(changes.some((c) => /^(replaced|deleted) /.test(c)), changes.join('\n'));
  }
  assert.not.ok(existsSync(`/usr/share/${debName}`));
});

/** The run's report: its changes' sensitive reasons by path. */
const reasons = (script: string): { r: ReturnType<typeof sbx>; why: Map<string, string | undefined> } => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-report-'));
  temps.push(dir);
  const r = sbx(['run', '-n', '--report', join(dir, 'r.json'), '--', 'sh', '-c', script], { store, env: USER_PATH });
  assert.is(r.code, 0, r.stderr);
  const changes = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')).changes as Array<{ path: string; sensitive?: string }>;
  return { r, why: new Map(changes.map((c) => [c.path, c.sensitive])) };
};

// dpkg deletes what a package's file list names at the package's next upgrade or removal: a
// host file appended to it is a deletion waiting for the next unattended-upgrade.
testUnless(deb ? null : NO_DEB)("a host file appended to a package's dpkg file list is marked; the install's own records are not", () => {
  const list = `/var/lib/dpkg/info/${debName}.list`;
  const plain = reasons(`apt-get install -y ${deb} >/dev/null 2>&1`);
  assert.ok(plain.why.has(list), plain.r.stderr);
  for (const p of [list, '/var/lib/dpkg/status', '/var/lib/apt/extended_states']) assert.is(plain.why.get(p), undefined, `${p}\n${plain.r.stderr}`);
  // Through /bin too: on a merged-/usr host dpkg's unlink follows that symlink.
  for (const host of ['/etc/passwd', '/bin/sh']) {
    const { r, why } = reasons(`dpkg -i ${deb} >/dev/null && echo ${host} >> ${list}`);
    assert.match(why.get(list) ?? '', /^dpkg's list of a package's files names a host file/, r.stderr);
    assert.match(r.stderr, new RegExp(`! added: +/var/lib/dpkg/info/${debName}\\.list \\[! dpkg's list`));
  }
  assert.not.ok(existsSync(list));
});

// A package with files under /lib lists `/lib`, which on a merged-/usr host is a symlink to
// usr/lib: dpkg keeps a symlink to a dir that other packages list (libc6's lists /lib), so the
// new record deletes nothing and is not marked.
const libDeb = buildDeb(`${debName}-lib`, temps, {}, { [`lib/${debName}-lib/x.conf`]: 'x\n' });
const MERGED = lstatSync('/lib').isSymbolicLink() ? null : '/lib is not a symlink here (no merged /usr)';
testUnless(libDeb ? MERGED : NO_DEB)("a new package's record naming the merged-/usr /lib is not marked", () => {
  const list = `/var/lib/dpkg/info/${debName}-lib.list`;
  const { r, why } = reasons(`dpkg -i ${libDeb} >/dev/null && grep -qx /lib ${list}`);
  assert.ok(why.has(list), r.stderr);
  assert.is(why.get(list), undefined, r.stderr);
});

// What a later apt run does with the host's own packages: `apt autoremove` removes one marked
// auto-installed, `apt upgrade` keeps a held one back. A package this host installed by hand
// (.ci/run installs fuse-overlayfs so).
testUnless(deb ? null : NO_DEB)("apt's auto mark and dpkg's hold on a package the host has are marked", () => {
  const q = (args: string[]) => spawnSync('apt-mark', args, { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  const pkg = q(['showmanual']).find((p) => /^[a-z0-9][a-z0-9.+-]*$/.test(p) && !q(['showhold']).includes(p));
  assert.ok(pkg, 'no package on this host is marked installed by hand and not held');
  const auto = reasons(`apt-mark auto ${pkg} >/dev/null`);
  assert.match(auto.why.get('/var/lib/apt/extended_states') ?? '', /^apt's auto-installed mark on a package the host has/, auto.r.stderr);
  const hold = reasons(`apt-mark hold ${pkg} >/dev/null`);
  assert.match(hold.why.get('/var/lib/dpkg/status') ?? '', /^dpkg's selection of a package the host has changed to hold/, hold.r.stderr);
  assert.ok(q(['showmanual']).includes(pkg!));
  assert.not.ok(q(['showhold']).includes(pkg!));
});

test('--ro-bind paths are named in one line before the command starts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-robind-'));
  temps.push(dir);
  const r = sbx(['run', '-n', '--ro-bind', `${dir}:/${tag}-ro`, '--', 'sh', '-c', `touch /${tag}-ro/x 2>/dev/null || echo refused`], { store });
  assert.is(r.stdout, 'refused\n', r.stderr);
  assert.match(r.stderr, new RegExp(`read-only inside \\(--ro-bind\\): /${tag}-ro\n`));
});

test('a --bind and a --ro-bind are nosuid and nodev inside: no setuid program or device node of the host works through them', () => {
  const dir = mkdtempSync(join(tmpdir(), `${tag}-nd-`));
  temps.push(dir);
  chmodSync(dir, 0o755);
  const r = sbx(['run', '-n', '-q', '--ro-bind', `${dir}:/${tag}-nd-ro`, '--bind', `${dir}:/${tag}-nd-rw`, '--ro-bind', `/dev:/${tag}-nd-dev`, '--', 'sh', '-c',
    `for m in /${tag}-nd-ro /${tag}-nd-rw /${tag}-nd-dev; do awk -v m="$m" '$5 == m { print m, $6 }' /proc/self/mountinfo; done; head -c1 /${tag}-nd-dev/zero >/dev/null 2>&1 && echo DEVICE-OPENED || echo device-refused`], { store });
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines.length, 4, r.stdout);
  for (const l of lines.slice(0, 3)) assert.ok(/\bnosuid\b/.test(l) && /\bnodev\b/.test(l), l);
  assert.is(lines[3], 'device-refused');
});

// Root's remapped view binds with an idmapped mount, which proc, sysfs and devtmpfs refuse:
// a read-only bind of one is made as it is (owners it cannot map shown as nobody), a writable
// one is refused before anything runs.
testUnless(ROOT_CASE)('root\'s bind of a filesystem without idmapped mounts: read-only bound as it is, writable refused', () => {
  const r = sbx(['run', '-n', '--ro-bind', `/proc:/${tag}-proc`, '--', 'sh', '-c', `stat -c '%U %F' /${tag}-proc/1/status; touch /${tag}-proc/x 2>/dev/null || echo refused`], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'nobody regular empty file\nrefused\n');
  const lines = r.stderr.split('\n');
  assert.is(lines.filter((l) => l === 'sbx: warning: --ro-bind /proc: its filesystem does not support idmapped mounts: its owners are shown as nobody inside').length, 1, r.stderr);
  assert.is(lines.filter((l) => l.startsWith('sbx: warning: read-only inside (--ro-bind)')).length, 1, r.stderr);
  const w = sbx(['run', '-n', '--bind', `/proc:/${tag}-procw`, '--', 'sh', '-c', 'echo RAN'], { store });
  assert.is(w.code, 125, w.stderr);
  assert.is(w.stdout, '');
  assert.match(w.stderr, 'sbx: error: --bind /proc: its filesystem does not support idmapped mounts, which root\'s sandbox needs to write there with the host\'s owners; nothing ran');
});

test('a --ro-bind destination sbx had to make is no change', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-robind-'));
  temps.push(dir);
  const { r, changes } = report(['--ro-bind', `${dir}:/${tag}-bp`, '--bind', `${dir}:/${tag}-bp2`, '--', 'true']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(changes, []);
});

test('a --bind destination with missing parents gets them, root\'s inside; they are a change only once the command puts something in them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-bind-'));
  temps.push(dir);
  const script = `stat -c %u:%a /${tag}-deep /${tag}-deep/a; echo in > /${tag}-deep/a/b/in; echo x > /${tag}-deep/x`;
  const { r, changes } = report(['--bind', `${dir}:/${tag}-deep/a/b`, '--bind', `${dir}:/${tag}-only/a/b`, '--', 'sh', '-c', script]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '0:755\n0:755\n');
  assert.is(readFileSync(join(dir, 'in'), 'utf8'), 'in\n', 'the bind is the host dir');
  // /…-deep holds x: it is the command's new dir. /…-deep/a and /…-only/… are sbx's.
  assert.equal(changes, [`added /${tag}-deep`, `added /${tag}-deep/x`]);
});

test('an EROFS caused by the view is explained after the run (pty; relayed stdio under sudo); other errors are not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-robind-'));
  temps.push(dir);
  chmodSync(dir, 0o755);
  const inner = `touch /${tag}-rx/f; echo "cat: '/${tag}-nothing': Permission denied" >&2; exit 3`;
  const args = ['run', '-n', '--ro-bind', `${dir}:/${tag}-rx`, '--', 'sh', '-c', inner];
  const want = new RegExp(`sbx: (warning: )?/${tag}-rx/f: Read-only file system because of sbx's view: read-only inside: /${tag}-rx is a --ro-bind`);
  const shq = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  // `script` gives sbx a terminal on stdin and stdout: the command runs on a pty of its own.
  const pty = spawnSync('script', ['-qec', [process.execPath, SBX_PATH, ...args].map(shq).join(' '), '/dev/null'], { encoding: 'utf8', env: { ...process.env, SBX_HOME: store, NO_COLOR: '1' }, input: '' });
  // On a terminal sbx wraps its own lines at 80 columns, next lines indented by two: unwrapped here.
  const shown = pty.stdout.replace(/\r?\n  /g, ' ');
  // What was printed goes in the message: uvu's match does not show it.
  assert.match(shown, want, `status ${pty.status}: ${pty.stdout}`);
  assert.not.match(shown, /nothing.*because of sbx/);
  assert.not.ok(existsSync(join(dir, 'f')));
  if (IS_ROOT) {
    // A pipe of host root's, which a remapped sandbox could not reopen: relayed, so seen. (Node
    // gives a child sockets, never relayed: hence the shell's pipe.)
    const r = spawnSync('sh', ['-c', `${[process.execPath, SBX_PATH, ...args].map(shq).join(' ')} 2>&1 | cat`], { encoding: 'utf8', env: { ...process.env, SBX_HOME: store, NO_COLOR: '1' }, input: '' });
    assert.match(r.stdout, want, `status ${r.status}: ${r.stdout}`);
    assert.is(r.stdout.split('\n').filter((l) => l.includes("because of sbx's view")).length, 1, r.stdout);
  }
});

// Root lays out the test user's files (a group the user could not give them), then runs sbx as
// that user through a shell's pipe: Node gives a child sockets, which are passed on, not relayed.
testUnless(ROOT_CASE ?? (userCopy ? null : "no copy of the build for the test user"), { missing: IS_ROOT })("unprivileged: a file of the user's in a group the sandbox does not map cannot be changed in place (EOVERFLOW), and sbx says why; sed -i beside it works", () => {
  const canary = userHomeCanary();
  const userStore = makeUserStore();
  try {
    const f = join(canary, 'f'), shared = join(canary, 'shared');
    writeFileSync(f, 'hi\n');
    mkdirSync(shared);
    chownSync(f, userId(), 100);
    chownSync(shared, userId(), 100);
    const shq = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
    const inner = [process.execPath, join(userCopy!, 'dist', 'bin', 'sbx.js'), 'run', '-n', '--', 'sh', '-c', `chmod 600 ${f}; touch ${shared}/new; sed -i s/hi/ho/ ${f}; cat ${f}`].map(shq).join(' ');
    const r = spawnSync('setpriv', ['--reuid', TEST_USER, '--regid', TEST_USER, '--init-groups', 'sh', '-c', `${inner} 2>&1 | cat`],
      { encoding: 'utf8', input: '', cwd: '/', timeout: 60_000, env: { ...process.env, HOME: `/home/${TEST_USER}`, SBX_HOME: userStore, NO_COLOR: '1' } });
    assert.is(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, `sbx: warning: ${f}: Value too large for defined data type because of sbx's view: ${f} has group gid 100 on the host, which your sandbox does not map`, r.stdout);
    assert.match(r.stdout, `${shared} has group gid 100 on the host, which your sandbox does not map (newgidmap maps your own group and your subordinate range only), so inside nothing can be made or changed in it`, r.stdout);
    assert.match(r.stdout, /^ho$/m, 'sed -i writes a new file in a dir of the user\'s group');
    assert.is(readFileSync(f, 'utf8'), 'hi\n', 'the host is untouched');
  } finally {
    rmSync(canary, { recursive: true, force: true });
    rmSync(userStore, { recursive: true, force: true });
  }
});

// A directory holding a mount: an ordinary user uses a directory of the host that already holds
// one (as root, view-host-commit.test.ts mounts a tmpfs of its own).
function skeletonDirOfHost(): string | null {
  const units = planView(visibleMounts(parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))));
  const s = units.find((u) => u.kind === 'skeleton' && u.path !== '/' && !/^\/(proc|sys|dev)(\/|$)/.test(u.path));
  return s ? s.path : null;
}

// The top-level dirs are layer roots, shown with the upper's owner (the user's): their owner
// bits are the user's bits on the host (sandbox.ts userViewBits), so /etc and /usr refuse a new
// entry as outside. The canary is in the user's home: its write copies /home/USER up into
// /home's upper root, which is r-x for the user. A dir in a top-level one that the host lets
// anyone write (/var/tmp, 1777) takes a new file as outside (EOVERFLOW before s80: its copy-up
// as root, whom the namespace does not map), with no change of its own.
testUnless(USER_CASE)('unprivileged --user: the command keeps your uid; root\'s files and top-level dirs are as unwritable as on the host, yours are writable', () => {
  const canary = makeCanary();
  try {
    const script = `id -u; test -w /etc || echo etc-read-only; touch /etc/${tag} 2>/dev/null || echo refused; mkdir /usr/${tag} 2>/dev/null || echo refused; `
      + `touch ${canary}/new; echo hi > /tmp/${tag}-u; touch /usr/local/${tag}-u 2>/dev/null || echo refused; chmod 700 /etc; echo v > /var/tmp/${tag}-v`;
    const { r, changes } = report(['--user', '--', 'sh', '-c', script]);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, `${process.getuid!()}\netc-read-only\nrefused\nrefused\nrefused\n`);
    // A chmod of a root the command could make (it owns the upper) is its change.
    assert.equal(changes, [`added ${canary}/new`, `added /tmp/${tag}-u`, `added /var/tmp/${tag}-v`, 'metadata /etc'].sort());
    assert.not.match(r.stderr, /warning/, 'every root is readable to the review');
    assert.not.match(r.stderr, /fuse-overlayfs/, 'no engine warning: this is the host\'s own rule');
  } finally {
    removeCanary(canary);
  }
});
// A team's dir (root's, 2775 with the user's group) and a working dir in it that a teammate
// owns: the host lets the user make files in both; with --user their copy-up needs their
// owners, whom the namespace does not map (EOVERFLOW before s81), so each is an overlay of its own.
testUnless(ROOT_CASE ?? (userCopy ? null : 'no copy of the build for the test user'), { missing: IS_ROOT })("unprivileged --user: a dir the host lets the user write through its group, and such a working dir below it, take new files as outside", () => {
  const top = `/${tag}-team`, proj = `${top}/proj`, src = `${proj}/src`;
  const userStore = makeUserStore();
  try {
    mkdirSync(src, { recursive: true });
    chownSync(proj, 0, userId());
    chownSync(src, 4242, userId());
    for (const d of [proj, src]) chmodSync(d, 0o2775);
    const r = runAsUser(userStore, ['run', '-n', '--user', '--', 'sh', '-c', `touch ${proj}/a && touch ${src}/b && touch ./c && echo made; touch ${top}/d 2>/dev/null || echo refused`], {}, src);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'made\nrefused\n', r.stderr);
    for (const f of [`${proj}/a`, `${src}/b`, `${src}/c`]) assert.match(r.stderr, `added:    ${f}`, r.stderr);
    assert.equal(readdirSync(proj), ['src']);
    assert.equal(readdirSync(src), []);
  } finally {
    rmSync(top, { recursive: true, force: true });
    rmSync(userStore, { recursive: true, force: true });
  }
});
testUnless(USER_CASE)('unprivileged --user: the mode sbx gave the top-level dirs is no change, in the run\'s review and in a later diff', () => {
  const name = `user-view-${process.pid}`;
  const r = sbx(['run', '--user', '--name', name, '--', 'true'], { store });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /no changes/);
  const d = sbx(['diff', name], { store });
  assert.is(d.code, 0, d.stderr);
  assert.match(d.stdout + d.stderr, /no changes/);
  assert.is(sbx(['discard', name], { store }).code, 0);
});
// /proc, /sys and /dev are sbx's own mounts over the layers: a --hide below them was a
// whiteout in root's `/` layer, which hid nothing (`--hide /proc/cpuinfo` readable, 2026-12-05).
test('--hide of a path below /proc, /sys or /dev hides it; of /proc, /sys or /dev itself is refused', () => {
  const r = sbx(['run', '-n', '-q', '--hide', '/proc/cpuinfo', '--hide', '/proc/sys/kernel', '--hide', '/sys/kernel', '--', 'sh', '-c',
    'cat /proc/cpuinfo; ls /proc/sys/kernel /sys/kernel 2>/dev/null; cat /proc/sys/kernel/hostname 2>/dev/null; echo end'], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.replace(/^\/(proc\/sys|sys)\/kernel:\n\n?/gm, ''), 'end\n', r.stdout);
  for (const p of ['/proc', '/sys/', '/dev']) {
    const x = sbx(['run', '-n', '-q', '--hide', p, '--', 'true'], { store });
    assert.is(x.code, 125, x.stderr);
    assert.match(x.stderr, `--hide ${p.replace(/\/$/, '')}: the sandbox has a ${p.replace(/\/$/, '')} of its own`);
  }
});

// Root's view is planned whole: a host mount is an overlay of its own, planned below `/`'s layer.
// A --hide of the mount point, or of a dir holding one, whited it out there before the mount
// was made, and the run failed (step overlay-fallback, ENOENT); it is covered once mounted.
testUnless(ROOT_CASE)('root: --hide of a mount point (a dir or a bound file), or of a dir holding one, hides it and the run goes on', () => {
  const canary = makeCanary();
  const mp = join(canary, 'holder', 'mp');
  mkdirSync(mp, { recursive: true });
  assert.is(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'sbx-view-hide', mp]).status, 0, 'mount a tmpfs in the canary');
  try {
    writeFileSync(join(mp, 'secret'), 's\n');
    for (const h of [join(canary, 'holder'), mp]) {
      const r = sbx(['run', '-n', '-q', '--hide', h, '--', 'sh', '-c', `cat '${mp}/secret' 2>/dev/null; ls '${canary}'`], { store });
      assert.is(r.code, 0, `--hide ${h}: ${r.stderr}`);
      assert.is(r.stdout, 'holder\nkeep.txt\n', `--hide ${h}`);
    }
    assert.is(readFileSync(join(mp, 'secret'), 'utf8'), 's\n');
    // A file mount point (a bound file, as a container's /etc/resolv.conf): its mount was made
    // over the whiteout and showed the host file.
    writeFileSync(join(canary, 'src'), 'bound secret\n');
    writeFileSync(join(canary, 'target'), 'under\n');
    assert.is(spawnSync('mount', ['--bind', join(canary, 'src'), join(canary, 'target')]).status, 0, 'bind a file in the canary');
    try {
      const r = sbx(['run', '-n', '-q', '--hide', join(canary, 'target'), '--', 'sh', '-c', `cat '${canary}/target'`], { store });
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout, '');
    } finally {
      spawnSync('umount', [join(canary, 'target')]);
    }
  } finally {
    spawnSync('umount', [mp]);
    removeCanary(canary);
  }
});

// A top-level tree the user may not even search (/root, 0700 on Debian): shown as an empty
// stand-in, writable by root inside, as the unreadable dirs inside system trees are. An overlay
// over the host's dir looked up every name there as the user: `mkdir /root/.cache` failed
// (EACCES), and a commit of such a dir's new entries stopped with "internal error: EACCES".
const unsearchable = ['/root', '/lost+found'].find((d) => { try { accessSync(d, constants.X_OK); return false; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EACCES'; } });
testUnless(USER_CASE ?? (unsearchable ? null : 'neither /root nor /lost+found is closed to this user here'))('unprivileged: a top-level dir the user cannot search is shown empty and writable; its new entries are listed, and their commit is refused as denied', () => {
  const name = `unsearch-${process.pid}`;
  const d = unsearchable!;
  const r = sbx(['run', '-q', '--name', name, '--', 'sh', '-c', `ls -A ${d}; mkdir -p ${d}/${tag}/sub && echo a > ${d}/${tag}/sub/f && ls -A ${d}`], { store });
  try {
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, `${tag}\n`, 'empty, then holding what the command made');
    const diff = sbx(['diff', name, '--name-only'], { store });
    assert.is(diff.code, 0, diff.stderr);
    assert.is(diff.stderr, '');
    assert.is(diff.stdout, `${d}/${tag}\n${d}/${tag}/sub\n${d}/${tag}/sub/f\n`);
    const c = sbx(['commit', name], { store });
    assert.is(c.code, 1, c.stderr);
    assert.match(c.stderr, `${d}/${tag}: a host dir on its way is not searchable by you (EACCES)`);
    assert.not.match(c.stderr, /internal error/);
    assert.match(sbx(['ls'], { store }).stdout, name, 'kept');
  } finally {
    sbx(['discard', name], { store });
  }
  // A run that leaves it alone changed nothing.
  const q = sbx(['run', '-n', '--', 'ls', '-A', d], { store });
  assert.is(q.code, 0, q.stderr);
  assert.is(q.stdout, '');
  assert.match(q.stderr, /no changes/);
});
const dir = skeletonDirOfHost();
testUnless(USER_CASE ?? (dir ? null : 'no directory of the host holds a mount outside /proc, /sys, /dev'), { missing: USER_CASE === null })('unprivileged: new entries in a directory of the host that holds a mount', () => {
  const { r, changes } = report(['--', 'sh', '-c', `mkdir ${dir}/${tag} && touch ${dir}/${tag}-f`]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(changes, [`added ${dir}/${tag}`, `added ${dir}/${tag}-f`]);
  assert.not.ok(existsSync(`${dir}/${tag}`));
});

// A new sandbox's layer dirs and stand-in tree are made by the helper from entry ops (native/
// entries.c); a --disk run has sbx make them itself. Both must be the same tree: types, modes,
// owners, symlink targets, and the host's times where the host has not changed since.
function sameLayerDirs(flags: string[]): void {
  const since = Date.now() - 1;
  // Per entry: what must match, and its time, compared where the host's entry is unchanged.
  type Entry = { kind: string; time: string | null; host: string | null; link: string };
  const made = (args: string[]): Map<string, Entry> => {
    const before = new Set(readdirSync(store));
    // Named: a run that changed nothing is otherwise not kept.
    const r = sbx(['run', '-q', '--name', `layers-${before.size}`, ...flags, ...args, '--', 'true'], { store });
    assert.is(r.code, 0, r.stderr);
    const id = readdirSync(store).find((n) => !before.has(n) && /^[0-9a-f]{8}$/.test(n));
    assert.ok(id, 'the sandbox is kept');
    const dir = join(store, id!);
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { layers: Array<{ dir: string; target: string }> };
    const out = new Map<string, Entry>();
    const host = (rel: string): string | null => {
      if (rel === 'skel') return '/';
      if (rel.startsWith('skel/')) return rel.slice(4);
      const l = meta.layers.find((x) => rel === `${x.dir}/upper`);
      return l ? l.target : null;
    };
    const look = (rel: string, key = rel): void => {
      const st = lstatSync(join(dir, rel));
      // An upper sbx put entries into (a fuse layer's dirs shown empty) has the time of that.
      const filled = rel.endsWith('/upper') && readdirSync(join(dir, rel)).length > 0;
      out.set(key, {
        kind: `${st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'f'} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`,
        time: st.isSymbolicLink() || filled ? null : ` ${Math.floor(st.mtimeMs * 1000)}`,
        host: host(rel),
        link: st.isSymbolicLink() ? ` -> ${readlinkSync(join(dir, rel))}` : '',
      });
      if (rel === 'skel' || (rel.startsWith('skel/') && st.isDirectory())) for (const n of readdirSync(join(dir, rel))) look(`${rel}/${n}`);
    };
    // Keyed by target, not by the layer's number: another mount on the host between the two
    // runs numbers them differently.
    for (const l of meta.layers) for (const part of ['', '/work', '/upper']) look(`${l.dir}${part}`, `layer ${l.target}${part}`);
    look('root');
    // Only a view with skeleton dirs has stand-ins (root's is planned whole: none).
    if (existsSync(join(dir, 'skel'))) look('skel');
    return out;
  };
  // --disk makes sbx make them (the helper then copies them onto its tmpfs and back).
  const bySbx = made(['--disk', '64M']);
  const byHelper = made([]);
  // Compared where both runs planned the same entry (the host may mount or add something in
  // between: this machine runs other tests beside this one), which must be nearly all.
  const common = [...byHelper.keys()].filter((k) => bySbx.has(k));
  assert.ok(byHelper.size > 5 && common.length >= 0.9 * Math.max(byHelper.size, bySbx.size), `${common.length} of ${byHelper.size} and ${bySbx.size} entries in common`);
  // The host's times are compared where the host's entry has not changed since the first run
  // began, asked once after both runs: asked after each, a host /tmp written between the two
  // (other tests' temp dirs) showed its time on one side only.
  const unchanged = new Map<string, boolean>();
  const hostUnchanged = (h: string): boolean => {
    let u = unchanged.get(h);
    if (u === undefined) {
      try { const hs = lstatSync(h); u = Math.max(hs.mtimeMs, hs.ctimeMs) < since; } catch { u = false; /* gone: no time to compare */ }
      unchanged.set(h, u);
    }
    return u;
  };
  const shown = (e: Entry): string => `${e.kind}${e.time !== null && e.host !== null && hostUnchanged(e.host) ? e.time : ''}${e.link}`;
  assert.equal(Object.fromEntries(common.map((k) => [k, shown(byHelper.get(k)!)])), Object.fromEntries(common.map((k) => [k, shown(bySbx.get(k)!)])));
  // --user: root's /etc (0755) is r-x for the user in both (sandbox.ts userViewBits).
  if (flags.includes('--user')) assert.match(byHelper.get('layer /etc/upper')?.kind ?? '', /^d 555 /);
}
test('the layer dirs and stand-ins the helper makes are the ones sbx makes itself', () => sameLayerDirs([]));
testUnless(USER_CASE)('unprivileged --user: the layer dirs the helper makes are the ones sbx makes itself, /etc\'s upper r-x', () => sameLayerDirs(['--user']));

// Root plans each mount as one overlay (plan.ts `whole`): /etc, /usr and /var of one host
// filesystem are one layer, so a rename or hard link between them works as on the host.
const separateTrees = visibleMounts(parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))).filter((m) => ['/etc', '/usr', '/var'].includes(m.mountPoint)).map((m) => m.mountPoint);
testUnless(ROOT_CASE ?? (separateTrees.length ? `${separateTrees.join(', ')} is a mount of its own here` : null))('as root, a rename and a hard link between top-level dirs of one filesystem work (no EXDEV), reviewed at their new paths', () => {
  const script = `echo hi > /etc/${tag} && mv /etc/${tag} /usr/${tag} && ln /usr/${tag} /var/${tag}-link && cat /var/${tag}-link`;
  const { r, changes } = report(['--', 'sh', '-c', script]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'hi\n');
  assert.equal(changes, [`added /usr/${tag}`, `added /var/${tag}-link`]);
  for (const p of [`/etc/${tag}`, `/usr/${tag}`, `/var/${tag}-link`]) assert.not.ok(existsSync(p), `${p} reached the host`);
});

test.run();
