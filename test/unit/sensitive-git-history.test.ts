// History the host has, rewritten inside a git dir, is flagged beside the repository's folded
// line (git-history.ts): a replace ref, a moved tag (loose or packed), an existing object or
// pack written over. What git does every day (commit, branch, new tag, fetch, gc, pack-refs)
// stays quiet. Real git: the host repository is made with the git CLI, the command runs in a
// copy of it, and what the copy changed is laid into the upper layer as overlayfs would.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, chmodSync, utimesSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { deflateSync } from 'node:zlib';
import { join } from 'node:path';
import { makeFixture, markStarted, whiteout, type Fixture } from './changes-fixture.js';
import { scanSandbox } from '../../sandbox-core/changes/scan.js';
import { renderSummary } from '../../cli/render-changes.js';
import { sensitiveContext, sensitiveRule } from '../../sandbox-core/changes/sensitive.js';

const plain = { green: (s: string) => s, red: (s: string) => s, yellow: (s: string) => s, cyan: (s: string) => s, magenta: (s: string) => s, dim: (s: string) => s, bold: (s: string) => s };
const gitMissing = spawnSync('git', ['--version']).status !== 0;
const gitTest = gitMissing ? test.skip : test;
const ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
const sh = (cwd: string, script: string): string => execFileSync('sh', ['-ec', script], { cwd, env: ENV, encoding: 'utf8' });

let f: Fixture;
let host: string;
test.before.each(() => {
  f = makeFixture();
  host = join(f.host, 'repo');
  mkdirSync(host);
  if (gitMissing) return;
  sh(host, 'git init -q -b main; echo "all:; cc x.c" > Makefile; git add Makefile; git commit -qm one; git tag v1; git tag -a -m ann v2; echo two >> Makefile; git commit -qam two');
});
test.after.each(() => f.cleanup());

/** A new sandbox over a copy of the host repository as it is now (the last one's layer dropped). */
function again(): void {
  const old = f;
  f = makeFixture();
  execFileSync('cp', ['-a', host, join(f.host, 'repo')]);
  host = join(f.host, 'repo');
  old.cleanup();
}

/** What overlayfs would hold after `script` ran in the host repository: the copy's new, changed and touched entries, whiteouts for the gone. */
function inSandbox(script: string): void {
  const copy = join(f.root, 'copy');
  execFileSync('cp', ['-a', host, copy]);
  sh(copy, script);
  markStarted(f);
  const upper = join(f.upper(), 'repo');
  const lay = (rel: string): void => {
    const a = join(copy, rel), h = join(host, rel), u = join(upper, rel);
    const sa = lstatSync(a), sh_ = lstatSync(h, { throwIfNoEntry: false });
    if (sa.isDirectory()) {
      if (!sh_) mkdirSync(u, { recursive: true });
      for (const e of readdirSync(a)) lay(join(rel, e));
    } else {
      const same = sh_ && sh_.isFile() === sa.isFile() && sh_.mtimeMs === sa.mtimeMs && sh_.mode === sa.mode
        && (sa.isSymbolicLink() ? readlinkSync(a) === readlinkSync(h) : readFileSync(a).equals(readFileSync(h)));
      if (same) return;
      mkdirSync(join(u, '..'), { recursive: true });
      if (sa.isSymbolicLink()) symlinkSync(readlinkSync(a), u); else { copyFileSync(a, u); chmodSync(u, sa.mode & 0o7777); }
      execFileSync('touch', ['-h', '-r', a, u]);
    }
  };
  lay('.');
  const gone = (rel: string): void => {
    const h = join(host, rel);
    if (!existsSync(join(copy, rel))) { mkdirSync(join(upper, rel, '..'), { recursive: true }); whiteout(join(upper, rel)); return; }
    if (lstatSync(h).isDirectory()) for (const e of readdirSync(h)) gone(join(rel, e));
  };
  gone('.');
}

