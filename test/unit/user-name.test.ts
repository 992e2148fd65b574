// userName (sandbox-core/base/user-name.ts) answers what os.userInfo().username does, through
// Node's os binding: an ordinary user's subuid and subgid lines are found by that name, so any
// other answer would map the sandbox's ids through the wrong range, or none.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { userName } from '../../sandbox-core/base/user-name.js';
import { testUnless } from '../helpers/skip.js';

test('the running user: the name os.userInfo() gives', () => {
  assert.is(userName(), userInfo().username);
});

// Another uid reads it from the runner's readable copy when there is one (the clone may sit
// under /root).
const module = process.env.SBX_TEST_USER_COPY ? join(process.env.SBX_TEST_USER_COPY, 'dist', 'sandbox-core', 'base', 'user-name.js') : fileURLToPath(new URL('../../sandbox-core/base/user-name.js', import.meta.url));
/** What userName() and os.userInfo() answer in a Node running as `uid`, and whether userName() loaded node:os. */
function asUid(uid: number): { ours: string | null; node: string | null; loadedOs: boolean } {
  const code = `const { userName } = await import(${JSON.stringify(module)});
const ours = userName();
const loadedOs = process.moduleLoadList.includes('NativeModule os');
let node = null; try { node = (await import('node:os')).userInfo().username; } catch {}
console.log(JSON.stringify({ ours, node, loadedOs }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { uid, gid: 65534, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { ours: string | null; node: string | null; loadedOs: boolean };
}
const otherUsers = (): string | null => {
  if (process.getuid?.() !== 0) return 'needs root to run a Node as other uids';
  // As another uid, not root's access(): the clone may sit under /root (the runner's readable
  // copy is only made for a run with unprivileged lanes).
  if (spawnSync('test', ['-r', module], { uid: 65534, gid: 65534 }).status !== 0) return 'the build is not readable by other users here';
  return null;
};
testUnless(otherUsers())('another user\'s name, and none for a uid without a passwd entry, as os.userInfo() says, without loading node:os', () => {
  const nobody = asUid(65534);
  assert.ok(nobody.node, 'uid 65534 has a passwd entry here (nobody)');
  assert.equal(nobody, { ours: nobody.node, node: nobody.node, loadedOs: false });
  // No passwd entry: os.userInfo() throws, userName() answers null (sbx then matches by number).
  assert.equal(asUid(4_242_424), { ours: null, node: null, loadedOs: false });
});

test.run();
