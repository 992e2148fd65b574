// Start-up: `sbx run -n -q -- true` and `sbx --version` next to `node -e 0` (the floor of any Node
// CLI), the namespace floor (`unshare`), and where the time of a run goes: step by step beside
// the floor's same steps (bench/_phase-marks.cjs, no profiler), and one `node --cpu-prof` run
// of the shipped bundle, its samples split into phases.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CA_FILE_AT_START, REPO, SBX, inTurns, median, row, runAlone, time, timeVs } from './_lib.mjs';
import { createRequire } from 'node:module';

const claimFloor = createRequire(import.meta.url)('./_floor-claim.cjs');

/** Debian's CA bundle (ca-certificates): what a machine that sets the variable usually names. */
const SYSTEM_CA = '/etc/ssl/certs/ca-certificates.crt';

/**
 * How many functions V8 compiled with its optimizing compiler (TurboFan) in one run of
 * `[file, args]` (`--trace-opt`, the flag put before the script): in a short run such a compile
 * is ~10 ms of a background thread beside the helper, and its writes fault on the pages the
 * fork of the helper shares (one in an ordinary user's run cost it ~6.6 ms, 2026-12-03). The
 * caller gives it a cache dir of its own (V8 rejects a code cache made under other flags): the
 * run counted comes after two that write it (the first compiles the seccomp policy instead).
 */
function optimizingCompiles(file, args, env) {
  // Before the script: right after Node itself, wherever that is in the command (setpriv, env).
  const at = file === process.execPath ? -1 : args.indexOf(process.execPath);
  const argv = at < 0 ? ['--trace-opt', ...args] : [...args.slice(0, at + 1), '--trace-opt', ...args.slice(at + 1)];
  const run = () => spawnSync(file, argv, { encoding: 'utf8', env: { ...process.env, ...env } });
  run();
  run();
  const r = run();
  if (r.status !== 0) return null;
  const names = [...r.stdout.matchAll(/completed compiling 0x[0-9a-f]+ <JSFunction ([^ ]*)/g)].map((m) => m[1] || '(anonymous)');
  return { count: names.length, names };
}

/** The steps bench/_phase-marks.cjs marks, in order, each named for what ends at it. */
const STEPS = [
  ['preload', "Node's start"],
  ['script', 'the entry and its part read'],
  ['script-done', "the part's code cache deserialised"],
  ['fork', "the part's top level and the plan"],
  ['forked', 'the fork and exec of the helper'],
  ['helper-exit', 'the helper (the sandbox, the command)'],
  ['exit', 'after the helper'],
];

/**
 * Median ms and page faults of each step of `runs` runs of each command (`[file, args]`, run
 * in turn, `node -r bench/_phase-marks.cjs` inserted before the script), from Node's start to
 * its exit event: Node's own exit after it is left out (timed from here it would include this
 * process's spawn, a fork of a big process). A step a command does not reach (the floor
 * compiles no part) counts into the next one it does.
 */
