// Resource exhaustion from inside: a fork bomb under --pids, a memory hog under --memory and
// an inode flood end inside the sandbox; the host stays usable and the change list readable.
// (--disk does not exist yet: see docs/security.md.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';

import { makeStore, sbx, removeStore } from '../helpers/sbx.js';

const store = makeStore();
test.after(() => { removeStore(store); });

const hostResponsive = () => spawnSync('sh', ['-c', 'echo alive'], { encoding: 'utf8' }).stdout === 'alive\n';

test('a fork bomb is stopped by --pids', () => {
  // Each shell forks two copies of itself forever; --pids caps the sandbox, the bomb's forks
  // fail, and the sandbox ends when sbx's --timeout stops it.
  const r = sbx(['run', '-n', '-q', '--pids', '64', '--timeout', '5s', '--', 'sh', '-c', 'b() { b | b & }; b; sleep 2; echo survived'], { store, timeoutMs: 120_000 });
  // Forks fail (the shell gives up) or the timeout ends it; either way sbx itself did not fail.
  assert.ok(r.code !== 125 && r.code >= 0, `${r.code} ${r.stderr.slice(-500)}`);
  assert.ok(hostResponsive());
  const after = sbx(['run', '-n', '-q', '--', 'echo', 'next'], { store });
  assert.is(after.stdout, 'next\n');
});

test('a memory hog is killed under --memory, not the host', () => {
  const r = sbx(['run', '-n', '-q', '--memory', '64M', '--', 'python3', '-c', 'b = []\nwhile True: b.append(bytearray(16 << 20))'], { store, timeoutMs: 120_000 });
  assert.ok(r.code === 137 || r.code === 1, `${r.code} ${r.stderr}`);
  assert.ok(hostResponsive());
});

test('an inode flood stays in the sandbox and the change list is still readable', () => {
  const r = sbx(['run', '--name', 'flood', '-q', '--', 'sh', '-c', 'mkdir -p /tmp/sbx-flood && cd /tmp/sbx-flood && i=0; while [ $i -lt 5000 ]; do : > f$i; i=$((i+1)); done; echo made'], { store, timeoutMs: 300_000 });
  assert.is(r.code, 0, r.stderr);
  assert.is(spawnSync('test', ['-e', '/tmp/sbx-flood']).status, 1, 'the flood reached the host');
  const d = sbx(['diff', '--name-only', 'flood'], { store, timeoutMs: 120_000 });
  assert.is(d.code, 0, d.stderr);
  assert.ok(d.stdout.split('\n').filter((l) => l.startsWith('/tmp/sbx-flood/f')).length === 5000);
  sbx(['discard', 'flood'], { store });
});

test.run();
