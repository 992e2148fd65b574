// The commit step against a host that changes around it: what an interrupted commit wrote
// and the user changed afterwards, and the cases of docs/security.md's commit list that no
// other test covers. A commit that meets a mount point on the host is commit-mountpoint.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawn, spawnSync } from 'node:child_process';
import { IS_ROOT, sbx, sbxAsync, canary, storeAndCanary } from '../helpers/sbx.js';
import { testUnless } from '../helpers/skip.js';
import { setXattr } from '../unit/changes-fixture.js';
import { getXattrs } from '../../sandbox-core/changes/xattr.js';

const store = storeAndCanary({ prove: true });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The store dir of the sandbox named `name`. */
function entryOf(name: string): string {
  const id = readdirSync(store).find((n) => /^[0-9a-f]{8}$/.test(n) && JSON.parse(readFileSync(join(store, n, 'meta.json'), 'utf8')).name === name);
  assert.ok(id, `no sandbox ${name}`);
  return join(store, id!);
}

/** `sbx commit NAME` stopped by the test hook before the rename of step `at`, then SIGKILLed. */
async function killCommitAt(name: string, at: number): Promise<void> {
  const child = sbxAsync(['commit', name], { store, env: { SBX_TEST_COMMIT_PAUSE_AFTER: String(at) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d) => { err += d; if (err.includes(`paused at step ${at}`)) resolve(); });
    child.on('exit', () => reject(new Error(`the commit ended before pausing: ${err}`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.on('close', r));
}

/**
 * A sandbox `name` that changed a.txt and b.txt, its commit killed at step 1 (a.txt placed,
 * b.txt in flight), then the user's edit of `edited` later than the journal's last line by
 * more than the clock slack the check allows; returns the resumed commit.
 */
async function resumeAfterEdit(name: string, edited: 'a.txt' | 'b.txt'): Promise<ReturnType<typeof sbx>> {
  writeFileSync(join(canary, 'a.txt'), 'host a\n');
  writeFileSync(join(canary, 'b.txt'), 'host b\n');
  const r = sbx(['run', '--name', name, '-q', '--', 'sh', '-c', `echo sandbox a > ${canary}/a.txt; echo sandbox b > ${canary}/b.txt`], { store });
  assert.is(r.code, 0, r.stderr);
  await killCommitAt(name, 1);
  assert.is(readFileSync(join(canary, 'a.txt'), 'utf8'), 'sandbox a\n', 'step 0 was done before the kill');
  assert.is(readFileSync(join(canary, 'b.txt'), 'utf8'), 'host b\n', 'step 1 was not placed before the kill');
  const journalMs = statSync(join(entryOf(name), 'commit.journal')).mtimeMs;
  while (Date.now() < journalMs + 1500) await sleep(50);
  writeFileSync(join(canary, edited), 'the user\'s edit\n');
  const c = sbx(['commit', name], { store });
  assert.is(c.code, 1, c.stderr);
  assert.match(c.stderr, `${edited}: changed on the host after the interrupted commit wrote it`);
  assert.is(readFileSync(join(canary, edited), 'utf8'), 'the user\'s edit\n', 'overwritten by the resumed commit');
  return c;
}

test('a file an interrupted commit wrote and the user changed since is a conflict when the commit is resumed', async () => {
  const c = await resumeAfterEdit('resume', 'a.txt');
  // The step that was in flight is redone: its target is unchanged since the crash.
  assert.is(readFileSync(join(canary, 'b.txt'), 'utf8'), 'sandbox b\n');
  assert.match(c.stderr, /was in progress: .*b\.txt \(redone from the sandbox's copy\)/);
  assert.match(c.stderr, /sandbox resume kept/);
  assert.is(sbx(['discard', 'resume'], { store }).code, 0);
});

// The step in flight may have written its target after the journal's last line, but only
// just after (its line is written right before the rename): an edit later than that is the
// user's, and a resume redid the step over it.
test('the file an interrupted commit was placing, changed by the user since, is a conflict when the commit is resumed', async () => {
  const c = await resumeAfterEdit('inflight', 'b.txt');
  assert.match(c.stderr, /was in progress: .*b\.txt \(changed on the host since: a conflict, not redone\)/);
  assert.is(readFileSync(join(canary, 'a.txt'), 'utf8'), 'sandbox a\n');
  assert.is(sbx(['discard', 'inflight'], { store }).code, 0);
});

test('discarding a sandbox whose commit was interrupted removes the copies that commit staged on the host', async () => {
  const dir = join(canary, 'staged');
  mkdirSync(dir);
  const r = sbx(['run', '--name', 'halfway', '-q', '--', 'sh', '-c', `for f in a b c; do echo sandbox $f > ${dir}/$f; done`], { store });
  assert.is(r.code, 0, r.stderr);
  await killCommitAt('halfway', 1);
  const staged = () => readdirSync(dir).filter((n) => n.startsWith('.sbx-'));
  assert.ok(staged().length > 0, `the interrupted commit staged nothing: ${readdirSync(dir).join(' ')}`);
  const d = sbx(['discard', 'halfway'], { store });
  assert.is(d.code, 0, d.stderr);
  assert.equal(staged(), [], 'the staged copies outlived their sandbox');
  assert.equal(readdirSync(dir).sort(), ['a'], 'step 0 was done before the kill: its file stays, the others were never committed');
});

test('a touch of a host setuid program keeps the host\'s bit; a sandbox widening its mode still loses it', () => {
  for (const n of ['touched', 'widened']) { copyFileSync('/bin/true', join(canary, n)); chmodSync(join(canary, n), 0o4755); }
  const r = sbx(['run', '-y', '-q', '--', 'sh', '-c', `touch -d @2000000 ${canary}/touched && chmod 4777 ${canary}/widened`], { store });
  assert.is(r.code, 0, r.stderr);
  const t = statSync(join(canary, 'touched'));
  assert.is(t.mtimeMs, 2e6 * 1000, 'the change (its mtime) is committed');
  assert.is(t.mode & 0o7777, 0o4755, 'the host\'s setuid bit was taken off by a commit of an mtime');
  assert.is(statSync(join(canary, 'widened')).mode & 0o7777, 0o777);
});

testUnless(IS_ROOT ? null : 'a root case: only root may set a file capability on the host')('a touch of a host setcap program keeps its capability and does not report it taken off; a capability the sandbox adds is', () => {
  for (const n of ['capped', 'added']) copyFileSync('/bin/true', join(canary, n));
  assert.is(spawnSync('/usr/sbin/setcap', ['cap_net_raw+ep', join(canary, 'capped')]).status, 0, 'setcap on the host');
  const r = sbx(['run', '-y', '--', 'sh', '-c', `touch -d @2000000 ${canary}/capped && /usr/sbin/setcap cap_net_raw+ep ${canary}/added`], { store });
  assert.is(r.code, 0, r.stderr);
  const getcap = (n: string) => spawnSync('/usr/sbin/getcap', [join(canary, n)], { encoding: 'utf8' }).stdout;
  assert.is(statSync(join(canary, 'capped')).mtimeMs, 2e6 * 1000, 'the change (its mtime) is committed');
  assert.match(getcap('capped'), 'cap_net_raw', 'the host\'s own capability was taken off');
  assert.not.match(getcap('added'), 'cap_net_raw', 'a capability the sandbox set reached the host');
  const report = r.stderr.replace(/\n\s+/g, ' ');
  assert.match(report, /capabilities removed from [^\n]*added/);
  assert.not.match(report, /capabilities removed from [^\n]*capped/, 'the report says the host\'s own capability was taken off');
});

test('a new dir keeps the setgid bit it inherits (group inheritance, no privilege); a file never gets one from a sandbox', () => {
  const shared = join(canary, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o2775);
  const r = sbx(['run', '-y', '-q', '--', 'sh', '-c', `mkdir ${shared}/sub && stat -c %a ${shared}/sub && touch ${shared}/f && chmod 2755 ${shared}/f`], { store });
  assert.is(r.code, 0, r.stderr);
  const inside = parseInt(r.stdout.trim(), 8);
  assert.ok(inside & 0o2000, `control: inside, the new dir is setgid (${r.stdout.trim()})`);
  assert.is(statSync(join(shared, 'sub')).mode & 0o7777, inside, 'the committed dir lost the setgid bit it had inside');
  assert.is(statSync(join(shared, 'f')).mode & 0o7777, 0o755);
});

test('an interrupted commit whose pid another process has now (after a reboot, or reused) is resumed, not refused forever', async () => {
  writeFileSync(join(canary, 'a.txt'), 'host a\n');
  const r = sbx(['run', '--name', 'reused', '-q', '--', 'sh', '-c', `echo sandbox a > ${canary}/a.txt; echo sandbox b > ${canary}/b.txt`], { store });
  assert.is(r.code, 0, r.stderr);
  await killCommitAt('reused', 1);
  const journal = join(entryOf('reused'), 'commit.journal');
  const [head, ...rest] = readFileSync(journal, 'utf8').split('\n');
  // This test's own process stands for the unrelated one that got the dead commit's pid.
  writeFileSync(journal, [JSON.stringify({ ...JSON.parse(head!), pid: process.pid, pidStart: '1' }), ...rest].join('\n'));
  const c = sbx(['commit', 'reused'], { store });
  assert.is(c.code, 0, c.stderr);
  assert.match(c.stderr, /finishing an interrupted commit/);
  assert.is(readFileSync(join(canary, 'b.txt'), 'utf8'), 'sandbox b\n');
});

test('a commit journal that is a symlink in the store is refused with one line, never followed', async () => {
  writeFileSync(join(canary, 'a.txt'), 'host a\n');
  writeFileSync(join(canary, 'b.txt'), 'host b\n');
  const r = sbx(['run', '--name', 'linked', '-q', '--', 'sh', '-c', `echo sandbox a > ${canary}/a.txt; echo sandbox b > ${canary}/b.txt`], { store });
  assert.is(r.code, 0, r.stderr);
  await killCommitAt('linked', 1);
  const journal = join(entryOf('linked'), 'commit.journal');
  const elsewhere = join(canary, 'journal-elsewhere');
  renameSync(journal, elsewhere);
  symlinkSync(elsewhere, journal);
  const c = sbx(['commit', 'linked'], { store });
  assert.is(c.code, 125, c.stderr);
  assert.match(c.stderr, /commit\.journal cannot be read \(ELOOP\)/);
  assert.is(c.stderr.trim().split('\n').filter((l) => l.startsWith('sbx: error')).length, 1, c.stderr);
  assert.not.match(c.stderr, /finishing an interrupted commit/);
  assert.is(readFileSync(join(canary, 'b.txt'), 'utf8'), 'host b\n', 'the commit went on through the linked journal');
  rmSync(journal);
  renameSync(elsewhere, journal);
  assert.is(sbx(['discard', 'linked'], { store }).code, 0);
});

test('a chmod of one name of a host file with other names changes that name only, as inside', () => {
  writeFileSync(join(canary, 'secret'), 'secret\n', { mode: 0o600 });
  linkSync(join(canary, 'secret'), join(canary, 'other-name'));
  const r = sbx(['run', '-y', '--', 'sh', '-c', `chmod 666 ${canary}/other-name && stat -c %a ${canary}/secret`], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '600\n', 'control: inside, the other name keeps its mode');
  assert.match(r.stderr, /other-name \(mode 600→666\)/);
  assert.is(statSync(join(canary, 'secret')).mode & 0o777, 0o600, 'a name the review never showed was made 0666');
  assert.is(statSync(join(canary, 'other-name')).mode & 0o777, 0o666);
  assert.is(readFileSync(join(canary, 'other-name'), 'utf8'), 'secret\n');
});

test('a commit of changes picked one by one, interrupted, commits none of the others when resumed', async () => {
  const r = sbx(['run', '--name', 'picked', '-q', '--', 'sh', '-c', `echo 1 > ${canary}/a; echo 2 > ${canary}/b; echo declined > ${canary}/c`], { store });
  assert.is(r.code, 0, r.stderr);
  // The review's pick (cli/review.ts) hands commitSandbox the set; a child stands for that sbx.
  const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'sandbox-core');
  const script = `import { commitSandbox } from ${JSON.stringify(pathToFileURL(join(dist, 'commit', 'index.js')).href)};
    import { Store } from ${JSON.stringify(pathToFileURL(join(dist, 'store.js')).href)};
    const s = new Store(${JSON.stringify(store)}); const m = s.resolve('picked');
    commitSandbox(s, m, { only: [], exclude: [], force: false, dryRun: false, pick: new Set(${JSON.stringify([`${canary}/a`, `${canary}/b`])}) });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, SBX_TEST_COMMIT_PAUSE_AFTER: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d) => { err += d; if (err.includes('paused at step 1')) resolve(); });
    child.on('exit', () => reject(new Error(`the commit ended before pausing: ${err}`)));
  });
  child.kill('SIGKILL');
  await new Promise((res) => child.on('close', res));
  const c = sbx(['commit', 'picked'], { store });
  assert.match(c.stderr, /finishing an interrupted commit/);
  assert.is(readFileSync(join(canary, 'b'), 'utf8'), '2\n');
  assert.not.ok(existsSync(join(canary, 'c')), 'a change the user declined was committed by the resume');
  assert.is(sbx(['discard', 'picked'], { store }).code, 0, 'the declined change is still in the sandbox');
});

/** An access ACL: owner rw, user 1001 rw, group r, mask rw, other none. */
function acl(): Buffer {
  const ent = (tag: number, perm: number, id = 0xffffffff) => { const b = Buffer.alloc(8); b.writeUInt16LE(tag, 0); b.writeUInt16LE(perm, 2); b.writeUInt32LE(id, 4); return b; };
  const head = Buffer.alloc(4); head.writeUInt32LE(2);
  return Buffer.concat([head, ent(1, 6), ent(2, 6, 1001), ent(4, 4), ent(0x10, 6), ent(0x20, 0)]);
}
const names = (p: string) => getXattrs([p])[0]!.attrs.map(([n]) => n).sort();
const PY = '/usr/bin/python3';

testUnless(existsSync(PY) ? null : `no ${PY} to remove xattrs inside`)('xattrs and an ACL removed inside are removed from the host; a touch keeps them', () => {
  for (const n of ['touched', 'revoked']) { writeFileSync(join(canary, n), 'x\n'); chmodSync(join(canary, n), 0o640); setXattr(join(canary, n), 'system.posix_acl_access', acl()); }
  setXattr(join(canary, 'revoked'), 'user.keep', '1');
  setXattr(join(canary, 'revoked'), 'user.revoke', '1');
  mkdirSync(join(canary, 'dir'));
  setXattr(join(canary, 'dir'), 'user.revoke', '1');
  const py = `import os; os.utime('${canary}/touched', (5, 5)); [os.removexattr(p, n) for p, n in (('${canary}/revoked', 'system.posix_acl_access'), ('${canary}/revoked', 'user.revoke'), ('${canary}/dir', 'user.revoke'))]`;
  const r = sbx(['run', '-y', '--', PY, '-c', py], { store });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /revoked \(acl removed, xattrs\)/);
  assert.equal(names(join(canary, 'revoked')), ['user.keep'], 'a revoked ACL or xattr stayed on the host');
  assert.equal(names(join(canary, 'dir')), []);
  assert.equal(names(join(canary, 'touched')), ['system.posix_acl_access']);
  assert.is(statSync(join(canary, 'touched')).mtimeMs, 5000);
});


testUnless(existsSync(PY) ? null : `no ${PY} to set xattrs inside`)("another engine's opaque or whiteout name set by the command is its own xattr: no deletion is reviewed or committed", () => {
  // fuse-overlayfs's opaque name on a dir of a kernel layer: the sandbox still showed every file
  // in it, while the review called it emptied and the commit deleted them.
  mkdirSync(join(canary, 'd'));
  writeFileSync(join(canary, 'd', 'important'), 'keep me\n');
  writeFileSync(join(canary, 'w'), '');
  const py = `import os; os.setxattr('${canary}/d', 'user.fuseoverlayfs.opaque', b'y'); os.setxattr('${canary}/w', 'user.fuseoverlayfs.whiteout', b'y'); print(sorted(os.listdir('${canary}/d')))`;
  const r = sbx(['run', '--name', 'forged', '-q', '--', PY, '-c', py], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, "['important']\n", 'the sandbox did not show the file');
  const d = sbx(['diff', 'forged', '--name-only'], { store });
  assert.is(d.code, 0, d.stderr);
  assert.not.match(d.stdout, 'important', `a deletion was reviewed: ${d.stdout}`);
  const c = sbx(['commit', 'forged'], { store });
  assert.is(c.code, 0, c.stderr);
  assert.not.match(c.stderr, /deleted|replaced/);
  assert.is(readFileSync(join(canary, 'd', 'important'), 'utf8'), 'keep me\n', 'the commit deleted a file the command never deleted');
  assert.ok(existsSync(join(canary, 'w')));
});

test.run();
