// Issue 12's commits into the host itself, as root: new entries beside a mount point, a new
// top-level directory, and packages an ordinary user installed in a sandbox committed with
// sudo into the host's /usr and dpkg database (view.test.ts has the view itself).
// sbx-test: serial as root (nothing beside its run as root: it mounts a tmpfs on the host and commits into the host's
// /usr and dpkg database, which any other run's view shows; its run as the test user is root cases only, skipped).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CI, IS_ROOT, makeCanary, provenStore, removeCanary, runReport, USER_SBX, sbx, testUserCanRunSbx } from '../helpers/sbx.js';
import { buildDeb } from '../helpers/deb.js';
import { ROOT_CASE, testUnless } from '../helpers/skip.js';

const temps: string[] = [];
const store = provenStore(temps);

const tag = `sbx-viewc-${process.pid}`;
const debName = `sbx-viewc-${process.pid}`;
const deb = IS_ROOT ? buildDeb(debName, temps, { 'sub/more.txt': 'more\n' }) : null;
if (IS_ROOT && !deb) assert.not.ok(CI, 'dpkg-deb or apt-get missing');
const USER_PATH = { PATH: '/usr/bin:/bin' };
const NO_DEB = 'dpkg-deb or apt-get missing';

/** sbx as the test user, in its own store, from /, with a PATH it can search. */
const asTestUser = (userStore: string, args: string[]) => spawnSync('setpriv', ['--reuid', 'sbxtest', '--regid', 'sbxtest', '--init-groups', '--reset-env', 'env', `SBX_HOME=${userStore}`, 'HOME=/home/sbxtest', 'PATH=/usr/bin:/bin', 'NO_COLOR=1', process.execPath, USER_SBX, ...args], { encoding: 'utf8', cwd: '/', input: '' });

// In the user's home, as in real use: a store under /tmp sits inside the fuse-overlayfs
// lower of /tmp, where that daemon can hang on its own upper.
function userStoreDir(): string {
  const dir = mkdtempSync('/home/sbxtest/sbx-view-store-');
  temps.push(dir);
  spawnSync('chown', ['sbxtest:sbxtest', dir]);
  return dir;
}

testUnless(ROOT_CASE)('root: new entries beside a tmpfs mounted in a directory; the mount point is busy', () => {
  const dir = mkdtempSync('/sbx-view-mnt-');
  temps.push(dir);
  mkdirSync(join(dir, 'm'));
  writeFileSync(join(dir, 'old.txt'), 'old\n');
  const m = spawnSync('mount', ['-t', 'tmpfs', 'sbx-test', join(dir, 'm')], { encoding: 'utf8' });
  assert.is(m.status, 0, m.stderr);
  try {
    const script = `cd ${dir} && touch new && mkdir d && ln -s m l && echo more >> old.txt && rm old.txt; rmdir m 2>&1; touch m/inside && ls`;
    const { r, changes } = runReport(store, temps, ['--', 'sh', '-c', script]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /busy/i);
    assert.equal(changes, [`added ${dir}/d`, `added ${dir}/l`, `added ${dir}/m/inside`, `added ${dir}/new`, `deleted ${dir}/old.txt`].sort());
    assert.ok(existsSync(join(dir, 'old.txt')));
    assert.not.ok(existsSync(join(dir, 'new')));
    assert.not.ok(existsSync(join(dir, 'm', 'inside')));
  } finally {
    spawnSync('umount', [join(dir, 'm')]);
  }
});

