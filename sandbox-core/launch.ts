// Starts the C helper with the spec on fd 3, reads its status lines from fd 4, forwards
// signals, and turns what happened into a typed result. The helper's own exit code is not
// trusted to tell a setup failure from the command's exit: the status lines are.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SbxError } from './base/errors.js';
import { buildCachedHelper, expectedHelperVersion, findHelper, helper, markStale, type Helper } from './helper.js';

/**
 * Sent to the helper to SIGKILL the command (--timeout) while the sandbox's pid 1 lives on to
 * copy --disk layers back: SIGKILLing the helper itself would lose them. The last real-time
 * signal, as SIG_KILL_COMMAND in native/sandbox.c.
 */
export const SIG_KILL_COMMAND = 64;

export type LaunchOutcome =
  | { kind: 'exited'; code: number }
  | { kind: 'signaled'; signal: number }
  | { kind: 'exec-failed'; errno: number }
  | { kind: 'setup-failed'; step: string; errno: number; path: string | null; message: string | null }
  | { kind: 'helper-died'; detail: string };

export interface LaunchResult {
  outcome: LaunchOutcome;
  /** Mounts that could not be overlaid and were made read-only instead. */
  readOnlyFallbacks: Array<{ path: string; errno: number }>;
  /** --disk: layers that could not be copied back from the tmpfs. */
  diskCopyFailures: Array<{ path: string; errno: number }>;
  /** --disk: every layer was copied back completely and replaced the old one. */
  diskCopied: boolean;
  /** --disk: the tmpfs's free and total bytes when the command ended. */
  diskUsage?: { free: number; total: number };
  started: boolean;
  /** Lines of the command's relayed output that contained a `scan_output` text. */
  seen: string[];
}

export { errnoName } from './base/errno.js';

