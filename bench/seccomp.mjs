// Seccomp benchmark: for each shipped policy and architecture, the program size and the
// decision path (instructions executed, from the interpreter over every syscall number), then
// the cost of a getppid() loop on this machine without and with the host-architecture filter.
// Run after `npm run build`: node bench/seccomp.mjs [ITERATIONS]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => join(root, 'dist', p);
const { loadPolicy, compilePolicy, shippedPolicyNames, hostArch } = await import(dist('policies/seccomp/index.js'));
const { encode } = await import(dist('policies/seccomp/bpf.js'));
const { runFilter } = await import(dist('policies/seccomp/interpreter.js'));
const { ARCH_INFO } = await import(dist('policies/seccomp/compiler.js'));

const iterations = Number(process.argv[2] ?? 10_000_000);
const work = mkdtempSync(join(tmpdir(), 'sbx-bench-seccomp-'));

function paths(program, arch) {
  const max = Math.max(...Object.values(ARCH_INFO[arch].syscalls));
  let longest = 0;
  let total = 0;
  let count = 0;
  for (let nr = 0; nr <= max; nr++) {
    const { steps } = runFilter(program, { nr, arch: ARCH_INFO[arch].auditArch });
    longest = Math.max(longest, steps);
    total += steps;
    count++;
  }
  return { longest, mean: total / count };
}

function loop(bin, filter) {
  const args = [String(iterations)];
  if (filter) args.push(filter);
  return Number(execFileSync(bin, args, { encoding: 'utf8' }).trim());
}

try {
  let bin;
  try {
    bin = join(work, 'seccomp-loop');
    execFileSync('cc', ['-O2', '-o', bin, join(root, 'bench', 'seccomp-loop.c')], { stdio: 'pipe' });
  } catch (e) {
    bin = undefined;
    console.log(`(no C compiler: loop timings skipped: ${e.message.split('\n')[0]})`);
  }
  const host = hostArch();
  const base = bin ? Math.min(loop(bin), loop(bin), loop(bin)) : undefined;
  console.log(`seccomp policies (paths over every syscall number; loop: getppid x ${iterations.toLocaleString('en')} on ${host})`);
  const rows = [['policy', 'arch', 'insns', 'longest', 'mean', 'ns/call', 'unfiltered', 'ratio']];
  for (const name of shippedPolicyNames()) {
    const policy = loadPolicy(name);
    for (const arch of ['x86_64', 'aarch64']) {
      const { program } = compilePolicy(policy, arch);
      const p = paths(program, arch);
      let filtered = '';
      let ratio = '';
      if (bin && arch === host) {
        const file = join(work, `${name}.bpf`);
        writeFileSync(file, encode(program));
        const ns = Math.min(loop(bin, file), loop(bin, file), loop(bin, file));
        filtered = ns.toFixed(1);
        ratio = `${(ns / base).toFixed(2)}x`;
      }
      rows.push([name, arch, String(program.length), String(p.longest), p.mean.toFixed(1), filtered, arch === host && base ? base.toFixed(1) : '', ratio]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
} finally {
  rmSync(work, { recursive: true, force: true });
}