function stepSplit(cmds, env, runs = 15) {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-bench-marks-'));
  try {
    const got = cmds.map(() => []);
    for (let i = 0; i < runs; i++) {
      cmds.forEach(([file, args], c) => {
        const marksFile = join(dir, `marks-${c}`);
        rmSync(marksFile, { force: true });
        const r = spawnSync(file, ['-r', join(REPO, 'bench', '_phase-marks.cjs'), ...args], { stdio: 'ignore', env: { ...process.env, ...env, SBX_BENCH_MARKS: marksFile } });
        if (r.status !== 0 || !existsSync(marksFile)) return;
        const marks = new Map(JSON.parse(readFileSync(marksFile, 'utf8').trim().split('\n').pop()).map(([k, ms, flt]) => [k, { ms, flt }]));
        const steps = {};
        let prev = { ms: 0, flt: 0 };
        for (const [k] of STEPS) {
          const m = marks.get(k);
          if (!m) continue;
          steps[k] = { ms: m.ms - prev.ms, flt: m.flt - prev.flt };
          prev = m;
        }
        got[c].push(steps);
      });
    }
    const mid = (xs) => median(xs.filter((x) => x !== null && x !== undefined)) ?? null;
    return got.map((list) => (list.length ? Object.fromEntries(STEPS.map(([k]) => k).map((k) => [k, { ms: mid(list.map((s) => s[k]?.ms)), flt: mid(list.map((s) => s[k]?.flt)) }])) : null));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The sum of stepSplit's medians: from Node's start to the exit event; null for no runs. */
const stepsTotal = (steps) => (steps ? Number(Object.values(steps).reduce((t, x) => t + (x.ms ?? 0), 0).toFixed(0)) : null);

/** One note of stepSplit's medians, sbx's beside the floor's: "step sbx/floor ms (faults sbx/floor)". */
function stepNote(sbxSteps, floorSteps) {
  if (!sbxSteps) return 'n/a: the marked runs failed';
  const n = (v, d = 1) => (v === null || v === undefined ? '-' : v.toFixed(d));
  const parts = STEPS.map(([k, what]) => {
    const a = sbxSteps[k], b = floorSteps?.[k];
    return `${what} ${n(a.ms)}${b ? `/${n(b.ms)}` : ''} (${n(a.flt, 0)}${b ? `/${n(b.flt, 0)}` : ''} faults)`;
  });
  return `ms, sbx${floorSteps ? '/the floor' : ''}, median of each step: ${parts.join('; ')}`;
}

/** Phases of one profiled run, in ms of samples: module loading, sbx's own code, waiting for the helper, GC. */
function phases(store, cache) {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-bench-prof-'));
  try {
    const t = process.hrtime.bigint();
    spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '100', SBX, 'run', '-n', '-q', '--', 'true'], { stdio: 'ignore', env: { ...process.env, SBX_HOME: store, XDG_CACHE_HOME: cache } });
    const wall = Number(process.hrtime.bigint() - t) / 1e6;
    const p = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), 'utf8'));
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const sum = { load: 0, sbx: 0, idle: 0, gc: 0, other: 0 };
    p.samples.forEach((id, i) => {
      const d = p.timeDeltas[i] / 1000;
      const leaf = byId.get(id).callFrame;
      if (leaf.functionName === '(idle)') { sum.idle += d; return; }
      if (leaf.functionName === '(garbage collector)') { sum.gc += d; return; }
      // From the leaf up: Node compiling a built-in module, or the entry's loadPart reading and
      // compiling (or deserializing from the code cache) a part before any of the part's own
      // code runs, is loading; any other frame of dist/bin/ is sbx's code.
      let kind = 'other';
      for (let n = id; n !== undefined; n = parent.get(n)) {
        const f = byId.get(n).callFrame;
        if (f.functionName === 'compileForInternalLoader' || f.url.includes('node:internal/modules')) { kind = 'load'; break; }
        if (f.functionName === 'loadPart' && f.url.includes('/dist/bin/')) { kind = 'load'; break; }
        if (f.url.includes('/dist/bin/')) { kind = 'sbx'; break; }
      }
      sum[kind] += d;
    });
    const profiled = (p.endTime - p.startTime) / 1000;
    return { wall, boot: wall - profiled, ...sum };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The run's own cgroups in SBX_DEBUG_SPEC's output (sbx made and removed them): the floor makes them as sbx does. */
