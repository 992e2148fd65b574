// Issue 7: root's view without root (fuse-overlayfs for system trees), and no real root
// under sudo (an unprivileged uid range with idmapped lower layers).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { IS_ROOT, SBX, makeCanary, makeStore, proveIsolation, removeCanary, runReport, sbx, sbxAsync, removeStore } from '../helpers/sbx.js';
import { which } from '../../sandbox-core/which.js';
import { fuseProblem } from '../../sandbox-core/engines.js';
import { getXattrs } from '../../sandbox-core/changes/xattr.js';
import { ROOT_CASE, USER_CASE, testUnless } from '../helpers/skip.js';
import { CANARY } from '../helpers/canary-name.js';

const NO_DPKG_DEB = which('dpkg-deb') ? null : 'dpkg-deb missing';
/** As an ordinary user: why the fuse-overlayfs path is not available here, or null. */
const FUSE_PROBLEM = IS_ROOT ? null : fuseProblem(which);

const store = makeStore();
const temps: string[] = [];
test.after(() => {
  removeStore(store);
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

const report = (args: string[], env?: NodeJS.ProcessEnv) => runReport(store, temps, args, env);

const SYSTEM_SCRIPT = 'echo x > /usr/local/bin/sbx-rootview-t && rm /usr/bin/true && mkdir -p /etc/sbx-test && echo y >> /etc/hostname';

function dpkgInstall(): void {
    const dir = mkdtempSync(join(tmpdir(), 'sbx-deb-'));
    temps.push(dir);
    chmodSync(dir, 0o755);
    const pkg = join(dir, 'pkg');
    mkdirSync(join(pkg, 'DEBIAN'), { recursive: true });
    mkdirSync(join(pkg, 'usr', 'share', 'sbx-deb-test'), { recursive: true });
    writeFileSync(join(pkg, 'DEBIAN', 'control'), 'Package: sbx-deb-test\nVersion: 1.0\nArchitecture: all\nMaintainer: sbx tests <sbx@localhost>\nDescription: a package made by the sbx tests\n');
    writeFileSync(join(pkg, 'usr', 'share', 'sbx-deb-test', 'hello.txt'), 'hello from a package\n');
    const build = spawnSync('dpkg-deb', ['--root-owner-group', '--build', pkg, join(dir, 'sbx-deb-test.deb')], { encoding: 'utf8' });
    assert.is(build.status, 0, build.stderr);
    // dpkg wants root's PATH (ldconfig, start-stop-daemon live in sbin).
    const { r, changes } = report(['--', 'dpkg', '-i', join(dir, 'sbx-deb-test.deb')], { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' });
    assert.is(r.code, 0, r.stderr + r.stdout);
    assert.ok(changes.includes('added /usr/share/sbx-deb-test/hello.txt'), changes.join('\n'));
    assert.ok(changes.some((c) => c.startsWith('added /var/lib/dpkg/info/sbx-deb-test.')), changes.join('\n'));
    assert.ok(changes.includes('modified /var/lib/dpkg/status'), changes.join('\n'));
    assert.not.ok(existsSync('/usr/share/sbx-deb-test'));
  }

testUnless(USER_CASE ?? (FUSE_PROBLEM && `fuse-overlayfs path not available: ${FUSE_PROBLEM}`), { missing: !IS_ROOT })('unprivileged: system paths are writable inside through fuse-overlayfs, exactly four changes, host untouched', () => {
  const canary = makeCanary();
  try { proveIsolation(canary, store); } finally { removeCanary(canary); }
  const hostHostname = readFileSync('/etc/hostname', 'utf8');
  const { r, changes } = report(['--', 'sh', '-c', SYSTEM_SCRIPT]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(changes, [
    'added /etc/sbx-test',
    'added /usr/local/bin/sbx-rootview-t',
    'deleted /usr/bin/true',
    'modified /etc/hostname',
  ]);
  assert.ok(existsSync('/usr/bin/true'));
  assert.not.ok(existsSync('/usr/local/bin/sbx-rootview-t'));
  assert.not.ok(existsSync('/etc/sbx-test'));
  assert.is(readFileSync('/etc/hostname', 'utf8'), hostHostname);
});

testUnless(USER_CASE ?? (FUSE_PROBLEM && `fuse-overlayfs path not available: ${FUSE_PROBLEM}`), { missing: !IS_ROOT })('unprivileged: a fuse tree\'s host dirs count no links (static_nlink: O(1) stats), and find still walks every subdir', () => {
  // The host's /usr/share has subdirs (a link count above 2); read through the daemon it has
  // 1. What the command makes is in the kernel overlay's upper, counted as usual.
  assert.ok(statSync('/usr/share').nlink > 2);
  const d = '/usr/local/share/sbx-nlink-t';
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', `stat -c %h /usr/share && mkdir -p ${d}/a/b ${d}/c && touch ${d}/a/b/f && find ${d} | sort && find /usr/share -maxdepth 1 -type d | wc -l`], { store });
  assert.is(r.code, 0, r.stderr);
  const hostDirs = readdirSync('/usr/share', { withFileTypes: true }).filter((e) => e.isDirectory()).length + 1;
  assert.is(r.stdout, `1\n${d}\n${d}/a\n${d}/a/b\n${d}/a/b/f\n${d}/c\n${hostDirs}\n`);
  assert.not.ok(existsSync(d));
});

/** The `-o` option lists of the fuse-overlayfs daemons among the descendants of `pid`. */
function daemonOptions(pid: number): string[] {
  const out: string[] = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    let args: string[] = [];
    try { args = readFileSync(`/proc/${p}/cmdline`, 'latin1').split('\0'); } catch { continue; }
    if (args[0] === 'fuse-overlayfs') out.push(args[args.indexOf('-o') + 1] ?? '');
    try {
      for (const t of readdirSync(`/proc/${p}/task`)) stack.push(...readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
    } catch { /* ended meanwhile */ }
  }
  return out;
}

/** Runs `sbx ARGS -- a command that waits for stdin`, and returns its daemons' options while it waits. */
async function daemonOptionsOf(args: string[]): Promise<string[]> {
  const child = sbxAsync([...args, '--', 'sh', '-c', 'echo ready; read x'], { store, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const ended = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
    void ended.then(() => reject(new Error(`sbx ended before its command was ready: ${stderr}`)));
  });
  const opts = daemonOptions(child.pid!);
  child.stdin!.end('\n');
  assert.is(await ended, 0, stderr);
  return opts;
}

testUnless(USER_CASE ?? (FUSE_PROBLEM && `fuse-overlayfs path not available: ${FUSE_PROBLEM}`), { missing: !IS_ROOT })('unprivileged: fuse layers skip fsync (volatile, as the kernel overlays), a throwaway run\'s and a saved one\'s (synced once when the command ended)', async () => {
  for (const mode of [['run', '-n', '-q'], ['run', '-q']]) {
    const opts = await daemonOptionsOf(mode);
    assert.ok(opts.length > 0, 'no fuse-overlayfs daemon found');
    for (const o of opts) assert.ok(o.split(',').includes('volatile'), o);
  }
});

testUnless(USER_CASE ?? (FUSE_PROBLEM && `fuse-overlayfs path not available: ${FUSE_PROBLEM}`), { missing: !IS_ROOT })('unprivileged: `/` is one kernel overlay over one read-only fuse-overlayfs daemon (its lower `/`); the system trees are no mounts of their own inside', async () => {
  const opts = await daemonOptionsOf(['run', '-n', '-q']);
  assert.ok(opts.length > 0, 'no fuse-overlayfs daemon found');
  assert.equal([...new Set(opts.map((o) => /(?:^|,)lowerdir=([^,]*)/.exec(o)?.[1]))], ['/'], opts.join('\n'));
  // No upper: the daemon is read-only, every write goes to the kernel overlay above it.
  assert.ok(opts.every((o) => !/(?:^|,)upperdir=/.test(o)), opts.join('\n'));
  // One daemon, whatever filesystems the host's trees lie on (each tree's overlay keeps them apart).
  assert.is(opts.length, 1, opts.join('\n'));
  // Inside, `/` is one kernel overlay and the system trees are in it (but a host mount, which
  // is one of its own, as on the host): a file renamed or linked between them is no EXDEV (a
  // dir from the host still is: no redirect_dir).
  const trees = ['/', '/usr', '/etc', '/var', '/tmp', '/opt'];
  const hostMounts = new Set(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]));
  const inRoot = ['/tmp', '/opt', '/var', '/usr'].filter((t) => !hostMounts.has(t) && existsSync(t));
  assert.ok(inRoot.length >= 2, `this host mounts ${['/tmp', '/opt', '/var', '/usr'].filter((t) => hostMounts.has(t)).join(', ')} on their own: no two trees to move between`);
  const [a, b, c = b, d = a] = inRoot as [string, string, string?, string?];
  const script = `awk '${trees.map((t) => `$5=="${t}"`).join('||')} {for (i = 7; i < NF; i++) if ($i == "-") { print $5, $(i + 1); break }}' /proc/self/mountinfo | sort`
    + ` && touch ${a}/sbx-x && mv ${a}/sbx-x ${b}/sbx-x && ln ${b}/sbx-x ${c}/sbx-y`
    + ` && python3 -c "import os; os.rename('${c}/sbx-y', '${d}/sbx-z')" && echo moved`;
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', script], { store });
  assert.is(r.code, 0, r.stderr);
  const own = trees.filter((t) => t === '/' || hostMounts.has(t)).sort();
  assert.is(r.stdout, `${own.map((t) => `${t} overlay`).join('\n')}\nmoved\n`, r.stderr);
});

testUnless(USER_CASE ?? (FUSE_PROBLEM ? 'fuse-overlayfs path not available' : NO_DPKG_DEB), { missing: !IS_ROOT })('unprivileged: dpkg -i of a local .deb installs inside (empty root-only lock files pre-copied)', () => {
  dpkgInstall();
});

// apt's 0700 partial dirs (Debian) are the usual unreadable dirs shown empty.
const APT_PARTIAL = '/var/cache/apt/archives/partial';
const noUnreadable = (() => { try { readdirSync(APT_PARTIAL); return `${APT_PARTIAL} is readable here`; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EACCES' ? null : `no ${APT_PARTIAL}`; } })();
testUnless(USER_CASE ?? FUSE_PROBLEM ?? noUnreadable)('unprivileged: the dirs shown empty are named on the first run, not on every run', () => {
  const own = mkdtempSync(join(tmpdir(), 'sbx-said-'));
  temps.push(own);
  const first = sbx(['run', '-n', '--', 'true'], { store: own });
  assert.is(first.code, 0, first.stderr);
  assert.match(first.stderr, /shown empty inside/);
  const second = sbx(['run', '-n', '--', 'true'], { store: own });
  assert.is(second.code, 0, second.stderr);
  assert.not.match(second.stderr, /shown empty inside/);
});

testUnless(USER_CASE ?? (FUSE_PROBLEM && `fuse-overlayfs path not available: ${FUSE_PROBLEM}`), { missing: !IS_ROOT })('unprivileged: a fuse-overlayfs that fails is named with its own words, not as a later mount\'s ENOTCONN (its daemons start side by side)', () => {
  // A stand-in found first on PATH that refuses to serve: the helper starts every daemon
  // before it waits for any, and mounts below a tree served by one (the home dir below /home)
  // would meet the dead connection first.
  const dir = mkdtempSync(join(tmpdir(), 'sbx-badfuse-'));
  temps.push(dir);
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'fuse-overlayfs'), '#!/bin/sh\necho "sbx-test: this fuse-overlayfs refuses" >&2\nexit 1\n', { mode: 0o755 });
  const r = sbx(['run', '-n', '-q', '--', 'true'], { store, env: { PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}` } });
  assert.is(r.code, 125, r.stderr);
  assert.match(r.stderr, /step 'fuse-overlayfs'/);
  assert.match(r.stderr, /sbx-test: this fuse-overlayfs refuses/);
  assert.not.match(r.stderr, /ENOTCONN/);
});

// A new sandbox's run has the helper make the empty copies of the lock and account files and
// the dirs shown empty (entry ops, like its layer dirs; it reports each copy's inode and ctime
// for the review); a --disk run has sbx make them itself. The view must be the same either way.
testUnless(USER_CASE ?? (FUSE_PROBLEM && `fuse-overlayfs path not available: ${FUSE_PROBLEM}`), { missing: !IS_ROOT })('unprivileged: the helper makes the copies shown empty, the same view as sbx makes them', () => {
  // A reviewed run: the review knows each copy by what the helper reported of it, so an
  // unwritten copy is no change.
  const { r: spec, changes } = report(['--', 'true'], { SBX_DEBUG_SPEC: '1' });
  assert.is(spec.code, 0, spec.stderr);
  assert.equal(changes, []);
  const str = (q: string): string => JSON.parse(q) as string;
  // Layer dir -> the host tree its fuse-overlayfs serves.
  const targets = new Map<string, string>();
  for (const m of spec.stderr.matchAll(/^fuse_overlay "[^"]*" "[^"]*" ("[^"]*") ("[^"]*")/gm)) targets.set(str(m[2]!).split('/').slice(-2, -1)[0]!, str(m[1]!));
  // A shared daemon serves `/`: its upper holds each tree at the tree's own path.
  for (const m of spec.stderr.matchAll(/^fuse_shared "[^"]*" "[^"]*" "[^"]*" ("[^"]*") ("[^"]+")/gm)) targets.set(str(m[2]!).split('/').slice(-2, -1)[0]!, str(m[1]!));
  // A tree read through a read-only daemon is a kernel overlay with a layer of its own.
  for (const m of spec.stderr.matchAll(/^fuse_lower ("[^"]*") "[^"]*" "[^"]*" ("[^"]*")/gm)) targets.set(str(m[2]!).split('/').slice(-2, -1)[0]!, str(m[1]!));
  const host = (rel: string): string => {
    const [dir, upper, ...rest] = rel.split('/');
    assert.is(upper, 'upper', rel);
    return [targets.get(dir!) ?? assert.unreachable(`${rel}: no fuse layer`), ...rest].join('/').replace(/^\/\//, '/');
  };
  const files: string[] = [], shown: string[] = [];
  for (const m of spec.stderr.matchAll(/^entry "file" ("L\d+\/upper\/[^"]*")(.*)$/gm)) {
    const rel = str(m[1]!);
    if (rel.endsWith('/.wh..wh..opq')) shown.push(host(rel.slice(0, -'/.wh..wh..opq'.length)));
    else {
      assert.match(m[2]!, / "report"$/);
      files.push(host(rel));
    }
  }
  // Kernel overlayfs's opaque mark is an xattr of the dir itself.
  for (const m of spec.stderr.matchAll(/^entry "dir" ("L\d+\/upper\/[^"]*").* "opaque"$/gm)) shown.push(host(str(m[1]!)));
  // The account files are root's and unreadable to an ordinary user on any Debian-like host.
  assert.ok(files.includes('/etc/shadow'), `copies the helper makes: ${files.join(' ')}`);
  // Mode, owner, size and the host's mtime of each copy; mode, owner, atime and what it lists of
  // each dir shown empty (a fuse layer's mtime is that of the whiteout made in it).
  const script = `for f in ${files.join(' ')}; do stat -c '%n %F %a %u %s %Y' "$f"; done; for d in ${shown.join(' ')}; do stat -c '%n %F %a %u %X' "$d"; ls -A "$d"; done`;
  const byHelper = sbx(['run', '-n', '-q', '--', 'sh', '-c', script], { store });
  const bySbx = sbx(['run', '-n', '-q', '--disk', '64M', '--', 'sh', '-c', script], { store });
  assert.is(byHelper.code, 0, byHelper.stderr);
  assert.is(bySbx.code, 0, bySbx.stderr);
  assert.is(byHelper.stdout, bySbx.stdout);
  assert.ok(byHelper.stdout.includes('/etc/shadow regular empty file 640 0 0 '), byHelper.stdout);
  // Through fuse-overlayfs such a dir lists empty with or without a mark: the mark sbx sets
  // itself (kernel overlayfs's xattr) is looked for in the layer of a kept sandbox.
  const kept = sbx(['run', '-q', '--name', 'marks', '--disk', '64M', '--', 'touch', '/opt/sbx-rootview-marks'], { store, env: { SBX_DEBUG_SPEC: '1' } });
  assert.is(kept.code, 0, kept.stderr);
  try {
    // The spec names the layers as --disk's tmpfs holds them during the run: read where they
    // are copied back to, the sandbox's own dir.
    const uppers = [...kept.stderr.matchAll(/^fuse_lower ("[^"]*") "[^"]*" "[^"]*" ("[^"]*")/gm)].map((m) => [str(m[1]!), str(m[2]!).replace(/\/disk\/(L\d+\/upper)$/, '/$1')] as const);
    for (const d of shown) {
      const [tree, upper] = uppers.filter(([t]) => d.startsWith(`${t}/`)).sort((a, b) => b[0].length - a[0].length)[0] ?? [];
      if (!tree || !upper) continue; // a fuse layer's mark is its `.wh..wh..opq` file
      const [x] = getXattrs([`${upper}/${relative(tree, d)}`], upper);
      assert.ok(x!.attrs.some(([n, v]) => n === 'user.overlay.opaque' && v.toString() === 'y'), `${d}: no opaque mark (${x!.errno})`);
    }
  } finally {
    sbx(['discard', 'marks'], { store });
  }
  // A copy the command changed is a change.
  if (files.includes('/var/lib/dpkg/lock')) {
    const chmodded = report(['--', 'chmod', '600', '/var/lib/dpkg/lock']);
    assert.is(chmodded.r.code, 0, chmodded.r.stderr);
    assert.ok(chmodded.changes.some((c) => c.endsWith(' /var/lib/dpkg/lock')), chmodded.changes.join('\n'));
  }
});

testUnless(USER_CASE)('unprivileged without fuse-overlayfs: one line says system paths are read-only, writes there fail', () => {
  // A PATH that has a shell but no fuse-overlayfs.
  const bin = mkdtempSync(join(tmpdir(), 'sbx-nofuse-'));
  temps.push(bin);
  chmodSync(bin, 0o755);
  symlinkSync('/bin/sh', join(bin, 'sh'));
  const r = sbx(['run', '-n', '--', 'sh', '-c', 'echo x > /usr/local/bin/sbx-rootview-t; echo rc=$?'], { store, env: { PATH: bin } });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /fuse-overlayfs is not installed: system paths owned by root .* are read-only inside; install fuse-overlayfs/);
  assert.is(r.stderr.split('\n').filter((l) => l.includes('read-only inside')).length, 1);
  assert.not.match(r.stdout, /rc=0/);
  assert.not.ok(existsSync('/usr/local/bin/sbx-rootview-t'));
});

testUnless(ROOT_CASE)('sudo: root inside sees real owners, its processes run as the unprivileged range outside', async () => {
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', 'id -u; stat -c %u /etc/passwd; stat -c %u /'], { store });
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['0', '0', '0']);
  const sleeper = `sleep ${800000 + process.pid}`;
  const child = sbxAsync(['run', '-n', '-q', '--', 'sh', '-c', `exec ${sleeper}`], { store, stdio: 'ignore' });
  try {
    let pid = '';
    for (let i = 0; i < 300 && !pid; i++) {
      pid = spawnSync('pgrep', ['-f', `^${sleeper}$`], { encoding: 'utf8' }).stdout.trim();
      if (!pid) await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok(pid, 'the sandboxed sleep is running');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    assert.ok(uid >= 65536, `host uid of the sandboxed process is ${uid}`);
  } finally {
    child.kill('SIGKILL');
  }
});

testUnless(ROOT_CASE)('sudo: a file made inside /root belongs to the range in the layer and to root after commit', () => {
  const canary = mkdtempSync(`/root/${CANARY}`);
  try {
    proveIsolation(canary, store);
    const name = `rv${process.pid}`;
    const run = sbx(['run', '-q', '--name', name, '--', 'sh', '-c', `echo made > ${canary}/made.txt && mkdir ${canary}/d && chown 7:7 ${canary}/d`], { store });
    assert.is(run.code, 0, run.stderr);
    assert.not.ok(existsSync(join(canary, 'made.txt')));
    const meta = JSON.parse(sbx(['ls', '--json'], { store }).stdout) as Array<{ id: string; name: string }>;
    const id = meta.find((m) => m.name === name)!.id;
    const sandbox = JSON.parse(readFileSync(join(store, id, 'meta.json'), 'utf8')) as { layersDir: string; layers: Array<{ target: string; dir: string }>; idShift: { uid: number } };
    // The layer holding the canary: the nearest target above it (root's `/` is one layer).
    const layer = sandbox.layers.filter((l) => canary.startsWith(l.target === '/' ? '/' : `${l.target}/`)).sort((a, b) => b.target.length - a.target.length)[0]!;
    const upperFile = join(sandbox.layersDir, layer.dir, 'upper', canary.slice(layer.target === '/' ? 1 : layer.target.length + 1), 'made.txt');
    assert.is(statSync(upperFile).uid, sandbox.idShift.uid);
    const commit = sbx(['commit', name], { store });
    assert.is(commit.code, 0, commit.stderr);
    assert.is(statSync(join(canary, 'made.txt')).uid, 0);
    assert.is(readFileSync(join(canary, 'made.txt'), 'utf8'), 'made\n');
    assert.is(statSync(join(canary, 'd')).uid, 7);
  } finally {
    rmSync(canary, { recursive: true, force: true });
  }
});

testUnless(ROOT_CASE)("sudo: the sudo user's and the working directory's owner's ids above the range are theirs inside, kept by runs in the sandbox and by its commit", () => {
  // Ids of a directory service (sssd, FreeIPA), above the 65536 a root sandbox maps: before,
  // such a user's files showed as nobody's and root inside could not write them (EACCES, EOVERFLOW).
  const [HIGH_U, HIGH_G, CWD_U, CWD_G, OTHER] = [1828800001, 1828800002, 1828800003, 1828800004, 1828800005];
  const canary = makeCanary();
  try {
    proveIsolation(canary, store);
    const mine = join(canary, 'mine'), proj = join(canary, 'proj'), other = join(canary, 'other');
    mkdirSync(mine);
    writeFileSync(join(mine, 'f'), 'hello\n');
    mkdirSync(proj);
    writeFileSync(other, 'x\n');
    chownSync(mine, HIGH_U, HIGH_G);
    chownSync(join(mine, 'f'), HIGH_U, HIGH_G);
    chownSync(proj, CWD_U, CWD_G);
    chownSync(other, OTHER, OTHER);
    const name = `hi${process.pid}`;
    const script = [
      `stat -c %u:%g ${mine}/f ${proj} ${other}`,
      `echo more >> ${mine}/f`, `chmod 600 ${mine}/f`, `touch ${mine}/new`, `chown ${HIGH_U}:${HIGH_G} ${mine}/new`,
      `touch ${proj}/built`, `chown ${CWD_U}:${CWD_G} ${proj}/built`,
      `{ chmod 600 ${other}; echo other=$?; }`,
    ].join(' && ');
    const run = sbx(['run', '-q', '--name', name, '--', 'sh', '-c', script], { store, cwd: proj, env: { SUDO_UID: String(HIGH_U), SUDO_GID: String(HIGH_G) } });
    assert.is(run.code, 0, run.stderr);
    assert.equal(run.stdout.split('\n'), [`${HIGH_U}:${HIGH_G}`, `${CWD_U}:${CWD_G}`, '65534:65534', 'other=1', '']);
    assert.is(readFileSync(join(mine, 'f'), 'utf8'), 'hello\n', 'the host is untouched before the commit');
    // Through a shell's pipe (Node gives a child sockets, which are passed on, never relayed)
    // sbx sees the refusals of the entry it does not map, and says why, in one line.
    const shq = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
    const seen = spawnSync('sh', ['-c', `${[process.execPath, SBX, 'run', '-n', '--', 'sh', '-c', `chmod 600 ${other}; echo y >> ${other}`].map(shq).join(' ')} 2>&1 | cat`],
      { encoding: 'utf8', cwd: '/', input: '', env: { ...process.env, SBX_HOME: store, NO_COLOR: '1', SUDO_UID: String(HIGH_U), SUDO_GID: String(HIGH_G) } });
    assert.match(seen.stdout, `sbx: warning: ${other}: Value too large for defined data type, Permission denied because of sbx's view: ${other} belongs to uid ${OTHER} on the host, above the ids a root sandbox maps`, seen.stdout);
    const id = (JSON.parse(sbx(['ls', '--json'], { store }).stdout) as Array<{ id: string; name: string }>).find((m) => m.name === name)!.id;
    const shift = (JSON.parse(readFileSync(join(store, id, 'meta.json'), 'utf8')) as { idShift: { extraUids: number[]; extraGids: number[] } }).idShift;
    assert.equal([shift.extraUids, shift.extraGids], [[HIGH_U, CWD_U], [HIGH_G, CWD_G]]);
    // Another sudo user later: the sandbox keeps the ids its layers were written with.
    const again = sbx(['run', '-q', '--in', name, '--', 'stat', '-c', '%u:%g', `${mine}/new`, `${proj}/built`], { store, cwd: '/', env: { SUDO_UID: String(OTHER), SUDO_GID: String(OTHER) } });
    assert.is(again.code, 0, again.stderr);
    assert.is(again.stdout, `${HIGH_U}:${HIGH_G}\n${CWD_U}:${CWD_G}\n`);
    const commit = sbx(['commit', name], { store });
    assert.is(commit.code, 0, commit.stderr);
    const owner = (p: string): string => { const st = statSync(p); return `${st.uid}:${st.gid}`; };
    assert.is(readFileSync(join(mine, 'f'), 'utf8'), 'hello\nmore\n');
    assert.is(`${owner(join(mine, 'f'))}:${(statSync(join(mine, 'f')).mode & 0o777).toString(8)}`, `${HIGH_U}:${HIGH_G}:600`);
    assert.is(owner(join(mine, 'new')), `${HIGH_U}:${HIGH_G}`);
    assert.is(owner(join(proj, 'built')), `${CWD_U}:${CWD_G}`);
    assert.is(`${owner(other)}:${(statSync(other).mode & 0o777).toString(8)}`, `${OTHER}:${OTHER}:644`);
  } finally {
    removeCanary(canary);
  }
});

testUnless(ROOT_CASE)('sudo: --hide below dirs of an id the sandbox does not map changes nothing: the dirs holding its whiteout keep their owner', () => {
  // Until 2026-12-05 they were given that id plus the range's base: listed as an owner change
  // (flagged), and a commit of a run that did nothing gave the host dirs to that uid.
  const [OTHER, MAPPED] = [1828800005, 1000];
  const canary = makeCanary();
  try {
    proveIsolation(canary, store);
    const high = join(canary, 'high'), low = join(canary, 'low');
    for (const [d, id] of [[high, OTHER], [low, MAPPED]] as const) {
      mkdirSync(join(d, 'sub'), { recursive: true });
      writeFileSync(join(d, 'sub', 'secret'), 's\n');
      writeFileSync(join(d, 'keep'), 'k\n');
      for (const p of [d, join(d, 'sub'), join(d, 'sub', 'secret'), join(d, 'keep')]) chownSync(p, id, id);
    }
    const name = `hide${process.pid}`;
    const script = `stat -c %u:%g ${high}/sub ${low}/sub; test ! -e ${high}/sub/secret && test ! -e ${low}/sub/secret && echo hidden`;
    const run = sbx(['run', '-q', '--name', name, '--hide', join(high, 'sub', 'secret'), '--hide', join(low, 'sub', 'secret'), '--', 'sh', '-c', script], { store, cwd: '/' });
    assert.is(run.code, 0, run.stderr);
    assert.equal(run.stdout.split('\n'), ['65534:65534', `${MAPPED}:${MAPPED}`, 'hidden', '']);
    const diff = sbx(['diff', name, '--name-only'], { store });
    assert.is(diff.code, 0, diff.stderr);
    assert.is(diff.stdout, '', 'no change listed');
    const commit = sbx(['commit', name], { store });
    assert.is(commit.code, 0, commit.stderr);
    const owner = (p: string): string => { const st = statSync(p); return `${st.uid}:${st.gid}`; };
    assert.equal([high, join(high, 'sub'), low, join(low, 'sub')].map(owner), [`${OTHER}:${OTHER}`, `${OTHER}:${OTHER}`, `${MAPPED}:${MAPPED}`, `${MAPPED}:${MAPPED}`]);
    assert.is(readFileSync(join(high, 'sub', 'secret'), 'utf8'), 's\n');
  } finally {
    removeCanary(canary);
  }
});

testUnless(ROOT_CASE)("sudo: a run in a sandbox whose ids were mapped otherwise (root's /etc/subuid range changed since) is refused, the sandbox unchanged", () => {
  // Before, the run recorded the new range, and the review then read the earlier files'
  // owners against it: a commit gave /opt to uid 1000000000. meta.json stands in for the
  // changed /etc/subuid here, which a test must not edit.
  const canary = makeCanary();
  const name = `shift${process.pid}`;
  try {
    proveIsolation(canary, store);
    const made = sbx(['run', '-q', '--name', name, '--', 'sh', '-c', `echo a > ${canary}/a`], { store });
    assert.is(made.code, 0, made.stderr);
    const id = (JSON.parse(sbx(['ls', '--json'], { store }).stdout) as Array<{ id: string; name: string }>).find((m) => m.name === name)!.id;
    const metaFile = join(store, id, 'meta.json');
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { idShift: { uid: number; gid: number; count: number } | null };
    assert.ok(meta.idShift && meta.idShift.uid >= 65536, JSON.stringify(meta.idShift));
    for (const [recorded, why] of [[{ ...meta.idShift, uid: meta.idShift.uid + 65538, gid: meta.idShift.gid + 65538 }, /Put root's \/etc\/subuid and \/etc\/subgid ranges back/], [null, /Run it where root's range is not mapped/]] as const) {
      const text = JSON.stringify({ ...meta, idShift: recorded });
      writeFileSync(metaFile, text);
      const r = sbx(['run', '-q', '--in', name, '--', 'sh', '-c', `echo b > ${canary}/b`], { store });
      assert.is(r.code, 125, r.stderr);
      assert.match(r.stderr, /holds files of .*and this run would map .*their owners would change/, r.stderr);
      assert.match(r.stderr, why, r.stderr);
      assert.is(readFileSync(metaFile, 'utf8'), text, 'nothing recorded');
    }
    writeFileSync(metaFile, JSON.stringify(meta));
    const again = sbx(['run', '-q', '--in', name, '--', 'cat', `${canary}/a`], { store });
    assert.is(again.code, 0, again.stderr);
    assert.is(again.stdout, 'a\n');
    assert.not.ok(existsSync(join(canary, 'a')));
  } finally {
    sbx(['discard', name], { store });
    removeCanary(canary);
  }
});

testUnless(ROOT_CASE ?? NO_DPKG_DEB, { missing: IS_ROOT })('sudo: dpkg -i of a local .deb installs inside and the change list shows its files', () => {
  dpkgInstall();
});

testUnless(ROOT_CASE)('sudo --map-root: root inside is root outside (on purpose)', () => {
  const r = sbx(['run', '-n', '-q', '--map-root', '--', 'cat', '/proc/self/uid_map'], { store });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\s+0\s+0\s+4294967295/);
});

test.run();
