// History the host has, rewritten inside a git dir, is flagged beside the repository's folded
// line (git-history.ts): a replace ref, a moved tag (loose or packed), an existing object or
// pack written over. What git does every day (commit, branch, new tag, fetch, gc, pack-refs)
// stays quiet. Real git: the host repository is made with the git CLI, the command runs in a
// copy of it, and what the copy changed is laid into the upper layer as overlayfs would.
// sbx-test: host-free (git and the scan work in fixture trees in its TMPDIR).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, chmodSync, utimesSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { deflateSync } from 'node:zlib';
import { join } from 'node:path';
import { makeFixture, markStarted, opaque, whiteout, type Fixture } from './changes-fixture.js';
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

// The host's v1 packed at commit one, then moved by the host's own `git tag -f` to commit two:
// a loose file over an older packed line, which deleting the loose file uncovers.
const PACKED_UNDER_LOOSE = 'git pack-refs --all; git tag -f v1 HEAD >/dev/null';

gitTest('a loose tag deleted over an older packed line (the tag moves back): flagged', () => {
  sh(host, PACKED_UNDER_LOOSE);
  inSandbox('rm .git/refs/tags/v1');
  let { out, flagged } = review();
  assert.equal(flagged, ['git-tag-moved .git/refs/tags/v1'], out);
  assert.match(out, /^! deleted: +\S+\/repo\/\.git\/refs\/tags\/v1 \[! git tag moved/m);
  // packed-refs copied up with its refs as they were (only its mtime new): still the host's lines.
  again();
  inSandbox('touch .git/packed-refs; rm .git/refs/tags/v1');
  ({ out, flagged } = review());
  assert.equal(flagged, ['git-tag-moved .git/refs/tags/v1'], out);
  // The whole refs/tags dir gone: one deleted dir, flagged.
  again();
  inSandbox('rm -r .git/refs/tags');
  ({ out, flagged } = review());
  assert.equal(flagged, ['git-tag-moved .git/refs/tags'], out);
});

gitTest('refs/tags emptied and made again (an opaque dir): the tag it hides is deleted, flagged', () => {
  sh(host, PACKED_UNDER_LOOSE);
  inSandbox(':');
  const tags = join(f.upper(), 'repo/.git/refs/tags');
  mkdirSync(tags, { recursive: true });
  opaque(tags);
  let { out, flagged } = review();
  assert.equal(flagged, ['git-tag-moved .git/refs/tags/v1'], out);
  // With the tag packed at its loose value in the layer (what pack-refs writes): quiet.
  writeFileSync(join(f.upper(), 'repo/.git/packed-refs'), `${readFileSync(join(host, '.git/refs/tags/v1'), 'latin1').trim()} refs/tags/v1\n`);
  ({ out, flagged } = review());
  assert.equal(flagged, [], out);
});

gitTest('over an older packed line, pack-refs, gc and tag -d stay quiet', () => {
  sh(host, PACKED_UNDER_LOOSE);
  inSandbox('git pack-refs --all');
  let { out, flagged } = review();
  assert.equal(flagged, [], out);
  assert.ok(!existsSync(join(f.upper(), 'repo/.git/refs/tags/v1')) || lstatSync(join(f.upper(), 'repo/.git/refs/tags/v1')).isCharacterDevice(), 'pack-refs deleted the loose tag');
  again();
  inSandbox('git gc -q --prune=now; git tag v9; git commit -q --allow-empty -m three');
  ({ out, flagged } = review());
  assert.equal(flagged, [], out);
  again();
  inSandbox('git tag -d v1 >/dev/null');
  ({ out, flagged } = review());
  assert.equal(flagged, [], out);
});

gitTest('over an older packed line, pack-refs with a replace ref packed too: the deletion is flagged with packed-refs (pick mode could keep it alone)', () => {
  sh(host, PACKED_UNDER_LOOSE);
  inSandbox(`git replace ${G} $(echo evil | git hash-object -w --stdin); git pack-refs --all`);
  const { out, flagged } = review();
  assert.equal(flagged.sort(), ['git-packed-refs .git/packed-refs', 'git-tag-moved .git/refs/tags/v1'], out);
});

gitTest('a loose tag deleted whose packed line is the same, or that has none: quiet', () => {
  // v1 loose and packed at the same commit; v5 only loose.
  sh(host, 'git pack-refs; V=$(git rev-parse v1); echo $V > .git/refs/tags/v1; git tag v5');
  inSandbox('rm .git/refs/tags/v1 .git/refs/tags/v5');
  const { out, flagged } = review();
  assert.equal(flagged, [], out);
});

gitTest('a loose replace ref deleted over another packed one: flagged', () => {
  sh(host, `git replace ${G} $(echo x | git hash-object -w --stdin); git pack-refs --all; git replace -f ${G} $(echo y | git hash-object -w --stdin)`);
  inSandbox('rm .git/refs/replace/*');
  const { out, flagged } = review();
  assert.equal(flagged.length, 1, out);
  assert.match(flagged[0]!, /^git-replace-ref \.git\/refs\/replace\/[0-9a-f]{40}$/);
});

test('a deleted loose tag: the packed-refs beside it in the layer decides, one this cannot read is flagged', () => {
  const A = 'a'.repeat(40), B = 'b'.repeat(40);
  const git = join(f.host, 'r/.git');
  mkdirSync(join(git, 'refs/tags'), { recursive: true });
  writeFileSync(join(git, 'refs/tags/v1'), `${B}\n`);
  writeFileSync(join(git, 'packed-refs'), `${A} refs/tags/v1\n`);
  const layer = join(f.upper(), 'r/.git');
  mkdirSync(join(layer, 'refs/tags'), { recursive: true });
  const gone = { path: `${git}/refs/tags/v1`, change: 'deleted' as const, type: 'file' as const, layerDir: join(layer, 'refs/tags') };
  const ctx = sensitiveContext();
  const rule = () => sensitiveRule(gone, ctx)?.id ?? null;
  assert.is(rule(), 'git-tag-moved');
  // Without the layer's dir (a hand-made change list): the host's lines decide.
  assert.is(sensitiveRule({ ...gone, layerDir: undefined }, ctx)?.id, 'git-tag-moved');
  // A layer dir that is not the ref's: flagged, never guessed.
  assert.is(sensitiveRule({ ...gone, layerDir: join(f.upper(), 'elsewhere') }, ctx)?.id, 'git-tag-moved');
  // The layer's packed-refs names other refs: when it moves nothing (what pack-refs writes), the
  // two go together in the repository's line: quiet.
  const packedRefs = () => sensitiveRule({ path: `${git}/packed-refs`, change: 'modified', type: 'file', upper: join(layer, 'packed-refs') }, ctx)?.id ?? null;
  writeFileSync(join(layer, 'packed-refs'), `${B} refs/tags/v1\n${A} refs/tags/v3\n`);
  assert.is(packedRefs(), null);
  assert.is(rule(), null);
  // When it is flagged, the deletion is too: pick mode can leave the file and keep the deletion.
  writeFileSync(join(layer, 'packed-refs'), `${A} refs/tags/v1\n${A} refs/tags/v3\n`);
  assert.is(packedRefs(), 'git-packed-refs');
  assert.is(rule(), 'git-tag-moved');
  // The layer deleted packed-refs too: no tag left.
  rmSync(join(layer, 'packed-refs'));
  whiteout(join(layer, 'packed-refs'));
  assert.is(rule(), null);
  rmSync(join(layer, 'packed-refs'));
  // The host's packed line the same as its loose file: quiet.
  writeFileSync(join(git, 'packed-refs'), `${B} refs/tags/v1\n`);
  utimesSync(join(git, 'packed-refs'), 5, 5);
  assert.is(rule(), null);
  // A symlink in the layer's place (git reads through it, this does not): flagged.
  symlinkSync('/dev/null', join(layer, 'packed-refs'));
  assert.is(rule(), 'git-tag-moved');
});

gitTest('a symlink written in the object store (git reads a pack, object or graph through it): flagged', () => {
  const out0 = join(f.root, 'elsewhere');
  writeFileSync(out0, 'x');
  inSandbox(`ln -s '${out0}' .git/objects/pack/pack-${'1'.repeat(40)}.pack; ln -s '${out0}' .git/objects/pack/pack-${'1'.repeat(40)}.idx; ln -s '${out0}' .git/objects/info/commit-graph; mkdir -p .git/objects/ab; ln -s '${out0}' .git/objects/ab/${'2'.repeat(38)}`);
  const { out, flagged } = review();
  assert.equal(flagged.sort(), [`git-object-symlink .git/objects/ab/${'2'.repeat(38)}`, 'git-object-symlink .git/objects/info/commit-graph',
    `git-object-symlink .git/objects/pack/pack-${'1'.repeat(40)}.idx`, `git-object-symlink .git/objects/pack/pack-${'1'.repeat(40)}.pack`], out);
  assert.match(out, /^! added: +\S+\/repo\/\.git\/objects\/info\/commit-graph -> \S+ \[! git object store entry that is a symlink/m);
  // The objects dir itself made a symlink; a symlink's mtime alone is no write.
  const ctx = sensitiveContext();
  assert.is(sensitiveRule({ path: `${host}/.git/objects`, change: 'replaced', type: 'symlink' }, ctx)?.id, 'git-object-symlink');
  assert.is(sensitiveRule({ path: `${host}/.git/objects/pack/x.pack`, change: 'metadata', type: 'symlink' }, ctx), null);
});

test.run();
