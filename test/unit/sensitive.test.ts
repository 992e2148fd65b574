// The sensitive-change table: one test per rule, each with paths or changes issue 11 listed
// (and the ones before it), plus ordinary changes nearby that must not be marked.
import { test } from 'uvu';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setHostRoot } from '../../sandbox-core/changes/fsat.js';
import { testUnless } from '../helpers/skip.js';
import * as assert from 'uvu/assert';
import { SENSITIVE_RULES, sensitiveContext, sensitiveReason, sensitiveRule } from '../../sandbox-core/changes/sensitive.js';
import { hostLoaderConfDirs } from '../../sandbox-core/changes/ld-cache.js';
import { CASES, CASES_ELSEWHERE, ORDINARY, file, type C } from './sensitive-cases.js';
import { aclGivesAccess, givenAway, reviewer } from '../../sandbox-core/changes/owner.js';
import type { EntryStat } from '../../sandbox-core/changes/types.js';

const ctx = sensitiveContext({ PATH: '/usr/local/bin:/usr/bin:/bin:/opt/tool/bin', HOME: '/home/u' });
const ruleOf = (c: C): string | undefined => sensitiveRule(c, ctx)?.id;

test('every rule in the table has cases here', () => {
  for (const r of SENSITIVE_RULES) assert.ok(CASES[r.id]?.length || CASES_ELSEWHERE[r.id], `rule ${r.id} has no test case`);
  for (const id of [...Object.keys(CASES), ...Object.keys(CASES_ELSEWHERE)]) assert.ok(SENSITIVE_RULES.some((r) => r.id === id), `no rule ${id}`);
});

for (const [id, cases] of Object.entries(CASES)) {
  test(`rule ${id}`, () => {
    for (const c of cases) assert.is(ruleOf(c), id, `${c.path} (${c.change}) should be marked by ${id}`);
  });
}

test('ordinary changes next to sensitive places are not marked', () => {
  for (const c of ORDINARY) assert.is(sensitiveReason(c, ctx), null, `${c.path} (${c.change}) marked: ${sensitiveReason(c, ctx)}`);
});

test('PATH commands: added and changed say which', () => {
  assert.is(sensitiveReason(file('/usr/bin/x'), ctx), 'new command in PATH');
  assert.is(sensitiveReason(file('/usr/bin/x', 'modified'), ctx), 'command in PATH changed');
});

test('alternatives and completions: a new entry is counted as new, a changed one named, a deleted one runs nothing', () => {
  // An apt-get purge of git, strace, skopeo and umoci marked 16 deleted alternatives links and
  // records (iptables' with skopeo's dependencies) and three deleted completions.
  const newAlt = 'new alternatives entry (for a name the host has no alternatives of)';
  for (const p of ['/etc/alternatives/iptables', '/var/lib/dpkg/alternatives/iptables']) {
    assert.is(sensitiveReason(file(p), ctx), newAlt, p);
    assert.is(sensitiveReason(file(p, 'modified'), ctx), 'alternatives link (which program a command runs)', p);
    assert.is(sensitiveReason({ path: p, change: 'replaced', type: 'file' }, ctx), 'alternatives link (which program a command runs)', p);
    assert.is(sensitiveReason(file(p, 'deleted'), ctx), null, p);
  }
  for (const p of ['/usr/share/bash-completion/completions/git', '/usr/local/share/bash-completion/completions/x', '/etc/bash_completion.d/git-prompt', '/usr/share/fish/vendor_completions.d/x.fish',
    '/usr/share/zsh/vendor-completions/_git', '/usr/local/share/zsh/site-functions/_x', '/home/u/.local/share/bash-completion/completions/x']) {
    assert.is(sensitiveReason(file(p, 'deleted'), ctx), null, p);
    assert.is(sensitiveReason({ path: p, change: 'deleted', type: 'dir' }, ctx), null, p);
    assert.is(ruleOf(file(p, 'modified')), 'shell-startup', p);
  }
  // A profile or rc file removed can undo a umask or a TMOUT the admin set: still marked.
  for (const p of ['/etc/profile.d/umask.sh', '/etc/bash.bashrc', '/etc/bash_completion', '/usr/share/bash-completion/bash_completion', '/etc/zsh/zshrc']) assert.is(ruleOf(file(p, 'deleted')), 'shell-startup', p);
});

