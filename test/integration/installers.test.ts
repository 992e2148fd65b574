// Installers still work with the bounded capability set (issue 11): a .deb built on the spot
// and installed with dpkg (its postinst chowns and sets a setuid bit), make install with
// install -o/-g, pip and npm from local sources (no network), and, as root, useradd and chown.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { CI, IS_ROOT, makeCanary, makeStore, proveIsolation, removeCanary, sbx, removeStore } from '../helpers/sbx.js';
import { which } from '../../sandbox-core/which.js';
import { fuseProblem } from '../../sandbox-core/engines.js';
import { testUnless, USER_CASE } from '../helpers/skip.js';

const store = makeStore();
test.after(() => removeStore(store));

const SCRIPT = String.raw`set -e
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
W=$(mktemp -d /tmp/inst.XXXXXX); cd "$W"; export HOME="$W"
mkdir -p pkg/DEBIAN pkg/usr/share/sbx-inst
printf 'Package: sbx-inst\nVersion: 1.0\nArchitecture: all\nMaintainer: sbx tests <sbx@localhost>\nDescription: made by the sbx tests\n' > pkg/DEBIAN/control
printf '#!/bin/sh\nset -e\nchown 123:456 /usr/share/sbx-inst/data\nchmod 4755 /usr/share/sbx-inst/data\n' > pkg/DEBIAN/postinst
chmod 755 pkg/DEBIAN/postinst
echo data > pkg/usr/share/sbx-inst/data
dpkg-deb --root-owner-group --build pkg sbx-inst.deb >/dev/null
dpkg -i sbx-inst.deb >/dev/null
echo "dpkg=$(dpkg-query -W -f='${'${Status}'}' sbx-inst) $(stat -c '%u:%g %a' /usr/share/sbx-inst/data)"
mkdir src && printf 'install:\n\tinstall -D -m 755 -o 0 -g 0 hello $(DESTDIR)/usr/local/bin/sbx-inst-hello\n' > src/Makefile
printf '#!/bin/sh\necho hello\n' > src/hello
make -s -C src install
echo "make=$(sbx-inst-hello) $(stat -c '%u:%g %a' /usr/local/bin/sbx-inst-hello)"
if /usr/bin/python3 -c 'import pip, setuptools' 2>/dev/null; then
  mkdir -p py/sbxinstpy && echo 'X = 1' > py/sbxinstpy/__init__.py
  printf '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n[project]\nname = "sbxinstpy"\nversion = "1.0"\n' > py/pyproject.toml
  /usr/bin/python3 -m pip install -q --no-index --no-build-isolation --break-system-packages ./py >/dev/null 2>&1 || /usr/bin/python3 -m pip install -q --no-index --no-build-isolation --break-system-packages ./py
  echo "pip=$(/usr/bin/python3 -c 'import sbxinstpy; print(sbxinstpy.X)')"
else echo "pip=absent"; fi
if command -v npm >/dev/null; then
  mkdir npmpkg && printf '{"name":"sbx-inst-npm","version":"1.0.0","bin":{"sbx-inst-npm":"cli.js"}}' > npmpkg/package.json
  printf '#!/usr/bin/env node\nconsole.log("npm-ok")\n' > npmpkg/cli.js
  (cd npmpkg && npm pack -q >/dev/null 2>&1)
  npm install -g --offline --no-audit --no-fund ./npmpkg/sbx-inst-npm-1.0.0.tgz >/dev/null 2>&1 || npm install -g --offline --no-audit --no-fund ./npmpkg/sbx-inst-npm-1.0.0.tgz
  echo "npm=$(sbx-inst-npm)"
else echo "npm=absent"; fi
if [ "$INSTALLERS_USERADD" = 1 ]; then
  useradd -m sbxinstuser
  chown sbxinstuser: "$W"
  echo "useradd=$(id -u sbxinstuser >/dev/null && echo ok) $(stat -c %U "$W") $(stat -c %U /home/sbxinstuser)"
fi
`;

// Without fuse-overlayfs, system paths are read-only for an ordinary user: nothing to install into.
const cannot = !which('dpkg-deb') || !which('make') ? 'dpkg-deb or make is missing'
  : !IS_ROOT && fuseProblem(which) ? `system paths are read-only without fuse-overlayfs (${fuseProblem(which)})` : null;
const installTest = cannot && !CI ? test.skip : test;
if (cannot) console.log(`  ${CI ? 'failing' : 'skipping'}: ${cannot}`);

