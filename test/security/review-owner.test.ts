// Real sandboxes, as root and as an unprivileged user: a command run as root that makes a
// file or dir and chowns it to another user. Root's commit writes the owner the sandbox gave
// (a file in a root-owned dir, owned by uid 1000, who can rewrite it afterwards): the review
// names the owner on the entry's line and flags it, one line per tree; --all lists each;
// --json carries both. Entries below a given-away dir that share its owner are not flagged
// again. An ordinary user's commit cannot give anything away, but `sudo sbx commit` of that
// user's sandbox gives the owners the sandbox set: the user's review names and flags what that
// root commit would give away (saying so: the user's own commit keeps them the user's), and
// speaks of the ids the sandbox saw (uid 32 inside, not the subordinate uid its layer holds).
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { IS_ROOT, proveIsolation, sbx as run, type SbxResult, canary, storeAndCanary } from '../helpers/sbx.js';
import { ROOT_CASE, USER_CASE, testUnless } from '../helpers/skip.js';
import { flaggedLines } from '../helpers/flagged.js';
import { underPty } from '../helpers/pty.js';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { userInfo } from 'node:os';
import { which } from '../../sandbox-core/which.js';
import { fuseProblem } from '../../sandbox-core/engines.js';

const store = storeAndCanary();

const sbx = (args: string[]): SbxResult => run(args, { store, timeoutMs: 300_000 });
const WHY = 'owned by another user (who can change it after the commit)';
const TRAILER = (n: number): string => n === 1 ? '! 1 change marked ! (code that runs later, or access for others): review it before keeping' : `! ${n} changes marked ! (code that runs later, or access for others): review them before keeping`;

interface JsonChange { path: string; sensitive?: string; details?: string[] }

testUnless(ROOT_CASE)('root: entries chowned to another user are flagged with their owner; root-owned ones and a given-away dir\'s own are not', () => {
  proveIsolation(canary, store);
  const c = canary;
  // x: another user's; d: another user's dir, d/z root's inside it, d/y d's owner's; g: root's
  // with a group-writable other group; r: another group, not group-writable; w, wg: root's.
  const script = [
    `touch ${c}/x ${c}/w ${c}/wg ${c}/g ${c}/r`, `chown 1000:1000 ${c}/x`, `chmod g+w ${c}/wg ${c}/g`, `chgrp 1002 ${c}/g ${c}/r`,
    `mkdir ${c}/d`, `chown 1001 ${c}/d`, `touch ${c}/d/z ${c}/d/y`, `chown 1001 ${c}/d/y`,
  ].join(' && ');
  const r = sbx(['run', '--name', 'own', '--', 'sh', '-c', script]);
  assert.is(r.code, 0, r.stderr);
  const line = `! added: 3 entries of other users in ${c}/ ('sbx diff own --all' lists each) [! ${WHY}]`;
  assert.equal(flaggedLines(r.stdout + r.stderr), [line, TRAILER(3)], r.stdout + r.stderr);
  assert.equal(flaggedLines(sbx(['diff', 'own']).stdout), [line, TRAILER(3)]);
  const all = sbx(['diff', 'own', '--all']).stdout;
  assert.equal(flaggedLines(all), [
    `! added: ${c}/d/ (owner 1001:0) [! ${WHY}]`,
    `! added: ${c}/g (owner 0:1002) [! ${WHY}]`,
    `! added: ${c}/x (owner 1000:1000) [! ${WHY}]`,
    TRAILER(3),
  ], all);
  for (const p of ['d/z', 'd/y', 'w', 'wg', 'r']) assert.match(all, new RegExp(`^  added: +${c}/${p}$`, 'm'), p);
  const json = JSON.parse(sbx(['diff', 'own', '--json']).stdout) as { sensitive: number; changes: JsonChange[] };
  assert.is(json.sensitive, 3);
  const flagged = json.changes.filter((x) => x.sensitive !== undefined).map((x) => [x.path, x.sensitive, x.details]);
  assert.equal(flagged, [[`${c}/d`, WHY, ['owner 1001:0']], [`${c}/g`, WHY, ['owner 0:1002']], [`${c}/x`, WHY, ['owner 1000:1000']]]);
  assert.is(sbx(['discard', 'own']).code, 0);
});