test('a tool dir the host environment moved is matched where it is', () => {
  const env = { PATH: '/usr/bin:/bin', HOME: '/srv/h', CARGO_HOME: '/opt/cargo/', PIP_CACHE_DIR: '/var/pipc', XDG_CONFIG_HOME: '/data/cfg', DOCKER_CONFIG: '/etc/dockercfg',
    GOPATH: '/w/go:/w2', MAVEN_OPTS: '-Xmx1g -Dmaven.repo.local=/m2 -Dx=y', CURL_HOME: '/c', GRADLE_USER_HOME: '/g', UV_CACHE_DIR: '/var/uvc', PYTHONPATH: '/w/py:relative' };
  const moved = sensitiveContext(env);
  const at = (p: string, c = ctx): string | undefined => sensitiveRule(file(p), c)?.id;
  const want: Array<[string, string]> = [
    ['/srv/h/.yarnrc', 'js-config'], ['/srv/h/.cargo/config.toml', 'cargo-config'], ['/srv/h/go/pkg/mod/x@v1/a.go', 'go-mod-cache'], ['/srv/h/.mavenrc', 'maven-config'],
    ['/opt/cargo/config.toml', 'cargo-config'], ['/opt/cargo/registry/src/i/x-1/build.rs', 'cargo-cache'], ['/opt/cargo/env', 'shell-startup'], ['/opt/cargo/bin/cargo', 'toolchain-bin'],
    ['/var/pipc/wheels/a/b/x.whl', 'pip-cache'], ['/data/cfg/pip/pip.conf', 'pip-config'], ['/data/cfg/nvim/init.lua', 'editor-startup'], ['/data/cfg/git/config', 'git-config'],
    ['/etc/dockercfg/config.json', 'docker-config'], ['/w2/pkg/mod/x@v1/a.go', 'go-mod-cache'], ['/m2/org/x/y.jar', 'maven-repo'], ['/c/.curlrc', 'fetch-config'], ['/g/init.d/x.gradle', 'gradle-init'],
    ['/g/wrapper/dists/gradle-8.5-bin/h/gradle-8.5/bin/gradle', 'gradle-cache'], ['/var/uvc/archive-v0/Xy/six.py', 'uv-cache'], ['/data/cfg/uv/uv.toml', 'uv-config'],
    ['/w/py/sitecustomize.py', 'python-startup'], ['/w/py/requests/__init__.py', 'user-site'],
  ];
  for (const [p, id] of want) {
    assert.is(at(p, moved), id, p);
    if (!p.startsWith('/srv/h/')) assert.is(at(p), undefined, `${p} without the environment`);
  }
  // Not a prefix of a name; deletions still fold.
  for (const p of ['/opt/cargoX/config.toml', '/opt/cargoX/bin/cargo', '/c/.wgetrc', '/srv/h/notes.txt']) assert.is(at(p, moved), undefined, p);
  assert.is(sensitiveRule({ path: '/opt/cargo/config.toml', change: 'deleted', type: 'file' }, moved), null);
  // Nothing moved but the system's config dir, read as every user's.
  assert.equal(sensitiveContext({ PATH: '/usr/bin', HOME: '/home/u' }).moved, [['/etc/xdg', '/root/.config']]);
  assert.is(sensitiveContext({ HOME: '/', CARGO_HOME: 'rel/x', XDG_CONFIG_HOME: '/a/../b', GNUPGHOME: '/k' }).moved?.length, 2);
  // XDG_CONFIG_DIRS names the system's config dirs.
  const dirs = sensitiveContext({ PATH: '/usr/bin', HOME: '/home/u', XDG_CONFIG_DIRS: '/opt/xdg:/etc/xdg' });
  assert.is(at('/opt/xdg/kitty/kitty.conf', dirs), 'terminal-config');
  assert.is(at('/etc/xdg/kitty/kitty.conf', dirs), 'terminal-config');
  assert.is(at('/opt/xdg/kitty/kitty.conf'), undefined);
});

