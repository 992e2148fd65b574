// Writing 10,000 small files inside a sandbox through each overlay path, next to the same
// write on the host: kernel overlayfs (root --map-root), idmapped lower layers (sudo default),
// and an unprivileged user writing a system tree (a kernel overlay over a read-only
// fuse-overlayfs daemon, sandbox-core/engines.ts). Medians of a few runs; that user's system
// tree and home runs alternate, and the fuse requests one small write costs are counted
// (load-independent); a bare fuse-overlayfs mount doing the writes itself is the path before.
// Reads too: a few compiles as that user (cc, cc1, as, ld and the headers come through `/`'s
// daemon), beside the same compiles on the host, with the requests they make.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, row, runAlone } from './_lib.mjs';
import { FUSE_RUN_OPTIONS } from '../dist/sandbox-core/engines.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const FILES = Number(process.env.BENCH_FILES || 10000);
const RUNS = Number(process.env.BENCH_RUNS || 3);
const USER = 'sbxtest';
const COMPILES = 5;
// What a build reads: cc, cc1, as, ld and the headers, through `/` (the daemon, for an ordinary user).
const compiler = `d=$(mktemp -d) && cd $d && printf '#include <stdio.h>\\n#include <stdlib.h>\\n#include <string.h>\\n#include <unistd.h>\\nint main(void){puts("x");return 0;}\\n' > m.c && i=0; while [ $i -lt ${COMPILES} ]; do cc -O1 -o m m.c; i=$((i+1)); done; cd / && rm -rf $d`;
const writer = (dir, files = FILES) => `mkdir -p ${dir} && cd ${dir} && i=0; while [ $i -lt ${files} ]; do echo $i > f$i; i=$((i+1)); done`;


function timeIt(cmd, args, opts) {
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', ...opts });
    if (r.status !== 0) return { error: (r.stderr || '').trim().split('\n').pop() };
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return { ms: median(samples) };
}

/** The run's wall milliseconds, or {error}. */
function timeOnce(cmd, args, opts) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', ...opts });
  if (r.status !== 0) return { error: (r.stderr || '').trim().split('\n').pop() };
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const TRACING = '/sys/kernel/tracing';
const COUNT_FILES = 2000;

/**
 * The fuse requests `run()` makes, by opcode: the kernel's fuse:fuse_request_send tracepoint,
 * in a tracing instance of this process's own, on the busiest connection (the tree written;
 * another session's fuse mounts are other connections). A string says why not.
 */
function fuseRequests(run) {
  // A machine that boots without tracefs mounted (no systemd to mount it) has an empty dir
  // there: mounted for this count and unmounted after, as root (this part needs root anyway).
  if (!existsSync(`${TRACING}/events`)) {
    const m = spawnSync('mount', ['-t', 'tracefs', 'nodev', TRACING], { encoding: 'utf8' });
    if (m.status !== 0) return `tracefs is not mounted at ${TRACING}, and mounting it failed: ${(m.stderr || '').trim()}`;
    try { return countFuseRequests(run); } finally { spawnSync('umount', [TRACING]); }
  }
  return countFuseRequests(run);
}

function countFuseRequests(run) {
  if (!existsSync(`${TRACING}/events/fuse/fuse_request_send`)) return 'this kernel has no fuse:fuse_request_send tracepoint';
  const inst = `${TRACING}/instances/sbx-bench-${process.pid}`;
  try { mkdirSync(inst); } catch (e) { return `no tracing instance: ${e.code ?? e.message}`; }
  try {
    writeFileSync(`${inst}/buffer_size_kb`, '16384');
    writeFileSync(`${inst}/events/fuse/fuse_request_send/enable`, '1');
    const r = run();
    writeFileSync(`${inst}/events/fuse/fuse_request_send/enable`, '0');
    if (typeof r !== 'number') return r.error || 'the run failed';
    const byConn = new Map();
    for (const m of readFileSync(`${inst}/trace`, 'utf8').matchAll(/connection (\d+) req \d+ opcode \d+ \(FUSE_(\w+)\)/g)) {
      const ops = byConn.get(m[1]) ?? new Map();
      ops.set(m[2], (ops.get(m[2]) ?? 0) + 1);
      byConn.set(m[1], ops);
    }
    const sum = (ops) => [...ops.values()].reduce((a, b) => a + b, 0);
    const ops = [...byConn.values()].sort((a, b) => sum(b) - sum(a))[0];
    if (!ops) return 'no fuse request seen';
    return { total: sum(ops), ops };
  } finally {
    rmdirSync(inst);
  }
}

