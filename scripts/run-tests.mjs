// Runs every compiled uvu test file in its own process and ends with the one line CI reads:
// "N passed, N failed". Integration tests run twice: as root and as an unprivileged user that
// this script creates, from a copy of the build that user can read.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, mkdtempSync, mkdirSync, cpSync, rmSync, chmodSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv[2]; // 'unit', 'integration', 'security' or a path fragment
const TEST_USER = 'sbxtest';

function listTests(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listTests(p));
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

// The mount points of this namespace (mountinfo's fifth field, octal escapes kept).
const mountPoints = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '');
/** Whether a mount sits below `dir`: a tree is never removed through one (that would empty the mounted tree). */
const mountedBelow = (dir) => mountPoints().some((m) => m.startsWith(`${dir}/`));

const TEST_LANG = 'C.UTF-8';
// This suite's id, in the name of every canary tree its tests make.
const RUN = randomBytes(4).toString('hex');
process.env.SBX_TEST_RUN = RUN;
// Node 20 reads the file NODE_EXTRA_CA_CERTS names before any JavaScript (~90 ms a start on a VM
// whose environment sets it, as this one's does). The tests start node thousands of times and
// make no TLS connection, so root's files run without it, as the test user's always did
// (setpriv --reset-env); launcher.test sets it itself to check what sbx does with it.
delete process.env.NODE_EXTRA_CA_CERTS;
// A version manager's shim first on PATH (pyenv's `python3` is a bash script that runs several
// more before the interpreter: ~250 ms of CPU a start on the VM this was measured on) is paid at
// each of the hundreds of python3 starts of root's files (the pty harness, xattr helpers,
// commands inside sandboxes): the dir of the interpreter it leads to goes first on PATH, as the
// shim's own exec puts it there. The test user's PATH is setpriv's own.
(function interpreterFirst(name) {
  const r = spawnSync(name, ['-S', '-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  const exe = r.status === 0 ? r.stdout.trim() : '';
  if (!exe.startsWith('/')) return;
  const path = (process.env.PATH ?? '').split(':');
  if (path.find((d) => d && existsSync(join(d, name))) === dirname(exe)) return;
  process.env.PATH = [dirname(exe), ...path].join(':');
})('python3');

// The test files running now, and the signal that stops the run (SIGINT, SIGTERM, SIGHUP): a
// run killed before its end left the test user's copy of the tree (~100 MB) in /tmp, and its
// files' TMPDIRs. Stopped so, the running files are ended (SIGTERM: the preload names the test
// each was in), none is started after them, and the run ends as any other does: each file's
// TMPDIR removed, then the copy, then the canaries its files left.
const children = new Set();
let stoppedBy = null;
// Each file's TMPDIR until it is removed (a stopped run removes what is left once the processes
// below are gone).
const scratches = new Set();

/**
 * Processes this run's test files started that outlive them (a file ended by a signal never
 * runs its after hooks: an `sbx run` of a long `sleep` it would have stopped lives on, holding
 * its store in the file's TMPDIR): every process whose environment carries this run's
 * SBX_TEST_RUN, which the runner sets for its files and they pass on.
 */
function strays() {
  const mine = `SBX_TEST_RUN=${RUN}`;
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    let env;
    try { env = readFileSync(`/proc/${d}/environ`, 'latin1'); } catch { continue; }
    if (env.split('\0').includes(mine)) out.push(Number(d));
  }
  return out;
}

/** SIGTERM to each stray (sbx then ends its sandbox and removes it), SIGKILL to what is left after 10 s. */
async function endStrays() {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  let left = strays();
  if (left.length) console.log(`sbx-test: ending ${left.length} process(es) the stopped files left running`);
  for (const [signal, wait] of [['SIGTERM', 10_000], ['SIGKILL', 2_000]]) {
    for (const pid of left) try { process.kill(pid, signal); } catch { /* gone */ }
    for (const end = Date.now() + wait; (left = strays()).length && Date.now() < end;) await sleep(100);
    if (!left.length) return;
  }
  console.log(`sbx-test: still running: ${left.join(' ')}`);
}
for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.on(sig, () => {
    if (stoppedBy) return;
    stoppedBy = { sig, n };
    console.log(`sbx-test: ${sig}: ending the ${children.size} running test file(s), then cleaning up`);
    for (const c of children) c.kill('SIGTERM');
  });
}

