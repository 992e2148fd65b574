// Resource limits with the real kernel. The runner executes this file as root (cgroups
// enforce the limits) and as an unprivileged user without a delegated cgroup (rlimits, and one
// line saying what is not enforced). Each test asserts the behaviour of the mode it runs in.
// The CPU cap, which wants nothing beside it, is limits-cpu.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { CI, IS_ROOT, makeStore, sbx, sbxAsync, type SbxResult, removeStore } from '../helpers/sbx.js';
import { assertNoCgroupsOf, removeCgroupDirs, sbxCgroupDirs } from '../helpers/cgroups.js';

const store = makeStore();
const made: string[] = [];

test.after(() => {
  removeStore(store);
});

const run = (args: string[], timeoutMs = 60_000): SbxResult => sbx(args, { store, timeoutMs });


function hasV1(controller: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => / - cgroup /.test(l) && l.split(' ').pop()!.split(',').includes(controller));
}

const waitFor = async (pred: () => boolean, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (pred()) return true; await new Promise((r) => setTimeout(r, 50)); }
  return pred();
};

test('a fork bomb under --pids 64 ends, stays within the limit, and the host keeps running', async () => {
  const marker = `forkbomb${process.pid}`;
  const child = sbxAsync(['run', '-n', '--pids', '64', '--timeout', '2s', '--', 'bash', '-c', `f(){ f | f & }; f; sleep 100 # ${marker}`], { store, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const t = Date.now();
  let peak = 0;
  const sample = setInterval(() => {
    const n = Number(spawnSync('pgrep', ['-c', '-f', `^bash -c .*${marker}$`], { encoding: 'utf8' }).stdout.trim() || 0);
    peak = Math.max(peak, n);
  }, 100);
  const code = await new Promise<number>((r) => child.on('exit', (c, s) => r(c ?? (s ? 128 : -1))));
  clearInterval(sample);
  assert.is(code, 124, stderr);
  assert.ok(Date.now() - t < 30_000, 'ended long after the timeout');
  assert.ok(peak > 1, 'the bomb never ran');
  assert.ok(peak <= 64, `${peak} bomb processes at once under --pids 64`);
  assert.ok(await waitFor(() => spawnSync('pgrep', ['-f', `^bash -c .*${marker}$`]).status !== 0, 5000), 'bomb processes survived');
  assert.is(spawnSync('true').status, 0, 'the host can still fork');
  if (IS_ROOT) {
    assert.match(stderr, /sbx: pids limit 64 reached \(\d+ forks? refused\)/);
    assert.match(stderr, /sbx: killed: timeout 2s/);
  } else {
    assert.match(stderr, /no writable cgroup for uid \d+: .*--pids is RLIMIT_NPROC/);
    // The view's own announcement (directories shown empty to an ordinary user) is another
    // matter; what the limits could not enforce is said in one line.
    assert.is(stderr.split('\n').filter((l) => l.startsWith('sbx: warning:') && /enforc|cgroup|RLIMIT/.test(l)).length, 1, 'one line about what is not enforced');
  }
  assertNoCgroupsOf(child.pid!, made);
});

test('allocating 1 GiB under --memory 128M fails and sbx says why', () => {
  // Without -q: the line about what is not enforced is a warning, which -q silences.
  const r = run(['run', '-n', '--memory', '128M', '--', 'python3', '-c', 'b = bytearray(1 << 30); b[::4096] = b"x" * len(b[::4096]); print("survived")']);
  assert.not.match(r.stdout, /survived/);
  if (IS_ROOT) {
    if (CI || hasV1('memory') || existsSync('/sys/fs/cgroup/cgroup.controllers')) {
      assert.is(r.code, 137, r.stderr);
      assert.match(r.stderr, /sbx: killed: memory limit 128M reached/);
      // Said once: the SIGKILL the limit sent is not a second line.
      assert.not.match(r.stderr, /killed by signal/);
    }
  } else {
    // RLIMIT_DATA: the allocation fails inside (MemoryError), nothing is OOM-killed.
    assert.is.not(r.code, 0);
    assert.match(r.stderr, /MemoryError/);
    assert.match(r.stderr, /--memory is RLIMIT_DATA/);
  }
  assertNoCgroupsOf(r.pid, made);
  // Control: without the limit the same allocation succeeds, so the limit is what stopped it.
  const free = run(['run', '-n', '-q', '--', 'python3', '-c', 'b = bytearray(1 << 30); print("survived")']);
  assert.is(free.code, 0, free.stderr);
  assert.is(free.stdout, 'survived\n');
});

test('--timeout 1s ends sleep 100 in about a second with status 124; SIGTERM-proof commands get SIGKILL', () => {
  const r = run(['run', '-n', '-q', '--timeout', '1s', '--', 'sleep', '100']);
  assert.is(r.code, 124, r.stderr);
  assert.match(r.stderr, /sbx: killed: timeout 1s/);
  assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
  const stubborn = run(['run', '-n', '-q', '--timeout', '1s', '--', 'sh', '-c', 'trap "" TERM; sleep 100; echo late']);
  assert.is(stubborn.code, 124, stubborn.stderr);
  assert.not.match(stubborn.stdout, /late/);
  assert.ok(stubborn.ms < 15_000, `took ${stubborn.ms} ms`);
  assertNoCgroupsOf(r.pid, made);
  assertNoCgroupsOf(stubborn.pid, made);
});

test('bad limit values are usage errors naming the flag', () => {
  for (const [args, re] of [[['--memory', 'lots'], /--memory: 'lots' is not a size/], [['--timeout', '3 days'], /--timeout/], [['--pids', '0'], /--pids 0/], [['--cpus', 'x'], /--cpus x/]] as const) {
    const r = run(['run', '-n', ...args, '--', 'true']);
    assert.is.not(r.code, 0);
    assert.match(r.stderr, re);
  }
});

test('no cgroup is left after a normal exit, a failure, or SIGKILL of sbx', async () => {
  for (const cmd of [['true'], ['sh', '-c', 'exit 7'], ['sbx-no-such-command-xyz']]) {
    const r = run(['run', '-n', '-q', '--pids', '100', '--memory', '256M', '--', ...cmd]);
    assert.ok([0, 7, 127].includes(r.code), `${cmd.join(' ')}: ${r.code} ${r.stderr}`);
    assertNoCgroupsOf(r.pid, made);
  }
  // The sleep's own command line is the marker: sbx's argv holds it too, but only once the
  // sandboxed command runs is there a process whose whole command line is this.
  const marker = `^sleep 7777\\.${process.pid}$`;
  const child = sbxAsync(['run', '-n', '-q', '--pids', '100', '--', 'sleep', `7777.${process.pid}`], { store, stdio: 'ignore' });
  try {
    assert.ok(await waitFor(() => spawnSync('pgrep', ['-f', marker]).status === 0, 15_000), 'the sandbox started');
    const mine = sbxCgroupDirs(child.pid!);
    if (IS_ROOT) assert.ok(mine.length > 0, 'root runs in its own cgroups');
    else assert.equal(mine, [], 'an unprivileged user has no cgroup here');
  } finally {
    child.kill('SIGKILL');
  }
  assert.ok(await waitFor(() => spawnSync('pgrep', ['-f', marker]).status !== 0, 5000), 'sandbox processes survived SIGKILL of sbx');
  // Nobody was left to remove them; the next sbx run sweeps cgroups whose owner is gone.
  await waitFor(() => false, 200);
  const next = run(['run', '-n', '-q', '--', 'true']);
  assert.is(next.code, 0, next.stderr);
  assertNoCgroupsOf(child.pid!, made);
  assertNoCgroupsOf(next.pid, made);
});

test.after(() => {
  removeCgroupDirs(made);
});

test.run();
