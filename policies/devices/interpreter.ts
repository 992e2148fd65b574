// An eBPF interpreter for the subset device-cgroup programs use, so unit tests can run a
// compiled allowlist on any (type, major, minor, access) without a kernel and count the
// instructions executed. `checkProgram` refuses what the kernel's verifier would refuse for
// this program type within that subset (reads of unset registers, context reads outside
// struct bpf_cgroup_dev_ctx, pointer arithmetic, back-edges, helper calls, falling off the
// end, exiting without r0 set); anything outside the subset (stores, stack, calls) is
// refused too, so a program that passes here uses only what we tested.
import {
  type EInsn, BPF_LD, BPF_LDX, BPF_ALU, BPF_ALU64, BPF_JMP, BPF_JMP32, BPF_MEM, BPF_IMM, BPF_DW, BPF_W, BPF_H, BPF_B, BPF_X,
  BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH,
  BPF_JA, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT, BPF_JSGE, BPF_CALL, BPF_EXIT, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE,
  insnClass, insnOp, insnSrc, insnSize, insnMode,
} from './ebpf.js';
import { accessBits, DEV_BLOCK, DEV_CHAR, type DeviceRequest } from './policy.js';

/** sizeof(struct bpf_cgroup_dev_ctx) */
const DEV_CTX_SIZE = 12;
const MAX_INSNS = 4096;

const SIZE_BYTES: Record<number, number> = { [BPF_B]: 1, [BPF_H]: 2, [BPF_W]: 4, [BPF_DW]: 8 };
const ALU_OPS = new Set([BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH]);
const COND_OPS = new Set([BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT, BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE]);

type RegType = 'uninit' | 'ctx' | 'fp' | 'scalar';

function merge(a: RegType[] | undefined, b: RegType[]): RegType[] {
  if (!a) return [...b];
  return a.map((t, i) => (t === b[i] ? t : 'uninit'));
}

