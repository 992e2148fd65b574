// Turns labelled code into BPF. Conditional jumps have 8-bit forward offsets; when a target is
// more than 255 instructions away the jump goes through a `ja` (32-bit offset) placed right
// after it. Inserting a trampoline can push other targets out of range, so layout repeats
// until nothing changes (offsets only grow, so it terminates).
import { type Insn, BPF_JMP, BPF_JA, BPF_RET, BPF_K, BPF_MAXINSNS } from './bpf.js';

export type Node =
  | { op: 'label'; name: string }
  | { op: 'stmt'; code: number; k: number }
  | { op: 'ret'; k: number }
  /** jt/jf undefined: fall through to the next node. */
  | { op: 'jcond'; code: number; k: number; jt?: string; jf?: string }
  | { op: 'ja'; target: string };

export interface Assembled {
  program: Insn[];
  /** Label names by instruction index, for the disassembler. */
  labels: Map<number, string>;
}

const MAX_JUMP = 255;

export function assemble(nodes: readonly Node[]): Assembled {
  const far = nodes.map(() => ({ jt: false, jf: false }));
  for (;;) {
    const { pos, labelPos, end } = layout(nodes, far);
    const target = (name: string | undefined, i: number): number => {
      if (name === undefined) return nextPos(nodes, pos, i, end);
      const p = labelPos.get(name);
      if (p === undefined) throw new Error(`internal: undefined label ${name}`);
      return p;
    };
    let changed = false;
    nodes.forEach((n, i) => {
      if (n.op !== 'jcond') return;
      // Offsets count from the instruction after the jump, trampolines included.
      const base = pos[i]! + 1;
      const f = far[i]!;
      for (const side of ['jt', 'jf'] as const) {
        if (!f[side] && target(n[side], i) - base > MAX_JUMP) {
          f[side] = true;
          changed = true;
        }
      }
    });
    if (changed) continue;
    return emit(nodes, far, pos, labelPos, end, target);
  }
}

function layout(nodes: readonly Node[], far: ReadonlyArray<{ jt: boolean; jf: boolean }>) {
  const pos: number[] = [];
  const labelPos = new Map<string, number>();
  let pc = 0;
  nodes.forEach((n, i) => {
    pos.push(pc);
    if (n.op === 'label') {
      if (labelPos.has(n.name)) throw new Error(`internal: duplicate label ${n.name}`);
      labelPos.set(n.name, pc);
    } else pc += 1 + (n.op === 'jcond' ? Number(far[i]!.jt) + Number(far[i]!.jf) : 0);
  });
  return { pos, labelPos, end: pc };
}

/** Where execution goes when falling through node i. */
function nextPos(nodes: readonly Node[], pos: number[], i: number, end: number): number {
  return i + 1 < nodes.length ? pos[i + 1]! : end;
}

function emit(
  nodes: readonly Node[],
  far: ReadonlyArray<{ jt: boolean; jf: boolean }>,
  pos: number[],
  labelPos: Map<string, number>,
  end: number,
  target: (name: string | undefined, i: number) => number,
): Assembled {
  const program: Insn[] = [];
  const labels = new Map<number, string>();
  for (const [name, p] of labelPos) if (!labels.has(p)) labels.set(p, name);
  const offset = (from: number, to: number): number => {
    const d = to - from;
    if (d < 0) throw new Error(`internal: backward jump from ${from} to ${to}`);
    return d;
  };
  nodes.forEach((n, i) => {
    switch (n.op) {
      case 'label':
        return;
      case 'stmt':
        program.push({ code: n.code, jt: 0, jf: 0, k: n.k >>> 0 });
        return;
      case 'ret':
        program.push({ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: n.k >>> 0 });
        return;
      case 'ja':
        program.push({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: offset(pos[i]! + 1, target(n.target, i)) });
        return;
      case 'jcond': {
        const here = pos[i]!;
        const tramps: number[] = [];
        let slot = here + 1;
        const dest = (side: 'jt' | 'jf'): number => {
          if (!far[i]![side]) return target(n[side], i);
          tramps.push(target(n[side], i));
          return slot++;
        };
        const t = dest('jt');
        const f = dest('jf');
        const base = here + 1;
        program.push({ code: n.code, jt: offset(base, t), jf: offset(base, f), k: n.k >>> 0 });
        tramps.forEach((to, j) => program.push({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: offset(here + 2 + j, to) }));
        return;
      }
    }
  });
  if (program.length !== end) throw new Error('internal: layout and emission disagree');
  if (program.length > 0 && program.length <= BPF_MAXINSNS) {
    for (const ins of program) if (ins.jt > MAX_JUMP || ins.jf > MAX_JUMP) throw new Error('internal: jump offset overflow');
  }
  return { program, labels };
}
