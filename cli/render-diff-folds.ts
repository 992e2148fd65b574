// Which diffs `sbx diff` leaves out: those of the entries its summary folds (a git dir's own
// files, the fold list's caches, lock files, bytecode), so that the diffs after a `git commit`
// are the work, not reflogs, COMMIT_EDITMSG and packed-refs one by one. Each folded group is
// then one line saying how many diffs it left out and how to see them. A flagged (`!`) entry
// is never left out; nor is one the user pointed at: a PATH argument or --only pattern that
// lies in the fold itself (`sbx diff ID /src/x/.git`, `--only '*.pyc'`). --all folds nothing.
// Only the diffs: the summary, --name-only, --json, --stat and the commit are as before.
// `sbx diff ID` and the prompt's [r] both show diffView's summary and diffs.
import type { Change } from '../sandbox-core/changes/types.js';
import type { NamedChanges } from '../sandbox-core/changes/named.js';
import { display, fromUser, terminalSafe } from '../sandbox-core/base/bpath.js';
import { newFileReason } from '../sandbox-core/changes/sensitive.js';
import { foldIndex, MARK_FOLD, MARK_PLAIN, MARK_UNKNOWN } from '../sandbox-core/changes/group.js';
import { globMatch } from '../sandbox-core/changes/glob.js';
import { gitRepoOf } from '../sandbox-core/changes/repo-fold.js';
import { countText } from '../sandbox-core/base/count-text.js';
import { summaryMarker, type SummaryMarker, type SummaryOptions } from './summary-marker.js';

export interface DiffFoldOptions {
  /** The summary's rules (its fold list and `!` context; its marks on the column entries). */
  marker: SummaryMarker;
  /** How the sandbox is named in the hint (`sbx diff ID ...`). */
  ref: string;
  /** How the user runs sbx on the sandbox's store (store.ts sbxFor: `sbx`, `sudo sbx`, ...). */
  sbx: string;
  /** The PATH arguments, absolute, as typed (text). */
  paths?: string[];
  /** The --only patterns. */
  only?: string[];
}

/** What the full view of a sandbox's changes shows: its summary's options and what its diffs leave out. */
export interface DiffView {
  /** The summary's rules, made before the scan (ScanOptions markColumn). */
  marker: SummaryMarker;
  /** renderSummary's options: every line, folded as the diffs are (`all`: nothing folded). */
  summary: SummaryOptions;
  /** For renderDiffs/writeDiffs; none with `all`. */
  folds?: DiffFolds;
}

/**
 * The view `sbx diff ID [PATH...]` shows and the prompt's [r] pages: the same folds in the
 * summary and the diffs, the same hint lines naming the sandbox as `ref`.
 */
export function diffView(o: { ref: string; sbx: string; all?: boolean; paths?: string[]; only?: string[] }): DiffView {
  const all = !!o.all;
  const marker = summaryMarker({ expand: all });
  const listAll = `${o.sbx} diff ${shellWord(terminalSafe(o.ref))} --all`;
  return { marker, summary: { expand: all, marker, listAll }, ...(all ? {} : { folds: new DiffFolds({ marker, ref: o.ref, sbx: o.sbx, ...(o.paths ? { paths: o.paths } : {}), ...(o.only ? { only: o.only } : {}) }) }) };
}

/** Counts what writeDiffs leaves out, per repository and per fold rule, and says so at the end. */
export class DiffFolds {
  private readonly foldOf: (p: string) => number;
  private readonly repos = new Map<string, number>();
  private readonly folds: number[];
  /** PATH arguments (byte strings) that lie in a fold: what is at or below them keeps its diff. */
  private readonly roots: string[];
  /** --only patterns that name a folded place. */
  private readonly globs: string[];

  constructor(private readonly o: DiffFoldOptions) {
    this.foldOf = foldIndex(o.marker.fold);
    this.folds = o.marker.fold.map(() => 0);
    const folded = (p: string) => gitRepoOf(p) !== null || this.foldOf(p) >= 0;
    this.roots = (o.paths ?? []).map((p) => fromUser(p.length > 1 ? p.replace(/\/+$/, '') : p)).filter(folded);
    this.globs = (o.only ?? []).filter((g) => folded(fromUser(g.startsWith('/') ? g : `/${g}`)));
  }

  /** Whether change c's diff is left out (counted then). */
  change(c: Change): boolean {
    if (c.type !== 'file' || c.change === 'metadata') return false;
    return this.left(c.path, c.linksTo !== undefined, () => this.o.marker.reason(c) !== null);
  }

  /** Whether column entry j's diff (a new file) is left out (counted then). */
  column(list: NamedChanges, j: number): boolean {
    const marked = list.mark === this.o.marker.mark;
    const m = marked ? list.markAt(j) : MARK_UNKNOWN;
    if (m === MARK_PLAIN) return false;
    // Marked folded (by rule m - MARK_FOLD) as the helper walked: not flagged, not in a git dir.
    if (m >= MARK_FOLD && !this.roots.length && !this.globs.length) { this.folds[m - MARK_FOLD]!++; return true; }
    const p = list.pathAt(j);
    // Marked and not flagged (a git dir's entry): the rules said no without its content, which
    // only ever turns a yes into a no (a `harmless` test), so they say no with it too.
    if (m === MARK_UNKNOWN && marked) return this.left(p, false, () => false);
    return this.left(p, false, () => newFileReason(p, list.permAt(j), this.o.marker.ctx, list.upperAt(j)) !== null);
  }

  private left(p: string, linked: boolean, flagged: () => boolean): boolean {
    const root = gitRepoOf(p);
    // A hard link is listed in the summary, never folded; in a git dir it is part of the repository's line.
    const k = root === null && !linked ? this.foldOf(p) : -1;
    if (root === null && k < 0) return false;
    if (this.asked(p) || flagged()) return false;
    if (root !== null) this.repos.set(root, (this.repos.get(root) ?? 0) + 1); else this.folds[k]!++;
    return true;
  }

  private asked(p: string): boolean {
    for (const r of this.roots) if (p === r || p.startsWith(r === '/' ? '/' : `${r}/`)) return true;
    for (const g of this.globs) if (globMatch(g, p)) return true;
    return false;
  }

  /** One line per group that left a diff out (escaped), repositories first, in path order. */
  lines(): string[] {
    const out: string[] = [];
    const ref = shellWord(terminalSafe(this.o.ref));
    for (const [root, n] of [...this.repos].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const gitDir = root === '/' ? '/.git' : `${root}/.git`;
      out.push(`${display(root)}: ${diffs(n)} of git's own files left out (to see them: ${this.o.sbx} diff ${ref} ${shellWord(display(gitDir))})`);
    }
    this.o.marker.fold.forEach((f, k) => {
      const n = this.folds[k]!;
      if (n) out.push(`${terminalSafe(f.name)}: ${diffs(n)} left out (to see them: ${this.o.sbx} diff ${ref} --all)`);
    });
    return out;
  }
}

const diffs = (n: number): string => `${countText(n)} diff${n === 1 ? '' : 's'}`;

/** A word the shell reads back as it is: single-quoted when it holds anything but plain characters. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