/** Throws an Error naming the first instruction the verifier would refuse. */
export function checkProgram(prog: readonly EInsn[]): void {
  const n = prog.length;
  if (n === 0) throw new Error('empty program');
  if (n > MAX_INSNS) throw new Error(`${n} instructions: more than ${MAX_INSNS}`);
  const states: Array<RegType[] | undefined> = new Array(n);
  const entry: RegType[] = new Array(11).fill('uninit');
  entry[1] = 'ctx';
  entry[10] = 'fp';
  states[0] = entry;
  for (let pc = 0; pc < n; pc++) {
    const i = prog[pc]!;
    const bad = (why: string): never => { throw new Error(`instruction ${pc} (code 0x${i.code.toString(16)}): ${why}`); };
    const st = states[pc];
    if (!st) continue; // unreachable: the kernel refuses it too
    if (i.dst > 10 || i.src > 10) bad('register out of range');
    const regs = [...st];
    const readReg = (r: number): RegType => { if (regs[r] === 'uninit') bad(`r${r} is read before it is set`); return regs[r]!; };
    const flow = (target: number): void => {
      if (target <= pc) bad(`jump to ${target} goes backwards (loop)`);
      if (target >= n) bad(`jump to ${target} is past the end`);
      states[target] = merge(states[target], regs);
    };
    const cls = insnClass(i.code);
    const op = insnOp(i.code);
    switch (cls) {
      case BPF_LDX: {
        if (insnMode(i.code) !== BPF_MEM) bad('only memory loads are allowed');
        const size = SIZE_BYTES[insnSize(i.code)]!;
        const base = readReg(i.src);
        if (base !== 'ctx') bad(`load through r${i.src}, which is not the context pointer`);
        if (size === 8) bad('8-byte load from the device context');
        if (i.off < 0 || i.off + size > DEV_CTX_SIZE || i.off % size !== 0) bad(`context access at offset ${i.off} size ${size} is outside or misaligned`);
        if (i.dst === 10) bad('r10 is read-only');
        regs[i.dst] = 'scalar';
        break;
      }
      case BPF_LD: {
        if (i.code !== (BPF_LD | BPF_IMM | BPF_DW)) bad('only the 64-bit immediate load is allowed');
        if (pc + 1 >= n) bad('64-bit immediate load lacks its second half');
        const hi = prog[pc + 1]!;
        if (hi.code !== 0 || hi.dst !== 0 || hi.src !== 0 || hi.off !== 0) bad('bad second half of a 64-bit immediate load');
        if (i.src !== 0) bad('map references are not used by device programs');
        if (i.dst === 10) bad('r10 is read-only');
        regs[i.dst] = 'scalar';
        states[pc + 2] = merge(states[pc + 2], regs);
        pc++; // skip the second half (states[pc+1] stays unset)
        continue;
      }
      case BPF_ALU:
      case BPF_ALU64: {
        if (!ALU_OPS.has(op)) bad('unknown ALU operation');
        if (i.dst === 10) bad('r10 is read-only');
        if (op === BPF_NEG) { if (readReg(i.dst) !== 'scalar') bad('arithmetic on a pointer'); break; }
        if (insnSrc(i.code) === BPF_X) {
          const s = readReg(i.src);
          if (op === BPF_MOV) { if (s !== 'scalar' && cls === BPF_ALU) bad('32-bit move of a pointer'); regs[i.dst] = s; break; }
          if (s !== 'scalar') bad('arithmetic with a pointer');
        } else if ((op === BPF_DIV || op === BPF_MOD) && i.imm === 0) bad('division by zero');
        if ((op === BPF_LSH || op === BPF_RSH || op === BPF_ARSH) && insnSrc(i.code) !== BPF_X && (i.imm < 0 || i.imm >= (cls === BPF_ALU ? 32 : 64))) bad('shift out of range');
        if (op !== BPF_MOV && readReg(i.dst) !== 'scalar') bad('arithmetic on a pointer');
        regs[i.dst] = 'scalar';
        break;
      }
      case BPF_JMP:
      case BPF_JMP32: {
        if (op === BPF_EXIT) {
          if (cls !== BPF_JMP) bad('bad exit');
          if (readReg(0) !== 'scalar') bad('r0 is not a number at exit');
          continue; // no fall-through
        }
        if (op === BPF_CALL) bad('helper calls are not used by device programs');
        if (op === BPF_JA) {
          if (cls !== BPF_JMP) bad('bad ja');
          flow(pc + 1 + i.off);
          continue;
        }
        if (!COND_OPS.has(op)) bad('unknown jump');
        if (readReg(i.dst) !== 'scalar') bad('comparison of a pointer');
        if (insnSrc(i.code) === BPF_X && readReg(i.src) !== 'scalar') bad('comparison with a pointer');
        flow(pc + 1 + i.off);
        break;
      }
      default:
        bad('stores are not used by device programs');
    }
    if (pc + 1 >= n) bad('falls off the end of the program');
    states[pc + 1] = merge(states[pc + 1], regs);
  }
}

export interface RunResult { ret: number; steps: number }

const M64 = (1n << 64n) - 1n, M32 = (1n << 32n) - 1n;
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);