function runFile(file, asUser, env) {
  return new Promise((resolve) => {
    const label = `${relative(env.SBX_TEST_ROOT, file)}${asUser ? ` [as ${TEST_USER}]` : ''}`;
    // Each file's temp dirs go under a scratch TMPDIR of its own, removed when it ends: a file
    // killed at its timeout (or crashed) cannot clean up after itself.
    // Searchable by all, as /tmp is: a root test hands files in it to the test user's sbx.
    const scratch = mkdtempSync('/tmp/sbx-testrun-');
    scratches.add(scratch);
    chmodSync(scratch, 0o755);
    if (asUser) spawnSync('chown', [`${TEST_USER}:${TEST_USER}`, scratch]);
    // setpriv --reset-env keeps only HOME, USER, LOGNAME, SHELL, TERM and a PATH of its own (root's
    // PATH would name dirs the user cannot search, and execvp would say EACCES, not ENOENT):
    // what the test needs (CI above all) is passed through env(1) after it.
    const userEnv = { SBX_TEST_ROOT: env.SBX_TEST_ROOT, SBX_TEST_RUN: RUN, CI: env.CI ?? '', TMPDIR: scratch, LANG: TEST_LANG, ...(process.env.SBX_TEST_TIMES ? { SBX_TEST_TIMES: process.env.SBX_TEST_TIMES } : {}) };
    // The preload names the test that was running if the file ends before uvu's summary.
    const node = [process.execPath, '--import', join(env.SBX_TEST_ROOT, 'scripts', 'test-current.mjs'), file];
    const cmd = asUser
      ? ['setpriv', ['--reuid', TEST_USER, '--regid', TEST_USER, '--init-groups', '--reset-env', 'env', ...Object.entries(userEnv).map(([k, v]) => `${k}=${v}`), ...node]]
      : [node[0], node.slice(1)];
    const childEnv = { ...env, TMPDIR: scratch, LANG: TEST_LANG };
    // sbx's decorations and escaping follow the locale (sandbox-core/base/charset.ts): every
    // test runs in the same UTF-8 one, whatever the caller's; a test of another sets its own.
    delete childEnv.LC_ALL;
    delete childEnv.LC_CTYPE;
    const started = Date.now();
    const child = spawn(cmd[0], cmd[1], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], cwd: asUser ? env.SBX_TEST_ROOT : root });
    children.add(child);
    if (stoppedBy) child.kill('SIGTERM');
    let out = '';
    // When uvu printed its summary: a process that lives on after it (a timer or a handle left
    // open) costs the suite that time in silence, so it is named.
    let summaryAt = 0;
    child.stdout.on('data', (d) => { out += d; if (!summaryAt && out.includes('Duration:')) summaryAt = Date.now(); });
    child.stderr.on('data', (d) => { out += d; });
    // SIGTERM first: the preload then says which test was running.
    let killer;
    const timer = setTimeout(() => { child.kill('SIGTERM'); killer = setTimeout(() => child.kill('SIGKILL'), 10_000); }, 300_000);
    child.on('close', (code) => {
      children.delete(child);
      clearTimeout(timer);
      clearTimeout(killer);
      let left = [];
      try { left = readdirSync(scratch); } catch { /* gone */ }
      // Never through a mount a killed file left: that would empty the mounted tree.
      const mounted = mountedBelow(scratch);
      if (left.length) out += `  left in its TMPDIR${mounted ? ` (a mount inside: kept at ${scratch})` : ', removed now'}: ${left.join(', ')}\n`;
      if (!mounted) try { rmSync(scratch, { recursive: true, force: true }); scratches.delete(scratch); } catch (e) { out += `  could not remove ${scratch}: ${e.message}\n`; }
      // uvu's own summary strips colour only when not a TTY; strip ANSI anyway.
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
      const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
      // uvu's Total does not include skipped tests.
      let failed = total - passed;
      if (code !== 0 && failed === 0) failed = 1; // a crash before uvu's summary still counts
      const seconds = (Date.now() - started) / 1000;
      const idle = summaryAt ? (Date.now() - summaryAt) / 1000 : 0;
      if (idle > 3) out += `  its process lived ${idle.toFixed(0)} s after its last test: a timer or handle left open\n`;
      process.stdout.write(out);
      console.log(`--- ${label}: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''} (${seconds.toFixed(1)} s)`);
      // What failed, for the list at the end: uvu's FAIL lines, the preload's line, or the status.
      const why = [...plain.matchAll(/^\s*FAIL\s+(.*)$/gm), ...plain.matchAll(/^sbx-test: (.*)$/gm)].map((m) => m[1]);
      if (failed && !why.length) why.push(`no uvu summary; exit status ${code}`);
      resolve({ passed, failed, seconds, label, started, ended: Date.now(), why: failed ? why : [] });
    });
  });
}

function ensureTestUser() {
  if (spawnSync('id', ['-u', TEST_USER], { stdio: 'ignore' }).status !== 0) {
    const r = spawnSync('useradd', ['--create-home', '--shell', '/bin/sh', TEST_USER], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`could not create test user ${TEST_USER}`);
  }
  if (!existsSync(`/home/${TEST_USER}`)) spawnSync('mkhomedir_helper', [TEST_USER]);
}

