// Real sandboxes: what `sbx run` reports for each kind of change, and run → commit → host.
// Works as root and as an unprivileged user: the canary tree is a temp dir this user owns.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, lstatSync, chmodSync, utimesSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { homedir, tmpdir } from 'node:os';
import { removeTree } from '../../sandbox-core/store.js';
import { helperPath } from '../../sandbox-core/helper.js';
import { spawnSync } from 'node:child_process';
import { awaitDetachedRemovals, SBX, sbx as run, type SbxResult } from '../helpers/sbx.js';
import { CANARY } from '../helpers/canary-name.js';

let canary: string;
let home: string;

// No tight time limit (a loaded machine running fuse-overlayfs is slow): as before the shared runner.
const sbx = (args: string[], input = ''): SbxResult => run(args, { store: home, input, cwd: canary, timeoutMs: 300_000 });

// As an unprivileged user the canary must not sit in a root-owned dir the overlay would have
// to copy up (it cannot: EOVERFLOW for unmapped owners), so it goes in the user's home.
const base = process.getuid?.() === 0 ? '/tmp' : homedir();

test.before.each(() => {
  canary = mkdtempSync(join(base, CANARY));
  home = mkdtempSync(join(tmpdir(), 'sbx-home-'));
  writeFileSync(join(canary, 'keep.txt'), 'one\ntwo\n');
  writeFileSync(join(canary, 'gone.txt'), 'bye\n');
  writeFileSync(join(canary, 'becomes-dir'), 'file\n');
  writeFileSync(join(canary, 'mode.sh'), 'echo\n');
  chmodSync(join(canary, 'mode.sh'), 0o644);
  writeFileSync(join(canary, 'touched'), 't\n');
  writeFileSync(join(canary, 'copied-up'), 'same\n');
  mkdirSync(join(canary, 'dir'));
});
test.after.each(() => {
  removeTree(canary);
  const left = JSON.parse(sbx(['ls', '--json']).stdout || '[]') as Array<{ id: string }>;
  if (left.length) sbx(['discard', ...left.map((m) => m.id)]);
  // A complete commit's detached helper may still be deleting its sandbox: removing the same
  // dirs at once failed the test now and then (ENOENT on a work dir the helper took first).
  awaitDetachedRemovals(home);
  removeTree(home); // overlay work dirs are mode 000: rmSync alone fails as a non-root user
});

const script = (c: string) => [
  `cd ${c}`, 'echo three >> keep.txt', 'rm gone.txt', 'rm becomes-dir && mkdir becomes-dir && echo in > becomes-dir/x',
  'mkdir -p new/a/b && echo deep > new/a/b/c.txt', 'chmod 755 mode.sh', 'touch -d 2001-01-01 touched', ': >> copied-up',
].join(' && ');

/** A script that notes each start of the helper (`"$1"`, or `"$*"` for its whole argv) in `calls`, then runs it: SBX_HELPER. */
function loggedHelper(what: '"$1"' | '"$*"'): { wrapper: string; calls: string } {
  const calls = join(home, 'helper-calls'), wrapper = join(home, 'helper');
  writeFileSync(wrapper, `#!/bin/sh\necho ${what} >> '${calls}'\nexec '${helperPath()}' "$@"\n`, { mode: 0o755 });
  return { wrapper, calls };
}

test('the report lists adds, modifies, deletes, replacements, nested dirs and metadata; a copy-up is nothing', () => {
  const report = join(home, 'report.json');
  // The helper through a script that notes each start: the review's scan is the one the run's
  // helper made once the sandbox ended (the spec's review_scan), sbx starts none of its own.
  const { wrapper, calls } = loggedHelper('"$1"');
  const r = run(['run', '-n', '--report', report, '--', 'sh', '-c', script(canary)], { store: home, cwd: canary, timeoutMs: 300_000, env: { SBX_HELPER: wrapper } });
  assert.is(r.code, 0, r.stderr);
  assert.equal(readFileSync(calls, 'utf8').trim().split('\n'), ['run'], 'the helper started once, for the run');
  const j = JSON.parse(readFileSync(report, 'utf8'));
  const got = Object.fromEntries(j.changes.map((c: { path: string; change: string; type: string }) => [c.path.slice(canary.length), `${c.change} ${c.type}`]));
  assert.equal(got, {
    '/becomes-dir': 'replaced dir', '/becomes-dir/x': 'added file', '/gone.txt': 'deleted file', '/keep.txt': 'modified file',
    '/mode.sh': 'metadata file', '/new': 'added dir', '/new/a': 'added dir', '/new/a/b': 'added dir', '/new/a/b/c.txt': 'added file',
    '/touched': 'metadata file',
  });
  assert.is(j.exitStatus, 0);
  assert.ok(typeof j.durationMs === 'number');
  assert.match(r.stderr, /1 modified, 5 added, 1 deleted, 1 replaced, 2 metadata/);
  assert.is(readFileSync(join(canary, 'keep.txt'), 'utf8'), 'one\ntwo\n', '-n never touches the host');
});

test('run → save → diff → commit part → commit the rest: the host ends up as the sandbox saw it', () => {
  // The helper syncs the saved layers once the sandbox ended (syncfs_after): sbx starts no
  // `sync` of its own, which a `sync` first in PATH would note.
  const bin = join(home, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'sync'), `#!/bin/sh\necho "$@" >> '${join(home, 'sync-calls')}'\n`, { mode: 0o755 });
  const r = run(['run', '--name', 'trial', '--', 'sh', '-c', script(canary)], { store: home, cwd: canary, timeoutMs: 300_000, env: { PATH: `${bin}:${process.env.PATH}` } });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /saved/);
  assert.not.ok(existsSync(join(home, 'sync-calls')), 'sbx started no sync');
  // sbx ls counts what the review lists (its plain new files as columns, sbx diff's way).
  const listed = JSON.parse(sbx(['diff', 'trial', '--json']).stdout) as { changes: unknown[] };
  const [row] = JSON.parse(sbx(['ls', '--json']).stdout) as Array<{ changes: number; size: number }>;
  assert.is(row!.changes, listed.changes.length);
  assert.ok(row!.size > 0);
  const d = sbx(['diff', 'trial', '--exit-code']);
  assert.is(d.code, 1);
  assert.match(d.stdout, /\+three/);
  const names = sbx(['diff', 'trial', '--name-only', join(canary, 'new')]).stdout.trim().split('\n');
  assert.equal(names.map((n) => n.slice(canary.length)), ['/new', '/new/a', '/new/a/b', '/new/a/b/c.txt']);
  const part = sbx(['commit', 'trial', '--only', join(canary, 'new/a/b/c.txt')]);
  assert.is(part.code, 0, part.stderr);
  // The new dirs the file needs come along, each named (they were silent).
  for (const d of ['new', 'new/a', 'new/a/b']) assert.ok(part.stderr.includes(`also committed: new dir ${join(canary, d)} (needed for ${join(canary, 'new/a/b/c.txt')})`), part.stderr);
  assert.is(readFileSync(join(canary, 'new/a/b/c.txt'), 'utf8'), 'deep\n');
  assert.ok(existsSync(join(canary, 'gone.txt')), 'not selected, not committed');
  const rest = sbx(['commit', 'trial']);
  assert.is(rest.code, 0, rest.stderr);
  assert.not.ok(existsSync(join(canary, 'gone.txt')));
  assert.is(readFileSync(join(canary, 'keep.txt'), 'utf8'), 'one\ntwo\nthree\n');
  assert.ok(lstatSync(join(canary, 'becomes-dir')).isDirectory());
  assert.is(lstatSync(join(canary, 'mode.sh')).mode & 0o777, 0o755);
  assert.is(lstatSync(join(canary, 'touched')).mtime.getUTCFullYear(), 2001);
  assert.match(sbx(['ls']).stdout, /no saved sandboxes/);
});

