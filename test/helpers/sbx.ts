// Shared helpers for integration tests: run the real sbx binary, make canary trees that only
// the test owns, and prove isolation before anything destructive happens.
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import { CANARY } from './canary-name.js';

export const REPO = process.env.SBX_TEST_ROOT || join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
// What ships: the bundled entry (scripts/bundle.mjs), not the tsc output.
export const SBX = join(REPO, 'dist', 'bin', 'sbx.js');
// The build as other users can read it: the runner's copy (scripts/run-tests.mjs) when there is
// one, since the clone may sit where they cannot (under /root), else the clone itself.
export const USER_REPO = process.env.SBX_TEST_USER_COPY || REPO;
export const USER_SBX = join(USER_REPO, 'dist', 'bin', 'sbx.js');
export const IS_ROOT = process.getuid?.() === 0;
export const CI = process.env.CI === 'true';

export interface SbxResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The sbx process's pid (its cgroups are named after it). */
  pid: number;
  /** How long it ran, for a generous upper bound only (no timed assertions). */
  ms: number;
}

export interface SbxOptions {
  /** The SBX_HOME this run uses (makeStore()). */
  store: string;
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** A command sbx runs under, e.g. ['prlimit', '--nofile=200:200']. */
  prefix?: string[];
}

/** A private store per test file, so tests never see the user's own sandboxes. */
export function makeStore(): string {
  const d = mkdtempSync(join(tmpdir(), 'sbx-test-store-'));
  chmodSync(d, 0o700);
  return d;
}

/** The one way tests run the sbx binary (the bundle that ships), with a private store and no colour. */
export function sbx(args: string[], opts: SbxOptions): SbxResult {
  const t = Date.now();
  const argv = [...(opts.prefix ?? []), process.execPath, SBX, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), {
    input: opts.input ?? '',
    encoding: 'utf8',
    cwd: opts.cwd ?? '/',
    env: { ...process.env, SBX_HOME: opts.store, NO_COLOR: '1', ...opts.env },
    timeout: opts.timeoutMs ?? 60_000,
    // Past spawnSync's own 1 MiB a long diff was cut and sbx killed (status null).
    maxBuffer: 1 << 28,
  });
  return { code: r.status ?? (r.signal ? 128 : -1), stdout: r.stdout ?? '', stderr: r.stderr ?? '', pid: r.pid ?? -1, ms: Date.now() - t };
}

/** `sbx run -n --report FILE ...args` in `store`: its result and the report's changes as "KIND PATH", sorted (the report's dir is added to `temps`). */
export function runReport(store: string, temps: string[], args: string[], env?: NodeJS.ProcessEnv): { r: SbxResult; changes: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-report-'));
  temps.push(dir);
  const file = join(dir, 'report.json');
  const r = sbx(['run', '-n', '--report', file, ...args], { store, env });
  const changes = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')).changes as Array<{ path: string; change: string }>) : [];
  return { r, changes: changes.map((c) => `${c.change} ${c.path}`).sort() };
}

export function sbxAsync(args: string[], opts: { store: string } & SpawnOptions) {
  return spawn(process.execPath, [SBX, ...args], { ...opts, env: { ...process.env, SBX_HOME: opts.store, NO_COLOR: '1', ...opts.env } });
}

/**
 * Removes a test's store even when a failed test left a sandbox in it: sbx discards each entry
 * (an overlay's work dirs may belong to a subordinate uid that only sbx can remove), then the
 * rest goes. Never throws: a clean-up must not hide the failure that left the sandbox.
 */
