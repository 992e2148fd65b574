// The review summary: a new dir is one line with exact counts and bytes, fold-list matches are
// one counted line per rule (and still in the change list), flagged changes are never grouped
// with unflagged ones (bytecode for host sources is one flagged line per tree), and the
// rest comes largest top-level tree first.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { commitSandbox } from '../../sandbox-core/commit/index.js';
import { dirname, join } from 'node:path';
import { makeFixture, markStarted, whiteout, write, type Fixture } from './changes-fixture.js';
import { scanSandbox } from '../../sandbox-core/changes/scan.js';
import { renderSummary, renderStat, changesJson, summaryPlan } from '../../cli/render-changes.js';
import { refusalLines } from '../../cli/commit-report.js';
import { hostTreeSize, type TreeSize } from '../../sandbox-core/changes/host-tree.js';
import { viewKind, isGroup, SIBLINGS, TIMES_ALONE, TIMES_DIRS } from '../../sandbox-core/changes/group.js';
import type { Change } from '../../sandbox-core/changes/types.js';
import { loadFoldRules, parseFoldRules } from '../../policies/fold.js';
import { countText } from '../../sandbox-core/base/count-text.js';
import { flaggedQuestion } from '../../cli/review.js';
import { sensitiveContext, sensitiveReason } from '../../sandbox-core/changes/sensitive.js';
import { setHostRoot } from '../../sandbox-core/changes/fsat.js';

const plain = { green: (s: string) => s, red: (s: string) => s, yellow: (s: string) => s, cyan: (s: string) => s, magenta: (s: string) => s, dim: (s: string) => s, bold: (s: string) => s };
let f: Fixture;
test.before.each(() => { f = makeFixture(); });
test.after.each(() => f.cleanup());

test('a new dir is one line with its file count and bytes; --all lists every path', () => {
  const U = (p: string) => join(f.upper(), p);
  write(join(f.host, 'old.txt'), 'x\n');
  markStarted(f);
  write(U('pkg/index.js'), 'a'.repeat(1000));
  write(U('pkg/lib/a.js'), 'b'.repeat(2000));
  write(U('pkg/lib/b.js'), 'c'.repeat(48));
  mkdirSync(U('pkg/empty'));
  write(U('single.txt'), 'hi\n');
  whiteout(U('old.txt'));
  const { changes } = scanSandbox(f.meta);
  assert.is(changes.filter((c) => c.change === 'added').length, 7);
  const out = renderSummary(changes, plain, { fold: [] });
  assert.ok(out.includes(`  added:    ${f.host}/pkg/ (3 files, 2 dirs, 3.0 KiB)\n`), out);
  assert.ok(out.includes(`  added:    ${f.host}/single.txt\n`), out);
  assert.ok(out.includes(`  deleted:  ${f.host}/old.txt\n`), out);
  assert.not.ok(out.includes('index.js'), out);
  assert.ok(out.startsWith('Added (7):\n'), out);
  const all = renderSummary(changes, plain, { expand: true });
  for (const c of changes) assert.ok(all.includes(c.path), c.path);
  // JSON always lists every path.
  assert.is(JSON.parse(changesJson('x', changes)).changes.length, changes.length);
});

test('hard links: the summary counts a file\'s bytes once per inode, as the commit does', () => {
  const U = (p: string) => join(f.upper(), p);
  markStarted(f);
  write(U('hl/a'), 'four');
  linkSync(U('hl/a'), U('hl/b'));
  write(U('hl/c'), 'xy');
  const { changes } = scanSandbox(f.meta);
  const out = renderSummary(changes, plain, { fold: [] });
  assert.ok(out.includes(`  added:    ${f.host}/hl/ (3 files, 6 B)\n`), out);
  const r = commitSandbox(f.store, f.meta, { only: [], exclude: [], force: false, dryRun: false });
  assert.ok(r.complete);
  assert.is(r.result!.bytes, 6, 'the commit\'s line: b is a link to a, no bytes of its own');
  assert.is(statSync(join(f.host, 'hl/a')).ino, statSync(join(f.host, 'hl/b')).ino);
});

test('a large modified file (no diff shown) names its mode change beside its size, as a small one does', () => {
  const U = (p: string) => join(f.upper(), p);
  write(join(f.host, 'app.conf'), 'cfg=1\n'.repeat(200_000));
  chmodSync(join(f.host, 'app.conf'), 0o644);
  markStarted(f);
  write(U('app.conf'), 'cfg=2\n'.repeat(200_000));
  chmodSync(U('app.conf'), 0o755);
  const { changes } = scanSandbox(f.meta);
  const out = renderSummary(changes, plain, { fold: [] });
  assert.match(out, new RegExp(`  modified: ${f.host}/app\\.conf \\(1\\.1 MiB, [^,]+ allocated, mode 644→755\\)\n`), out);
});

test('fold-list matches are one counted line and still in the change list', () => {
  const U = (p: string) => join(f.upper(), p);
  mkdirSync(join(f.host, 'home/.npm'), { recursive: true });
  mkdirSync(join(f.host, 'proj'), { recursive: true });
  markStarted(f);
  for (let i = 0; i < 5; i++) write(U(`home/.npm/_cacache/content/${i}`), 'z'.repeat(100));
  write(U('proj/__pycache__/m.cpython-311.pyc'), 'p');
  write(U('proj/m.py'), 'print(1)\n');
  const { changes } = scanSandbox(f.meta);
  const out = renderSummary(changes, plain);
  assert.ok(/ {2}added: {4}7 in npm cache \(500 B\), folded\n/.test(out), out);
  assert.ok(/ {2}added: {4}2 in python bytecode \(1 B\), folded\n/.test(out), out);
  assert.ok(out.includes(`${f.host}/proj/m.py\n`), out);
  assert.ok(out.includes("9 folded: kept too unless excluded ('sbx diff --all' lists each)\n"), out);
  // The command a store's sandbox is listed with (store.ts sbxFor's prefix), or none.
  const sudo = renderSummary(changes, plain, { listAll: 'sudo SBX_HOME=/s sbx diff trial --all' });
  assert.ok(sudo.includes("9 folded: kept too unless excluded ('sudo SBX_HOME=/s sbx diff trial --all' lists each)\n"), sudo);
  assert.ok(renderSummary(changes, plain, { listAll: null }).includes('9 folded: kept too unless excluded\n'));
  assert.not.ok(out.includes('_cacache/content'), out);
  assert.ok(changes.some((c) => c.path.endsWith('_cacache/content/4')));
  for (const l of out.split('\n')) assert.ok(l.length <= 80 || l.includes(f.host), l);
});

test('a new dir line counts its files, dirs, symlinks and other entries; one whose files are all on other lines names only its dirs', () => {
  const U = (p: string) => join(f.upper(), p);
  markStarted(f);
  // Every file below lib/ is bytecode, folded on its own line: lib/ keeps only its dirs.
  write(U('lib/a/__pycache__/m.cpython-311.pyc'), 'p');
  write(U('lib/b/__pycache__/n.cpython-311.pyc'), 'q');
  write(U('pkg/index.js'), 'abc');
  mkdirSync(U('pkg/sub'));
  symlinkSync('index.js', U('pkg/main.js'));
  const fifo = spawnSync('mkfifo', [U('pkg/pipe')]);
  assert.is(fifo.status, 0, String(fifo.stderr));
  const { changes } = scanSandbox(f.meta);
  const out = renderSummary(changes, plain);
  assert.ok(out.includes(`  added:    ${f.host}/lib/ (2 dirs)\n`), out);
  assert.ok(out.includes(`  added:    ${f.host}/pkg/ (1 file, 1 dir, 1 symlink, 1 other entry, 3 B)\n`), out);
  assert.not.ok(out.includes('0 files'), out);
});