test('a host file moved inside: its two lines name each other, its diff is against the file it was moved from, its deletion is never committed without its new name, and a commit leaves the host as the sandbox saw it', () => {
  // Root's overlay marks a copied-up file with the host file's inode; an ordinary user's (a user
  // namespace) cannot encode one, so there the same bytes in one deleted file are the evidence.
  writeFileSync(join(canary, 'app.log'), 'line\n'.repeat(40));
  mkdirSync(join(canary, 'old'));
  writeFileSync(join(canary, 'old', 'conf'), 'a=1\n');
  writeFileSync(join(canary, 'site.conf'), 'old\n');
  writeFileSync(join(canary, 'site.conf.dist'), 'new\n');
  // Copied keeping its time, then removed: what `mv` to another overlay does (EXDEV); a copy
  // without its time is no evidence.
  writeFileSync(join(canary, 'data.db'), 'rows\n'.repeat(30));
  writeFileSync(join(canary, 'plain.db'), 'other rows\n'.repeat(30));
  const copies = 'cp -p data.db dir/data.db && rm data.db && cp plain.db dir/plain.db && rm plain.db';
  const move = `cd ${canary} && mv app.log app.log.1 && mv old/conf dir/conf && mv gone.txt dir/gone.txt && echo more >> dir/gone.txt && mv site.conf.dist site.conf && ${copies}`;
  const r = sbx(['run', '--name', 'mv', '--', 'sh', '-c', move]);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n');
  const line = (re: RegExp): string => lines.find((l) => re.test(l)) ?? `(no line like ${re} in)\n${r.stderr}`;
  assert.match(line(/added: .*\/app\.log\.1/), /added: +\S+\/app\.log\.1 \(moved from app\.log\)$/);
  assert.match(line(/deleted: .*\/app\.log/), /deleted: +\S+\/app\.log \(moved to app\.log\.1\)$/);
  assert.ok(line(/added: .*\/dir\/conf/).endsWith(`(moved from ${join(canary, 'old', 'conf')})`), r.stderr);
  assert.ok(line(/deleted: .*\/old\/conf/).endsWith(`(moved to ${join(canary, 'dir', 'conf')})`), r.stderr);
  assert.ok(line(/added: .*\/dir\/data\.db/).endsWith(`(moved from ${join(canary, 'data.db')})`), r.stderr);
  assert.ok(line(/deleted: .*\/data\.db/).endsWith(`(moved to ${join(canary, 'dir', 'data.db')})`), r.stderr);
  assert.not.match(line(/added: .*\/dir\/plain\.db/), /moved/);
  const d = sbx(['diff', 'mv']);
  assert.match(d.stdout, new RegExp(`diff ${join(canary, 'app.log.1')} \\(moved from ${join(canary, 'app.log')}\\)\nSame content\n`));
  assert.not.match(d.stdout, /^-line$/m, 'no diff of the moved file against nothing');
  // A plain new file is a column entry of the full review (named.ts): paired there too.
  assert.ok(d.stdout.includes(`diff ${join(canary, 'dir', 'data.db')} (moved from ${join(canary, 'data.db')})\nSame content\n`), d.stdout);
  assert.ok(d.stdout.includes(`deleted:  ${join(canary, 'data.db')} (moved to ${join(canary, 'dir', 'data.db')})`), d.stdout);
  const j = JSON.parse(sbx(['diff', 'mv', '--json']).stdout) as { changes: Array<{ path: string; movedFrom?: string; movedTo?: string; movedChanged?: boolean }> };
  const at = (p: string) => j.changes.find((c) => c.path === join(canary, p));
  assert.is(at('app.log.1')?.movedFrom, join(canary, 'app.log'));
  assert.is(at('app.log')?.movedTo, join(canary, 'app.log.1'));
  assert.is(at('app.log.1')?.movedChanged, undefined);
  if (process.getuid?.() === 0) {
    // The inode is evidence enough when the file changed after its move (the bytes are not).
    assert.is(at('dir/gone.txt')?.movedFrom, join(canary, 'gone.txt'));
    assert.is(at('dir/gone.txt')?.movedChanged, true);
    assert.match(d.stdout, /--- a\S*\/gone\.txt\n\+\+\+ b\S*\/dir\/gone\.txt\n@@ -1,1 \+1,2 @@\n bye\n\+more\n/);
    // Moved over a host file: that file's line says so, and its diff is against what it replaced.
    assert.ok(line(/modified: .*\/site\.conf/).endsWith('(moved from site.conf.dist)'), r.stderr);
    assert.is(at('site.conf.dist')?.movedTo, join(canary, 'site.conf'));
    assert.match(d.stdout, /\n-old\n\+new\n/);
  } else {
    assert.is(at('dir/gone.txt')?.movedFrom, undefined, 'changed, with no handle: no evidence of a move');
    assert.is(at('site.conf')?.movedFrom, undefined, 'moved over a host file, with no handle: no evidence');
  }
  // Its new name left out: its deletion is not committed alone (the content would be lost).
  const part = sbx(['commit', 'mv', '--exclude', join(canary, 'app.log.1'), '--exclude', join(canary, 'dir', 'data.db')]);
  assert.is(part.code, 1, part.stderr);
  assert.ok(part.stderr.includes(`${join(canary, 'app.log')}: moved to ${join(canary, 'app.log.1')}, which is not selected: deleting it alone would lose its content`), part.stderr);
  assert.is(readFileSync(join(canary, 'app.log'), 'utf8'), 'line\n'.repeat(40), 'the old name is still on the host');
  assert.ok(part.stderr.includes(`${join(canary, 'data.db')}: moved to ${join(canary, 'dir', 'data.db')}, which is not selected`), part.stderr);
  assert.is(readFileSync(join(canary, 'data.db'), 'utf8'), 'rows\n'.repeat(30), 'the copied file\'s old name too');
  assert.not.ok(existsSync(join(canary, 'app.log.1')));
  assert.is(readFileSync(join(canary, 'dir', 'conf'), 'utf8'), 'a=1\n', 'the rest was committed');
  const c = sbx(['commit', 'mv']);
  assert.is(c.code, 0, c.stderr);
  assert.not.ok(existsSync(join(canary, 'app.log')));
  assert.is(readFileSync(join(canary, 'app.log.1'), 'utf8'), 'line\n'.repeat(40));
  assert.is(readFileSync(join(canary, 'dir', 'conf'), 'utf8'), 'a=1\n');
  assert.not.ok(existsSync(join(canary, 'old', 'conf')));
  assert.is(readFileSync(join(canary, 'dir', 'gone.txt'), 'utf8'), 'bye\nmore\n');
  assert.is(readFileSync(join(canary, 'site.conf'), 'utf8'), 'new\n');
  assert.not.ok(existsSync(join(canary, 'site.conf.dist')));
  assert.is(readFileSync(join(canary, 'dir', 'data.db'), 'utf8'), 'rows\n'.repeat(30));
  assert.not.ok(existsSync(join(canary, 'data.db')));
});

