// Cost of a whole `sbx run -n -- true` next to the floors: `node -e 0` (any Node CLI) and
// `unshare -Urmpf --mount-proc true` (namespace creation). Medians over repeated runs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const sbx = join(repo, 'dist', 'cli', 'main.js');
const runs = Number(process.env.BENCH_RUNS || 15);
const store = mkdtempSync(join(tmpdir(), 'sbx-bench-'));

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(cmd, args, env = {}) {
  const samples = [];
  for (let i = 0; i < runs + 2; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: 'ignore', env: { ...process.env, ...env } });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) return null;
    if (i >= 2) samples.push(ms); // two warm-up runs
  }
  return median(samples);
}

const rows = [
  ['node -e 0', time(process.execPath, ['-e', '0'])],
  ['unshare -Urmpf --mount-proc true', time('unshare', ['-Urmpf', '--mount-proc', 'true'])],
  ['sbx run -n -- true', time(process.execPath, [sbx, 'run', '-n', '-q', '--', 'true'], { SBX_HOME: store })],
  ['sbx run -n --no-seccomp -- true', time(process.execPath, [sbx, 'run', '-n', '-q', '--no-seccomp', '--', 'true'], { SBX_HOME: store })],
];
rmSync(store, { recursive: true, force: true });
const floor = rows[0][1];
console.log(`startup, median of ${runs} runs (uid ${process.getuid()})`);
console.log('| command | median ms | × node -e 0 |');
console.log('|---|---:|---:|');
for (const [name, ms] of rows) console.log(`| ${name} | ${ms === null ? 'failed' : ms.toFixed(1)} | ${ms === null ? '-' : (ms / floor).toFixed(2)} |`);
