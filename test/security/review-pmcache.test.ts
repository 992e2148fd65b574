// Real sandboxes, as root and as an unprivileged user: a command that writes into a package
// manager's cache a later install on the host reads without checking it again (a built wheel
// in ~/.cache/pip/wheels, apt's lists and downloaded .debs). Kept, the next `pip install` / `apt-get install`
// outside any sandbox would install what the command planted: the review flags them, one
// line per cache (docs/security.md, "What the review can hide"); --all lists each; `n` to the
// flagged question leaves them out. apt's download dir and deletions fold as before.
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IS_ROOT, proveIsolation, sbx as run, type SbxResult, canary, storeAndCanary } from '../helpers/sbx.js';
import { testUnless } from '../helpers/skip.js';
import { underPty, type PtyStep } from '../helpers/pty.js';
import { assertGroupedFlag, flaggedLines } from '../helpers/flagged.js';

const store = storeAndCanary();

const sbx = (args: string[]): SbxResult => run(args, { store, timeoutMs: 300_000 });
const PIP = "pip's cache (a later pip install uses its wheels and index pages as they are)";
const APT = 'apt package lists (a later apt-get install trusts them: their signature is checked only at update)';
const GRADLE = "Gradle's wrapper distributions and dependency cache (./gradlew runs the one it finds; a later build uses the artifacts as they are)";
const UV = "uv's cache, Pythons and tools (a later uv install or uv run uses them as they are)";
const UVCONF = 'uv config (can name the index packages come from, and a Python or tool dir)';
const DEB = "apt's downloaded packages (a later apt-get install uses a .deb of the listed name and size without checking its hash)";

// The canary is the HOME whose pip cache the command fills: pip's wheel cache files a built
// wheel under wheels/AA/BB/CC/REST/ (a hash of where it came from), beside an origin.json.
function wheelScript(home: string): { wheels: string[]; script: string } {
  const dirs = ['c5/dd/d5/bc1ce4e496a592bcec6dce36a85ad41', '0a/11/7f/93e8d1c0a5b2f4e6d7c8b9a0f1e2d3c'].map((d) => `${home}/.cache/pip/wheels/${d}`);
  const wheels = dirs.flatMap((d, i) => [`${d}/origin.json`, `${d}/demo${i}-1.0-py3-none-any.whl`]).sort();
  const script = [...dirs.map((d) => `mkdir -p ${d}`), ...wheels.map((w) => `printf 'PK planted' > ${w}`), `echo ok > ${home}/plain.txt`].join(' && ');
  return { wheels, script };
}

test('wheels planted in a pip cache are one flagged line; --all, --name-only and --json list each', () => {
  proveIsolation(canary, store);
  const { wheels, script } = wheelScript(canary);
  const r = sbx(['run', '--name', 'w', '--', 'sh', '-c', script]);
  assert.is(r.code, 0, r.stderr);
  const line = `! added: 4 pip cache files in 2 dirs under ${canary}/.cache/pip/wheels/ ('sbx diff w --all' lists each) [! ${PIP}]`;
  const trailer = '! 4 changes marked ! (code that runs later, or access for others): review them before keeping';
  assertGroupedFlag(sbx, 'w', r.stdout + r.stderr, { line, trailer, why: PIP, paths: wheels, sensitive: 4 });
  assert.is(sbx(['discard', 'w']).code, 0);
  for (const p of wheels) assert.not.ok(existsSync(p), p);
});

test('n to the flagged question keeps the rest without the planted wheels', () => {
  proveIsolation(canary, store);
  const { wheels, script } = wheelScript(canary);
  const pty = (steps: PtyStep[]) => underPty(steps, ['run', '--', 'sh', '-c', script], { store, timeoutMs: 300_000 });
  const r = pty([['Keep these changes?', 'k\n'], ['n skips them', 'n\n']]);
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /4 flagged changes \(4 pip cache files\): yes keeps them, n skips them:/);
  assert.is(readFileSync(join(canary, 'plain.txt'), 'utf8'), 'ok\n');
  for (const p of wheels) assert.not.ok(existsSync(p), p);
});

