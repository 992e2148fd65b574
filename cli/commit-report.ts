// A commit and its report, for `sbx commit` (commit.ts) and the review after a run (review.ts):
// apart from the clipanion command, so a run part that reaches the review does not carry
// clipanion (measured: ~50 KB of run.js, cli/entry-run.ts).
import { sbxFor, type Store } from '../sandbox-core/store.js';
import type { SandboxMeta } from '../sandbox-core/types.js';
import { commitSandbox, type CommitOptions, type CommitReport } from '../sandbox-core/commit/index.js';
import { display, terminalSafe } from '../sandbox-core/base/bpath.js';
import { filterChanges, scanSandbox } from '../sandbox-core/changes/scan.js';
import { unmatchedPatterns } from '../sandbox-core/changes/glob.js';
import { closeSelection } from '../sandbox-core/commit/plan.js';
import { packageSplits } from '../sandbox-core/package-split.js';
import { colors, info, line, warn } from './output.js';
import { asRoot } from './as-root.js';
import { humanBytes, progressLine } from './progress.js';
import { countText } from '../sandbox-core/base/count-text.js';
import { removesHostDir, replacedText, replacedTrees } from './render-changes.js';
import type { TextOut } from './stdout-text.js';

const b = (p: string) => display(p);
/** The first three paths, and how many more. */
const few = (paths: string[]): string => paths.slice(0, 3).map(b).join(', ') + (paths.length > 3 ? ` and ${countText(paths.length - 3)} more` : '');

/** Runs a commit with a progress line and prints its outcome; returns the exit status. */
export function commitWithReport(store: Store, meta: SandboxMeta, opts: Omit<CommitOptions, 'progress'> & { leftOutAs?: string }, out: TextOut): number {
  const progress = progressLine();
  const report = commitSandbox(store, meta, {
    ...opts,
    progress: (done, total, bytes) => progress.update(`committing: ${done}/${total} steps, ${humanBytes(bytes)}`),
  });
  progress.end();
  const leftOut = opts.pick ? (opts.leftOutAs ?? 'not picked') : 'left out by --only/--exclude';
  return printCommitReport(store, meta, report, opts.dryRun, out, leftOut);
}

/** The longest directory holding every path (`/` at least). */
function commonDir(paths: string[]): string {
  let dir = paths[0]!.slice(0, Math.max(1, paths[0]!.lastIndexOf('/')));
  for (const p of paths) while (dir !== '/' && !(p.startsWith(dir) && p[dir.length] === '/')) dir = dir.slice(0, Math.max(1, dir.lastIndexOf('/')));
  return dir;
}

/**
 * Refused paths, each on its line while few; else one line per reason with the directory
 * they share and their count (511 children of a refused dir are one line, not 511).
 */
export function refusalLines(list: Array<{ path: string; reason: string }>, few = 10): string[] {
  // A reason's paths were escaped where it was made (display); this leaves their escapes as they are.
  if (list.length <= few) return list.map((x) => `  ${b(x.path)}: ${terminalSafe(x.reason)}`);
  const byReason = new Map<string, string[]>();
  for (const x of list) { const l = byReason.get(x.reason); if (l) l.push(x.path); else byReason.set(x.reason, [x.path]); }
  const out: string[] = [];
  for (const [reason, paths] of byReason) {
    if (paths.length === 1) { out.push(`  ${b(paths[0]!)}: ${terminalSafe(reason)}`); continue; }
    const dir = commonDir(paths);
    out.push(`  ${b(dir === '/' ? '/' : `${dir}/`)} (${countText(paths.length)} entries): ${terminalSafe(reason)}`);
  }
  return out;
}

/** The changes the commit put on the host: each change once, however many steps it took. */
function committedPaths(r: CommitReport): Set<string> {
  const paths = new Set(r.plan.steps.map((s) => s.change.path));
  for (const x of [...(r.result?.failed ?? []), ...(r.result?.conflicts ?? [])]) paths.delete(x.path);
  return paths;
}

export function committedCount(r: CommitReport): number {
  return committedPaths(r).size;
}

/** A refusal that only follows another's: an entry below a dir refused or failed (plan.ts, apply.ts). */
const isFollower = (reason: string): boolean => reason.startsWith('inside ') || reason.startsWith('not committed: ');

