// sbx-test: host-free (it compiles rules and runs them in an interpreter).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile, decide } from '../../policies/seccomp/compiler.js';
import { parsePolicy } from '../../policies/seccomp/policy.js';
import type { ResolvedPolicy } from '../../policies/seccomp/load.js';
import { checkFilter, longestPath, runFilter } from '../../policies/seccomp/interpreter.js';
import { BPF_JMP, BPF_JA, encode, decode } from '../../policies/seccomp/bpf.js';
import { PolicyError } from '../../policies/seccomp/errors.js';
import { AUDIT, KILL_PROCESS, ALLOW, errnoRet, expectedRet, TABLES, type Arch } from './seccomp-reference.js';

const ARCHES: Arch[] = ['x86_64', 'aarch64'];

function policyOf(json: unknown): ResolvedPolicy {
  const { policy, problems } = parsePolicy(json, 'test.json');
  if (!policy) throw new Error(problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return { name: 'test', description: policy.description, defaultAction: policy.defaultAction!, rules: policy.rules, chain: ['test.json'] };
}

const run = (p: ResolvedPolicy, arch: Arch, nr: number, args: bigint[] = [], auditArch: number = AUDIT[arch]) => {
  const { program } = compile(p, arch);
  checkFilter(program);
  return runFilter(program, { nr, arch: auditArch, args });
};

const simple = policyOf({ version: 1, description: 't', defaultAction: { errno: 'ENOSYS' }, rules: [{ syscalls: ['read', 'write'], action: 'allow' }] });

test('a foreign architecture is killed before anything else', () => {
  for (const arch of ARCHES) {
    for (const other of [0x40000003 /* i386 */, 0x40000028 /* arm */, AUDIT[arch === 'x86_64' ? 'aarch64' : 'x86_64'], 0]) {
      assert.is(run(simple, arch, 0, [], other).ret, KILL_PROCESS, `${arch} vs 0x${other.toString(16)}`);
    }
  }
});

test('x86_64: x32 syscall numbers are killed, including x32 read (0x40000000)', () => {
  for (const nr of [0x40000000, 0x40000001, 0x40000000 + 512, 0x7fffffff, 0xffffffff]) {
    assert.is(run(simple, 'x86_64', nr).ret, KILL_PROCESS, `nr 0x${nr.toString(16)}`);
  }
  assert.is(run(simple, 'x86_64', 0).ret, ALLOW);
  // aarch64 has no x32: large numbers are just unknown syscalls.
  assert.is(run(simple, 'aarch64', 0x40000000).ret, errnoRet(38));
  assert.is(run(simple, 'aarch64', 0xffffffff).ret, errnoRet(38));
});

test('numbers outside the table, in gaps and past the end, get the default action', () => {
  assert.is(run(simple, 'x86_64', 1).ret, ALLOW); // write
  assert.is(run(simple, 'x86_64', 2).ret, errnoRet(38)); // open: not listed
  assert.is(run(simple, 'x86_64', 5000).ret, errnoRet(38));
  assert.is(run(simple, 'aarch64', 63).ret, ALLOW); // read
  assert.is(run(simple, 'aarch64', 244).ret, errnoRet(38)); // arch-specific gap
});

test('the search is balanced: the longest path grows with log2 of the ranges, not their number', () => {
  // Alternate allow/deny over every syscall: the worst case for range merging.
  const names = Object.entries(TABLES.x86_64).sort((a, b) => a[1] - b[1]).map(([n]) => n);
  const p = policyOf({
    version: 1, description: 't', defaultAction: 'allow',
    rules: [{ syscalls: names.filter((_, i) => i % 2 === 0), action: { errno: 'EPERM' } }],
  });
  const { program } = compile(p, 'x86_64');
  checkFilter(program);
  let longest = 0;
  for (const nr of Object.values(TABLES.x86_64)) {
    const r = runFilter(program, { nr, arch: AUDIT.x86_64 });
    assert.is(r.ret, expectedRet(p, 'x86_64', AUDIT.x86_64, nr, []));
    longest = Math.max(longest, r.steps);
  }
  const ranges = program.filter((i) => i.code === 0x35).length; // jge: the x32 check + one per tree node
  // ld arch, jeq, ld nr, x32 jge, ceil(log2(ranges)) compares, ret; a tree this big spans more
  // than 255 instructions, so a path may also cross up to two long jumps (ja).
  assert.ok(ranges > 300, `${ranges} ranges`);
  assert.ok(longest <= 4 + Math.ceil(Math.log2(ranges)) + 1 + 2, `longest path ${longest} for ${ranges} ranges`);
});

test('adjacent syscalls with the same action merge into one range', () => {
  const p = policyOf({ version: 1, description: 't', defaultAction: 'kill-process', rules: [{ syscalls: ['read', 'write', 'open', 'close'], action: 'allow' }] });
  const { program } = compile(p, 'x86_64');
  // [0,4) allow, [4, limit) kill: one compare after the x32 check.
  assert.ok(program.length <= 8, `program has ${program.length} instructions`);
  assert.is(run(p, 'x86_64', 3).ret, ALLOW);
  assert.is(run(p, 'x86_64', 4).ret, KILL_PROCESS);
});

// Values around the 32-bit boundaries, where a wrong high/low word split shows.
const EDGE = [0n, 1n, 2n, 0x7fffffffn, 0x80000000n, 0xfffffffen, 0xffffffffn, 0x100000000n, 0x100000001n, 0x1fffffffen, 0x1ffffffffn, 0x200000000n,
  0x7fffffffffffffffn, 0x8000000000000000n, 0xfffffffffffffffen, 0xffffffffffffffffn, 0x5412n, 0x100005412n, 0xffffffff00005412n];

test('every operator at width 64 and 32 matches the definition on boundary values', () => {
  const values = ['0', '1', '0x7fffffff', '0x80000000', '0xffffffff', '0x100000000', '0x100000001', '0x1ffffffff', '0xffffffff00005412', '0x5412', '0x8000000000000000', '0xffffffffffffffff'];
  for (const width of [64, 32] as const) {
    for (const op of ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const) {
      for (const value of values) {
        if (width === 32 && BigInt(value) > 0xffffffffn) continue;
        const p = policyOf({
          version: 1, description: 't', defaultAction: { errno: 'EPERM' },
          rules: [{ syscalls: ['ioctl'], action: 'allow', args: [{ index: 1, op, value, width }] }],
        });
        for (const arch of ARCHES) {
          const { program } = compile(p, arch);
          checkFilter(program);
          const nr = TABLES[arch].ioctl;
          for (const a of EDGE) {
            const got = runFilter(program, { nr: nr!, arch: AUDIT[arch], args: [0n, a] }).ret;
            assert.is(got, expectedRet(p, arch, AUDIT[arch], nr!, [0n, a]), `${arch} arg1=0x${a.toString(16)} ${op} ${value} width ${width}`);
          }
        }
      }
    }
  }
});

test('masked-eq compares both words at width 64 and the low word at width 32', () => {
  const cases: Array<[string, string]> = [['0xff00000000', '0x1200000000'], ['0xffffffffffffffff', '0x100005412'], ['0x10000000', '0x10000000'], ['0x10000000', '0'], ['0xf000000f', '0x80000001']];
  for (const width of [64, 32] as const) {
    for (const [mask, value] of cases) {
      if (width === 32 && (BigInt(mask) > 0xffffffffn || BigInt(value) > 0xffffffffn)) continue;
      const p = policyOf({ version: 1, description: 't', defaultAction: 'allow', rules: [{ syscalls: ['clone'], action: { errno: 'EPERM' }, args: [{ index: 0, op: 'masked-eq', mask, value, width }] }] });
      for (const arch of ARCHES) {
        const nr = TABLES[arch].clone;
        for (const a of [...EDGE, 0x10000011n, 0x1200000000n, 0x12ffffffffn, 0x80000001n, 0xf0000001n]) {
          assert.is(run(p, arch, nr!, [a]).ret, expectedRet(p, arch, AUDIT[arch], nr!, [a]), `${arch} 0x${a.toString(16)} & ${mask} == ${value} w${width}`);
        }
      }
    }
  }
});

test('several conditions in a rule are ANDed, rules are tried in order', () => {
  const p = policyOf({
    version: 1, description: 't', defaultAction: { errno: 'ENOSYS' },
    rules: [
      { syscalls: ['mmap'], action: { errno: 'EACCES' }, args: [{ index: 2, op: 'masked-eq', mask: 'PROT_EXEC|PROT_WRITE', value: 'PROT_EXEC|PROT_WRITE' }, { index: 3, op: 'ne', value: 0 }] },
      { syscalls: ['mmap'], action: 'log', args: [{ index: 0, op: 'ge', value: '0x100000000' }] },
      { syscalls: ['mmap'], action: 'allow' },
    ],
  });
  for (const arch of ARCHES) {
    const nr = TABLES[arch].mmap;
    for (const a0 of [0n, 0x100000000n]) for (const a2 of [0n, 2n, 4n, 6n, 7n]) for (const a3 of [0n, 1n, 0x100000000n]) {
      const args = [a0, 0n, a2, a3];
      assert.is(run(p, arch, nr!, args).ret, expectedRet(p, arch, AUDIT[arch], nr!, args), `${arch} ${args}`);
    }
  }
});

test('an early rule with the fallback action still wins over a later matching rule', () => {
  const p = policyOf({
    version: 1, description: 't', defaultAction: 'allow',
    rules: [
      { syscalls: ['kill'], action: 'allow', args: [{ index: 1, op: 'eq', value: 0 }] },
      { syscalls: ['kill'], action: { errno: 'EPERM' }, args: [{ index: 0, op: 'eq', value: 1 }] },
      { syscalls: ['kill'], action: 'allow', args: [{ index: 0, op: 'eq', value: 2 }] },
    ],
  });
  for (const arch of ARCHES) {
    const nr = TABLES[arch].kill;
    for (const args of [[1n, 0n], [1n, 9n], [2n, 9n], [3n, 0n]]) {
      assert.is(run(p, arch, nr!, args).ret, expectedRet(p, arch, AUDIT[arch], nr!, args), `${arch} ${args}`);
    }
    assert.is(run(p, arch, nr!, [1n, 0n]).ret, ALLOW);
    assert.is(decide(p, arch).find((d) => d.name === 'kill')!.conditional.length, 2, 'the trailing allow rule is dropped');
  }
});

test('rules after an unconditional rule for a syscall are reported as shadowed and cost nothing', () => {
  const p = policyOf({
    version: 1, description: 't', defaultAction: 'allow',
    rules: [{ syscalls: ['read'], action: { errno: 'EPERM' } }, { syscalls: ['read'], action: 'allow', args: [{ index: 0, op: 'eq', value: 0 }] }],
  });
  const d = decide(p, 'x86_64').find((x) => x.name === 'read')!;
  assert.is(d.conditional.length, 0);
  assert.is(d.shadowed.length, 1);
  assert.is(run(p, 'x86_64', 0, [0n]).ret, errnoRet(1));
});

test('jumps farther than 255 instructions go through long jumps and still decide correctly', () => {
  // Many syscalls with argument checks push the shared returns far from the search tree.
  const names = ['read', 'write', 'close', 'lseek', 'mmap', 'mprotect', 'munmap', 'brk', 'ioctl', 'pread64', 'pwrite64', 'readv', 'writev', 'madvise', 'dup', 'dup3',
    'getpid', 'socket', 'connect', 'accept', 'sendto', 'recvfrom', 'sendmsg', 'recvmsg', 'shutdown', 'bind', 'listen', 'clone', 'execve', 'exit', 'wait4', 'kill'];
  const rules: unknown[] = [];
  for (const name of names) {
    for (let i = 0; i < 4; i++) rules.push({ syscalls: [name], action: { errno: 'EPERM' }, args: [{ index: i % 6, op: 'gt', value: `0x${(0x100000000 * (i + 1) + 7).toString(16)}` }] });
    rules.push({ syscalls: [name], action: 'allow' });
  }
  const p = policyOf({ version: 1, description: 't', defaultAction: { errno: 'ENOSYS' }, rules });
  for (const arch of ARCHES) {
    const { program } = compile(p, arch);
    checkFilter(program);
    assert.ok(program.length > 600, `program is ${program.length} long`);
    assert.ok(program.some((i) => i.code === (BPF_JMP | BPF_JA)), 'a long jump was needed');
    for (const name of names) {
      const nr = TABLES[arch][name];
      for (const args of [[] as bigint[], [0x500000000n], [0n, 0n, 0x300000008n], [0n, 0n, 0n, 0x400000008n], [0n, 0x200000008n], [0n, 0x200000007n]]) {
        assert.is(run(p, arch, nr!, args).ret, expectedRet(p, arch, AUDIT[arch], nr!, args), `${arch} ${name} ${args}`);
      }
    }
    assert.equal(decode(encode(program)), program);
  }
});

test('a program over 4096 instructions is refused with a clear error', () => {
  const rules: unknown[] = [];
  for (let i = 0; i < 1100; i++) rules.push({ syscalls: ['ioctl'], action: { errno: 'EPERM' }, args: [{ index: 1, op: 'eq', value: 0x1000 + i }] });
  const p = policyOf({ version: 1, description: 't', defaultAction: 'allow', rules });
  try {
    compile(p, 'x86_64');
    assert.unreachable('compiled');
  } catch (e) {
    assert.instance(e, PolicyError);
    assert.match((e as Error).message, /compiles to \d+ instructions for x86_64; the kernel accepts at most 4096/);
    assert.is((e as PolicyError).exitCode, 125);
  }
});

test('a syscall named only on the other architecture is simply absent', () => {
  const p = policyOf({ version: 1, description: 't', defaultAction: { errno: 'ENOSYS' }, rules: [{ syscalls: ['open', 'openat'], action: 'allow' }] });
  assert.is(run(p, 'aarch64', TABLES.aarch64.openat!).ret, ALLOW);
  assert.is(run(p, 'x86_64', TABLES.x86_64.open!).ret, ALLOW);
});

test('rules testing the same argument word in a row load it once', () => {
  const p = policyOf({
    version: 1, description: 't', defaultAction: 'allow',
    rules: [
      { syscalls: ['personality'], action: 'allow', args: [{ index: 0, op: 'eq', value: 0, width: 32 }] },
      { syscalls: ['personality'], action: 'allow', args: [{ index: 0, op: 'eq', value: 8, width: 32 }] },
      { syscalls: ['personality'], action: 'allow', args: [{ index: 0, op: 'eq', value: 0x20000, width: 32 }] },
      { syscalls: ['personality'], action: { errno: 'EPERM' } },
    ],
  });
  const { program } = compile(p, 'x86_64');
  checkFilter(program);
  const loadsOfArg0 = program.filter((i) => i.code === 0x20 && i.k === 16).length;
  assert.is(loadsOfArg0, 1);
  for (const [v, want] of [[0n, ALLOW], [8n, ALLOW], [0x20000n, ALLOW], [1n, errnoRet(1)]] as const) {
    assert.is(runFilter(program, { nr: 135, arch: AUDIT.x86_64, args: [v] }).ret, want, `personality(${v})`);
  }
});

test('longestPath bounds every run, and an argument block sits higher in the search than a bare return', () => {
  const p = policyOf({
    version: 1, description: 't', defaultAction: { errno: 'ENOSYS' },
    rules: [
      { syscalls: ['socket'], action: 'allow', args: [{ index: 0, op: 'eq', value: 1, width: 64 }] },
      { syscalls: ['socket'], action: 'allow', args: [{ index: 0, op: 'eq', value: 2, width: 64 }] },
      { syscalls: ['read', 'write', 'close', 'getpid', 'mmap', 'futex', 'ioctl', 'openat', 'kill', 'uname'], action: 'allow' },
    ],
  });
  const { program } = compile(p, 'x86_64');
  const bound = longestPath(program);
  let seen = 0;
  for (const nr of Object.values(TABLES.x86_64)) {
    for (const args of [[], [1n], [2n], [3n], [1n << 32n | 1n]]) seen = Math.max(seen, runFilter(program, { nr, arch: AUDIT.x86_64, args }).steps);
  }
  assert.ok(seen <= bound, `ran ${seen} > bound ${bound}`);
  // socket's block is 5 instructions deep: a plain balanced tree would put it at full depth.
  const socketPath = runFilter(program, { nr: TABLES.x86_64.socket!, arch: AUDIT.x86_64, args: [3n] }).steps;
  assert.ok(socketPath === bound, `socket ${socketPath}, bound ${bound}`);
  // ld arch, jeq, ld nr, at most 2 compares (a balanced tree over these ~20 ranges needs 5), then socket's 9.
  assert.ok(bound <= 3 + 2 + 9, `worst case ${bound}`);
});

test.run();