installTest('dpkg -i of a fresh .deb, make install, pip, npm (and useradd, chown as root) work inside with the default capabilities', () => {
  assert.is(cannot, null, cannot ?? '');
  const canary = makeCanary();
  try { proveIsolation(canary, store); } finally { removeCanary(canary); }
  // useradd needs /etc/shadow, which stays unreadable to an ordinary user's sandbox (docs/architecture.md).
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', SCRIPT], { store, env: { INSTALLERS_USERADD: IS_ROOT ? '1' : '0' }, timeoutMs: 240_000 });
  assert.is(r.code, 0, r.stderr + r.stdout);
  // As an ordinary user the fuse layer shows every file as root's: the chown cannot show.
  assert.match(r.stdout, IS_ROOT ? /^dpkg=install ok installed 123:456 4755$/m : /^dpkg=install ok installed \d+:\d+ 4755$/m);
  assert.match(r.stdout, /^make=hello 0:0 755$/m);
  if (!r.stdout.includes('pip=absent')) assert.match(r.stdout, /^pip=1$/m);
  if (!r.stdout.includes('npm=absent')) assert.match(r.stdout, /^npm=npm-ok$/m);
  if (IS_ROOT) assert.match(r.stdout, /^useradd=ok sbxinstuser sbxinstuser$/m);
  for (const p of ['/usr/share/sbx-inst', '/usr/local/bin/sbx-inst-hello', '/home/sbxinstuser']) assert.not.ok(existsSync(p), `${p} reached the host`);
});

const ACCOUNTS = String.raw`set -e
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
W=$(mktemp -d /tmp/acct.XXXXXX); cd "$W"
adduser --system --group --no-create-home --quiet sbxacct-a
groupadd -r sbxacct-g
useradd -r -g sbxacct-g sbxacct-u
printf 'u sbxacct-s - "sbx tests" /nonexistent\n' > s.conf
systemd-sysusers "$W/s.conf"
mkdir -p pkg/DEBIAN
printf 'Package: sbx-acct\nVersion: 1.0\nArchitecture: all\nMaintainer: sbx tests <sbx@localhost>\nDescription: made by the sbx tests\n' > pkg/DEBIAN/control
printf '#!/bin/sh\nset -e\nadduser --system --group --no-create-home --quiet sbxacct-d\n' > pkg/DEBIAN/postinst
chmod 755 pkg/DEBIAN/postinst
dpkg-deb --root-owner-group --build pkg a.deb >/dev/null
dpkg -i a.deb >/dev/null
for u in sbxacct-a sbxacct-u sbxacct-s sbxacct-d; do id -u "$u" >/dev/null; done
echo "accounts=ok $(getent group sbxacct-g | cut -d: -f1)"
`;
// They live in sbin, which an ordinary user's PATH may lack.
const SBIN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const noAccounts = cannot ?? (['adduser', 'useradd', 'systemd-sysusers'].some((c) => !which(c, SBIN_PATH)) ? 'adduser, useradd or systemd-sysusers is missing' : null);

testUnless(noAccounts)('adduser --system, groupadd, useradd, systemd-sysusers and a postinst that adds a user work inside for an ordinary user as for root', () => {
  // An ordinary user's sandbox failed each ("groupadd: cannot lock /etc/group", then "cannot
  // open /etc/gshadow"): the account files are root's and fuse-overlayfs reads as the user.
  const before = readFileSync('/etc/passwd', 'utf8');
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', ACCOUNTS], { store, timeoutMs: 240_000 });
  assert.is(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^accounts=ok sbxacct-g$/m);
  assert.is(readFileSync('/etc/passwd', 'utf8'), before, 'the host gained no account');
});

