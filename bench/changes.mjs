// Listing, diffing, reviewing and committing many changed files, next to find(1) and cp -a of
// the same tree on the same machine, one after the other. List, --stat and review run the
// shipped CLI end to end (`sbx diff …`, node start-up included); commit runs commitSandbox
// (copy beside, one syncfs, renames, one syncfs, then the sandbox's layers are removed).
// Uses the build output (run `npm run build` first). Sizes: SBX_BENCH_SIZES (default
// 10000,100000); SBX_BENCH_COMMIT (default 10000,50000); SBX_BENCH_REVIEW (default 200000).
// Fixtures for list/stat/review live on /dev/shm (a throwaway run's layers are there too).
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SBX = join(root, 'dist', 'bin', 'sbx.js');
const { Store } = await import(join(root, 'dist/sandbox-core/store.js'));
const { commitSandbox } = await import(join(root, 'dist/sandbox-core/commit/index.js'));

const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
function time(fn) {
  const t = process.hrtime.bigint();
  const r = fn();
  return [ms(t), r];
}

/** A fake saved sandbox whose upper holds n new files (100 per dir) over an empty host dir. */
function makeSandbox(base, n) {
  const host = join(base, 'host');
  mkdirSync(host);
  const storeDir = join(base, 'store');
  const store = new Store(storeDir);
  const { id, dir } = store.create(null);
  const upper = join(dir, 'layers', 'L000', 'upper');
  mkdirSync(upper, { recursive: true });
  mkdirSync(join(dir, 'layers', 'L000', 'work'));
  for (let i = 0; i < n; i++) {
    const d = join(upper, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(d);
    writeFileSync(join(d, `f${i}.txt`), `line ${i}\nsecond line\n`);
  }
  const now = Date.now();
  const meta = {
    version: 1, id, name: null, command: ['bench'], cwd: host, uid: process.getuid(), gid: process.getgid(),
    created: new Date(now).toISOString(), createdMs: now, finished: null, exitStatus: 0, state: 'saved',
    layersDir: join(dir, 'layers'), layers: [{ target: host, dir: 'L000', format: 'kernel' }], hidden: [], binds: [],
    options: { net: false, keepUser: false, policy: 'default', hide: [], bind: [] },
  };
  store.writeMeta(meta);
  return { store, storeDir, meta, upper, host };
}

/** Wall time and peak RSS of one CLI run (GNU time's %M). */
function cli(args, storeDir) {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, SBX, ...args], {
    env: { ...process.env, SBX_HOME: storeDir, NO_COLOR: '1' }, encoding: 'utf8', maxBuffer: 1 << 30,
  });
  const wall = ms(t);
  if (r.status !== 0) throw new Error(`sbx ${args.join(' ')}: ${r.stderr}`);
  const rssKb = Number(r.stderr.trim().split('\n').pop());
  return { wall, rssMb: rssKb / 1024, stdout: r.stdout };
}

const rows = [];
const fmt = (x) => `${x.toFixed(0)} ms`;
const sizes = (process.env.SBX_BENCH_SIZES ?? '10000,100000').split(',').filter(Boolean).map(Number);
const commits = (process.env.SBX_BENCH_COMMIT ?? '10000,50000').split(',').filter(Boolean).map(Number);
const reviews = (process.env.SBX_BENCH_REVIEW ?? '200000').split(',').filter(Boolean).map(Number);

for (const n of sizes) {
  const base = mkdtempSync('/dev/shm/sbx-bench-');
  try {
    const sb = makeSandbox(base, n);
    const [findMs] = time(() => spawnSync('find', [sb.upper], { stdio: ['ignore', 'ignore', 'inherit'] }));
    const list = cli(['diff', '--name-only', sb.meta.id], sb.storeDir);
    const lines = list.stdout.split('\n').length - 1;
    if (lines !== n + n / 100) throw new Error(`expected ${n + n / 100} changes, listed ${lines}`);
    rows.push([`list ${n} added files (sbx diff --name-only)`, fmt(list.wall), `find: ${fmt(findMs)}`, `${(list.wall / findMs).toFixed(1)}×`]);
    const stat = cli(['diff', '--stat', sb.meta.id], sb.storeDir);
    rows.push([`diff --stat ${n} files`, fmt(stat.wall), `find: ${fmt(findMs)}`, `${(stat.wall / findMs).toFixed(1)}×`]);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

for (const n of reviews) {
  const base = mkdtempSync('/dev/shm/sbx-bench-');
  try {
    const sb = makeSandbox(base, n);
    const [findMs] = time(() => spawnSync('find', [sb.upper], { stdio: ['ignore', 'ignore', 'inherit'] }));
    const r = cli(['diff', sb.meta.id], sb.storeDir);
    rows.push([`review ${n} changes (sbx diff)`, `${fmt(r.wall)}, ${r.rssMb.toFixed(0)} MB`, `find: ${fmt(findMs)}`, `${(r.wall / findMs).toFixed(1)}×`]);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

for (const n of commits) {
  const base = mkdtempSync('/tmp/sbx-bench-');
  try {
    const sb = makeSandbox(base, n);
    const cpDst = join(base, 'cp-copy');
    const [cpMs] = time(() => spawnSync('cp', ['-a', sb.upper, cpDst], { stdio: 'inherit' }));
    let wroteMs = 0;
    const t = process.hrtime.bigint();
    const rep = commitSandbox(sb.store, sb.meta, {
      only: [], exclude: [], force: false, dryRun: false,
      progress: (done, total) => { if (done === total) wroteMs = ms(t); },
    });
    const allMs = ms(t);
    if (!rep.complete) throw new Error('bench commit incomplete');
    rows.push([`commit ${n} files (durable, checked)`, fmt(wroteMs), `cp -a: ${fmt(cpMs)}`, `${(wroteMs / cpMs).toFixed(1)}×`]);
    rows.push([`  … and remove the sandbox`, fmt(allMs), `cp -a: ${fmt(cpMs)}`, `${(allMs / cpMs).toFixed(1)}×`]);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), ['what', 'sbx', 'baseline', 'ratio'][i].length));
const line = (r) => r.map((c, i) => c.padEnd(w[i])).join('  ');
console.log(line(['what', 'sbx', 'baseline', 'ratio']));
for (const r of rows) console.log(line(r));