// The clone may live where other users cannot read (e.g. /root): give the test user a copy.
function readableCopy() {
  const dir = mkdtempSync('/tmp/sbx-testcopy-');
  chmodSync(dir, 0o755);
  for (const part of ['package.json', 'dist', 'native', 'policies', 'scripts', 'node_modules', 'test']) {
    if (existsSync(join(root, part))) cpSync(join(root, part), join(dir, part), { recursive: true, verbatimSymlinks: true });
  }
  spawnSync('chmod', ['-R', 'a+rX', dir]);
  return dir;
}

// Matched within dist/test only: the checkout's own path (a worktree named after a suite) must
// not make every file match.
const testsDir = join(root, 'dist', 'test');
const files = listTests(testsDir).filter((f) => !only || relative(testsDir, f).includes(only));
const isRoot = process.getuid?.() === 0;
// Two jobs at a time (SBX_TEST_JOBS to change): most of a sandbox test's time is spent waiting on
// processes, and a file's root and unprivileged runs use different stores and canaries. A file
// says in a comment what it cannot share the machine with:
// - `sbx-test: serial`: nothing beside it (it sweeps its uid's trees, keeps a store in a tree
//   every run overlays).
// - `sbx-test: serial as root`: its run as root has nothing beside it (it commits into the host's
//   own /usr, reads the cgroup a CPU cap made); its unprivileged run is placed by its other marks.
// - `sbx-test: host-mounts`: it mounts on the host or compares the host's mount table before and
//   after: it runs beside unprivileged jobs of other files only. Their processes cannot change the
//   host's mount table (a sandbox's mounts are in its own namespace), root's can. A file whose
//   unprivileged run mounts on the host itself (fusermount3) is `serial`: every run's view,
//   an ordinary user's too, is planned from the host's mounts.
// - `sbx-test: host-free`: it runs no sandbox and touches nothing of the host the marks above
//   guard (mounts, stores and their scratch trees, /usr, cgroups, core_pattern): it may run
//   beside anything, a serial job too, whose other lane idled before (~70 s of lane time, ~35 s
//   of the suite's wall, in the durations of 2026-12-04).
const lanes = Math.max(1, Number(process.env.SBX_TEST_JOBS) || 2);
const marks = (f) => {
  const t = readFileSync(f, 'utf8');
  return { serial: /sbx-test: serial(?! as root)/.test(t), serialAsRoot: t.includes('sbx-test: serial as root'), mounts: t.includes('sbx-test: host-mounts'), hostFree: t.includes('sbx-test: host-free') };
};
const beside = (a, b) => a.hostFree || b.hostFree || (!a.serial && !b.serial && !(a.mounts && b.mounts) && (!a.mounts || !b.root) && (!b.mounts || !a.root));

// How long each job took last time, to start the longest first: a long file started last
// leaves the other lane idle at the end. This clone's last run (node_modules/.cache), else the
// table kept with the scripts (a fresh clone: what CI runs), else a guess by kind.
const cacheFile = join(root, 'node_modules', '.cache', 'sbx-test', 'durations.json');
const readTimes = (p) => { try { return JSON.parse(readFileSync(p, 'utf8')); } catch { return {}; } };
const known = { ...readTimes(join(root, 'scripts', 'test-durations.json')), ...readTimes(cacheFile) };
const expected = (key) => known[key] ?? (key.startsWith('dist/test/unit/') ? 1 : 8);

