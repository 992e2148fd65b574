// What happens after `sbx run`: show what changed, then keep (commit), discard, review,
// pick, or save for later. Nothing is committed without an explicit answer (or -y, for a
// command that succeeded).
import { closeSync, openSync } from 'node:fs';
import { manyOf, sensitiveContext, sensitiveReason } from '../sandbox-core/changes/sensitive.js';
import { sbxFor, type Store, type TreeRemover } from '../sandbox-core/store.js';
import type { SandboxMeta } from '../sandbox-core/types.js';
import { scanSandbox } from '../sandbox-core/changes/scan.js';
import type { ScanResult } from '../sandbox-core/changes/scan.js';
import type { NetDecision } from '../sandbox-core/net/proxy.js';
import { EXIT_INTERRUPTED, signalOf } from '../sandbox-core/base/exit-status.js';
import { colors, info, line, rendered, say, warn } from './output.js';
import { rootOnlyHint } from './as-root.js';
import { changesJson, countLine, renderDiffs, renderSummary, summaryPlan, type SummaryItem } from './render-changes.js';
import type { Change, ChangeKind } from '../sandbox-core/changes/types.js';
import { globMatcher } from '../sandbox-core/changes/glob.js';
import { movedAwayAlone, movedAwayText } from '../sandbox-core/changes/moves.js';
import type { commitWithReport as CommitWithReport } from './commit-report.js';
import { writeReport, type ReportTarget } from './report-file.js';
import { progressLine } from './progress.js';
import { countText } from '../sandbox-core/base/count-text.js';
import { changesHeading, discarded, noChanges } from './review-words.js';
import { queuedAsk, type Ask } from './answers.js';
import { builtin } from '../sandbox-core/base/builtin.js';
import { isatty } from '../sandbox-core/base/light-process.js';
import { stdoutText } from './stdout-text.js';
import { dropPendingInput } from '../sandbox-core/terminal-input.js';
import { display, parentB } from '../sandbox-core/base/bpath.js';
import { BACKGROUND_REMOVAL_MIN, startRemover } from '../sandbox-core/commit/remover.js';
import { ELLIPSIS } from '../sandbox-core/base/charset.js';

// Loaded when used: a run that ends in a discard or a save (most) needs neither the commit
// command, the pager nor readline.
const commitWithReport = async (...a: Parameters<typeof CommitWithReport>): Promise<number> => (await import('./commit-report.js')).commitWithReport(...a);

export interface ReviewOptions {
  keep: boolean;
  /** --keep-setuid: keep setuid/setgid bits and file capabilities (root only). */
  keepSetuid?: boolean;
  discard: boolean;
  quiet: boolean;
  only: string[];
  exclude: string[];
  /** --report's file, its dir opened before the command ran (report-file.ts). */
  report: ReportTarget | null;
  exitStatus: number;
  durationMs: number;
  /** --allow-net's decisions, for the report. */
  net?: NetDecision[] | null;
  /** Overwrite host paths changed since the start when keeping (default false). */
  force?: boolean;
  /** Ask even when stdin/stderr are not terminals (tests drive the prompt through pipes). */
  interactive?: boolean;
  /** Why the command ended early (timeout, memory limit), from the limits report. */
  endReasons?: string[];
  /** The run's helper's scan of the layers (CommandResult.reviewAnswer): decoded instead of a scan now. */
  answer?: Buffer | null;
  /** The flags that gave the command a writable host path (`--bind /srv/out`): what it wrote there is on the host, whatever the answer. */
  direct?: string[];
}

/**
 * Why -y commits nothing: how the command ended when it did not succeed, else null. What a
 * failed or killed command wrote may be half of what it meant to (half a config file, an
 * install cut short), and -y answered before anyone could see that.
 */
export function keepRefusal(status: number, reasons: string[] = []): string | null {
  if (status === 0) return null;
  const limits = reasons.filter((r) => r.startsWith('killed: ')).map((r) => r.slice('killed: '.length));
  if (limits.length) return `the command was killed (${limits.join('; ')})`;
  return endedBadly(status);
}