test('other-owner: given away is a uid neither the parent\'s nor root\'s, or a writable group neither\'s', () => {
  const st = (perm: number, uid: number, gid: number): EntryStat => ({ type: 'file', perm, uid, gid, size: 0, mtimeMs: 0, atimeMs: 0, ctimeMs: 0, ino: 1, dev: 1, nlink: 1, rdev: 0 });
  const root = { uid: 0, gid: 0, selfUid: 0, selfGid: 0 };
  const rootDir = st(0o755, 0, 0), userDir = st(0o755, 1000, 1000);
  assert.ok(givenAway(st(0o644, 1000, 1000), rootDir, root));
  assert.ok(givenAway(st(0o644, 1000, 0), null, root), 'no parent: only the reviewer counts');
  assert.ok(givenAway(st(0o664, 0, 1002), rootDir, root));
  assert.ok(givenAway(st(0o664, 1000, 1002), userDir, root), 'the group is the parent\'s neither');
  assert.not.ok(givenAway(st(0o644, 1000, 1000), userDir, root), 'the parent\'s owner');
  assert.not.ok(givenAway(st(0o664, 1000, 1000), userDir, root));
  assert.not.ok(givenAway(st(0o644, 0, 1002), rootDir, root), 'another group that may not write it');
  assert.not.ok(givenAway(st(0o664, 0, 0), rootDir, root));
  assert.not.ok(givenAway(st(0o666, 0, 0), rootDir, root));
});

test('other-owner in an ordinary user\'s review: what root\'s commit gives away, except to that user', () => {
  const st = (perm: number, uid: number, gid: number): EntryStat => ({ type: 'dir', perm, uid, gid, size: 0, mtimeMs: 0, atimeMs: 0, ctimeMs: 0, ino: 1, dev: 1, nlink: 1, rdev: 0 });
  // The user 1001:1001 reviews; root's commit (sudo, 0:0) applies the owners the sandbox set.
  const user = { uid: 0, gid: 0, selfUid: 1001, selfGid: 1001 };
  const rootDir = st(0o755, 0, 0);
  assert.ok(givenAway(st(0o755, 1000, 0), rootDir, user), '`chown 1000 /nix`: root\'s commit gives it to uid 1000');
  assert.ok(givenAway(st(0o755, 102, 105), null, user));
  assert.ok(givenAway(st(0o775, 0, 1002), rootDir, user), 'a writable group neither root\'s nor the user\'s');
  assert.not.ok(givenAway(st(0o755, 0, 0), null, user), 'root\'s inside: no parent needed (walk.ts keeps it a column entry)');
  assert.not.ok(givenAway(st(0o775, 1001, 1001), null, user), 'the user\'s own ids go to the user whoever commits');
  assert.not.ok(givenAway(st(0o775, 0, 1001), rootDir, user));
  assert.not.ok(givenAway(st(0o755, 0, 1002), rootDir, user), 'another group that may not write it');
  // This process's reviewer: root's commit's ids and its own.
  const me = reviewer();
  const euid = process.geteuid!(), egid = process.getegid!();
  assert.equal(me, euid === 0 ? { uid: 0, gid: egid, selfUid: 0, selfGid: egid } : { uid: 0, gid: 0, selfUid: euid, selfGid: egid });
});

test('other-owner and acl-grant come last: a given-away setuid program or command keeps its own reason, an entry given away and granted says whose it is', () => {
  const away = { details: ['owner 1000:1000'], givenAway: true as const };
  assert.is(ruleOf({ ...file('/opt/x/helper'), up: { ...file('/opt/x/helper').up!, perm: 0o4755, uid: 1000, gid: 1000 }, ...away }), 'setid');
  assert.is(ruleOf({ ...file('/usr/local/bin/tool'), ...away }), 'path-command');
  assert.is(ruleOf({ ...file('/usr/local/bin/tool'), aclGrant: true }), 'path-command');
  assert.is(ruleOf({ ...file('/opt/x/f'), ...away, aclGrant: true }), 'other-owner');
  assert.equal(SENSITIVE_RULES.slice(-2).map((r) => r.id), ['other-owner', 'acl-grant']);
});

