// Starts the C helper with the spec on fd 3 and its status lines on fd 4, forwards signals,
// and turns what happened into a typed result. The helper's own exit code is not trusted to
// tell a setup failure from the command's exit: the status lines are.
//
// Both fds are unnamed files in the sandbox's own layers dir, not pipes: nothing reads the
// status before the helper has exited, and a pipe costs Node a stream object per end (net.Socket,
// its handle and buffers), an event-loop round trip to close the spec's end (the helper reads
// to EOF before it starts) and another to see the status end. A file is read at once.
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, unlinkSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Dir } from './beneath.js';
import { SbxError } from './base/errors.js';
import { procStatFields } from './base/process.js';
import { childProcess } from './base/builtin.js';
import { spawnInherited } from './base/light-process.js';
import { JOBCTL_FD, followJobControl } from './job-control.js';
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
  /**
   * `fact`: what the name led to, as a shell finds it (native/command.c exec_facts): 'missing'
   * (no such file: execvp's EACCES from a PATH dir it cannot search included), 'dir',
   * 'not-exec', 'interp' (the file's #! interpreter, `interp`, is missing).
   */
  | { kind: 'exec-failed'; errno: number; fact?: 'missing' | 'dir' | 'not-exec' | 'interp'; interp?: string }
  | { kind: 'setup-failed'; step: string; errno: number; path: string | null; message: string | null }
  | { kind: 'helper-died'; detail: string };

export interface LaunchResult {
  outcome: LaunchOutcome;
  /** Mounts that could not be overlaid and were made read-only instead. */
  readOnlyFallbacks: Array<{ path: string; errno: number }>;
  /** Files beside a mount point that vanished from the host before they were bound: their empty stand-ins were kept. */
  vanishedFiles: string[];
  /** --disk: layers that could not be copied back from the tmpfs. */
  diskCopyFailures: Array<{ path: string; errno: number }>;
  /** --disk: every layer was copied back completely and replaced the old one. */
  diskCopied: boolean;
  /** --disk: the tmpfs's free and total bytes when the command ended. */
  diskUsage?: { free: number; total: number };
  started: boolean;
  /** Lines of the command's relayed output that contained a `scan_output` text. */
  seen: string[];
  /** Files the helper made from `entry` ops flagged `report`: each one's path below the layers dir, inode and ctime (ms, as Node computes it). */
  entriesMade: Array<{ rel: string; ino: number; ctimeMs: number }>;
  /** The review's scan, as the helper made it once the sandbox ended (LaunchHooks.reviewScan); null when it did not. */
  reviewAnswer: Buffer | null;
  /** The spec's `syncfs_after` dir was synced once the sandbox ended. */
  synced: boolean;
  /**
   * Processes the command left running when it ended (the kernel stopped them with the
   * sandbox): how many, and the first few names (their comm, the command's own text).
   */
  background: { count: number; names: string[] } | null;
}

export { errnoName } from './base/errno.js';

