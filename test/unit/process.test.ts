import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pidAlive, pidRunning } from '../../sandbox-core/base/process.js';
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

test.run();