test('acl-grant: a named user or group entry that grants anything, not the reviewer\'s, the owner\'s or what the host had', () => {
  const U = 0xffffffff;
  const acl = (named: Array<[number, number, number]>, mask = 7): Buffer => {
    const e: Array<[number, number, number]> = [[1, 6, U], ...named.filter((n) => n[0] === 2), [4, 4, U], ...named.filter((n) => n[0] === 8), [0x10, mask, U], [0x20, 4, U]];
    const b = Buffer.alloc(4 + e.length * 8);
    b.writeUInt32LE(2, 0);
    e.forEach(([tag, perm, id], i) => { b.writeUInt16LE(tag, 4 + i * 8); b.writeUInt16LE(perm, 6 + i * 8); b.writeUInt32LE(id, 8 + i * 8); });
    return b;
  };
  const A = 'system.posix_acl_access', D = 'system.posix_acl_default';
  const root = { uid: 0, gid: 0, selfUid: 0, selfGid: 0 };
  const user = { uid: 0, gid: 0, selfUid: 1001, selfGid: 1001 };
  const grants = (up: Array<[string, Buffer]>, host: Array<[string, Buffer]> = [], owner = 0, r = root): boolean => aclGivesAccess(up, host, owner, r);
  assert.ok(grants([[A, acl([[2, 4, 1000]])]]), 'read for uid 1000');
  assert.ok(grants([[D, acl([[8, 1, 1002]])]]), 'a default ACL: what is made in the dir inherits it');
  assert.ok(grants([[A, acl([[2, 7, 1000]], 0)]]), 'a mask of --- holds it back only until a chmod g+…');
  assert.ok(grants([[A, acl([[2, 7, 1000]])]], [[A, acl([[2, 4, 1000]])]]), 'widened beyond what the host granted');
  assert.ok(grants([[A, acl([[2, 4, 1000]])]], [[D, acl([[2, 4, 1000]])]]), 'the host had it as a default ACL only');
  assert.ok(grants([[A, acl([[2, 6, 1001]])]]), 'root\'s review: the user is another user');
  assert.ok(grants([[A, acl([[8, 4, 1002]])]], [], 0, user));
  assert.not.ok(grants([[A, acl([[2, 0, 1000], [8, 0, 1002]])]]), 'entries that grant nothing');
  assert.not.ok(grants([[A, acl([[2, 7, 0], [8, 7, 0]])]]), 'root\'s ids');
  assert.not.ok(grants([[A, acl([[2, 7, 1001], [8, 7, 1001]])]], [], 0, user), 'the reviewing user\'s own');
  assert.not.ok(grants([[A, acl([[2, 7, 1000]])]], [], 1000), 'the owner\'s: the kernel asks user:: of the owner');
  assert.not.ok(grants([[A, acl([[2, 4, 1000]])]], [[A, acl([[2, 6, 1000]])]]), 'narrowed: the host granted more');
  assert.not.ok(grants([[A, Buffer.from('not an acl')], ['user.x', acl([[2, 7, 1000]])]]), 'not an ACL');
});

test("rc-file: a new home's copy of the host's /etc/skel file is not marked; another file, an old home's or a changed one is", () => {
  const root = mkdtempSync(join(tmpdir(), 'sbx-skel-case-'));
  // The layer's files, where the upper paths resolve with the host's `/` moved to root.
  const layer = join(root, 'layer');
  try {
    mkdirSync(layer);
    mkdirSync(join(root, 'etc/skel'), { recursive: true });
    mkdirSync(join(root, 'home/u'), { recursive: true });
    writeFileSync(join(root, 'etc/skel/.bashrc'), '# ~/.bashrc\nalias ll="ls -l"\n');
    writeFileSync(join(layer, 'copy'), '# ~/.bashrc\nalias ll="ls -l"\n');
    writeFileSync(join(layer, 'other'), '# ~/.bashrc\nalias ll="rm -r"\n');
    writeFileSync(join(layer, 'longer'), '# ~/.bashrc\nalias ll="ls -l"\n\n');
    setHostRoot(root);
    const at = (p: string, upper: string, change: C['change'] = 'added'): C => ({ ...file(p, change), upper: `/layer/${upper}` });
    // useradd -m nu: the home is new, the file the skeleton's.
    assert.is(ruleOf(at('/home/nu/.bashrc', 'copy')), undefined);
    for (const [c, why] of [[at('/home/nu/.bashrc', 'other'), 'other bytes'], [at('/home/nu/.bashrc', 'longer'), 'a byte more'], [at('/home/u/.bashrc', 'copy'), 'a home the host has'],
      [at('/home/nu/.profile', 'copy'), 'no such skeleton file'], [at('/home/nu/.bashrc', 'copy', 'modified'), 'not added'], [file('/home/nu/.bashrc'), 'no layer file']] as Array<[C, string]>) {
      assert.is(ruleOf(c), 'rc-file', why);
    }
  } finally {
    setHostRoot(null);
    rmSync(root, { recursive: true, force: true });
  }
});

