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
    const loop = (...a) => Number(execFileSync(bin, [String(iterations), ...a], { encoding: 'utf8' }).trim());
    // Alternating, best of five each: the least disturbed runs of both.
    const plain = [], filtered = [];
    for (let i = 0; i < 5; i++) { plain.push(loop()); filtered.push(loop(file)); }
    out.push(row('getppid() loop under `default`', Math.min(...filtered), 'unfiltered', Math.min(...plain), { unit: 'ns/call (cpu)', goal: 1.15 }));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}

await runAlone(import.meta.url, rows);