/** Runs a program with r1 pointing at `ctx`. The result is r0's low 32 bits. */
export function runProgram(prog: readonly EInsn[], ctx: Buffer): RunResult {
  const r = new Array<bigint>(11).fill(0n);
  let steps = 0;
  for (let pc = 0; pc < prog.length;) {
    const i = prog[pc]!;
    steps++;
    if (steps > 1_000_000) throw new Error('runaway program');
    const cls = insnClass(i.code), op = insnOp(i.code);
    const imm = BigInt(i.imm);
    if (cls === BPF_LDX) {
      const size = SIZE_BYTES[insnSize(i.code)]!;
      // r1 is the only pointer: its "value" is an offset into ctx (0).
      const at = Number(r[i.src]!) + i.off;
      if (at < 0 || at + size > ctx.length) throw new Error(`instruction ${pc}: context read out of bounds`);
      r[i.dst] = size === 8 ? ctx.readBigUInt64LE(at) : BigInt(ctx.readUIntLE(at, size));
      pc++;
      continue;
    }
    if (cls === BPF_LD) {
      r[i.dst] = (BigInt(i.imm >>> 0) | (BigInt(prog[pc + 1]!.imm >>> 0) << 32n)) & M64;
      pc += 2;
      continue;
    }
    if (cls === BPF_ALU || cls === BPF_ALU64) {
      const wide = cls === BPF_ALU64;
      const mask = wide ? M64 : M32;
      const bits = wide ? 64n : 32n;
      const dst = r[i.dst]! & mask;
      const src = (insnSrc(i.code) === BPF_X ? r[i.src]! : (wide ? imm : imm & M32)) & mask;
      let v: bigint;
      switch (op) {
        case BPF_ADD: v = dst + src; break;
        case BPF_SUB: v = dst - src; break;
        case BPF_MUL: v = dst * src; break;
        case BPF_DIV: v = src === 0n ? 0n : dst / src; break; // eBPF defines x/0 = 0
        case BPF_MOD: v = src === 0n ? dst : dst % src; break;
        case BPF_OR: v = dst | src; break;
        case BPF_AND: v = dst & src; break;
        case BPF_XOR: v = dst ^ src; break;
        case BPF_LSH: v = dst << (src & (bits - 1n)); break;
        case BPF_RSH: v = dst >> (src & (bits - 1n)); break;
        case BPF_ARSH: v = (wide ? s64(dst) : s32(dst)) >> (src & (bits - 1n)); break;
        case BPF_NEG: v = -dst; break;
        case BPF_MOV: v = src; break;
        default: throw new Error(`instruction ${pc}: unknown ALU op`);
      }
      r[i.dst] = v & mask; // 32-bit results are zero-extended
      pc++;
      continue;
    }
    if (cls === BPF_JMP || cls === BPF_JMP32) {
      if (op === BPF_EXIT) return { ret: Number(r[0]! & M32), steps };
      if (op === BPF_JA) { pc += 1 + i.off; continue; }
      const narrow = cls === BPF_JMP32;
      const mask = narrow ? M32 : M64;
      const a = r[i.dst]! & mask;
      const b = (insnSrc(i.code) === BPF_X ? r[i.src]! : imm) & mask;
      const sa = narrow ? s32(a) : s64(a), sb = narrow ? s32(b) : s64(b);
      let taken: boolean;
      switch (op) {
        case BPF_JEQ: taken = a === b; break;
        case BPF_JNE: taken = a !== b; break;
        case BPF_JGT: taken = a > b; break;
        case BPF_JGE: taken = a >= b; break;
        case BPF_JLT: taken = a < b; break;
        case BPF_JLE: taken = a <= b; break;
        case BPF_JSET: taken = (a & b) !== 0n; break;
        case BPF_JSGT: taken = sa > sb; break;
        case BPF_JSGE: taken = sa >= sb; break;
        case BPF_JSLT: taken = sa < sb; break;
        case BPF_JSLE: taken = sa <= sb; break;
        default: throw new Error(`instruction ${pc}: unknown jump`);
      }
      pc += taken ? 1 + i.off : 1;
      continue;
    }
    throw new Error(`instruction ${pc}: unsupported class ${cls}`);
  }
  throw new Error('fell off the end of the program');
}

/** struct bpf_cgroup_dev_ctx for one request, as the kernel fills it. */
function deviceContext(req: DeviceRequest): Buffer {
  const b = Buffer.alloc(DEV_CTX_SIZE);
  b.writeUInt32LE(((accessBits(req.access) << 16) | (req.type === 'c' ? DEV_CHAR : DEV_BLOCK)) >>> 0, 0);
  b.writeUInt32LE(req.major, 4);
  b.writeUInt32LE(req.minor, 8);
  return b;
}

export function runDeviceProgram(prog: readonly EInsn[], req: DeviceRequest): RunResult {
  return runProgram(prog, deviceContext(req));
}