/** Refusals with those that only follow another's last, each part in its order. */
export function causesFirst<T extends { reason: string }>(list: T[]): T[] {
  return [...list.filter((x) => !isFollower(x.reason)), ...list.filter((x) => isFollower(x.reason))];
}

const count = (n: number, one: string, many = `${one}s`): string => `${countText(n)} ${n === 1 ? one : many}`;

/**
 * The summary line's cause: how many were refused and why, the reason itself when there is
 * one (`1 change failed (create: ENOENT)`), else a pointer to the lists above; null: none.
 */
export function refusedText(conflicts: number, denied: number, failed: number, withThem: number, causes: Array<{ reason: string }>): string | null {
  const parts: string[] = [];
  if (conflicts) parts.push(count(conflicts, 'conflict'));
  if (denied) parts.push(`${count(denied, 'change')} denied`);
  if (failed) parts.push(`${count(failed, 'change')} not committed`);
  if (withThem) parts.push(`${countText(withThem)} below ${conflicts + denied + failed === 1 ? 'it' : 'them'}`);
  if (!parts.length) return null;
  const reasons = new Set(causes.map((x) => x.reason));
  const one = reasons.size === 1 ? [...reasons][0]! : null;
  return `${parts.join(', ')} (${one !== null && one.length <= 60 ? terminalSafe(one) : 'listed above'})`;
}

/** "also committed" lines before one line counts the rest. */
const NEEDED_SHOWN = 5;

