// eBPF instruction encoding and a small assembler with forward labels: enough to emit the
// device-cgroup program (policies/devices/compiler.ts) and to read it back in tests.
// Layout of one instruction (include/uapi/linux/bpf.h, struct bpf_insn): code u8,
// dst_reg:4 | src_reg:4 u8, off s16, imm s32, little-endian.

export interface EInsn { code: number; dst: number; src: number; off: number; imm: number }

// Instruction classes.
export const BPF_LD = 0x00, BPF_LDX = 0x01, BPF_ST = 0x02, BPF_STX = 0x03, BPF_ALU = 0x04, BPF_JMP = 0x05, BPF_JMP32 = 0x06, BPF_ALU64 = 0x07;
// Load/store sizes and modes.
export const BPF_W = 0x00, BPF_H = 0x08, BPF_B = 0x10, BPF_DW = 0x18;
export const BPF_IMM = 0x00, BPF_MEM = 0x60;
// Source operand.
export const BPF_K = 0x00, BPF_X = 0x08;
// ALU operations.
export const BPF_ADD = 0x00, BPF_SUB = 0x10, BPF_MUL = 0x20, BPF_DIV = 0x30, BPF_OR = 0x40, BPF_AND = 0x50, BPF_LSH = 0x60,
  BPF_RSH = 0x70, BPF_NEG = 0x80, BPF_MOD = 0x90, BPF_XOR = 0xa0, BPF_MOV = 0xb0, BPF_ARSH = 0xc0;
// Jump operations.
export const BPF_JA = 0x00, BPF_JEQ = 0x10, BPF_JGT = 0x20, BPF_JGE = 0x30, BPF_JSET = 0x40, BPF_JNE = 0x50, BPF_JSGT = 0x60,
  BPF_JSGE = 0x70, BPF_CALL = 0x80, BPF_EXIT = 0x90, BPF_JLT = 0xa0, BPF_JLE = 0xb0, BPF_JSLT = 0xc0, BPF_JSLE = 0xd0;

export const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6, R7 = 7, R8 = 8, R9 = 9, R10 = 10;

const INSN_SIZE = 8;

export const insnClass = (code: number): number => code & 0x07;
export const insnOp = (code: number): number => code & 0xf0;
export const insnSrc = (code: number): number => code & 0x08;
export const insnSize = (code: number): number => code & 0x18;
export const insnMode = (code: number): number => code & 0xe0;

export function encodeInsns(prog: readonly EInsn[]): Buffer {
  const b = Buffer.alloc(prog.length * INSN_SIZE);
  prog.forEach((i, n) => {
    const o = n * INSN_SIZE;
    b.writeUInt8(i.code, o);
    b.writeUInt8(((i.src & 0xf) << 4) | (i.dst & 0xf), o + 1);
    b.writeInt16LE(i.off, o + 2);
    b.writeInt32LE(i.imm | 0, o + 4);
  });
  return b;
}

export function decodeInsns(b: Buffer): EInsn[] {
  if (b.length % INSN_SIZE) throw new Error(`${b.length} bytes is not a whole number of instructions`);
  const out: EInsn[] = [];
  for (let o = 0; o < b.length; o += INSN_SIZE) {
    const regs = b.readUInt8(o + 1);
    out.push({ code: b.readUInt8(o), dst: regs & 0xf, src: regs >> 4, off: b.readInt16LE(o + 2), imm: b.readInt32LE(o + 4) });
  }
  return out;
}

