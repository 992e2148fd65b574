// Commit a sandbox: scan (or take the reviewed change list), plan, journal, apply, and remove
// the sandbox only when everything it changed is now on the host.
import { HELD_MOVES_MAX, runnerAlive, sbxFor, type Store } from '../store.js';
import { sbxOf } from '../layers-opener.js';
import type { Dir } from '../beneath.js';
import type { SandboxMeta } from '../types.js';
import type { Change } from '../changes/types.js';
import { scanSandbox, filterChanges } from '../changes/scan.js';
import { CLOCK_SLACK_MS, closeSelection, makePlan, selectionParents, type NeededDir, type Plan, type Refusal } from './plan.js';
import { sensitiveContext, sensitiveReason } from '../changes/sensitive.js';
import { applyPlan, pauseForTest, type ApplyResult } from './apply.js';
import { unfinishedSteps } from './staged.js';
import { JournalWriter, readJournal, touchedPaths } from './journal.js';
import { otherStampAlive, ownPidStamp } from '../base/process.js';
import { takeSandboxLock } from '../sandbox-lock.js';
import { startRemover } from './remover.js';
import { heldMovesAfter } from '../changes/moves.js';
import { mountGuard } from './mounts.js';
import { SbxError } from '../base/errors.js';
import { fromUser } from '../base/bpath.js';
import { ownDirs } from '../base/paths.js';

export interface CommitOptions {
  only: string[];
  exclude: string[];
  force: boolean;
  dryRun: boolean;
  /**
   * This process holds the sandbox's lock already: the run whose review this commit is, which
   * kept every other sbx out of the sandbox from before its command ran to this answer.
   */
  lockHeld?: boolean;
  /** The change list the user reviewed; when given, exactly this is committed (no rescan). */
  reviewed?: { changes: Change[]; links: Map<string, string[]>; errors: string[]; all?: Change[] };
  /** Host paths picked one by one by the user (after --only/--exclude). */
  pick?: Set<string>;
  /** Keep setuid/setgid bits and file capabilities (root only). */
  keepSetuid?: boolean;
  /** A hard link to a file the host already had stays a link to it (default: a copy). */
  linkHostFiles?: boolean;
  progress?: (done: number, total: number, bytes: number) => void;
  /** Called as each phase ends, with its name (the bench's phase timers). */
  phase?: (name: string) => void;
}

export interface ResumeInfo {
  startedMs: number;
  total: number;
  done: number;
  /** Paths whose step had begun and not finished when the earlier commit died. */
  inFlight: string[];
}

export interface CommitReport {
  plan: Plan;
  result: ApplyResult | null;
  resumed: ResumeInfo | null;
  scanErrors: string[];
  /** The scan errors were the review's: already shown to the user before the commit. */
  scanErrorsShown: boolean;
  /** Everything the sandbox changed is now on the host (and the sandbox was removed). */
  complete: boolean;
  /** Changes left in the sandbox because a filter left them out. */
  unselected: number;
  /** New dirs committed (or, dry, to be) only because a selected change is below them. */
  needed: NeededDir[];
  /**
   * Changes a review filtered out (`sbx run --only/--exclude`): never shown, and gone with the
   * sandbox when the commit completes.
   */
  unreviewed: number;
}

const b64 = (p: string) => Buffer.from(p, 'latin1').toString('base64');

/**
 * Refuses while a command may still run in the sandbox: a live process could swap what the
 * commit reads (a file for a symlink) between the review and the write. The sbx that runs it
 * records its pid; its helper, and with it every process and mount of the sandbox, ends
 * before that sbx does (parent-death signals chain down from it).
 */
export function assertNotRunning(meta: SandboxMeta, then: 'commit' | 'export' = 'commit'): void {
  if (meta.state !== 'running') return;
  // The store already read a dead (or reused) runner pid as saved; this is the same answer.
  if (meta.runnerPid === undefined || (meta.runnerPid !== process.pid && runnerAlive(meta))) {
    throw new SbxError(`sandbox ${meta.name ?? meta.id} is still running a command${meta.runnerPid ? ` (sbx pid ${meta.runnerPid})` : ''}`, 125, `wait for it to finish, then ${then}`);
  }
}

/** An image or --rootfs sandbox was never a copy of this machine: its changes go out by export. */
export function assertHostBased(meta: SandboxMeta): void {
  if (!meta.image && !meta.rootfs) return;
  const ref = meta.name ?? meta.id;
  throw new SbxError(`sandbox ${ref} runs on ${meta.image ? `the image ${meta.image.ref}` : `the tree ${meta.rootfs}`}, not on this machine: there is no host to commit it to`, 125, `'${sbxOf(meta)} export ${ref} --format oci-image -o DIR' ships its changes on top of the image (also oci-layer, tar, patch)`);
}

export function commitSandbox(store: Store, meta: SandboxMeta, opts: CommitOptions): CommitReport {
  assertHostBased(meta);
  assertNotRunning(meta);
  const entry = store.openEntry(meta.id);
  try {
    // A dry run writes nothing: it needs no lock, and may run beside a commit.
    const unlock = opts.dryRun || opts.lockHeld ? () => {} : takeSandboxLock(entry, 'commit', sbxFor(store));
    try { return commitEntry(store, meta, opts, entry, unlock); } finally { unlock(); }
  } finally { entry.close(); }
}

