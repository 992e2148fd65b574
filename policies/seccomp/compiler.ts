// Policy -> classic BPF. Layout of every program:
//
//   arch check        foreign architecture: kill-process
//   x32 check         x86_64 only: nr >= 0x40000000 (x32 ABI, and negative numbers): kill-process
//   search tree       balanced binary search over ranges of syscall numbers that share a decision
//   argument blocks   one per syscall whose rules test arguments
//   returns           one `ret` per distinct action, shared by every path that ends there
//
// All jumps go forward; the assembler inserts long jumps where a target is > 255 away.
import {
  BPF_LD, BPF_W, BPF_ABS, BPF_JMP, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_K, BPF_ALU, BPF_AND, BPF_MAXINSNS,
  SECCOMP_DATA_NR, SECCOMP_DATA_ARCH, argOffset,
  SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG, SECCOMP_RET_TRAP,
  type Insn,
} from './bpf.js';
import { assemble, type Node } from './assembler.js';
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT } from './constants.js';
import { X86_64_SYSCALLS } from './tables/x86_64.js';
import { AARCH64_SYSCALLS } from './tables/aarch64.js';
import type { Action, ArgCondition, Rule } from './policy.js';
import type { ResolvedPolicy } from './load.js';
import { PolicyError } from './errors.js';
import { decodeAction, formatAction } from './interpreter.js';
import { errnoName } from './errno-names.js';

export type Arch = 'x86_64' | 'aarch64';
export const ARCHES: readonly Arch[] = ['x86_64', 'aarch64'];

export interface ArchInfo {
  auditArch: number;
  syscalls: Readonly<Record<string, number>>;
  /** Syscall numbers at or above this are killed before the search (x32 on x86_64). */
  nrLimit: number;
}

export const ARCH_INFO: Readonly<Record<Arch, ArchInfo>> = {
  x86_64: { auditArch: AUDIT_ARCH_X86_64, syscalls: X86_64_SYSCALLS, nrLimit: X32_SYSCALL_BIT },
  aarch64: { auditArch: AUDIT_ARCH_AARCH64, syscalls: AARCH64_SYSCALLS, nrLimit: 2 ** 32 },
};

export function hostArch(): Arch {
  if (process.arch === 'x64') return 'x86_64';
  if (process.arch === 'arm64') return 'aarch64';
  throw new PolicyError([{ file: 'host', path: '', message: `seccomp policies support x86_64 and aarch64, not ${process.arch}` }]);
}

export function actionValue(a: Action): number {
  switch (a.kind) {
    case 'allow': return SECCOMP_RET_ALLOW;
    case 'errno': return (SECCOMP_RET_ERRNO | (a.errno & 0xffff)) >>> 0;
    case 'kill-process': return SECCOMP_RET_KILL_PROCESS;
    case 'kill-thread': return SECCOMP_RET_KILL_THREAD;
    case 'trap': return SECCOMP_RET_TRAP;
    case 'log': return SECCOMP_RET_LOG;
  }
}

/** How one syscall is decided on one architecture. */
export interface SyscallDecision {
  name: string;
  nr: number;
  /** Rules that test arguments, tried in order before `fallback`. */
  conditional: Rule[];
  /** The action when no conditional rule matches: the first unconditional rule's, or the default. */
  fallback: Action;
  /** The rule giving `fallback`, if any (undefined: the policy's default action). */
  fallbackRule?: Rule;
  /** Rules for this syscall that can never match because an unconditional rule comes first. */
  shadowed: Rule[];
}

export function decide(policy: ResolvedPolicy, arch: Arch): SyscallDecision[] {
  const table = ARCH_INFO[arch].syscalls;
  const byName = new Map<string, Rule[]>();
  for (const rule of policy.rules) {
    for (const s of rule.syscalls) {
      if (!(s in table)) continue; // named for another architecture
      let list = byName.get(s);
      if (!list) byName.set(s, (list = []));
      list.push(rule);
    }
  }
  const out: SyscallDecision[] = [];
  for (const [name, nr] of Object.entries(table)) {
    const rules = byName.get(name) ?? [];
    const cut = rules.findIndex((r) => r.args.length === 0);
    const fallbackRule = cut >= 0 ? rules[cut] : undefined;
    const fallback = fallbackRule?.action ?? policy.defaultAction;
    // Trailing conditional rules with the fallback's action change nothing and cost
    // instructions. Earlier ones must stay: they win over later rules that also match.
    const conditional = cut >= 0 ? rules.slice(0, cut) : [...rules];
    while (conditional.length && actionValue(conditional[conditional.length - 1].action) === actionValue(fallback)) conditional.pop();
    out.push({ name, nr, conditional, fallback, fallbackRule, shadowed: cut >= 0 ? rules.slice(cut + 1) : [] });
  }
  return out.sort((a, b) => a.nr - b.nr);
}

