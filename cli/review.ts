// What happens after `sbx run`: show what changed, then keep (commit), discard, review,
// pick, or save for later. Nothing is committed without an explicit answer (or -y).
import { createInterface } from 'node:readline/promises';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { sensitiveContext, sensitiveReason } from '../sandbox-core/changes/sensitive.js';
import type { Store } from '../sandbox-core/store.js';
import type { SandboxMeta } from '../sandbox-core/types.js';
import { scanSandbox } from '../sandbox-core/changes/scan.js';
import type { ScanResult } from '../sandbox-core/changes/types.js';
import { display } from '../sandbox-core/changes/bpath.js';
import type { NetDecision } from '../sandbox-core/net/proxy.js';
import { SbxError } from '../sandbox-core/base/errors.js';
import { colors, info, line, rendered, warn } from './output.js';
import { changesJson, countLine, renderDiffs, renderSummary } from './render-changes.js';
import { commitWithReport } from './commit.js';
import { page } from './pager.js';
import { progressLine } from './progress.js';

export interface ReviewOptions {
  keep: boolean;
  /** --keep-setuid: keep setuid/setgid bits and file capabilities (root only). */
  keepSetuid?: boolean;
  discard: boolean;
  quiet: boolean;
  only: string[];
  exclude: string[];
  report: string | null;
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
}

/** How the command ended, said right before the question; null when it exited 0. */
export function endLine(status: number, reasons: string[] = []): string | null {
  if (reasons.length) return `the command did not finish: ${reasons.join('; ')} (exit status ${status})`;
  if (status === 0) return null;
  if (status > 128 && status < 128 + 65) return `the command was killed by signal ${status - 128}: its changes may be partial`;
  return `the command failed with exit status ${status}: its changes may be partial`;
}

/** The confirmation `k` asks for when flagged changes are in the list, within 80 columns. */
export function flaggedQuestion(reasons: string[]): string {
  const n = reasons.length;
  const uniq = [...new Set(reasons)];
  const tail = `): yes keeps ${n === 1 ? 'it' : 'them'}, n skips ${n === 1 ? 'it' : 'them'}: `;
  const head = `${n} flagged change${n === 1 ? '' : 's'} (`;
  let named = '';
  for (let i = 0; i < uniq.length; i++) {
    const next = named ? `${named}, ${uniq[i]}` : uniq[i]!;
    const more = i + 1 < uniq.length ? ', …'.length : 0;
    if (head.length + next.length + more + tail.length > 80) { named = named ? `${named}, …` : '…'; break; }
    named = next;
  }
  return head + named + tail;
}

/**
 * The terminal to ask on: stdin when it is one, else /dev/tty (`cat x.sh | sbx run -- sh`
 * leaves stdin a pipe the command used up, as git and less handle it). Null: nobody to ask.
 */
function promptInput(): { input: NodeJS.ReadableStream; terminal: boolean; close(): void } | null {
  if (process.stdin.isTTY) return { input: process.stdin, terminal: true, close: () => {} };
  let fd: number;
  try { fd = openSync('/dev/tty', 'r'); } catch { return null; }
  const s = new ReadStream(fd);
  return { input: s, terminal: true, close: () => { s.destroy(); try { closeSync(fd); } catch { /* destroy closed it */ } } };
}

const SUMMARY_LIMIT = 50;

function scan(meta: SandboxMeta, opts: ReviewOptions): ScanResult {
  const progress = progressLine();
  const r = scanSandbox(meta, { only: opts.only, exclude: opts.exclude, progress: (phase, n) => progress.update(`${phase}: ${n} entries`) });
  progress.end();
  return r;
}

function save(store: Store, meta: SandboxMeta): void {
  store.markSaved(meta);
  const ref = meta.name ?? meta.id;
  const keep = meta.image || meta.rootfs ? `'sbx export ${ref}' to ship its changes` : `'sbx commit ${ref}' to keep`;
  info(`sandbox ${ref} saved: 'sbx diff ${ref}' to review, ${keep}, 'sbx discard ${ref}' to drop`);
}

