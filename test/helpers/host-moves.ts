// What host-moves.test.ts and host-moves-home.test.ts share: sbx run as the test user from the
// runner's readable copy of the build, the test user's own stores and canaries, and tmpfs
// mounts on the host that a test releases even when it fails.
import { type ChildProcess, spawnSync } from 'node:child_process';
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
export function runAsUser(store: string, args: string[], env: Record<string, string> = {}, cwd = '/') {
  return spawnSync('setpriv', ['--reuid', TEST_USER, '--regid', TEST_USER, '--init-groups', process.execPath, join(userCopy!, 'dist', 'bin', 'sbx.js'), ...args], {
    encoding: 'utf8', input: '', cwd, timeout: 60_000,
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

const isMountPoint = (dir: string): boolean => spawnSync('mountpoint', ['-q', dir]).status === 0;
const pause = (ms: number): void => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); };

/**
 * `umount DIR`, asked again for up to 5 s while it fails and DIR is still a mount point: the
 * files beside this one run ordinary users' sandboxes, whose processes may hold a mount of
 * the host's for a moment (umount: EBUSY). A full suite of 2026-12-07 met that once: the
 * failure was ignored, the tmpfs stayed mounted in the canary, and the next file's view of
 * /opt was planned around it. True when DIR is no mount point now.
 */
function umountAgain(dir: string): boolean {
  for (let tries = 1, end = Date.now() + 5000; ; tries++) {
    const r = spawnSync('umount', [dir], { encoding: 'utf8' });
    if (r.status === 0 || !isMountPoint(dir)) {
      if (tries > 1) console.log(`  (umount ${dir}: busy, done at try ${tries})`);
      return true;
    }
    if (Date.now() > end) return false;
    pause(100);
  }
}

/**
 * The tmpfs mounts one test makes on the host; `unmount` fails the test when one stays
 * mounted; `release` unmounts what is left, newest first, detaching (`umount -l`) any that
 * stays busy, so that none is left on the host.
 */
export function hostMounts(source: string) {
  const mounted: string[] = [];
  const forget = (dir: string): void => {
    const i = mounted.lastIndexOf(dir);
    if (i >= 0) mounted.splice(i, 1);
  };
  return {
    mount(dir: string, owner?: number, mode?: number): void {
      mkdirSync(dir, { recursive: true });
      const opts = `size=1m${owner === undefined ? '' : `,uid=${owner},gid=${owner}`}${mode === undefined ? '' : `,mode=0${mode.toString(8)}`}`;
      const r = spawnSync('mount', ['-t', 'tmpfs', '-o', opts, source, dir], { encoding: 'utf8' });
      assert.is(r.status, 0, r.stderr);
      mounted.push(dir);
    },
    unmount(dir: string): void {
      assert.ok(umountAgain(dir), `${dir} is still mounted 5 s after its umount: something holds it`);
      forget(dir);
    },
    release(): void {
      while (mounted.length) {
        const dir = mounted[mounted.length - 1]!;
        if (!umountAgain(dir)) spawnSync('umount', ['-l', dir]);
        forget(dir);
      }
    },
  };
}

/**
 * Waits for a churning child (spawned `detached`, so it leads its own process group) that was
 * asked to stop; after `ms` it kills the whole group, so that no command of it is left to run.
 */
export async function stopped(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const late = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, ms);
  await exited;
  clearTimeout(late);
}
