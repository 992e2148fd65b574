// An independent, direct evaluation of a policy (no BPF): the oracle the compiled programs are
// checked against. Deliberately written from the format's definition, not from the compiler.
import type { ResolvedPolicy } from '../../policies/seccomp/load.js';
import type { Action, ArgCondition } from '../../policies/seccomp/policy.js';
import { X86_64_SYSCALLS } from '../../policies/seccomp/tables/x86_64.js';
import { AARCH64_SYSCALLS } from '../../policies/seccomp/tables/aarch64.js';

export type Arch = 'x86_64' | 'aarch64';
export const AUDIT = { x86_64: 0xc000003e, aarch64: 0xc00000b7 } as const;
export const TABLES = { x86_64: X86_64_SYSCALLS, aarch64: AARCH64_SYSCALLS } as const;

export const KILL_PROCESS = 0x80000000;
export const ALLOW = 0x7fff0000;
export const errnoRet = (e: number): number => (0x00050000 | e) >>> 0;

export function retOf(a: Action): number {
  switch (a.kind) {
    case 'allow': return ALLOW;
    case 'errno': return errnoRet(a.errno);
    case 'kill-process': return KILL_PROCESS;
    case 'kill-thread': return 0;
    case 'trap': return 0x00030000;
    case 'log': return 0x7ffc0000;
    case 'notify': return 0x7fc00000;
  }
}

export function holds(c: ArgCondition, arg: bigint): boolean {
  let a = BigInt.asUintN(64, arg);
  if (c.width === 32) a &= 0xffffffffn;
  switch (c.op) {
    case 'eq': return a === c.value;
    case 'ne': return a !== c.value;
    case 'lt': return a < c.value;
    case 'le': return a <= c.value;
    case 'gt': return a > c.value;
    case 'ge': return a >= c.value;
    case 'masked-eq': return (a & (c.mask as bigint)) === c.value;
  }
}

export function nameOf(arch: Arch, nr: number): string | undefined {
  for (const [n, v] of Object.entries(TABLES[arch])) if (v === nr) return n;
  return undefined;
}

/** The action the policy's definition gives: first matching rule, else the default. */
export function expectedRet(policy: ResolvedPolicy, arch: Arch, auditArch: number, nr: number, args: readonly bigint[]): number {
  if (auditArch !== AUDIT[arch]) return KILL_PROCESS;
  if (arch === 'x86_64' && nr >>> 0 >= 0x40000000) return KILL_PROCESS;
  const name = nameOf(arch, nr);
  if (name === undefined) return retOf(policy.defaultAction);
  for (const rule of policy.rules) {
    if (!rule.syscalls.includes(name)) continue;
    if (rule.args.every((c) => holds(c, args[c.index] ?? 0n))) return retOf(rule.action);
  }
  return retOf(policy.defaultAction);
}

/** Syscall numbers worth trying: every table entry, the gaps, and the edges of the number space. */
export function syscallNumbers(arch: Arch): number[] {
  const max = Math.max(...Object.values(TABLES[arch]));
  const nrs: number[] = [];
  for (let n = 0; n <= max + 64; n++) nrs.push(n);
  nrs.push(0x3fffffff, 0x40000000, 0x40000001, 0x40000000 + 16, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff);
  return nrs;
}
