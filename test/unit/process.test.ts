import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pidAlive, pidRunning } from '../../sandbox-core/base/process.js';

test('pidRunning: a zombie answers kill(pid, 0) but does not run; a live process does; a gone one does not', async () => {
  // The child ends once its parent has become `sleep`, which never waits for it: a zombie. (A
  // child that ended while its parent was still the shell could be waited for by the shell.)
  const child = 'while [ "$(cat /proc/$PPID/comm)" != sleep ]; do sleep 0.01; done';
  const parent = spawn('sh', ['-c', `sh -c '${child}' & echo $!; exec sleep 30`], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    let out = '';
    parent.stdout!.on('data', (d) => { out += d; });
    const end = Date.now() + 10_000;
    while (!/\n/.test(out) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    const zombie = Number(out.trim());
    const state = (): string => { try { const st = readFileSync(`/proc/${zombie}/stat`, 'latin1'); return st[st.lastIndexOf(')') + 2] ?? ''; } catch { return ''; } };
    while (state() !== 'Z' && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.is(state(), 'Z', 'control: the child is a zombie');
    assert.ok(pidAlive(zombie), 'kill(pid, 0) still answers for it');
    assert.not.ok(pidRunning(zombie));
    assert.ok(pidRunning(parent.pid!));
    assert.ok(pidRunning(process.pid));
  } finally {
    parent.kill('SIGKILL');
  }
  await new Promise((r) => (parent.exitCode !== null || parent.signalCode !== null ? r(null) : parent.once('exit', r)));
  assert.not.ok(pidRunning(parent.pid!), 'a process waited for is gone');
});

test.run();