/** A committed or big discarded sandbox is deleted by a detached helper (`.removing-*` in `store`, or in the scratch dir given instead): waits for it, a minute at most. */
export function awaitDetachedRemovals(store: string): void {
  const until = Date.now() + 60_000;
  while (existsSync(store) && readdirSync(store).some((n) => n.startsWith('.removing-')) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
}

export function removeStore(store: string): void {
  const ids = existsSync(store) ? readdirSync(store).filter((n) => /^[0-9a-f]{8}$/.test(n)) : [];
  if (ids.length) sbx(['discard', ...ids], { store });
  // Before removing anything: the detached helper and this would remove the same dirs.
  awaitDetachedRemovals(store);
  try { rmSync(store, { recursive: true, force: true }); } catch (e) { console.error(`could not remove ${store}: ${(e as Error).message}`); }
}

/**
 * A canary tree only this test owns: /opt/sbx-canary-* as root; in $HOME otherwise (a tree the
 * user owns is writable inside with or without fuse-overlayfs).
 */
export function makeCanary(): string {
  const base = IS_ROOT ? '/opt' : (process.env.HOME && existsSync(process.env.HOME) ? process.env.HOME : tmpdir());
  const d = mkdtempSync(join(base, CANARY));
  chmodSync(d, 0o755);
  writeFileSync(join(d, 'keep.txt'), 'precious\n');
  return d;
}

export function removeCanary(d: string): void {
  if (!/\/sbx-canary-[^/]+$/.test(d)) return;
  // A mount a failed test left in its canary would stop the removal (EBUSY) and stay on the
  // host: detached here, deepest first, and said.
  for (const m of mountsBelow(d)) {
    console.log(`  (removeCanary: a mount was left at ${m}; detached)`);
    spawnSync('umount', ['-l', m]);
  }
  rmSync(d, { recursive: true, force: true });
}

/** Mount points below DIR in this mount namespace, deepest first. */
function mountsBelow(dir: string): string[] {
  const points = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => (l.split(' ')[1] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  return points.filter((p) => p.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
}

/**
 * Before a test runs anything destructive: a write inside must not reach the host. Throws
 * (failing the test before any damage) if it does.
 */
export function proveIsolation(canary: string, store: string): void {
  const probe = join(canary, 'isolation-probe');
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', `echo leaked > '${probe}' && cat '${probe}'`], { store });
  if (r.code !== 0 || r.stdout !== 'leaked\n') throw new Error(`isolation probe did not run: ${r.code} ${r.stderr}`);
  if (existsSync(probe)) {
    rmSync(probe, { force: true });
    throw new Error('ISOLATION BROKEN: a write inside the sandbox reached the host; refusing to go on');
  }
}

/**
 * The canary tree of the test that is running, when the file called storeAndCanary(): a live
 * binding, so the file's tests read it as a plain name (one test file is one process).
 */
export let canary = '';

/**
 * The set-up most files that commit into a canary share: one private store for the file
 * (removed after its last test, sandboxes and all) and a fresh canary tree for each test
 * (`canary`). Call it before the file's own hooks: theirs then see the canary made and run
 * before it is removed. With `prove`, each test starts after proveIsolation.
 */
export function storeAndCanary(opts: { prove?: boolean } = {}): string {
  const store = makeStore();
  test.before.each(() => {
    canary = makeCanary();
    if (opts.prove) proveIsolation(canary, store);
  });
  test.after.each(() => removeCanary(canary));
  test.after(() => removeStore(store));
  return store;
}

/**
 * A store for a file's runs: before its tests one canary write proves the sandbox isolates;
 * after them the store and the `temps` dirs the tests made are removed.
 */
export function provenStore(temps: string[] = []): string {
  const store = makeStore();
  test.before(() => {
    const c = makeCanary();
    try { proveIsolation(c, store); } finally { removeCanary(c); }
  });
  test.after(() => {
    removeStore(store);
    for (const t of temps) rmSync(t, { recursive: true, force: true });
  });
  return store;
}

/** The host's mount table now, to compare with after a run (hostMountsLeft). */
export function hostMounts(): Set<string> {
  return new Set(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean));
}

/**
 * Mounts that appeared on the host since `before` and could be a sandbox's: overlays,
 * fuse-overlayfs, anything naming the store (its layers, own-dir tmpfs), anything over a
 * system path a sandbox view covers. Other sessions on a shared machine mount and unmount
 * their own test trees meanwhile: the table's length proves nothing.
 */
export function hostMountsLeft(before: Set<string>, store: string): string[] {
  const systemPath = /^\S+ \S+ \S+ \S+ \/(proc|sys|dev|etc|usr|var|home|root|run)?(\/| )/;
  return [...hostMounts()].filter((l) => !before.has(l) && (/ - (overlay|fuse\.fuse-overlayfs|fuse) /.test(l) || l.includes(store) || systemPath.test(l)));
}

/** An account's uid and home from /etc/passwd, or null when there is none. */
export function userIds(name: string): { uid: number; home: string } | null {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) return null;
  const f = line.split(':');
  return { uid: Number(f[2]), home: f[5]! };
}

/** Root's tests that run sbx as the test user (`setpriv` to sbxtest): whether that user exists and can read this build. */
export function testUserCanRunSbx(): boolean {
  return IS_ROOT && existsSync('/home/sbxtest') && spawnSync('setpriv', ['--reuid', 'sbxtest', '--regid', 'sbxtest', '--init-groups', 'test', '-r', USER_SBX]).status === 0;
}