testUnless(ROOT_CASE)('root: a tree chowned -R to another user is one flagged line for its top', () => {
  proveIsolation(canary, store);
  const c = canary;
  const r = sbx(['run', '-n', '--', 'sh', '-c', `mkdir -p ${c}/t/a/b && touch ${c}/t/a/b/f ${c}/t/e && chown -R 1000:1000 ${c}/t`]);
  assert.is(r.code, 0, r.stderr);
  const out = r.stdout + r.stderr;
  assert.equal(flaggedLines(out), [`! added: ${c}/t/ (owner 1000:1000) [! ${WHY}]`, TRAILER(1)], out);
});

testUnless(ROOT_CASE)("root: a host entry given to another user (chown, chgrp of a g+w dir) is flagged like a new one; one given to root, or a chmod alone, is not", () => {
  proveIsolation(canary, store);
  const c = canary;
  // On the host: mine is 1000's, dg 0:1002 and group-writable, dx and dm root's.
  mkdirSync(`${c}/dg`); mkdirSync(`${c}/dx`); mkdirSync(`${c}/dm`);
  writeFileSync(`${c}/mine`, 'm\n');
  chownSync(`${c}/mine`, 1000, 0); chownSync(`${c}/dg`, 0, 1002); chmodSync(`${c}/dg`, 0o2775); chmodSync(`${c}/dx`, 0o755); chmodSync(`${c}/dm`, 0o755);
  const r = sbx(['run', '--name', 'given', '-q', '--', 'sh', '-c',
    `echo . >> ${c}/keep.txt && chown 1000 ${c}/keep.txt && chgrp 1002 ${c}/dx && chmod 2775 ${c}/dx && chown 0:0 ${c}/mine ${c}/dg && chmod 700 ${c}/dm`]);
  assert.is(r.code, 0, r.stderr);
  const all = sbx(['diff', 'given', '--all']).stdout;
  assert.equal(flaggedLines(all), [
    `! modified: ${c}/keep.txt (owner 0:0→1000:0) [! ${WHY}]`,
    `! metadata: ${c}/dx/ (mode 755→2775, owner 0:0→0:1002) [! ${WHY}]`,
    TRAILER(2),
  ], all);
  assert.is(sbx(['discard', 'given']).code, 0);
});

testUnless(ROOT_CASE)('root: n to the flagged question keeps the rest, not the given-away entries nor what is below a given-away dir', () => {
  proveIsolation(canary, store);
  const c = canary;
  const script = `touch ${c}/x ${c}/w && chown 1000:1000 ${c}/x && mkdir ${c}/d && chown 1001 ${c}/d && touch ${c}/d/z`;
  const r = underPty([['Keep these changes?', 'k\n'], ['n skips them', 'n\n']], ['run', '--', 'sh', '-c', script], { store, timeoutMs: 300_000 });
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /2 flagged changes \(2 entries of other users\): yes keeps them, n skips them:/);
  assert.is(lstatSync(`${c}/w`).uid, 0);
  // d/z alone would bring d along (a commit makes the new dirs a kept entry needs), uid 1001's.
  for (const p of ['x', 'd']) assert.not.ok(existsSync(`${c}/${p}`), p);
});

testUnless(ROOT_CASE)('root: pick mode leaves what was picked below a given-away dir that was not picked', () => {
  proveIsolation(canary, store);
  const c = canary;
  const script = `touch ${c}/w && mkdir ${c}/d && chown 1001 ${c}/d && touch ${c}/d/z`;
  // n to the flagged dir (d/z is then not asked), then a glob that picks d/z anyway: d/z
  // alone would bring d along, uid 1001's.
  const r = underPty([['Keep these changes?', 'p\n'], [`${c}/d/ (owner 1001:0) [! ${WHY}]? [y/n/a/q/?]`, 'n\n'], [`${c}/w? [y/n/a/q/?]`, `+${c}/d/z\n`], [`applying 1 change matching ${c}/d/z`, 'y\n'], ['commit 1 picked change (of 3)?', 'y\n']],
    ['run', '--', 'sh', '-c', script], { store, timeoutMs: 120_000 });
  assert.is(r.code, 0, r.out);
  assert.match(r.out, new RegExp(`leaving out 1 picked change below ${c}/d/: it is flagged and not picked`), r.out);
  assert.not.match(r.out, new RegExp(`${c}/d/z\\? \\[y`), 'below a dir answered n: not asked');
  assert.is(lstatSync(`${c}/w`).uid, 0);
  assert.not.ok(existsSync(`${c}/d`), r.out);
});

