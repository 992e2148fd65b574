// Listing, diffing and committing many changed files, next to find(1) and cp -a of the same
// tree on the same machine. Uses the compiled dist/ (run `npm run build` first).
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { Store } = await import(join(root, 'dist/sandbox-core/store.js'));
const { scanSandbox } = await import(join(root, 'dist/sandbox-core/changes/scan.js'));
const { commitSandbox } = await import(join(root, 'dist/sandbox-core/commit/index.js'));
const { renderStat } = await import(join(root, 'dist/cli/render-changes.js'));

const plain = { green: (s) => s, red: (s) => s, yellow: (s) => s, cyan: (s) => s, magenta: (s) => s, dim: (s) => s, bold: (s) => s };

function time(fn) {
  const t = process.hrtime.bigint();
  const r = fn();
  return [Number(process.hrtime.bigint() - t) / 1e6, r];
}
async function timeAsync(fn) {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [Number(process.hrtime.bigint() - t) / 1e6, r];
}

/** A fake sandbox whose upper holds n new files (100 per dir) over an empty host dir. */
function makeSandbox(base, n) {
  const host = join(base, 'host');
  mkdirSync(host);
  const store = new Store(join(base, 'store'));
  const { id, dir } = store.create(null);
  const upper = join(dir, 'layers', 'L0', 'upper');
  mkdirSync(upper, { recursive: true });
  for (let i = 0; i < n; i++) {
    const d = join(upper, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(d);
    writeFileSync(join(d, `f${i}.txt`), `line ${i}\nsecond line\n`);
  }
  const now = Date.now();
  const meta = {
    version: 1, id, name: null, command: ['bench'], cwd: host, uid: process.getuid(), gid: process.getgid(),
    created: new Date(now).toISOString(), createdMs: now, finished: null, exitStatus: 0, state: 'saved',
    layersDir: join(dir, 'layers'), layers: [{ target: host, dir: 'L0', format: 'kernel' }], hidden: [], binds: [],
    options: { net: false, keepUser: false, policy: 'default', hide: [], bind: [] },
  };
  store.writeMeta(meta);
  return { store, meta, upper, host };
}

const rows = [];
const fmt = (ms) => `${ms.toFixed(0)} ms`;
const sizes = (process.env.SBX_BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
for (const n of sizes) {
  const base = mkdtempSync('/tmp/sbx-bench-');
  try {
    const sb = makeSandbox(base, n);
    const [findMs] = time(() => spawnSync('find', [sb.upper], { stdio: ['ignore', 'ignore', 'inherit'] }));
    const [listMs, scan] = time(() => scanSandbox(sb.meta));
    if (scan.changes.length !== n + Math.ceil(n / 100)) throw new Error(`expected ${n} files, listed ${scan.changes.length}`);
    rows.push([`list ${n} added files`, fmt(listMs), `find: ${fmt(findMs)}`, `${(listMs / findMs).toFixed(1)}×`]);
    const [statMs] = await timeAsync(() => renderStat(scan.changes, plain));
    rows.push([`diff --stat ${n} files`, fmt(statMs), `find: ${fmt(findMs)}`, `${(statMs / findMs).toFixed(1)}×`]);
    if (n === 10000) {
      const cpDst = join(base, 'cp-copy');
      const [cpMs] = time(() => spawnSync('cp', ['-a', sb.upper, cpDst], { stdio: 'inherit' }));
      const [commitMs, rep] = time(() => commitSandbox(sb.store, sb.meta, { only: [], exclude: [], force: false, dryRun: false }));
      if (!rep.complete) throw new Error('bench commit incomplete');
      rows.push([`commit ${n} files (fsync each)`, fmt(commitMs), `cp -a: ${fmt(cpMs)}`, `${(commitMs / cpMs).toFixed(1)}×`]);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), ['what', 'sbx', 'baseline', 'ratio'][i].length));
const line = (r) => r.map((c, i) => c.padEnd(w[i])).join('  ');
console.log(line(['what', 'sbx', 'baseline', 'ratio']));
for (const r of rows) console.log(line(r));