const cgroupsOf = (stderr) => [...new Set([...stderr.matchAll(/"(\/sys\/fs\/cgroup\/[^/"]+\/sbx-[^/"]+)/g)].map((m) => m[1]))];

/**
 * The arguments of bench/_run-floor.cjs for the spec of a `sbx run -n -q -- true`, the run
 * the floor is compared with (root's: the layers on a tmpfs of the helper's own; an ordinary
 * user's: fuse-overlayfs daemons, newuidmap and newgidmap, the helper's stand-in copies): the
 * layers dir as sbx made it before the launch (bench/_snap-layers.cjs), the helper, the spec,
 * the version it expects, the run's cgroup dirs; or a string saying why not. The spec is
 * caught by starting sbx with SBX_HELPER set to a script that copies it and the layers dir
 * and execs the real helper. The helper makes the layer dirs and removes them again, so with
 * that dir made again first, the same spec runs again and again. `base` is the checkout or
 * the copy the run starts from; `as` turns a command into [file, args] started as the user
 * the run is measured as (with its own environment, `env` added).
 */
function floorSpecThrowaway(dir, env, { base = REPO, as = (cmd, e) => [cmd[0], cmd.slice(1), { ...process.env, ...e }] } = {}) {
  const helper = join(base, 'native', 'build', 'sbx-helper');
  const spec = join(dir, 'spec'), version = join(dir, 'version'), wrap = join(dir, 'wrap.sh'), layers = join(dir, 'layers.json');
  // The helper starts with an empty environment: the paths are written into the script.
  writeFileSync(wrap, `#!/bin/sh\nif [ "$1" = run ]; then cp /proc/self/fd/3 '${spec}' && printf '%s' "$4" > '${version}' && '${process.execPath}' '${join(base, 'bench', '_snap-layers.cjs')}' '${spec}' '${dir}' || exit 125; fi\nexec '${helper}' "$@"\n`);
  chmodSync(wrap, 0o755);
  const [file, args, runEnv] = as([join(base, 'dist', 'bin', 'sbx.js'), 'run', '-n', '-q', '--', 'true'], { ...env, SBX_HELPER: wrap, SBX_DEBUG_SPEC: '1' });
  const r = spawnSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: runEnv });
  if (r.status !== 0 || !existsSync(layers)) return `the run: ${r.stderr.trim().split('\n').pop()}`;
  return claimFloor(['--layers', layers, helper, spec, readFileSync(version, 'utf8'), ...cgroupsOf(r.stderr)]);
}

/**
 * The same for a saved sandbox's run (`--in`): its layers stay, so its spec runs again as it
 * is. Not the spec of a `run -n`: no layer dirs made or removed, and its overlays are not
 * volatile.
 */
function floorSpec(dir, env) {
  const helper = join(REPO, 'native', 'build', 'sbx-helper');
  const spec = join(dir, 'spec'), version = join(dir, 'version'), wrap = join(dir, 'wrap.sh');
  const saved = spawnSync(SBX, ['run', '-q', '--name', 'sbx-bench-floor', '--', 'sh', '-c', ': > /sbx-bench-floor'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, ...env } });
  if (saved.status !== 0) return `the saved sandbox: ${saved.stderr.trim().split('\n').pop()}`;
  // The helper starts with an empty environment: the paths are written into the script. Only
  // a run's spec is caught (a review whose scan the run's helper did not make starts it too).
  writeFileSync(wrap, `#!/bin/sh\nif [ "$1" = run ]; then cp /proc/self/fd/3 '${spec}' && printf '%s' "$4" > '${version}' || exit 125; fi\nexec '${helper}' "$@"\n`);
  chmodSync(wrap, 0o755);
  const r = spawnSync(SBX, ['run', '--in', 'sbx-bench-floor', '-q', '--', 'true'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, ...env, SBX_HELPER: wrap, SBX_DEBUG_SPEC: '1' } });
  if (r.status !== 0 || !existsSync(spec)) return `the run in it: ${r.stderr.trim().split('\n').pop()}`;
  return claimFloor([helper, spec, readFileSync(version, 'utf8'), ...cgroupsOf(r.stderr)]);
}