testUnless(ROOT_CASE)('root with another egid: a plain new file and a hard-linked one get the same verdict (one owner rule for the walk and the flags)', () => {
  proveIsolation(canary, store);
  const c = canary;
  // All three group-writable, group root's, in a dir of group 1005: f is a plain new file (a
  // column entry of the walk), f2 and f3 two links of one file (objects classify sees).
  const r = sbx(['run', '--name', 'egid', '--', 'sh', '-c', `mkdir ${c}/e && chgrp 1005 ${c}/e && touch ${c}/e/f ${c}/e/f2 && ln ${c}/e/f2 ${c}/e/f3 && chmod g+w ${c}/e/f ${c}/e/f2`]);
  assert.is(r.code, 0, r.stderr);
  // The full review (its walk keeps plain new files as columns; --json makes every one an object).
  const flagged = (prefix?: string[]): string[] => {
    const d = run(['diff', 'egid', '--all'], { store, timeoutMs: 300_000, ...(prefix ? { prefix } : {}) });
    assert.is(d.code, 0, d.stderr);
    return ['f', 'f2', 'f3'].filter((n) => flaggedLines(d.stdout).some((l) => l.startsWith(`! added: ${c}/e/${n} `) && l.endsWith(`[! ${WHY}]`)));
  };
  // Root's own group: none is given away.
  assert.equal(flagged(), []);
  // Reviewed with egid 1002, group root's is neither the reviewer's nor the dir's: all three.
  assert.equal(flagged(['setpriv', '--regid=1002', '--keep-groups']), ['f', 'f2', 'f3']);
  assert.is(sbx(['discard', 'egid']).code, 0);
});