/** The review's summary of the sandbox, and its flagged changes as `rule path-in-repo`. */
function review(): { out: string; flagged: string[] } {
  const { changes } = scanSandbox(f.meta);
  const ctx = sensitiveContext();
  const flagged = changes.flatMap((c) => { const r = sensitiveRule(c, ctx); return r ? [`${r.id} ${c.path.slice(host.length + 1)}`] : []; });
  return { out: renderSummary(changes, plain), flagged };
}
const G = '$(git rev-parse HEAD:Makefile)';
// A commit made with no reflog and no branch: what a moved tag would point at.
const FORGED = "F=$(git commit-tree -m forged -p HEAD 'HEAD^{tree}')";

gitTest('ordinary work stays quiet: commits, a branch, new tags, a fetch, pack-refs and gc', () => {
  const remote = join(f.root, 'remote');
  sh(f.root, `git clone -q '${host}' '${remote}'`);
  sh(remote, 'echo r > r.txt; git add r.txt; git commit -qm r; git tag r1');
  inSandbox([
    'echo three >> Makefile; git commit -qam three', 'git checkout -qb feature', 'echo four > b; git add b; git commit -qm four',
    'git tag v3', 'git tag -a -m ann v4', `git remote add origin '${remote}'`, 'git fetch -q --tags origin',
    'git pack-refs --all', 'git gc -q --prune=now', 'git commit -q --allow-empty -m five',
  ].join('; '));
  const { out, flagged } = review();
  assert.equal(flagged, [], out);
  assert.not.match(out, /!/);
  assert.match(out, /git: /);
});

