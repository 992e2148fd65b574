// Differential test: the same rules compiled by libseccomp (Debian's python3-seccomp, which
// exports the BPF it would load) and by sbx, both run in our interpreter, must give the same
// action for every syscall number and argument vector. Two corpora: the shipped policies, and
// random rule sets that stress 64-bit comparisons.
//
// The two tools agree on meaning when, for a syscall, the conditional rules share one action or
// cannot match together, and an unconditional rule is the fallback. libseccomp has one global
// default, so a syscall whose fallback differs from the policy default is compared in a filter
// of its own whose default is that fallback.
// sbx-test: host-free (it compiles filters, here and in python3, and runs them in an interpreter).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { compile, decide, actionValue } from '../../policies/seccomp/compiler.js';
import { loadPolicy, type ResolvedPolicy } from '../../policies/seccomp/load.js';
import { parsePolicy, type ArgCondition } from '../../policies/seccomp/policy.js';
import { decode, type Insn } from '../../policies/seccomp/bpf.js';
import { checkFilter, runFilter, dataWords } from '../../policies/seccomp/interpreter.js';
import { CAPABILITIES } from '../../policies/capabilities/index.js';
import { AUDIT, TABLES, syscallNumbers, expectedRet, type Arch } from './seccomp-reference.js';

const PYTHON = '/usr/bin/python3';
const ARCHES: Arch[] = ['x86_64', 'aarch64'];

interface LibRule { action: number; syscall: string; args: Array<[number, string, string, string]> }
interface LibFilter { arch: Arch; default: number; rules: LibRule[] }

// Builds each filter with libseccomp and prints the exported BPF as hex, one filter per line.
const BUILD = `
import json, sys, seccomp, tempfile, os
ops = {'EQ': seccomp.EQ, 'NE': seccomp.NE, 'LT': seccomp.LT, 'LE': seccomp.LE, 'GT': seccomp.GT, 'GE': seccomp.GE, 'MASKED_EQ': seccomp.MASKED_EQ}
arches = {'x86_64': seccomp.Arch.X86_64, 'aarch64': seccomp.Arch.AARCH64}
# The bindings take actions as C ints: kill-process (0x80000000) is negative there.
signed = lambda a: a - (1 << 32) if a >= (1 << 31) else a
for spec in json.load(sys.stdin):
    f = seccomp.SyscallFilter(signed(spec['default']))
    f.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
    if seccomp.system_arch() != arches[spec['arch']]:
        f.remove_arch(seccomp.Arch.NATIVE)
        f.add_arch(arches[spec['arch']])
    for r in spec['rules']:
        args = [seccomp.Arg(a, ops[op], int(x), int(y)) for a, op, x, y in r['args']]
        f.add_rule(signed(r['action']), r['syscall'], *args)
    with tempfile.TemporaryFile() as t:
        f.export_bpf(t)
        t.seek(0)
        print(t.read().hex())
`;

function haveLibseccomp(): boolean {
  return spawnSync(PYTHON, ['-c', 'import seccomp'], { stdio: 'ignore' }).status === 0;
}

