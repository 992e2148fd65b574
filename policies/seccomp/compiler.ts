// Policy -> classic BPF. Layout of every program:
//
//   arch check        foreign architecture: kill-process
//   search tree       binary search over ranges of syscall numbers that share a decision, shaped
//                     for the shortest worst case, then for hot syscalls (searchSplits); on
//                     x86_64 one range is nr >= 0x40000000 (x32 ABI, negative numbers): kill-process
//   argument blocks   one per syscall whose rules test arguments
//   returns           one `ret` per distinct action, shared by every path that ends there
//
// All jumps go forward; the assembler inserts long jumps where a target is > 255 away.
import {
  BPF_LD, BPF_W, BPF_ABS, BPF_JMP, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_K, BPF_ALU, BPF_AND, BPF_MAXINSNS,
  SECCOMP_DATA_NR, SECCOMP_DATA_ARCH, argOffset,
  SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG, SECCOMP_RET_TRAP, SECCOMP_RET_USER_NOTIF,
  type Insn,
} from './bpf.js';
import { assemble, type Node } from './assembler.js';
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT } from './constants.js';
import { X86_64_SYSCALLS } from './tables/x86_64.js';
import { AARCH64_SYSCALLS } from './tables/aarch64.js';
import type { Action, ArgCondition, Rule } from './policy.js';
import type { ResolvedPolicy } from './load.js';
import { PolicyError } from './errors.js';
import { hostArch as baseHostArch, type Arch } from './arch.js';
import { decodeAction, formatAction } from './interpreter.js';
import { knownErrnoName as errnoName } from './errno.js';

export type { Arch };
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
  const arch = baseHostArch();
  if (arch) return arch;
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
    case 'notify': return SECCOMP_RET_USER_NOTIF;
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
    while (conditional.length && actionValue(conditional[conditional.length - 1]!.action) === actionValue(fallback)) conditional.pop();
    out.push({ name, nr, conditional, fallback, fallbackRule, shadowed: cut >= 0 ? rules.slice(cut + 1) : [] });
  }
  return out.sort((a, b) => a.nr - b.nr);
}

interface Range {
  start: number;
  /** A return label (act_*) or an argument block label (sys_*). */
  target: string;
  /** Instructions from reaching the target to the return (1 for a bare return). */
  cost: number;
  /** How often programs make these syscalls (0: rarely). */
  heat: number;
}

/**
 * Syscalls that dominate typical programs (I/O, memory, locks, polling, signals): among search
 * trees with the same worst case, the one where these decide soonest is chosen.
 */
const HOT = new Set(['read', 'write', 'readv', 'writev', 'pread64', 'pwrite64', 'close', 'fstat', 'newfstatat', 'statx', 'lseek',
  'mmap', 'munmap', 'mprotect', 'madvise', 'brk', 'futex', 'openat', 'poll', 'ppoll', 'epoll_wait', 'epoll_pwait', 'epoll_ctl',
  'rt_sigprocmask', 'rt_sigaction', 'getpid', 'gettid', 'clock_gettime', 'clock_nanosleep', 'sched_yield',
  'recvfrom', 'sendto', 'recvmsg', 'sendmsg', 'getdents64', 'fcntl', 'ioctl', 'getrandom']);

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
  const push = (start: number, target: string, cost: number, heat: number): void => {
    const last = ranges[ranges.length - 1];
    if (last && last.target === target) { last.heat += heat; return; }
    ranges.push({ start, target, cost, heat });
  };
  let next = 0;
  for (const d of decisions) {
    if (d.nr >= info.nrLimit) continue;
    if (d.nr > next) push(next, actLabel(defaultRet), 1, 0);
    const heat = HOT.has(d.name) ? 1 : 0;
    if (d.conditional.length) {
      const label = `sys_${d.name}`;
      const block = argumentBlock(label, d, rets);
      push(d.nr, label, longestFrom(block, label), heat);
      blocks.push(...block);
    } else {
      const ret = actionValue(d.fallback);
      rets.add(ret);
      push(d.nr, actLabel(ret), 1, heat);
    }
    next = d.nr + 1;
  }
  if (next < info.nrLimit) push(next, actLabel(defaultRet), 1, 0);
  // x32 (and negative numbers, as unsigned) are one more range of the search, killed: the
  // search places it where it costs the hot syscalls nothing.
  if (info.nrLimit < 2 ** 32) push(info.nrLimit, actLabel(SECCOMP_RET_KILL_PROCESS), 1, 0);

  const kill = actLabel(SECCOMP_RET_KILL_PROCESS);
  nodes.push(
    { op: 'stmt', code: BPF_LD | BPF_W | BPF_ABS, k: SECCOMP_DATA_ARCH },
    { op: 'jcond', code: BPF_JMP | BPF_JEQ | BPF_K, k: info.auditArch, jf: kill },
    { op: 'stmt', code: BPF_LD | BPF_W | BPF_ABS, k: SECCOMP_DATA_NR },
  );
  let tree = 0;
  const split = searchSplits(ranges);
  const emitTree = (lo: number, hi: number): string => {
    if (hi - lo === 1) return ranges[lo]!.target;
    const mid = split(lo, hi);
    const label = `search_${tree++}`;
    const node: Node = { op: 'jcond', code: BPF_JMP | BPF_JGE | BPF_K, k: ranges[mid]!.start };
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
      file: policy.chain[0]!,
      path: '$.rules',
      message: `compiles to ${program.length} instructions for ${arch}; the kernel accepts at most ${BPF_MAXINSNS}`,
      hint: 'use fewer argument conditions, or fold values into masked-eq tests',
    }]);
  }
  return { program, labels, decisions };
}

