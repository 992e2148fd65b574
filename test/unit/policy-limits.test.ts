// Policy files are user input: /dev/zero, huge or deeply nested files, thousands of rules and
// keys such as __proto__ or constructor give one clear line and exit 125, never a 4 GB read
// or an internal error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicy } from '../../policies/seccomp/index.js';
import { POLICY_LIMITS, shippedLoader } from '../../policies/read-json.js';
import { SBX } from '../helpers/sbx.js';

const dir = mkdtempSync(join(tmpdir(), 'sbx-policy-limits-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, body: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof body === 'string' ? body : JSON.stringify(body));
  return p;
}

function refused(ref: string, want: string | RegExp): void {
  try {
    loadPolicy(ref);
  } catch (e) {
    assert.is((e as Error).name, 'PolicyError', `${ref}: ${(e as Error).stack}`);
    assert.ok(typeof want === 'string' ? (e as Error).message.includes(want) : want.test((e as Error).message), `${ref}: ${(e as Error).message}`);
    assert.not.match((e as Error).message, /internal error|TypeError|Cannot convert/);
    return;
  }
  assert.unreachable(`${ref} accepted`);
}

const ok = (rules: unknown[], extra: object = {}) => ({ version: 1, description: 'x', defaultAction: 'allow', rules, ...extra });

test('/dev/zero, a directory and a file over the size cap are refused before reading them whole', () => {
  refused('/dev/zero', 'not a regular file');
  refused(dir + '/', 'is a directory');
  refused(file('big.json', ' '.repeat(POLICY_LIMITS.maxBytes + 1)), 'too large');
});

test('nesting deeper than the cap is refused with where it happens', () => {
  refused(file('deep.json', '['.repeat(100_000) + ']'.repeat(100_000)), /nested more than 32 levels deep at line 1, column 33/);
  // Brackets inside strings do not count.
  const p = file('strings.json', JSON.stringify(ok([{ syscalls: ['read'], action: 'allow', comment: '['.repeat(100) }])));
  assert.is(loadPolicy(p).rules.length, 1);
});

test('more rules than the cap are refused', () => {
  const rules = Array.from({ length: POLICY_LIMITS.maxRules + 1 }, () => ({ syscalls: ['read'], action: 'allow' }));
  refused(file('many.json', ok(rules)), `at most ${POLICY_LIMITS.maxRules}`);
});

test('__proto__, constructor and other Object.prototype names are unknown in every slot', () => {
  for (const v of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
    refused(file(`a-${v}.json`, ok([], { defaultAction: v })), `unknown action '${v}'`);
    refused(file(`b-${v}.json`, ok([{ syscalls: [v], action: 'allow' }])), `unknown syscall '${v}'`);
    refused(file(`c-${v}.json`, ok([{ syscalls: ['read'], action: { errno: v } }])), `unknown errno '${v}'`);
    refused(file(`d-${v}.json`, ok([{ syscalls: ['ioctl'], action: 'allow', args: [{ index: 1, op: '==', value: v }] }])), `unknown constant '${v}'`);
    refused(file(`e-${v}.json`, `{"version":1,"description":"x","defaultAction":"allow","rules":[],"${v}":{"rules":[]}}`), `unknown field '${v}'`);
    refused(file(`f-${v}.json`, `{"version":1,"description":"x","defaultAction":"allow","rules":[{"syscalls":["read"],"action":"allow","${v}":1}]}`), `unknown field '${v}'`);
    refused(file(`g-${v}.json`, ok([], { extends: v })), `no shipped seccomp policy called '${v}'`);
  }
});

test('malformed values of every field are named, not thrown', () => {
  const bad: unknown[] = [
    null, [], 'x', 1, { version: 1 }, ok('x' as unknown as unknown[]), ok([null]), ok([{ syscalls: 'read', action: 'allow' }]),
    ok([{ syscalls: [1], action: 'allow' }]), ok([{ syscalls: ['read'], action: { errno: -1 } }]), ok([{ syscalls: ['read'], action: { errno: 'EPERM', x: 1 } }]),
    ok([{ syscalls: ['read'], action: 'allow', args: 'x' }]), ok([{ syscalls: ['read'], action: 'allow', args: [{ index: 9, op: '==', value: 1 }] }]),
    ok([{ syscalls: ['read'], action: 'allow', args: [{ index: 0, op: '~', value: 1 }] }]), ok([{ syscalls: ['read'], action: 'allow', args: [{ index: 0, op: '==', value: {} }] }]),
    ok([{ syscalls: ['read'], action: 'allow', args: [{ index: 0, op: '==', value: 1e30 }] }]), ok([], { version: '1' }), ok([], { extends: 5 }),
  ];
  bad.forEach((b, i) => refused(file(`bad-${i}.json`, b), /\$|invalid JSON/));
});

test('sbx run --policy /dev/zero and sbx policy check: one line, exit 125', () => {
  for (const args of [['run', '-n', '--policy', '/dev/zero', '--', 'true'], ['policy', 'check', '/dev/zero'], ['run', '-n', '--policy', join(dir, 'c-constructor.json'), '--', 'true']]) {
    const r = spawnSync(process.execPath, [SBX, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 30_000 });
    assert.is(r.status, 125, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.not.match(r.stderr, 'internal error');
  }
});

// Each of a file's mistakes is one line of its own, each said as an error: the one-line rule's
// escape of line breaks (cli/report-error.ts) ran them together with literal \n between.
test('a policy file with several mistakes: sbx policy check says each on an `sbx: error:` line, a run the first and how to see the rest', () => {
  const bad = file('several.json', { defaultAction: 'bogus', syscalls: [] });
  const run = (args: string[]) => spawnSync(process.execPath, [SBX, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 30_000 });
  const c = run(['policy', 'check', bad]);
  assert.is(c.status, 125, c.stderr);
  const lines = c.stderr.trim().split('\n');
  assert.ok(lines.length >= 3, c.stderr);
  for (const l of lines) assert.ok(l.startsWith(`sbx: error: ${bad}: $.`) && !l.includes('\\n'), c.stderr);
  const r = run(['run', '-n', '--policy', bad, '--', 'true']);
  assert.is(r.status, 125, r.stderr);
  assert.equal(r.stderr.trim().split('\n'), [`${lines[0]} (and ${lines.length - 1} more: 'sbx policy check ${bad}' lists each)`], r.stderr);
});

// The bundle carries each shipped data file's text and parsed value (scripts/bundle.mjs): used
// only while the file still holds that text, else the file is read, checked and parsed as ever.
test('a shipped file that still holds the build\'s text gives the build\'s value; any other content is read and checked', () => {
  const text = '{"n": 1}\n';
  const path = file('shipped.json', text);
  let parses = 0;
  const parse = (v: unknown): { n: number } => { parses++; return v as { n: number }; };
  const baked = () => ({ text, value: { n: 42 } });
  assert.equal(shippedLoader(() => path, parse, baked)(), { n: 42 });
  assert.is(parses, 0);
  // One byte more, one byte less, another byte: parsed from the file.
  appendFileSync(path, ' ');
  assert.equal(shippedLoader(() => path, parse, baked)(), { n: 1 });
  writeFileSync(path, text.slice(0, -1));
  assert.equal(shippedLoader(() => path, parse, baked)(), { n: 1 });
  writeFileSync(path, text.replace('1', '2'));
  assert.equal(shippedLoader(() => path, parse, baked)(), { n: 2 });
  assert.is(parses, 3);
  // What the file is, not the baked text, is reported: a directory, a missing file.
  const d = join(dir, 'shipped-dir');
  mkdirSync(d);
  assert.throws(() => shippedLoader(() => d, parse, baked)(), /is a directory/);
  assert.throws(() => shippedLoader(() => join(dir, 'none.json'), parse, baked)(), /no such file/);
  // Without a baked value (the tsc output), as before.
  assert.equal(shippedLoader(() => path, parse)(), { n: 2 });
});

test.run();
