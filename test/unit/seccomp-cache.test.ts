import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CACHE_KEEP, loadSeccomp } from '../../sandbox-core/seccomp.js';
import { compileSeccompPolicy } from '../../policies/seccomp/index.js';

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