/**
 * The search tree's shape: for every span of ranges, where to split it. First the smallest
 * possible worst case (compares on the way down plus what the leaf runs: an argument block is
 * longer than a return, so it sits higher), by dynamic programming over spans; then, within
 * that bound, the tree where hot syscalls pass the fewest compares (the same programming with
 * the remaining budget as a third index, for up to MAX_TUNED ranges; bigger programs keep the
 * minimal worst case alone).
 */
const MAX_TUNED = 160;
function searchSplits(ranges: readonly Range[]): (lo: number, hi: number) => number {
  const n = ranges.length;
  const N = n + 1;
  const idx = (lo: number, hi: number): number => lo * N + hi;
  const worst = new Int32Array(N * N);
  const minimaxSplit = new Int32Array(N * N);
  for (let i = 0; i < n; i++) worst[idx(i, i + 1)] = ranges[i]!.cost;
  for (let len = 2; len <= n; len++) {
    for (let lo = 0; lo + len <= n; lo++) {
      const hi = lo + len;
      let bw = Infinity, bm = (lo + hi) >>> 1;
      for (let m = lo + 1; m < hi; m++) {
        const w = 1 + Math.max(worst[idx(lo, m)]!, worst[idx(m, hi)]!);
        if (w < bw) { bw = w; bm = m; }
      }
      worst[idx(lo, hi)] = bw;
      minimaxSplit[idx(lo, hi)] = bm;
    }
  }
  const heat = new Float64Array(N);
  for (let i = 0; i < n; i++) heat[i + 1] = heat[i]! + ranges[i]!.heat;
  if (n < 2 || n > MAX_TUNED || heat[n] === 0) return (lo, hi) => minimaxSplit[idx(lo, hi)]!;

  // cost[(lo,hi)][b]: the least compares hot syscalls pay in a span whose paths all fit in b.
  const B = worst[idx(0, n)]!;
  const cost = new Float64Array(N * N * (B + 1)).fill(Infinity);
  const split = new Int32Array(N * N * (B + 1));
  const at = (lo: number, hi: number, b: number): number => idx(lo, hi) * (B + 1) + b;
  for (let i = 0; i < n; i++) for (let b = ranges[i]!.cost; b <= B; b++) cost[at(i, i + 1, b)] = 0;
  for (let len = 2; len <= n; len++) {
    for (let lo = 0; lo + len <= n; lo++) {
      const hi = lo + len;
      for (let b = worst[idx(lo, hi)]!; b <= B; b++) {
        let bc = Infinity, bm = minimaxSplit[idx(lo, hi)]!;
        for (let m = lo + 1; m < hi; m++) {
          const c = cost[at(lo, m, b - 1)]! + cost[at(m, hi, b - 1)]!;
          if (c < bc) { bc = c; bm = m; }
        }
        cost[at(lo, hi, b)] = bc + heat[hi]! - heat[lo]!;
        split[at(lo, hi, b)] = bm;
      }
    }
  }
  // Budgets follow the path down: a split taken with budget b leaves b - 1 to both halves.
  const budget = new Map<number, number>([[idx(0, n), B]]);
  return (lo, hi) => {
    const b = budget.get(idx(lo, hi)) ?? worst[idx(lo, hi)]!;
    const m = split[at(lo, hi, b)]!;
    budget.set(idx(lo, m), b - 1);
    budget.set(idx(m, hi), b - 1);
    return m;
  };
}