function unescapeStatus(s: string): string {
  return s.replace(/\\x([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

export function parseStatusLines(text: string): { outcome: LaunchOutcome | null; fallbacks: LaunchResult['readOnlyFallbacks']; diskCopyFailures: LaunchResult['diskCopyFailures']; diskCopied: boolean; started: boolean; seen: string[]; diskUsage?: { free: number; total: number } } {
  let outcome: LaunchOutcome | null = null;
  let diskUsage: { free: number; total: number } | undefined;
  let diskCopied = false;
  const fallbacks: LaunchResult['readOnlyFallbacks'] = [];
  const diskCopyFailures: LaunchResult['diskCopyFailures'] = [];
  let started = false;
  const seen: string[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const sp = line.indexOf(' ');
    const kind = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? '' : unescapeStatus(line.slice(sp + 1));
    switch (kind) {
      case 'started': started = true; break;
      case 'exit': outcome = { kind: 'exited', code: Number(rest) }; break;
      case 'signal': outcome = { kind: 'signaled', signal: Number(rest) }; break;
      case 'exec-error': outcome = { kind: 'exec-failed', errno: Number(rest) }; break;
      case 'init-killed': outcome ??= { kind: 'helper-died', detail: `the sandbox's init was killed by signal ${rest}` }; break;
      case 'disk-copied': diskCopied = true; break;
      case 'seen': seen.push(Buffer.from(rest, 'latin1').toString('utf8')); break; // the command's own text: UTF-8, or U+FFFD
      case 'disk-usage': {
        const m = /^(\d+) (\d+)$/.exec(rest);
        if (m) diskUsage = { free: Number(m[1]), total: Number(m[2]) };
        break;
      }
      case 'disk-copy-failed': {
        const m = /^(\d+) (.*)$/s.exec(rest);
        if (m) diskCopyFailures.push({ errno: Number(m[1]), path: m[2]! });
        break;
      }
      case 'warn': {
        const m = /^overlay (\d+) (.*)$/.exec(rest);
        if (m) fallbacks.push({ errno: Number(m[1]), path: m[2]! });
        break;
      }
      case 'error': {
        const m = /^(\S+) (\d+) (.*)$/.exec(rest);
        if (!m) { outcome = { kind: 'setup-failed', step: 'unknown', errno: 0, path: null, message: rest }; break; }
        const errno = Number(m[2]);
        if (errno === 0) {
          const msg = m[3]!.replace(/^- /, '');
          outcome = { kind: 'setup-failed', step: m[1]!, errno, path: null, message: msg };
        } else {
          outcome = { kind: 'setup-failed', step: m[1]!, errno, path: m[3] === '-' ? null : m[3]!, message: null };
        }
        break;
      }
      default: break;
    }
  }
  return { outcome, fallbacks, diskCopyFailures, diskCopied, started, seen, ...(diskUsage ? { diskUsage } : {}) };
}

const FORWARDED = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;
// Terminal-generated signals reach the helper directly (same process group); sbx only must not die of them.
const IGNORED_WHILE_RUNNING = ['SIGINT', 'SIGQUIT'] as const;

export interface LaunchHooks {
  /** Called with the helper's pid as soon as it runs (for timeouts and cgroup bookkeeping). */
  onSpawn?: (pid: number) => void;
}

/**
 * Runs the spec in the helper. A helper of another version refuses before doing anything
 * (it is given the version this sbx expects); it is then rebuilt into the per-user cache
 * and the spec runs there.
 */
export async function launch(spec: Buffer, hooks: LaunchHooks = {}): Promise<LaunchResult> {
  const first = helper();
  const r = await launchWith(first, spec, hooks);
  const o = r.outcome;
  if (o.kind !== 'setup-failed' || o.step !== 'helper-version') return r;
  markStale(first);
  if (first.origin === 'cache' || first.origin === 'SBX_HELPER') {
    throw new SbxError(`the helper ${first.path} is version ${o.message}, sbx needs ${expectedHelperVersion()}`, 125, "rebuild it: 'npm run build' in a checkout, or remove it and run sbx again");
  }
  return launchWith(findHelper() ?? buildCachedHelper(`${first.path} is version ${o.message}`), spec, hooks);
}

/** A helper process waiting for its spec on fd 3, its status and exit collected from the start. */
interface Started {
  helper: Helper;
  child: ChildProcess;
  status: string;
  statusDone: boolean;
  exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null;
  error: Error | null;
  /** Called on each event once a launch waits for this helper. */
  wake: () => void;
}

function start(h: Helper): Started {
  const child = spawn(h.path, ['run', '3', '4', expectedHelperVersion()], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe', 'pipe'],
    env: {},
  });
  const s: Started = { helper: h, child, status: '', statusDone: false, exitInfo: null, error: null, wake: () => {} };
  const statusStream = child.stdio[4] as NodeJS.ReadableStream;
  statusStream.setEncoding?.('latin1');
  statusStream.on('data', (d: string) => { s.status += d; });
  statusStream.on('end', () => { s.statusDone = true; s.wake(); });
  statusStream.on('error', () => { s.statusDone = true; s.wake(); });
  (child.stdio[3] as NodeJS.WritableStream).on('error', () => { /* the helper exits early on a bad spec; its status says why */ });
  child.on('error', (e) => { s.error = e; s.wake(); });
  child.on('exit', (code, signal) => { s.exitInfo = { code, signal }; s.wake(); });
  return s;
}

/**
 * A helper started before the run is planned: forking and exec'ing it (tens of milliseconds
 * on a busy machine, most of it waiting for the child to exec) then overlaps sbx's planning.
 * It does nothing until its spec arrives (it blocks reading fd 3) and dies with sbx
 * (PR_SET_PDEATHSIG); until a launch takes it, it keeps no reference on the event loop.
 */
let prestarted: Started | null = null;

export function prestartHelper(): void {
  if (prestarted) return;
  try {
    const h = findHelper();
    if (!h) return;
    prestarted = start(h);
  } catch {
    prestarted = null;
    return;
  }
  const c = prestarted.child;
  c.unref();
  for (const fd of [3, 4]) (c.stdio[fd] as unknown as { unref?: () => void }).unref?.();
}

/** Ends a prestarted helper no launch took (the run failed before its sandbox was made). */
export function dropPrestartedHelper(): void {
  const s = prestarted;
  prestarted = null;
  if (!s || s.exitInfo) return;
  try { s.child.kill('SIGKILL'); } catch { /* already gone */ }
}

function launchWith(h: Helper, spec: Buffer, hooks: LaunchHooks): Promise<LaunchResult> {
  let s: Started;
  if (prestarted && prestarted.helper.path === h.path) {
    s = prestarted;
    prestarted = null;
    const c = s.child;
    c.ref();
    for (const fd of [3, 4]) (c.stdio[fd] as unknown as { ref?: () => void }).ref?.();
  } else {
    dropPrestartedHelper();
    s = start(h);
  }
  return new Promise((resolve, reject) => {
    const { child } = s;
    (child.stdio[3] as NodeJS.WritableStream).end(spec);

    const handlers: Array<[string, () => void]> = [];
    for (const sig of FORWARDED) {
      const h = (): void => { try { child.kill(sig); } catch { /* already gone */ } };
      process.on(sig, h);
      handlers.push([sig, h]);
    }
    for (const sig of IGNORED_WHILE_RUNNING) {
      const h = (): void => {};
      process.on(sig, h);
      handlers.push([sig, h]);
    }
    if (child.pid) hooks.onSpawn?.(child.pid);

    let settled = false;
    s.wake = (): void => {
      if (settled) return;
      if (s.error) {
        settled = true;
        for (const [sig, h] of handlers) process.off(sig, h);
        reject(new SbxError(`cannot start the sbx helper: ${s.error.message}`));
        return;
      }
      if (!s.statusDone || !s.exitInfo) return;
      settled = true;
      for (const [sig, h] of handlers) process.off(sig, h);
      const { outcome, fallbacks, diskCopyFailures, diskCopied, started, seen, diskUsage } = parseStatusLines(s.status);
      const fallbackOutcome: LaunchOutcome = s.exitInfo.signal
        ? { kind: 'helper-died', detail: `the helper was killed by ${s.exitInfo.signal}` }
        : { kind: 'helper-died', detail: `the helper exited with status ${s.exitInfo.code} without reporting` };
      resolve({ outcome: outcome ?? fallbackOutcome, readOnlyFallbacks: fallbacks, diskCopyFailures, diskCopied, started, seen, ...(diskUsage ? { diskUsage } : {}) });
    };
    // A prestarted helper may have ended already (another version refuses at once).
    s.wake();
  });
}

/** Why user namespaces might be refused, for one clear line. */
export function userNamespaceHint(): string {
  const read = (p: string): string | null => { try { return readFileSync(p, 'utf8').trim(); } catch { return null; } };
  if (read('/proc/sys/kernel/unprivileged_userns_clone') === '0') return 'enable them: sysctl -w kernel.unprivileged_userns_clone=1';
  if (read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === '1') {
    return 'AppArmor restricts unprivileged user namespaces: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or run sbx with sudo';
  }
  if (read('/proc/sys/user/max_user_namespaces') === '0') return 'enable them: sysctl -w user.max_user_namespaces=15000';
  return "run 'sbx doctor' for details";
}