/** A status other than 0 in words: killed by signal N (128+N), else failed with exit status N. */
function endedBadly(status: number): string {
  const signal = signalOf(status);
  return signal === null ? `the command failed with exit status ${status}` : `the command was killed by signal ${signal}`;
}

/** How the command ended, said right before the question; null when it exited 0. */
export function endLine(status: number, reasons: string[] = []): string | null {
  if (reasons.length) {
    const why = reasons.join('; ');
    if (status === 0) return `the command exited 0, but: ${why}`;
    if (reasons.some((r) => r.startsWith('killed:'))) return `the command did not finish: ${why} (exit status ${status})`;
    return `the command failed with exit status ${status}: ${why}`;
  }
  if (status === 0) return null;
  return `${endedBadly(status)}: its changes may be partial`;
}

/**
 * The confirmation `k` asks for when flagged changes are in the list, within 80 columns. A
 * reason the summary counts on one line (manyOf) is named as that count (`30 bytecode files`).
 */
export function flaggedQuestion(reasons: string[]): string {
  const n = reasons.length;
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const uniq = [...counts].map(([r, k]) => { const noun = k > 1 ? manyOf(r) : null; return noun ? `${countText(k)} ${noun}` : r; });
  const tail = `): yes keeps ${n === 1 ? 'it' : 'them'}, n skips ${n === 1 ? 'it' : 'them'}: `;
  const head = `${n} flagged change${n === 1 ? '' : 's'} (`;
  let named = '';
  for (let i = 0; i < uniq.length; i++) {
    const next = named ? `${named}, ${uniq[i]}` : uniq[i]!;
    const more = i + 1 < uniq.length ? `, ${ELLIPSIS}`.length : 0;
    if (head.length + next.length + more + tail.length > 80) { named = named ? `${named}, ${ELLIPSIS}` : ELLIPSIS; break; }
    named = next;
  }
  return head + named + tail;
}

const VERB: Record<ChangeKind, string> = { added: 'addition', deleted: 'deletion', modified: 'modification', replaced: 'type change', metadata: 'metadata change' };

const ANSWERS = [
  'k  keep: commit every change to the host',
  'd  discard: drop the sandbox, the host stays as it is',
  'r  review: the changes and their diffs, in a pager (what sbx diff shows)',
  'p  pick: decide line by line (a directory line decides its whole tree)',
  's  save: keep the sandbox for later (sbx diff, sbx commit, sbx discard)',
];

export const PICK_HELP = [
  'y  apply this change (a directory line: everything below it)',
  'n  leave it in the sandbox (a directory line: everything below it, unasked)',
  'a  apply this and all the rest      q  none of the rest',
  '+GLOB  apply every change matching GLOB   -GLOB  leave them all',
  '       (e.g. +/usr/local/** or -*.log; sbx diff --help explains globs)',
];

const isNewDir = (c: Change): boolean => c.type === 'dir' && (c.change === 'added' || c.change === 'replaced');

/**
 * A commit makes the new dirs a kept entry needs as the sandbox made them (closeSelection), so
 * an entry kept below a new dir left out (flagged, another user's say) would bring that dir
 * along: takes every path below one of `dirs` out of `keep`; how many went, per dir.
 */
function dropBelow(keep: Set<string>, dirs: Set<string>): Map<string, number> {
  const dropped = new Map<string, number>();
  if (!dirs.size) return dropped;
  for (const p of keep) {
    for (let d = parentB(p); d !== '/' && d !== '.'; d = parentB(d)) {
      if (!dirs.has(d)) continue;
      keep.delete(p);
      dropped.set(d, (dropped.get(d) ?? 0) + 1);
      break;
    }
  }
  return dropped;
}

/** The nearest of `dirs` strictly above `p`, or null. */
function dirAbove(p: string, dirs: Set<string>): string | null {
  if (!dirs.size) return null;
  for (let d = parentB(p); d !== '/' && d !== '.'; d = parentB(d)) if (dirs.has(d)) return d;
  return null;
}