/** Microseconds one first-touch page fault costs here (a native machine: well under 1; this VM: ~2-4). */
function faultUs() {
  const pages = 4096;
  const r = spawnSync(process.execPath, ['-e', `const f = () => process.resourceUsage().minorPageFault; const t = process.hrtime.bigint(); const a = f(); const m = new Uint8Array(new SharedArrayBuffer(${pages} * 4096)); for (let i = 0; i < m.length; i += 4096) m[i] = 1; const n = f() - a; console.log(n > ${pages} / 2 ? (Number(process.hrtime.bigint() - t) / 1e3 / n).toFixed(0) : 'n/a')`], { encoding: 'utf8' });
  return r.stdout.trim() || 'n/a';
}

/**
 * Where the helper's time goes in `runs` saved runs of `sbx run -- true` (SBX_DEBUG_TIMES=1,
 * native/times.c: the outer process's steps): median ms of making the layer dirs, mounting
 * the overlays (all of their steps), removing their volatile marks (the scraps) and the syncfs,
 * and how many overlays; with the cost of one mkdir and one rmdir in `dir` (the store's
 * filesystem), each the median of 200. null when the lines are missing.
 */
function savedRunSteps(env, dir, runs = 5) {
  const got = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, [SBX, 'run', '--', 'true'], { encoding: 'utf8', env: { ...process.env, ...env, SBX_DEBUG_TIMES: '1' } });
    const lines = [...r.stderr.matchAll(/^sbx-helper time (\d+) \+[\d.]+ ([\d.]+) [\d.]+ [-\d.]+ (.*)$/gm)].filter((m) => m[1] !== '1' && m[1] !== '2');
    if (r.status !== 0 || !lines.length) return null;
    const sum = (re) => lines.filter((m) => re.test(m[3])).reduce((s, m) => s + Number(m[2]), 0);
    got.push({ entries: sum(/^entries$/), overlays: sum(/^overlay/), count: lines.filter((m) => m[3] === 'overlay').length, scraps: sum(/^scrapped$/), sync: sum(/^synced$/) });
  }
  const mk = [], rm = [];
  for (let i = 0; i < 200; i++) {
    const p = join(dir, `op-${i}`);
    const a = process.hrtime.bigint();
    mkdirSync(p);
    const b = process.hrtime.bigint();
    rmdirSync(p);
    mk.push(Number(b - a) / 1e3);
    rm.push(Number(process.hrtime.bigint() - b) / 1e3);
  }
  const mkdirUs = median(mk), rmdirUs = median(rm);
  const mid = (k) => median(got.map((g) => g[k]));
  return { entries: mid('entries'), overlays: mid('overlays'), count: mid('count'), scraps: mid('scraps'), sync: mid('sync'), mkdirUs, rmdirUs };
}

