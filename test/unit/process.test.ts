import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pidAlive, pidRunning, procStatFields, readProcText } from '../../sandbox-core/base/process.js';
import { sweepStaleCgroups } from '../../sandbox-core/cgroup/lifecycle.js';
import { CONTROLLERS, realCgroupFs, type CgroupPlan } from '../../sandbox-core/cgroup/plan.js';
import { makeZombie } from '../helpers/zombie.js';

test('pidRunning: a zombie answers kill(pid, 0) but does not run; a live process does; a gone one does not', async () => {
  const z = await makeZombie();
  try {
    assert.ok(pidAlive(z.pid), 'kill(pid, 0) still answers for it');
    assert.not.ok(pidRunning(z.pid));
    assert.ok(pidRunning(z.parentPid));
    assert.ok(pidRunning(process.pid));
  } finally {
    await z.end();
  }
  assert.not.ok(pidRunning(z.parentPid), 'a process waited for is gone');
});

test('readProcText: a procfs file (size 0) read whole; the stat fields after the name', () => {
  const st = readProcText(`/proc/${process.pid}/stat`);
  assert.ok(st.startsWith(`${process.pid} (`));
  assert.ok(st.endsWith('\n'));
  const f = procStatFields(process.pid)!;
  assert.is(f[0], 'R', 'this process runs while it reads');
  assert.is(Number(f[1]), process.ppid, 'field 4 is the parent');
  assert.ok(readProcText('/proc/self/mountinfo').length > 0);
});

test('sweepStaleCgroups: removes the cgroups of a gone or zombie sbx under every parent, keeps a running one and its own', async () => {
  // Plain directories stand in for the controllers' parents: the sweep lists and rmdirs them.
  const top = mkdtempSync(join(tmpdir(), 'sbx-sweep-'));
  const z = await makeZombie();
  try {
    const gone = spawnSync('true').pid!;
    const parents = ['memory', 'pids'].map((c) => join(top, c));
    const names = [`sbx-0000000a-${process.pid}`, `sbx-0000000b-${z.parentPid}`, `sbx-0000000c-${gone}`, `sbx-0000000d-${z.pid}`, 'sbx-canary-x'];
    for (const p of parents) for (const n of names) mkdirSync(join(p, n), { recursive: true });
    const off = { ok: false as const, why: 'test' };
    const controllers = Object.fromEntries(CONTROLLERS.map((c) => [c, off])) as CgroupPlan['controllers'];
    controllers.memory = { ok: true, version: 1, parent: parents[0]! };
    controllers.pids = { ok: true, version: 1, parent: parents[1]! };
    const plan: CgroupPlan = { uid: 0, hierarchies: [], controllers, devicesV1: off, devicesBpf: off, v2Parent: null, v2Enable: [] };
    const removed = sweepStaleCgroups(plan, realCgroupFs).sort();
    assert.equal(removed, parents.flatMap((p) => [join(p, names[2]!), join(p, names[3]!)]).sort());
    for (const p of parents) assert.equal(readdirSync(p).sort(), [names[0], names[1], names[4]].sort());
  } finally {
    await z.end();
    rmSync(top, { recursive: true, force: true });
  }
});

test.run();