test('deleting pip cache entries is not flagged', () => {
  const d = join(canary, '.cache/pip/wheels/c5/dd');
  mkdirSync(d, { recursive: true });
  const whl = join(d, 'old-1.0-py3-none-any.whl');
  writeFileSync(whl, 'PK');
  proveIsolation(canary, store);
  const r = sbx(['run', '-n', '--', 'rm', whl]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(flaggedLines(r.stdout + r.stderr), [], r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /deleted: {2}1 in pip cache \(2 B\), folded/);
  assert.ok(existsSync(whl));
});

// The canary is the HOME (sbx's own environment says where the user's tool dirs are): a
// Gradle distribution unpacked where ./gradlew looks first, a jar in Gradle's module cache, an
// unpacked wheel in uv's cache and a uv.toml; a project's own .gradle dir is ordinary.
test('a Gradle distribution, Gradle and uv cache files and a uv.toml planted in HOME are flagged; a project\'s .gradle is not', () => {
  proveIsolation(canary, store);
  const c = canary;
  const dist = `${c}/.gradle/wrapper/dists/gradle-8.5-bin/5t9huq95ubn472n8rpzujfbqh`;
  const gradle = [`${dist}/gradle-8.5/bin/gradle`, `${dist}/gradle-8.5-bin.zip.ok`, `${c}/.gradle/caches/modules-2/files-2.1/org.x/y/1.0/0a1b/y-1.0.jar`];
  const uv = `${c}/.cache/uv/archive-v0/Xy12ab/six.py`;
  const script = [...[...gradle, uv, `${c}/.config/uv/uv.toml`, `${c}/proj/.gradle/8.5/fileHashes/fileHashes.bin`].map((f) => `mkdir -p ${f.slice(0, f.lastIndexOf('/'))} && echo x > ${f}`)].join(' && ');
  const r = run(['run', '--name', 'g', '--', 'sh', '-c', script], { store, timeoutMs: 300_000, env: { HOME: c } });
  assert.is(r.code, 0, r.stderr);
  const out = r.stdout + r.stderr;
  assert.equal(flaggedLines(out), [
    `! added: ${uv} [! ${UV}]`,
    `! added: ${c}/.config/uv/uv.toml [! ${UVCONF}]`,
    `! added: 3 Gradle cache files in 3 dirs under ${c}/.gradle/ ('sbx diff g --all' lists each) [! ${GRADLE}]`,
    '! 5 changes marked ! (code that runs later, or access for others): review them before keeping',
  ], out);
  assert.match(out, new RegExp(`^  added: +${c}/proj/`, 'm'));
  assert.is(sbx(['discard', 'g']).code, 0);
  for (const p of [...gradle, uv]) assert.not.ok(existsSync(p), p);
});

// apt's lists are root's: the unprivileged user's sandbox cannot write them (nor can that user
// outside it), and the root run covers the rule on the real path. Written only inside a
// sandbox that is discarded, after proving such a write stays there.
const LISTS = '/var/lib/apt/lists';
const APT_CASE = !IS_ROOT ? 'a root case: apt lists are root\'s' : !existsSync(LISTS) ? `no ${LISTS} on this host` : null;

testUnless(APT_CASE)('list files and a .deb written in apt\'s dirs are flagged, one line per cache; partial/ and a deletion are not', () => {
  const tag = `sbx-test-${process.pid}`;
  const probe = `${LISTS}/${tag}-probe`;
  const p = sbx(['run', '-n', '-q', '--', 'sh', '-c', `echo leaked > ${probe} && cat ${probe}`]);
  assert.is(p.stdout, 'leaked\n', p.stderr);
  if (existsSync(probe)) { rmSync(probe, { force: true }); throw new Error(`ISOLATION BROKEN: ${probe} reached the host`); }
  const lists = [`${LISTS}/${tag}.example_dists_x_InRelease`, `${LISTS}/${tag}.example_dists_x_main_binary-amd64_Packages`];
  const deb = `/var/cache/apt/archives/${tag}_1.0_all.deb`;
  // A list the host has, deleted inside (apt-get clean's kind of change): nothing planted.
  const host = readdirSync(LISTS).find((n) => n.endsWith('_InRelease'));
  const script = [
    ...lists.map((l) => `printf 'Package: evil\\nSHA256: 00\\n' > ${l}`),
    `mkdir -p ${LISTS}/partial && printf x > ${LISTS}/partial/${tag}_InRelease`, `printf '!<arch>' > ${deb}`,
    ...(host ? [`rm ${LISTS}/${host}`] : []),
  ].join(' && ');
  const r = sbx(['run', '-n', '--', 'sh', '-c', script]);
  assert.is(r.code, 0, r.stderr);
  const out = r.stdout + r.stderr;
  assert.equal(flaggedLines(out), [
    `! added: ${deb} [! ${DEB}]`,
    `! added: 2 apt list files in ${LISTS}/ [! ${APT}]`,
    '! 3 changes marked ! (code that runs later, or access for others): review them before keeping',
  ], out);
  assert.match(out, /added: {4}\d+ in apt cache and logs.*folded/);
  for (const l of [...lists, deb]) assert.not.ok(existsSync(l), l);
});

test.run();
