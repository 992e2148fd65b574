// Visible skips. A test that cannot run here is registered as uvu's test.skip (counted in the
// closing line and by scripts/run-tests.mjs) and named with its reason, never a test that
// returns early and counts as a pass. Decide before the test runs: the reason is known at load.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import { CI, IS_ROOT } from './sbx.js';

type Handler = Parameters<typeof test>[1];

/**
 * `test` when `skipWhy` is null, else a visible skip. With `missing: true` the reason is a
 * missing host or kernel feature: under CI=true that is a failure, not a skip.
 */
export function testUnless(skipWhy: string | null, opts: { missing?: boolean } = {}): (name: string, fn: Handler) => void {
  return (name, fn) => {
    if (skipWhy === null) return test(name, fn);
    if (opts.missing && CI) return test(name, () => { throw new Error(`CI=true and ${skipWhy}`); });
    console.log(`  skip: ${name} (${skipWhy})`);
    test.skip(name, fn);
  };
}

/**
 * The runner runs every integration file as root and again as the unprivileged test user: a
 * case for one of them is a visible skip in the other run (which has its own case).
 */
export const ROOT_CASE = IS_ROOT ? null : 'a root case: the run as root covers it';
export const USER_CASE = IS_ROOT ? 'an unprivileged case: the run as the test user covers it' : null;

/** Whether `cmd` is a program on PATH here (a test's tool: strace, umoci, curl...). */
export const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