/**
 * Pick mode's dropBelow: every new dir not picked (flagged or declined), one line per dir
 * saying so. A change picked below one (a flagged line asked before its dir's, a glob, `a`)
 * would have brought the dir along half-filled: a repository's `.git` without its files.
 */
function leaveBelowUnpicked(changes: Change[], items: SummaryItem[], pick: Set<string>): void {
  const flagged = new Set<string>();
  for (const it of items) if (it.flagged) for (const p of it.paths()) if (!pick.has(p)) flagged.add(p);
  // In the changes' order, the order the lines are said in.
  const dirs = new Set(changes.filter((c) => isNewDir(c) && !pick.has(c.path)).map((c) => c.path));
  const dropped = dropBelow(pick, dirs);
  for (const d of dirs) {
    const n = dropped.get(d);
    if (n) line(`  leaving out ${countText(n)} picked change${n === 1 ? '' : 's'} below ${display(d)}/: it is ${flagged.has(d) ? 'flagged and ' : ''}not picked, and keeping them would bring it along`);
  }
}

/**
 * A moved file's deletion picked without its new name (a glob, `a`, the new name left out by
 * a later `-GLOB`) is left out, one line each, as a commit would hold it: the count asked is
 * the count committed.
 */
function leaveMovesUnpicked(changes: Change[], pick: Set<string>, byPath: ReadonlyMap<string, Change>): void {
  for (const c of changes) {
    const to = pick.has(c.path) ? movedAwayAlone(c, pick, byPath) : undefined;
    if (!to) continue;
    pick.delete(c.path);
    line(`  leaving out the deletion of ${display(c.path)}: it was ${movedAwayText(to, 'picked')}, and deleting it alone would lose its content`);
  }
}

/**
 * Pick mode: one question per summary line, in the summary's order (a new or gone directory
 * and a fold line are one question for everything they stand for), plus `+GLOB`/`-GLOB` to
 * decide many at once. A new directory left out takes every line below it along unasked (a
 * repository's line below a declined dir: committing it would have made the dir with `.git`
 * and without the files). Returns the picked host paths, or null when nothing is to be committed.
 */