/** Emits instructions; jumps name a label that is resolved (forward or back) by finish(). */
export class Assembler {
  private readonly insns: EInsn[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: Array<{ at: number; label: string }> = [];

  get length(): number { return this.insns.length; }

  raw(i: EInsn): this { this.insns.push({ ...i }); return this; }

  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`label ${name} defined twice`);
    this.labels.set(name, this.insns.length);
    return this;
  }

  /** dst = *(size *)(src + off) */
  ldx(size: number, dst: number, src: number, off: number): this {
    return this.raw({ code: BPF_LDX | BPF_MEM | size, dst, src, off, imm: 0 });
  }

  alu32(op: number, dst: number, imm: number): this { return this.raw({ code: BPF_ALU | op | BPF_K, dst, src: 0, off: 0, imm }); }
  alu32x(op: number, dst: number, src: number): this { return this.raw({ code: BPF_ALU | op | BPF_X, dst, src, off: 0, imm: 0 }); }
  alu64(op: number, dst: number, imm: number): this { return this.raw({ code: BPF_ALU64 | op | BPF_K, dst, src: 0, off: 0, imm }); }
  alu64x(op: number, dst: number, src: number): this { return this.raw({ code: BPF_ALU64 | op | BPF_X, dst, src, off: 0, imm: 0 }); }
  mov64(dst: number, imm: number): this { return this.alu64(BPF_MOV, dst, imm); }

  /** if (dst OP imm) goto label (64-bit compare). */
  jmp(op: number, dst: number, imm: number, label: string): this {
    this.fixups.push({ at: this.insns.length, label });
    return this.raw({ code: BPF_JMP | op | BPF_K, dst, src: 0, off: 0, imm });
  }

  ja(label: string): this {
    this.fixups.push({ at: this.insns.length, label });
    return this.raw({ code: BPF_JMP | BPF_JA, dst: 0, src: 0, off: 0, imm: 0 });
  }

  exit(): this { return this.raw({ code: BPF_JMP | BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 }); }

  finish(): EInsn[] {
    for (const { at, label } of this.fixups) {
      const target = this.labels.get(label);
      if (target === undefined) throw new Error(`undefined label ${label}`);
      const off = target - at - 1;
      if (off < -32768 || off > 32767) throw new Error(`jump to ${label} is out of range (${off})`);
      this.insns[at]!.off = off;
    }
    return this.insns.map((i) => ({ ...i }));
  }
}

const ALU_NAMES: Record<number, string> = { [BPF_ADD]: 'add', [BPF_SUB]: 'sub', [BPF_MUL]: 'mul', [BPF_DIV]: 'div', [BPF_OR]: 'or', [BPF_AND]: 'and', [BPF_LSH]: 'lsh', [BPF_RSH]: 'rsh', [BPF_NEG]: 'neg', [BPF_MOD]: 'mod', [BPF_XOR]: 'xor', [BPF_MOV]: 'mov', [BPF_ARSH]: 'arsh' };
const JMP_NAMES: Record<number, string> = { [BPF_JEQ]: 'jeq', [BPF_JGT]: 'jgt', [BPF_JGE]: 'jge', [BPF_JSET]: 'jset', [BPF_JNE]: 'jne', [BPF_JSGT]: 'jsgt', [BPF_JSGE]: 'jsge', [BPF_JLT]: 'jlt', [BPF_JLE]: 'jle', [BPF_JSLT]: 'jslt', [BPF_JSLE]: 'jsle' };
const SIZE_NAMES: Record<number, string> = { [BPF_W]: 'u32', [BPF_H]: 'u16', [BPF_B]: 'u8', [BPF_DW]: 'u64' };

/** One line per instruction, for `sbx policy`-style inspection and failing-test messages. */
export function disassemble(prog: readonly EInsn[]): string {
  return prog.map((i, pc) => {
    const cls = insnClass(i.code), op = insnOp(i.code);
    const operand = insnSrc(i.code) === BPF_X ? `r${i.src}` : `${i.imm}`;
    let text: string;
    if (cls === BPF_LDX) text = `r${i.dst} = *(${SIZE_NAMES[insnSize(i.code)]} *)(r${i.src} + ${i.off})`;
    else if (cls === BPF_ALU || cls === BPF_ALU64) {
      const w = cls === BPF_ALU ? '32' : '';
      text = op === BPF_NEG ? `r${i.dst} = -r${i.dst}` : `${ALU_NAMES[op] ?? '?'}${w} r${i.dst}, ${operand}`;
    } else if (cls === BPF_JMP || cls === BPF_JMP32) {
      if (op === BPF_EXIT) text = 'exit';
      else if (op === BPF_JA) text = `goto ${pc + 1 + i.off}`;
      else if (op === BPF_CALL) text = `call ${i.imm}`;
      else text = `if r${i.dst} ${JMP_NAMES[op] ?? '?'}${cls === BPF_JMP32 ? '32' : ''} ${operand} goto ${pc + 1 + i.off}`;
    } else text = `code 0x${i.code.toString(16)} dst r${i.dst} src r${i.src} off ${i.off} imm ${i.imm}`;
    return `${String(pc).padStart(4)}: ${text}`;
  }).join('\n');
}
