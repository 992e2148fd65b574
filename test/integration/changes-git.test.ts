// Real git inside a sandbox: after commits, a new branch and a hook, the review says what git
// did in one line per repository and lists the hook flagged; every entry of .git is still in
// --name-only and --json and is committed (the host repository then has the commits).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { deflateSync } from 'node:zlib';
import { join } from 'node:path';
import { homedir, tmpdir } from 'node:os';
import { removeTree } from '../../sandbox-core/store.js';
import { awaitDetachedRemovals, sbx as run, type SbxResult } from '../helpers/sbx.js';
import { ROOT_CASE, testUnless } from '../helpers/skip.js';
import { CANARY } from '../helpers/canary-name.js';

let canary: string;
let home: string;
const sbx = (args: string[]): SbxResult => run(args, { store: home, cwd: canary, timeoutMs: 300_000 });
// As an unprivileged user the repository sits in the user's home (see changes.test.ts).
const base = process.getuid?.() === 0 ? '/tmp' : homedir();
let gitMissing: string | null = null;
try { execFileSync('git', ['--version'], { stdio: 'ignore' }); } catch { gitMissing = 'git is not installed'; }
const gitTest = testUnless(gitMissing, { missing: true });
const git = (...a: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', '-C', join(canary, 'repo'), ...a], { encoding: 'utf8' });

test.before.each(() => {
  canary = mkdtempSync(join(base, CANARY));
  home = mkdtempSync(join(tmpdir(), 'sbx-home-'));
  if (gitMissing) return;
  execFileSync('git', ['init', '-q', '-b', 'master', join(canary, 'repo')]);
  execFileSync('sh', ['-c', `echo one > '${canary}/repo/a.txt'`]);
  git('add', 'a.txt');
  git('commit', '-qm', 'one');
});
test.after.each(() => {
  removeTree(canary);
  const left = JSON.parse(sbx(['ls', '--json']).stdout || '[]') as Array<{ id: string }>;
  if (left.length) sbx(['discard', ...left.map((m) => m.id)]);
  awaitDetachedRemovals(home);
  removeTree(home);
});

const work = (repo: string) => [
  `cd '${repo}'`, 'G="git -c user.email=t@t -c user.name=t"',
  'echo two > b.txt', '$G add b.txt', '$G commit -qm two', 'echo three > c.txt', '$G add c.txt', '$G commit -qm three',
  '$G checkout -qb feature', 'echo four > d.txt', '$G add d.txt', '$G commit -qm four',
  "printf '#!/bin/sh\\necho hook\\n' > .git/hooks/pre-commit", 'chmod +x .git/hooks/pre-commit',
].join(' && ');

gitTest('commits, a branch and a hook: one git line, the hook flagged; every entry listed and committed', () => {
  const repo = join(canary, 'repo');
  const before = git('rev-parse', '--short=7', 'master').trim();
  const r = sbx(['run', '--name', 'g', '--', 'sh', '-c', work(repo)]);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n');
  const gitLine = lines.find((l) => l.startsWith(`  modified: ${repo}: git: `));
  assert.ok(gitLine, r.stderr);
  assert.match(gitLine!, new RegExp(`feature new [0-9a-f]{7} \\(1 commit\\), master ${before} -> [0-9a-f]{7} \\(2 commits\\), HEAD -> feature, 9 objects`));
  assert.ok(lines.some((l) => l === `! added:    ${repo}/.git/hooks/pre-commit [! git hook]`), r.stderr);
  assert.not.match(r.stderr, /\.git\/(objects|refs|logs|index)/);
  // The list is whole: --name-only and --json name each entry of .git.
  const names = sbx(['diff', 'g', '--name-only']).stdout.trim().split('\n');
  const json = JSON.parse(sbx(['diff', 'g', '--json']).stdout) as { changes: Array<{ path: string }> };
  assert.is(json.changes.length, names.length);
  for (const p of ['.git/refs/heads/master', '.git/refs/heads/feature', '.git/index', '.git/logs/HEAD', '.git/hooks/pre-commit']) assert.ok(names.includes(join(repo, p)), p);
  assert.ok(names.filter((n) => n.includes('/.git/objects/')).length >= 9);
  // And committed: the host repository has the commits and the hook.
  const c = sbx(['commit', 'g']);
  assert.is(c.code, 0, c.stderr);
  assert.is(git('log', '--format=%s', 'feature').trim(), 'four\nthree\ntwo\none');
  assert.is(git('rev-parse', '--abbrev-ref', 'HEAD').trim(), 'feature');
  assert.ok(existsSync(join(repo, '.git/hooks/pre-commit')));
});


gitTest("sbx diff leaves git's own files out of the diffs, says so, and --all shows them; a clone's config and exclude are not flagged", () => {
  const repo = join(canary, 'repo');
  const clone = join(canary, 'clone');
  // --no-hardlinks: as sbxtest (fuse-overlayfs) a local clone's hard links of the objects fail ('hardlink different from source').
  const r = sbx(['run', '--name', 'd', '--', 'sh', '-c', `${work(repo)} && git clone -q --no-hardlinks '${repo}' '${clone}'`]);
  assert.is(r.code, 0, r.stderr);
  const out = sbx(['diff', 'd']).stdout;
  const diffs = out.split('\n').filter((l) => l.startsWith('diff '));
  // The work and the hook (flagged: always its diff); nothing else of either .git.
  for (const p of ['repo/b.txt', 'repo/c.txt', 'repo/d.txt', 'clone/a.txt']) assert.ok(diffs.includes(`diff ${join(canary, p)} (added)`), `${p}\n${out}`);
  // The hook is a program: its header says so.
  assert.ok(diffs.includes(`diff ${join(canary, 'repo/.git/hooks/pre-commit')} (added, mode 755)`), out);
  assert.is(diffs.filter((l) => l.includes('/.git/')).length, 1, out);
  assert.match(out, new RegExp(`^${repo}: \\d+ diffs of git's own files left out \\(to see them: sbx diff d ${repo}/\\.git\\)$`, 'm'));
  assert.match(out, new RegExp(`^${clone}: \\d+ diffs of git's own files left out`, 'm'));
  // What git clone writes in config and info/exclude is not flagged: the hook is the one mark.
  assert.equal(out.split('\n').filter((l) => l.startsWith('!')).map((l) => l.replace(/ +/g, ' ')), [`! added: ${repo}/.git/hooks/pre-commit [! git hook]`, '! 1 change marked ! (code that runs later, or access for others): review it before keeping'], out);
  const all = sbx(['diff', 'd', '--all']).stdout;
  assert.ok(all.includes(`diff ${repo}/.git/logs/HEAD (modified)`), all);
  assert.ok(all.includes(`diff ${clone}/.git/config (added)`), all);
  assert.not.match(all, /left out/);
  assert.ok(sbx(['diff', 'd', join(clone, '.git')]).stdout.includes(`diff ${clone}/.git/packed-refs (added)`));
});

// Real sandboxes over the canary repository: git's everyday work flags nothing; history the
// host has, rewritten behind the repository line (an adversarial test's three ways), is listed
// and flagged, each by its path. Both sandboxes are discarded.
gitTest('commit, branch, tag, fetch and gc flag nothing; a replace ref, a rewritten object and a moved tag are flagged', () => {
  const repo = join(canary, 'repo');
  const remote = join(canary, 'remote');
  git('tag', 'v1');
  execFileSync('git', ['clone', '-q', '--no-hardlinks', repo, remote]);
  execFileSync('sh', ['-c', `cd '${remote}' && echo r > r.txt && git add r.txt && git -c user.email=t@t -c user.name=t commit -qm r && git tag r1`]);
  const G = 'git -c user.email=t@t -c user.name=t';
  const quiet = sbx(['run', '--name', 'q', '--', 'sh', '-c', [`cd '${repo}'`, 'echo two >> a.txt', `${G} commit -qam two`, 'git checkout -qb feature',
    `${G} commit -q --allow-empty -m three`, 'git tag v2', `git remote add origin '${remote}'`, 'git fetch -q --tags origin', 'git gc -q --prune=now'].join(' && ')]);
  assert.is(quiet.code, 0, quiet.stderr);
  assert.not.match(quiet.stderr, /^!/m);
  assert.match(quiet.stderr, /git: .*tag r1 new [0-9a-f]{7}, tag v2 new [0-9a-f]{7}, remote origin\/master new [0-9a-f]{7}/);
  sbx(['discard', 'q']);
  const blob = git('rev-parse', 'HEAD:a.txt').trim();
  const obj = `.git/objects/${blob.slice(0, 2)}/${blob.slice(2)}`;
  const evil = deflateSync(Buffer.from('blob 5\0evil\n')).toString('base64');
  const r = sbx(['run', '--name', 'h', '--', 'sh', '-c', [`cd '${repo}'`, `git replace ${blob} $(echo evil | git hash-object -w --stdin)`,
    `chmod u+w ${obj}`, `printf %s ${evil} | base64 -d > ${obj}`, `git update-ref refs/tags/v1 $(${G} commit-tree -m forged -p HEAD 'HEAD^{tree}')`].join(' && ')]);
  assert.is(r.code, 0, r.stderr);
  const marks = r.stderr.split('\n').filter((l) => l.startsWith('! ')).map((l) => l.replace(/ +/g, ' '));
  assert.ok(marks.some((l) => new RegExp(`^! added: ${repo}/\\.git/refs/replace/${blob} \\[! git replace ref`).test(l)), r.stderr);
  assert.ok(marks.includes(`! modified: ${repo}/${obj} (mode 444→644) [! git object or pack written over (objects never change: checkout would write other content)]`), r.stderr);
  assert.ok(marks.some((l) => l.startsWith(`! modified: ${repo}/.git/refs/tags/v1 [! git tag moved`)), r.stderr);
  sbx(['discard', 'h']);
});

// A tag the host moved after packing it is a loose file over an older packed line: deleting the
// loose file in a real sandbox (a whiteout) moves the tag back, and is flagged; pack-refs and gc,
// which write its value into packed-refs first, are not.
gitTest('a loose tag deleted over an older packed line is flagged; pack-refs and gc over it are not', () => {
  const repo = join(canary, 'repo');
  git('tag', 'v1');
  git('commit', '-q', '--allow-empty', '-m', 'two');
  git('pack-refs', '--all');
  git('tag', '-f', 'v1', 'HEAD');
  const quiet = sbx(['run', '--name', 'q', '--', 'sh', '-c', `cd '${repo}' && git pack-refs --all && git gc -q --prune=now && git tag v2`]);
  assert.is(quiet.code, 0, quiet.stderr);
  assert.not.match(quiet.stderr, /^!/m);
  assert.ok(sbx(['diff', 'q', '--name-only']).stdout.split('\n').includes(`${repo}/.git/refs/tags/v1`), 'pack-refs deleted the loose tag');
  sbx(['discard', 'q']);
  const r = sbx(['run', '--name', 'm', '--', 'sh', '-c', `rm '${repo}/.git/refs/tags/v1'`]);
  assert.is(r.code, 0, r.stderr);
  const marks = r.stderr.split('\n').filter((l) => l.startsWith('! ')).map((l) => l.replace(/ +/g, ' '));
  assert.ok(marks.some((l) => l.startsWith(`! deleted: ${repo}/.git/refs/tags/v1 [! git tag moved`)), r.stderr);
  sbx(['discard', 'm']);
});

// Root's overlays are made on the host before the sandbox's user namespace, so overlayfs
// follows a copy-up's origin mark and a hard link of a host file keeps its inode number, which
// git checks since CVE-2022-39253. Only on a host filesystem with a UUID (this VM's root
// filesystem has a null one): the repository sits on a tmpfs the test mounts (tmpfs has one).
testUnless(gitMissing ?? ROOT_CASE, { missing: gitMissing !== null })('as root a local git clone with hard links works in a tree on a filesystem with a UUID', () => {
  const fs = join(canary, 'fs');
  execFileSync('mkdir', ['-p', fs]);
  execFileSync('mount', ['-t', 'tmpfs', 'sbx-canary', fs]);
  try {
    execFileSync('git', ['init', '-q', '-b', 'master', join(fs, 'src')]);
    execFileSync('sh', ['-c', `cd '${fs}/src' && echo one > a.txt && git add a.txt && git -c user.email=t@t -c user.name=t commit -qm one`]);
    const r = sbx(['run', '--name', 'c', '--', 'sh', '-c', `git clone -q '${fs}/src' '${fs}/dst' && ln '${fs}/src/a.txt' '${fs}/src/b.txt' && stat -c %i '${fs}/src/a.txt' '${fs}/src/b.txt'`]);
    assert.is(r.code, 0, r.stderr);
    const [a, b] = r.stdout.trim().split('\n');
    assert.is(a, b, r.stdout);
    assert.ok(sbx(['diff', 'c', '--name-only']).stdout.includes(`${fs}/dst/a.txt`));
  } finally {
    sbx(['discard', 'c']);
    execFileSync('umount', ['-l', fs]);
  }
});

test.run();
