// A commit that changes a file's bytes renames a new inode over the old one, and chattr's
// flags belong to the inode: nodump (d), noatime (A) and synchronous writes (S) were dropped
// by every commit that touched the file. The new inode now takes them; what it cannot take is
// said. Root's canary is in /opt, the test user's in $HOME (ext4 here: both take d, A, S).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IS_ROOT, canary, makeCanary, sbx, storeAndCanary } from '../helpers/sbx.js';
import { testUnless } from '../helpers/skip.js';

const store = storeAndCanary({ prove: true });

/** lsattr's letters of `p` that are among `which`, in that order. */
function flags(p: string, which = 'dAS'): string {
  const r = spawnSync('lsattr', ['-d', p], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const got = r.stdout.split(' ')[0]!;
  return [...which].filter((f) => got.includes(f)).join('');
}

// Decided at load: whether this filesystem (where the canaries go) takes these flags at all.
const flagsOk = (() => {
  const d = makeCanary();
  try {
    const f = join(d, 'probe');
    writeFileSync(f, 'x');
    return spawnSync('chattr', ['+dAS', f]).status === 0 && flags(f) === 'dAS';
  } catch { return false; } finally { rmSync(d, { recursive: true, force: true }); }
})();

testUnless(flagsOk ? null : 'no chattr here, or the canary\'s filesystem takes no d, A or S flag')('a file the commit rewrites keeps its chattr flags; one it cannot read them from is named', () => {
  for (const [name, set] of [['dump', '+dA'], ['sync', '+S'], ['plain', '']] as const) {
    writeFileSync(join(canary, name), 'host\n');
    if (set) assert.is(spawnSync('chattr', [set, join(canary, name)]).status, 0);
  }
  // Write-only for its owner on the host: an ordinary user cannot open it to read its flags
  // (root can). The sandbox makes its own copy readable: a copy it cannot read is not committed.
  writeFileSync(join(canary, 'wo'), 'host\n');
  assert.is(spawnSync('chattr', ['+d', join(canary, 'wo')]).status, 0);
  chmodSync(join(canary, 'wo'), 0o200);
  const r = sbx(['run', '-y', '--', 'sh', '-c', 'chmod 644 wo; for f in dump sync plain wo; do echo sandbox >> $f; done'], { store, cwd: canary });
  assert.is(r.code, 0, r.stderr);
  for (const name of ['dump', 'sync', 'plain']) assert.is(readFileSync(join(canary, name), 'utf8'), 'host\nsandbox\n', name);
  assert.is(flags(join(canary, 'dump')), 'dA');
  assert.is(flags(join(canary, 'sync')), 'S');
  assert.is(flags(join(canary, 'plain')), '');
  if (IS_ROOT) {
    assert.is(flags(join(canary, 'wo')), 'd');
    assert.not.match(r.stderr, /chattr flags not kept/);
  } else {
    assert.match(r.stderr, `chattr flags not kept on ${join(canary, 'wo')} (EACCES): set them again with chattr`);
  }
});

test.run();