test('a __pycache__ .pyc for a source the host has is flagged and listed, an edit of it in the sandbox too; one beside a new source folds', () => {
  const U = (p: string) => join(f.upper(), p);
  const why = 'bytecode Python runs in place of its source (it checks mtime and size, not that the code matches the .py)';
  for (const m of ['kept', 'touched', 'opt', 'edited', 'gone']) write(join(f.host, `lib/${m}.py`), 'print(1)\n');
  mkdirSync(join(f.host, 'lib/__pycache__'));
  write(join(f.host, 'lib/__pycache__/old.cpython-311.pyc'), 'o');
  write(join(f.host, 'lib/old.py'), 'print(0)\n');
  markStarted(f);
  write(U('lib/__pycache__/kept.cpython-311.pyc'), 'evil');
  write(U('lib/__pycache__/opt.cpython-311.opt-2.pyc'), 'evil');
  write(U('lib/__pycache__/old.cpython-311.pyc'), 'evil');
  // A touch keeps the bytes (a metadata change) and gives the .pyc a new mtime to name.
  write(U('lib/touched.py'), 'print(1)\n');
  write(U('lib/__pycache__/touched.cpython-311.pyc'), 'evil');
  // A harmless edit of another size, and bytecode of other code naming the new mtime and size:
  // Python never compares the code with the reviewed .py.
  write(U('lib/edited.py'), 'print(12345)\n');
  write(U('lib/__pycache__/edited.cpython-311.pyc'), 'evil');
  whiteout(U('lib/gone.py'));
  write(U('lib/__pycache__/gone.cpython-311.pyc'), 'p');
  // No source beside it (Python does not import it), a new package (pip install).
  write(U('lib/__pycache__/nosource.cpython-311.pyc'), 'p');
  write(U('new/m.py'), 'print(2)\n');
  write(U('new/__pycache__/m.cpython-311.pyc'), 'p');
  const { changes } = scanSandbox(f.meta);
  const out = renderSummary(changes, plain);
  const flagged = out.split('\n').filter((l) => l.startsWith('! ')).map((l) => l.replace(/ +/g, ' '));
  // The three added ones are one line (the rule's entries come by the dozen); --all lists each.
  assert.equal(flagged, [
    `! modified: ${f.host}/lib/__pycache__/old.cpython-311.pyc [! ${why}]`,
    `! added: 4 bytecode files in ${f.host}/lib/__pycache__/ ('sbx diff --all' lists each) [! ${why}]`,
    '! 5 changes marked ! (code that runs later, or access for others): review them before keeping',
  ], out);
  const sudo = renderSummary(changes, plain, { listAll: 'sudo sbx diff 1a2b3c4d --all' });
  assert.ok(sudo.includes(`bytecode files in ${f.host}/lib/__pycache__/ ('sudo sbx diff 1a2b3c4d --all' lists each)`), sudo);
  const all = renderSummary(changes, plain, { expand: true }).split('\n').filter((l) => l.startsWith('! ')).map((l) => l.replace(/ +/g, ' '));
  assert.equal(all, [
    `! modified: ${f.host}/lib/__pycache__/old.cpython-311.pyc [! ${why}]`,
    `! added: ${f.host}/lib/__pycache__/edited.cpython-311.pyc [! ${why}]`,
    `! added: ${f.host}/lib/__pycache__/kept.cpython-311.pyc [! ${why}]`,
    `! added: ${f.host}/lib/__pycache__/opt.cpython-311.opt-2.pyc [! ${why}]`,
    `! added: ${f.host}/lib/__pycache__/touched.cpython-311.pyc [! ${why}]`,
    '! 5 changes marked ! (code that runs later, or access for others): review them before keeping',
  ], all.join('\n'));
  assert.match(out, /added: {4}4 in python bytecode \(3 B\), folded/);
  assert.is(JSON.parse(changesJson('x', changes)).sensitive, 5);
});

test('30 bytecode files for unchanged host sources are one flagged line per tree; a flagged PATH command keeps its own', () => {
  const U = (p: string) => join(f.upper(), p);
  const why = 'bytecode Python runs in place of its source (it checks mtime and size, not that the code matches the .py)';
  // A checkout made outside the sandbox: 30 modules in 4 packages, no __pycache__ yet.
  const mods = Array.from({ length: 30 }, (_, i) => `${['pkg', 'pkg/a', 'pkg/b', 'tests'][i % 4]}/m${i}`);
  for (const m of mods) write(join(f.host, `proj/${m}.py`), `print(${m.length})\n`);
  write(join(f.host, 'bin/tool'), '#!/bin/sh\n');
  markStarted(f);
  for (const m of mods) write(U(`proj/${m.replace(/[^/]+$/, '__pycache__/$&')}.cpython-311.pyc`), 'bytecode');
  write(U('bin/tool'), '#!/bin/sh\nevil\n');
  const path = process.env.PATH;
  process.env.PATH = `${f.host}/bin:${path ?? ''}`;
  try {
    const { changes } = scanSandbox(f.meta);
    const out = renderSummary(changes, plain, 50);
    const lines = out.split('\n').filter((l) => l.startsWith('! ')).map((l) => l.replace(/ +/g, ' '));
    const trailer = '! 31 changes marked ! (code that runs later, or access for others): review them before keeping';
    // Exactly 2 flagged entry lines (and the count of flagged changes after them).
    assert.equal(lines, [
      `! modified: ${f.host}/bin/tool [! command in PATH changed]`,
      `! added: 30 bytecode files in 4 dirs under ${f.host}/proj/ ('sbx diff --all' lists each) [! ${why}]`,
      trailer,
    ], out);
    // --all and JSON list each, with its reason.
    const all = renderSummary(changes, plain, { expand: true }).split('\n').filter((l) => l.startsWith('! '));
    assert.is(all.length, 32, all.join('\n'));
    for (const m of mods) assert.ok(all.some((l) => l.includes(`/__pycache__/${m.split('/').pop()!}.cpython-311.pyc`) && l.endsWith(`[! ${why}]`)), m);
    const json = JSON.parse(changesJson('x', changes)) as { sensitive: number; changes: Array<{ path: string; sensitive?: string }> };
    assert.is(json.sensitive, 31);
    assert.is(json.changes.filter((c) => c.sensitive === why).length, 30);
    // Pick: the line is one choice, standing for each of the 30 (and flagged).
    const items = summaryPlan(changes, plain).kinds.flatMap((k) => k.items);
    const group = items.find((i) => i.label.startsWith('30 bytecode files'))!;
    assert.is(group.flagged, why);
    assert.is(group.paths().length, 30);
    assert.ok(group.paths().every((p) => p.endsWith('.pyc')));
    // The flagged question counts each, and names the rule once with its count.
    const reasons = changes.map((c) => sensitiveReason(c, sensitiveContext())).filter((r): r is string => r !== null);
    const q = flaggedQuestion(reasons);
    assert.ok(q.length <= 80, q);
    assert.is(q, '31 flagged changes (command in PATH changed, …): yes keeps them, n skips them: ');
    assert.is(flaggedQuestion(reasons.filter((r) => r === why)), '30 flagged changes (30 bytecode files): yes keeps them, n skips them: ');
    assert.is(flaggedQuestion([why, 'cron job', why]), '3 flagged changes (2 bytecode files, cron job): yes keeps them, n skips them: ');
  } finally {
    if (path === undefined) delete process.env.PATH; else process.env.PATH = path;
  }
});