export async function pickChanges(changes: Change[], ask: Ask): Promise<Set<string> | null> {
  const plan = summaryPlan(changes, colors);
  const items = plan.kinds.flatMap((k) => k.items);
  const pick = new Set<string>();
  const byPath = new Map(changes.map((c) => [c.path, c]));
  const newDirs = new Set<string>();
  for (const c of changes) if (isNewDir(c)) newDirs.add(c.path);
  // The new dirs left out so far: what is below one is left out with it.
  const declined = new Set<string>();
  const leave = (paths: string[]) => { for (const p of paths) if (newDirs.has(p)) declined.add(p); };
  const take = (paths: string[]) => {
    for (const p of paths) declined.delete(p);
    for (const p of paths) if (!dirAbove(p, declined)) pick.add(p);
  };
  // Paths decided by a glob answer: later items they fully cover are not asked about.
  const decided = new Set<string>();
  let rest: boolean | null = null;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const paths = it.paths();
    if (declined.size && paths.every((p) => dirAbove(p, declined) !== null)) continue;
    if (rest !== null) { if (rest) take(paths); else leave(paths); continue; }
    if (paths.every((p) => decided.has(p))) continue;
    // A moved file's old name when its new one was not picked: deleting it would lose the
    // content, so it is not asked (a commit would hold it: commit/plan.ts).
    const alone = paths.map((p) => byPath.get(p)).map((c) => c && movedAwayAlone(c, pick, byPath));
    if (paths.length && alone.every((to) => to !== undefined)) {
      alone.forEach((to, k) => line(`  keeping ${display(paths[k]!)}: it was ${movedAwayText(to!, 'picked')}`));
      continue;
    }
    const q = `apply ${VERB[it.kind]} of ${it.label}${it.flagged ? ` [! ${it.flagged}]` : ''}? [y/n/a/q/?] `;
    const r = (await ask(it.flagged ? colors.red(q) : q))?.trim();
    if (r === null || r === undefined) return null;
    const lower = r.toLowerCase();
    if (lower === 'y' || lower === 'yes') take(paths);
    else if (lower === 'n' || lower === 'no') leave(paths);
    else if (lower === 'a') { rest = true; take(paths); }
    else if (lower === 'q') { rest = false; leave(paths); }
    else if ((r.startsWith('+') || r.startsWith('-')) && r.length > 1) {
      let m: (p: string) => boolean;
      try { m = globMatcher(r.slice(1)); } catch (e) { line(`  ${(e as Error).message}`); i--; continue; }
      let n = 0;
      for (const c of changes) {
        if (!m(c.path)) continue;
        n++;
        decided.add(c.path);
        if (r[0] === '+') { pick.add(c.path); declined.delete(c.path); } else { pick.delete(c.path); if (newDirs.has(c.path)) declined.add(c.path); }
      }
      line(n ? `  ${r[0] === '+' ? 'applying' : 'leaving out'} ${countText(n)} change${n === 1 ? '' : 's'} matching ${r.slice(1)}` : `  ${r.slice(1)} matches no change`);
      i--;
    } else {
      for (const l of PICK_HELP) line(`  ${l}`);
      i--;
    }
  }
  leaveBelowUnpicked(changes, items, pick);
  leaveMovesUnpicked(changes, pick, byPath);
  if (!pick.size) { info('nothing picked'); return null; }
  const n = pick.size;
  const yes = (await ask(`commit ${countText(n)} picked change${n === 1 ? '' : 's'} (of ${countText(changes.length)})? [y/N] `))?.trim().toLowerCase();
  return yes === 'y' || yes === 'yes' ? pick : null;
}

/**
 * The terminal to ask on: stdin when it is one, else /dev/tty (`cat x.sh | sbx run -- sh`
 * leaves stdin a pipe the command used up, as git and less handle it). Null: nobody to ask.
 */
function promptInput(): { input: NodeJS.ReadableStream; fd: number; terminal: boolean; close(): void } | null {
  if (process.stdin.isTTY) return { input: process.stdin, fd: 0, terminal: true, close: () => {} };
  let fd: number;
  try { fd = openSync('/dev/tty', 'r'); } catch { return null; }
  const { ReadStream } = builtin<typeof import('node:tty')>('node:tty');
  const s = new ReadStream(fd);
  return { input: s, fd, terminal: true, close: () => { s.destroy(); try { closeSync(fd); } catch { /* destroy closed it */ } } };
}

const SUMMARY_LIMIT = 50;

function scan(meta: SandboxMeta, opts: ReviewOptions): ScanResult {
  const progress = progressLine();
  const r = scanSandbox(meta, { only: opts.only, exclude: opts.exclude, progress: (phase, n) => progress.update(`${phase}: ${n} entries`), answer: opts.answer ?? null, copies: true });
  progress.end();
  for (const u of r.unmatched ?? []) warn(u);
  return r;
}

/**
 * Saves the sandbox and says how to reach it. With -q one line still names it: a saved sandbox
 * nobody knows the id of is only disk space. `refused`: why -y committed nothing (keepRefusal).
 */
function save(store: Store, meta: SandboxMeta, quiet: boolean, refused: string | null = null): void {
  store.markSaved(meta);
  const ref = meta.name ?? meta.id;
  const sbx = sbxFor(store);
  // Two short lines: each fits 80 columns with an 8-character id (as root, not under sudo).
  if (refused) say(`not committed: ${refused}; sandbox ${ref} saved`);
  else (quiet ? say : info)(`sandbox ${ref} saved: '${sbx} diff ${ref}' to review it`);
  if (quiet && !refused) return;
  (refused ? say : info)(`${meta.image || meta.rootfs ? `'${sbx} export ${ref}' ships its changes` : `'${sbx} commit ${ref}' keeps it`}, '${sbx} discard ${ref}' drops it`);
}