testUnless(noAccounts)('the account files shown empty are no change, and what the command wrote there is never in the review', () => {
  const name = `acct-${process.pid}`;
  try {
    const r = sbx(['run', '--name', name, '--', 'sh', '-c', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin; groupadd -r sbxacct-r'], { store, timeoutMs: 120_000 });
    assert.is(r.code, 0, r.stderr + r.stdout);
    const d = sbx(['diff', name, '--name-only'], { store });
    assert.is(d.code, 0, d.stderr);
    assert.match(d.stdout, /^\/etc\/group$/m);
    // As root the sandbox wrote the real files (their copies), which a commit would keep.
    if (IS_ROOT) assert.match(d.stdout, /^\/etc\/gshadow$/m);
    else {
      assert.not.match(d.stdout, /shadow|pwd\.lock/, d.stdout);
      assert.match(r.stderr, /\/etc\/gshadow.* changed inside: shown empty/);
    }
  } finally {
    sbx(['discard', name], { store });
  }
  // A -n run's review says so too (nothing to commit); a -q one has no review to explain.
  if (!IS_ROOT) {
    // useradd writes four of them (and their lock): each is named, not left to `sbx doctor`, which does not list them.
    const n = sbx(['run', '-n', '--', 'sh', '-c', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin; useradd -r sbxacct-n'], { store, timeoutMs: 120_000 });
    assert.is(n.code, 0, n.stderr + n.stdout);
    assert.match(n.stderr, /\/etc\/shadow, .*\/etc\/gshadow-.* changed inside: shown empty \(unreadable to you on the host\), so the review leaves them out\n/);
    assert.not.match(n.stderr, /more \(sbx doctor lists them\)/);
    const q = sbx(['run', '-n', '-q', '--', 'sh', '-c', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin; groupadd -r sbxacct-q'], { store, timeoutMs: 120_000 });
    assert.is(q.code, 0, q.stderr + q.stdout);
    assert.not.match(q.stderr, /changed inside/);
  }
  // Left alone, they are no change: the copies keep the host's mode and times (an ordinary
  // user's review would otherwise list five files it cannot read on every run).
  try {
    const r = sbx(['run', '--name', name, '-q', '--', 'true'], { store });
    assert.is(r.code, 0, r.stderr);
    const d = sbx(['diff', name, '--name-only'], { store });
    assert.is(d.code, 0, d.stderr);
    assert.is(d.stdout, '');
  } finally {
    sbx(['discard', name], { store });
  }
});

// apt's transcript of dpkg's output, 0640 root:adm on Debian: an ordinary user's every apt-get
// install warned it could not open it ("W: Could not open file '/var/log/apt/term.log'").
const TERM_LOG = '/var/log/apt/term.log';
const noTermLog = USER_CASE ?? (() => {
  try { accessSync(TERM_LOG, constants.R_OK); return `${TERM_LOG} is readable to this user here`; } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EACCES' ? null : `no ${TERM_LOG} here`;
  }
})();
testUnless(noTermLog)("apt's root-only term.log is shown empty and writable to an ordinary user; what is written there is never in the review", () => {
  const name = `termlog-${process.pid}`;
  try {
    const r = sbx(['run', '--name', name, '--', 'sh', '-c', `echo line >> ${TERM_LOG} && cat ${TERM_LOG}`], { store });
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'line\n', 'empty, then holding what was appended');
    assert.match(r.stderr, /no changes/);
    assert.not.match(r.stderr, /term\.log/, 'nothing said of it');
    const d = sbx(['diff', name, '--name-only'], { store });
    assert.is(d.code, 0, d.stderr);
    assert.is(d.stdout, '');
  } finally {
    sbx(['discard', name], { store });
  }
});

testUnless(noAccounts)('--hide of an account file (or a package manager\'s lock) keeps it absent inside', () => {
  // The copy shown empty was made before the whiteout and showed through it.
  const r = sbx(['run', '-n', '-q', '--hide', '/etc/shadow', '--hide', '/var/lib/dpkg', '--', 'sh', '-c', 'for p in /etc/shadow /var/lib/dpkg/lock; do [ -e "$p" ] && echo "shown: $p"; done; echo done'], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'done\n');
});

// Root inside (fuse-overlayfs layers for an ordinary user) and --user (kernel overlays, your own
// uid) plan a sandbox differently: one made by either cannot be run in by the other.
const noFuse = !IS_ROOT && fuseProblem(which) ? `without fuse-overlayfs every run plans kernel overlays (${fuseProblem(which)})` : null;
testUnless(noFuse)('run --in with --user in a sandbox made as root inside (and the other way) is refused with the reason as an ordinary user; as root both work', () => {
  const a = `asroot-${process.pid}`, b = `asuser-${process.pid}`;
  const mark = `/tmp/sbx-mixed-${process.pid}`;
  try {
    // Old code: the fuse layers mounted as kernel overlays refused lookups (`/usr/bin`: EACCES,
    // exit 126 for `sh`), and the next --user run found /usr, /etc, ... read-only (EINVAL).
    let r = sbx(['run', '--name', a, '-q', '--', 'sh', '-c', `touch /usr/bin/sbx-mixed-${process.pid} ${mark}`], { store });
    assert.is(r.code, 0, r.stderr);
    r = sbx(['run', '--in', a, '--user', '-q', '--', 'sh', '-c', `cat ${mark} && echo seen`], { store });
    if (IS_ROOT) assert.is(r.stdout, 'seen\n', r.stderr);
    else {
      assert.is(r.code, 125, r.stderr + r.stdout);
      assert.match(r.stderr, new RegExp(`sandbox ${a} was made by a run as root inside: its / is a fuse-overlayfs layer, which a --user run cannot show`), r.stderr);
    }
    // Old code: root inside could not write /usr (EACCES) nor see what the --user run wrote.
    r = sbx(['run', '--name', b, '--user', '-q', '--', 'sh', '-c', `: > ${mark}-u`], { store });
    assert.is(r.code, 0, r.stderr);
    r = sbx(['run', '--in', b, '-q', '--', 'sh', '-c', `cat ${mark}-u && echo seen`], { store });
    if (IS_ROOT) assert.is(r.stdout, 'seen\n', r.stderr);
    else {
      assert.is(r.code, 125, r.stderr + r.stdout);
      assert.match(r.stderr, new RegExp(`sandbox ${b} was made by a --user run: a run as root inside could not show it`));
    }
    // Runs of the sandbox's own kind go on as before.
    assert.is(sbx(['run', '--in', a, '-q', '--', 'cat', mark], { store }).code, 0);
    assert.is(sbx(['run', '--in', b, '--user', '-q', '--', 'cat', `${mark}-u`], { store }).code, 0);
  } finally {
    sbx(['discard', a], { store });
    sbx(['discard', b], { store });
  }
  assert.not.ok(existsSync(mark), 'the host gained the file');
});

test.run();
