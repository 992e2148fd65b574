// Writing 10,000 small files inside a sandbox through each overlay path, next to the same
// write on the host: kernel overlayfs (root --map-root), idmapped lower layers (sudo default),
// fuse-overlayfs (an unprivileged user writing a system tree). Medians of a few runs.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { row, runAlone } from './_lib.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const FILES = Number(process.env.BENCH_FILES || 10000);
const RUNS = Number(process.env.BENCH_RUNS || 3);
const USER = 'sbxtest';
const writer = (dir) => `mkdir -p ${dir} && cd ${dir} && i=0; while [ $i -lt ${FILES} ]; do echo $i > f$i; i=$((i+1)); done`;

function median(xs) { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; }

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

export async function rows() {
  const rows = [];
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
  if (isRoot && spawnSync('id', ['-u', USER]).status === 0) {
    const copy = mkdtempSync('/tmp/sbx-bench-copy-');
    chmodSync(copy, 0o755);
    for (const p of ['package.json', 'dist', 'native', 'policies', 'scripts', 'node_modules']) cpSync(join(repo, p), join(copy, p), { recursive: true });
    spawnSync('chmod', ['-R', 'a+rX', copy]);
    const asUser = (dir) => {
      const userStore = `/tmp/sbx-bench-ustore-${process.pid}`;
      const r = timeIt('setpriv', ['--reuid', USER, '--regid', USER, '--init-groups', '--reset-env', 'env', `HOME=/home/${USER}`, `SBX_HOME=${userStore}`, 'PATH=/usr/bin:/bin',
        process.execPath, join(copy, 'dist/bin/sbx.js'), 'run', '-n', '-q', '--', 'sh', '-c', writer(dir)], { cwd: `/home/${USER}` });
      rmSync(userStore, { recursive: true, force: true });
      return r;
    };
    rows.push(['kernel overlay (unprivileged, in $HOME)', asUser(`/home/${USER}/sbx-bench-w`)]);
    rows.push(['fuse-overlayfs (unprivileged, in /opt)', asUser('/opt/sbx-bench-w')]);
    rmSync(copy, { recursive: true, force: true });
  }


  const ms = (name) => rows.find(([n]) => n === name)?.[1];
  const asRow = (r) => (r && r.ms !== undefined ? { ms: r.ms, cpu: NaN } : null);
  const kernel = ms('kernel overlay (unprivileged, in $HOME)');
  const fuse = ms('fuse-overlayfs (unprivileged, in /opt)');
  const out = [row(`${FILES} small writes via fuse-overlayfs (ordinary user, /opt)`, asRow(fuse), 'kernel overlay (same user, $HOME)', asRow(kernel), { goal: 3, note: fuse?.error ?? (fuse ? '' : 'needs root to run as sbxtest') })];
  const rootK = ms('kernel overlay (root, --map-root)');
  if (rootK) out.push(row(`${FILES} small writes, root, kernel overlay`, asRow(rootK), 'the host, no sandbox', asRow(ms('host (no sandbox)'))));
  return out;
}

await runAlone(import.meta.url, rows);
