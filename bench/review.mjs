// Review rows: the time and peak memory of turning N changes into the summary the review
// prints (grouping, folding, ordering, the flagged check), in a fresh node per size so RSS is
// that size's alone. The change list is built in memory (the scan is bench/changes.mjs's row):
// a package tree of new dirs and files, an npm cache to fold, loose files and deletions. The
// rules' path filter and gates are given to the child as the bundle carries them.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO, row, runAlone } from './_lib.mjs';

const CHILD = `
const [n, repo] = [Number(process.argv[1]), process.argv[2]];
// What the bundle carries made at build time (scripts/bundle.mjs): the compiled modules would
// otherwise work the path filter and the patterns' gates out of the table at the first path.
globalThis.__SBX_SENSITIVE_FILTER__ = process.env.SBX_BENCH_FILTER;
globalThis.__SBX_SENSITIVE_GATES__ = process.env.SBX_BENCH_GATES;
const { renderSummary } = await import(repo + '/dist/cli/render-changes.js');
const plain = { green: (s) => s, red: (s) => s, yellow: (s) => s, cyan: (s) => s, magenta: (s) => s, dim: (s) => s, bold: (s) => s };
const changes = [];
for (let i = 0; changes.length < n; i++) {
  const d = '/usr/lib/node_modules/pkg' + (i % 500) + '/lib' + Math.floor(i / 500);
  if (i % 20 === 0) changes.push({ path: d, change: 'added', type: 'dir', size: 0 });
  changes.push({ path: d + '/f' + i + '.js', change: 'added', type: 'file', size: 1000 + (i % 7) });
  if (i % 4 === 0) changes.push({ path: '/root/.npm/_cacache/content-v2/sha512/' + (i % 256).toString(16) + '/x' + i, change: 'added', type: 'file', size: 500 });
  if (i % 50 === 0) changes.push({ path: '/etc/app' + i + '.conf', change: 'added', type: 'file', size: 10 });
  if (i % 100 === 0) changes.push({ path: '/var/old/file' + i, change: 'deleted', type: 'file', size: 10 });
}
changes.length = n;
changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
const t = process.hrtime.bigint();
const out = renderSummary(changes, plain, { limit: 50 });
const ms = Number(process.hrtime.bigint() - t) / 1e6;
if (!out.includes('folded')) throw new Error('nothing folded: the list is not what the bench means');
console.log(JSON.stringify({ ms, rssMB: process.resourceUsage().maxRSS / 1024 }));
`;

async function measure(n) {
  const { sensitiveFilter, sensitiveGates } = await import(pathToFileURL(join(REPO, 'dist', 'sandbox-core', 'changes', 'sensitive.js')).href);
  const env = { ...process.env, SBX_BENCH_FILTER: JSON.stringify(sensitiveFilter()), SBX_BENCH_GATES: JSON.stringify(sensitiveGates()) };
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, String(n), REPO], { encoding: 'utf8', env });
  if (r.status !== 0) { console.error(r.stderr); return null; }
  return JSON.parse(r.stdout.trim());
}

export async function rows() {
  const out = [];
  for (const n of [10_000, 100_000, 200_000]) {
    const m = await measure(n);
    const k = `${n / 1000}k`;
    out.push(row(`review summary of ${k} changes (group, fold, order, flags)`, m && m.ms, null, null, n === 200_000 ? { max: 2000 } : {}));
    out.push(row(`peak RSS of that review (${k} changes, list included)`, m && m.rssMB, null, null, { unit: 'MB', ...(n === 200_000 ? { max: 200 } : {}) }));
  }
  return out;
}

await runAlone(import.meta.url, rows);
