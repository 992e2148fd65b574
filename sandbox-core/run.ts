// One `sbx run` from a typed request to a typed result: resource limits around the sandbox
// (cgroups made before, the --timeout timer during, why the command died and the cgroups
// removed after), and the store cleaned up when the sandbox could not be set up. The CLI
// parses options into a CommandRequest and renders the CommandResult; it decides nothing here.
import { SbxError } from './base/errors.js';
import { notice } from './notices.js';
import { randomHex } from './random.js';
import { firstTime } from './said-once.js';
import { formatSize } from './units.js';
import { armTimeout, explainEnd, prepareLimits, releaseLimits, TIMEOUT_EXIT, type LimitsRequest } from './limits.js';
import { describeFailure, runSandbox, type RunRequest } from './sandbox.js';
import { sbxFor, type Store } from './store.js';
import type { NetDecision } from './net/proxy.js';
import type { SandboxMeta } from './types.js';

export interface CommandRequest extends Omit<RunRequest, 'limitOps' | 'onSpawn'> {
  limits: LimitsRequest;
}

export interface CommandResult {
  /** Releases the sandbox's lock (RunResult.release): once the review has its answer. */
  release: () => void;
  meta: SandboxMeta;
  /** What `sbx run` exits with (before the review has its say). */
  exitStatus: number;
  durationMs: number;
  /** Why the command ended when it was not its own doing (timeout, memory limit): said even with -q. */
  endReasons: string[];
  /**
   * The run failed as a whole (setup, or --disk's copy-back): the store is already cleaned up,
   * the caller says endReasons and then reports this. Nothing is left to review.
   */
  error: SbxError | null;
  /** The command could not be executed, or the sandbox ended abnormally after it ran: one line. */
  failure: string | null;
  /** The command was killed by this signal (not by --timeout). */
  signal: number | null;
  /** --allow-net: every connection the proxy decided. */
  net: NetDecision[] | null;
  /** A run without a network whose output showed a failed lookup or connection: the text it contained. */
  noNetwork: string | null;
  /** The review's scan as the helper made it (CommandRequest.reviewScan), for scanSandbox's `answer`; null when it did not. */
  reviewAnswer: Buffer | null;
}

/**
 * The --disk tmpfs was (nearly) full when the command ended: a writer ran into ENOSPC. A full
 * tmpfs has less than a page free; the slack covers metadata and a last partial write. One
 * nothing was written to is not full, however small (`--disk 1K` is one page, all of it slack).
 */
export function diskLimitReached(u: { free: number; total: number } | undefined): boolean {
  return !!u && u.total > 0 && u.free < u.total && u.free <= Math.max(64 * 1024, u.total / 100);
}

/**
 * Root with SBX_HOME naming an ordinary user's store runs nothing in it. In a sandbox of
 * theirs (`run --in`) every program the command started could be one the user left in the
 * layers (a /usr/bin/make of theirs), with root's view of the host (the files only root may
 * read), and what it read landed in a tree the user may read; the helper gets the layer dirs
 * by path, each one the user may swap; and the store's notice markers (said-once.ts) are
 * files root would open in a directory of theirs. Only the owner adds sandboxes (and images).
 */
function assertOwnStore(store: Store, inSandbox: SandboxMeta | null): void {
  if (store.owner === process.getuid?.()) return;
  const what = inSandbox ? `sandbox ${inSandbox.name ?? inSandbox.id} is in the store of uid ${store.owner} (${store.root})` : `the store ${store.root} belongs to uid ${store.owner}`;
  throw new SbxError(`${what}: only its owner runs commands in it`, 125,
    inSandbox ? "run it as that user; 'sbx diff', 'sbx commit' and 'sbx discard' work on it from here" : 'give SBX_HOME a store of your own');
}

export async function runCommand(store: Store, req: CommandRequest): Promise<CommandResult> {
  assertOwnStore(store, req.inSandbox);
  // A store this run cannot use is refused before anything else is said (the cgroup notice
  // came first, then the refusal).
  if (!req.inSandbox) store.checkUsable();
  const { limits: limitsReq, ...rest } = req;
  const limits = prepareLimits(limitsReq, randomHex(4));
  let disarm: (() => boolean) | null = null;
  try {
    // What the defaults cannot enforce here is the machine's standing state: said once per store.
    if (limits.notice && (!limits.noticeIsQuiet || firstTime(store.root, 'limits', limits.notice))) notice(limits.noticeIsQuiet ? 'info' : 'warn', limits.notice);
    const result = await runSandbox(store, {
      ...rest,
      onNotice: rest.onNotice ?? ((line) => notice('warn', line)),
      limitOps: limits.ops,
      memoryLimit: limitsReq.memory,
      onSpawn: (pid) => {
        if (limitsReq.timeoutMs !== undefined) disarm = armTimeout(pid, limitsReq.timeoutMs);
        // Best effort, and the next run tries again: it must not fail this one.
        try { limits.sweepStale(); } catch { /* left for the next run */ }
      },
    });
    const timedOut = (disarm as (() => boolean) | null)?.() ?? false;
    const endReasons = explainEnd(limits, limitsReq, timedOut);
    if (req.diskBytes && diskLimitReached(result.launch.diskUsage)) endReasons.push(`disk limit ${formatSize(req.diskBytes)} reached (writes failed: no space)`);
    releaseLimits(limits);
    const o = result.outcome;
    const ended = { release: result.release, meta: result.meta, durationMs: result.durationMs, endReasons, net: result.net, noNetwork: result.noNetwork, reviewAnswer: result.launch.reviewAnswer };
    if (result.diskLost) {
      // The layers are as they were before this run (runSandbox saved the sandbox so); a
      // throwaway run had nothing before it.
      if (req.throwaway) store.remove(result.meta);
      const hint = req.throwaway ? undefined : `'${sbxFor(store)} diff ${result.meta.name ?? result.meta.id}' shows that state`;
      return { ...ended, exitStatus: 125, error: new SbxError(result.diskLost, 125, hint), failure: null, signal: null };
    }
    const exitStatus = timedOut ? TIMEOUT_EXIT : result.exitStatus;
    const failure = describeFailure(o, req.rawCommand ?? req.command);
    // A sandbox that ended without reporting after --timeout fired ended by the timeout, not a failure.
    if (failure && o.kind !== 'exec-failed' && !(timedOut && o.kind === 'helper-died')) {
      // Setup failed: the command never ran, so a new sandbox holds nothing worth keeping
      // (a sandbox run --in keeps its state, saved by runSandbox).
      if (!req.inSandbox) store.remove(result.meta);
      return { ...ended, exitStatus: failure.exitCode, error: failure, failure: null, signal: null };
    }
    return {
      ...ended,
      exitStatus,
      error: null,
      failure: failure && !timedOut ? failure.message : null,
      signal: o.kind === 'signaled' && !timedOut ? o.signal : null,
    };
  } finally {
    (disarm as (() => boolean) | null)?.();
    releaseLimits(limits);
  }
}
