// --disk copy-back under attack: whatever the command leaves on the tmpfs (paths far beyond
// PATH_MAX, thousands of levels, attributes the store's filesystem refuses), the copy back to
// the store is complete or the layers stay exactly as they were before the run, and nothing
// is invented. Each test proves isolation first; as root and as the unprivileged user.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, makeCanary, makeStore, proveIsolation, removeCanary, sbx } from '../helpers/sbx.js';

const store = makeStore();
const HELPER = join(REPO, 'native', 'build', 'sbx-helper');
let canary = '';
test.before.each(() => { canary = makeCanary(); proveIsolation(canary, store); });
test.after.each(() => removeCanary(canary));
// rm(1) removes trees of any depth; the store may hold some.
test.after(() => { spawnSync('rm', ['-rf', store]); });

/**
 * A node one-liner run inside: chdir one level at a time, so no path it uses is long. sbx runs
 * with 200 fds at most: a copy holding two fds per level would need 4,200 for the chain.
 */
function nodeInside(script: string, inName: string): ReturnType<typeof sbx> {
  return sbx(['run', '-q', '--in', inName, '--disk', '20M', '--', process.execPath, '-e', script], { store, prefix: ['prlimit', '--nofile=200:200'], timeoutMs: 180_000 });
}

/**
 * The change list's walker (issue 10 item 6, sandbox-core/changes) cannot read paths over
 * PATH_MAX yet: the run may end with that one error after the command and the copy-back.
 * Anything else (a copy-back failure above all) fails the test.
 */
function ranAndCopied(r: ReturnType<typeof sbx>): void {
  assert.not.match(r.stderr, /--disk/, r.stderr.slice(0, 2000));
  if (r.code !== 0) assert.match(r.stderr, /ENAMETOOLONG/, `exit ${r.code}: ${r.stderr.slice(0, 2000)}`);
}

function layerLeftovers(): string[] {
  const out: string[] = [];
  for (const id of readdirSync(store)) {
    try { for (const e of readdirSync(join(store, id))) if (e.endsWith('.out')) out.push(`${id}/${e}`); } catch { /* not a dir */ }
  }
  return out;
}

test('25 nested 200-byte names and a 2,100-level chain round-trip through --disk, with 200 fds', () => {
  const name = `deep${process.pid}`;
  const first = sbx(['run', '-q', '--name', name, '--disk', '20M', '--', 'sh', '-c', `echo before > ${canary}/before.txt`], { store });
  assert.is(first.code, 0, first.stderr);
  const make = `const fs=require('fs');process.chdir(${JSON.stringify(canary)});const n='n'.repeat(200);
    fs.mkdirSync('long');process.chdir('long');for(let i=0;i<25;i++){fs.mkdirSync(n);process.chdir(n)}fs.writeFileSync('f','long\\n');
    process.chdir(${JSON.stringify(canary)});fs.mkdirSync('chain');process.chdir('chain');for(let i=0;i<2100;i++){fs.mkdirSync('a');process.chdir('a')}fs.writeFileSync('g','chain\\n')`;
  ranAndCopied(nodeInside(make, name));
  const check = `const fs=require('fs');const out=[];process.chdir(${JSON.stringify(canary)});out.push(fs.readFileSync('before.txt','utf8'));
    process.chdir('long');for(let i=0;i<25;i++)process.chdir('n'.repeat(200));out.push(fs.readFileSync('f','utf8'));
    process.chdir(${JSON.stringify(canary)}+'/chain');for(let i=0;i<2100;i++)process.chdir('a');out.push(fs.readFileSync('g','utf8'));process.stdout.write(out.join(''))`;
  const r = nodeInside(check, name);
  ranAndCopied(r);
  // Copied in from the store (where the previous run's copy-back put it) and read inside.
  assert.is(r.stdout, 'before\nlong\nchain\n');
  assert.equal(layerLeftovers(), []);
  assert.not.ok(existsSync(join(canary, 'long')));
});

/** Does the store's filesystem refuse an 8000-byte user xattr (ext4 without ea_inode does)? */
function storeRefusesBigXattr(): boolean {
  const dir = mkdtempSync(join(store, 'probe-'));
  const f = join(dir, 'f');
  writeFileSync(f, '');
  const r = spawnSync(HELPER, ['xattr', 'set'], { input: xattrRequest(f, 8000) });
  rmSync(dir, { recursive: true, force: true });
  return r.status === 0 && r.stdout.length === 4 && r.stdout.readUInt32LE(0) !== 0;
}

/** sbx-helper xattr set's request: path, one attribute user.big of `size` bytes. */
function xattrRequest(path: string, size: number): Buffer {
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
  return Buffer.concat([Buffer.from(`${path}\0`), u32(1), Buffer.from('user.big\0'), u32(size), Buffer.alloc(size, 'x')]);
}

const refuses = storeRefusesBigXattr();
(refuses ? test : test.skip)('a copy-back that cannot complete leaves the layers as they were, saves the sandbox, says so in one line, invents nothing', () => {
  const name = `fail${process.pid}`;
  const first = sbx(['run', '-q', '--name', name, '--disk', '20M', '--', 'sh', '-c', `echo a > ${canary}/a.txt && chmod 700 ${canary}`], { store });
  assert.is(first.code, 0, first.stderr);
  // The tmpfs takes the attribute; the store's filesystem will not.
  const second = sbx(['run', '-q', '--in', name, '--disk', '20M', '--', 'sh', '-c', `echo b > ${canary}/b.txt && rm ${canary}/a.txt && exec ${HELPER} xattr set`],
    { store, input: xattrRequest(`${canary}/b.txt`, 8000).toString('latin1'), env: { LANG: 'C' } });
  assert.is(second.stdout, '\0\0\0\0', 'the attribute was set inside');
  assert.is(second.code, 125, second.stderr);
  const lines = second.stderr.trim().split('\n');
  assert.is(lines.length, 1, second.stderr);
  assert.match(lines[0]!, /could not copy this run's writes back from the --disk tmpfs \((ENOSPC|E2BIG)/);
  assert.match(lines[0]!, new RegExp(`${canary}/b\\.txt`));
  assert.match(lines[0]!, new RegExp(`sandbox ${name} keeps its state from before this run`));
  assert.equal(layerLeftovers(), []);
  // The earlier run's state, exactly: a.txt added, the canary's mode changed, nothing else.
  const diff = sbx(['diff', name, '--name-only'], { store });
  assert.is(diff.code, 0, diff.stderr);
  assert.is(diff.stdout, `${canary}\n${canary}/a.txt\n`);
  const full = sbx(['diff', name], { store });
  assert.match(full.stdout + full.stderr, /755→700/);
  assert.not.match(full.stdout + full.stderr, /b\.txt/);
  // And a later run still sees that state.
  const third = sbx(['run', '-q', '--in', name, '--disk', '20M', '--', 'sh', '-c', `cat ${canary}/a.txt; test -e ${canary}/b.txt || echo no-b`], { store });
  assert.is(third.code, 0, third.stderr);
  assert.is(third.stdout, 'a\nno-b\n');
  sbx(['discard', name], { store });
});

test.run();