export function printCommitReport(store: Store, meta: SandboxMeta, r: CommitReport, dryRun: boolean, out: TextOut, leftOutAs = 'left out by --only/--exclude'): number {
  const ref = meta.name ?? meta.id;
  if (r.resumed) {
    info(`finishing an interrupted commit started ${new Date(r.resumed.startedMs).toISOString()}: ${r.resumed.done} of ${r.resumed.total} steps were done`);
    // A step in flight is redone, unless the host changed its path since: then a conflict, listed below.
    const held = new Set([...r.plan.conflicts, ...(r.result?.conflicts ?? [])].map((c) => c.path));
    for (const p of r.resumed.inFlight) info(`  was in progress: ${b(p)} (${held.has(p) ? 'changed on the host since: a conflict, not redone' : 'redone from the sandbox\'s copy'})`);
  }
  if (!r.scanErrorsShown) for (const e of r.scanErrors) warn(e);
  if (dryRun) {
    // A step that removes a host dir with its tree (a symlink or file put in its place) says
    // what the tree holds, as the review's line does: the path alone read as one entry.
    const trees = replacedTrees(r.plan.steps.map((s) => s.change));
    for (const s of r.plan.steps) {
      const c = s.change;
      const note = removesHostDir(c) ? ` (${replacedText(c, trees.get(c.path))})` : '';
      out.write(`${s.kind.padEnd(8)} ${b(c.path)}${note}\n`);
    }
  }
  const bad = (label: string, list: Array<{ path: string; reason: string }>) => {
    if (!list.length) return;
    line(`${label} (${list.length}):`, colors.red);
    for (const l of refusalLines(list)) line(l);
  };
  const conflicts = [...r.plan.conflicts, ...(r.result?.conflicts ?? [])];
  // Causes before effects: a dir refused (a conflict, no permission, its own failure) before
  // what is below it, left out with it ("inside X, which is not committed" came first).
  const notCommitted = causesFirst([...r.plan.skipped, ...(r.result?.failed ?? [])]);
  const ownCause = notCommitted.filter((x) => !isFollower(x.reason));
  bad('Conflicts: changed on the host, not overwritten (--force overrides)', conflicts);
  bad('Permission denied', r.plan.denied);
  if (r.plan.denied.length && process.geteuid?.() !== 0) info(`to commit those as root: ${asRoot(store, 'commit', ref)}`);
  bad('Not committed', notCommitted);
  const res = r.result;
  if (res) {
    const mine = res.ownerNotKept.length;
    if (mine) warn(`${countText(mine)} ${mine === 1 ? 'entry keeps' : 'entries keep'} your ownership, not the sandbox's (only root may give files away): ${few([...res.ownerNotKept].sort())}`);
    if (res.setidStripped.length) warn(`setuid/setgid bits and file capabilities removed from ${res.setidStripped.map(b).join(', ')}${process.geteuid?.() === 0 ? ' (--keep-setuid keeps them)' : ''}`);
    if (res.xattrsNotKept.length) warn(`extended attributes not kept on ${res.xattrsNotKept.join(', ')}`);
    if (res.flagsNotKept.length) warn(`chattr flags not kept on ${res.flagsNotKept.join(', ')}: set them again with chattr`);
    if (res.linksCopied.length) info(`${res.linksCopied.length} hard link${res.linksCopied.length === 1 ? '' : 's'} to files the host already had committed as copies (--link-host-files keeps them linked): ${res.linksCopied.map(b).join(', ')}`);
  }
  // A new dir the selection did not name is said, not brought along silently.
  const done = committedPaths(r);
  const needed = r.needed.filter((d) => dryRun || done.has(d.dir));
  for (const d of needed.slice(0, NEEDED_SHOWN)) info(`${dryRun ? 'would also commit' : 'also committed'}: new dir ${b(d.dir)} (needed for ${b(d.for)})`);
  if (needed.length > NEEDED_SHOWN) info(`${dryRun ? 'would also commit' : 'also committed'}: ${countText(needed.length - NEEDED_SHOWN)} more new dirs the selected changes are in ('--dry-run' lists the steps)`);
  const n = done.size;
  const k = r.plan.steps.length;
  // Nothing committed is said so: "0 changes committed (4 B)" counted a file staged and then refused.
  const steps = dryRun ? `${countText(k)} step${k === 1 ? '' : 's'} would be done` : n ? `${countText(n)} change${n === 1 ? '' : 's'} committed (${humanBytes(res?.bytes ?? 0)})` : 'nothing committed';
  // What --only/--exclude kept out of the run's review goes with the sandbox: said, not silent.
  const gone = r.unreviewed ? ` with ${countText(r.unreviewed)} change${r.unreviewed === 1 ? '' : 's'} outside --only/--exclude (never reviewed)` : '';
  if (r.complete) info(`${steps}; sandbox ${ref} removed${gone}`);
  else if (!dryRun) {
    const left = r.unselected ? `, ${countText(r.unselected)} ${leftOutAs}` : '';
    // Root reads every layer: what its review could not take is left out (a layer not what
    // meta.json says, a read error), never "not readable by you".
    const why = process.geteuid?.() === 0 ? 'left out (named above)' : 'not readable by you';
    const unread = r.scanErrors.length ? `, ${countText(r.scanErrors.length)} part${r.scanErrors.length === 1 ? '' : 's'} ${why}` : '';
    // What went wrong leads the line, then what it left: the commit's effects.
    const cause = refusedText(conflicts.length, r.plan.denied.length, ownCause.length, notCommitted.length - ownCause.length, [...r.plan.denied, ...ownCause, ...conflicts]);
    info(`${cause ? `${cause}: ` : ''}${steps}${left}${unread}; sandbox ${ref} kept`);
    info(`'${sbxFor(store)} diff ${ref}' shows what is left, '${sbxFor(store)} discard ${ref}' drops it`);
    // Root reads what the sandbox gave to other users (0700 dirs of apt's _apt); we cannot.
    if (r.scanErrors.length && process.geteuid?.() !== 0) info(`to read and commit the rest as root: ${asRoot(store, 'commit', ref)}`);
  } else info(steps);
  const refused = conflicts.length + r.plan.denied.length + r.plan.skipped.length + (res?.failed.length ?? 0) + r.scanErrors.length;
  return refused ? 1 : 0;
}

/**
 * Before a selective commit: a pattern that matches nothing, and one line per package manager
 * whose changes the selection splits.
 */
export function warnPackageSplits(meta: SandboxMeta, only: string[], exclude: string[]): void {
  const scan = scanSandbox(meta);
  for (const u of unmatchedPatterns(scan.changes.map((c) => c.path), only, exclude)) warn(u);
  const selected = closeSelection(scan.changes, filterChanges(scan.changes, { only, exclude }));
  for (const s of packageSplits(scan.changes, selected)) {
    warn(`this selection splits ${s.manager}'s changes (${few(s.left)} left out): ${s.manager} will disagree with the disk; add --only '${b(s.add)}'`);
  }
}
