// A classic-BPF interpreter with seccomp's rules, so tests can run a program (ours or
// libseccomp's) on any seccomp_data without a kernel. `checkFilter` mirrors what the kernel
// refuses at load time (bpf_check_classic + seccomp_check_filter); `runFilter` executes.
import {
  type Insn, BPF_MAXINSNS, BPF_MEMWORDS, SECCOMP_DATA_SIZE,
  BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_ALU, BPF_JMP, BPF_RET, BPF_MISC,
  BPF_W, BPF_ABS, BPF_IMM, BPF_MEM, BPF_LEN, BPF_K, BPF_X, BPF_A,
  BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_NEG, BPF_XOR,
  BPF_JA, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_TAX, BPF_TXA,
  bpfClass, bpfOp, bpfSrc,
  SECCOMP_RET_ACTION_FULL, SECCOMP_RET_DATA, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_TRAP, SECCOMP_RET_ERRNO, SECCOMP_RET_USER_NOTIF, SECCOMP_RET_TRACE, SECCOMP_RET_LOG, SECCOMP_RET_ALLOW,
} from './bpf.js';

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** Up to six 64-bit arguments; missing ones are 0. */
  args?: readonly bigint[];
}

export interface RunResult {
  /** The raw 32-bit value the program returned. */
  ret: number;
  /** How many instructions were executed, the return included. */
  steps: number;
}

const ALU_OPS = new Set([BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH]);
const JMP_OPS = new Set([BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET]);

/** Throws an Error naming the first instruction the kernel would refuse. */
export function checkFilter(program: readonly Insn[]): void {
  const n = program.length;
  if (n === 0) throw new Error('empty program');
  if (n > BPF_MAXINSNS) throw new Error(`${n} instructions: the kernel accepts at most ${BPF_MAXINSNS}`);
  // Bit i set = memory slot i is written on every path reaching this instruction.
  const stored = new Array<number>(n).fill(0xffff);
  stored[0] = 0;
  for (let pc = 0; pc < n; pc++) {
    const { code, jt, jf, k } = program[pc]!;
    const cls = bpfClass(code);
    const bad = (why: string): never => { throw new Error(`instruction ${pc} (code 0x${code.toString(16)}): ${why}`); };
    let mask = stored[pc]!;
    const flowTo = (target: number): void => {
      if (target >= n) bad(`jump to ${target} is past the end`);
      stored[target]! &= mask;
    };
    switch (cls) {
      case BPF_LD:
      case BPF_LDX: {
        if (code === (BPF_LD | BPF_W | BPF_ABS)) {
          if (k % 4 !== 0 || k >= SECCOMP_DATA_SIZE) bad(`load at offset ${k} is not an aligned word of seccomp_data`);
        } else if (code === (cls | BPF_W | BPF_LEN) || code === (cls | BPF_IMM)) {
          // fine
        } else if (code === (cls | BPF_MEM)) {
          if (k >= BPF_MEMWORDS) bad(`memory slot ${k} out of range`);
          if (!(mask & (1 << k))) bad(`memory slot ${k} read before it is written`);
        } else bad('load mode seccomp does not allow');
        break;
      }
      case BPF_ST:
      case BPF_STX:
        if (code !== cls) bad('bad store');
        if (k >= BPF_MEMWORDS) bad(`memory slot ${k} out of range`);
        mask |= 1 << k;
        break;
      case BPF_ALU: {
        const op = bpfOp(code);
        if (op === BPF_NEG) { if (code !== (BPF_ALU | BPF_NEG)) bad('bad neg'); break; }
        if (!ALU_OPS.has(op)) bad('ALU operation seccomp does not allow');
        if (bpfSrc(code) === BPF_K && op === BPF_DIV && k === 0) bad('division by constant zero');
        if ((code & ~0xf8) !== BPF_ALU) bad('bad ALU encoding');
        break;
      }
      case BPF_JMP: {
        const op = bpfOp(code);
        if (op === BPF_JA) {
          if (code !== (BPF_JMP | BPF_JA)) bad('bad ja');
          if (pc + 1 + k >= n || pc + 1 + k < pc + 1) bad(`ja +${k} is past the end`);
          flowTo(pc + 1 + k);
          continue;
        }
        if (!JMP_OPS.has(op)) bad('jump operation seccomp does not allow');
        flowTo(pc + 1 + jt);
        flowTo(pc + 1 + jf);
        continue;
      }
      case BPF_RET:
        if (code !== (BPF_RET | BPF_K) && code !== (BPF_RET | BPF_A)) bad('bad return');
        continue;
      case BPF_MISC:
        if (code !== (BPF_MISC | BPF_TAX) && code !== (BPF_MISC | BPF_TXA)) bad('bad misc');
        break;
    }
    if (pc + 1 < n) stored[pc + 1]! &= mask;
  }
  const last = program[n - 1]!.code;
  if (last !== (BPF_RET | BPF_K) && last !== (BPF_RET | BPF_A)) throw new Error('the last instruction is not a return');
}

/** Lays seccomp_data out as the 16 little-endian words the program loads from. */
export function dataWords(d: SeccompData): Uint32Array {
  const w = new Uint32Array(SECCOMP_DATA_SIZE / 4);
  w[0] = d.nr >>> 0;
  w[1] = d.arch >>> 0;
  const ip = BigInt.asUintN(64, d.instructionPointer ?? 0n);
  w[2] = Number(ip & 0xffffffffn);
  w[3] = Number(ip >> 32n);
  for (let i = 0; i < 6; i++) {
    const a = BigInt.asUintN(64, d.args?.[i] ?? 0n);
    w[4 + 2 * i] = Number(a & 0xffffffffn);
    w[5 + 2 * i] = Number(a >> 32n);
  }
  return w;
}