gitTest('git replace: the replace ref flagged and named, loose and packed', () => {
  inSandbox(`E=$(echo evil | git hash-object -w --stdin); git replace ${G} $E`);
  let { out, flagged } = review();
  assert.equal(flagged.length, 1, out);
  assert.match(flagged[0]!, /^git-replace-ref \.git\/refs\/replace\/[0-9a-f]{40}$/);
  assert.match(out, /^! added: +\S+\/repo\/\.git\/refs\/replace\/[0-9a-f]{40} \[! git replace ref/m);
  sh(host, 'git pack-refs --all');
  again();
  inSandbox(`E=$(echo evil | git hash-object -w --stdin); git replace ${G} $E; git pack-refs --all`);
  ({ out, flagged } = review());
  assert.equal(flagged, ['git-packed-refs .git/packed-refs'], out);
  // Its diff says which ref: packed-refs is listed, not folded.
  assert.match(out, /^! modified: \S+\/repo\/\.git\/packed-refs \[! git packed-refs: a replace ref added/m);
});

gitTest('a tag moved to a forged commit: flagged, loose over loose and loose over packed', () => {
  inSandbox(`${FORGED}; git tag -f v1 $F >/dev/null`);
  let { out, flagged } = review();
  assert.equal(flagged, ['git-tag-moved .git/refs/tags/v1'], out);
  assert.match(out, /^! modified: \S+\/repo\/\.git\/refs\/tags\/v1 \[! git tag moved/m);
  // The host's tags packed: the moved one is a new loose file over its packed line.
  sh(host, 'git pack-refs --all');
  again();
  inSandbox(`${FORGED}; git update-ref refs/tags/v2 $F`);
  ({ out, flagged } = review());
  assert.equal(flagged, ['git-tag-moved .git/refs/tags/v2'], out);
  assert.match(out, /^! added: +\S+\/repo\/\.git\/refs\/tags\/v2 \[! git tag moved/m);
});

gitTest('a tag moved then packed (the loose file gone): packed-refs flagged', () => {
  inSandbox(`${FORGED}; git tag -f v1 $F >/dev/null; git pack-refs --all`);
  const { out, flagged } = review();
  assert.equal(flagged, ['git-packed-refs .git/packed-refs'], out);
});

gitTest('a packed-refs that is a symlink (git reads through it, this check cannot): flagged', () => {
  inSandbox(`E=$(echo evil | git hash-object -w --stdin); printf '%s refs/replace/${G}\\n' $E > ../refs-elsewhere; ln -s ../../refs-elsewhere .git/packed-refs`);
  const { out, flagged } = review();
  assert.ok(flagged.includes('git-packed-refs .git/packed-refs'), out);
});

gitTest('an existing loose object written over (what checkout would then write): flagged', () => {
  const blob = sh(host, 'git rev-parse HEAD:Makefile').trim();
  const rel = `.git/objects/${blob.slice(0, 2)}/${blob.slice(2)}`;
  const evil = deflateSync(Buffer.from('blob 5\0evil\n'));
  inSandbox(`chmod u+w ${rel}; printf '%s' '${evil.toString('base64')}' | base64 -d > ${rel}; chmod 444 ${rel}`);
  const { out, flagged } = review();
  assert.equal(flagged, [`git-object-rewritten ${rel}`], out);
  assert.match(out, /^! modified: .*\[! git object or pack written over/m);
});

gitTest('an existing pack or its index written over: flagged (a new pack, from gc, is quiet above)', () => {
  sh(host, 'git gc -q');
  const pack = readdirSync(join(host, '.git/objects/pack')).find((n) => n.endsWith('.pack'))!;
  const idx = pack.replace(/\.pack$/, '.idx');
  inSandbox(`chmod u+w .git/objects/pack/*; printf x >> .git/objects/pack/${idx}`);
  assert.equal(review().flagged, [`git-object-rewritten .git/objects/pack/${idx}`]);
  again();
  inSandbox(`chmod u+w .git/objects/pack/*; printf x | dd of=.git/objects/pack/${pack} bs=1 seek=20 conv=notrunc 2>/dev/null`);
  assert.equal(review().flagged, [`git-object-rewritten .git/objects/pack/${pack}`]);
});

gitTest('a tag rewritten to its own value, a tag deleted, a replace ref deleted: quiet', () => {
  sh(host, `git replace ${G} $(echo x | git hash-object -w --stdin)`);
  inSandbox('git tag -d v2 >/dev/null; V=$(cat .git/refs/tags/v1); rm .git/refs/tags/v1; echo $V > .git/refs/tags/v1; git replace -d $(ls .git/refs/replace) >/dev/null');
  const { out, flagged } = review();
  assert.equal(flagged, [], out);
});

gitTest("the host's own replace ref and moved-before tags, packed by gc in the sandbox: quiet", () => {
  sh(host, `git replace ${G} $(echo x | git hash-object -w --stdin); git tag -f v1 HEAD >/dev/null`);
  inSandbox('git gc -q --prune=now');
  const { out, flagged } = review();
  assert.equal(flagged, [], out);
  assert.match(out, /git: /);
});

test("the host's packed-refs is read again when it changed (it is kept between lookups)", () => {
  const A = 'a'.repeat(40), B = 'b'.repeat(40);
  const git = join(f.host, 'r/.git');
  mkdirSync(git, { recursive: true });
  const up = join(f.root, 'v1');
  writeFileSync(up, `${A}\n`);
  const tag = { path: `${git}/refs/tags/v1`, change: 'added' as const, type: 'file' as const, upper: up };
  const ctx = sensitiveContext();
  writeFileSync(`${git}/packed-refs`, `${A} refs/tags/v1\n`);
  utimesSync(`${git}/packed-refs`, 1, 1);
  assert.is(sensitiveRule(tag, ctx), null);
  // The same size, and a later mtime: only what the host now says counts.
  writeFileSync(`${git}/packed-refs`, `${B} refs/tags/v1\n`);
  utimesSync(`${git}/packed-refs`, 2, 2);
  assert.is(sensitiveRule(tag, ctx)?.id, 'git-tag-moved');
});

test.run();