/** Reviews a finished run; returns the commit's exit status when it committed (1: something refused), else 0. */
export async function reviewAfterRun(store: Store, meta: SandboxMeta, opts: ReviewOptions): Promise<number> {
  const wantSummary = !opts.quiet;
  // A quiet discard with no report needs no scan at all.
  const s = opts.discard && !wantSummary && !opts.report ? null : scan(meta, opts);
  if (s) for (const e of s.errors) warn(e);
  if (s && opts.report) {
    try {
      writeFileSync(opts.report, changesJson(meta.id, s.changes, { exitStatus: opts.exitStatus, durationMs: opts.durationMs, ...(opts.net ? { network: opts.net } : {}) }));
    } catch (e) {
      throw new SbxError(`cannot write the report ${opts.report}: ${(e as Error).message}`);
    }
  }
  const summary = () => {
    if (!wantSummary || !s) return;
    rendered(`${colors.bold('Changes')}: ${countLine(s.changes)}\n${renderSummary(s.changes, colors, SUMMARY_LIMIT)}`);
  };
  if (opts.discard) {
    summary();
    store.remove(meta);
    if (wantSummary) info('discarded: the host was not touched');
    return 0;
  }
  const changes = s!.changes;
  if (!changes.length && !s!.errors.length) {
    summary();
    if (meta.name) save(store, meta); else store.remove(meta);
    return 0;
  }
  if (opts.keep) {
    summary();
    return commitWithReport(store, meta, { only: opts.only, exclude: opts.exclude, force: !!opts.force, keepSetuid: !!opts.keepSetuid, dryRun: false, reviewed: s! }, process.stdout);
  }
  const tty = opts.interactive ? { input: process.stdin, terminal: !!process.stdin.isTTY, close: () => {} } : process.stderr.isTTY ? promptInput() : null;
  if (!tty) {
    summary();
    save(store, meta);
    return 0;
  }
  const rl = createInterface({ input: tty.input, output: process.stderr, terminal: tty.terminal });
  // readline's question() never settles once stdin ends: treat end of input as "save".
  let closed = false;
  const closedP = new Promise<null>((r) => rl.once('close', () => { closed = true; r(null); }));
  const ask = async (q: string) => (closed ? null : await Promise.race([rl.question(q), closedP]));
  try {
    rendered(`${colors.bold('Changes')}: ${countLine(changes)}\n${renderSummary(changes, colors, SUMMARY_LIMIT)}`);
    const ended = endLine(opts.exitStatus, opts.endReasons);
    const ctx = sensitiveContext();
    const flagged: string[] = [];
    const unflagged = new Set<string>();
    for (const c of changes) { const why = sensitiveReason(c, ctx); if (why) flagged.push(why); else unflagged.add(c.path); }
    for (;;) {
      if (ended) line(ended, colors.yellow);
      const a = (await ask(`${colors.bold('Keep these changes?')} [k]eep all, [d]iscard all, [r]eview diff, [p]ick files, [s]ave for later: `))?.trim().toLowerCase();
      if (a === null || a === undefined || a === 's' || a === 'save') { save(store, meta); return 0; }
      if ((a === 'k' || a === 'keep' || a === 'p' || a === 'pick') && (meta.image || meta.rootfs)) {
        line(`  there is no host to keep them on (the root is ${meta.image ? 'an image' : 'a --rootfs tree'}): save, then 'sbx export'`);
        continue;
      }
      if (a === 'k' || a === 'keep') {
        let pick: Set<string> | undefined;
        if (flagged.length) {
          // Keeping code that runs later is the one answer worth a second look.
          const y = (await ask(colors.bold(colors.red(flaggedQuestion(flagged)))))?.trim().toLowerCase();
          if (y === 'n' || y === 'no') {
            if (!unflagged.size) { info('nothing left to keep'); continue; }
            pick = unflagged;
          } else if (y !== 'yes') { line('  nothing kept yet'); continue; }
        }
        rl.close();
        tty.close();
        return commitWithReport(store, meta, { only: opts.only, exclude: opts.exclude, force: !!opts.force, keepSetuid: !!opts.keepSetuid, dryRun: false, reviewed: s!, ...(pick ? { pick } : {}) }, process.stdout);
      }
      if (a === 'd' || a === 'discard') { store.remove(meta); info('discarded: the host was not touched'); return 0; }
      if (a === 'r' || a === 'review') {
        const out = process.stdout.isTTY ? process.stdout : process.stderr;
        await page(renderSummary(changes, colors, { expand: true }) + '\n' + await renderDiffs(changes, colors), out);
        continue;
      }
      if (a === 'p' || a === 'pick') {
        const pick = new Set<string>();
        let all: boolean | null = null;
        for (const c of changes) {
          if (all !== null) { if (all) pick.add(c.path); continue; }
          const r = (await ask(`  keep ${c.change} ${display(c.path)}? [y]es, [n]o, [a]ll the rest, [q] none of the rest: `))?.trim().toLowerCase();
          if (r === null || r === undefined) break;
          if (r === 'y' || r === 'yes') pick.add(c.path);
          else if (r === 'a') { all = true; pick.add(c.path); } else if (r === 'q') all = false;
        }
        if (!pick.size) { info('nothing picked'); continue; }
        const yes = (await ask(`commit ${pick.size} picked changes? [y/N]: `))?.trim().toLowerCase();
        if (yes !== 'y' && yes !== 'yes') continue;
        rl.close();
        tty.close();
        return commitWithReport(store, meta, { only: opts.only, exclude: opts.exclude, force: !!opts.force, keepSetuid: !!opts.keepSetuid, dryRun: false, reviewed: s!, pick }, process.stdout);
      }
      line('  answer k, d, r, p or s');
    }
  } finally {
    rl.close();
    tty.close();
  }
}