/** `ops` (fuseRequests) per `per` unit, those that print as more than 0 with `digits`, biggest first. */
const opsText = (ops, per, digits = 2) => [...ops].filter(([, n]) => n / per >= 0.5 / 10 ** digits).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ${(n / per).toFixed(digits)}`).join(', ');

/**
 * The same writes with no sbx at all: the user's own namespaces (unshare -Urm), a fuse-overlayfs
 * daemon with sbx's options over /opt, next to a kernel overlay over the user's home, each
 * upper on tmpfs as a throwaway run's; alternating, whole processes timed. Their ratio is
 * fuse-overlayfs's own: what each write cost when the daemon took it. {error} when either cannot run.
 */
function bareOverlays() {
  const base = mkdtempSync('/dev/shm/sbx-bench-bare-');
  try {
    spawnSync('chown', [USER, base]);
    const side = (name, mount) => {
      const d = join(base, name);
      const script = `set -e; mkdir ${d} ${d}/u ${d}/w ${d}/m; ${mount(d)}; ${writer(`${d}/m/sbx-bench-w`)}; cd /; umount ${d}/m; rm -rf ${d}`;
      return timeOnce('setpriv', ['--reuid', USER, '--regid', USER, '--init-groups', '--reset-env', 'env', `HOME=/home/${USER}`, 'PATH=/usr/bin:/bin', 'unshare', '-Urm', 'sh', '-c', script]);
    };
    const fuseMount = (d) => `fuse-overlayfs -o lowerdir=/opt,upperdir=${d}/u,workdir=${d}/w,${FUSE_RUN_OPTIONS} ${d}/m 2>/dev/null`;
    const kernelMount = (d) => `mount -t overlay -o lowerdir=/home/${USER},upperdir=${d}/u,workdir=${d}/w,userxattr,volatile overlay ${d}/m`;
    const fuse = [], kernel = [];
    for (let i = 0; i < RUNS; i++) {
      const pair = [[fuse, 'fuse', fuseMount], [kernel, 'kernel', kernelMount]];
      for (const [list, name, mount] of i % 2 ? pair.reverse() : pair) {
        const r = side(`${name}${i}`, mount);
        if (typeof r !== 'number') return r;
        list.push(r);
      }
    }
    return { fuse: median(fuse), kernel: median(kernel), pairs: fuse.map((f, i) => f / kernel[i]) };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

export async function rows() {
  const rows = [];
  let bare = null;
  const hostDir = mkdtempSync(join(tmpdir(), 'sbx-bench-host-'));
  rows.push(['host (no sandbox)', timeIt('sh', ['-c', `${writer(join(hostDir, 'w'))}; rm -rf ${hostDir}/w`])]);
  rmSync(hostDir, { recursive: true, force: true });

  const store = mkdtempSync(join(tmpdir(), 'sbx-bench-store-'));
  const sbx = (extra, dir, env = {}, bin = join(repo, 'dist/bin/sbx.js')) => timeIt(process.execPath, [bin, 'run', '-n', '-q', ...extra, '--', 'sh', '-c', writer(dir)], { env: { ...process.env, SBX_HOME: store, ...env } });
  const isRoot = process.getuid() === 0;
  if (isRoot) {
    rows.push(['kernel overlay (root, --map-root)', sbx(['--map-root'], '/opt/sbx-bench-w')]);
    rows.push(['kernel overlay, idmapped lower (sudo default)', sbx([], '/opt/sbx-bench-w')]);
  }
  rmSync(store, { recursive: true, force: true });

  // The unprivileged paths need a user and a copy of sbx it can read.
  let requests = 'needs root to run as sbxtest';
  let compiles = null;
  if (isRoot && spawnSync('id', ['-u', USER]).status === 0) {
    const copy = mkdtempSync('/tmp/sbx-bench-copy-');
    chmodSync(copy, 0o755);
    for (const p of ['package.json', 'dist', 'native', 'policies', 'scripts', 'node_modules']) cpSync(join(repo, p), join(copy, p), { recursive: true });
    spawnSync('chmod', ['-R', 'a+rX', copy]);
    const asUser = (dir, files = FILES) => {
      const userStore = `/tmp/sbx-bench-ustore-${process.pid}`;
      const r = timeOnce('setpriv', ['--reuid', USER, '--regid', USER, '--init-groups', '--reset-env', 'env', `HOME=/home/${USER}`, `SBX_HOME=${userStore}`, 'PATH=/usr/bin:/bin',
        process.execPath, join(copy, 'dist/bin/sbx.js'), 'run', '-n', '-q', '--', 'sh', '-c', writer(dir, files)], { cwd: `/home/${USER}` });
      rmSync(userStore, { recursive: true, force: true });
      return r;
    };
    // Alternating (kernel first, then fuse first, ...): a change in the machine's load during
    // the runs falls on both sides, and each pair gives a ratio of its own.
    const kernel = [], fuse = [];
    for (let i = 0; i < RUNS; i++) {
      const pair = [[kernel, `/home/${USER}/sbx-bench-w`], [fuse, '/opt/sbx-bench-w']];
      for (const [side, dir] of i % 2 ? pair.reverse() : pair) side.push(asUser(dir));
    }
    const failed = [...kernel, ...fuse].find((r) => typeof r !== 'number');
    const pairs = kernel.map((k, i) => fuse[i] / k);
    rows.push(['kernel overlay (unprivileged, in $HOME)', failed ?? { ms: median(kernel) }]);
    rows.push(['system tree (unprivileged, in /opt)', failed ?? { ms: median(fuse), pairs }]);
    requests = fuseRequests(() => asUser('/opt/sbx-bench-w', COUNT_FILES));
    // The compiles: the user on the host, in a sandbox, and the sandbox alone, in turns.
    if (spawnSync('sh', ['-c', 'command -v cc']).status === 0) {
      const asUserCmd = (args) => timeOnce('setpriv', ['--reuid', USER, '--regid', USER, '--init-groups', '--reset-env', 'env', `HOME=/home/${USER}`, `SBX_HOME=/tmp/sbx-bench-ustore-${process.pid}`, 'PATH=/usr/bin:/bin', ...args], { cwd: `/home/${USER}` });
      const inSbx = (cmd) => [process.execPath, join(copy, 'dist/bin/sbx.js'), 'run', '-n', '-q', '--', 'sh', '-c', cmd];
      const sides = { host: [], sbx: [], empty: [] };
      const turns = [['host', ['sh', '-c', compiler]], ['sbx', inSbx(compiler)], ['empty', inSbx('true')]];
      for (let i = 0; i < 5; i++) for (const [name, args] of i % 2 ? [...turns].reverse() : turns) sides[name].push(asUserCmd(args));
      const bad = [...sides.host, ...sides.sbx, ...sides.empty].find((r) => typeof r !== 'number');
      compiles = bad ?? { host: median(sides.host), sbx: median(sides.sbx), empty: median(sides.empty), requests: fuseRequests(() => asUserCmd(inSbx(compiler))) };
      rmSync(`/tmp/sbx-bench-ustore-${process.pid}`, { recursive: true, force: true });
    } else compiles = { error: 'no cc here' };
    rmSync(copy, { recursive: true, force: true });
    bare = bareOverlays();
  }


  const ms = (name) => rows.find(([n]) => n === name)?.[1];
  const asRow = (r) => (r && r.ms !== undefined ? { ms: r.ms, cpu: NaN } : null);
  const kernel = ms('kernel overlay (unprivileged, in $HOME)');
  const fuse = ms('system tree (unprivileged, in /opt)');
  const pairNote = fuse?.pairs ? `${fuse.pairs.length} alternating pairs, per-pair ratio median ${median(fuse.pairs).toFixed(2)}× (${Math.min(...fuse.pairs).toFixed(2)}-${Math.max(...fuse.pairs).toFixed(2)}×)` : '';
  const out = [row(`${FILES} small writes in a system tree (ordinary user, /opt: kernel overlay over fuse-overlayfs)`, asRow(fuse), 'kernel overlay (same user, $HOME)', asRow(kernel), { goal: 3, note: fuse?.error ?? (fuse ? pairNote : 'needs root to run as sbxtest') })];
  out.push(typeof requests === 'string'
    ? row(`fuse requests per small write (${COUNT_FILES} files into /opt)`, null, '', null, { unit: 'requests', note: requests })
    : row(`fuse requests per small write (${COUNT_FILES} files into /opt)`, requests.total / COUNT_FILES, 'kernel overlay', 0, { unit: 'requests', note: `${opsText(requests.ops, COUNT_FILES)}; each a round trip to the daemon` }));
  if (bare) {
    const note = bare.error ?? `${bare.pairs.length} alternating pairs, per-pair ratio median ${median(bare.pairs).toFixed(2)}× (${Math.min(...bare.pairs).toFixed(2)}-${Math.max(...bare.pairs).toFixed(2)}×); no sbx: unshare -Urm, fuse-overlayfs with sbx's options over /opt taking the writes itself, as sbx's system trees did before 2026-12-03`;
    out.push(row(`  … the same writes in a bare fuse-overlayfs mount`, bare.error ? null : { ms: bare.fuse, cpu: NaN }, 'a bare kernel overlay', bare.error ? null : { ms: bare.kernel, cpu: NaN }, { note }));
  }
  if (compiles) {
    const c = compiles;
    const req = c.requests && typeof c.requests !== 'string' ? `; fuse requests per compile ${(c.requests.total / COMPILES).toFixed(0)} (${opsText(c.requests.ops, COMPILES, 0)})` : c.requests ? `; ${c.requests}` : '';
    out.push(c.error
      ? row(`${COMPILES} compiles of a small C file (ordinary user: cc, cc1, as, ld and the headers read through \`/\`'s daemon)`, null, '', null, { note: c.error })
      : row(`${COMPILES} compiles of a small C file (ordinary user: cc, cc1, as, ld and the headers read through \`/\`'s daemon)`, { ms: c.sbx - c.empty, cpu: NaN }, 'the same user on the host', { ms: c.host, cpu: NaN },
        { note: `sbx run -n -q of them ${c.sbx.toFixed(0)} ms less that of \`true\` ${c.empty.toFixed(0)} ms, the three in turns, 5 rounds, medians${req}` }));
  }
  const rootK = ms('kernel overlay (root, --map-root)');
  if (rootK) out.push(row(`${FILES} small writes, root, kernel overlay`, asRow(rootK), 'the host, no sandbox', asRow(ms('host (no sandbox)'))));
  return out;
}

await runAlone(import.meta.url, rows);