/** The most instructions any path runs from `label` in `nodes` to a return outside them (counted as 1). */
function longestFrom(nodes: readonly Node[], label: string): number {
  const at = new Map<string, number>();
  nodes.forEach((n, i) => { if (n.op === 'label') at.set(n.name, i); });
  const memo = new Map<number, number>();
  const from = (i: number): number => {
    if (i >= nodes.length) return 1;
    const cached = memo.get(i);
    if (cached !== undefined) return cached;
    const n = nodes[i]!;
    const go = (name: string | undefined): number => (name === undefined ? from(i + 1) : at.has(name) ? from(at.get(name)!) : 1);
    let r: number;
    switch (n.op) {
      case 'label': r = from(i + 1); break;
      case 'stmt': r = 1 + from(i + 1); break;
      case 'ret': r = 1; break;
      case 'ja': r = 1 + go(n.target); break;
      case 'jcond': r = 1 + Math.max(go(n.jt), go(n.jf)); break;
    }
    memo.set(i, r);
    return r;
  };
  return from(at.get(label) ?? 0);
}

/**
 * Rules are tried in order; within a rule every condition must hold. A failing condition jumps
 * to the next rule; when none matches, the syscall gets its fallback action.
 *
 * Consecutive rules that begin with the same 32-bit `eq` (socket's AF_INET rules, each then
 * testing a type) form a group whose shared test runs once: when it fails the whole group is
 * skipped; when it holds and every rule of the group fails, the argument is known to equal that
 * value, so the following groups testing the same argument for another value are skipped too.
 * A group test on the word the previous group test loaded does not load it again (personality's
 * values, socket's families: one load, then one compare each).
 */
interface Group { rules: Rule[]; head: ArgCondition | null }
const isHead = (c: ArgCondition | undefined): c is ArgCondition => !!c && c.op === 'eq' && c.width === 32;

function argumentBlock(label: string, d: SyscallDecision, rets: Set<number>): Node[] {
  const rules = d.conditional;
  const fallbackRet = actionValue(d.fallback);
  rets.add(fallbackRet);
  const fallback = actLabel(fallbackRet);
  const sameTest = (a: ArgCondition, b: ArgCondition): boolean => a.index === b.index && a.value === b.value && isHead(a) && isHead(b);
  const groups: Group[] = [];
  for (let i = 0; i < rules.length;) {
    const c0 = rules[i]!.args[0];
    let e = i + 1;
    if (isHead(c0)) while (e < rules.length && sameTest(rules[e]!.args[0]!, c0)) e++;
    let members = rules.slice(i, e);
    // A member needing nothing beyond the group test always matches: what follows it never
    // runs, and members just before it with the same action decide nothing it would not.
    const always = members.findIndex((r) => r.args.length === 1);
    if (isHead(c0) && always >= 0) {
      members = members.slice(0, always + 1);
      const act = actionValue(members[always]!.action);
      let k = always;
      while (k > 0 && actionValue(members[k - 1]!.action) === act) k--;
      members = [...members.slice(0, k), members[always]!];
    }
    groups.push({ rules: members, head: isHead(c0) ? c0 : null });
    i = e;
  }
  // Consecutive group tests of one argument word for distinct values exclude each other, so
  // their order is free: the groups with the longest bodies go first, where reaching them
  // costs the fewest compares (socket: AF_INET's type tests before AF_UNIX's bare allow).
  const { bodies } = emitGroups(label, groups, fallback, rets);
  const cost = bodies.map((b, n) => (groups[n]!.head ? longestFrom(b, `${label}_g${n}`) : 0));
  const ordered: Group[] = [];
  for (let a = 0; a < groups.length;) {
    let b = a + 1;
    const h = groups[a]!.head;
    const values = new Set(h ? [h.value] : []);
    while (h && b < groups.length && groups[b]!.head?.index === h.index && !values.has(groups[b]!.head!.value)) values.add(groups[b++]!.head!.value);
    ordered.push(...groups.slice(a, b).map((g, k) => ({ g, c: cost[a + k]! })).sort((x, y) => y.c - x.c).map((x) => x.g));
    a = b;
  }
  return emitGroups(label, ordered, fallback, rets).out;
}

