// What happens after `sbx run`: show what changed, then keep (commit), discard, review,
// pick, or save for later. Nothing is committed without an explicit answer (or -y).
import { createInterface } from 'node:readline/promises';
import { writeFileSync } from 'node:fs';
import type { Store } from '../sandbox-core/store.js';
import type { SandboxMeta } from '../sandbox-core/types.js';
import { scanSandbox } from '../sandbox-core/changes/scan.js';
import type { ScanResult } from '../sandbox-core/changes/types.js';
import { display } from '../sandbox-core/changes/bpath.js';
import { SbxError } from '../sandbox-core/errors.js';
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
  /** Overwrite host paths changed since the start when keeping (default false). */
  force?: boolean;
  /** Ask even when stdin/stderr are not terminals (tests drive the prompt through pipes). */
  interactive?: boolean;
}

const SUMMARY_LIMIT = 50;

function scan(meta: SandboxMeta, opts: ReviewOptions): ScanResult {
  const progress = progressLine();
  const r = scanSandbox(meta, { only: opts.only, exclude: opts.exclude, progress: (phase, n) => progress.update(`${phase}: ${n} entries`) });
  progress.end();
  return r;
}

function save(store: Store, meta: SandboxMeta): void {
  meta.state = 'saved';
  store.writeMeta(meta);
  const ref = meta.name ?? meta.id;
  info(`sandbox ${ref} saved: 'sbx diff ${ref}' to review, 'sbx commit ${ref}' to keep, 'sbx discard ${ref}' to drop`);
}

/** Reviews a finished run; returns the commit's exit status when it committed (1: something refused), else 0. */
export async function reviewAfterRun(store: Store, meta: SandboxMeta, opts: ReviewOptions): Promise<number> {
  const wantSummary = !opts.quiet;
  // A quiet discard with no report needs no scan at all.
  const s = opts.discard && !wantSummary && !opts.report ? null : scan(meta, opts);
  if (s) for (const e of s.errors) warn(e);
  if (s && opts.report) {
    try {
      writeFileSync(opts.report, changesJson(meta.id, s.changes, { exitStatus: opts.exitStatus, durationMs: opts.durationMs }));
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
  const interactive = opts.interactive ?? (!!process.stdin.isTTY && !!process.stderr.isTTY);
  if (!interactive) {
    summary();
    save(store, meta);
    return 0;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: !!process.stdin.isTTY });
  // readline's question() never settles once stdin ends: treat end of input as "save".
  let closed = false;
  const closedP = new Promise<null>((r) => rl.once('close', () => { closed = true; r(null); }));
  const ask = async (q: string) => (closed ? null : await Promise.race([rl.question(q), closedP]));
  try {
    rendered(`${colors.bold('Changes')}: ${countLine(changes)}\n${renderSummary(changes, colors, SUMMARY_LIMIT)}`);
    for (;;) {
      const a = (await ask(`${colors.bold('Keep these changes?')} [k]eep all, [d]iscard all, [r]eview diff, [p]ick files, [s]ave for later: `))?.trim().toLowerCase();
      if (a === null || a === undefined || a === 's' || a === 'save') { save(store, meta); return 0; }
      if (a === 'k' || a === 'keep') {
        rl.close();
        return commitWithReport(store, meta, { only: opts.only, exclude: opts.exclude, force: !!opts.force, keepSetuid: !!opts.keepSetuid, dryRun: false, reviewed: s! }, process.stdout);
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
        return commitWithReport(store, meta, { only: opts.only, exclude: opts.exclude, force: !!opts.force, keepSetuid: !!opts.keepSetuid, dryRun: false, reviewed: s!, pick }, process.stdout);
      }
      line('  answer k, d, r, p or s');
    }
  } finally {
    rl.close();
  }
}