interface Range {
  start: number;
  /** A return label (act_*) or an argument block label (sys_*). */
  target: string;
}

/** Return labels read as what they do: ret_allow, ret_errno_EPERM, ret_kill_process. */
const actLabel = (ret: number): string => `ret_${formatAction(decodeAction(ret), errnoName).replace(/[ -]/g, '_')}`;

export interface CompiledProgram {
  program: Insn[];
  labels: Map<number, string>;
  decisions: SyscallDecision[];
}

export function compile(policy: ResolvedPolicy, arch: Arch): CompiledProgram {
  const info = ARCH_INFO[arch];
  const decisions = decide(policy, arch);
  const defaultRet = actionValue(policy.defaultAction);
  const rets = new Set<number>([SECCOMP_RET_KILL_PROCESS, defaultRet]);
  const nodes: Node[] = [];
  const blocks: Node[] = [];

  // Contiguous syscall numbers with the same outcome share one range of the search.
  const ranges: Range[] = [];
  const push = (start: number, target: string): void => {
    if (ranges.length && ranges[ranges.length - 1].target === target) return;
    ranges.push({ start, target });
  };
  let next = 0;
  for (const d of decisions) {
    if (d.nr >= info.nrLimit) continue;
    if (d.nr > next) push(next, actLabel(defaultRet));
    if (d.conditional.length) {
      const label = `sys_${d.name}`;
      push(d.nr, label);
      blocks.push(...argumentBlock(label, d, rets));
    } else {
      const ret = actionValue(d.fallback);
      rets.add(ret);
      push(d.nr, actLabel(ret));
    }
    next = d.nr + 1;
  }
  if (next < info.nrLimit) push(next, actLabel(defaultRet));

  const kill = actLabel(SECCOMP_RET_KILL_PROCESS);
  nodes.push(
    { op: 'stmt', code: BPF_LD | BPF_W | BPF_ABS, k: SECCOMP_DATA_ARCH },
    { op: 'jcond', code: BPF_JMP | BPF_JEQ | BPF_K, k: info.auditArch, jf: kill },
    { op: 'stmt', code: BPF_LD | BPF_W | BPF_ABS, k: SECCOMP_DATA_NR },
  );
  if (info.nrLimit < 2 ** 32) nodes.push({ op: 'jcond', code: BPF_JMP | BPF_JGE | BPF_K, k: info.nrLimit, jt: kill });
  let tree = 0;
  const emitTree = (lo: number, hi: number): string => {
    if (hi - lo === 1) return ranges[lo].target;
    const mid = (lo + hi) >>> 1;
    const label = `search_${tree++}`;
    const node: Node = { op: 'jcond', code: BPF_JMP | BPF_JGE | BPF_K, k: ranges[mid].start };
    nodes.push({ op: 'label', name: label }, node);
    node.jf = emitTree(lo, mid);
    node.jt = emitTree(mid, hi);
    // The lower half was emitted right after this jump: fall through instead of naming it.
    if (nodes[nodes.indexOf(node) + 1]?.op === 'label' && (nodes[nodes.indexOf(node) + 1] as { name: string }).name === node.jf) node.jf = undefined;
    return label;
  };
  const root = emitTree(0, ranges.length);
  if (ranges.length === 1) nodes.push({ op: 'ja', target: root });
  nodes.push(...blocks);
  for (const ret of [...rets].sort((a, b) => a - b)) nodes.push({ op: 'label', name: actLabel(ret) }, { op: 'ret', k: ret });

  const { program, labels } = assemble(nodes);
  if (program.length > BPF_MAXINSNS) {
    throw new PolicyError([{
      file: policy.chain[0],
      path: '$.rules',
      message: `compiles to ${program.length} instructions for ${arch}; the kernel accepts at most ${BPF_MAXINSNS}`,
      hint: 'use fewer argument conditions, or fold values into masked-eq tests',
    }]);
  }
  return { program, labels, decisions };
}