test("tls-trust: a certifi bundle pip installed into a Python library tree goes with its package's code; the host's certifi, a changed one or a project's copy is a trust store", () => {
  const root = mkdtempSync(join(tmpdir(), 'sbx-certifi-case-'));
  try {
    mkdirSync(join(root, 'usr/lib/python3/dist-packages/certifi'), { recursive: true });
    setHostRoot(root);
    const tls = 'tls-trust';
    assert.is(ruleOf(file('/usr/local/lib/python3.11/dist-packages/certifi/cacert.pem')), 'python-library');
    assert.is(ruleOf(file('/home/u/.local/lib/python3.11/site-packages/certifi/cacert.pem')), 'user-site');
    assert.is(ruleOf(file('/usr/lib/python3/dist-packages/certifi/cacert.pem')), tls, "the host's certifi dir");
    assert.is(ruleOf(file('/usr/local/lib/python3.11/dist-packages/certifi/cacert.pem', 'modified')), tls, 'changed');
    assert.is(ruleOf(file('/home/u/proj/vendor/site-packages/certifi/cacert.pem')), tls, "a project's copy");
    assert.is(ruleOf(file('/home/u/proj/lib/python3.11/site-packages/certifi/cacert.pem')), tls, 'not a venv, not a user site');
    assert.is(ruleOf(file('/opt/svc/.local/lib/python3.11/site-packages/certifi/cacert.pem')), tls, 'not a home');
  } finally {
    setHostRoot(null);
    rmSync(root, { recursive: true, force: true });
  }
});

test('kernel-hook: a source file of a tree the host builds with DKMS is marked, one of another /usr/src tree is not', () => {
  const root = mkdtempSync(join(tmpdir(), 'sbx-dkms-case-'));
  mkdirSync(join(root, 'usr/src/mod-1.0'), { recursive: true });
  mkdirSync(join(root, 'usr/src/linux-headers-6.1/include'), { recursive: true });
  writeFileSync(join(root, 'usr/src/mod-1.0/dkms.conf'), 'PACKAGE_NAME=mod\n');
  setHostRoot(root);
  try {
    for (const c of [file('/usr/src/mod-1.0/mod.c', 'modified'), file('/usr/src/mod-1.0/evil.c'), file('/usr/src/mod-1.0/dkms.conf', 'modified'), file('/var/lib/dkms/mod/1.0/source')]) {
      assert.is(ruleOf(c), 'kernel-hook', c.path);
    }
    for (const c of [file('/usr/src/linux-headers-6.1/x.c', 'modified'), file('/usr/src/other-2.0/dkms.conf'), { path: '/usr/src/mod-1.0/mod.c', change: 'deleted', type: 'file' } as C,
      { path: '/usr/src/mod-1.0/sub', change: 'added', type: 'dir' } as C]) {
      assert.is(ruleOf(c), undefined, c.path);
    }
  } finally {
    setHostRoot(null);
    rmSync(root, { recursive: true, force: true });
  }
});