testUnless(ROOT_CASE)('root: a committed new top-level directory lands on the host', () => {
  const path = `/${tag}-commit`;
  try {
    const r = sbx(['run', '--name', 'topdir', '-q', '--', 'sh', '-c', `mkdir ${path} && echo x > ${path}/f`], { store });
    assert.is(r.code, 0, r.stderr);
    const c = sbx(['commit', 'topdir'], { store });
    assert.is(c.code, 0, c.stderr);
    assert.is(readFileSync(`${path}/f`, 'utf8'), 'x\n');
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
});
// `sudo sbx commit ID` on an ordinary user's sandbox: what root writes in the user's store
// stays the user's, so a partial commit leaves a sandbox the user still sees and discards.
const NO_USER = 'the test user sbxtest cannot run this build';
const userCanRunSbx = testUserCanRunSbx();
testUnless(ROOT_CASE ?? (userCanRunSbx ? null : NO_USER))('root: a sudo-style partial commit leaves the user\'s sandbox theirs (ls, diff, discard)', () => {
  const userStore = userStoreDir();
  const a = `/${tag}-sudo-a`, bdir = `/${tag}-sudo-b`;
  const asUser = (args: string[]) => asTestUser(userStore, args);
  try {
    const run = asUser(['run', '-q', '--name', 'mine', '--', 'sh', '-c', `mkdir ${a} ${bdir} && echo a > ${a}/f && echo b > ${bdir}/f`]);
    assert.is(run.status, 0, run.stderr);
    const c = sbx(['commit', 'mine', '--only', `${a}/f`], { store: userStore, env: { SUDO_USER: 'sbxtest', SUDO_UID: '1001', SUDO_GID: '1001' } });
    assert.is(c.code, 0, c.stderr);
    assert.is(readFileSync(`${a}/f`, 'utf8'), 'a\n');
    // Made by root inside: root's on the host, not the user's.
    assert.is(statSync(a).uid, 0);
    assert.not.ok(existsSync(bdir));
    for (const e of readdirSync(userStore, { recursive: true }) as string[]) {
      const st = lstatSync(join(userStore, e));
      assert.is(st.uid, 1001, `${e} is owned by ${st.uid}`);
    }
    const ls = asUser(['ls']);
    assert.is(ls.status, 0, ls.stderr);
    assert.match(ls.stdout, /mine/);
    const diff = asUser(['diff', 'mine', '--name-only']);
    assert.is(diff.stdout.trim().split('\n').filter(Boolean).sort().join(' '), `${bdir} ${bdir}/f`, diff.stderr);
    const d = asUser(['discard', 'mine']);
    assert.is(d.status, 0, d.stderr);
    // Dot files are the store's own notes (e.g. limits already said); entries are sandboxes.
    assert.equal(readdirSync(userStore).filter((n) => !n.startsWith('.')), []);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(bdir, { recursive: true, force: true });
  }
});
/** Whether sbxtest has a subordinate range: else no uid but 0 is mapped in its sandboxes. */
const userSubIds = IS_ROOT && ['/etc/subuid', '/etc/subgid'].every((f) => existsSync(f) && /^sbxtest:/m.test(readFileSync(f, 'utf8')));
testUnless(ROOT_CASE ?? (!userCanRunSbx ? NO_USER : userSubIds ? null : 'sbxtest has no /etc/subuid and /etc/subgid range'), { missing: IS_ROOT && userCanRunSbx })('root: an ordinary user\'s chown inside, committed with sudo, gives the ids the sandbox saw, not its subordinate ids', () => {
  const userStore = userStoreDir();
  const home = mkdtempSync('/home/sbxtest/sbx-view-ids-');
  temps.push(home);
  spawnSync('chown', ['sbxtest:sbxtest', home]);
  const canary = makeCanary();
  const top = `/${tag}-ids`;
  const asUser = (args: string[]) => asTestUser(userStore, args);
  try {
    // One entry of each kind of layer: the user's own tree (home), a system tree read through
    // fuse-overlayfs (the /opt canary), and a new top-level dir (a skeleton layer before
    // `/` was read through fuse-overlayfs too).
    const script = [
      `touch ${home}/a ${home}/r ${canary}/a ${canary}/r && mkdir ${top} && touch ${top}/a ${top}/r`,
      `chown 32:33 ${home}/a ${canary}/a ${top}/a`, `mkdir ${canary}/t && touch ${canary}/t/f && chown -R 34:35 ${canary}/t`,
      `stat -c %u:%g ${home}/a ${canary}/t/f`,
    ].join(' && ');
    const run = asUser(['run', '-q', '--name', 'ids', '--', 'sh', '-c', script]);
    assert.is(run.status, 0, run.stderr);
    assert.is(run.stdout, '32:33\n34:35\n');
    const sudo = { SUDO_USER: 'sbxtest', SUDO_UID: '1001', SUDO_GID: '1001' };
    const json = JSON.parse(sbx(['diff', 'ids', '--json'], { store: userStore, env: sudo }).stdout) as { changes: Array<{ path: string; details?: string[] }> };
    assert.equal(json.changes.find((x) => x.path === `${home}/a`)?.details, ['owner 32:33'], JSON.stringify(json.changes));
    // An older layout (fuse-overlayfs's own upper for /opt) keeps no owner there: its entries are root's.
    const metaFile = readdirSync(userStore).map((n) => join(userStore, n, 'meta.json')).find((f) => existsSync(f))!;
    const layers = (JSON.parse(readFileSync(metaFile, 'utf8')) as { layers: Array<{ target: string; fuseLower?: string }> }).layers;
    const optKeeps = layers.some((l) => (l.target === '/opt' || l.target === '/') && l.fuseLower);
    const c = sbx(['commit', 'ids'], { store: userStore, env: sudo });
    assert.is(c.code, 0, c.stderr);
    const owner = (p: string) => { const st = lstatSync(p); return `${st.uid}:${st.gid}`; };
    assert.equal([`${home}/a`, `${home}/r`, `${top}/a`, `${top}/r`].map(owner), ['32:33', '1001:1001', '32:33', '0:0']);
    const sys = optKeeps ? ['32:33', '0:0', '34:35', '34:35'] : ['0:0', '0:0', '0:0', '0:0'];
    assert.equal([`${canary}/a`, `${canary}/r`, `${canary}/t`, `${canary}/t/f`].map(owner), sys);
  } finally {
    removeCanary(canary);
    rmSync(top, { recursive: true, force: true });
  }
});

/** dpkg's database is consistent and `pkg` is installed, its files as dpkg recorded them. */
const dpkgClean = (pkg = debName): void => {
  const audit = spawnSync('dpkg', ['--audit'], { encoding: 'utf8' });
  assert.is(audit.status, 0, audit.stdout + audit.stderr);
  assert.is(audit.stdout, '');
  const v = spawnSync('dpkg', ['-V', pkg], { encoding: 'utf8' });
  assert.is(v.status, 0, v.stdout + v.stderr);
  assert.is(v.stdout, '');
  assert.match(spawnSync('dpkg-query', ['-W', '-f', '${Status}', pkg], { encoding: 'utf8' }).stdout, /install ok installed/);
};
const purge = () => spawnSync('dpkg', ['--purge', debName], { encoding: 'utf8' });

testUnless(ROOT_CASE ?? (deb ? null : NO_DEB))('root: a partial commit that splits dpkg\'s changes warns and names what to add; no phantom replaced after it; the rest leaves dpkg clean', () => {
  try {
    const run = sbx(['run', '-q', '--name', 'apt', '--', 'apt-get', 'install', '-y', deb!], { store, env: USER_PATH });
    assert.is(run.code, 0, run.stderr);
    const part = sbx(['commit', 'apt', '--only', '/usr/**'], { store });
    assert.is(part.code, 0, part.stderr);
    assert.match(part.stderr, /splits dpkg's changes \(\/var\/lib\/dpkg\/.* left out\).*add --only '\/var\/lib\/dpkg\/\*\*'/);
    assert.is(readFileSync(`/usr/share/${debName}/hello.txt`, 'utf8'), 'hello from a package\n');
    const left = sbx(['diff', 'apt', '--name-only'], { store });
    assert.not.match(left.stdout, /\/usr\//, left.stdout);
    assert.match(left.stdout, /\/var\/lib\/dpkg\/status/);
    const rest = sbx(['commit', 'apt', '--only', '/var/lib/dpkg/**'], { store });
    assert.is(rest.code, 0, rest.stderr);
    assert.not.match(rest.stderr, /splits/);
    dpkgClean();
    sbx(['discard', 'apt'], { store });
  } finally {
    purge();
  }
});

// An ordinary user's `/` is one overlay through the daemon since s80, its top-level dirs in it:
// one the user may search but not list (0711) keeps its files by name, as on the host, where an
// empty stand-in would hide them (so does one a level down: a 0711 home, its public dir read by
// name; the daemon, once it has listed such a dir, empty, finds no name in it); one closed to
// the user (0700) is empty and writable inside.
testUnless(ROOT_CASE ?? (userCanRunSbx ? null : NO_USER), { missing: IS_ROOT })('root: top-level dirs an ordinary user may search but not list (0711), and such dirs below, keep their files; one it may not search (0700) is empty and writable', () => {
  const open = `/${tag}-0711`, shut = `/${tag}-0700`, top = `/${tag}-homes`, home = `${top}/alice`, site = `${top}/www/site`;
  try {
    for (const d of [open, shut]) { mkdirSync(d); writeFileSync(join(d, 'f'), 'f\n'); }
    for (const d of [home, site]) { mkdirSync(join(d, 'pub'), { recursive: true }); writeFileSync(join(d, 'pub', 'index.html'), 'hi\n'); }
    chmodSync(open, 0o711);
    chmodSync(shut, 0o700);
    for (const d of [home, site]) chmodSync(d, 0o711);
    // A level deeper the daemon serves it (its preload: the listing fails as on the host, and
    // each name is looked up on its own).
    const r = asTestUser(userStoreDir(), ['run', '-n', '-q', '--', 'sh', '-c', `cat ${open}/f; ls ${open} 2>/dev/null || echo unlisted; ls -A ${shut}; touch ${shut}/new && ls ${shut}; `
      + `for d in ${home} ${site}; do ls $d 2>/dev/null || echo unlisted; cat $d/pub/index.html; done`]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'f\nunlisted\nnew\nunlisted\nhi\nunlisted\nhi\n', r.stderr);
    assert.not.ok(existsSync(join(shut, 'new')));
  } finally {
    for (const d of [open, shut, top]) rmSync(d, { recursive: true, force: true });
  }
});

testUnless(ROOT_CASE ?? (!deb ? NO_DEB : userCanRunSbx ? null : NO_USER))('root: an ordinary user\'s apt-get install ./x.deb, committed with sudo, leaves dpkg clean', () => {
  const userStore = userStoreDir();
  const asUser = (args: string[]) => asTestUser(userStore, args);
  try {
    const run = asUser(['run', '-q', '--name', 'uapt', '--', 'apt-get', 'install', '-y', deb!]);
    assert.is(run.status, 0, run.stderr + run.stdout);
    const c = sbx(['commit', 'uapt', '--only', '/usr/**', '--only', '/var/lib/dpkg/**'], { store: userStore, env: { SUDO_USER: 'sbxtest', SUDO_UID: '1001', SUDO_GID: '1001' } });
    assert.is(c.code, 0, c.stderr);
    assert.is(statSync(`/usr/share/${debName}/hello.txt`).uid, 0);
    dpkgClean();
    const d = asUser(['discard', 'uapt']);
    assert.is(d.status, 0, d.stderr);
  } finally {
    purge();
  }
});

// A real package from Debian's mirror (the one network this machine may reach), installed by
// an ordinary user with --net, committed with sudo. `sl`: 13 kB, no dependencies beyond libc
// and ncurses. Unreachable mirror: a visible skip here, a failure in CI (which apt-gets).
const mirrorPkg = 'sl';
const mirror = !IS_ROOT ? null : ((): string | null => {
  if (!spawnSync('sh', ['-c', 'command -v apt-get && command -v curl']).stdout?.length) return 'apt-get or curl missing';
  if (spawnSync('dpkg-query', ['-W', '-f', '${Status}', mirrorPkg], { encoding: 'utf8' }).stdout.includes('installed')) return `${mirrorPkg} is installed on this host`;
  const uri = /^'([^']+)'/m.exec(spawnSync('apt-get', ['-qq', '--print-uris', 'install', mirrorPkg], { encoding: 'utf8' }).stdout)?.[1];
  if (!uri) return `apt has no candidate for ${mirrorPkg} (apt-get update not run?)`;
  return spawnSync('curl', ['-sfI', '--max-time', '15', uri]).status === 0 ? null : `Debian's mirror is unreachable (${uri})`;
})();
if (mirror) {
  console.log(`  ${CI ? 'failing' : 'skipping'} the mirror install: ${mirror}`);
  if (CI) test('CI reaches Debian\'s mirror for the apt-get install -y test', () => assert.unreachable(mirror));
}
testUnless(ROOT_CASE ?? mirror ?? (userCanRunSbx ? null : NO_USER))(`root: an ordinary user's apt-get install -y ${mirrorPkg} with --net, committed with sudo, leaves dpkg clean`, () => {
  const userStore = userStoreDir();
  const asUser = (args: string[]) => asTestUser(userStore, args);
  try {
    const run = asUser(['run', '-q', '--net', '--name', 'unet', '--', 'apt-get', 'install', '-y', mirrorPkg]);
    assert.is(run.status, 0, run.stderr + run.stdout);
    assert.not.ok(existsSync(`/usr/games/${mirrorPkg}`), 'not on the host before the commit');
    const c = sbx(['commit', 'unet', '--only', '/usr/**', '--only', '/var/lib/dpkg/**'], { store: userStore, env: { SUDO_USER: 'sbxtest', SUDO_UID: '1001', SUDO_GID: '1001' } });
    assert.is(c.code, 0, c.stderr);
    assert.is(statSync(`/usr/games/${mirrorPkg}`).uid, 0);
    dpkgClean(mirrorPkg);
    const d = asUser(['discard', 'unet']);
    assert.is(d.status, 0, d.stderr);
  } finally {
    spawnSync('dpkg', ['--purge', mirrorPkg], { encoding: 'utf8' });
  }
});

// --user gives a layer root of another's the user's own bits on the host as owner bits
// (sandbox.ts userViewBits): read from access(2), so an ACL naming the user counts as it does
// outside. A new top-level dir is a layer root of its own in an ordinary user's view.
/** system.posix_acl_access of `setfacl -m u:UID:rwx` on a 0755 dir (acl(5)'s xattr layout). */
function aclNamingUser(uid: number): Buffer {
  const entries: Array<[number, number, number]> = [[0x01, 7, 0xffffffff], [0x02, 7, uid], [0x04, 5, 0xffffffff], [0x10, 7, 0xffffffff], [0x20, 5, 0xffffffff]];
  const b = Buffer.alloc(4 + entries.length * 8);
  b.writeUInt32LE(2, 0);
  entries.forEach(([tag, perm, id], i) => { b.writeUInt16LE(tag, 4 + i * 8); b.writeUInt16LE(perm, 6 + i * 8); b.writeUInt32LE(id, 8 + i * 8); });
  return b;
}
testUnless(ROOT_CASE ?? (userCanRunSbx ? null : NO_USER))('root: an ordinary user\'s --user run may write in a root dir an ACL lets it write in, as outside; not in one without', () => {
  const shared = mkdtempSync(`/${tag}-acl-`), closed = mkdtempSync(`/${tag}-noacl-`);
  temps.push(shared, closed);
  for (const d of [shared, closed]) chmodSync(d, 0o755);
  const uid = Number(spawnSync('id', ['-u', 'sbxtest'], { encoding: 'utf8' }).stdout.trim());
  const set = spawnSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], "system.posix_acl_access", bytes.fromhex(sys.argv[2]))', shared, aclNamingUser(uid).toString('hex')], { encoding: 'utf8' });
  assert.is(set.status, 0, `the host's / takes no ACL: ${set.stderr}`);
  // The host's own answer first: the ACL lets the user write there, the mode alone does not.
  const outside = spawnSync('setpriv', ['--reuid', 'sbxtest', '--regid', 'sbxtest', '--init-groups', 'sh', '-c', `test -w ${shared} && echo may; test -w ${closed} || echo may-not`], { encoding: 'utf8' });
  assert.is(outside.stdout, 'may\nmay-not\n', outside.stderr);
  const r = asTestUser(userStoreDir(), ['run', '--user', '-n', '-q', '--', 'sh', '-c', `touch ${shared}/new && echo made; touch ${closed}/new 2>/dev/null || echo refused`]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'made\nrefused\n', r.stderr);
  assert.equal(readdirSync(shared), [], 'a throwaway run wrote on the host');
});

test.run();
