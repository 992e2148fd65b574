// The summary's `!` rules and fold list as one object, made before the scan: the scan, the
// summary (render-changes.ts) and the diffs' folds (render-diff-folds.ts) all ask it.
import type { Change } from '../sandbox-core/changes/types.js';
import { newFileReason, sensitiveContext, sensitiveReason, type SensitiveContext } from '../sandbox-core/changes/sensitive.js';
import { columnMark, foldIndex, MARK_UNKNOWN, type FoldSpec } from '../sandbox-core/changes/group.js';
import { foldRules } from '../sandbox-core/config.js';
import type { TreeSize } from '../sandbox-core/changes/host-tree.js';
import { gitRepoOf } from '../sandbox-core/changes/repo-fold.js';

export interface SummaryOptions {
  /** Lines per kind before "… and N more" (flagged changes are always listed). */
  limit?: number;
  /** List every path: no subtree groups, no folding (`sbx diff --all`). */
  expand?: boolean;
  /** The fold list; by default the shipped policies/fold.json and the config file's rules. */
  fold?: FoldSpec[];
  /** What a deleted host dir held (tests pass their own); the host walk by default. */
  treeSize?: (path: string) => TreeSize | null;
  /**
   * The rules the scan's column entries were marked with (summaryMarker, made with these
   * options): its fold list and `!` context are used, and an entry it marked is not asked again.
   */
  marker?: SummaryMarker;
  /**
   * The command that lists each path a grouped or folded line stands for, named in that line:
   * `sbx diff ID --all` with store.ts sbxFor's prefix, so a sandbox in root's store says `sudo
   * sbx`; null for none (a throwaway run leaves no sandbox to list); `sbx diff --all` if unset.
   */
  listAll?: string | null;
}


/**
 * The summary's `!` rules and fold list, made once for the scan and the summary: the scan asks
 * `mark` of each new file it keeps as columns while the helper still walks (ScanOptions
 * markColumn; Node waits for the helper then), and the summary reads the answers instead of
 * asking after the walk. Made for options with the same `expand` and `fold` as the summary's.
 */
export interface SummaryMarker {
  readonly expand: boolean;
  readonly fold: FoldSpec[];
  readonly ctx: SensitiveContext;
  mark(path: string, perm: number): number;
  /** sensitiveReason of a change, asked once: the summary and the diffs' folds both want it. */
  reason(c: Change): string | null;
}

export function summaryMarker(opts: SummaryOptions = {}): SummaryMarker {
  const fold = opts.expand ? [] : (opts.fold ?? foldRules());
  const ctx = sensitiveContext();
  const foldOf = foldIndex(fold);
  const reasons = new WeakMap<Change, string | null>();
  return {
    expand: !!opts.expand, fold, ctx,
    reason: (c) => {
      let why = reasons.get(c);
      if (why === undefined) { why = sensitiveReason(c, ctx); reasons.set(c, why); }
      return why;
    },
    mark: (p, perm) => {
      const flagged = newFileReason(p, perm, ctx) !== null;
      // A git dir's files are folded per repository when the summary is made (take): asked then.
      return !flagged && !opts.expand && gitRepoOf(p) !== null ? MARK_UNKNOWN : columnMark(flagged, foldOf(p));
    },
  };
}