testUnless(USER_CASE)('an ordinary user: new files, a dir and chmod g+w in the home are not flagged', () => {
  proveIsolation(canary, store);
  const c = canary;
  const r = sbx(['run', '--name', 'mine', '--', 'sh', '-c', `mkdir ${c}/d && touch ${c}/d/f ${c}/x && chmod g+w ${c}/d ${c}/x ${c}/keep.txt`]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(flaggedLines(r.stdout + r.stderr), [], r.stdout + r.stderr);
  const json = JSON.parse(sbx(['diff', 'mine', '--json']).stdout) as { sensitive: number; changes: JsonChange[] };
  assert.is(json.sensitive, 0);
  assert.ok(json.changes.every((x) => !x.details?.some((d) => d.startsWith('owner ') && !d.includes('→'))), JSON.stringify(json.changes));
  assert.is(sbx(['discard', 'mine']).code, 0);
});

/** Whether /etc/subuid and /etc/subgid give this user a range: else only uid 0 is mapped inside. */
const subordinate = !IS_ROOT && ['/etc/subuid', '/etc/subgid'].every((f) => {
  try { return readFileSync(f, 'utf8').split('\n').some((l) => l.startsWith(`${userInfo().username}:`)); } catch { return false; }
});
testUnless(USER_CASE ?? (subordinate ? null : 'no /etc/subuid and /etc/subgid range for this user: no uid but 0 inside'), { missing: !IS_ROOT })('an ordinary user: a chown inside is reviewed in the ids the sandbox saw, not the subordinate ids its layer holds', () => {
  proveIsolation(canary, store);
  const c = canary;
  const r = sbx(['run', '-q', '--name', 'ids', '--', 'sh', '-c', `chown 32:33 ${c}/keep.txt && stat -c %u:%g ${c}/keep.txt`]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '32:33\n');
  const json = JSON.parse(sbx(['diff', 'ids', '--json']).stdout) as { changes: JsonChange[] };
  const keep = json.changes.find((x) => x.path === `${c}/keep.txt`);
  assert.equal(keep?.details, [`owner ${process.getuid!()}:${process.getgid!()}→32:33`], JSON.stringify(json.changes));
  // A host file given to another user: flagged as a new one would be (`sudo sbx commit` gives it away).
  assert.is(keep?.sensitive, USER_WHY, JSON.stringify(keep));
  assert.is(sbx(['discard', 'ids']).code, 0);
  assert.is(lstatSync(`${c}/keep.txt`).uid, process.getuid!());
});

/** As an ordinary user: why system paths are not writable inside here (no fuse-overlayfs path), or null. */
const FUSE_PROBLEM = IS_ROOT ? null : fuseProblem(which);
const USER_WHY = 'owned by another user inside (who can change it after a root commit; your own commit keeps it yours)';
testUnless(USER_CASE ?? (subordinate ? null : 'no /etc/subuid and /etc/subgid range for this user: no uid but 0 inside') ?? (FUSE_PROBLEM && `fuse-overlayfs path not available: ${FUSE_PROBLEM}`), { missing: !IS_ROOT })('an ordinary user: a new system dir chowned inside is named and flagged with the owner `sudo sbx commit` gives it; a new file of root\'s inside is not', () => {
  proveIsolation(canary, store);
  const c = canary;
  // Only inside the sandbox, never committed: a name no host has.
  // A dir, and a plain new file (the walk's column entry unless the owner rule says no) in
  // another top-level tree, so that each is its own line.
  const d = `/var/lib/${basename(c)}`, f = `/opt/${basename(c)}`;
  const r = sbx(['run', '--name', 'sys', '--', 'sh', '-c', `mkdir ${d} && chown 1000 ${d} && touch ${f} ${d}.plain ${c}/plain && chown 1234:5678 ${f}`]);
  assert.is(r.code, 0, r.stderr);
  const lines = [`! added: ${f} (owner 1234:5678) [! ${USER_WHY}]`, `! added: ${d}/ (owner 1000:0) [! ${USER_WHY}]`, TRAILER(2)];
  // The run's own review, then sbx diff's.
  assert.equal(flaggedLines(r.stdout + r.stderr), lines, r.stdout + r.stderr);
  const out = sbx(['diff', 'sys']).stdout;
  assert.equal(flaggedLines(out), lines, out);
  assert.match(out, new RegExp(`^  added: +${d}\\.plain$`, 'm'), out);
  const json = JSON.parse(sbx(['diff', 'sys', '--json']).stdout) as { sensitive: number; changes: JsonChange[] };
  assert.is(json.sensitive, 2);
  const at = (p: string) => { const x = json.changes.find((y) => y.path === p); return x && [x.details, x.sensitive]; };
  assert.equal(at(d), [['owner 1000:0'], USER_WHY], JSON.stringify(json.changes));
  assert.equal(at(f), [['owner 1234:5678'], USER_WHY]);
  for (const p of [`${d}.plain`, `${c}/plain`]) assert.equal(at(p), [undefined, undefined], p);
  assert.is(sbx(['discard', 'sys']).code, 0);
  for (const p of [d, f, `${d}.plain`]) assert.not.ok(existsSync(p), p);
});

testUnless(USER_CASE)('an ordinary user: with --user, a new dir of the user\'s own in root\'s /tmp is not flagged (either commit makes it the user\'s)', () => {
  proveIsolation(canary, store);
  // Root's review of this sandbox flags it (given to uid 1001 in a dir of root's); not the user's own.
  const t = `/tmp/${basename(canary)}-own`;
  const r = sbx(['run', '--user', '--name', 'own', '--', 'sh', '-c', `mkdir ${t} && touch ${t}/f ${t}.f`]);
  assert.is(r.code, 0, r.stderr);
  const json = JSON.parse(sbx(['diff', 'own', '--json']).stdout) as { sensitive: number; changes: JsonChange[] };
  assert.equal(json.changes.filter((x) => x.path.startsWith(t)).map((x) => [x.path, x.details, x.sensitive]), [[t, undefined, undefined], [`${t}.f`, undefined, undefined], [`${t}/f`, undefined, undefined]]);
  assert.equal(flaggedLines(sbx(['diff', 'own']).stdout), []);
  assert.is(sbx(['discard', 'own']).code, 0);
  assert.not.ok(existsSync(t));
});

test.run();