/**
 * Rules are tried in order; within a rule every condition must hold. A failing condition jumps
 * to the next rule; when none matches, the syscall gets its fallback action.
 */
function argumentBlock(label: string, d: SyscallDecision, rets: Set<number>): Node[] {
  const out: Node[] = [{ op: 'label', name: label }];
  const fallbackRet = actionValue(d.fallback);
  rets.add(fallbackRet);
  d.conditional.forEach((rule, i) => {
    const ret = actionValue(rule.action);
    rets.add(ret);
    const fail = i + 1 < d.conditional.length ? `${label}_rule${i + 1}` : actLabel(fallbackRet);
    if (i > 0) out.push({ op: 'label', name: `${label}_rule${i}` });
    rule.args.forEach((cond, j) => {
      const match = j + 1 < rule.args.length ? undefined : actLabel(ret);
      out.push(...condition(cond, match, fail, `${label}_rule${i}_arg${j}_end`));
    });
  });
  return out;
}

const ld = (k: number): Node => ({ op: 'stmt', code: BPF_LD | BPF_W | BPF_ABS, k });
const and = (k: number): Node => ({ op: 'stmt', code: BPF_ALU | BPF_AND | BPF_K, k });
const j = (op: number, k: number, jt: string | undefined, jf: string | undefined): Node => ({ op: 'jcond', code: BPF_JMP | op | BPF_K, k, jt, jf });

/**
 * Code for one condition: jumps to `match` (undefined: fall through to what follows) when it
 * holds, to `fail` otherwise. 64-bit comparisons decide on the high word and look at the low
 * word only when the high words are equal; 32-bit ones look at the low word alone.
 */
export function condition(c: ArgCondition, match: string | undefined, fail: string, endLabel: string): Node[] {
  const hi = Number(c.value >> 32n);
  const lo = Number(c.value & 0xffffffffn);
  const lowOff = argOffset(c.index, 'lo');
  const highOff = argOffset(c.index, 'hi');
  const wide = c.width === 64;
  const out: Node[] = [];
  // `low` is the final comparison on the low word with its true/false targets.
  const low = (op: number, t: string | undefined, f: string | undefined): void => {
    out.push(ld(lowOff), j(op, lo, t, f));
  };
  switch (c.op) {
    case 'eq':
      if (wide) out.push(ld(highOff), j(BPF_JEQ, hi, undefined, fail));
      low(BPF_JEQ, match, fail);
      break;
    case 'ne':
      if (wide) out.push(ld(highOff), j(BPF_JEQ, hi, undefined, match ?? '$next'));
      low(BPF_JEQ, fail, match);
      break;
    case 'masked-eq': {
      const mask = c.mask ?? 0n;
      const mhi = Number(mask >> 32n);
      const mlo = Number(mask & 0xffffffffn);
      // With a zero high mask the high word always matches (the value's high word is 0 too).
      if (wide && mhi !== 0) out.push(ld(highOff), and(mhi), j(BPF_JEQ, hi, undefined, fail));
      out.push(ld(lowOff), and(mlo), j(BPF_JEQ, lo, match, fail));
      break;
    }
    case 'gt':
    case 'ge':
      if (wide) out.push(ld(highOff), j(BPF_JGT, hi, match ?? '$next', undefined), j(BPF_JEQ, hi, undefined, fail));
      low(c.op === 'gt' ? BPF_JGT : BPF_JGE, match, fail);
      break;
    case 'lt':
    case 'le':
      // lt is "not ge", le is "not gt": same tests, targets swapped.
      if (wide) out.push(ld(highOff), j(BPF_JGT, hi, fail, undefined), j(BPF_JEQ, hi, undefined, match ?? '$next'));
      low(c.op === 'lt' ? BPF_JGE : BPF_JGT, fail, match);
      break;
  }
  return resolveNext(out, endLabel);
}

/**
 * A condition that succeeds early (on the high word) and is not the rule's last must jump past
 * its own remaining instructions; '$next' names that spot.
 */
function resolveNext(nodes: Node[], name: string): Node[] {
  if (!nodes.some((n) => n.op === 'jcond' && (n.jt === '$next' || n.jf === '$next'))) return nodes;
  for (const n of nodes) {
    if (n.op !== 'jcond') continue;
    if (n.jt === '$next') n.jt = name;
    if (n.jf === '$next') n.jf = name;
  }
  return [...nodes, { op: 'label', name }];
}