/** A discarded run of many changes is removed by a detached remover (Store.remove). */
function bigRemover(s: ScanResult | null): TreeRemover | undefined {
  return s && s.changes.length >= BACKGROUND_REMOVAL_MIN ? startRemover : undefined;
}

/** Reviews a finished run; returns the commit's exit status when it committed (1: something refused), EXIT_INTERRUPTED for Ctrl-C at a question (saved), else 0. */
export async function reviewAfterRun(store: Store, meta: SandboxMeta, opts: ReviewOptions): Promise<number> {
  const wantSummary = !opts.quiet;
  // A quiet discard with no report needs no scan at all.
  const s = opts.discard && !wantSummary && !opts.report ? null : scan(meta, opts);
  if (s) for (const e of s.errors) warn(e);
  if (s) rootOnlyHint(s.rootOnly, store, opts.discard ? null : meta.name ?? meta.id, false);
  if (s && opts.report) {
    writeReport(opts.report, changesJson(meta.id, s.changes, { exitStatus: opts.exitStatus, durationMs: opts.durationMs, ...(opts.net ? { network: opts.net } : {}) }));
  }
  const direct = opts.direct ?? [];
  // What lists a grouped line's paths once the sandbox is saved; a throwaway run's has none.
  const listAll = `${sbxFor(store)} diff ${meta.name ?? meta.id} --all`;
  const heading = (changes: Change[]) => changesHeading(colors.bold, changes.length ? countLine(changes) : noChanges(direct));
  const summary = () => {
    if (!wantSummary || !s) return;
    rendered(heading(s.changes) + renderSummary(s.changes, colors, { limit: SUMMARY_LIMIT, listAll: opts.discard ? null : listAll }));
  };
  if (opts.discard) {
    summary();
    store.remove(meta, bigRemover(s));
    if (wantSummary) info(discarded(direct));
    return 0;
  }
  const changes = s!.changes;
  if (!changes.length && !s!.errors.length) {
    summary();
    if (meta.name) save(store, meta, opts.quiet); else store.remove(meta);
    return 0;
  }
  const refused = opts.keep ? keepRefusal(opts.exitStatus, opts.endReasons) : null;
  if (refused) {
    summary();
    save(store, meta, opts.quiet, refused);
    return 0;
  }
  if (opts.keep) {
    summary();
    return commitWithReport(store, meta, { only: opts.only, exclude: opts.exclude, force: !!opts.force, keepSetuid: !!opts.keepSetuid, dryRun: false, lockHeld: true, reviewed: s! }, stdoutText);
  }
  // isatty(2), not process.stderr.isTTY: a run that only saves its sandbox would make the
  // stream for that (a pipe's loads node:net and node:stream, ~9 ms).
  const tty = opts.interactive ? { input: process.stdin, fd: -1, terminal: !!process.stdin.isTTY, close: () => {} } : isatty(2) ? promptInput() : null;
  if (!tty) {
    summary();
    save(store, meta, opts.quiet);
    return 0;
  }
  rendered(heading(changes) + renderSummary(changes, colors, { limit: SUMMARY_LIMIT, listAll }));
  // Only keys typed once the question is up answer it: what waits on the terminal now was
  // typed ahead, or is a terminal's reply to what the command wrote last. Dropped before the
  // line reader starts reading (it would take it at once), after the summary (printed
  // without a turn of the event loop, so nothing is read meanwhile).
  if (tty.fd >= 0) dropPendingInput(tty.fd);
  const { createInterface } = builtin<typeof import('node:readline')>('node:readline');
  const rl = createInterface({ input: tty.input, output: process.stderr, terminal: tty.terminal });
  // End of input answers null, which every question below takes as "save".
  const ask = queuedAsk(rl, process.stderr);
  // Ctrl-C reaches readline as a key (the terminal is raw), and readline without a listener
  // closes: saved as at end of input, but sbx exited 0 as if answered.
  let interrupted = false;
  rl.on('SIGINT', () => { interrupted = true; line(''); rl.close(); });
  try {
    const ended = endLine(opts.exitStatus, opts.endReasons);
    const ctx = sensitiveContext();
    const flagged: string[] = [];
    const unflagged = new Set<string>();
    const flaggedDirs = new Set<string>();
    for (const c of changes) {
      const why = sensitiveReason(c, ctx);
      if (!why) { unflagged.add(c.path); continue; }
      flagged.push(why);
      if (isNewDir(c)) flaggedDirs.add(c.path);
    }
    // `n` leaves what is below a flagged new dir too, or that dir (another user's) comes along.
    dropBelow(unflagged, flaggedDirs);
    for (;;) {
      if (ended) line(ended, colors.yellow);
      const a = (await ask(`${colors.bold('Keep these changes?')} [k]eep, [d]iscard, [r]eview, [p]ick, [s]ave, [?]: `))?.trim().toLowerCase();
      if (a === null || a === undefined || a === 's' || a === 'save') { save(store, meta, opts.quiet); return interrupted ? EXIT_INTERRUPTED : 0; }
      if ((a === 'k' || a === 'keep' || a === 'p' || a === 'pick') && (meta.image || meta.rootfs)) {
        line(`  there is no host to keep them on (the root is ${meta.image ? 'an image' : 'a --rootfs tree'}): save, then '${sbxFor(store)} export ${meta.name ?? meta.id}'`);
        continue;
      }
      if (a === 'k' || a === 'keep') {
        let pick: Set<string> | undefined;
        let leftOutAs: string | undefined;
        if (flagged.length) {
          // Keeping code that runs later is the one answer worth a second look.
          const y = (await ask(colors.bold(colors.red(flaggedQuestion(flagged)))))?.trim().toLowerCase();
          if (y === 'n' || y === 'no') {
            if (!unflagged.size) { info('nothing left to keep'); continue; }
            pick = unflagged;
            leftOutAs = 'flagged, not kept';
          } else if (y !== 'yes') { line('  nothing kept yet'); continue; }
        }
        rl.close();
        tty.close();
        return commitWithReport(store, meta, { only: opts.only, exclude: opts.exclude, force: !!opts.force, keepSetuid: !!opts.keepSetuid, dryRun: false, lockHeld: true, reviewed: s!, ...(pick ? { pick, leftOutAs } : {}) }, stdoutText);
      }
      if (a === 'd' || a === 'discard') { store.remove(meta, bigRemover(s)); info(discarded(direct)); return 0; }
      if (a === 'r' || a === 'review') {
        const out = process.stdout.isTTY ? process.stdout : process.stderr;
        const { page } = await import('./pager.js');
        // What `sbx diff ID` shows: a git dir's own files, caches and lock files folded in the
        // summary and left out of the diffs, with a line on how to see them (never a flagged one).
        const { diffView } = await import('./render-diff-folds.js');
        const view = diffView({ ref: meta.name ?? meta.id, sbx: sbxFor(store) });
        const text = renderSummary(changes, colors, view.summary) + '\n' + await renderDiffs(changes, colors, undefined, view.folds);
        // The pager reads the same terminal: keys meant for it must not become answers here.
        rl.pause();
        try { await page(text, out); } finally { rl.resume(); }
        continue;
      }
      if (a === 'p' || a === 'pick') {
        const pick = await pickChanges(changes, ask);
        if (pick === null) continue;
        rl.close();
        tty.close();
        return commitWithReport(store, meta, { only: opts.only, exclude: opts.exclude, force: !!opts.force, keepSetuid: !!opts.keepSetuid, dryRun: false, lockHeld: true, reviewed: s!, pick, leftOutAs: 'not picked' }, stdoutText);
      }
      for (const l of ANSWERS) line(`  ${l}`);
    }
  } finally {
    rl.close();
    tty.close();
  }
}
