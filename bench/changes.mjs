// Listing, diffing, reviewing and committing many changed files, next to find(1) and cp -a of
// the same tree on the same machine, one after the other. List, --stat and review run the
// shipped CLI end to end (`sbx diff …`, node start-up included); commit runs commitSandbox
// (files written beside their targets, one syncfs, renames, one syncfs; the journal), timed
// up to its last syncfs, with the removal of the sandbox afterwards in a row of its own and
// per-phase medians in another. Disk timings swing widely on a shared VM, so each commit size
// runs SBX_BENCH_COMMIT_ROUNDS rounds (default 5) on fresh fixtures, sbx and `cp -a`
// alternating which goes first; the rows give medians, the ratio of medians and the spread.
// Uses the build output (run `npm run build` first).
// Sizes: SBX_BENCH_SIZES (list and --stat, default 100000), SBX_BENCH_REVIEW (default 200000),
// SBX_BENCH_COMMIT (default 10000,50000). Fixtures for list/stat/review live on /dev/shm (a
// throwaway run's layers are there too); commit's on /tmp (a disk, where fsync costs).
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO, SBX, row, runAlone, time } from './_lib.mjs';

const sizes = (name, dflt) => (process.env[name] ?? dflt).split(',').filter(Boolean).map(Number);
const elapsed = (t) => Number(process.hrtime.bigint() - t) / 1e6;
const median = (xs) => { const a = [...xs].sort((x, y) => x - y); return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2; };
const span = (xs) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} ms`;
const ratioSpan = (a, b) => { const r = a.map((x, i) => x / b[i]); return `${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)}×`; };

/**
 * A fake saved sandbox whose upper holds n new files (100 per dir) over an empty host dir;
 * with `twin`, the same tree again beside it for `cp -a` (a commit removes the upper).
 */
async function makeSandbox(base, n, twin = null) {
  const { Store } = await import(join(REPO, 'dist/sandbox-core/store.js'));
  const host = join(base, 'host');
  mkdirSync(host);
  const storeDir = join(base, 'store');
  const store = new Store(storeDir);
  const { id, dir } = store.create(null);
  // Store locations derive from the id: the layers are in the entry itself.
  const upper = join(dir, 'L000', 'upper');
  mkdirSync(upper, { recursive: true });
  mkdirSync(join(dir, 'L000', 'work'));
  for (let i = 0; i < n; i++) {
    const d = join(upper, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(d);
    writeFileSync(join(d, `f${i}.txt`), `line ${i}\nsecond line\n`);
  }
  if (twin) {
    mkdirSync(twin);
    for (let i = 0; i < n; i++) {
      const d = join(twin, `d${Math.floor(i / 100)}`);
      if (i % 100 === 0) mkdirSync(d);
      writeFileSync(join(d, `f${i}.txt`), `line ${i}\nsecond line\n`);
    }
  }
  const now = Date.now();
  const meta = {
    version: 1, id, name: null, command: ['bench'], cwd: host, uid: process.getuid(), gid: process.getgid(),
    created: new Date(now).toISOString(), createdMs: now, finished: null, exitStatus: 0, state: 'saved',
    layersDir: dir, layers: [{ target: host, dir: 'L000', format: 'kernel' }], hidden: [], binds: [],
    options: { net: false, keepUser: false, policy: 'default', hide: [], bind: [] },
  };
  store.writeMeta(meta);
  return { store, storeDir, meta, upper, host };
}

/** Peak RSS in MB of one run (GNU time's %M), checking the output's line count when asked. */
function rssOf(args, storeDir, lines) {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, SBX, ...args], {
    env: { ...process.env, SBX_HOME: storeDir, NO_COLOR: '1' }, encoding: 'utf8', maxBuffer: 1 << 30,
  });
  if (r.status !== 0) throw new Error(`sbx ${args.join(' ')}: ${r.stderr}`);
  if (lines !== undefined && r.stdout.split('\n').length - 1 !== lines) throw new Error(`sbx ${args.join(' ')}: expected ${lines} lines`);
  return Number(r.stderr.trim().split('\n').pop()) / 1024;
}

/** A commit fixture on /tmp (a disk, where fsync costs), its own dir removed when done. */
async function freshSandbox(n) {
  const base = mkdtempSync('/tmp/sbx-bench-');
  try {
    return { base, twin: join(base, 'twin'), ...(await makeSandbox(base, n, join(base, 'twin'))) };
  } catch (e) {
    rmSync(base, { recursive: true, force: true });
    throw e;
  }
}

/**
 * One round: `cp -a` of the twin of the upper (then `sync`) and the commit of the fixture, in
 * the order given; `sync` before each side, so neither writes out the other's dirty pages (the
 * commit's syncfs would otherwise also pay for the fixture and cp's copy). Caches are not
 * dropped (that needs root): both sides read a tree of the same shape, freshly written and cached.
 */
function commitRound(commitSandbox, sb, sbxFirst, r) {
  try {
    const cpSide = () => {
      spawnSync('sync');
      let t = process.hrtime.bigint();
      const cp = spawnSync('cp', ['-a', sb.twin, join(sb.base, 'cp-copy')], { stdio: 'inherit' });
      const ms = elapsed(t);
      if (cp.status !== 0) throw new Error('cp -a failed');
      t = process.hrtime.bigint();
      spawnSync('sync');
      r.cp.push(ms);
      r.cpSync.push(ms + elapsed(t));
    };
    const sbxSide = () => {
      spawnSync('sync');
      const t = process.hrtime.bigint();
      let last = t, wroteMs = 0;
      const rep = commitSandbox(sb.store, sb.meta, {
        only: [], exclude: [], force: false, dryRun: false,
        progress: (done, total) => { if (done === total) wroteMs = elapsed(t); },
        phase: (name) => {
          const now = process.hrtime.bigint();
          const list = r.phases.get(name) ?? [];
          list.push(Number(now - last) / 1e6);
          r.phases.set(name, list);
          last = now;
        },
      });
      if (!rep.complete) throw new Error('bench commit incomplete');
      // The row is the commit up to its last syncfs; removing the sandbox is its own row.
      r.sbx.push(wroteMs || elapsed(t));
      r.withRemoval.push(elapsed(t));
      // The sandbox's files are deleted by a detached helper: the next side waits for it.
      const bg = process.hrtime.bigint();
      while (sb.store.removing?.().length) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      r.background.push(elapsed(bg));
    };
    if (sbxFirst) { sbxSide(); cpSide(); } else { cpSide(); sbxSide(); }
  } finally {
    rmSync(sb.base, { recursive: true, force: true });
  }
}

export async function rows() {
  const out = [];
  const runs = Number(process.env.BENCH_RUNS_BIG || 3);
  for (const n of sizes('SBX_BENCH_SIZES', '100000')) {
    const base = mkdtempSync('/dev/shm/sbx-bench-');
    try {
      const sb = await makeSandbox(base, n);
      const env = { SBX_HOME: sb.storeDir, NO_COLOR: '1' };
      rssOf(['diff', '--name-only', sb.meta.id], sb.storeDir, n + n / 100); // checks the listing, warms the cache
      const find = time('find', [sb.upper], { runs });
      const list = time(process.execPath, [SBX, 'diff', '--name-only', sb.meta.id], { runs, env });
      out.push(row(`list ${n} added files (\`sbx diff --name-only\`)`, list, '`find` of the layer', find, { max: 350, note: "try's C summary: 345 ms" }));
      // The floor of any list printed from Node: node's start, the helper's names-only scan,
      // its answer written as it came (no decoding), next to node alone.
      const floor = time(process.execPath, [join(REPO, 'bench', '_list-floor.mjs'), join(REPO, 'native', 'build', 'sbx-helper'), sb.meta.layersDir, 'L000/upper', sb.host.slice(1)], { runs });
      const node0 = time(process.execPath, ['-e', '0'], { runs });
      out.push(row(`  … its floor: node + the helper's names-only scan, answer written undecoded`, floor, '`node -e 0`', node0, { note: 'no list from Node can beat this' }));
      out.push(row(`  … sbx against that floor`, list, 'the floor', floor, {}));
      const stat = time(process.execPath, [SBX, 'diff', '--stat', sb.meta.id], { runs, env });
      out.push(row(`\`sbx diff --stat\` ${n} files`, stat, '`find` of the layer', find, { max: 2000 }));
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  }
  for (const n of sizes('SBX_BENCH_REVIEW', '200000')) {
    const base = mkdtempSync('/dev/shm/sbx-bench-');
    try {
      const sb = await makeSandbox(base, n);
      const env = { SBX_HOME: sb.storeDir, NO_COLOR: '1' };
      const find = time('find', [sb.upper], { runs });
      const review = time(process.execPath, [SBX, 'diff', sb.meta.id], { runs, env });
      out.push(row(`review ${n} changes (\`sbx diff\`)`, review, '`find` of the layer', find, { max: 2000 }));
      // Its floor: node's start and the helper's full-review scan (each new file opened,
      // stat'ed, its xattrs listed, its text read and sent), the answer written undecoded.
      const floor = time(process.execPath, [join(REPO, 'bench', '_list-floor.mjs'), join(REPO, 'native', 'build', 'sbx-helper'), sb.meta.layersDir, 'L000/upper', sb.host.slice(1), 'review'], { runs });
      out.push(row(`  … its floor: node + the helper's full-review scan, answer written undecoded`, floor, '`find` of the layer', find, { note: 'no review from Node with this helper can beat this' }));
      out.push(row(`  … sbx against that floor`, review, 'the floor', floor, {}));
      out.push(row(`  … its peak memory`, rssOf(['diff', sb.meta.id], sb.storeDir), '', null, { max: 200, unit: 'MB' }));
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  }
  const { commitSandbox } = await import(join(REPO, 'dist/sandbox-core/commit/index.js'));
  const rounds = Number(process.env.SBX_BENCH_COMMIT_ROUNDS || 5);
  for (const n of sizes('SBX_BENCH_COMMIT', '10000,50000')) {
    const r = { cp: [], cpSync: [], sbx: [], withRemoval: [], background: [], phases: new Map() };
    for (let k = 0; k < rounds; k++) commitRound(commitSandbox, await freshSandbox(n), k % 2 === 1, r);
    const cp = median(r.cp), cpSync = median(r.cpSync), sbx = median(r.sbx), gone = median(r.withRemoval);
    const spread = `median of ${rounds} rounds, each on a fresh fixture, sbx and cp -a alternating which goes first; sbx ${span(r.sbx)}, cp -a ${span(r.cp)}, per-round ratio ${ratioSpan(r.sbx, r.cp)}`;
    out.push(row(`commit ${n} files (durable, checked, journalled)`, { ms: sbx, cpu: NaN }, '`cp -a`', { ms: cp, cpu: NaN }, {
      goal: 2, note: `${spread}; cp -a neither syncs nor checks; sbx: each file replaced atomically, on disk before commit returns, host changes since the review refused, resumable after a kill; try's C commit: no fsync, no checks`,
    }));
    out.push(row(`  … the same, next to \`cp -a\` then \`sync\``, { ms: sbx, cpu: NaN }, '`cp -a; sync`', { ms: cpSync, cpu: NaN }, { note: `a durable copy, no checks; cp -a; sync ${span(r.cpSync)}, per-round ratio ${ratioSpan(r.sbx, r.cpSync)}` }));
    out.push(row(`  … and the sandbox removed after it (what \`sbx commit\` waits for)`, { ms: gone, cpu: NaN }, '`cp -a`', { ms: cp, cpu: NaN }, {
      note: `${span(r.withRemoval)}; its files then deleted in the background in a median ${median(r.background).toFixed(0)} ms (${span(r.background)}), waited for before the next side runs`,
    }));
    const phases = [...r.phases].map(([name, ms]) => `${name} ${median(ms).toFixed(0)}`).join(', ');
    out.push(row(`  … its phases (median ms of ${rounds})`, { ms: sbx, cpu: NaN }, '', null, { note: phases }));
  }
  return out;
}

await runAlone(import.meta.url, rows);