/** The commit, with the sandbox's store entry open: its journal is read and written only through that fd. */
function commitEntry(store: Store, meta: SandboxMeta, opts: CommitOptions, entry: Dir, unlock: () => void): CommitReport {
  if (!opts.dryRun) {
    // The lock was free because a commit of this sandbox just finished: what it read is stale.
    const now = store.readMeta(meta.id);
    if (!now || now.state === 'committed') throw new SbxError(`sandbox ${meta.name ?? meta.id} was committed meanwhile (by another 'sbx commit')`);
    // And a `run --in` that began after the caller read the sandbox may still be running.
    assertNotRunning(now);
  }
  const j = readJournal(entry, store.dirOf(meta.id));
  let ours = new Set<string>();
  let oursUntilMs: number | undefined;
  let resumed: ResumeInfo | null = null;
  let only = opts.only;
  let exclude = opts.exclude;
  let pick = opts.pick;
  if (j) {
    if (otherStampAlive(j.header)) throw new SbxError(`another commit of this sandbox is running (pid ${j.header.pid})`);
    const inFlight = unfinishedSteps(j, meta.id, !opts.dryRun);
    resumed = { startedMs: j.header.startedMs, total: j.header.steps.length, done: j.done.size, inFlight };
    ours = new Set(touchedPaths(j));
    oursUntilMs = j.mtimeMs + CLOCK_SLACK_MS;
    if (!only.length && !exclude.length && !pick) {
      only = j.header.only;
      exclude = j.header.exclude;
      // Without it, a resume committed the changes the user had declined line by line.
      if (j.header.pick) pick = new Set(j.header.pick.map((p) => Buffer.from(p, 'base64').toString('latin1')));
    }
  }

  // The review's scan errors still count: a part of the sandbox nobody could read is not on
  // the host after this commit, so the sandbox must outlive it.
  const scanErrorsShown = !!opts.reviewed && !j;
  const scan = opts.reviewed && !j ? opts.reviewed : scanSandbox(meta);
  opts.phase?.('scan');
  let filtered = filterChanges(scan.changes, { only, exclude });
  if (pick) filtered = filtered.filter((c) => pick!.has(c.path));
  // A reviewed list filtered by --only lacks the new dirs above what it holds: found in all.
  const all = 'all' in scan && scan.all ? scan.all : scan.changes;
  const ctx = sensitiveContext();
  const parents = selectionParents(all, filtered, (c) => sensitiveReason(c, ctx));
  const selected = closeSelection(all, parents.keep);
  const own = ownDirs(process.env, store.root).map(fromUser);
  const mounts = mountGuard(meta.layers);
  const plan = makePlan(selected, { createdMs: meta.createdMs, force: opts.force, ours, oursUntilMs, ownDirs: own, otherMount: mounts.check });
  // Refused before any other reason: nothing else was looked at for them.
  plan.skipped.unshift(...parents.held);
  // Of the changes listed (the reviewed ones): a needed dir outside them is not one left out.
  const unselected = scan.changes.length - parents.keep.length - parents.held.length - (all === scan.changes ? parents.needed.length : 0);
  const reviewedPaths = all === scan.changes ? null : new Set(scan.changes.map((c) => c.path));
  const unreviewed = reviewedPaths ? all.length - scan.changes.length - parents.needed.filter((d) => !reviewedPaths.has(d.dir)).length : 0;
  opts.phase?.('plan');
  pauseForTest('planned');
  if (opts.dryRun) return { plan, result: null, resumed, scanErrors: scan.errors, scanErrorsShown, complete: false, unselected, needed: parents.needed, unreviewed };

  store.markCommitting(meta);
  const journal = new JournalWriter(entry, {
    version: 1, startedMs: Date.now(), ...ownPidStamp(), only, exclude,
    ...(pick ? { pick: [...pick].map(b64) } : {}),
    steps: plan.steps.map((s) => ({ path: b64(s.change.path), kind: s.kind })),
    ours: [...ours].map(b64),
  });
  opts.phase?.('journal header');
  const result = applyPlan(plan, {
    sandboxId: meta.id, createdMs: meta.createdMs, force: opts.force, journal, links: scan.links, ours, oursUntilMs, keepSetuid: opts.keepSetuid,
    linkHostFiles: opts.linkHostFiles, layersRoot: fromUser(meta.layersDir), openLayers: () => store.openLayers(meta),
    progress: opts.progress, phase: opts.phase, fences: mounts.fences(),
  });
  const refused: Refusal[] = [...plan.conflicts, ...plan.denied, ...plan.skipped, ...result.conflicts, ...result.failed];
  const complete = refused.length === 0 && unselected === 0 && scan.errors.length === 0;
  // The commit ran to its end: what it wrote is on the host and what it did not is still a
  // change in the sandbox, so the next commit needs no journal.
  journal.remove();
  opts.phase?.('journal removal');
  if (complete) {
    store.markCommitted(meta);
    // Before the entry goes: a commit waiting for the lock then finds it committed or gone.
    unlock();
    // Everything is on the host: nothing waits for the sandbox's files to be deleted.
    store.removeInBackground(meta, startRemover);
    opts.phase?.('store removal');
  } else {
    // A moved dir's deletion held while part of its new tree was written: the next review
    // finds that dir on the host, no longer new, and pairs it again only from this.
    const held = parents.held.length ? heldMovesAfter(all, new Set(parents.held.map((r) => r.path)), meta.heldMoves ?? [], HELD_MOVES_MAX) : [];
    if (held.length) meta.heldMoves = held;
    store.markSaved(meta);
  }
  return { plan, result, resumed, scanErrors: scan.errors, scanErrorsShown, complete, unselected, needed: parents.needed, unreviewed };
}