test('path-shadow and library-shadow: a new command or library named as one in another host dir is listed each, the rest counted', () => {
  const root = mkdtempSync(join(tmpdir(), 'sbx-shadow-case-'));
  const other = mkdtempSync(join(tmpdir(), 'sbx-shadow-other-'));
  try {
    for (const d of ['usr/bin', 'usr/local/bin', 'usr/lib/x86_64-linux-gnu', 'usr/local/lib', 'opt', 'elsewhere/bin']) mkdirSync(join(root, d), { recursive: true });
    for (const f of ['usr/bin/sudo', 'usr/bin/ls', 'usr/lib/x86_64-linux-gnu/libssl.so.3', 'elsewhere/bin/secret']) writeFileSync(join(root, f), '');
    // Merged /usr's /bin and a PATH dir behind a symlink: neither is followed.
    symlinkSync('usr/bin', join(root, 'bin'));
    symlinkSync('../elsewhere', join(root, 'opt/tool'));
    mkdirSync(join(other, 'usr/bin'), { recursive: true });
    writeFileSync(join(other, 'usr/bin/newtool'), '');
    // An old atime (relatime moves it at the next listing): the rules must leave it as it was.
    const old = new Date('2000-01-01T00:00:00Z');
    utimesSync(join(root, 'usr/bin'), old, statSync(join(root, 'usr/bin')).mtime);
    const cmd = 'new command with the name of a host command in another PATH dir (a PATH that lists this dir first runs it instead)';
    const lib = 'new shared library with the name of one the host has in another loader dir (programs may load it instead)';
    setHostRoot(root);
    for (const p of ['/usr/local/bin/sudo', '/home/u/.local/bin/ls', '/opt/tool/bin/ls', '/home/alice/bin/sudo']) assert.is(sensitiveReason(file(p), ctx), cmd, p);
    for (const p of ['/usr/local/bin/newtool', '/usr/local/bin/secret', '/usr/bin/newtool']) assert.is(sensitiveReason(file(p), ctx), 'new command in PATH', p);
    assert.is(sensitiveReason(file('/usr/local/bin/sudo', 'modified'), ctx), 'command in PATH changed');
    assert.is(statSync(join(root, 'usr/bin')).atimeMs, old.getTime(), 'a host dir listed by the rules keeps its atime');
    // A completion loaded when a host command is completed, or one for a new name.
    for (const p of ['/usr/share/bash-completion/completions/sudo', '/usr/share/bash-completion/completions/_sudo', '/usr/share/bash-completion/completions/ls.bash', '/usr/share/fish/vendor_completions.d/ls.fish']) assert.is(ruleOf(file(p)), 'shell-startup', p);
    for (const p of ['/usr/share/bash-completion/completions/newtool', '/usr/share/bash-completion/completions/_newtool']) assert.is(ruleOf(file(p)), 'new-completion', p);
    assert.is(ruleOf(file('/usr/share/zsh/vendor-completions/_newtool')), 'shell-startup');
    assert.is(sensitiveReason({ path: '/usr/local/bin/ls', change: 'added', type: 'dir' }, ctx), null);
    for (const p of ['/usr/local/lib/libssl.so.3', '/usr/lib/libssl.so.3', '/usr/local/lib/x86_64-linux-gnu/libssl.so.3']) assert.is(sensitiveReason(file(p), ctx), lib, p);
    assert.is(sensitiveReason(file('/usr/local/lib/libnew.so.1'), ctx), 'new shared library on the loader path');
    assert.is(sensitiveReason(file('/usr/lib/x86_64-linux-gnu/libssl.so.3', 'modified'), ctx), 'shared library on the loader path');
    // Asked again in another tree (an image's): its names, not the last tree's.
    setHostRoot(other);
    assert.is(sensitiveReason(file('/usr/local/bin/newtool'), ctx), cmd);
    assert.is(sensitiveReason(file('/usr/local/bin/sudo'), ctx), 'new command in PATH');
    // One the host got in the same dir since the sandbox began: the added one replaces it.
    assert.is(sensitiveReason(file('/usr/bin/newtool'), ctx), cmd);
  } finally {
    setHostRoot(null);
    rmSync(root, { recursive: true, force: true });
    rmSync(other, { recursive: true, force: true });
  }
});