/** Runs a program that `checkFilter` accepted. */
export function runFilter(program: readonly Insn[], data: SeccompData | Uint32Array): RunResult {
  const words = data instanceof Uint32Array ? data : dataWords(data);
  const mem = new Uint32Array(BPF_MEMWORDS);
  let A = 0;
  let X = 0;
  let pc = 0;
  let steps = 0;
  for (;;) {
    if (pc >= program.length) throw new Error(`ran off the end at ${pc}`);
    const { code, jt, jf, k } = program[pc++]!;
    steps++;
    switch (bpfClass(code)) {
      case BPF_LD:
      case BPF_LDX: {
        let v: number;
        switch (code & 0xe0) {
          case BPF_ABS: v = words[k >>> 2]!; break;
          case BPF_LEN: v = SECCOMP_DATA_SIZE; break;
          case BPF_IMM: v = k; break;
          case BPF_MEM: v = mem[k]!; break;
          default: throw new Error(`unsupported load 0x${code.toString(16)}`);
        }
        if (bpfClass(code) === BPF_LD) A = v >>> 0; else X = v >>> 0;
        break;
      }
      case BPF_ST: mem[k] = A; break;
      case BPF_STX: mem[k] = X; break;
      case BPF_ALU: {
        const src = bpfSrc(code) === BPF_X ? X : k;
        switch (bpfOp(code)) {
          case BPF_ADD: A = (A + src) >>> 0; break;
          case BPF_SUB: A = (A - src) >>> 0; break;
          case BPF_MUL: A = Math.imul(A, src) >>> 0; break;
          case BPF_DIV:
            // The kernel ends the program with 0 (kill-thread) on a division by zero in X.
            if (src === 0) return { ret: 0, steps };
            A = Math.floor(A / src) >>> 0;
            break;
          case BPF_AND: A = (A & src) >>> 0; break;
          case BPF_OR: A = (A | src) >>> 0; break;
          case BPF_XOR: A = (A ^ src) >>> 0; break;
          case BPF_LSH: A = src >= 32 ? 0 : (A << src) >>> 0; break;
          case BPF_RSH: A = src >= 32 ? 0 : A >>> src; break;
          case BPF_NEG: A = (-A) >>> 0; break;
          default: throw new Error(`unsupported ALU 0x${code.toString(16)}`);
        }
        break;
      }
      case BPF_JMP: {
        const op = bpfOp(code);
        if (op === BPF_JA) { pc += k; break; }
        const src = bpfSrc(code) === BPF_X ? X : k;
        let taken: boolean;
        switch (op) {
          case BPF_JEQ: taken = A === src; break;
          case BPF_JGT: taken = A > src; break;
          case BPF_JGE: taken = A >= src; break;
          case BPF_JSET: taken = (A & src) !== 0; break;
          default: throw new Error(`unsupported jump 0x${code.toString(16)}`);
        }
        pc += taken ? jt : jf;
        break;
      }
      case BPF_RET:
        return { ret: (code & 0x18) === BPF_A ? A : k >>> 0, steps };
      case BPF_MISC:
        if ((code & 0xf8) === BPF_TAX) X = A; else A = X;
        break;
    }
  }
}

export type ActionKind = 'allow' | 'errno' | 'kill-process' | 'kill-thread' | 'trap' | 'log' | 'trace' | 'user-notif';

export interface DecodedAction {
  kind: ActionKind;
  /** The 16-bit data: the errno for `errno`, the trace message for `trace`. */
  data: number;
}

/** What the kernel does with a return value (unknown actions are treated as kill-process). */
export function decodeAction(ret: number): DecodedAction {
  const data = ret & SECCOMP_RET_DATA;
  switch ((ret & SECCOMP_RET_ACTION_FULL) >>> 0) {
    case SECCOMP_RET_ALLOW: return { kind: 'allow', data: 0 };
    case SECCOMP_RET_ERRNO: return { kind: 'errno', data };
    case SECCOMP_RET_KILL_THREAD: return { kind: 'kill-thread', data: 0 };
    case SECCOMP_RET_TRAP: return { kind: 'trap', data };
    case SECCOMP_RET_LOG: return { kind: 'log', data: 0 };
    case SECCOMP_RET_TRACE: return { kind: 'trace', data };
    case SECCOMP_RET_USER_NOTIF: return { kind: 'user-notif', data: 0 };
    case SECCOMP_RET_KILL_PROCESS:
    default: return { kind: 'kill-process', data: 0 };
  }
}

export function formatAction(a: DecodedAction, errnoName?: (n: number) => string | undefined): string {
  if (a.kind === 'errno') return `errno ${errnoName?.(a.data) ?? a.data}`;
  if (a.kind === 'trap' || a.kind === 'trace') return a.data ? `${a.kind} ${a.data}` : a.kind;
  return a.kind;
}

/**
 * The most instructions any execution can run: the longest path through the program, whatever
 * the syscall number and arguments (jumps only go forward, so the program is a DAG). An upper
 * bound: a path whose conditions contradict each other counts too.
 */
export function longestPath(program: readonly Insn[]): number {
  const longest = new Array<number>(program.length + 1).fill(0);
  for (let pc = program.length - 1; pc >= 0; pc--) {
    const { code, k, jt, jf } = program[pc]!;
    const cls = code & 0x07;
    if (cls === BPF_RET) longest[pc] = 1;
    else if (cls === BPF_JMP) {
      const op = code & 0xf0;
      longest[pc] = 1 + (op === 0x00 ? longest[pc + 1 + k] ?? 0 : Math.max(longest[pc + 1 + jt] ?? 0, longest[pc + 1 + jf] ?? 0));
    } else longest[pc] = 1 + longest[pc + 1]!;
  }
  return longest[0] ?? 0;
}
