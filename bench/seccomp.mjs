// Seccomp: the worst case of each shipped policy's program (the longest path over every
// syscall number and argument, on both architectures), and the cost of a getppid() loop under
// the default policy next to the same loop unfiltered (CPU time; bench/seccomp-loop.c).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, row, runAlone } from './_lib.mjs';

const dist = (p) => join(REPO, 'dist', p);

export async function rows() {
  const { loadPolicy, compilePolicy, shippedPolicyNames, hostArch } = await import(dist('policies/seccomp/index.js'));
  const { encode } = await import(dist('policies/seccomp/bpf.js'));
  const { longestPath } = await import(dist('policies/seccomp/interpreter.js'));
  const out = [];
  for (const name of shippedPolicyNames()) {
    const worst = ['x86_64', 'aarch64'].map((a) => longestPath(compilePolicy(loadPolicy(name), a).program));
    out.push(row(`seccomp \`${name}\`: worst case (x86_64 / aarch64)`, Math.max(...worst), '', null, { unit: `insns (${worst.join(' / ')})`, max: name === 'default' ? 16 : undefined }));
  }
  const iterations = Number(process.env.BENCH_SECCOMP_ITERATIONS || 5_000_000);
  const work = mkdtempSync(join(tmpdir(), 'sbx-bench-seccomp-'));
  try {
    const bin = join(work, 'seccomp-loop');
    execFileSync('cc', ['-O2', '-o', bin, join(REPO, 'bench', 'seccomp-loop.c')]);
    const file = join(work, 'default.bpf');
    writeFileSync(file, encode(compilePolicy(loadPolicy('default'), hostArch()).program));
    // The floor of any filter: one instruction, RET ALLOW. What it costs is a filtered
    // syscall's own way through the kernel (the slow entry path a task with a filter takes;
    // for a syscall a filter allows whatever its arguments, the kernel's action cache, Linux
    // 5.11+, skips running the program anyway): no program can cost less.
    const allowAll = join(work, 'allow.bpf');
    writeFileSync(allowAll, encode([{ code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 }]));
    const loop = (...a) => Number(execFileSync(bin, [String(iterations), ...a], { encoding: 'utf8' }).trim());
    // Alternating, best of five each: the least disturbed runs of all three.
    const plain = [], filtered = [], floor = [];
    for (let i = 0; i < 5; i++) { plain.push(loop()); filtered.push(loop(file)); floor.push(loop(allowAll)); }
    out.push(row('getppid() loop under `default`', Math.min(...filtered), 'unfiltered', Math.min(...plain), { unit: 'ns/call (cpu)', goal: 1.15 }));
    out.push(row('getppid() loop under a one-instruction allow-all filter', Math.min(...floor), 'unfiltered', Math.min(...plain), { unit: 'ns/call (cpu)', note: 'the floor of any seccomp filter: a filtered syscall\'s own cost in the kernel, whatever the program' }));
    out.push(row('  … `default` against that floor', Math.min(...filtered), 'allow-all', Math.min(...floor), { unit: 'ns/call (cpu)' }));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}

await runAlone(import.meta.url, rows);
