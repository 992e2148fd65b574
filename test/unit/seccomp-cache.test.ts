import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CACHE_KEEP, loadSeccomp } from '../../sandbox-core/seccomp.js';
import { compileSeccompPolicy } from '../../policies/seccomp/index.js';
import { testUnless } from '../helpers/skip.js';
import { seal } from '../../sandbox-core/base/crc32.js';

const IS_ROOT = process.geteuid?.() === 0;

const cache = mkdtempSync(join(tmpdir(), 'sbx-cache-'));
const saved = process.env.XDG_CACHE_HOME;
test.before(() => { process.env.XDG_CACHE_HOME = cache; });
test.after(() => {
  if (saved === undefined) delete process.env.XDG_CACHE_HOME; else process.env.XDG_CACHE_HOME = saved;
  rmSync(cache, { recursive: true, force: true });
});

test('a shipped policy is compiled once, then read from the cache, byte for byte', async () => {
  const first = await loadSeccomp('strict');
  assert.equal(first, compileSeccompPolicy('strict'));
  const files = readdirSync(join(cache, 'sbx'));
  assert.is(files.length, 1);
  assert.match(files[0]!, /^seccomp-strict-(x86_64|aarch64)-[0-9a-f]{16}\.bpf$/);
  assert.equal(await loadSeccomp('strict'), first);
});

test('a damaged cache entry is ignored and the policy compiled again', async () => {
  const dir = join(cache, 'sbx');
  const name = readdirSync(dir)[0]!;
  writeFileSync(join(dir, name), 'abc');
  assert.equal(await loadSeccomp('strict'), compileSeccompPolicy('strict'));
});

/** A cache dir holding strict's program alone, as loadSeccomp wrote it. */
async function cachedStrict(): Promise<{ dir: string; strict: Buffer; name: string; file: string; bytes: Buffer }> {
  const dir = join(cache, 'sbx');
  rmSync(dir, { recursive: true, force: true });
  const strict = await loadSeccomp('strict');
  const [name] = readdirSync(dir);
  const file = join(dir, name!);
  return { dir, strict, name: name!, file, bytes: readFileSync(file) };
}

test('a cached program is used only while its CRC-32 of its name and bytes holds: flipped bits, another policy under this name, the old format', async () => {
  const { dir, strict, file, bytes: sealed } = await cachedStrict();
  assert.is(sealed.length, strict.length + 8, 'the program, its CRC-32 and a mark');
  assert.equal(sealed.subarray(0, strict.length), strict);
  const permissive = compileSeccompPolicy('permissive');
  const tries: Array<[string, Buffer]> = [
    // An allow-all return where the program refuses: still valid BPF, the kernel would take it.
    ['a bit flipped', (() => { const b = Buffer.from(sealed); b[strict.length - 4]! ^= 0x01; return b; })()],
    ['the CRC-32 changed', (() => { const b = Buffer.from(sealed); b[strict.length]! ^= 0x80; return b; })()],
    ['the bare program (before 2026-12-05)', strict],
  ];
  await loadSeccomp('permissive');
  const [permName] = readdirSync(dir).filter((n) => n.startsWith('seccomp-permissive-'));
  tries.push(['the permissive policy sealed under its own name, copied here', readFileSync(join(dir, permName!))]);
  for (const [why, bytes] of tries) {
    writeFileSync(file, bytes);
    const got = await loadSeccomp('strict');
    assert.equal(got, compileSeccompPolicy('strict'), why);
    assert.is.not(got.equals(permissive), true, why);
    assert.equal(readFileSync(file), sealed, `${why}: compiled again and written sealed`);
  }
});

testUnless(IS_ROOT ? null : 'needs root to give the file to another user')('a program in a file of another user, writable by others, or behind a symlink is not used', async () => {
  const { dir, strict, file, name, bytes: good } = await cachedStrict();
  // The permissive program sealed under strict's name, as a writer of the cache could: used
  // when the file is trusted (the control), never otherwise.
  const planted = seal(compileSeccompPolicy('permissive'), good.readUInt32LE(good.length - 4), name)!;
  const put = (): void => { rmSync(file, { force: true }); writeFileSync(file, planted, { mode: 0o600 }); };
  put();
  assert.equal(await loadSeccomp('strict'), compileSeccompPolicy('permissive'), 'control: a trusted file is used as it is');
  const checks: Array<[string, () => void]> = [
    ['owned by another user', () => { put(); chownSync(file, 1234, 1234); }],
    ['writable by others', () => { put(); chmodSync(file, 0o666); }],
    ['writable by its group', () => { put(); chmodSync(file, 0o620); }],
    ['a symlink to such a file', () => { const t = join(cache, 'elsewhere.bpf'); writeFileSync(t, planted, { mode: 0o600 }); rmSync(file, { force: true }); symlinkSync(t, file); }],
    ['in a dir its group may write', () => { put(); chmodSync(dir, 0o770); }],
  ];
  for (const [why, plant] of checks) {
    plant();
    assert.equal(await loadSeccomp('strict'), strict, why);
    chmodSync(dir, 0o700);
  }
});

test('a policy file given by path is never cached', async () => {
  const before = readdirSync(join(cache, 'sbx')).length;
  const file = join(cache, 'mine.json');
  writeFileSync(file, JSON.stringify({ version: 1, description: 'test', extends: 'default', rules: [] }));
  const prog = await loadSeccomp(file);
  assert.ok(prog.length > 0 && prog.length % 8 === 0);
  assert.is(readdirSync(join(cache, 'sbx')).length, before);
});

test("the programs of old keys are removed when a new one is written, newest kept; other policies' stay", async () => {
  const dir = join(cache, 'sbx');
  rmSync(dir, { recursive: true, force: true });
  await loadSeccomp('strict');
  const [current] = readdirSync(dir);
  const prefix = current!.replace(/[0-9a-f]{16}\.bpf$/, '');
  const old = (i: number): string => `${prefix}${i.toString(16).padStart(16, '0')}.bpf`;
  for (let i = 1; i <= 12; i++) {
    writeFileSync(join(dir, old(i)), Buffer.alloc(8));
    utimesSync(join(dir, old(i)), 1_000_000 + i, 1_000_000 + i);
  }
  const others = [`seccomp-default-x86_64-${'a'.repeat(16)}.bpf`, `${prefix.replace(/-$/, '+notify-')}${'b'.repeat(16)}.bpf`, `${prefix}notes.txt`];
  for (const n of others) writeFileSync(join(dir, n), Buffer.alloc(8));
  rmSync(join(dir, current!));
  await loadSeccomp('strict');
  const left = readdirSync(dir).sort();
  const kept = [current!, ...Array.from({ length: CACHE_KEEP - 1 }, (_, k) => old(12 - k))];
  assert.equal(left, [...kept, ...others].sort());
});

test.run();