function libseccomp(filters: LibFilter[]): Insn[][] {
  const r = spawnSync(PYTHON, ['-c', BUILD], { input: JSON.stringify(filters), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`libseccomp failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((hex) => decode(Buffer.from(hex, 'hex')));
}

/** libseccomp's form of one condition; throws for conditions it has no way to say. */
function libArg(c: ArgCondition): [number, string, string, string] {
  if (c.op === 'masked-eq') return [c.index, 'MASKED_EQ', String(c.mask), String(c.value)];
  if (c.width === 32) {
    // Comparing only the low word is a masked compare with the high mask 0.
    if (c.op === 'eq') return [c.index, 'MASKED_EQ', '4294967295', String(c.value)];
    throw new Error(`libseccomp cannot express 32-bit ${c.op}`);
  }
  const op = { eq: 'EQ', ne: 'NE', lt: 'LT', le: 'LE', gt: 'GT', ge: 'GE' }[c.op];
  return [c.index, op, String(c.value), '0'];
}

interface Comparison { filter: LibFilter; ours: Insn[]; nrs: number[] }

/** Splits a policy into libseccomp filters and the syscall numbers each is compared on. */
function comparisons(policy: ResolvedPolicy, arch: Arch): Comparison[] {
  const def = actionValue(policy.defaultAction);
  const whole: LibFilter = { arch, default: def, rules: [] };
  const out: Comparison[] = [];
  const own = new Set<number>();
  for (const d of decide(policy, arch)) {
    const fallback = actionValue(d.fallback);
    const conditional = d.conditional.map((r) => ({ action: actionValue(r.action), syscall: d.name, args: r.args.map(libArg) }));
    if (conditional.length === 0) {
      if (fallback !== def) whole.rules.push({ action: fallback, syscall: d.name, args: [] });
    } else if (fallback === def) {
      whole.rules.push(...conditional);
    } else {
      // Our program for this syscall alone, with the fallback as its default.
      const single: ResolvedPolicy = { ...policy, defaultAction: d.fallback, rules: d.conditional.map((r) => ({ ...r, syscalls: [d.name] })) };
      out.push({ filter: { arch, default: fallback, rules: conditional }, ours: compile(single, arch).program, nrs: [d.nr] });
      own.add(d.nr);
    }
  }
  // x32 numbers (>= 0x40000000) are compared separately: sbx kills them by design.
  const nrs = syscallNumbers(arch).filter((n) => !own.has(n) && (arch !== 'x86_64' || n < 0x40000000));
  out.unshift({ filter: whole, ours: compile(policy, arch).program, nrs });
  return out;
}

function compare(label: string, comps: Comparison[], vectors: bigint[][], theirs: Insn[][]): number {
  let checked = 0;
  comps.forEach((c, i) => {
    checkFilter(theirs[i]!);
    for (const nr of c.nrs) {
      for (const args of vectors) {
        const words = dataWords({ nr, arch: AUDIT[c.filter.arch], args });
        const a = runFilter(c.ours, words).ret;
        const b = runFilter(theirs[i]!, words).ret;
        if (a !== b) assert.is(a.toString(16), b.toString(16), `${label} ${c.filter.arch} nr ${nr} args ${args.map((x) => `0x${x.toString(16)}`).join(',')}`);
        checked++;
      }
    }
  });
  return checked;
}

const HIGH = 0x100000000n;
const SHIPPED_VECTORS: bigint[][] = (() => {
  const vals = [0n, 1n, 2n, 8n, 10n, 16n, 17n, 38n, 0x5412n, 0x5412n | HIGH, 0x541cn, 0x5401n, 0x10000000n | 17n, 0x10000000n * HIGH | 17n, 0x1200011n, 0x3d0f00n,
    0x20000n, 0x40000n, 0x100000n, 0xffffffffn, 0xffffffffffffffffn, 0o20666n, 0o60660n, 0o10644n, 0o20000n | HIGH, 2n | HIGH];
  const out: bigint[][] = [[]];
  for (const v of vals) for (let i = 0; i < 3; i++) out.push(Object.assign([0n, 0n, 0n], { [i]: v }));
  // socket(domain, type, protocol): raw, typed and netlink protocol combinations.
  for (const domain of [2n, 10n, 16n, 17n, 2n | HIGH]) {
    for (const type of [1n, 3n, 5n, 3n | 0x80000n | HIGH]) {
      for (const proto of [0n, 4n, 12n, 12n | HIGH]) out.push([domain, type, proto]);
    }
  }
  return out;
})();

/** A deterministic PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const EDGE = [0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x100000001n, 0x1ffffffffn, 0x123456789an, 0x8000000000000000n, 0xfffffffffffffffen, 0xffffffffffffffffn];

function randomPolicy(seed: number, arch: Arch): { policy: ResolvedPolicy; values: bigint[] } {
  const r = rng(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const actions = [{ errno: 'EPERM' }, { errno: 'EACCES' }, 'allow', 'kill-process', 'trap', 'log', { errno: 'ENOSYS' }];
  const def = pick(actions);
  const names = Object.keys(TABLES[arch]);
  const rules: unknown[] = [];
  const values: bigint[] = [];
  const used = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const name = pick(names);
    if (used.has(name)) continue;
    used.add(name);
    let action = pick(actions);
    while (JSON.stringify(action) === JSON.stringify(def)) action = pick(actions);
    if (r() < 0.3) {
      rules.push({ syscalls: [name], action });
      continue;
    }
    // Either one rule with any operators on one or two arguments, or up to three equality
    // rules on one argument: libseccomp 2.5.4 miscompiles several range rules on one syscall
    // (see the test below), so those are checked against the definition only.
    const several = r() < 0.5;
    const nRules = several ? 2 + Math.floor(r() * 2) : 1;
    const sameArg = Math.floor(r() * 6);
    for (let k = 0; k < nRules; k++) {
      const indices = several ? [sameArg] : [0, 1, 2, 3, 4, 5].sort(() => r() - 0.5).slice(0, 1 + Math.floor(r() * 2));
      const args = indices.map((index) => {
        const op = several ? pick(['eq', 'masked-eq', 'eq32', 'masked-eq32']) : pick(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked-eq', 'eq32', 'masked-eq32']);
        const width = op.endsWith('32') ? 32 : 64;
        const base = op.replace('32', '');
        let value = width === 32 ? pick(EDGE.filter((v) => v <= 0xffffffffn)) : pick(EDGE);
        values.push(value);
        if (base === 'masked-eq') {
          const mask = width === 32 ? pick([0xffn, 0xff00ff00n, 0x80000001n, 0xffffffffn]) : pick([0xff000000ffn, 0xffffffff00000000n, 0x8000000080000000n, 0xffffffffffffffffn]);
          value &= mask;
          values.push(value, mask);
          return { index, op: base, mask: `0x${mask.toString(16)}`, value: `0x${value.toString(16)}`, width };
        }
        return { index, op: base, value: `0x${value.toString(16)}`, width };
      });
      rules.push({ syscalls: [name], action, args });
    }
  }
  const { policy, problems } = parsePolicy({ version: 1, description: `random ${seed}`, defaultAction: def, rules }, `random-${seed}`);
  if (!policy) throw new Error(JSON.stringify(problems));
  return { policy: { name: `random-${seed}`, description: '', defaultAction: policy.defaultAction!, rules: policy.rules, chain: [] }, values };
}

function vectorsFor(values: bigint[]): bigint[][] {
  const around = new Set<bigint>();
  for (const v of values) for (const d of [-1n, 0n, 1n]) around.add(BigInt.asUintN(64, v + d));
  around.add(0n);
  const list = [...around];
  const out: bigint[][] = [[]];
  // Each value in each argument slot, plus mixed vectors so conditions on two arguments meet.
  for (const v of list) for (let i = 0; i < 6; i++) out.push(Object.assign([0n, 0n, 0n, 0n, 0n, 0n], { [i]: v }));
  for (let i = 0; i < list.length; i++) out.push([0, 1, 2, 3, 4, 5].map((k) => list[(i + k * 7) % list.length]!));
  return out;
}

if (!haveLibseccomp()) {
  if (process.env.CI === 'true') {
    test('libseccomp is installed (python3-seccomp)', () => {
      assert.unreachable(`${PYTHON} cannot import seccomp: install python3-seccomp (.ci/run does)`);
    });
  } else {
    console.log(`  skipping: ${PYTHON} cannot import seccomp (apt-get install python3-seccomp)`);
    test.skip('libseccomp differential', () => {});
  }
} else {
  for (const name of ['default', 'strict', 'permissive']) {
    test(`${name}: sbx and libseccomp agree on every syscall and argument vector, for the default capabilities and for all`, () => {
      for (const policy of [loadPolicy(name), loadPolicy(name, CAPABILITIES)])
      for (const arch of ARCHES) {
        const comps = comparisons(policy, arch);
        const checked = compare(name, comps, SHIPPED_VECTORS, libseccomp(comps.map((c) => c.filter)));
        assert.ok(checked > 10000, `${checked} decisions compared`);
      }
    });
  }

  test('random rule sets with 64-bit and 32-bit comparisons: sbx and libseccomp agree', () => {
    let total = 0;
    for (const arch of ARCHES) {
      const cases = Array.from({ length: 24 }, (_, i) => randomPolicy(1000 + i + (arch === 'aarch64' ? 500 : 0), arch));
      const comps = cases.map((c) => comparisons(c.policy, arch));
      const theirs = libseccomp(comps.flat().map((c) => c.filter));
      let at = 0;
      comps.forEach((cs, i) => {
        const mine = theirs.slice(at, at + cs.length);
        at += cs.length;
        // Only numbers the random policy names matter beyond the default; keep the run short.
        const named = new Set(decide(cases[i]!.policy, arch).filter((d) => d.conditional.length || d.fallbackRule).map((d) => d.nr));
        const trimmed = cs.map((c) => ({ ...c, nrs: c.nrs.filter((n) => named.has(n) || n % 37 === 0) }));
        total += compare(cases[i]!.policy.name, trimmed, vectorsFor(cases[i]!.values), mine);
      });
    }
    assert.ok(total > 50000, `${total} decisions compared`);
  });

  test('where libseccomp 2.5.4 miscompiles several range rules on one syscall, sbx follows the definition', () => {
    // Found by the random corpus: libseccomp's BPF does not reload the high word where two rule
    // chains on one syscall merge, so it compares the wrong word (its own export_pfc pseudo-code
    // is right). Our program must match the definition; libseccomp's answer is only reported.
    const cases: Array<{ name: string; rules: unknown[]; args: bigint[]; want: number; index: number[] }> = [
      {
        name: 'fdatasync', want: 0x7ffc0000, args: [0n, 0n, 0n, 0xffffffffffffffffn], index: [1, 3],
        rules: [
          { syscalls: ['fdatasync'], action: 'allow', args: [{ index: 3, op: 'ge', value: 1 }, { index: 1, op: 'ge', value: '0x7fffffff' }] },
          { syscalls: ['fdatasync'], action: 'allow', args: [{ index: 1, op: 'lt', value: '0x100000001' }, { index: 3, op: 'lt', value: '0x100000001' }] },
        ],
      },
      {
        name: 'renameat', want: 0x7ffc0000, args: [0n, 0n, 0n, 0x1ffffffffn], index: [3],
        rules: [
          { syscalls: ['renameat'], action: { errno: 'ENOSYS' }, args: [{ index: 3, op: 'gt', value: '0xfffffffffffffffe' }] },
          { syscalls: ['renameat'], action: { errno: 'ENOSYS' }, args: [{ index: 3, op: 'le', value: '0x100000000' }] },
        ],
      },
    ];
    for (const c of cases) {
      const { policy, problems } = parsePolicy({ version: 1, description: 'repro', defaultAction: 'log', rules: c.rules }, 'repro');
      assert.ok(policy, JSON.stringify(problems));
      const resolved: ResolvedPolicy = { name: 'repro', description: '', defaultAction: policy!.defaultAction!, rules: policy!.rules, chain: [] };
      const [comp] = comparisons(resolved, 'x86_64');
      const [theirs] = libseccomp([comp!.filter]);
      const nr = TABLES.x86_64[c.name];
      const w = dataWords({ nr: nr!, arch: AUDIT.x86_64, args: c.args });
      assert.is(runFilter(comp!.ours, w).ret, c.want, c.name);
      if (runFilter(theirs!, w).ret !== c.want) console.log(`  note: libseccomp gives 0x${runFilter(theirs!, w).ret.toString(16)} for the ${c.name} case (known miscompilation)`);
      for (const a of EDGE) for (const b of EDGE) {
        const v = [0n, 0n, 0n, 0n, 0n, 0n];
        v[c.index[0]!] = a;
        v[c.index[c.index.length - 1]!] = c.index.length > 1 ? b : a;
        assert.is(runFilter(comp!.ours, dataWords({ nr: nr!, arch: AUDIT.x86_64, args: v })).ret, expectedRet(resolved, 'x86_64', AUDIT.x86_64, nr!, v), `${c.name} ${v}`);
      }
    }
  });

  test('x86_64: libseccomp and sbx both refuse foreign architectures; sbx also kills x32 numbers', () => {
    const policy = loadPolicy('default');
    const [comp] = comparisons(policy, 'x86_64');
    const [theirs] = libseccomp([comp!.filter]);
    for (const arch of [0x40000003, AUDIT.aarch64]) {
      const w = dataWords({ nr: 0, arch });
      assert.is(runFilter(comp!.ours, w).ret, runFilter(theirs!, w).ret, `arch 0x${arch.toString(16)}`);
    }
    assert.is(runFilter(comp!.ours, { nr: 0x40000000, arch: AUDIT.x86_64 }).ret, 0x80000000);
  });
}

test.run();