test('a copy of a host file (a backup, a rotated log): its line says so, and that file\'s when the sandbox changed it; its diff is the same content, and a commit writes both', () => {
  // Root's overlay marks a renamed file with the host file's inode, an ordinary user's only "copied
  // up" (the bytes decide); `cp -p` leaves no mark (its size, time and bytes decide); a plain
  // `cp` leaves only its name (named after the host file, and the bytes).
  writeFileSync(join(canary, 'site.conf'), 'x=1\ny=2\n');
  writeFileSync(join(canary, 'app.log'), 'entry\n'.repeat(50));
  writeFileSync(join(canary, 'p.conf'), 'k=1\n'.repeat(3));
  writeFileSync(join(canary, 'q.conf'), 'q=1\n'.repeat(4));
  writeFileSync(join(canary, 'r.conf'), 'r=1\n'.repeat(5));
  writeFileSync(join(canary, 'fstab'), 'UUID=1 / ext4\n');
  mkdirSync(join(canary, 'cdir', 'sub'), { recursive: true });
  writeFileSync(join(canary, 'cdir', 'a'), 'a\n'.repeat(9));
  writeFileSync(join(canary, 'cdir', 'sub', 'b'), 'b\n'.repeat(7));
  mkdirSync(join(canary, 'bdir', 'sub'), { recursive: true });
  writeFileSync(join(canary, 'bdir', 'sub', 'deep'), 'deep\n');
  writeFileSync(join(canary, 'bdir', 'keep'), 'keep\n'.repeat(6));
  writeFileSync(join(canary, 'bdir', 'other'), 'other\n'.repeat(3));
  // Hidden inside (--hide): a copy named after it holds what the command guessed, and its diff
  // must not print the host's key.
  // A package's new version beside the admin's config, and an unrelated text under such a name.
  writeFileSync(join(canary, 'app.conf'), Array.from({ length: 10 }, (_, i) => `key${i}=${i}\n`).join(''));
  writeFileSync(join(canary, 'notes.txt'), 'one\ntwo\nthree\n');
  mkdirSync(join(canary, 'sdir'));
  writeFileSync(join(canary, 'sdir', 'pub'), 'k=1\n');
  writeFileSync(join(canary, 'sdir', 'key'), 'hidden-key-bytes\n');
  for (const f of ['site.conf', 'app.log', 'p.conf', 'q.conf', 'r.conf', 'bdir/keep', 'bdir/other', 'bdir/sub/deep']) utimesSync(join(canary, f), 978307200, 978307200);
  const steps = [
    `cd ${canary}`, 'sed -i.bak s/y=2/y=3/ site.conf', 'mv app.log app.log.1 && echo fresh > app.log',
    'cp -p p.conf p.conf.orig && echo k=9 > p.conf', 'cp q.conf q.conf.orig && echo q=9 > q.conf',
    // A file the sandbox leaves as it is, copied without its time.
    'cp fstab fstab.bak', 'cp -r cdir cdir.bak',
    // A dir backed up by `mv`, made again with one of its files (that file's host bytes, a new
    // time): its files moved (and a subdir), one a copy of the host's.
    'mv bdir bdir.bak && mkdir bdir && cp bdir.bak/keep bdir/',
    // Not copies as they stand: changed after the copy; neither named after it nor timed.
    'cp -p r.conf r.conf.orig && echo r=2 >> r.conf.orig && echo r=9 > r.conf', 'cp fstab tabcopy',
    'cp -r cdir cdir.far && echo x >> cdir.far/a && echo y >> cdir.far/sub/b',
    // A dir copy then changed: half of the host dir's files still as they were.
    'cp -r cdir cdir.edit && echo more >> cdir.edit/a && echo new > cdir.edit/extra',
    'mkdir sdir.bak && echo k=1 > sdir.bak/pub && echo guess > sdir.bak/key',
    'cp app.conf app.conf.dpkg-dist && sed -i s/key4=4/key4=40/ app.conf.dpkg-dist', 'echo other > notes.txt.new',
  ];
  const r = sbx(['run', '--name', 'cp', '--hide', join(canary, 'sdir'), '--', 'sh', '-c', steps.join(' && ')]);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n');
  const line = (re: RegExp): string => lines.find((l) => re.test(l)) ?? `(no line like ${re} in)\n${r.stderr}`;
  assert.match(line(/modified: .*\/site\.conf/), /modified: +\S+\/site\.conf \(host version saved as site\.conf\.bak\)$/);
  assert.match(line(/added: .*\/site\.conf\.bak/), /added: +\S+\/site\.conf\.bak \(copy of the host's site\.conf\)$/);
  assert.match(line(/modified: .*\/app\.log/), /\(host version saved as app\.log\.1\)$/);
  assert.match(line(/added: .*\/app\.log\.1/), /\(copy of the host's app\.log\)$/);
  assert.match(line(/added: .*\/p\.conf\.orig/), /\(copy of the host's p\.conf\)$/);
  assert.match(line(/modified: .*\/q\.conf/), /\(host version saved as q\.conf\.orig\)$/);
  assert.match(line(/added: .*\/fstab\.bak/), /\(copy of the host's fstab\)$/);
  assert.match(line(/added: .*\/cdir\.bak\//), /\/cdir\.bak\/ \(2 files, 1 dir, 32 B; copy of the host's cdir\)$/);
  assert.match(line(/added: .*\/cdir\.edit\//), /\/cdir\.edit\/ \(3 files, 1 dir, 41 B; copy of the host's cdir, then changed\)$/);
  assert.match(line(/added: .*\/cdir\.far\//), /\/cdir\.far\/ \(2 files, 1 dir, 36 B\)$/);
  assert.match(line(/added: .*\/sdir\.bak\//), /\/sdir\.bak\/ \(2 files, 10 B\)$/);
  assert.match(line(/added: .*\/bdir\.bak\//), /\/bdir\.bak\/ \(3 files, 1 dir, 53 B; copy of the host's bdir\)$/);
  assert.match(line(/replaced: .*\/bdir\//), /\/bdir\/ \(dir emptied and refilled; host version saved as bdir\.bak\)$/);
  // Each of their lines is the path alone.
  for (const [kind, p] of [['added', 'r.conf.orig'], ['modified', 'r.conf'], ['added', 'tabcopy']]) {
    assert.ok(lines.some((l) => l.endsWith(`${kind}:${kind === 'added' ? '    ' : ' '}${join(canary, p!)}`)), `${kind} ${p}: ${r.stderr}`);
  }
  // The full review: `cp`'s copies are plain new files there (columns, named.ts), paired too.
  const d = sbx(['diff', 'cp']);
  for (const [copy, of] of [['site.conf.bak', 'site.conf'], ['app.log.1', 'app.log'], ['p.conf.orig', 'p.conf'], ['q.conf.orig', 'q.conf'], ['fstab.bak', 'fstab']]) {
    assert.ok(d.stdout.includes(`diff ${join(canary, copy!)} (copy of the host's ${join(canary, of!)})\nSame content\n`), d.stdout);
  }
  // The backed-up dir: one line for its files, moved or a copy.
  assert.ok(d.stdout.includes(`diff ${join(canary, 'bdir.bak')}/ (copy of the host's ${join(canary, 'bdir')}/)\nSame content: 3 files\n`), d.stdout);
  assert.not.match(d.stdout, /^\+keep$/m, 'the backed-up file is not shown as every line added');
  assert.not.ok(d.stdout.includes(`diff ${join(canary, 'bdir.bak', 'other')}`), d.stdout);
  assert.not.ok(d.stdout.includes(`saved as ${join(canary, 'bdir.bak', 'keep')}`), 'bdir/keep holds the host\'s bytes: nothing was saved');
  assert.not.match(d.stdout, /^\+entry$/m, 'the rotated log is not shown as every line added');
  assert.ok(d.stdout.includes(`diff ${join(canary, 'app.log')} (modified; host version saved as ${join(canary, 'app.log.1')})\n`), d.stdout);
  // Changed after the copy: no copy, but a variant of the host's r.conf (5 of its 6 lines).
  assert.ok(d.stdout.includes(`diff ${join(canary, 'r.conf.orig')} (added; shown against the host's ${join(canary, 'r.conf')})\n--- a${join(canary, 'r.conf')}\n+++ b${join(canary, 'r.conf.orig')}\n`), d.stdout);
  assert.match(d.stdout, /^ r=1\n\+r=2$/m);
  assert.ok(d.stdout.includes(`+++ b${join(canary, 'tabcopy')}\n@@ -0,0 +1,1 @@\n`), d.stdout);
  // A dir copied with its tree: one line for its files, none of their texts.
  assert.ok(d.stdout.includes(`diff ${join(canary, 'cdir.bak')}/ (copy of the host's ${join(canary, 'cdir')}/)\nSame content: 2 files\n`), d.stdout);
  assert.not.ok(d.stdout.includes(`diff ${join(canary, 'cdir.bak', 'a')}`), d.stdout);
  // Copied then changed: the files still as they were in one line, each other against the host's.
  assert.ok(d.stdout.includes(`diff ${join(canary, 'cdir.edit')}/ (copy of the host's ${join(canary, 'cdir')}/, then changed)\nSame content: 1 file\n`), d.stdout);
  assert.ok(d.stdout.includes(`diff ${join(canary, 'cdir.edit', 'a')} (copy of the host's ${join(canary, 'cdir', 'a')}, then changed)\n--- a${join(canary, 'cdir', 'a')}\n+++ b${join(canary, 'cdir.edit', 'a')}\n`), d.stdout);
  assert.match(d.stdout, /^ a\n\+more$/m);
  assert.ok(d.stdout.includes(`+++ b${join(canary, 'cdir.edit', 'extra')}\n@@ -0,0 +1,1 @@\n+new\n`), d.stdout);
  assert.not.ok(d.stdout.includes(`diff ${join(canary, 'cdir.edit', 'sub', 'b')}`), d.stdout);
  assert.ok(d.stdout.includes(`+++ b${join(canary, 'cdir.far', 'sub', 'b')}\n@@ -0,0 +1,8 @@\n`), d.stdout);
  assert.not.ok(d.stdout.includes('hidden-key-bytes'), d.stdout);
  // A variant: shown against the host file it is named after, while most of its lines are that file's.
  assert.ok(d.stdout.includes(`diff ${join(canary, 'app.conf.dpkg-dist')} (added; shown against the host's ${join(canary, 'app.conf')})\n--- a${join(canary, 'app.conf')}\n+++ b${join(canary, 'app.conf.dpkg-dist')}\n`), d.stdout);
  assert.match(d.stdout, /^-key4=4\n\+key4=40$/m);
  assert.ok(d.stdout.includes(`+++ b${join(canary, 'notes.txt.new')}\n@@ -0,0 +1,1 @@\n+other\n`), d.stdout);
  assert.ok(d.stdout.includes(`+++ b${join(canary, 'sdir.bak', 'key')}\n@@ -0,0 +1,1 @@\n+guess\n`), d.stdout);
  const j = JSON.parse(sbx(['diff', 'cp', '--json']).stdout) as { changes: Array<{ path: string; copyOf?: string; copiedTo?: string; movedFrom?: string; copyChanged?: boolean }> };
  const at = (p: string) => j.changes.find((c) => c.path === join(canary, p));
  assert.is(at('site.conf.bak')?.copyOf, join(canary, 'site.conf'));
  assert.is(at('site.conf')?.copiedTo, join(canary, 'site.conf.bak'));
  assert.is(at('p.conf.orig')?.copyOf, join(canary, 'p.conf'));
  assert.is(at('fstab.bak')?.copyOf, join(canary, 'fstab'));
  assert.is(at('r.conf.orig')?.copyOf, undefined);
  assert.is(at('r.conf')?.copiedTo, undefined);
  assert.is(at('tabcopy')?.copyOf, undefined);
  assert.is(at('cdir.bak')?.copyOf, join(canary, 'cdir'));
  assert.is(at('cdir.bak/sub/b')?.copyOf, join(canary, 'cdir', 'sub', 'b'));
  assert.is(at('cdir.edit')?.copyOf, join(canary, 'cdir'));
  assert.is(at('cdir.edit')?.copyChanged, true);
  assert.is(at('cdir.edit/a')?.copyChanged, true);
  assert.is(at('cdir.edit/sub/b')?.copyChanged, undefined);
  assert.is(at('cdir.edit/extra')?.copyOf, undefined);
  assert.is(at('cdir.far')?.copyOf, undefined);
  assert.is(at('sdir.bak')?.copyOf, undefined);
  assert.is(at('bdir.bak/keep')?.copyOf, join(canary, 'bdir', 'keep'));
  assert.is(at('bdir/keep')?.copiedTo, undefined);
  assert.is(at('bdir.bak')?.copyOf, join(canary, 'bdir'));
  assert.is(at('bdir')?.copiedTo, join(canary, 'bdir.bak'));
  assert.is(at('bdir.bak/other')?.movedFrom, join(canary, 'bdir', 'other'));
  const c = sbx(['commit', 'cp']);
  assert.is(c.code, 0, c.stderr);
  assert.is(readFileSync(join(canary, 'site.conf.bak'), 'utf8'), 'x=1\ny=2\n');
  assert.is(readFileSync(join(canary, 'site.conf'), 'utf8'), 'x=1\ny=3\n');
  assert.is(readFileSync(join(canary, 'app.log.1'), 'utf8'), 'entry\n'.repeat(50));
  assert.is(readFileSync(join(canary, 'app.log'), 'utf8'), 'fresh\n');
  assert.is(readFileSync(join(canary, 'p.conf.orig'), 'utf8'), 'k=1\n'.repeat(3));
  assert.is(readFileSync(join(canary, 'fstab.bak'), 'utf8'), 'UUID=1 / ext4\n');
  assert.is(readFileSync(join(canary, 'cdir.bak', 'sub', 'b'), 'utf8'), 'b\n'.repeat(7));
  for (const [p, t] of [['bdir.bak/keep', 'keep\n'.repeat(6)], ['bdir/keep', 'keep\n'.repeat(6)], ['bdir.bak/other', 'other\n'.repeat(3)], ['bdir.bak/sub/deep', 'deep\n']]) assert.is(readFileSync(join(canary, p!), 'utf8'), t, p);
  assert.not.ok(existsSync(join(canary, 'bdir', 'other')));
});

test('a host dir moved: mv copies its tree (EXDEV), and both dirs\' lines name each other; a commit without all of the new tree keeps the old one', () => {
  mkdirSync(join(canary, 'olddir', 'sub'), { recursive: true });
  writeFileSync(join(canary, 'olddir', 'a'), 'a\n'.repeat(50));
  writeFileSync(join(canary, 'olddir', 'sub', 'b'), 'b\n'.repeat(70));
  writeFileSync(join(canary, 'olddir', 'empty'), '');
  // An xattr (mv keeps it): in sbx diff's full review that file is an object, the others columns.
  const xa = spawnSync('python3', ['-c', `import os; os.setxattr(${JSON.stringify(join(canary, 'olddir', 'a'))}, 'user.note', b'kept')`], { encoding: 'utf8' });
  assert.is(xa.status, 0, xa.stderr);
  mkdirSync(join(canary, 'copied', 'sub'), { recursive: true });
  writeFileSync(join(canary, 'copied', 'sub', 'c'), 'c\n');
  // Read without moving a host atime (the helper lists the dirs): an old one a readdir would move.
  const old = (p: string): void => { const st = lstatSync(p); utimesSync(p, new Date(978307200_000), st.mtime); };
  for (const p of ['olddir', 'olddir/sub']) old(join(canary, p));
  // copied/: the same tree copied without its times, then removed: no evidence.
  const r = sbx(['run', '--name', 'dmv', '--', 'sh', '-c', `cd ${canary} && mv olddir newdir && echo grown >> newdir/empty && cp -r copied copied2 && rm -r copied`]);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n');
  const line = (re: RegExp): string => lines.find((l) => re.test(l)) ?? `(no line like ${re} in)\n${r.stderr}`;
  assert.match(line(/added: .*\/newdir\//), /\/newdir\/ \(3 files, 1 dir, 246 B; moved from olddir\)$/);
  assert.ok(line(/deleted: .*\/olddir\//).endsWith('(4 entries, 240 B; moved to newdir)'), r.stderr);
  assert.not.match(line(/added: .*\/copied2\//), /moved/);
  assert.not.match(line(/deleted: .*\/copied\//), /moved/);
  // sbx diff's full review, whose plain new files are columns: the same.
  const d = sbx(['diff', 'dmv']);
  assert.ok(d.stdout.includes(`deleted:  ${join(canary, 'olddir')}/ (4 entries, 240 B; moved to newdir)`), d.stdout);
  assert.match(d.stdout, /added: +\S+\/newdir\/ \(3 files, 1 dir, 246 B; moved from olddir\)/);
  // Its files' diffs are against the files they were moved with, one line for those the same
  // (a with its xattr an object, sub/b a column), not whole new texts; the one the old dir had
  // empty (the pairing asks nothing of it) has its hunks.
  assert.ok(d.stdout.includes(`diff ${join(canary, 'newdir')}/ (moved from ${join(canary, 'olddir')}/)\nSame content: 2 files\n`), d.stdout);
  assert.ok(d.stdout.includes(`diff ${join(canary, 'newdir', 'empty')} (moved from ${join(canary, 'olddir', 'empty')})\n--- a${join(canary, 'olddir', 'empty')}\n+++ b${join(canary, 'newdir', 'empty')}\n@@ -0,0 +1,1 @@\n+grown\n`), d.stdout);
  for (const f of ['a', 'sub/b']) assert.not.ok(d.stdout.includes(`diff ${join(canary, 'newdir', f)}`), d.stdout);
  assert.not.ok(d.stdout.includes('\n+b\n'), d.stdout);
  const j = JSON.parse(sbx(['diff', 'dmv', '--json']).stdout) as { changes: Array<{ path: string; movedFrom?: string; movedTo?: string }> };
  assert.is(j.changes.find((c) => c.path === join(canary, 'newdir'))?.movedFrom, join(canary, 'olddir'));
  assert.is(j.changes.find((c) => c.path === join(canary, 'olddir'))?.movedTo, join(canary, 'newdir'));
  for (const p of ['olddir', 'olddir/sub']) assert.is(lstatSync(join(canary, p)).atimeMs, 978307200_000, `${p}: its atime moved`);
  // One file of the new tree left out: the old dir stays, with every file it held.
  const part = sbx(['commit', 'dmv', '--exclude', join(canary, 'newdir', 'sub', 'b')]);
  assert.is(part.code, 1, part.stderr);
  assert.ok(part.stderr.includes(`${join(canary, 'olddir')}: moved to ${join(canary, 'newdir')}, which is not all selected: deleting it alone would lose its content`), part.stderr);
  assert.is(readFileSync(join(canary, 'olddir', 'sub', 'b'), 'utf8'), 'b\n'.repeat(70));
  assert.is(readFileSync(join(canary, 'newdir', 'a'), 'utf8'), 'a\n'.repeat(50), 'the rest was committed');
  // Again: newdir is on the host now, so nothing pairs the two dirs from their content; the
  // commit that held the deletion remembered the move, and this one holds it again.
  const again = sbx(['commit', 'dmv', '--exclude', join(canary, 'newdir', 'sub', 'b')]);
  assert.is(again.code, 1, again.stderr);
  assert.ok(again.stderr.includes(`${join(canary, 'olddir')}: moved to ${join(canary, 'newdir')}, which is not all selected`), again.stderr);
  assert.is(readFileSync(join(canary, 'olddir', 'sub', 'b'), 'utf8'), 'b\n'.repeat(70));
  assert.ok(sbx(['diff', 'dmv']).stdout.includes(`deleted:  ${join(canary, 'olddir')}/ (4 entries, 240 B; moved to newdir)`));
  const c = sbx(['commit', 'dmv']);
  assert.is(c.code, 0, c.stderr);
  assert.not.ok(existsSync(join(canary, 'olddir')));
  assert.is(readFileSync(join(canary, 'newdir', 'sub', 'b'), 'utf8'), 'b\n'.repeat(70));
  assert.is(readFileSync(join(canary, 'copied2', 'sub', 'c'), 'utf8'), 'c\n');
});

test('a host dir moved, then changed: still paired (then changed); its files against their old ones, same size or not; one removed after the move shown deleted; a commit without all of the new tree keeps the old one', () => {
  const old = join(canary, 'before'), now = join(canary, 'after');
  mkdirSync(old);
  const text: Record<string, string> = { a: 'a\n'.repeat(50), b: 'b\n'.repeat(70), c: 'c\n'.repeat(30), d: 'gone\n', e: 'same size\n', f: 'f\n', g: 'g\n', h: 'h\n', i: 'i\n' };
  for (const [n, t] of Object.entries(text)) writeFileSync(join(old, n), t);
  // c has an xattr: in sbx diff's full review it is an object, the others columns.
  const xa = spawnSync('python3', ['-c', `import os; os.setxattr(${JSON.stringify(join(old, 'c'))}, 'user.note', b'kept')`], { encoding: 'utf8' });
  assert.is(xa.status, 0, xa.stderr);
  // Five of nine files as they were (b, f, g, h, i): at least half, so the tree went there.
  const r = sbx(['run', '--name', 'dmc', '--', 'sh', '-c', `cd ${canary} && mv before after && echo more >> after/a && rm after/d && printf 'C\\n%.0s' $(seq 30) > after/c && printf 'SAME SIZE\\n' > after/e && echo new > after/n`]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /added: +\S+\/after\/ \(\d+ files, \d+ B; moved from before, then changed\)\n/);
  assert.match(r.stderr, /deleted: +\S+\/before\/ \(9 entries, \d+ B; moved to after\)\n/);
  const d = sbx(['diff', 'dmc']);
  assert.is(d.code, 0, d.stderr);
  assert.ok(d.stdout.includes(`diff ${now}/ (moved from ${old}/)\nSame content: 5 files\n`), d.stdout);
  assert.ok(d.stdout.includes(`diff ${join(old, 'd')} (deleted after the move to ${now}/)\n--- a${join(old, 'd')}\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-gone\n`), d.stdout);
  assert.ok(d.stdout.includes(`diff ${join(now, 'a')} (moved from ${join(old, 'a')})\n--- a${join(old, 'a')}\n+++ b${join(now, 'a')}\n@@ -48,3 +48,4 @@\n a\n a\n a\n+more\n`), d.stdout);
  // Of the old file's size, other bytes: compared, not taken for the same (a column, an object).
  assert.ok(d.stdout.includes(`diff ${join(now, 'e')} (moved from ${join(old, 'e')})\n--- a${join(old, 'e')}\n+++ b${join(now, 'e')}\n@@ -1,1 +1,1 @@\n-same size\n+SAME SIZE\n`), d.stdout);
  assert.ok(d.stdout.includes(`diff ${join(now, 'c')} (moved from ${join(old, 'c')})\n`), d.stdout);
  assert.ok(d.stdout.includes(`diff ${join(now, 'n')} (added)\n`), d.stdout);
  for (const f of ['b', 'f', 'i']) assert.not.ok(d.stdout.includes(`diff ${join(now, f)} `), d.stdout);
  const j = JSON.parse(sbx(['diff', 'dmc', '--json']).stdout) as { changes: Array<{ path: string; movedFrom?: string; movedChanged?: boolean }> };
  const dir = j.changes.find((c) => c.path === now);
  assert.equal([dir?.movedFrom, dir?.movedChanged], [old, true]);
  // Its deletion is held while part of the new tree is left out, as for a move alone.
  const part = sbx(['commit', 'dmc', '--exclude', join(now, 'b')]);
  assert.is(part.code, 1, part.stderr);
  assert.ok(part.stderr.includes(`${old}: moved to ${now}, which is not all selected`), part.stderr);
  assert.is(readFileSync(join(old, 'b'), 'utf8'), text.b);
  const c = sbx(['commit', 'dmc']);
  assert.is(c.code, 0, c.stderr);
  assert.not.ok(existsSync(old));
  assert.is(readFileSync(join(now, 'a'), 'utf8'), `${text.a}more\n`);
  assert.not.ok(existsSync(join(now, 'd')));
});

test('a move or copy with another mode than the host file it came from: its line, diff and JSON say it beside the move or copy, and a commit keeps the mode reviewed', () => {
  // A secret moved or backed up and opened to every user after: the bytes alone ("Same
  // content") would hide that the commit makes them readable to all.
  writeFileSync(join(canary, 'secret'), 'token=abc\n', { mode: 0o600 });
  writeFileSync(join(canary, 'token'), 'tok\n', { mode: 0o600 });
  mkdirSync(join(canary, 'keys'));
  writeFileSync(join(canary, 'keys', 'id'), 'private\n', { mode: 0o600 });
  writeFileSync(join(canary, 'keys', 'id.pub'), 'public key\n');
  mkdirSync(join(canary, 'site'));
  for (const n of ['a', 'b', 'c']) writeFileSync(join(canary, 'site', n), `${n}\n`.repeat(4));
  for (const f of ['secret', 'token', 'keys/id', 'keys/id.pub', 'site/a', 'site/b', 'site/c']) chmodSync(join(canary, f), f.endsWith('id') || f === 'secret' || f === 'token' ? 0o600 : 0o644);
  const steps = [`cd ${canary}`, 'mv secret secret.old && chmod 644 secret.old', 'cp -p token token.bak && chmod 644 token.bak',
    'mv keys keys.old && chmod 644 keys.old/id', 'cp -a site site.bak && chmod 600 site.bak/b', 'cp -a site site.orig'];
  const r = sbx(['run', '--name', 'acc', '--', 'sh', '-c', steps.join(' && ')]);
  assert.is(r.code, 0, r.stderr);
  const to = '(?:\u2192|->)';
  assert.match(r.stderr, new RegExp(`added: +\\S+/secret\\.old \\(moved from secret; mode 600${to}644\\)\n`));
  assert.match(r.stderr, new RegExp(`added: +\\S+/token\\.bak \\(copy of the host's token; mode 600${to}644\\)\n`));
  assert.match(r.stderr, /added: +\S+\/keys\.old\/ \(2 files, \d+ B; moved from keys, then changed\)\n/);
  assert.match(r.stderr, /added: +\S+\/site\.bak\/ \(3 files, 24 B; copy of the host's site, then changed\)\n/);
  assert.match(r.stderr, /added: +\S+\/site\.orig\/ \(3 files, 24 B; copy of the host's site\)\n/);
  const d = sbx(['diff', 'acc']);
  assert.is(d.code, 0, d.stderr);
  const arrow = /\u2192/.test(d.stdout) ? '\u2192' : '->';
  assert.ok(d.stdout.includes(`diff ${join(canary, 'secret.old')} (moved from ${join(canary, 'secret')}; mode 600${arrow}644)\nSame content\n`), d.stdout);
  assert.ok(d.stdout.includes(`diff ${join(canary, 'token.bak')} (copy of the host's ${join(canary, 'token')}; mode 600${arrow}644)\nSame content\n`), d.stdout);
  assert.ok(d.stdout.includes(`diff ${join(canary, 'keys.old')}/ (moved from ${join(canary, 'keys')}/)\nSame content: 1 file\ndiff ${join(canary, 'keys.old', 'id')} (moved from ${join(canary, 'keys', 'id')}; mode 600${arrow}644)\nSame content\n`), d.stdout);
  assert.ok(d.stdout.includes(`diff ${join(canary, 'site.bak')}/ (copy of the host's ${join(canary, 'site')}/, then changed)\nSame content: 2 files\ndiff ${join(canary, 'site.bak', 'b')} (copy of the host's ${join(canary, 'site', 'b')}; mode 644${arrow}600)\nSame content\n`), d.stdout);
  assert.ok(d.stdout.includes(`diff ${join(canary, 'site.orig')}/ (copy of the host's ${join(canary, 'site')}/)\nSame content: 3 files\n`), d.stdout);
  assert.not.ok(d.stdout.includes('token=abc') || d.stdout.includes('+private'), d.stdout);
  const j = JSON.parse(sbx(['diff', 'acc', '--json']).stdout) as { changes: Array<{ path: string; sourceDetails?: string[]; copyChanged?: boolean; mode?: string }> };
  const at = (p: string) => j.changes.find((c) => c.path === join(canary, p));
  assert.equal(at('secret.old')?.sourceDetails, ['mode 600\u2192644']);
  assert.equal(at('token.bak')?.sourceDetails, ['mode 600\u2192644']);
  assert.equal([at('site.bak/b')?.sourceDetails, at('site.bak/b')?.copyChanged, at('site.bak')?.copyChanged], [['mode 644\u2192600'], undefined, true]);
  assert.is(at('site.orig/a')?.sourceDetails, undefined);
  assert.equal([at('secret.old')?.mode, at('site.bak/b')?.mode, at('site.bak')?.mode], ['644', '600', (lstatSync(join(canary, 'site')).mode & 0o7777).toString(8)]);
  const c = sbx(['commit', 'acc']);
  assert.is(c.code, 0, c.stderr);
  assert.is(lstatSync(join(canary, 'secret.old')).mode & 0o777, 0o644);
  assert.is(lstatSync(join(canary, 'keys.old', 'id')).mode & 0o777, 0o644);
  assert.is(lstatSync(join(canary, 'site.bak', 'b')).mode & 0o777, 0o600);
  assert.not.ok(existsSync(join(canary, 'secret')));
});

test('a symlink retargeted (ln -sfn, mv -T): its line, JSON and --stat row name the target it had; sbx diff shows each link\'s target, a new dir\'s too', () => {
  mkdirSync(join(canary, 'v1'));
  mkdirSync(join(canary, 'v2'));
  symlinkSync('v1', join(canary, 'current'));
  const r = sbx(['run', '--name', 'relink', '--', 'sh', '-c', `cd ${canary} && ln -sfn v2 current.new && mv -T current.new current && mkdir -p www/assets && echo hi > www/index.html && ln -s /etc/shadow www/assets/config.txt`]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`modified: +${canary}/current -> v2 \\(was v1\\)\n`));
  const j = JSON.parse(sbx(['diff', 'relink', '--json']).stdout) as { changes: Array<{ path: string; target?: string; targetBefore?: string }> };
  const c = j.changes.find((x) => x.path === join(canary, 'current'));
  assert.equal([c?.target, c?.targetBefore], ['v2', 'v1']);
  assert.match(sbx(['diff', 'relink', '--stat']).stdout, new RegExp(`^ ${canary}/current +\\| symlink v1 (→|->) v2$`, 'm'));
  // The new dir's line counts the link; the diff names where it points.
  assert.match(r.stderr, new RegExp(`added: +${canary}/www/ \\(1 file, 1 dir, 1 symlink, 3 B\\)\n`));
  const d = sbx(['diff', 'relink']);
  assert.ok(d.stdout.includes(`diff ${join(canary, 'www', 'assets', 'config.txt')} (added)\nsymlink -> /etc/shadow\n`), d.stdout);
  assert.ok(d.stdout.includes(`diff ${join(canary, 'current')} (modified)\nsymlink -> v2 (was v1)\n`), d.stdout);
  assert.is(sbx(['discard', 'relink']).code, 0);
});

test('a conflicting host edit is kept and reported; exit status 1', () => {
  const r = sbx(['run', '--name', 'c', '--', 'sh', '-c', `echo sandbox > ${canary}/keep.txt; echo x > ${canary}/other`]);
  assert.is(r.code, 0, r.stderr);
  writeFileSync(join(canary, 'keep.txt'), 'host edit\n');
  const c = sbx(['commit', 'c']);
  assert.is(c.code, 1);
  assert.match(c.stderr, /Conflicts/);
  assert.is(readFileSync(join(canary, 'keep.txt'), 'utf8'), 'host edit\n');
  assert.is(readFileSync(join(canary, 'other'), 'utf8'), 'x\n');
});

test('diff PATH filters: one that selects nothing is said with the count in all, --exit-code answers for what they select (as git), and a sandbox given as a PATH is refused', () => {
  assert.is(sbx(['run', '--name', 'pa', '--', 'sh', '-c', `echo a > ${canary}/pa.txt`]).code, 0);
  assert.is(sbx(['run', '--name', 'pb', '--', 'sh', '-c', `echo b > ${canary}/pb.txt`]).code, 0);
  // `sbx diff pa pb` took pb for a path: "sandbox pa: no changes", exit 0 with --exit-code.
  for (const extra of [[], ['--exit-code'], ['--name-only'], ['--stat'], ['--json']]) {
    const two = sbx(['diff', 'pa', 'pb', ...extra]);
    assert.is(two.code, 125, `${extra.join(' ')}: ${two.stderr}`);
    assert.is(two.stdout, '');
    assert.is(two.stderr, "sbx: error: diff takes one sandbox id, and 'pb' is a sandbox ('./pb' for a path of that name)\n");
  }
  const none = sbx(['diff', 'pa', '--exit-code', 'nosuch']);
  assert.is(none.code, 0, 'git diff --exit-code with a pathspec: nothing changed under it');
  assert.is(none.stderr, `sbx: warning: PATH ${canary}/nosuch matches no change\n`);
  assert.match(none.stdout, new RegExp(`^sandbox pa: no changes under ${canary}/nosuch \\(1 change in all\\)\n`));
  const dot = sbx(['diff', 'pa', '--name-only', './pb']);
  assert.is(dot.code, 0, dot.stderr);
  assert.match(dot.stderr, /PATH .*\/pb matches no change/);
  const some = sbx(['diff', 'pa', '--exit-code', '--name-only', 'pa.txt', 'nosuch']);
  assert.is(some.code, 1, some.stderr);
  assert.is(some.stdout, `${canary}/pa.txt\n`);
  assert.match(some.stderr, /nosuch matches no change/);
  assert.not.match(some.stderr, /pa\.txt matches/);
});

test('a commit starts the helper without node:child_process (its load was ~6 ms of a small commit), makes no stdout stream (its report is on stdout with --dry-run only), and its removal goes on detached', () => {
  assert.is(sbx(['run', '--name', 'light', '--', 'sh', '-c', `echo a > ${canary}/light.txt && mkdir ${canary}/light && echo b > ${canary}/light/b`]).code, 0);
  const preload = join(home, 'loaded.cjs'), list = join(home, 'loaded.txt');
  writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
  const r = run(['commit', 'light'], { store: home, cwd: canary, env: { NODE_OPTIONS: `--require ${preload}` } });
  assert.is(r.code, 0, r.stderr);
  assert.is(readFileSync(join(canary, 'light', 'b'), 'utf8'), 'b\n');
  const loaded = readFileSync(list, 'utf8').split('\n');
  assert.ok(loaded.includes('NativeModule fs'), 'the list is of Node modules');
  // stdout is a pipe: making its stream loads both (cli/stdout-text.ts).
  for (const m of ['NativeModule child_process', 'NativeModule net', 'NativeModule stream']) assert.not.ok(loaded.includes(m), `${m} was loaded`);
  awaitDetachedRemovals(home);
  // ls writes its table with write(2) too.
  const ls = run(['ls'], { store: home, cwd: canary, env: { NODE_OPTIONS: `--require ${preload}` } });
  assert.is(ls.stdout, 'no saved sandboxes\n', ls.stderr);
  const lsLoaded = readFileSync(list, 'utf8').split('\n');
  for (const m of ['NativeModule net', 'NativeModule stream']) assert.not.ok(lsLoaded.includes(m), `${m} was loaded by ls`);
});

test('diff (its text, --stat, --json, --name-only with a PATH) writes into a pipe without making Node\'s stdout stream (cli/stdout-text.ts), and a small one\'s scan loads no node:child_process', () => {
  assert.is(sbx(['run', '--name', 'fd1', '--', 'sh', '-c', `echo a > ${canary}/fd1.txt`]).code, 0);
  const preload = join(home, 'handles.cjs'), list = join(home, 'handles.json');
  // Node's stdout for a pipe is a socket on fd 1, an active handle until the process ends.
  writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify({ fds: process._getActiveHandles().map((h) => h.fd), modules: process.moduleLoadList })));\n`);
  for (const args of [['diff', 'fd1'], ['diff', '--stat', 'fd1'], ['diff', '--json', 'fd1'], ['diff', '--name-only', 'fd1', canary]]) {
    const r = run(args, { store: home, cwd: canary, env: { NODE_OPTIONS: `--require ${preload}` } });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, 'fd1.txt');
    const seen = JSON.parse(readFileSync(list, 'utf8')) as { fds: unknown[]; modules: string[] };
    assert.not.ok(seen.fds.includes(1), `${args.join(' ')}: stdout's stream was made`);
    assert.ok(seen.modules.includes('NativeModule fs'), 'the list is of Node modules');
    // The scan's answer is small: taken whole, the helper started as a run starts it (changes/walk.ts).
    for (const m of ['NativeModule child_process', 'NativeModule net']) assert.not.ok(seen.modules.includes(m), `${args.join(' ')}: ${m} was loaded`);
  }
  assert.is(sbx(['discard', 'fd1']).code, 0);
});

test('a diff whose scan answer is too big to take whole (over 64 KiB) is scanned again and decoded as the helper walks: every file is there', () => {
  // 4,000 new files of 300 bytes: the full view reads each one's text, --name-only their names only.
  assert.is(sbx(['run', '--name', 'big', '--', 'sh', '-c', `mkdir ${canary}/big && cd ${canary}/big && for i in $(seq 1 4000); do printf '%0300d\\n' $i > f$i; done`]).code, 0);
  const { wrapper, calls } = loggedHelper('"$*"');
  const started = (args: string[]) => {
    writeFileSync(calls, '');
    const r = run(args, { store: home, cwd: canary, timeoutMs: 300_000, env: { SBX_HELPER: wrapper } });
    assert.is(r.code, 0, r.stderr);
    return { out: r.stdout, helper: readFileSync(calls, 'utf8').trim().split('\n') };
  };
  const full = started(['diff', 'big']);
  assert.equal(full.helper, [`scan --whole-max=${64 << 10}`, 'scan'], 'the whole answer refused, then read as it came');
  assert.is(full.out.split('\n').filter((l) => l.startsWith('+++ ')).length, 4000);
  assert.match(full.out, `+${'0'.repeat(296)}4000\n`);
  const names = started(['diff', '--name-only', 'big']);
  assert.equal(names.helper, [`scan --whole-max=${64 << 10}`], 'names only: a small answer, taken whole');
  assert.is(names.out.trim().split('\n').length, 4001, 'the new dir and its files');
  assert.is(sbx(['discard', 'big']).code, 0);
});

test("output through a pipe its reader is slow to take arrives whole: sbx ends once it is written (cli/main.ts exitNow)", () => {
  const names = `seq -f 'a-file-with-a-longish-name-%06g' 1 3000 | xargs touch`;
  assert.is(sbx(['run', '--name', 'many', '--', 'sh', '-c', `mkdir ${canary}/many && cd ${canary}/many && ${names}`]).code, 0);
  const whole = sbx(['diff', 'many', '--json']);
  assert.is(whole.code, 0, whole.stderr);
  // Well past a pipe's 64 KiB: the rest waits in sbx until the reader reads.
  const size = Buffer.byteLength(whole.stdout);
  assert.ok(size > 256 * 1024, `${size} bytes`);
  const slow = spawnSync('sh', ['-c', '"$0" "$1" diff many --json | { sleep 0.5; wc -c; }', process.execPath, SBX], {
    encoding: 'utf8', cwd: canary, env: { ...process.env, SBX_HOME: home, NO_COLOR: '1' },
  });
  assert.is(slow.stdout.trim(), String(size), slow.stderr);
  // A commit's steps (--dry-run), written with write(2) (cli/stdout-text.ts), into a pipe
  // another process left non-blocking and whose reader waits: what write(2) cannot take
  // (EAGAIN) goes through Node's stream, in order, and sbx ends once it is written.
  const steps = sbx(['commit', '--dry-run', 'many']);
  assert.is(steps.code, 0, steps.stderr);
  assert.ok(Buffer.byteLength(steps.stdout) > 128 * 1024, `${Buffer.byteLength(steps.stdout)} bytes`);
  // The reader waits until the pipe is full (FIONREAD: within PIPE_BUF of its 64 KiB: a line
  // that does not fit whole is refused whole), so sbx's next write meets EAGAIN.
  const driver = 'import os,fcntl,subprocess,sys,time,termios,array\nr,w=os.pipe()\nfcntl.fcntl(w,fcntl.F_SETFL,fcntl.fcntl(w,fcntl.F_GETFL)|os.O_NONBLOCK)\np=subprocess.Popen(sys.argv[1:],stdout=w)\nos.close(w)\nn=array.array("i",[0])\nwhile p.poll() is None:\n  fcntl.ioctl(r,termios.FIONREAD,n)\n  if n[0]>65536-4096: break\n  time.sleep(0.01)\ntime.sleep(0.2)\nf=os.fdopen(r,"rb")\nsys.stdout.buffer.write(f.read())\nsys.exit(p.wait())';
  const held = spawnSync('python3', ['-c', driver, process.execPath, SBX, 'commit', '--dry-run', 'many'], { encoding: 'utf8', cwd: canary, env: { ...process.env, SBX_HOME: home, NO_COLOR: '1' }, maxBuffer: 1 << 26, timeout: 60_000 });
  assert.is(held.status, 0, held.stderr);
  assert.ok(held.stdout === steps.stdout, `${Buffer.byteLength(held.stdout)} of ${Buffer.byteLength(steps.stdout)} bytes, in order: ${held.stdout === steps.stdout}`);
  // A reader that stops early (EPIPE) ends sbx quietly, with the command's status.
  const head = spawnSync('bash', ['-c', 'set -o pipefail; "$0" "$1" commit --dry-run many | head -1', process.execPath, SBX], { encoding: 'utf8', cwd: canary, env: { ...process.env, SBX_HOME: home, NO_COLOR: '1' } });
  assert.is(head.status, 0, head.stderr);
  assert.is(head.stdout, `${steps.stdout.split('\n')[0]}\n`);
  assert.not.match(head.stderr, /error|EPIPE/i);
});

test.run();