test('a PATH dir replaced by, retargeted or made as a symlink is flagged as such; one off PATH as a dir made a symlink', () => {
  const U = (p: string) => join(f.upper(), p);
  write(join(f.host, 'bin/tool'), '#!/bin/sh\n');
  write(join(f.host, 'share/x'), 'x');
  mkdirSync(join(f.host, 'usr/bin'), { recursive: true });
  symlinkSync('usr/bin', join(f.host, 'sbin'));
  markStarted(f);
  symlinkSync('/tmp/x', U('bin'));
  symlinkSync('/tmp/x', U('sbin'));
  symlinkSync('/tmp/x', U('newbin'));
  symlinkSync('/tmp/x', U('share'));
  const path = process.env.PATH;
  process.env.PATH = `${f.host}/bin:${f.host}/sbin:${f.host}/newbin:${path ?? ''}`;
  try {
    const { changes } = scanSandbox(f.meta);
    const why = 'directory on PATH made a symlink (commands are then found where it points)';
    const out = renderSummary(changes, plain);
    assert.equal(out.split('\n').filter((l) => l.startsWith('! ')).map((l) => l.replace(/ +/g, ' ')), [
      `! modified: ${f.host}/sbin -> /tmp/x (was usr/bin) [! ${why}]`,
      `! added: ${f.host}/newbin -> /tmp/x [! ${why}]`,
      `! replaced: ${f.host}/bin -> /tmp/x (dir of 1 entry, 10 B → symlink) [! ${why}]`,
      `! replaced: ${f.host}/share -> /tmp/x (dir of 1 entry, 1 B → symlink) [! directory made a symlink (what is later written into it goes where it points)]`,
      '! 4 changes marked ! (code that runs later, or access for others): review them before keeping',
    ], out);
  } finally {
    if (path === undefined) delete process.env.PATH; else process.env.PATH = path;
  }
});

test('new world-writable entries are flagged, one line per tree; a sticky dir is not', () => {
  const U = (p: string) => join(f.upper(), p);
  markStarted(f);
  // The probe's `mkdir -m 777 d; touch d/f; chmod 666 d/f`, and one file alone.
  mkdirSync(U('d'));
  write(U('d/f'), '', 0o666);
  chmodSync(U('d'), 0o777);
  write(U('one'), 'x', 0o646);
  mkdirSync(U('tmp'));
  chmodSync(U('tmp'), 0o1777);
  write(U('tmp/mine'), 'x', 0o644);
  const { changes } = scanSandbox(f.meta);
  const why = 'world-writable (any local user can change it after the commit)';
  const out = renderSummary(changes, plain);
  assert.equal(out.split('\n').filter((l) => l.startsWith('! ')).map((l) => l.replace(/ +/g, ' ')), [
    `! added: 3 world-writable entries in 2 dirs under ${f.host}/ ('sbx diff --all' lists each) [! ${why}]`,
    '! 3 changes marked ! (code that runs later, or access for others): review them before keeping',
  ], out);
  assert.ok(out.includes(`  added:    ${f.host}/tmp/ (1 file, 1 B)`), out);
  const all = renderSummary(changes, plain, { expand: true }).split('\n').filter((l) => l.startsWith('! ')).map((l) => l.replace(/ +/g, ' '));
  assert.equal(all.slice(0, 3), [`! added: ${f.host}/d/ [! ${why}]`, `! added: ${f.host}/d/f [! ${why}]`, `! added: ${f.host}/one [! ${why}]`], all.join('\n'));
});

function ch(path: string, type: Change['type'], size = 0): Change {
  return { path, change: 'added', type, size };
}

test('items come largest top-level tree first; a group under a folded dir does not swallow it', () => {
  const v = viewKind('added', [
    ch('/etc/a.conf', 'file', 10),
    ch('/opt', 'dir'), ch('/opt/app', 'dir'), ch('/opt/app/bin', 'file', 5000),
    ch('/usr/x', 'file', 100),
    ch('/usr/y', 'file', 200),
  ], []);
  const names = v.items.map((x) => (isGroup(x) ? `${x.root.path}/*${x.entries}` : x.path));
  assert.equal(names, ['/opt/*2', '/usr/x', '/usr/y', '/etc/a.conf']);
  const g = v.items[0]!;
  assert.ok(isGroup(g) && g.files === 1 && g.bytes === 5000);
});

test('the shipped fold list loads; a malformed one is one clear error', () => {
  assert.ok(loadFoldRules().some((r) => r.name === 'npm cache'));
  assert.throws(() => parseFoldRules({ fold: [{ name: 'x' }] }, 'f.json'), /f\.json: fold\[0\]: "paths" must be/);
  assert.throws(() => parseFoldRules({ fodl: [] }, 'f.json'), /unknown key "fodl"/);
});

test('the lock files every apt run touches fold into one line; apt\'s real state does not', () => {
  const meta = (path: string): Change => ({ ...ch(path, 'file'), change: 'metadata' });
  const out = renderSummary(['/var/lib/dpkg/lock', '/var/lib/dpkg/lock-frontend', '/var/lib/dpkg/triggers/Lock', '/var/lib/apt/extended_states'].map(meta), plain);
  assert.ok(out.includes('  metadata: 3 in package manager lock files, folded\n'), out);
  assert.match(out, /^ {2}metadata: \/var\/lib\/apt\/extended_states\b/m);
});

test("a many rule's line names a tree: changes that share only /usr are split by their dirs' first three components", () => {
  const why = "installed program's code changed (runs, or is built in, when it is next used)";
  const as = (c: Change): Change => ({ ...c, change: 'modified' });
  const changes: Change[] = ['/usr/include/stdio.h', '/usr/include/stdlib.h', '/usr/share/vim/vim90/defaults.vim', '/usr/share/vim/vim90/filetype.vim', '/usr/share/vim/vim90/keymap/greek.vim', '/usr/share/cmake-3.25/Modules/FindZLIB.cmake']
    .map((p) => as(ch(p, 'file', 10)));
  const flagged = renderSummary(changes, plain).split('\n').filter((l) => l.startsWith('! ')).map((l) => l.replace(/ +/g, ' '));
  assert.equal(flagged, [
    `! modified: 2 installed code files in /usr/include/ ('sbx diff --all' lists each) [! ${why}]`,
    `! modified: 3 installed code files in 2 dirs under /usr/share/vim/vim90/ ('sbx diff --all' lists each) [! ${why}]`,
    `! modified: /usr/share/cmake-3.25/Modules/FindZLIB.cmake [! ${why}]`,
    '! 6 changes marked ! (code that runs later, or access for others): review them before keeping',
  ]);
});