/** Root's rows (the user running the bench). */
async function rootRows() {
  const store = mkdtempSync(join(tmpdir(), 'sbx-bench-'));
  // A code cache of this build's own, written by warm-up runs: in the shared ~/.cache
  // another checkout's sbx (another build) replaces it, and every timed run would compile.
  // Two: the first compiles the seccomp policy and leaves the code cache to the next run
  // (cli/code-cache.ts), as a user's first run after an install does.
  const cache = mkdtempSync(join(tmpdir(), 'sbx-bench-cache-'));
  try {
    const env = { SBX_HOME: store, XDG_CACHE_HOME: cache };
    for (let i = 0; i < 2; i++) spawnSync(process.execPath, [SBX, 'run', '-n', '-q', '--', 'true'], { stdio: 'ignore', env: { ...process.env, ...env } });
    spawnSync(process.execPath, [SBX, '--version'], { stdio: 'ignore', env: { ...process.env, ...env } });
    // The headline rows run in turns with their floor (timeVs): this VM's load comes in bursts.
    const NODE0 = [process.execPath, ['-e', '0']];
    // As a user starts it: the program (/bin/sh runs the launcher lines, cli/launcher.ts).
    const runVs = timeVs(NODE0, [SBX, ['run', '-n', '-q', '--', 'true']], { env });
    const node = runVs?.a ?? null, run = runVs?.b ?? null;
    // Issue 14's own row: without -q the review of the (empty) change list runs and prints.
    const loudVs = timeVs(NODE0, [SBX, ['run', '-n', '--', 'true']], { env });
    const versionVs = timeVs(NODE0, [SBX, ['--version']], { env });
    const version = versionVs?.b ?? null;
    // The commands after a run (ls, diff, commit, discard) start as this: their own part of
    // the bundle, clipanion and the one command (cli/command-parts.ts).
    const lsVs = timeVs(NODE0, [SBX, ['ls']], { env });
    // The default command: a saved run, its layers in the store (here under tmpdir()); with
    // no change the sandbox is removed again.
    const savedVs = timeVs([SBX, ['run', '-n', '-q', '--', 'true']], [SBX, ['run', '--', 'true']], { env });
    const saved = savedRunSteps(env, store);
    // With NODE_EXTRA_CA_CERTS set (on this VM it is: a system CA bundle), both sides.
    const caFile = CA_FILE_AT_START ?? (existsSync(SYSTEM_CA) ? SYSTEM_CA : null);
    const caEnv = caFile ? { ...env, NODE_EXTRA_CA_CERTS: caFile } : null;
    const nodeCa = caEnv && time(process.execPath, ['-e', '0'], { env: caEnv });
    const runCa = caEnv && time(SBX, ['run', '-n', '-q', '--', 'true'], { env: caEnv });
    const runCaNode = caEnv && time(process.execPath, [SBX, 'run', '-n', '-q', '--', 'true'], { env: caEnv });
    const printFloor = time(process.execPath, [join(REPO, 'bench', '_print-floor.cjs')]);
    const unshare = time('unshare', ['-Urmpf', '--mount-proc', 'true']);
    // The floor of any Node CLI that runs a command in new namespaces: Node's start, loading
    // child_process, one spawn, the namespaces, waiting for the exit.
    const nodeNs = time(process.execPath, ['-e', "require('child_process').spawnSync('unshare', ['-Urmpf', '--mount-proc', 'true'])"]);
    // On tmpfs, as a throwaway run's layers are: the saved sandbox's store is in this dir.
    const floorDir = mkdtempSync('/dev/shm/sbx-bench-floor-');
    const floorArgs = floorSpec(floorDir, { ...env, SBX_HOME: join(floorDir, 'store') });
    const savedFloor = typeof floorArgs === 'string' ? null : time(process.execPath, [join(REPO, 'bench', '_run-floor.cjs'), ...floorArgs]);
    rmSync(floorDir, { recursive: true, force: true });
    const throwawayDir = mkdtempSync(join(tmpdir(), 'sbx-bench-floor-n-'));
    const throwawayArgs = floorSpecThrowaway(throwawayDir, env);
    // In turns with sbx's run: sbx against its floor is the row the start-up's gap rests on,
    // and timed apart (minutes after sbx's own row) it read 0.98x in one run, 1.24x in the next.
    const floorVs = typeof throwawayArgs === 'string' ? null : timeVs([process.execPath, [join(REPO, 'bench', '_run-floor.cjs'), ...throwawayArgs]], [SBX, ['run', '-n', '-q', '--', 'true']], { env });
    const runFloor = floorVs?.a ?? null;
    const traceCache = mkdtempSync(join(tmpdir(), 'sbx-bench-trace-cache-'));
    const opt = optimizingCompiles(process.execPath, [SBX, 'run', '-n', '-q', '--', 'true'], { ...env, XDG_CACHE_HOME: traceCache });
    rmSync(traceCache, { recursive: true, force: true });
    // The launcher is left out (`node -r` runs the entry directly), as the floor has none.
    const split = stepSplit([[process.execPath, [SBX, 'run', '-n', '-q', '--', 'true']], ...(runFloor ? [[process.execPath, [join(REPO, 'bench', '_run-floor.cjs'), ...throwawayArgs]]] : [])], env);
    rmSync(throwawayDir, { recursive: true, force: true });
    const ph = phases(store, cache);
    const f = (x) => x.toFixed(0);
    return [
      row('`sbx run -n -q -- true`', run, '`node -e 0`', node, { goal: 1.2, note: inTurns(runVs) }),
      row('`sbx run -n -- true` (without -q: the empty review printed)', loudVs?.b ?? null, '`node -e 0`', loudVs?.a ?? null, { goal: 1.2, note: `the command issue 14 names; the rows below measure -q, which skips the review and puts root's layers on the helper's tmpfs; ${inTurns(loudVs)}` }),
      row('`sbx run -- true` (saved: the default, no -n; with no change the sandbox is removed)', savedVs?.b ?? null, '`sbx run -n -q -- true`', savedVs?.a ?? null, {
        note: saved ? `${inTurns(savedVs)}; its layers in the store on disk, not tmpfs: here a mkdir costs ${saved.mkdirUs.toFixed(0)} µs, an rmdir ${saved.rmdirUs.toFixed(0)} µs (tmpfs: a few). The helper made the layer dirs in ${saved.entries.toFixed(1)} ms, mounted ${saved.count} overlays in ${saved.overlays.toFixed(1)} ms (the kernel's work-dir checks make and remove a few inodes for each), removed their volatile marks in ${saved.scraps.toFixed(1)} ms and synced in ${saved.sync.toFixed(1)} ms (SBX_DEBUG_TIMES=1, median of 5); sbx then removes the empty sandbox's dirs` : 'its helper steps could not be read',
      }),
      row('`sbx --version`', version, '`node -e 0`', versionVs?.a ?? null, { goal: 1.1, note: inTurns(versionVs) }),
      row('`sbx ls` (no saved sandbox)', lsVs?.b ?? null, '`node -e 0`', lsVs?.a ?? null, { note: `how ls, diff, commit and discard start: their own part (clipanion and that command), the config read; ${inTurns(lsVs)}` }),
      row(`  … \`sbx run -n -q -- true\` with NODE_EXTRA_CA_CERTS set (${caFile ?? 'no CA file here'})`, runCa, '`node -e 0` with it', nodeCa, { note: `Node 20 reads the file before any JavaScript; sbx's launcher keeps it from sbx's own Node and gives it back to the command (cli/launcher.ts). \`node sbx.js run -n -q -- true\`, past the launcher: ${runCaNode ? `${runCaNode.ms.toFixed(0)} ms` : 'n/a'}. Every other row runs without the variable` }),
      row('  … against a Node script that prints one line', version, 'that script', printFloor, { note: `the floor of --version: Node's file loader and a write; its faults ${printFloor?.flt ?? 'n/a'}, sbx --version's ${version?.flt ?? 'n/a'}` }),
      row('`unshare -Urmpf --mount-proc true`', unshare, '', null, { note: 'the namespaces alone: the kernel floor of a run' }),
      row('`node` spawning `unshare -Urmpf --mount-proc true`', nodeNs, '`node -e 0`', node, { note: "the floor of a run from Node: start, child_process, one spawn, the namespaces; sbx's goal is 1.2x node alone" }),
      row('  … the floor of a run from Node with this helper', runFloor, '`node -e 0`', node, { note: typeof throwawayArgs === 'string' ? throwawayArgs : "node, the run's cgroups and layers dir made (with the stand-in files sbx copies there), the helper on the spec sbx made for a `run -n -q -- true` (root's: the layers on the helper's tmpfs), waited for, the layers dir and cgroups removed: no run from Node with this helper can beat it" }),
      row('  … the same floor on a saved sandbox\'s spec (`run --in`)', savedFloor, 'that floor', runFloor, { note: typeof floorArgs === 'string' ? floorArgs : "the spec of a run in a saved sandbox (store on tmpfs here): no layer dirs made or removed by the helper, overlays not volatile; this was the floor row before 2026-12-02" }),
      row('  … `sbx run -n -q -- true` against that floor', floorVs?.b ?? null, 'the floor', runFloor, { note: `what sbx loads and plans before the helper and does after it; ${inTurns(floorVs)}` }),
      // Counted, not timed: load on a shared machine stretches time, not this.
      row('minor page faults of `sbx run -n -q -- true`', run?.flt ?? null, '`node -e 0`', node?.flt ?? null, { unit: 'faults', note: `the node+unshare floor: ${nodeNs?.flt ?? 'n/a'}; each costs ~${faultUs()} us on this machine, so what a run touches is much of what it costs` }),
      row('`sbx run -n -q -- true` step by step, beside the floor\'s same steps', stepsTotal(split[0]), 'the floor', stepsTotal(split[1]),
        { note: `${stepNote(split[0], split[1])}; each step timed at public points (vm.Script, the helper\'s spawn and exit, the exit event) by bench/_phase-marks.cjs, no profiler, 15 runs each, in turn; the sums are to the exit event, Node\'s own exit after it left out` }),
      row('functions compiled by V8\'s optimizing compiler during `sbx run -n -q -- true`', opt ? opt.count : null, '', null, { unit: 'functions', note: `${opt?.names.length ? opt.names.join(', ') : 'none'}; one run with --trace-opt after two that wrote its code cache: in a run this short such a compile is ~10 ms of a background thread beside the helper` }),
      row('`sbx run -n -q -- true` phases (one --cpu-prof run)', Number(ph.wall.toFixed(0)), '', null,
        { note: `node boot and exit ${f(ph.boot)}, loading modules ${f(ph.load)}, sbx code ${f(ph.sbx)}, waiting for the helper and sandbox ${f(ph.idle)}, GC ${f(ph.gc)}, other ${f(ph.other)} ms` }),
    ];
  } finally {
    rmSync(store, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  }
}

/** The unprivileged test user the test runner makes (scripts/run-tests.mjs). */
const TEST_USER = 'sbxtest';

/**
 * `sbx run -n -q -- true` as an ordinary user (fuse-overlayfs for the system trees, the stand-in
 * copies, the dirs shown empty, newuidmap), against `node -e 0` started the same way and the
 * floor of that run (node and this helper on the spec sbx made for it, as root's floor row):
 * setpriv to the test user, its own environment, a copy of the build it can read (the
 * checkout may not be), a store and cache dir of its own warmed up as the root rows' are. A
 * string says why not.
 */
function asTestUser() {
  if (process.getuid?.() !== 0) return 'needs root to run as the test user';
  if (spawnSync('id', ['-u', TEST_USER], { stdio: 'ignore' }).status !== 0) return `no user ${TEST_USER} (npm test makes it)`;
  const copy = mkdtempSync(join(tmpdir(), 'sbx-bench-user-'));
  try {
    for (const part of ['package.json', 'dist', 'policies', join('native', 'build'), join('bench', '_run-floor.cjs'), join('bench', '_snap-layers.cjs')]) cpSync(join(REPO, part), join(copy, part), { recursive: true });
    const store = join(copy, 'store'), cache = join(copy, 'cache'), floorDir = join(copy, 'floor');
    for (const d of [store, cache, floorDir]) mkdirSync(d);
    spawnSync('chmod', ['-R', 'a+rX', copy]);
    spawnSync('chown', [`${TEST_USER}:${TEST_USER}`, store, cache, floorDir]);
    for (const d of [store, cache, floorDir]) chmodSync(d, 0o700);
    const home = `/home/${TEST_USER}`;
    const base = { HOME: existsSync(home) ? home : copy, SBX_HOME: store, XDG_CACHE_HOME: cache, PATH: '/usr/local/bin:/usr/bin:/bin' };
    const as = (cmd, env = {}) => ['setpriv', ['--reuid', TEST_USER, '--regid', TEST_USER, '--init-groups', '--reset-env', 'env', ...Object.entries({ ...base, ...env }).map(([k, v]) => `${k}=${v}`), ...cmd], process.env];
    const sbxCmd = as([join(copy, 'dist', 'bin', 'sbx.js'), 'run', '-n', '-q', '--', 'true']);
    for (let i = 0; i < 2; i++) spawnSync(sbxCmd[0], sbxCmd[1], { stdio: 'ignore' });
    const check = spawnSync(sbxCmd[0], sbxCmd[1], { encoding: 'utf8' });
    if (check.status !== 0) return `the run failed: ${check.stderr.trim().split('\n').pop()}`;
    const floorArgs = floorSpecThrowaway(floorDir, {}, { base: copy, as });
    const nodeCmd = as([process.execPath, '-e', '0']);
    const floorCmd = typeof floorArgs === 'string' ? null : as([process.execPath, join(copy, 'bench', '_run-floor.cjs'), ...floorArgs]);
    // In turns with `node -e 0`, as root's headline rows.
    const pair = timeVs([nodeCmd[0], nodeCmd[1]], [sbxCmd[0], sbxCmd[1]]);
    // The floor in turns with sbx too, as root's.
    const floorPair = floorCmd && timeVs([floorCmd[0], floorCmd[1]], [sbxCmd[0], sbxCmd[1]]);
    const timed = { run: pair?.b ?? null, node: pair?.a ?? null, pair, floor: floorPair?.a ?? null, floorPair, floorWhy: typeof floorArgs === 'string' ? floorArgs : '' };
    // After the timed runs, with a cache dir of its own (V8 rejects a code cache made under other flags).
    const traceCache = join(copy, 'trace-cache');
    mkdirSync(traceCache, { mode: 0o700 });
    spawnSync('chown', [`${TEST_USER}:${TEST_USER}`, traceCache]);
    const [traced, tracedArgs] = as([process.execPath, join(copy, 'dist', 'bin', 'sbx.js'), 'run', '-n', '-q', '--', 'true'], { XDG_CACHE_HOME: traceCache });
    return { ...timed, opt: optimizingCompiles(traced, tracedArgs, {}) };
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/** The rows of an ordinary user's run (a block of its own: the rows above are root's). */
function userRows() {
  const u = asTestUser();
  const why = typeof u === 'string' ? u : '';
  const r = typeof u === 'string' ? { run: null, node: null, pair: null, floor: null, floorPair: null, floorWhy: u, opt: null } : u;
  return [
    row(`\`sbx run -n -q -- true\` as an ordinary user (${TEST_USER})`, r.run, '`node -e 0` as that user', r.node, { goal: 1.2, note: why || `both through setpriv and env; one read-only fuse-overlayfs daemon under \`/\`'s kernel overlay, newuidmap, the copies shown empty; ${inTurns(r.pair)}` }),
    row('  … the floor of that run from Node with this helper', r.floor, '`node -e 0` as that user', r.node, { note: r.floorWhy || "as that user: node, the layers dir made, the helper on the spec sbx made for this user's `run -n -q -- true` (its fuse-overlayfs daemon, newuidmap and newgidmap, the stand-in copies the helper makes), waited for, what is left of the layers dir removed: no run from Node with this helper can beat it" }),
    row("  … that user's `sbx run -n -q -- true` against that floor", r.floorPair?.b ?? null, 'the floor', r.floor, { note: `what sbx loads and plans before the helper and does after it, as that user; ${inTurns(r.floorPair)}` }),
    row('  … functions compiled by V8\'s optimizing compiler during it', r.opt ? r.opt.count : null, '', null, { unit: 'functions', note: why || `${r.opt?.names.length ? r.opt.names.join(', ') : 'none'}; as for root's row above` }),
  ];
}

export async function rows() {
  return [...await rootRows(), ...userRows()];
}

await runAlone(import.meta.url, rows);