test("an image's review asks the image's ld.so.conf, read beneath its root with no symlink followed, not this machine's", () => {
  const root = mkdtempSync(join(tmpdir(), 'sbx-ldconf-image-'));
  const outside = mkdtempSync(join(tmpdir(), 'sbx-ldconf-outside-'));
  const linked = mkdtempSync(join(tmpdir(), 'sbx-ldconf-linked-'));
  try {
    mkdirSync(join(root, 'etc', 'ld.so.conf.d'), { recursive: true });
    writeFileSync(join(root, 'etc', 'ld.so.conf'), 'include /etc/ld.so.conf.d/*.conf\n/opt/imgone/lib\n');
    writeFileSync(join(root, 'etc', 'ld.so.conf.d', 'a.conf'), '/opt/imgtwo/lib\n');
    // A conf that is a link (to a file of this machine's, or of the image's): not read.
    writeFileSync(join(outside, 'evil.conf'), '/opt/leaked/lib\n');
    symlinkSync(join(outside, 'evil.conf'), join(root, 'etc', 'ld.so.conf.d', 'b.conf'));
    symlinkSync('/etc/ld.so.conf.d/a.conf', join(root, 'etc', 'ld.so.conf.d', 'c.conf'));
    setHostRoot(root);
    const onPath = 'new shared library on the loader path';
    assert.is(sensitiveReason(file('/opt/imgone/lib/libnew.so.1'), ctx), onPath);
    assert.is(sensitiveReason(file('/opt/imgtwo/lib/libnew.so.1'), ctx), onPath);
    assert.is(sensitiveReason(file('/opt/leaked/lib/libnew.so.1'), ctx), null);
    // A dir only this machine's conf names (this VM's CUDA lib dir) means nothing in the image.
    for (const d of [...hostLoaderConfDirs()].filter((x) => !/^\/(usr\/)?(local\/)?lib(32|64)?(\/|$)/.test(x))) assert.is(sensitiveReason(file(`${d}/libnew.so.1`), ctx), null, d);
    // An image whose /etc is a link (to a dir of this machine's): nothing read through it.
    symlinkSync(outside, join(linked, 'etc'));
    writeFileSync(join(outside, 'ld.so.conf'), '/opt/imgone/lib\n');
    setHostRoot(linked);
    assert.is(sensitiveReason(file('/opt/imgone/lib/libnew.so.1'), ctx), null);
  } finally {
    setHostRoot(null);
    for (const d of [root, linked, outside]) rmSync(d, { recursive: true, force: true });
  }
});

test("a library in a dir the host's ld.so.conf names (a vendor's: CUDA's lib dir) is on the loader path, and shadows as the standard dirs' do", () => {
  const root = mkdtempSync(join(tmpdir(), 'sbx-ldconf-case-'));
  try {
    for (const f of ['usr/lib/x86_64-linux-gnu/libssl.so.3', 'opt/vendor/lib/libvendor.so.1']) {
      mkdirSync(join(root, f, '..'), { recursive: true });
      writeFileSync(join(root, f), '');
    }
    setHostRoot(root);
    const conf = { ...ctx, loaderDirs: new Set(['/opt/vendor/lib']) };
    const lib = 'new shared library with the name of one the host has in another loader dir (programs may load it instead)';
    assert.is(sensitiveReason(file('/opt/vendor/lib/libnew.so.2'), conf), 'new shared library on the loader path');
    assert.is(sensitiveReason(file('/opt/vendor/lib/libssl.so.3'), conf), lib);
    assert.is(sensitiveReason(file('/usr/local/lib/libvendor.so.1'), conf), lib);
    assert.is(sensitiveReason(file('/opt/vendor/lib/libvendor.so.1', 'modified'), conf), 'shared library on the loader path');
    // A dir no ld.so.conf names: a library there is loaded only by who asks for its path.
    assert.is(sensitiveReason(file('/opt/other/lib/libnew.so.2'), conf), null);
    assert.is(sensitiveReason(file('/opt/vendor/lib/libnew.so.2'), { ...ctx, loaderDirs: new Set() }), null);
  } finally {
    setHostRoot(null);
    rmSync(root, { recursive: true, force: true });
  }
});