function emitGroups(label: string, groups: Group[], fallback: string, rets: Set<number>): { out: Node[]; bodies: Node[][] } {
  // Entry points: `_gN_ld` loads what group N tests first; `_gN` (group tests only) expects the
  // word already loaded.
  const loadEntry = (n: number): string => (n < groups.length ? `${label}_g${n}_ld` : fallback);
  const used = new Set<string>([loadEntry(0)]);
  const afterHeadFails = (n: number): string => {
    if (n + 1 >= groups.length) return fallback;
    const next = groups[n + 1]!.head;
    if (next && groups[n]!.head && next.index === groups[n]!.head!.index) return `${label}_g${n + 1}`;
    used.add(loadEntry(n + 1));
    return loadEntry(n + 1);
  };
  const afterGroupExhausted = (n: number): string => {
    const h = groups[n]!.head!;
    let k = n + 1;
    while (k < groups.length && groups[k]!.head && groups[k]!.head!.index === h.index && groups[k]!.head!.value !== h.value) k++;
    used.add(loadEntry(k));
    return loadEntry(k);
  };
  const bodies: Node[][] = groups.map((g, n) => {
    const out: Node[] = [];
    if (!g.head) {
      const rule = g.rules[0]!;
      const ret = actionValue(rule.action);
      rets.add(ret);
      const fail = n + 1 < groups.length ? loadEntry(n + 1) : fallback;
      if (fail !== fallback) used.add(fail);
      rule.args.forEach((cond, j) => {
        out.push(...condition(cond, j + 1 < rule.args.length ? undefined : actLabel(ret), fail, `${label}_g${n}_arg${j}_end`));
      });
      return out;
    }
    const first = g.rules[0]!;
    const firstRet = actionValue(first.action);
    rets.add(firstRet);
    out.push({ op: 'label', name: `${label}_g${n}` });
    // The group's first rule needing nothing more decides at once (later ones could never match).
    if (first.args.length === 1) {
      out.push(j(BPF_JEQ, Number(g.head.value & 0xffffffffn), actLabel(firstRet), afterHeadFails(n)));
      return out;
    }
    out.push(j(BPF_JEQ, Number(g.head.value & 0xffffffffn), undefined, afterHeadFails(n)));
    const exhausted = afterGroupExhausted(n);
    // Member r is reached only when member r - 1 failed: if that was one one-word test, its word
    // is still loaded (socket's type tests: one load and mask, then one compare each).
    let held: string | null = null;
    for (let r = 0; r < g.rules.length; r++) {
      const rule = g.rules[r]!;
      const ret = actionValue(rule.action);
      rets.add(ret);
      const rest = rule.args.slice(1);
      if (r > 0) out.push({ op: 'label', name: `${label}_g${n}_r${r}` });
      if (rest.length === 0) { out.push({ op: 'ja', target: actLabel(ret) }); break; }
      const fail = r + 1 < g.rules.length ? `${label}_g${n}_r${r + 1}` : exhausted;
      rest.forEach((cond, k) => {
        out.push(...condition(cond, k + 1 < rest.length ? undefined : actLabel(ret), fail, `${label}_g${n}_r${r}_arg${k}_end`, k === 0 ? held : null));
      });
      held = rest.length === 1 ? heldAfter(rest[0]!) : null;
    }
    return out;
  });
  const out: Node[] = [{ op: 'label', name: label }];
  groups.forEach((g, n) => {
    const entry = loadEntry(n);
    out.push({ op: 'label', name: entry });
    // Group 0 is entered from the search; a later group's load runs only if something jumps to it.
    if (g.head && (n === 0 || used.has(entry))) out.push(ld(argOffset(g.head.index, 'lo')));
    out.push(...bodies[n]!);
  });
  return { out, bodies };
}

/** The accumulator after a one-word condition ('w<offset>' or 'w<offset>&<mask>'); null for a two-word one. */
function heldAfter(c: ArgCondition): string | null {
  const off = argOffset(c.index, 'lo');
  if (c.op === 'masked-eq') {
    const mask = c.mask ?? 0n;
    if (c.width === 64 && mask >> 32n !== 0n) return null;
    return `w${off}&${Number(mask & 0xffffffffn)}`;
  }
  return c.width === 64 ? null : `w${off}`;
}

const ld = (k: number): Node => ({ op: 'stmt', code: BPF_LD | BPF_W | BPF_ABS, k });
const and = (k: number): Node => ({ op: 'stmt', code: BPF_ALU | BPF_AND | BPF_K, k });
const j = (op: number, k: number, jt: string | undefined, jf: string | undefined): Node => ({ op: 'jcond', code: BPF_JMP | op | BPF_K, k, jt, jf });

/**
 * Code for one condition: jumps to `match` (undefined: fall through to what follows) when it
 * holds, to `fail` otherwise. 64-bit comparisons decide on the high word and look at the low
 * word only when the high words are equal; 32-bit ones look at the low word alone.
 */
export function condition(c: ArgCondition, match: string | undefined, fail: string, endLabel: string, held: string | null = null): Node[] {
  // The accumulator already holds what this one-word condition would load (see heldAfter).
  const reuse = held !== null && heldAfter(c) === held;
  const hi = Number(c.value >> 32n);
  const lo = Number(c.value & 0xffffffffn);
  const lowOff = argOffset(c.index, 'lo');
  const highOff = argOffset(c.index, 'hi');
  const wide = c.width === 64;
  const out: Node[] = [];
  // `low` is the final comparison on the low word with its true/false targets.
  const low = (op: number, t: string | undefined, f: string | undefined): void => {
    if (!reuse) out.push(ld(lowOff));
    out.push(j(op, lo, t, f));
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
      if (!reuse) out.push(ld(lowOff), and(mlo));
      out.push(j(BPF_JEQ, lo, match, fail));
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
