// What host-moves.test.ts and host-moves-home.test.ts share: sbx run as the test user from the
// runner's readable copy of the build, the test user's own stores and canaries, and tmpfs
// mounts on the host that a test releases even when it fails.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { IS_ROOT } from './sbx.js';
import { CANARY } from './canary-name.js';

export const TEST_USER = 'sbxtest';
// The runner's copy of the build that the test user can read (the clone may sit under /root).
export const userCopy = process.env.SBX_TEST_USER_COPY;

/** A store of the test user's own (sbx refuses one owned by someone else). */
export function makeUserStore(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-test-store-'));
  chownSync(dir, Number(spawnSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).stdout), 0);
  return dir;
}

/** sbx from the user's readable copy, run as the test user. */
export function runAsUser(store: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync('setpriv', ['--reuid', TEST_USER, '--regid', TEST_USER, '--init-groups', process.execPath, join(userCopy!, 'dist', 'bin', 'sbx.js'), ...args], {
    encoding: 'utf8', input: '', cwd: '/', timeout: 60_000,
    env: { ...process.env, HOME: `/home/${TEST_USER}`, SBX_HOME: store, NO_COLOR: '1', ...env },
  });
}

/** Why a test that mounts on the host and runs sbx as the test user cannot run here (null: it can). */
export const MOUNTS_AS_ROOT = IS_ROOT && userCopy ? null : 'needs root to mount on the host, and the test user\'s copy of the build';

/** The test user's uid. */
export const userId = (): number => Number(spawnSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).stdout);

/** A canary dir of the test user's own in its home (mode 0755). */
export function userHomeCanary(): string {
  const d = mkdtempSync(join(`/home/${TEST_USER}`, CANARY));
  chownSync(d, userId(), userId());
  chmodSync(d, 0o755);
  return d;
}

/** The tmpfs mounts one test makes on the host; `release` unmounts what is left, newest first. */
export function hostMounts(source: string) {
  const mounted: string[] = [];
  const unmount = (dir: string): void => {
    spawnSync('umount', [dir]);
    const i = mounted.lastIndexOf(dir);
    if (i >= 0) mounted.splice(i, 1);
  };
  return {
    mount(dir: string, owner?: number): void {
      mkdirSync(dir, { recursive: true });
      const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=1m${owner === undefined ? '' : `,uid=${owner},gid=${owner}`}`, source, dir], { encoding: 'utf8' });
      assert.is(r.status, 0, r.stderr);
      mounted.push(dir);
    },
    unmount,
    release(): void { while (mounted.length) unmount(mounted[mounted.length - 1]!); },
  };
}
