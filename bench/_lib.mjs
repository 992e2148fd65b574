// Shared by the bench files: the timer, and the one row format `npm run bench` prints.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The shipped entry: what a user runs. */
export const SBX = join(REPO, 'dist', 'bin', 'sbx.js');

/**
 * NODE_EXTRA_CA_CERTS as the bench found it, then taken out of the environment of everything
 * it starts: Node 20 reads that file before any JavaScript (~90 ms of `node -e 0` on the VM
 * measured), so with it every Node floor and every `node sbx.js` row would carry a cost of
 * this machine's set-up rather than of sbx. bench/startup.mjs measures it on its own rows.
 */
export const CA_FILE_AT_START = process.env.NODE_EXTRA_CA_CERTS ?? null;
delete process.env.NODE_EXTRA_CA_CERTS;
delete process.env.SBX_NODE_EXTRA_CA_CERTS;

/** The middle value (the upper one of two), as every bench row quotes it; undefined for none. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

let timerBin = null;
function timer() {
  if (timerBin) return timerBin;
  const dir = mkdtempSync(join(tmpdir(), 'sbx-bench-timer-'));
  timerBin = join(dir, 'timer');
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  execFileSync('cc', ['-O2', '-o', timerBin, join(REPO, 'bench', 'timer.c')]);
  return timerBin;
}

/** Median wall and CPU milliseconds and minor page faults (`flt`) of `cmd args` over `runs` runs; null if it fails. */
export function time(cmd, args, { runs = Number(process.env.BENCH_RUNS || 11), env, cwd } = {}) {
  const r = spawnSync(timer(), [String(runs), cmd, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, cwd });
  if (r.status !== 0) return null;
  const [ms, cpu, flt] = r.stdout.trim().split(' ').map(Number);
  return { ms, cpu, flt };
}

/**
 * `time` of two commands run in turns (A B, B A, ...; timer.c `--vs`): { a, b } as `time`
 * gives them and `pairs`, the median of the per-pair ratios B/A ({ ms, cpu }); null if either
 * fails. A burst of load on a shared machine then stretches both sides of a ratio, not one.
 */
export function timeVs([aCmd, aArgs], [bCmd, bArgs], { runs = Number(process.env.BENCH_RUNS || 11), env, cwd } = {}) {
  const r = spawnSync(timer(), [String(runs), aCmd, ...aArgs, '--vs', bCmd, ...bArgs], { encoding: 'utf8', env: { ...process.env, ...env }, cwd });
  if (r.status !== 0) return null;
  const [a, b, ratios] = r.stdout.trim().split('\n').map((l) => l.split(' ').map(Number));
  return { a: { ms: a[0], cpu: a[1], flt: a[2] }, b: { ms: b[0], cpu: b[1], flt: b[2] }, pairs: { ms: ratios[0], cpu: ratios[1] } };
}

/** The note of a row timed by timeVs: how, and the per-pair ratios. */
export const inTurns = (v, runs = Number(process.env.BENCH_RUNS || 11)) => (v ? `run in turns with it, ${runs} pairs: per-pair median ${v.pairs.ms.toFixed(2)}× (cpu ${v.pairs.cpu.toFixed(2)}×)` : 'could not run');

/**
 * One row of the table. `sbx` and `peer` are {ms, cpu} (timed), a number with `unit`, or null
 * (could not run). `goal` is the largest acceptable ratio sbx/peer (or, with `max`, the
 * largest acceptable value of sbx itself).
 */
export function row(measure, sbx, peerName, peer, { goal, max, unit = 'ms', note = '' } = {}) {
  return { measure, sbx, peerName, peer, goal, max, unit, note };
}

const fmtVal = (v, unit) => {
  if (v && typeof v === "object" && Number.isNaN(v.cpu)) return `${v.ms.toFixed(0)} ms`;
  if (v === null || v === undefined) return 'n/a';
  if (typeof v === 'number') return `${unit === 'ms' ? v.toFixed(0) : Number.isInteger(v) ? String(v) : v.toFixed(1)}${unit === 'ms' ? ' ms' : unit ? ` ${unit}` : ''}`;
  return `${v.ms.toFixed(0)} ms (cpu ${v.cpu.toFixed(0)})`;
};
const val = (v) => (v === null || v === undefined ? null : typeof v === 'number' ? v : v.ms);
const cpuOf = (v) => (v && typeof v === 'object' ? v.cpu : null);

export function formatTable(rows) {
  const out = ['| measure | sbx | floor / peer | ratio | goal | met |', '|---|---:|---|---:|---|:-:|'];
  for (const r of rows) {
    const s = val(r.sbx), p = val(r.peer);
    let ratio = '', met = '';
    if (s !== null && p) {
      ratio = `${(s / p).toFixed(2)}×`;
      const c = cpuOf(r.sbx), pc = cpuOf(r.peer);
      if (c !== null && pc && !Number.isNaN(c)) ratio += ` (cpu ${(c / pc).toFixed(2)}×)`;
      if (r.goal) met = s / p <= r.goal || (c !== null && pc && !Number.isNaN(c) && c / pc <= r.goal) ? 'yes' : 'no';
    }
    if (r.max !== undefined && s !== null) met = s <= r.max ? 'yes' : 'no';
    const goal = r.goal ? `≤ ${r.goal}×` : r.max !== undefined ? `≤ ${r.max}${r.unit && r.unit !== 'ms' ? ` ${r.unit}` : ' ms'}` : '';
    out.push(`| ${r.measure} | ${fmtVal(r.sbx, r.unit)} | ${r.peerName ? `${r.peerName}: ${fmtVal(r.peer, r.unit)}` : ''} | ${ratio} | ${goal}${r.note ? ` (${r.note})` : ''} | ${met} |`);
  }
  return out.join('\n');
}

/** For `node bench/X.mjs` on its own: print this file's rows as the same table. */
export async function runAlone(metaUrl, rows) {
  if (process.argv[1] && fileURLToPath(metaUrl) === process.argv[1]) console.log(formatTable(await rows()));
}