let passed = 0;
let failed = 0;
let copy;
const jobs = [];
for (const f of files) {
  const isIntegration = /\/test\/(integration|security)\//.test(f);
  const m = lanes > 1 ? marks(f) : { serial: false, serialAsRoot: false, mounts: false, hostFree: false };
  const key = relative(root, f);
  jobs.push({ key, ...m, serial: m.serial || (m.serialAsRoot && isRoot), root: isRoot, run: () => runFile(f, false, { ...process.env, SBX_TEST_ROOT: root, ...(copy ? { SBX_TEST_USER_COPY: copy } : {}) }) });
  if (isIntegration && isRoot) {
    jobs.push({ key: `${key} [as ${TEST_USER}]`, ...m, root: false, run: () => runFile(join(copy, relative(root, f)), true, { SBX_TEST_ROOT: copy, CI: process.env.CI ?? '' }) });
  } else if (isIntegration && process.env.CI === 'true') {
    console.log(`--- ${relative(root, f)} [as unprivileged user]: needs root to create the test user`);
    failed += 1;
  }
}
// The serial jobs first, one at a time with only host-free jobs beside them (placed among the
// others, each waited for the lanes to drain: the fresh-clone run of 2026-12-02 idled ~110 s
// so), then the host-mounts ones (one at a time, beside unprivileged jobs), then the rest
// longest first.
const rank = (j) => (j.serial ? 2 : j.mounts ? 1 : 0);
jobs.sort((a, b) => rank(b) - rank(a) || expected(b.key) - expected(a.key) || (a.key < b.key ? -1 : 1));
// Made before any job starts: a root test that runs sbx as the test user too finds the copy in
// SBX_TEST_USER_COPY.
if (isRoot && jobs.length > files.length) { ensureTestUser(); copy = readableCopy(); }
// A canary tree a test made (named with RUN: test/helpers/canary-name.ts) and did not remove
// (its clean-up never ran, or failed quietly) is found here, named with the files that were
// running when it was made, counted as a failure and removed: tests must leave nothing
// behind, even when they fail.
const canaryParents = [...new Set(['/opt', '/var/tmp', '/tmp', '/root', `/home/${TEST_USER}`, process.env.HOME].filter(Boolean))];
const canaries = () => canaryParents.flatMap((d) => { try { return readdirSync(d).filter((n) => n.startsWith(`sbx-canary-${RUN}-`)).map((n) => join(d, n)); } catch { return []; } });
const began = Date.now();
const timings = [];
try {
  const running = new Map();
  const queue = [...jobs];
  while (queue.length && !stoppedBy) {
    // The first job in the order that can run beside those running; a serial job that must
    // wait is passed over by host-free jobs only (others would keep it waiting for ever for the
    // lanes to empty), which it can start beside.
    let i = -1;
    if (running.size < lanes) {
      let waiting = false;
      for (let k = 0; k < queue.length; k++) {
        if ((!waiting || queue[k].hostFree) && [...running.values()].every((r) => beside(queue[k], r))) { i = k; break; }
        if (queue[k].serial) waiting = true;
      }
    }
    if (i < 0) { await Promise.race(running.keys()); continue; }
    const [job] = queue.splice(i, 1);
    const p = job.run().then((r) => { passed += r.passed; failed += r.failed; timings.push({ ...r, key: job.key }); running.delete(p); });
    running.set(p, job);
  }
  await Promise.all(running.keys());
  if (stoppedBy) {
    await endStrays();
    // What those processes wrote in their files' TMPDIRs after the files ended (never through a mount).
    for (const d of scratches) if (existsSync(d) && !mountedBelow(d)) rmSync(d, { recursive: true, force: true });
  }
} finally {
  if (copy) rmSync(copy, { recursive: true, force: true });
}
// Kept for the next run's order; a partial run updates its own files only.
try {
  const last = readTimes(cacheFile);
  for (const t of timings) last[t.key] = Math.round(t.seconds * 10) / 10;
  mkdirSync(dirname(cacheFile), { recursive: true });
  writeFileSync(cacheFile, `${JSON.stringify(last, null, 1)}\n`);
} catch (e) { console.log(`could not keep the durations in ${cacheFile}: ${e.message}`); }
const slowest = timings.sort((a, b) => b.seconds - a.seconds).slice(0, 5).map((t) => `${t.label} ${t.seconds.toFixed(0)} s`);
console.log(`slowest: ${slowest.join('; ')}; wall ${((Date.now() - began) / 1000).toFixed(0)} s with ${lanes} lanes`);
const left = canaries();
const leftovers = [];
for (const c of left) {
  let born = 0;
  try { born = statSync(c).birthtimeMs; } catch { /* gone meanwhile */ }
  const during = timings.filter((t) => t.started <= born && born <= t.ended).map((t) => t.label);
  const mounted = mountPoints().some((m) => m === c || m.startsWith(`${c}/`));
  leftovers.push(`left behind: ${c} (made ${born ? new Date(born).toISOString() : 'at an unknown time'}, while ${during.join(', ') || 'no test file'} ran)${mounted ? '; a mount inside: kept' : '; removed now'}`);
  console.log(leftovers.at(-1));
  if (!mounted) { spawnSync('chmod', ['-R', 'u+rwx', c]); rmSync(c, { recursive: true, force: true }); }
  failed += 1;
}
const failures = timings.filter((t) => t.why.length);
if (failures.length || leftovers.length) console.log(`failed:\n${[...failures.map((t) => `  ${t.label}: ${t.why.join('; ')}`), ...leftovers.map((l) => `  ${l}`)].join('\n')}`);
if (stoppedBy) console.log(`stopped by ${stoppedBy.sig}: the test files not run yet are not counted`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(stoppedBy ? 128 + stoppedBy.n : failed === 0 && files.length > 0 ? 0 : 1);