test('build-shadow: a new header, pkg-config file or CMake config found before one the host has is marked', () => {
  const root = mkdtempSync(join(tmpdir(), 'sbx-build-shadow-'));
  try {
    for (const f of ['usr/include/zlib.h', 'usr/include/openssl/ssl.h', 'usr/include/x86_64-linux-gnu/bits/types.h', 'usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h',
      'usr/lib/x86_64-linux-gnu/pkgconfig/zlib.pc', 'usr/lib/x86_64-linux-gnu/cmake/expat-2.5.0/expat-config.cmake', 'usr/lib/x86_64-linux-gnu/pkgconfig/sub/zlib.pc']) {
      mkdirSync(join(root, f, '..'), { recursive: true });
      writeFileSync(join(root, f), '');
    }
    setHostRoot(root);
    const why = 'new header, pkg-config or CMake package file with the name of one the host has later on its search path (later builds take this one instead)';
    for (const p of ['/usr/local/include/zlib.h', '/usr/local/include/openssl/ssl.h', '/usr/local/include/bits/types.h', '/usr/include/x86_64-linux-gnu/zlib.h',
      '/usr/lib/gcc/x86_64-linux-gnu/12/include/zlib.h', '/usr/local/lib/pkgconfig/zlib.pc', '/usr/local/share/pkgconfig/zlib.pc', '/usr/local/lib/x86_64-linux-gnu/pkgconfig/zlib.pc',
      '/usr/local/lib/cmake/expat-2.6.0/expat-config.cmake', '/usr/local/lib/cmake/Expat/ExpatConfig.cmake', '/usr/local/share/cmake/expat/expat-config.cmake']) {
      assert.is(ruleOf(file(p)), 'build-shadow', p);
      assert.is(sensitiveReason(file(p), ctx), why, p);
    }
    // Nothing of its name later on the path, the last dir, not where the search looks, not a config, a dir.
    for (const c of [file('/usr/local/include/newlib.h'), file('/usr/include/stddef.h'), file('/usr/share/pkgconfig/zlib.pc'), file('/usr/local/lib/pkgconfig/sub/zlib.pc'),
      file('/usr/local/lib/cmake/expat-2.6.0/expat-targets.cmake'), file('/usr/local/lib/cmake/zlib/zlib-config.cmake'), file('/usr/share/doc/x/include/zlib.h'),
      { path: '/usr/local/include/openssl', change: 'added', type: 'dir' } as C, { path: '/usr/local/include/zlib.h', change: 'deleted', type: 'file' } as C]) {
      assert.is.not(ruleOf(c), 'build-shadow', c.path);
    }
    // A host header changed is system-code's, as before.
    assert.is(ruleOf(file('/usr/include/zlib.h', 'modified')), 'system-code');
  } finally {
    setHostRoot(null);
    rmSync(root, { recursive: true, force: true });
  }
});

const PIXBUF = '/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache';
test('nix-store: a file added to a store path the host has is marked, one in a new store path is not', () => {
  // The host's tree, as the review sees it: a temp dir stands for `/` (as an image's does).
  const root = mkdtempSync(join(tmpdir(), 'sbx-nix-case-'));
  mkdirSync(join(root, 'nix/store/abc-bash-5.2/bin'), { recursive: true });
  setHostRoot(root);
  try {
    assert.is(ruleOf(file('/nix/store/abc-bash-5.2/bin/sh')), 'nix-store');
    assert.is(ruleOf({ path: '/nix/store/abc-bash-5.2/etc', change: 'added', type: 'dir' }), 'nix-store');
    assert.is(ruleOf(file('/nix/store/def-hello-2.12/bin/hello')), undefined);
    assert.is(ruleOf({ path: '/nix/store/def-hello-2.12', change: 'added', type: 'dir' }), undefined);
  } finally {
    setHostRoot(null);
    rmSync(root, { recursive: true, force: true });
  }
});

testUnless(existsSync(PIXBUF) ? null : `no ${PIXBUF} here`)("this machine's gdk-pixbuf loaders.cache, as its query tool wrote it, is no module-cache finding", () => {
  assert.is(sensitiveReason({ ...file(PIXBUF, 'modified'), upper: PIXBUF }, ctx), null);
});

test.run();
