// Resource exhaustion from inside: an inode flood ends inside the sandbox; the host stays usable
// and the change list readable. The fork bomb under --pids and the memory hog under --memory are
// test/integration/limits.test.ts's (their exit status, what sbx says, the host forking after,
// no bomb process left, sbx running again in the file's next test); the disk fillers are disk.test.ts's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';

import { makeStore, sbx, removeStore } from '../helpers/sbx.js';

const store = makeStore();
test.after(() => { removeStore(store); });

const hostResponsive = () => spawnSync('sh', ['-c', 'echo alive'], { encoding: 'utf8' }).stdout === 'alive\n';

test('an inode flood stays in the sandbox and the change list is still readable', () => {
  const r = sbx(['run', '--name', 'flood', '-q', '--', 'sh', '-c', 'mkdir -p /tmp/sbx-flood && cd /tmp/sbx-flood && i=0; while [ $i -lt 5000 ]; do : > f$i; i=$((i+1)); done; echo made'], { store, timeoutMs: 300_000 });
  assert.is(r.code, 0, r.stderr);
  assert.is(spawnSync('test', ['-e', '/tmp/sbx-flood']).status, 1, 'the flood reached the host');
  assert.ok(hostResponsive());
  const d = sbx(['diff', '--name-only', 'flood'], { store, timeoutMs: 120_000 });
  assert.is(d.code, 0, d.stderr);
  assert.ok(d.stdout.split('\n').filter((l) => l.startsWith('/tmp/sbx-flood/f')).length === 5000);
  sbx(['discard', 'flood'], { store });
});

test.run();
