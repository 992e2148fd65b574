// Readable listing of a BPF program: one instruction per line, jump targets as labels, seccomp
// offsets and return values by name. Works on any program (ours or libseccomp's); the
// compiler's own label names are used when given.
import {
  type Insn, BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_ALU, BPF_JMP, BPF_RET, BPF_MISC,
  BPF_ABS, BPF_IMM, BPF_MEM, BPF_LEN, BPF_X, BPF_A, BPF_JA, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET,
  BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_NEG, BPF_XOR, BPF_TAX,
  bpfClass, bpfOp, bpfSrc,
} from './bpf.js';
import { decodeAction, formatAction } from './interpreter.js';
import { knownErrnoName as errnoName } from './errno.js';
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_X86_64 } from './constants.js';


function field(k: number): string {
  if (k === 0) return 'nr';
  if (k === 4) return 'arch';
  if (k === 8) return 'ip.lo';
  if (k === 12) return 'ip.hi';
  if (k >= 16 && k < 64) return `args[${(k - 16) >> 3}].${k % 8 === 0 ? 'lo' : 'hi'}`;
  return `[${k}]`;
}

const ALU: Record<number, string> = { [BPF_ADD]: 'add', [BPF_SUB]: 'sub', [BPF_MUL]: 'mul', [BPF_DIV]: 'div', [BPF_OR]: 'or', [BPF_AND]: 'and', [BPF_LSH]: 'lsh', [BPF_RSH]: 'rsh', [BPF_XOR]: 'xor' };
const JMP: Record<number, string> = { [BPF_JEQ]: 'jeq', [BPF_JGT]: 'jgt', [BPF_JGE]: 'jge', [BPF_JSET]: 'jset' };

export interface DisasmOptions {
  labels?: Map<number, string>;
  /** Names for syscall numbers, to annotate comparisons against nr. */
  syscallNames?: Map<number, string>;
}

export function disassemble(program: readonly Insn[], opts: DisasmOptions = {}): string {
  const labels = new Map(opts.labels ?? []);
  const targetsOf = (pc: number, ins: Insn): number[] => {
    if (bpfClass(ins.code) !== BPF_JMP) return [];
    if (bpfOp(ins.code) === BPF_JA) return [pc + 1 + ins.k];
    return [pc + 1 + ins.jt, pc + 1 + ins.jf];
  };
  program.forEach((ins, pc) => {
    for (const t of targetsOf(pc, ins)) if (t !== pc + 1 && !labels.has(t)) labels.set(t, `L${t}`);
  });
  const name = (t: number): string => labels.get(t) ?? `L${t}`;
  const hex = (k: number): string => `0x${(k >>> 0).toString(16)}`;
  // Whether the last load put the syscall number or the arch in A, to annotate comparisons.
  let loaded: number | undefined;
  const lines: string[] = [];
  program.forEach((ins, pc) => {
    if (labels.has(pc)) lines.push(`${labels.get(pc)}:`);
    const { code, jt, jf, k } = ins;
    let text: string;
    let note = '';
    switch (bpfClass(code)) {
      case BPF_LD:
      case BPF_LDX: {
        const reg = bpfClass(code) === BPF_LD ? 'a' : 'x';
        const mode = code & 0xe0;
        if (mode === BPF_ABS) { text = `ld${reg === 'x' ? 'x' : ''} ${field(k)}`; loaded = k; }
        else if (mode === BPF_IMM) { text = `ld${reg === 'x' ? 'x' : ''} #${hex(k)}`; loaded = undefined; }
        else if (mode === BPF_MEM) { text = `ld${reg === 'x' ? 'x' : ''} M[${k}]`; loaded = undefined; }
        else if (mode === BPF_LEN) { text = `ld${reg === 'x' ? 'x' : ''} #len`; loaded = undefined; }
        else text = `.word ${hex(code)}`;
        break;
      }
      case BPF_ST: text = `st M[${k}]`; break;
      case BPF_STX: text = `stx M[${k}]`; break;
      case BPF_ALU:
        text = bpfOp(code) === BPF_NEG ? 'neg' : `${ALU[bpfOp(code)] ?? '?alu'} ${bpfSrc(code) === BPF_X ? 'x' : `#${hex(k)}`}`;
        loaded = undefined;
        break;
      case BPF_JMP: {
        if (bpfOp(code) === BPF_JA) { text = `ja ${name(pc + 1 + k)}`; break; }
        const operand = bpfSrc(code) === BPF_X ? 'x' : `#${hex(k)}`;
        const t = pc + 1 + jt;
        const f = pc + 1 + jf;
        text = `${JMP[bpfOp(code)] ?? '?jmp'} ${operand}`;
        if (jt !== 0) text += `, ${name(t)}`;
        if (jf !== 0) text += `${jt === 0 ? ', next' : ''}, ${name(f)}`;
        if (bpfSrc(code) !== BPF_X && loaded === 0 && opts.syscallNames?.has(k)) note = opts.syscallNames.get(k) as string;
        if (bpfSrc(code) !== BPF_X && loaded === 4) note = k === AUDIT_ARCH_X86_64 ? 'AUDIT_ARCH_X86_64' : k === AUDIT_ARCH_AARCH64 ? 'AUDIT_ARCH_AARCH64' : '';
        break;
      }
      case BPF_RET:
        text = (code & 0x18) === BPF_A ? 'ret a' : `ret #${hex(k)}`;
        if ((code & 0x18) !== BPF_A) note = formatAction(decodeAction(k), errnoName);
        break;
      case BPF_MISC:
        text = (code & 0xf8) === BPF_TAX ? 'tax' : 'txa';
        break;
      default:
        text = `.word ${hex(code)}`;
    }
    const pcText = String(pc).padStart(4, ' ');
    lines.push(`${pcText}  ${text.padEnd(40)}${note ? `; ${note}` : ''}`.trimEnd());
  });
  return `${lines.join('\n')}\n`;
}