function unescapeStatus(s: string): string {
  return s.replace(/\\x([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

export function parseStatusLines(text: string): { outcome: LaunchOutcome | null; fallbacks: LaunchResult['readOnlyFallbacks']; vanished: string[]; diskCopyFailures: LaunchResult['diskCopyFailures']; diskCopied: boolean; started: boolean; seen: string[]; entriesMade: LaunchResult['entriesMade']; reviewScanned: boolean; synced: boolean; background: LaunchResult['background']; diskUsage?: { free: number; total: number } } {
  let outcome: LaunchOutcome | null = null;
  let reviewScanned = false;
  let synced = false;
  let diskUsage: { free: number; total: number } | undefined;
  let diskCopied = false;
  const fallbacks: LaunchResult['readOnlyFallbacks'] = [];
  const vanished: string[] = [];
  const diskCopyFailures: LaunchResult['diskCopyFailures'] = [];
  let started = false;
  const seen: string[] = [];
  const entriesMade: LaunchResult['entriesMade'] = [];
  let background: LaunchResult['background'] = null;
  for (const line of text.split('\n')) {
    if (!line) continue;
    const sp = line.indexOf(' ');
    const kind = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? '' : unescapeStatus(line.slice(sp + 1));
    switch (kind) {
      case 'started': started = true; break;
      case 'exit': outcome = { kind: 'exited', code: Number(rest) }; break;
      case 'signal': outcome = { kind: 'signaled', signal: Number(rest) }; break;
      case 'exec-error': {
        const m = /^(\d+)(?: (missing|dir|not-exec|interp|-) (.+))?$/s.exec(rest);
        outcome = { kind: 'exec-failed', errno: Number(m ? m[1] : rest) };
        if (m?.[2] && m[2] !== '-') outcome.fact = m[2] as 'missing';
        if (m?.[2] === 'interp') outcome.interp = m[3];
        break;
      }
      case 'init-killed': outcome ??= { kind: 'helper-died', detail: `the sandbox's init was killed by signal ${rest}` }; break;
      case 'disk-copied': diskCopied = true; break;
      // Its failure says nothing of the run: the review then scans for itself.
      case 'review-scanned': reviewScanned = true; break;
      case 'synced': synced = true; break;
      case 'background': if (/^\d+$/.test(rest) && Number(rest) > 0) (background ??= { count: 0, names: [] }).count = Number(rest); break;
      // A name the command chose (comm): UTF-8, or U+FFFD, as `seen`.
      case 'background-name': (background ??= { count: 0, names: [] }).names.push(Buffer.from(rest, 'latin1').toString('utf8')); break;
      case 'seen': seen.push(Buffer.from(rest, 'latin1').toString('utf8')); break; // the command's own text: UTF-8, or U+FFFD
      case 'entry-made': {
        // A path sbx wrote into the spec as UTF-8; the time as Stats' ctimeMs is computed.
        const m = /^(\d+) (-?\d+) (\d+) (.+)$/s.exec(rest);
        if (m) entriesMade.push({ rel: Buffer.from(m[4]!, 'latin1').toString('utf8'), ino: Number(m[1]), ctimeMs: Number(m[2]) * 1e3 + Number(m[3]) / 1e6 });
        break;
      }
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
        const m = /^(overlay|bind) (\d+) (.*)$/s.exec(rest);
        if (m?.[1] === 'overlay') fallbacks.push({ errno: Number(m[2]), path: m[3]! });
        else if (m) vanished.push(m[3]!);
        break;
      }
      case 'error': {
        // `s`: the path may hold any byte the helper escaped, a newline too.
        const m = /^(\S+) (\d+) (.*)$/s.exec(rest);
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
  return { outcome, fallbacks, vanished, diskCopyFailures, diskCopied, started, seen, entriesMade, reviewScanned, synced, background: background?.count ? background : null, ...(diskUsage ? { diskUsage } : {}) };
}

const FORWARDED = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;
// A terminal's Ctrl-C and Ctrl-\ reach the helper directly (it is in sbx's process group), so
// sbx passes these on only when they cannot have come from a terminal: passing a Ctrl-C on too
// would give the command two (many programs take a second one as "quit now").
const TERMINAL_SIGNALS = ['SIGINT', 'SIGQUIT'] as const;

/**
 * Whether sbx's process group is the foreground group of its controlling terminal (fields 5 and
 * 8 of /proc/self/stat, after the command name's closing parenthesis): only then can a SIGINT
 * or SIGQUIT have been the terminal's, sent to the helper as well. Without a terminal (a
 * supervisor, a test runner, `timeout -s INT`), or in the background, it was sent to sbx alone.
 */
export function foregroundOnTerminal(): boolean {
  const f = procStatFields('self');
  if (!f) return true;
  const pgrp = Number(f[2]), tpgid = Number(f[5]);
  return tpgid > 0 && tpgid === pgrp;
}

export interface LaunchHooks {
  /** Called with the helper's pid as soon as it runs (for timeouts and cgroup bookkeeping). */
  onSpawn?: (pid: number) => void;
  /** The spec gives the command a pty: Ctrl-Z stops it and sbx (job-control.ts). */
  jobControl?: boolean;
  /**
   * The spec's `review_scan`: its layers root and host root fds (the caller's, left open), given
   * the helper at reviewScanFds with the answer's file, which is made and read here.
   */
  reviewScan?: { layersFd: number; hostFd: number };
}

/** The fd numbers the helper has a `review_scan`'s layers root, host root and answer file at: after the job-control pipe, if any. */
export function reviewScanFds(jobControl: boolean): [number, number, number] {
  const at = jobControl ? JOBCTL_FD + 1 : JOBCTL_FD;
  return [at, at + 1, at + 2];
}

/**
 * Runs the spec in the helper. A helper of another version refuses before doing anything
 * (it is given the version this sbx expects); it is then rebuilt into the per-user cache
 * and the spec runs there. `dir` opens a directory of sbx's own (the sandbox's layers dir, from
 * the store-root fd: Store.openLayers) where the spec and status files are made and at once
 * unlinked.
 */
export async function launch(spec: Buffer, dir: () => Dir, hooks: LaunchHooks = {}): Promise<LaunchResult> {
  const first = helper();
  const r = await launchWith(first, spec, dir, hooks);
  const o = r.outcome;
  if (o.kind !== 'setup-failed' || o.step !== 'helper-version') return r;
  markStale(first);
  if (first.origin === 'cache' || first.origin === 'SBX_HELPER') {
    throw new SbxError(`the helper ${first.path} is version ${o.message}, sbx needs ${expectedHelperVersion()}`, 125, "rebuild it: 'npm run build' in a checkout, or remove it and run sbx again");
  }
  return launchWith(findHelper() ?? buildCachedHelper(`${first.path} is version ${o.message}`), spec, dir, hooks);
}

/**
 * A new file in `dir`, open read-write, its name already gone: nothing is left behind however
 * sbx ends. Made beside nothing else's (O_EXCL, no symlink followed); a name a crashed sbx of
 * the same pid left is replaced.
 */
export function unnamedFile(dir: Dir, what: string, append: boolean): number {
  const name = `.${what}.${process.pid}`;
  const flags = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | (append ? constants.O_APPEND : 0);
  let fd: number;
  try {
    fd = openSync(dir.at(name), flags, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    unlinkSync(dir.at(name));
    fd = openSync(dir.at(name), flags, 0o600);
  }
  try { unlinkSync(dir.at(name)); } catch (e) { closeSync(fd); throw e; }
  return fd;
}

/** The status file's whole text (the helper appended to it; our offset is not at its start). */
export function readStatus(fd: number): string {
  return readWhole(fd).toString('latin1');
}

/** A file the helper wrote, from its start (the offset we share with it is at its end). */
function readWhole(fd: number): Buffer {
  const size = fstatSync(fd).size;
  const b = Buffer.allocUnsafe(size);
  let n = 0;
  while (n < size) { const r = readSync(fd, b, n, size - n, n); if (r <= 0) break; n += r; }
  return n === size ? b : b.subarray(0, n);
}

async function launchWith(h: Helper, spec: Buffer, openDir: () => Dir, hooks: LaunchHooks): Promise<LaunchResult> {
  let specFd = -1, statusFd = -1, answerFd = -1;
  const d = openDir();
  try {
    specFd = unnamedFile(d, 'spec', false);
    // pwrite: the offset the helper reads from (shared with this fd) stays at 0.
    for (let n = 0; n < spec.length;) n += writeSync(specFd, spec, n, spec.length - n, n);
    // Appended to by the helper's processes (outer, pid 1, the command's init): one line each write.
    statusFd = unnamedFile(d, 'status', true);
    if (hooks.reviewScan) answerFd = unnamedFile(d, 'review-scan', false);
  } catch (e) {
    if (specFd >= 0) closeSync(specFd);
    if (statusFd >= 0) closeSync(statusFd);
    throw e;
  } finally {
    d.close();
  }
  const extraFds = hooks.reviewScan ? [hooks.reviewScan.layersFd, hooks.reviewScan.hostFd, answerFd] : [];

  // The signal handlers are in place before the helper starts, not after: Node starts it with
  // fork(), and every page Node writes afterwards faults once more (copy-on-write); a signal
  // that comes before the helper runs is passed on as soon as it does.
  let kill: ((s: NodeJS.Signals) => void) | null = null;
  let early: NodeJS.Signals | null = null;
  const handlers: Array<[string, () => void]> = [];
  const unhook = (): void => { for (const [s, fn] of handlers) process.off(s, fn); };
  for (const s of FORWARDED) {
    const fn = (): void => { if (!kill) { early ??= s; return; } try { kill(s); } catch { /* already gone */ } };
    process.on(s, fn);
    handlers.push([s, fn]);
  }
  for (const s of TERMINAL_SIGNALS) {
    const fn = (): void => {
      if (foregroundOnTerminal()) return;
      if (!kill) { early ??= s; return; }
      try { kill(s); } catch { /* already gone */ }
    };
    process.on(s, fn);
    handlers.push([s, fn]);
  }
  // The helper's processes all end before it does (pid 1 dies with it, and takes the rest):
  // once it has exited, every status line is in the file.
  let ended!: (r: { code: number | null; signal: NodeJS.Signals | null } | { error: Error }) => void;
  const end = new Promise<{ code: number | null; signal: NodeJS.Signals | null } | { error: Error }>((r) => { ended = r; });
  let pid: number | undefined;
  let events: Readable | null = null;
  try {
    // One turn of the event loop first: everything before it ran without yielding, so the work
    // V8 and Node queued meanwhile (a scavenge task: --trace-gc showed it) would otherwise run
    // right after the fork, where every page it writes faults again.
    await new Promise<void>((r) => setImmediate(r));
    const args = ['run', '3', '4', expectedHelperVersion()];
    // Empty, but for SBX_DEBUG_TIMES: the helper's own timeline of the run on stderr (native/times.c).
    const env: Record<string, string> = process.env.SBX_DEBUG_TIMES ? { SBX_DEBUG_TIMES: process.env.SBX_DEBUG_TIMES } : {};
    // Inherited fds alone need no node:child_process (base/light-process.ts); a pty's job
    // control reads a pipe (fd JOBCTL_FD), whose stream is paid by interactive runs alone.
    let light = null;
    try {
      light = hooks.jobControl ? null : spawnInherited(h.path, args, [0, 1, 2, specFd, statusFd, ...extraFds], env, (code, signal) => ended({ code, signal }));
    } catch (e) {
      throw new SbxError(`cannot start the sbx helper: ${(e as Error).message}`);
    }
    if (light) {
      pid = light.pid;
      kill = light.kill;
    } else {
      const child = childProcess().spawn(h.path, args, {
        stdio: ['inherit', 'inherit', 'inherit', specFd, statusFd, ...(hooks.jobControl ? ['pipe' as const] : []), ...extraFds],
        env,
      });
      child.on('error', (e) => ended({ error: e }));
      child.on('exit', (code, signal) => ended({ code, signal }));
      pid = child.pid;
      kill = (sig) => { child.kill(sig); };
      if (hooks.jobControl) events = (child.stdio as Array<Readable | null | undefined>)[JOBCTL_FD] ?? null;
    }
  } catch (e) {
    unhook();
    closeSync(statusFd);
    if (answerFd >= 0) closeSync(answerFd);
    throw e;
  } finally {
    closeSync(specFd);
  }
  if (pid) hooks.onSpawn?.(pid);
  if (early) { try { kill(early); } catch { /* already gone */ } }
  const unfollow = events && pid ? followJobControl(pid, events, foregroundOnTerminal) : null;
  const r = await end;
  unhook();
  unfollow?.();
  if ('error' in r) {
    closeSync(statusFd);
    if (answerFd >= 0) closeSync(answerFd);
    throw new SbxError(`cannot start the sbx helper: ${r.error.message}`);
  }
  let status: string;
  try { status = readStatus(statusFd); } finally { closeSync(statusFd); }
  const { outcome, fallbacks, vanished, diskCopyFailures, diskCopied, started: ran, seen, entriesMade, reviewScanned, synced, background, diskUsage } = parseStatusLines(status);
  let reviewAnswer: Buffer | null = null;
  if (answerFd >= 0) {
    try { if (reviewScanned) reviewAnswer = readWhole(answerFd); } finally { closeSync(answerFd); }
  }
  const fallbackOutcome: LaunchOutcome = r.signal
    ? { kind: 'helper-died', detail: `the helper was killed by ${r.signal}` }
    : { kind: 'helper-died', detail: `the helper exited with status ${r.code} without reporting` };
  return { outcome: outcome ?? fallbackOutcome, readOnlyFallbacks: fallbacks, vanishedFiles: vanished, diskCopyFailures, diskCopied, started: ran, seen, entriesMade, reviewAnswer, synced, background, ...(diskUsage ? { diskUsage } : {}) };
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