test("a package install's server config, maintainer scripts, units and init links are a line per dir; one alone keeps its own", () => {
  // What apt-get install apache2 writes by the dozen (a line each made a five-package install
  // 555 flagged lines); a host package's postinst changed alone is still its own line.
  const added = ['/etc/apache2/mods-available/cgi.load', '/etc/apache2/mods-available/ssl.conf', '/etc/apache2/mods-enabled/mpm_event.load', '/etc/apache2/mods-enabled/mpm_event.conf',
    '/var/lib/dpkg/info/apache2.postinst', '/var/lib/dpkg/info/apache2.prerm', '/var/lib/dpkg/info/apache2.postrm', '/etc/systemd/system/multi-user.target.wants/apache2.service',
    '/usr/lib/systemd/system/apache2.service', '/usr/lib/systemd/system/apache-htcacheclean.service', '/etc/rc2.d/S01apache2', '/etc/rc3.d/S01apache2', '/etc/rc2.d/K01x',
    '/etc/php/8.2/cli/conf.d/20-ctype.ini', '/etc/php/8.2/cli/conf.d/20-iconv.ini', '/etc/apparmor.d/abstractions/base', '/etc/apparmor.d/abstractions/bash'].map((p) => ch(p, 'file', 10));
  const changed: Change = { ...ch('/var/lib/dpkg/info/coreutils.postinst', 'file', 10), change: 'modified' };
  const ctx = sensitiveContext({ PATH: '/usr/bin:/bin', HOME: '/root' });
  const changes = [...added, changed].map((c) => ({ ...c, sensitive: sensitiveReason(c, ctx) ?? undefined }));
  const flagged = renderSummary(changes, plain).split('\n').filter((l) => l.startsWith('! ')).map((l) => l.replace(/ +/g, ' ').replace(/ \('sbx diff --all' lists each\) \[!.*$/, ''));
  assert.equal(flagged, [
    '! modified: /var/lib/dpkg/info/coreutils.postinst [! dpkg hook or maintainer script (runs as root at a later install)]',
    '! added: 4 server config files in 2 dirs under /etc/apache2/',
    '! added: 3 maintainer scripts and dpkg hooks in /var/lib/dpkg/info/',
    '! added: /etc/systemd/system/multi-user.target.wants/apache2.service [! systemd unit]',
    '! added: 2 systemd units and links in /usr/lib/systemd/system/',
    // The runlevel dirs hold links to the same scripts: one line, where a dir each was seven.
    '! added: 3 init scripts and links in 2 dirs /etc/rc?.d/',
    '! added: 2 PHP config files in /etc/php/8.2/cli/conf.d/',
    '! added: 2 AppArmor or SELinux policy files in /etc/apparmor.d/abstractions/',
    '! 18 changes marked ! (code that runs later, or access for others): review them before keeping',
  ], flagged.join('\n'));
});

test("a many rule's entries in /etc are a line per package dir, its subdirs with it", () => {
  // apt-get install nginx postfix: nginx's /etc/nginx, sites-available/, sites-enabled/ and
  // snippets/ were four lines (split from postfix's by their dirs' first three components),
  // apache2's seven.
  const ctx = sensitiveContext({ PATH: '/usr/bin:/bin', HOME: '/root' });
  const files = ['/etc/nginx/nginx.conf', '/etc/nginx/mime.types', '/etc/nginx/sites-available/default', '/etc/nginx/snippets/fastcgi-php.conf', '/etc/nginx/snippets/snakeoil.conf',
    '/etc/postfix/main.cf', '/etc/postfix/master.cf', '/etc/rsyslog.d/postfix.conf', '/etc/apache2/sites-available/a.conf', '/etc/apache2/mods-enabled/b.load',
    '/etc/network/if-up.d/postfix', '/etc/network/if-down.d/postfix'].map((p) => ch(p, 'file', 10));
  const link: Change = { ...ch('/etc/nginx/sites-enabled/default', 'symlink'), target: '/etc/nginx/sites-available/default' };
  // Outside /etc the first three components stay (the test above): /usr/share holds every package's.
  const changes = [...files, link].sort((a, b) => (a.path < b.path ? -1 : 1)).map((c) => ({ ...c, sensitive: sensitiveReason(c, ctx) ?? undefined }));
  const flagged = renderSummary(changes, plain).split('\n').filter((l) => l.startsWith('! ')).map((l) => l.replace(/ +/g, ' ').replace(/ \('sbx diff --all' lists each\)/, ''));
  const config = 'server config (the programs and modules a server starts or loads, who may log in)';
  assert.equal(flagged.filter((l) => l.includes(config)), [
    `! added: 2 server config files in 2 dirs under /etc/apache2/ [! ${config}]`,
    `! added: 6 server config files in 4 dirs under /etc/nginx/ [! ${config}]`,
    `! added: 2 server config files in /etc/postfix/ [! ${config}]`,
    `! added: /etc/rsyslog.d/postfix.conf [! ${config}]`,
  ], flagged.join('\n'));
  assert.ok(flagged.some((l) => l.startsWith('! added: 2 network hook scripts in 2 dirs under /etc/network/ ')), flagged.join('\n'));
});

test("a toolchain's commands are counted from four, named each below that", () => {
  // rustup's installer links cargo, rustc, rustfmt and nine more to itself in ~/.cargo/bin: twelve lines.
  const ctx = sensitiveContext({ PATH: '/usr/bin:/bin', HOME: '/home/u' });
  const why = "command in a toolchain's bin dir (shell startup puts it on PATH)";
  const flagged = (names: string[]): string[] => {
    const changes = names.sort().map((p) => ch(p, 'file', 10)).map((c) => ({ ...c, sensitive: sensitiveReason(c, ctx) ?? undefined }));
    return renderSummary(changes, plain).split('\n').filter((l) => l.startsWith('! ')).map((l) => l.replace(/ +/g, ' '));
  };
  assert.equal(flagged(['cargo', 'rustc', 'rustdoc', 'rustfmt', 'rustup'].map((n) => `/home/u/.cargo/bin/${n}`)), [
    `! added: 5 toolchain commands in /home/u/.cargo/bin/ ('sbx diff --all' lists each) [! ${why}]`,
    '! 5 changes marked ! (code that runs later, or access for others): review them before keeping',
  ]);
  assert.equal(flagged(['gopls', 'dlv', 'staticcheck'].map((n) => `/home/u/go/bin/${n}`)), [
    `! added: /home/u/go/bin/dlv [! ${why}]`,
    `! added: /home/u/go/bin/gopls [! ${why}]`,
    `! added: /home/u/go/bin/staticcheck [! ${why}]`,
    '! 3 changes marked ! (code that runs later, or access for others): review them before keeping',
  ]);
});

test('new commands and libraries are a line per dir; one named as a host command, library or header elsewhere keeps its own', () => {
  // An apt-get install of apache2, mariadb-server and redis-server added 126 commands, a line
  // each; which of them take a name the host has (a PATH that finds them first) is the point.
  const host = mkdtempSync(join(tmpdir(), 'sbx-shadow-summary-'));
  try {
    for (const d of ['usr/bin', 'usr/lib/x86_64-linux-gnu', 'usr/include']) mkdirSync(join(host, d), { recursive: true });
    for (const f of ['usr/bin/sudo', 'usr/lib/x86_64-linux-gnu/libssl.so.3', 'usr/include/png.h', 'usr/include/zlib.h']) writeFileSync(join(host, f), '');
    setHostRoot(host);
    const added = ['/usr/bin/mariadb', '/usr/bin/mysql', '/usr/bin/redis-cli', '/usr/bin/redis-server', '/usr/sbin/a2enmod', '/usr/sbin/apache2', '/usr/local/bin/sudo', '/usr/local/bin/tool',
      '/usr/lib/x86_64-linux-gnu/liblua5.3.so.0', '/usr/lib/x86_64-linux-gnu/liblua5.3.so.0.0.0', '/usr/local/include/png.h', '/usr/local/include/zlib.h',
      '/usr/lib/x86_64-linux-gnu/libapr-1.so.0', '/usr/lib/x86_64-linux-gnu/libapr-1.so.0.7.2', '/usr/local/lib/libssl.so.3'].sort().map((p) => ch(p, 'file', 10));
    const ctx = sensitiveContext({ PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/root' });
    const changes = added.map((c) => ({ ...c, sensitive: sensitiveReason(c, ctx) ?? undefined }));
    const flagged = renderSummary(changes, plain).split('\n').filter((l) => l.startsWith('! ')).map((l) => l.replace(/ +/g, ' ').replace(/ \('sbx diff --all' lists each\)/, ''));
    assert.equal(flagged, [
      '! added: 4 new commands in /usr/bin/ [! new command in PATH]',
      '! added: 4 new shared libraries in /usr/lib/x86_64-linux-gnu/ [! new shared library on the loader path]',
      '! added: /usr/local/bin/sudo [! new command with the name of a host command in another PATH dir (a PATH that lists this dir first runs it instead)]',
      '! added: /usr/local/bin/tool [! new command in PATH]',
      '! added: /usr/local/include/png.h [! new header, pkg-config or CMake package file with the name of one the host has later on its search path (later builds take this one instead)]',
      '! added: /usr/local/include/zlib.h [! new header, pkg-config or CMake package file with the name of one the host has later on its search path (later builds take this one instead)]',
      '! added: /usr/local/lib/libssl.so.3 [! new shared library with the name of one the host has in another loader dir (programs may load it instead)]',
      // Three or fewer to a dir are named each.
      '! added: /usr/sbin/a2enmod [! new command in PATH]',
      '! added: /usr/sbin/apache2 [! new command in PATH]',
      '! 15 changes marked ! (code that runs later, or access for others): review them before keeping',
    ], flagged.join('\n'));
  } finally {
    setHostRoot(null);
    rmSync(host, { recursive: true, force: true });
  }
});

test('alternatives: new entries a line per dir, a retargeted link named, deleted ones plain', () => {
  // An apt-get install adds a package's alternatives by the dozen (a link and a record each);
  // which existing name now runs another program is the point.
  const ctx = sensitiveContext({ PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/root' });
  const names = ['ebtables', 'iptables', 'iptables-restore', 'iptables-save', 'my.cnf'];
  const added = [...names.map((n) => `/etc/alternatives/${n}`), ...names.map((n) => `/var/lib/dpkg/alternatives/${n}`)].map((p) => ch(p, 'symlink'));
  const pager: Change = { ...ch('/etc/alternatives/pager', 'symlink'), change: 'modified', target: '/bin/more', targetBefore: '/bin/less' };
  const gone: Change[] = ['/etc/alternatives/nc', '/var/lib/dpkg/alternatives/nc'].map((p) => ({ ...ch(p, 'symlink'), change: 'deleted' }));
  const changes = [...added, pager, ...gone].sort((a, b) => (a.path < b.path ? -1 : 1)).map((c) => ({ ...c, sensitive: sensitiveReason(c, ctx) ?? undefined }));
  const out = renderSummary(changes, plain).split('\n').map((l) => l.replace(/ +/g, ' ').replace(/ \('sbx diff --all' lists each\)/, ''));
  assert.equal(out.filter((l) => l.startsWith('! ')), [
    '! modified: /etc/alternatives/pager -> /bin/more (was /bin/less) [! alternatives link (which program a command runs)]',
    '! added: 5 new alternatives entries in /etc/alternatives/ [! new alternatives entry (for a name the host has no alternatives of)]',
    '! added: 5 new alternatives entries in /var/lib/dpkg/alternatives/ [! new alternatives entry (for a name the host has no alternatives of)]',
    '! 11 changes marked ! (code that runs later, or access for others): review them before keeping',
  ], out.join('\n'));
  assert.ok(out.includes(' deleted: /etc/alternatives/nc'), out.join('\n'));
  assert.ok(out.includes(' deleted: /var/lib/dpkg/alternatives/nc'), out.join('\n'));
  // A package's removal takes its links by the dozen: past the limit one line, no `(0 B)`.
  const links: Change[] = Array.from({ length: SIBLINGS + 2 }, (_, i) => ({ ...ch(`/etc/alternatives/x${i}`, 'symlink'), change: 'deleted' }));
  const purge = summaryPlan([...links, ...['/srv/a', '/srv/b'].map((p): Change => ({ ...ch(p, 'file', 3), change: 'deleted' }))], plain, { fold: [], limit: 3 }).kinds[0]!.items.map((x) => x.line.replace(/ +/g, ' '));
  assert.equal(purge, [' deleted: /srv/a', ' deleted: /srv/b', ` deleted: ${SIBLINGS + 2} entries in /etc/alternatives/`], purge.join('\n'));
});

test('package caches a later install trusts: one flagged line per cache and tree; npm content, partial/ and deletions fold', () => {
  const apt = 'apt package lists (a later apt-get install trusts them: their signature is checked only at update)';
  const deb = "apt's downloaded packages (a later apt-get install uses a .deb of the listed name and size without checking its hash)";
  const pip = "pip's cache (a later pip install uses its wheels and index pages as they are)";
  const npm = "npm's cache index (a later npm install trusts the integrity it names)";
  const as = (c: Change, change: Change['change']): Change => ({ ...c, change });
  const lists = ['bookworm', 'bookworm-updates', 'bookworm-security'].flatMap((d) => [`/var/lib/apt/lists/deb.debian.org_debian_dists_${d}_InRelease`, `/var/lib/apt/lists/deb.debian.org_debian_dists_${d}_main_binary-amd64_Packages.lz4`]);
  const wheels = Array.from({ length: 12 }, (_, i) => `/home/u/.cache/pip/wheels/${i % 3}a/bc/de/f${i % 3}/p${i}-1.0-py3-none-any.whl`);
  const index = Array.from({ length: 8 }, (_, i) => `/home/u/.npm/_cacache/index-v5/${i}f/2e/abcdef${i}`);
  const debs = ['sl_5.02-1+b1_amd64.deb', 'cowsay_3.03+dfsg2-8_all.deb', 'vim_9.0_amd64.deb'].map((d) => `/var/cache/apt/archives/${d}`);
  const changes: Change[] = [
    ...lists.map((p) => as(ch(p, 'file', 10), 'modified')),
    ch('/var/lib/apt/lists/partial/x_InRelease', 'file'), as(ch('/var/lib/apt/lists/lock', 'file'), 'metadata'), as(ch('/var/lib/apt/lists/old_Packages', 'file'), 'deleted'),
    ...debs.map((d) => ch(d, 'file', 100)), ch('/var/cache/apt/archives/partial/x.deb', 'file'), as(ch('/var/cache/apt/archives/old_1_all.deb', 'file'), 'deleted'),
    ...wheels.map((p) => ch(p, 'file', 50)), ch('/home/u/.cache/pip/selfcheck/x.json', 'file'),
    ...index.map((p) => ch(p, 'file', 5)), ...index.map((_, i) => ch(`/home/u/.npm/_cacache/content-v2/sha512/${i}a/bc/def`, 'file', 500)),
  ].sort((a, b) => (a.path < b.path ? -1 : 1));
  const out = renderSummary(changes, plain);
  const flagged = out.split('\n').filter((l) => l.startsWith('! ')).map((l) => l.replace(/ +/g, ' '));
  assert.equal(flagged, [
    `! modified: 6 apt list files in /var/lib/apt/lists/ ('sbx diff --all' lists each) [! ${apt}]`,
    `! added: 12 pip cache files in 3 dirs under /home/u/.cache/pip/wheels/ ('sbx diff --all' lists each) [! ${pip}]`,
    `! added: 8 npm cache index entries in 8 dirs under /home/u/.npm/_cacache/index-v5/ ('sbx diff --all' lists each) [! ${npm}]`,
    `! added: 3 cached .deb files in /var/cache/apt/archives/ ('sbx diff --all' lists each) [! ${deb}]`,
    '! 29 changes marked ! (code that runs later, or access for others): review them before keeping',
  ], out);
  // What the manager checks again, apt's download dirs and lock, deletions: folded, unflagged.
  assert.match(out, /added: {4}2 in apt cache and logs, folded/);
  assert.ok(!/partial|old_|content-v2|selfcheck/.test(flagged.join('\n')), out);
  // --all and JSON list each with its reason.
  const all = renderSummary(changes, plain, { expand: true }).split('\n').filter((l) => l.startsWith('! '));
  assert.is(all.length, 30, all.join('\n'));
  for (const p of [...lists, ...wheels, ...index, ...debs]) assert.ok(all.some((l) => l.includes(p)), p);
  const json = JSON.parse(changesJson('x', changes)) as { sensitive: number; changes: Array<{ path: string; sensitive?: string }> };
  assert.is(json.sensitive, 29);
  assert.equal([apt, pip, npm, deb].map((w) => json.changes.filter((c) => c.sensitive === w).length), [6, 12, 8, 3]);
  // Pick: each cache's line stands for each of its entries.
  const items = summaryPlan(changes, plain).kinds.flatMap((k) => k.items);
  assert.equal(items.filter((i) => i.flagged).map((i) => i.paths().length).sort((a, b) => a - b), [3, 6, 8, 12]);
  const reasons = changes.map((c) => sensitiveReason(c, sensitiveContext())).filter((r): r is string => r !== null);
  assert.is(flaggedQuestion(reasons.filter((r) => r === apt)), '6 flagged changes (6 apt list files): yes keeps them, n skips them: ');
});

test('a deleted host dir is one line with the entries and bytes it held', () => {
  const U = (p: string) => join(f.upper(), p);
  for (let i = 0; i < 4; i++) write(join(f.host, `doc/pkg${i}/README`), 'r'.repeat(1000));
  write(join(f.host, 'doc/top.txt'), 't'.repeat(24));
  markStarted(f);
  whiteout(U('doc'));
  const { changes } = scanSandbox(f.meta);
  assert.is(changes.length, 1);
  const out = renderSummary(changes, plain);
  // 4 dirs + 4 READMEs + top.txt = 9 entries; 4,024 bytes.
  assert.ok(out.includes(`  deleted:  ${f.host}/doc/ (9 entries, 3.9 KiB)\n`), out);
  assert.equal(hostTreeSize(`${f.host}/doc`), { entries: 9, bytes: 4024, capped: false });
  assert.is(hostTreeSize(`${f.host}/doc`, 3)!.capped, true);
  assert.is(hostTreeSize(`${f.host}/nothere`), null);
  // --all names just the path.
  assert.ok(renderSummary(changes, plain, { expand: true }).includes(`  deleted:  ${f.host}/doc\n`));
});

test('a host dir replaced by a symlink or a file says what of the host goes with it, in the summary, --all, --stat and JSON', async () => {
  const U = (p: string) => join(f.upper(), p);
  for (let i = 0; i < 3; i++) write(join(f.host, `big/sub${i}/f`), 'b'.repeat(100));
  write(join(f.host, 'small/one'), 'xy');
  mkdirSync(join(f.host, 'hollow'));
  write(join(f.host, 'was-file'), 'w');
  markStarted(f);
  symlinkSync('/etc', U('big'));
  write(U('small'), 'now a file\n');
  symlinkSync('/etc', U('hollow'));
  symlinkSync('/etc', U('was-file'));
  const { changes } = scanSandbox(f.meta);
  assert.is(changes.length, 4);
  const lines = (out: string) => out.split('\n').filter((l) => l.includes('replaced:')).map((l) => l.replace(f.host, '').replace(/ +/g, ' '));
  // 3 dirs + 3 files of 100 bytes: as `rm -rf big` would be counted. A dir made a symlink is flagged.
  const flag = ' [! directory made a symlink (what is later written into it goes where it points)]';
  const want = [
    `! replaced: /big -> /etc (dir of 6 entries, 300 B → symlink)${flag}`,
    `! replaced: /hollow -> /etc (empty dir → symlink)${flag}`,
    ' replaced: /small (dir of 1 entry, 2 B → file)',
    ' replaced: /was-file -> /etc (file → symlink)',
  ];
  assert.equal(lines(renderSummary(changes, plain)).sort(), want.sort());
  assert.equal(lines(renderSummary(changes, plain, { expand: true })).sort(), want);
  // Pick mode asks with the same words.
  const labels = summaryPlan(changes, plain).kinds.flatMap((k) => k.items).map((i) => i.label.replace(f.host, ''));
  assert.ok(labels.includes('/big -> /etc (dir of 6 entries, 300 B → symlink)'), labels.join('\n'));
  const json = JSON.parse(changesJson('x', changes)).changes as Array<{ path: string; hostTree?: unknown }>;
  assert.equal(Object.fromEntries(json.map((c) => [c.path.slice(f.host.length), c.hostTree ?? null])), {
    '/big': { entries: 6, bytes: 300, capped: false }, '/hollow': { entries: 0, bytes: 0, capped: false }, '/small': { entries: 1, bytes: 2, capped: false }, '/was-file': null,
  });
  const stat = (await renderStat(changes, plain)).split('\n').map((l) => l.replace(f.host, '').replace(/ +/g, ' '));
  assert.ok(stat.includes(' /big | replaced (dir of 6 entries, 300 B → symlink)'), stat.join('\n'));
  assert.ok(stat.includes(' /small | +1 -0 replaced (dir of 1 entry, 2 B → file)'), stat.join('\n'));
  assert.ok(stat.includes(' /was-file | replaced symlink'), stat.join('\n'));
});

test('metadata changes of the mtime alone fold per dir (two or more); --all lists each; a flagged one, another detail or one alone keeps its line', () => {
  const U = (p: string) => join(f.upper(), p);
  const old = new Date('2020-01-01T00:00:00Z');
  const host = (p: string, data = 'same\n') => { write(join(f.host, p), data); utimesSync(join(f.host, p), old, old); };
  for (let i = 0; i < 5; i++) host(`certs/c${i}.crt`);
  host('certs/mode');
  for (const k of ['a', 'b']) host(`repo/.git/hooks/${k}`);
  host('one/solo');
  markStarted(f);
  // Rewritten with the bytes they had (dpkg), a chmod beside them, git hooks touched.
  for (let i = 0; i < 5; i++) write(U(`certs/c${i}.crt`), 'same\n');
  write(U('certs/mode'), 'same\n', 0o600);
  for (const k of ['a', 'b']) write(U(`repo/.git/hooks/${k}`), 'same\n');
  write(U('one/solo'), 'same\n');
  const { changes } = scanSandbox(f.meta);
  assert.equal(changes.map((c) => `${c.change} ${c.path.slice(f.host.length)} ${c.details?.join(',')}`).sort(), [
    'metadata /certs/c0.crt mtime', 'metadata /certs/c1.crt mtime', 'metadata /certs/c2.crt mtime', 'metadata /certs/c3.crt mtime', 'metadata /certs/c4.crt mtime',
    'metadata /certs/mode mode 644→600,mtime', 'metadata /one/solo mtime', 'metadata /repo/.git/hooks/a mtime', 'metadata /repo/.git/hooks/b mtime',
  ]);
  const out = renderSummary(changes, plain).replaceAll(f.host, '');
  assert.equal(out.split('\n').filter((l) => l.includes('metadata:')).map((l) => l.replace(/ +/g, ' ')), [
    '! metadata: /repo/.git/hooks/a (mtime) [! git hook]',
    '! metadata: /repo/.git/hooks/b (mtime) [! git hook]',
    ' metadata: /certs/mode (mode 644→600, mtime)',
    ' metadata: /one/solo (mtime)',
    ' metadata: /certs/: 5 files, times only, folded',
  ], out);
  assert.ok(out.includes("5 folded: kept too unless excluded ('sbx diff --all' lists each)\n"), out);
  // Folded, not dropped: the line stands for each (pick mode), --all and JSON list each.
  const item = summaryPlan(changes, plain).kinds.flatMap((k) => k.items).find((i) => i.label.endsWith('times only, folded'))!;
  assert.equal(item.paths().map((p) => p.slice(f.host.length)).sort(), [0, 1, 2, 3, 4].map((i) => `/certs/c${i}.crt`));
  const all = renderSummary(changes, plain, { expand: true });
  for (const c of changes) assert.ok(all.includes(`${c.path} (`), c.path);
  assert.not.ok(all.includes('folded'), all);
});

test('past TIMES_DIRS dirs of times-only changes, the largest keep a line each and the rest share one', () => {
  const mt = (path: string): Change => ({ path, change: 'metadata', type: 'file', size: 1, details: ['mtime'] });
  const list: Change[] = [];
  for (let d = 0; d < TIMES_DIRS + 2; d++) for (let i = 0; i < (d === 5 ? 9 : 2); i++) list.push(mt(`/t/d${String(d).padStart(2, '0')}/f${i}`));
  list.push(mt('/t/alone/f'), { ...mt('/t/d00/owner'), details: ['owner 0:0→1:1', 'mtime'] }, { ...mt('/t/d00/link'), type: 'symlink' });
  list.sort((a, b) => (a.path < b.path ? -1 : 1));
  const v = viewKind('metadata', list, []);
  assert.equal(v.items.map((x) => (isGroup(x) ? x.root.path : x.path)), ['/t/alone/f', '/t/d00/owner']);
  const lines = v.folds.map((x) => `${x.times!.dir ?? `${x.times!.dirs} other dirs`}: ${x.count} ${x.times!.files ? 'files' : 'entries'}`);
  assert.is(lines.length, TIMES_DIRS);
  // d05 (9) and d00 (2 and a symlink) are among the largest, in path order; two of the 2-file dirs share the last line.
  assert.equal(lines.slice(0, 2), ['/t/d00: 3 entries', '/t/d01: 2 files']);
  assert.ok(lines.includes('/t/d05: 9 files'), lines.join('\n'));
  assert.is(lines[TIMES_DIRS - 1], '3 other dirs: 6 files');
  assert.is(v.folds.reduce((n, x) => n + x.count, 0) + v.items.length, list.length);
});

test('past TIMES_ALONE dirs of one times-only change each, those share a line', () => {
  // dpkg's upgrade of perl rewrote 173 files of its unicore tables with the bytes they had, one
  // to a dir: 50 lines of `(mtime)` and `… and 123 more`, which hid the changes after them.
  const mt = (path: string): Change => ({ path, change: 'metadata', type: 'file', size: 1, details: ['mtime'] });
  const lines = (list: Change[]): string[] => renderSummary(list, plain).split('\n').filter((l) => l.includes('metadata:')).map((l) => l.replace(/ +/g, ' '));
  const alone = (n: number): Change[] => Array.from({ length: n }, (_, i) => mt(`/u/lib/t${i}/Y.pl`));
  assert.equal(lines(alone(TIMES_ALONE)), alone(TIMES_ALONE).map((c) => ` metadata: ${c.path} (mtime)`));
  assert.equal(lines(alone(TIMES_ALONE + 1)), [` metadata: ${TIMES_ALONE + 1} files in ${TIMES_ALONE + 1} dirs, times only, folded`]);
  const mode: Change = { ...mt('/u/lib/t0/Z.pl'), details: ['mode 644→600', 'mtime'] };
  const list = [...alone(5), mt('/u/share/a'), mt('/u/share/b'), mode].sort((a, b) => (a.path < b.path ? -1 : 1));
  assert.equal(lines(list), [
    ' metadata: /u/lib/t0/Z.pl (mode 644→600, mtime)',
    ' metadata: /u/share/: 2 files, times only, folded',
    ' metadata: 5 files in 5 other dirs, times only, folded',
  ]);
  // Past TIMES_DIRS with them: the largest dirs keep TIMES_DIRS - 1 lines, the rest and the lone ones share the last.
  const big = Array.from({ length: TIMES_DIRS }, (_, d) => [mt(`/v/d${d}/a`), mt(`/v/d${d}/b`)]).flat();
  const v = viewKind('metadata', [...alone(5), ...big].sort((a, b) => (a.path < b.path ? -1 : 1)), []);
  assert.is(v.folds.length, TIMES_DIRS);
  assert.equal([v.folds.at(-1)!.times!.dirs, v.folds.at(-1)!.count], [6, 7]);
  assert.is(v.items.length, 0);
});

test('siblings by the dozen, added, deleted or modified, are one line for their dir when the lines would not fit', () => {
  // rm -rf /usr/share/doc/* deleted each of 741 package dirs, a line each: what was deleted
  // after them in path order (/usr/share/man/man3/) was past the summary's limit.
  const gone = (path: string, type: Change['type'] = 'dir', size = 0): Change => ({ path, change: 'deleted', type, size });
  const docs = Array.from({ length: SIBLINGS }, (_, i) => gone(`/usr/share/doc/p${i}`));
  const pages = Array.from({ length: SIBLINGS + 2 }, (_, i) => gone(`/usr/share/man/man8/x${i}.8.gz`, 'file', 100));
  const few = Array.from({ length: SIBLINGS - 1 }, (_, i) => gone(`/var/log/x${i}.gz`, 'file', 10));
  const changes = [...docs, gone('/usr/share/man/man3'), ...pages, ...few].sort((a, b) => (a.path < b.path ? -1 : 1));
  const sizes = (p: string): TreeSize | null => (p === '/usr/share/doc/p0' ? null : { entries: 3, bytes: 1024, capped: p === '/usr/share/doc/p7' });
  const lines = (limit: number): string[] => summaryPlan(changes, plain, { treeSize: sizes, fold: [], limit }).kinds[0]!.items.map((x) => x.line.replace(/ +/g, ' '));
  const docsLine = ` deleted: ${SIBLINGS} entries in /usr/share/doc/ (${SIBLINGS + 3 * (SIBLINGS - 1)}+ entries in all, 7.0 KiB)`;
  const pagesLine = ` deleted: ${SIBLINGS + 2} entries in /usr/share/man/man8/ (1000 B)`;
  // 26 lines into 12: both runs (the largest first); into 20: the largest alone.
  assert.equal(lines(12), [docsLine, ' deleted: /usr/share/man/man3/ (3 entries, 1.0 KiB)', pagesLine, ...few.map((c) => ` deleted: ${c.path}`)]);
  assert.equal(lines(20).filter((l) => l.includes(' entries in ')), [pagesLine]);
  assert.is(lines(20).length, 26 - (SIBLINGS + 1));
  // A list that fits, or an unlimited one (sbx diff), names each.
  assert.is(lines(26).length, 26);
  assert.is(lines(Infinity).length, 26);
  // The line stands for each of its entries (pick mode).
  assert.equal(summaryPlan(changes, plain, { treeSize: sizes, fold: [], limit: 12 }).kinds[0]!.items[0]!.paths(), docs.map((c) => c.path));
  // Added: new trees and files side by side in a dir the host has, counted as a new tree is.
  const add = (path: string, type: Change['type'] = 'file'): Change => ({ path, change: 'added', type, size: 10 });
  const added = [...Array.from({ length: SIBLINGS }, (_, i) => [add(`/usr/share/doc/n${i}`, 'dir'), add(`/usr/share/doc/n${i}/copyright`), add(`/usr/share/doc/n${i}/changelog.gz`)]).flat(),
    add('/usr/share/doc/README'), add('/usr/share/doc/link', 'symlink'), ...Array.from({ length: 5 }, (_, i) => add(`/srv/x${i}`))].sort((a, b) => (a.path < b.path ? -1 : 1));
  const plan = summaryPlan(added, plain, { fold: [], limit: 6 });
  assert.equal(plan.kinds[0]!.items.map((x) => x.line.replace(/ +/g, ' ')), [
    ` added: ${SIBLINGS + 2} entries in /usr/share/doc/ (${2 * SIBLINGS + 1} files, ${SIBLINGS} dirs, 1 symlink, ${(2 * SIBLINGS + 1) * 10} B)`,
    ...Array.from({ length: 5 }, (_, i) => ` added: /srv/x${i}`),
  ]);
  assert.equal(plan.kinds[0]!.items[0]!.paths(), added.filter((c) => c.path.startsWith('/usr/share/doc/')).map((c) => c.path));
  // Still more lines than fit: what is side by side below one dir of three components, in
  // several dirs (an install's .mo files under /usr/share/locale), is one line too.
  const mo = ['bg', 'ca', 'de', 'fr', 'it', 'ja'].flatMap((l) => [add(`/usr/share/locale/${l}/LC_MESSAGES/gawk.mo`), add(`/usr/share/locale/${l}/LC_MESSAGES/popt.mo`)]);
  const more = [...added, ...mo].sort((a, b) => (a.path < b.path ? -1 : 1));
  const p2 = summaryPlan(more, plain, { fold: [], limit: 7 }).kinds[0]!.items;
  assert.equal(p2.map((x) => x.line.replace(/ +/g, ' ')).filter((l) => l.includes(' entries in ')), [
    ` added: ${SIBLINGS + 2} entries in /usr/share/doc/ (${2 * SIBLINGS + 1} files, ${SIBLINGS} dirs, 1 symlink, ${(2 * SIBLINGS + 1) * 10} B)`,
    ' added: 12 entries in 6 dirs under /usr/share/locale/ (12 files, 120 B)',
  ]);
  assert.equal(p2.find((x) => x.label.includes('/usr/share/locale/'))!.paths(), mo.map((c) => c.path).sort());
  assert.is(p2.length, 7);
  // Modified: a package upgrade's man pages rewritten side by side (a perl upgrade's 30 were
  // a line each, and what came after them in path order was past the limit).
  const mod = (path: string): Change => ({ path, change: 'modified', type: 'file', size: 100 });
  const man = Array.from({ length: SIBLINGS + 1 }, (_, i) => mod(`/usr/share/man/man1/p${i}.1.gz`));
  const rewritten = [...man, mod('/etc/passwd-'), mod('/etc/shadow-'), mod('/srv/data.txt')];
  const p3 = summaryPlan(rewritten, plain, { fold: [], limit: 4 }).kinds[0]!.items;
  assert.equal(p3.map((x) => x.line.replace(/ +/g, ' ')).sort(), [
    ' modified: /etc/passwd-', ' modified: /etc/shadow-', ' modified: /srv/data.txt', ` modified: ${SIBLINGS + 1} entries in /usr/share/man/man1/ (${SIBLINGS + 1} files, ${(SIBLINGS + 1) * 100} B)`,
  ]);
  assert.equal(p3.find((x) => x.label.includes('/usr/share/man/man1/'))!.paths(), man.map((c) => c.path));
  assert.is(summaryPlan(rewritten, plain, { fold: [], limit: 50 }).kinds[0]!.items.length, rewritten.length);
});

test('each summary line knows the paths it stands for (pick mode keeps exactly those)', () => {
  const U = (p: string) => join(f.upper(), p);
  mkdirSync(join(f.host, 'home/.npm'), { recursive: true });
  markStarted(f);
  write(U('pkg/a.js'), 'a');
  write(U('pkg/lib/b.js'), 'b');
  write(U('home/.npm/_cacache/x'), 'z');
  write(U('one.txt'), '1');
  const { changes } = scanSandbox(f.meta);
  const items = summaryPlan(changes, plain).kinds.flatMap((k) => k.items);
  const byLabel = new Map(items.map((i) => [i.label.replace(f.host, ''), i.paths().map((p) => p.replace(f.host, '')).sort()]));
  assert.equal(byLabel.get('/pkg/ (2 files, 1 dir, 2 B)'), ['/pkg', '/pkg/a.js', '/pkg/lib', '/pkg/lib/b.js']);
  assert.equal(byLabel.get('/one.txt'), ['/one.txt']);
  assert.equal(byLabel.get('2 in npm cache (1 B), folded'), ['/home/.npm/_cacache', '/home/.npm/_cacache/x']);
  // Every change is behind exactly one line.
  assert.is(items.reduce((n, i) => n + i.paths().length, 0), changes.length);
});

test('a new dir holding only what one fold rule folds is counted on that rule\'s line, not listed as if empty; mixed rules keep its line', () => {
  const npm = [{ name: 'npm cache', paths: ['.npm/_cacache', '.npm/_logs'] }];
  const v = viewKind('added', [
    ch('/h/.npm', 'dir'), ch('/h/.npm/_cacache', 'dir'), ch('/h/.npm/_cacache/x', 'file', 5),
    ch('/h/.npm/_logs', 'dir'), ch('/h/.npm/_logs/1.log', 'file', 3), ch('/h/empty', 'dir'),
  ], npm);
  assert.equal(v.items.map((x) => (isGroup(x) ? x.root.path : x.path)), ['/h/empty']);
  assert.equal(v.folds, [{ name: 'npm cache', count: 5, bytes: 8 }]);
  assert.equal([...v.foldedDirs], [['/h/.npm', 0]]);
  const two = [{ name: 'py', paths: ['__pycache__'] }, { name: 'history', paths: ['.bash_history'] }];
  const mixed = viewKind('added', [ch('/q', 'dir'), ch('/q/.bash_history', 'file', 1), ch('/q/__pycache__', 'dir'), ch('/q/__pycache__/a.pyc', 'file', 1)], two);
  assert.equal(mixed.items.map((x) => (isGroup(x) ? x.root.path : x.path)), ['/q']);
  assert.is(mixed.foldedDirs.size, 0);
  // In the summary: one line, which stands for the dir too (pick mode keeps it with its cache).
  const U = (p: string) => join(f.upper(), p);
  mkdirSync(join(f.host, 'home'), { recursive: true });
  markStarted(f);
  write(U('home/.npm/_cacache/x'), 'z');
  const { changes } = scanSandbox(f.meta);
  const out = renderSummary(changes, plain);
  assert.ok(out.includes('  added:    3 in npm cache (1 B), folded\n'), out);
  assert.not.ok(out.includes(`${f.host}/home/.npm/`), out);
  const items = summaryPlan(changes, plain).kinds.flatMap((k) => k.items);
  assert.equal(items.map((i) => i.paths().map((p) => p.replace(f.host, '')).sort()), [['/home/.npm', '/home/.npm/_cacache', '/home/.npm/_cacache/x']]);
});

test('refused paths: each listed while few, else one line per reason with the shared dir', () => {
  const few = refusalLines([{ path: '/a', reason: 'r' }]);
  assert.equal(few, ['  /a: r']);
  const many = Array.from({ length: 511 }, (_, i) => ({ path: `/usr/share/doc/p${i}/f`, reason: 'inside /usr/share/doc, which is not committed' }));
  many.push({ path: '/etc/x', reason: 'permission denied' });
  assert.equal(refusalLines(many), ['  /usr/share/doc/ (511 entries): inside /usr/share/doc, which is not committed', '  /etc/x: permission denied']);
});

test('counts are written as toLocaleString(\'en-US\') writes them, without Intl', () => {
  const ns = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 9999, 10000, 99999, 100000, 123456, 999999, 1000000, 1234567, 202000, Number.MAX_SAFE_INTEGER];
  for (let k = 0; k < 2000; k++) ns.push(Math.floor(Math.random() * 10 ** (k % 16)));
  for (const n of ns) assert.is(countText(n), n.toLocaleString('en-US'), String(n));
  // Anything else is Intl's.
  for (const n of [-1, -1234567, 1.5, 1234.5678, NaN, Infinity, 2 ** 60]) assert.is(countText(n), n.toLocaleString('en-US'), String(n));
});

test("sbx's own code writes counts with countText and sorts names by code units, never toLocaleString or localeCompare: the first call of either loads ICU (~24 ms of each commit's report; ~12 ms of an --allow-net run's)", () => {
  const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const calls: string[] = [];
  for (const dir of ['cli', 'sandbox-core', 'policies']) {
    for (const f of readdirSync(join(repo, dir), { recursive: true }).map(String)) {
      if (!f.endsWith('.ts') || f === join('base', 'count-text.ts')) continue;
      const text = readFileSync(join(repo, dir, f), 'utf8');
      if (text.includes('.toLocaleString(') || text.includes('.localeCompare(')) calls.push(join(dir, f));
    }
  }
  assert.equal(calls, []);
});

test('a device node in a layer names its numbers and that the commit never writes it; a fifo its kind', () => {
  const st = { type: 'char' as const, perm: 0o666, uid: 0, gid: 0, size: 0, mtimeMs: 0, atimeMs: 0, ctimeMs: 0, ino: 1, dev: 1, nlink: 1, rdev: (1 << 8) | 1 };
  const changes: Change[] = [
    { path: `${f.host}/mem`, change: 'added', type: 'char', size: 0, up: st },
    { path: `${f.host}/sda`, change: 'added', type: 'block', size: 0, up: { ...st, type: 'block', rdev: (8 << 8) | 0 } },
    { path: `${f.host}/big`, change: 'added', type: 'char', size: 0, up: { ...st, rdev: (259 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12) } },
    { path: `${f.host}/p`, change: 'added', type: 'fifo', size: 0, up: { ...st, type: 'fifo', rdev: 0 } },
  ];
  const out = renderSummary(changes, plain, { fold: [] });
  assert.ok(out.includes(`${f.host}/mem (char device 1:1, never committed)\n`), out);
  assert.ok(out.includes(`${f.host}/sda (block device 8:0, never committed)\n`), out);
  assert.ok(out.includes(`${f.host}/big (char device 259:300, never committed)\n`), out);
  assert.ok(out.includes(`${f.host}/p (fifo)\n`), out);
});

test.run();
