// Terminal and JSON rendering of a change list: a git-status-like summary, --stat,
// --name-only, JSON, and unified diffs (jsdiff, loaded only when a diff is shown).
// Every name and diff line is escaped: a file name cannot move the cursor or recolour.
import type { Change, ChangeKind, EntryStat } from '../sandbox-core/changes/types.js';
import { ByteOut, PIECE, type NamedChanges, type Shown } from '../sandbox-core/changes/named.js';
import { decodeUtf8Strict, display, displayText, joinB, jsonPath, nameB, parentB, terminalSafe } from '../sandbox-core/base/bpath.js';
import { isBelow } from '../sandbox-core/base/within.js';
import { codeUnitOrder } from '../sandbox-core/base/code-order.js';
import { accessDiff, lstatB, oct } from '../sandbox-core/changes/stat.js';
import { countChanges } from '../sandbox-core/changes/scan.js';
import { countLines, isUnreadable, readHead } from '../sandbox-core/changes/content.js';
import { changedTree, type ChangedTree } from '../sandbox-core/changes/moves.js';
import { movedIntoCopy } from '../sandbox-core/changes/copies.js';
import { humanBytes } from './progress.js';
import { countText } from '../sandbox-core/base/count-text.js';
import { manyLeast, manyOf, newFileReason, sensitiveContext, sensitiveReason } from '../sandbox-core/changes/sensitive.js';
import { dirPrefix, foldIndex, isGroup, runTotals, siblingRuns, topOf, viewKind, MARK_FOLD, MARK_PLAIN, MARK_UNKNOWN, SIBLINGS, type FoldCount, type SiblingRun, type SubtreeGroup } from '../sandbox-core/changes/group.js';
import { foldRules } from '../sandbox-core/config.js';
import { HostTreeSizes, hostTreeSizes, type TreeSize } from '../sandbox-core/changes/host-tree.js';
import { devNumbers } from '../sandbox-core/base/dev-numbers.js';
import { gitRepoOf, RepoFold } from '../sandbox-core/changes/repo-fold.js';
import type { DiffFolds } from './render-diff-folds.js';
import type { SummaryOptions } from './summary-marker.js';
import { NO_CHANGES } from './review-words.js';
import { ARROW, ELLIPSIS } from '../sandbox-core/base/charset.js';

type Colors = { green(s: string): string; red(s: string): string; yellow(s: string): string; cyan(s: string): string; magenta(s: string): string; dim(s: string): string; bold(s: string): string };

const ORDER: ChangeKind[] = ['modified', 'added', 'deleted', 'replaced', 'metadata'];
const COLOR: Record<ChangeKind, keyof Colors> = { added: 'green', modified: 'yellow', deleted: 'red', replaced: 'magenta', metadata: 'cyan' };

function nameOf(c: Change): string {
  let s = display(c.path);
  if (c.type === 'dir' && c.change !== 'deleted' && c.path !== '/') s += '/';
  if (c.type === 'symlink' && c.target !== undefined && c.change !== 'deleted') s += ` -> ${display(c.target)}`;
  return s;
}

/** Files from this size on show their size in the summary. */
const LARGE_FILE = 1 << 20;

/** Bytes the new file takes on disk; null when unknown. */
function allocatedOf(c: Change): number | null {
  return c.up?.blocks !== undefined ? c.up.blocks * 512 : null;
}

/** A large file's apparent size and what it takes on disk (a sparse 3 GiB file may take none). */
function sizeOf(c: Change): string {
  const a = allocatedOf(c);
  return a === null ? humanBytes(c.size) : `${humanBytes(c.size)}, ${humanBytes(a)} allocated`;
}

/** `tree`: what the host's dir held, for a change that removes it with its tree (removesHostDir). */
function noteOf(c: Change, tree?: TreeSize | null): string {
  // A refilled dir's backup is said inside its note (kindNote): `(dir emptied and refilled; host version saved as conf.bak)`.
  const moved = c.change === 'replaced' && c.opaque ? '' : movedNote(c);
  return `${kindNote(c, tree)}${c.linksTo !== undefined ? ` (hard link to ${display(c.linksTo)})` : ''}${moved}`;
}

/**
 * A moved host file's two lines name each other (moves.ts), and the new one says if it then
 * changed; so do a copy's and the changed host file's (pairCopies: a backup, a rotated log).
 */
function movedNote(c: Change): string {
  const text = movedText(c);
  return text && ` (${text})`;
}
function movedText(c: Change): string {
  const moved = c.movedFrom !== undefined ? `moved from ${besideOrPath(c.path, c.movedFrom)}${c.movedChanged ? ', then changed' : ''}`
    : c.movedTo !== undefined ? `moved to ${besideOrPath(c.path, c.movedTo)}` : '';
  const copy = c.copyOf !== undefined ? `copy of the host's ${besideOrPath(c.path, c.copyOf)}${c.copyChanged ? ', then changed' : ''}`
    : c.copiedTo !== undefined ? `host version saved as ${besideOrPath(c.path, c.copiedTo)}` : '';
  const text = moved && copy ? `${moved}; ${copy}` : moved || copy;
  return text && `${text}${accessText(c)}`;
}

/**
 * `; mode 600→644`: how a moved or copied entry's mode and owner differ from the host's it came
 * from (Change.sourceDetails; else asked of `from`, a moved dir's file's old file), which its
 * `Same content` says nothing of.
 */
function accessText(c: Change, from?: { host?: EntryStat }): string {
  const d = c.sourceDetails ?? (from?.host && c.up ? accessDiff(c.up, from.host) : []);
  return d.length ? `; ${detailsText(d)}` : '';
}
/** A dir line's counts with its move said inside them: `(2 files, 1 dir, 984 B; moved from old)`. */
function withMoved(counts: string, c: Change): string {
  const text = movedText(c);
  if (!text) return counts;
  return counts.endsWith(')') ? `${counts.slice(0, -1)}; ${text})` : `${counts} (${text})`;
}

/** `other` by its name alone when it is in the same dir as `path` (a rename), else whole. */
function besideOrPath(path: string, other: string): string {
  return display(parentB(other) === parentB(path) ? nameB(other) : other);
}

/**
 * A change's details as the terminal shows them: the change list keeps `mode 644→600` (as
 * --json gives it, whatever the locale), shown with charset.ts's arrow.
 */
export function detailsText(details: readonly string[]): string {
  const text = details.join(', ');
  return ARROW === '\u2192' ? text : text.replaceAll('\u2192', ARROW);
}

const isOwner = (detail: string): boolean => detail.startsWith('owner ');

function kindNote(c: Change, tree?: TreeSize | null): string {
  const big = c.type === 'file' && c.change !== 'deleted' && c.change !== 'metadata' && c.size >= LARGE_FILE;
  if (c.change === 'replaced') return c.opaque ? withMoved(' (dir emptied and refilled)', c) : ` (${replacedText(c, tree)}${big ? `, ${sizeOf(c)}` : ''})`;
  if (c.change === 'metadata') return ` (${detailsText(c.details ?? [])})`;
  // A device node only reaches a layer by hand (mknod is refused inside): the commit skips it (plan.ts).
  if ((c.type === 'char' || c.type === 'block') && c.change !== 'deleted' && c.up) {
    const { major, minor } = devNumbers(c.up.rdev);
    return ` (${c.type} device ${major}:${minor}, never committed)`;
  }
  if (c.type !== 'file' && c.type !== 'dir' && c.type !== 'symlink') return ` (${c.type})`;
  // A large file's line has no diff below it: what else changed (a chmod, an ACL) is on it.
  if (big) return ` (${detailsText([sizeOf(c), ...(c.change === 'modified' ? c.details?.filter((d) => d !== 'mtime') : c.details) ?? []])})`;
  if (c.change === 'added' && c.details?.length) {
    // A copy or move given to another owner says it against the host file's (`owner 0:0→1000:1000`).
    const shown = c.sourceDetails?.some(isOwner) ? c.details.filter((d) => !isOwner(d)) : c.details;
    if (shown.length) return ` (${detailsText(shown)})`;
  }
  // What changed besides the bytes (a chmod or chown with the edit); the time always moves.
  // A link's old target: the line shows the new one (`-> v2 (was v1)`).
  if (c.change === 'modified') {
    const also = c.details?.filter((d) => d !== 'mtime') ?? [];
    const was = c.type === 'symlink' && c.targetBefore !== undefined ? `was ${display(c.targetBefore)}` : '';
    if (was || also.length) return ` (${[was, detailsText(also)].filter((t) => t).join(', ')})`;
  }
  return '';
}

/**
 * A replacement that removes a host dir with everything below it (a symlink or a file in its
 * place; an opaque dir keeps the dir, and what it hides is listed as deleted): the commit
 * takes the host's tree, which no other line names, so its line says what that tree holds.
 */
export function removesHostDir(c: Change): boolean {
  return c.change === 'replaced' && c.oldType === 'dir' && !c.opaque;
}

/**
 * `dir of 41 entries, 1.2 KiB → symlink`: the host's type, with what its dir held counted as a
 * deleted dir's line counts it (`tree`, from HostTreeSizes; undefined or null: not measured or
 * not reachable), then the sandbox's type.
 */
export function replacedText(c: Change, tree?: TreeSize | null): string {
  const held = tree && removesHostDir(c) ? heldText(tree) : undefined;
  const was = held === undefined ? `${c.oldType}` : held === null ? 'empty dir' : tree!.entries ? `dir of ${held}` : 'dir unreadable to you';
  return `${was} ${ARROW} ${c.type}`;
}

/**
 * What a host tree held, as a line says it (null: nothing). An ordinary user's review cannot
 * list a dir only root may read: a deleted one read as empty (`deleted: /opt/x/priv/`), though
 * a root commit takes what it holds.
 */
function heldText(t: TreeSize): string | null {
  if (t.unlisted && !t.entries) return 'unreadable to you: what it holds is unknown';
  if (!t.entries) return null;
  return `${entriesText(t.entries, t.capped || !!t.unlisted)}, ${humanBytes(t.bytes)}${t.unlisted ? ', more unreadable to you' : ''}`;
}

/** What each host dir the changes replace holds (removesHostDir), in one helper call: for the views that list every change. */
export function replacedTrees(changes: readonly Change[]): Map<string, TreeSize | null> {
  const paths: string[] = [];
  for (const c of changes) if (removesHostDir(c)) paths.push(c.path);
  return paths.length ? hostTreeSizes(paths) : new Map();
}

export function countLine(changes: Change[], named?: NamedChanges): string {
  const n = countChanges(changes);
  // A names-only scan's new files are all added files.
  if (named) { n.added += named.length; n.total += named.length; }
  if (!n.total) return NO_CHANGES;
  return ORDER.filter((k) => n[k]).map((k) => `${n[k]} ${k}`).join(', ');
}

/**
 * The line each flagged change of a `many` rule shares: one per rule and top-level tree. A
 * group whose dirs share only that top dir (a header in /usr/include and vim's defaults.vim:
 * `in 2 dirs under /usr/`) says little as one line: it is split by the first three components
 * of each dir, two in /etc, whose dirs are each a package's (nginx's sites-enabled/ and
 * snippets/ with /etc/nginx; the runlevel dirs together), where a lone change is listed as
 * itself. Asked per change as `of(c, why)`; the groups are arrays of the flagged changes (a
 * 200k-entry review has one), nothing per entry.
 */
// SysV init's runlevel dirs, each holding links to the same init.d scripts: one part, where
// a dir each was seven lines for one daemon's install.
const RUNLEVEL_DIR = /^\/etc\/rc[0-6S]\.d$/;

function manyGroups(flagged: Array<[Change, string]>): (c: Change, why: string) => Change[] | undefined {
  const byTop = new Map<string, Change[]>();
  for (const [c, why] of flagged) {
    if (manyOf(why) === null) continue;
    const key = `${why}\0${topOf(c.path)}`;
    const g = byTop.get(key);
    if (g) g.push(c); else byTop.set(key, [c]);
  }
  let split: Map<Change, Change[]> | null = null;
  for (const [key, g] of byTop) {
    if (g.length < 2) continue;
    const two = dirPrefix(g[0]!.path, 2);
    if (g.every((c) => c.path.startsWith(two) && c.path.charCodeAt(two.length) === 0x2f)) continue;
    byTop.delete(key);
    const parts = new Map<string, Change[]>();
    for (const c of g) {
      const d = dirPrefix(c.path, c.path.startsWith('/etc/') ? 2 : 3);
      const k = RUNLEVEL_DIR.test(d) ? '/etc/rc?.d' : d;
      const s = parts.get(k);
      if (s) s.push(c); else parts.set(k, [c]);
    }
    split ??= new Map();
    for (const s of parts.values()) for (const c of s) split.set(c, s);
  }
  return (c, why) => split?.get(c) ?? byTop.get(`${why}\0${topOf(c.path)}`);
}

/** The deepest dir every one of `dirs` is in or under (byte strings). */
function commonDir(dirs: Set<string>): string {
  let common: string | null = null;
  for (const d of dirs) {
    if (common === null) { common = d; continue; }
    while (common !== '/' && d !== common && !d.startsWith(`${common}/`)) common = common.slice(0, common.lastIndexOf('/')) || '/';
  }
  return common ?? '/';
}

function groupLine(g: SubtreeGroup): string {
  // A gone tree is counted in entries (what rm -rf removed); a new one in files, dirs and the
  // rest. A group whose files are all on other lines (flagged, folded) is its dirs alone:
  // "0 files, 23 other entries, 0 B" read as a fault. Symlinks by name: `sbx diff` shows where each points.
  if (g.root.change === 'deleted') return ` (${entriesText(g.entries)}, ${humanBytes(g.bytes)})`;
  const other = g.entries - g.files - g.dirs - g.links;
  const parts: string[] = [];
  if (g.files || (!g.dirs && !g.links && !other)) parts.push(`${countText(g.files)} file${g.files === 1 ? '' : 's'}`);
  if (g.dirs) parts.push(`${countText(g.dirs)} dir${g.dirs === 1 ? '' : 's'}`);
  if (g.links) parts.push(`${countText(g.links)} symlink${g.links === 1 ? '' : 's'}`);
  if (other) parts.push(`${countText(other)} other entr${other === 1 ? 'y' : 'ies'}`);
  if (g.files) parts.push(humanBytes(g.bytes));
  return ` (${parts.join(', ')})`;
}

function entriesText(n: number, capped = false): string {
  return `${countText(n)}${capped ? '+' : ''} entr${n === 1 && !capped ? 'y' : 'ies'}`;
}

/** One line of the summary, and what picking it in the review keeps. */
export interface SummaryItem {
  kind: ChangeKind;
  /** The summary line, escaped and painted. */
  line: string;
  /** What it names, escaped, unpainted (`/usr/share/doc/ (5,128 entries, 118 MiB)`). */
  label: string;
  /** Flagged: code runs later (the reason). */
  flagged?: string;
  /** The host paths this line stands for. */
  paths(): string[];
}
/** The parenthesis a grouped or folded summary line ends with: how to see each of its paths. */
export function listAllHint(opts: SummaryOptions): string {
  return opts.listAll === null ? '' : ` ('${opts.listAll ?? 'sbx diff --all'}' lists each)`;
}

export interface SummaryKind {
  kind: ChangeKind;
  total: number;
  /** Flagged and hard-linked changes first, then the grouped rest, then the fold lines. */
  items: SummaryItem[];
  /** How many of `items` are fold lines (always shown; the limit applies to the others). */
  folds: number;
}

export interface SummaryPlan {
  kinds: SummaryKind[];
  folded: number;
  flagged: number;
}

/** A single change's item: its text is made when read (a summary shows a few of 200k items). */
class OneChange implements SummaryItem {
  constructor(readonly kind: ChangeKind, private readonly c: Change, private readonly paint: (s: string) => string, private readonly head: string, private readonly col: Colors, private readonly tree?: (c: Change) => TreeSize | null | undefined) {}
  get label(): string { return `${nameOf(this.c)}${noteOf(this.c, this.tree?.(this.c))}`; }
  get line(): string { return `  ${this.paint(`${this.head}${nameOf(this.c)}`)}${this.col.dim(noteOf(this.c, this.tree?.(this.c)))}`; }
  paths(): string[] { return [this.c.path]; }
}

/**
 * The summary as items, in the order it is read: per kind, flagged changes (never folded or
 * cut, nor grouped with unflagged ones; a `many` rule's of one top-level tree are one flagged
 * item, picked as one), hard links to host files, new or gone trees as one item each and single
 * changes by top-level tree (largest first), then one item per fold rule.
 */
export function summaryPlan(changes: Change[], col: Colors, opts: SummaryOptions = {}, named?: NamedChanges): SummaryPlan {
  // Nothing to show (most runs of a test or a build that cleans up): the rules are not loaded.
  if (!changes.length && !named?.length) return { kinds: [], folded: 0, flagged: 0 };
  const marker = opts.marker && opts.marker.expand === !!opts.expand ? opts.marker : null;
  const fold = marker ? marker.fold : opts.expand ? [] : (opts.fold ?? foldRules());
  const foldOf = foldIndex(fold);
  // The deleted trees the summary may show are measured in one helper call when the first line is read.
  const sizes = opts.treeSize ? null : new HostTreeSizes();
  const treeSize = opts.treeSize ?? ((p: string) => sizes!.get(p));
  const limit = opts.limit ?? Infinity;
  // A host dir a replacement removes says what it held, measured with the deleted trees.
  const treeOf = (c: Change): TreeSize | null | undefined => (removesHostDir(c) ? treeSize(c.path) : undefined);
  const ctx = marker ? marker.ctx : sensitiveContext();
  const reasonOf = marker ? marker.reason : (c: Change) => sensitiveReason(c, ctx);
  const plan: SummaryPlan = { kinds: [], folded: 0, flagged: 0 };
  const byKind = new Map<ChangeKind, Change[]>(ORDER.map((k) => [k, []]));
  // A git dir's entries (objects, refs, logs, index) are one line per repository; what the
  // `!` rules flag there (hooks, config, info/) stays listed like any flagged change.
  const repos = opts.expand ? null : new RepoFold();
  const kindTotal = new Map<ChangeKind, number>(ORDER.map((k) => [k, 0]));
  for (const c of changes) {
    kindTotal.set(c.change, kindTotal.get(c.change)! + 1);
    if (repos && gitRepoOf(c.path) !== null && !reasonOf(c) && repos.add(c.path, c.change, c.type, c.size, () => c.upper, c.host?.size ?? 0)) continue;
    byKind.get(c.change)!.push(c);
  }
  // The column list's new files (the full review's scan) are added files: a Change is made
  // only for one printed on a line of its own.
  const cols = named && named.length ? named : null;
  // Its entries' marks were made with these rules: a plain or folded one is not asked again.
  const marked = !!(cols && marker && cols.mark === marker.mark);
  for (const k of ORDER) {
    const group = byKind.get(k)!;
    const extra = k === 'added' ? cols : null;
    if (!kindTotal.get(k) && !extra) continue;
    const paint = col[COLOR[k]];
    const label = (k + ':').padEnd(10);
    let trees = 0;
    const items: SummaryItem[] = [];
    const rest: Change[] = [];
    const linked: Change[] = [];
    const flag = (c: Change, why: string) => {
      plan.flagged++;
      if (sizes && removesHostDir(c)) sizes.add(c.path);
      items.push({
        kind: k, flagged: why, paths: () => [c.path],
        get label() { return `${nameOf(c)}${noteOf(c, treeOf(c))}`; },
        get line() { return `${col.bold(col.red('!'))} ${paint(`${label}${nameOf(c)}`)}${col.dim(noteOf(c, treeOf(c)))} ${col.bold(col.red(`[! ${why}]`))}`; },
      });
    };
    // One line for entries of a rule that come by the dozen: how many, in which dirs.
    const flagMany = (cs: Change[], why: string, noun: string) => {
      plan.flagged += cs.length;
      const dirs = new Set<string>();
      for (const c of cs) dirs.add(parentB(c.path));
      const under = commonDir(dirs);
      const shown = under === '/' ? '/' : `${display(under)}/`;
      const where = dirs.size === 1 ? shown : [...dirs].every((d) => RUNLEVEL_DIR.test(d)) ? `${dirs.size} dirs /etc/rc?.d/` : `${countText(dirs.size)} dirs under ${shown}`;
      const text = `${countText(cs.length)} ${noun} in ${where}`;
      items.push({ kind: k, flagged: why, label: text, paths: () => cs.map((c) => c.path), line: `${col.bold(col.red('!'))} ${paint(`${label}${text}`)}${col.dim(listAllHint(opts))} ${col.bold(col.red(`[! ${why}]`))}` });
    };
    const flaggedChanges: Array<[Change, string]> = [];
    for (const c of group) {
      const why = reasonOf(c);
      if (why) flaggedChanges.push([c, why]);
      else if (c.linksTo !== undefined && !opts.expand) linked.push(c); else rest.push(c);
    }
    // Which column entries are not flagged (and so grouped, folded or listed like `rest`).
    const keep = extra ? new Uint8Array(extra.length) : null;
    const flaggedCols: Array<[Change, string]> = [];
    // The `!` rules on column entry j (path p), asked by viewKind as it meets it (its path is
    // made once for both): a flagged one gets its Change for its line, the rest are kept.
    const take = (j: number, p: string): boolean => {
      const why = marked && extra!.markAt(j) === MARK_UNKNOWN ? null : newFileReason(p, extra!.permAt(j), ctx, extra!.upperAt(j));
      if (why) { flaggedCols.push([extra!.changeAt(j), why]); return false; }
      if (repos && repos.add(p, 'added', 'file', extra!.sizeAt(j), () => extra!.changeAt(j).upper)) return false;
      keep![j] = 1;
      return true;
    };
    // The host paths of `rest` and of the kept column entries that pass `test`, in path order.
    const restPaths = (test: (p: string) => boolean): string[] => {
      const out: string[] = [];
      for (let i = 0, j = 0; i <= rest.length; i++) {
        const c = rest[i];
        for (; extra && j < extra.length && (c === undefined || extra.compareTo(j, c.path) < 0); j++) {
          if (!keep![j]) continue;
          const p = extra.pathAt(j);
          if (test(p)) out.push(p);
        }
        if (c !== undefined && test(c.path)) out.push(c.path);
      }
      return out;
    };
    const kept = (j: number): void => { keep![j] = 1; };
    const keptRun = (from: number, to: number): void => { keep!.fill(1, from, to); };
    let view: { items: Array<Change | SubtreeGroup>; folds: FoldCount[]; foldedDirs?: Map<string, number> };
    if (!opts.expand) view = viewKind(k, rest, fold, extra ? { list: extra, take, ...(marked ? { kept, keptRun } : {}) } : undefined);
    else if (!extra) view = { items: rest, folds: [] };
    else {
      // Every path listed: the kept column entries become changes, in path order with the rest.
      for (let j = 0; j < extra.length; j++) {
        const m = marked ? extra.markAt(j) : 0;
        if (m === MARK_PLAIN || m >= MARK_FOLD) kept(j); else take(j, extra.pathAt(j));
      }
      const all: Change[] = [];
      for (let i = 0, j = 0; i <= rest.length; i++) {
        const c = rest[i];
        for (; j < extra.length && (c === undefined || extra.compareTo(j, c.path) < 0); j++) if (keep![j]) all.push(extra.changeAt(j));
        if (c !== undefined) all.push(c);
      }
      view = { items: all, folds: [] };
    }
    // Flagged changes first, in path order (the changes' and the columns' merged).
    const flagged: Array<[Change, string]> = [];
    for (let i = 0, j = 0; i < flaggedChanges.length || j < flaggedCols.length;) {
      flagged.push(j < flaggedCols.length && (i === flaggedChanges.length || flaggedCols[j]![0].path < flaggedChanges[i]![0].path) ? flaggedCols[j++]! : flaggedChanges[i++]!);
    }
    // A rule whose entries come by the dozen (SensitiveRule.many: bytecode Python writes for
    // each module it imports) is one flagged line per top-level tree, where its first entry
    // is; --all lists each, and each keeps its diff.
    const many = opts.expand ? null : manyGroups(flagged);
    for (const [c, why] of flagged) {
      const g = many?.(c, why);
      if (!g || g.length < manyLeast(why)) flag(c, why);
      else if (g[0] === c) flagMany(g, why, manyOf(why)!);
    }
    /** One line for a run of siblings: how many, in which dir, and what they hold in all. */
    const runItem = (run: SiblingRun): SummaryItem => {
      const shown = run.dir === '/' ? '/' : `${display(run.dir)}/`;
      const what = `${countText(run.members.length)} entries in ${run.dirs === 1 ? shown : `${countText(run.dirs)} dirs under ${shown}`}`;
      const roots = new Set(run.members.map((m) => (isGroup(m) ? m.root.path : m.path)));
      const under = run.dir === '/' ? '/' : `${run.dir}/`;
      // A member, or below one (a new tree's entries): asked of p and its dirs below the run's.
      const inRun = (p: string): boolean => {
        if (!p.startsWith(under) || foldOf(p) >= 0) return false;
        for (let q = p; q.length > run.dir.length; q = q.slice(0, q.lastIndexOf('/'))) if (roots.has(q)) return true;
        return false;
      };
      const paths = () => restPaths(inRun);
      let note: string | null = null;
      let noteOfRun: () => string;
      if (k !== 'deleted') noteOfRun = () => (note ??= groupLine(runTotals(run)));
      else {
        // The deleted dirs' trees, measured with the others (one tree of the limit's: the line is one).
        const dirs = run.members.filter((m): m is Change => !isGroup(m) && m.type === 'dir');
        if (sizes && trees++ < limit) for (const c of dirs) sizes.add(c.path);
        noteOfRun = () => {
          if (note !== null) return note;
          let entries = run.members.length, bytes = 0, capped = false, files = 0;
          for (const m of run.members) if (!isGroup(m) && m.type === 'file') { bytes += m.size; files++; }
          for (const c of dirs) {
            const t = treeSize(c.path);
            if (t) { entries += t.entries; bytes += t.bytes; capped ||= t.capped || !!t.unlisted; } else capped = true;
          }
          // Files alone: their bytes say it; with dirs, what the dirs held too; links alone
          // (a package's alternatives), nothing: `(0 B)` read as empty files.
          if (entries === run.members.length && !capped) return (note = files ? ` (${humanBytes(bytes)})` : '');
          return (note = ` (${entriesText(entries, capped)} in all, ${humanBytes(bytes)})`);
        };
      }
      return { kind: k, paths, get label() { return `${what}${noteOfRun()}`; }, get line() { return `  ${paint(`${label}${what}`)}${col.dim(noteOfRun())}`; } };
    };
    // Hard links to files the host already had are always listed: which host file is the point.
    for (const c of linked) items.push(new OneChange(k, c, paint, label, col, treeOf));
    // Siblings by the dozen, added, deleted or rewritten (an install's dir for each package in
    // /usr/share/doc, `rm -rf /usr/share/doc/*`, a perl upgrade's 30 man pages), are one line
    // for their dir when the kind's lines would be cut at the limit: 741 lines of package dirs
    // hid what came after them. Each modified one keeps its diff.
    const runs = (k === 'deleted' || k === 'added' || k === 'modified') && !opts.expand ? siblingRuns(view.items, SIBLINGS, limit) : null;
    for (let i = 0; i < view.items.length; i++) {
      const x = view.items[i]!;
      const run = runs?.get(i);
      if (run) {
        items.push(runItem(run));
        i += run.members.length - 1;
        continue;
      }
      if (isGroup(x)) {
        const root = x.root.path;
        const r = x.root;
        let name_: string | null = null;
        const nameOfGroup = () => (name_ ??= `${nameOf(r)}${r.change === 'deleted' ? '/' : ''}`);
        items.push({
          kind: k, get label() { return `${nameOfGroup()}${withMoved(groupLine(x), r)}`; }, get line() { return `  ${paint(`${label}${nameOfGroup()}`)}${col.dim(withMoved(groupLine(x), r))}`; },
          paths: () => restPaths((p) => (p === root || p.startsWith(root === '/' ? '/' : `${root}/`)) && foldOf(p) < 0),
        });
      } else if (x.change === 'deleted' && x.type === 'dir' && !opts.expand) {
        // One whiteout for a whole host tree: say what it held (the walk waits for the line to be read).
        let note: string | null = null;
        // Shown lines are among the first `limit` unflagged items: the trees past that are measured only if read.
        if (sizes && trees++ < limit) sizes.add(x.path);
        const noteOfTree = () => {
          if (note === null) { const t = treeSize(x.path); const held = t && heldText(t); note = held ? ` (${held})` : ''; }
          return note;
        };
        items.push({
          kind: k, paths: () => [x.path],
          get label() { return `${nameOf(x)}/${withMoved(noteOfTree(), x)}`; },
          get line() { return `  ${paint(`${label}${nameOf(x)}/`)}${col.dim(withMoved(noteOfTree(), x))}`; },
        });
      } else {
        if (sizes && removesHostDir(x) && trees++ < limit) sizes.add(x.path);
        items.push(new OneChange(k, x, paint, label, col, treeOf));
      }
    }
    for (const f of view.folds) {
      if (f.times) { items.push(timesItem(k, f.count, f.times, label, col)); plan.folded += f.count; continue; }
      const i = fold.findIndex((r) => r.name === f.name);
      const text = `${countText(f.count)} in ${terminalSafe(f.name)}${f.bytes ? ` (${humanBytes(f.bytes)})` : ''}, folded`;
      // With the dirs that held nothing else (viewKind's foldedDirs).
      const dirs = view.foldedDirs;
      items.push({ kind: k, label: text, line: col.dim(`  ${label}${text}`), paths: () => restPaths((p) => foldOf(p) === i || dirs?.get(p) === i) });
      plan.folded += f.count;
    }
    plan.kinds.push({ kind: k, total: kindTotal.get(k)! + (extra ? extra.length : 0), items, folds: view.folds.length });
  }
  if (repos?.size) {
    // Each repository's line goes with its kind (added for a new one, else modified when
    // anything was), first of that kind's fold lines; a kind left with no line is not shown.
    for (const r of repos.lines()) {
      const k = plan.kinds.find((x) => x.kind === r.kind)!;
      const label = (r.kind + ':').padEnd(10);
      const text = `${r.text} (${countText(r.entries)} entr${r.entries === 1 ? 'y' : 'ies'}${r.bytes ? `, ${humanBytes(r.bytes)}` : ''}), folded`;
      k.items.splice(k.items.length - k.folds, 0, { kind: r.kind, label: text, line: `  ${col[COLOR[r.kind]](`${label}${r.text}`)}${col.dim(text.slice(r.text.length))}`, paths: () => r.paths });
      k.folds++;
      plan.folded += r.entries;
    }
    plan.kinds = plan.kinds.filter((x) => x.items.length);
  }
  return plan;
}

/**
 * The fold line of metadata changes that moved only the mtime (group.ts timesOnly), one dir's
 * (`/usr/share/ca-certificates/mozilla/: 105 files, times only, folded`) or the smaller dirs'
 * past the summary's few (`40 files in 12 other dirs, times only, folded`; `in 173 dirs` when
 * they are dirs of one change each and no dir has its own line).
 */
function timesItem(kind: ChangeKind, n: number, t: NonNullable<FoldCount['times']>, label: string, col: Colors): SummaryItem {
  const what = `${countText(n)} ${t.files ? 'files' : 'entries'}`;
  const text = t.dir === null ? `${what} in ${countText(t.dirs)} ${t.other ? 'other ' : ''}dirs, times only, folded` : `${t.dir === '/' ? '/' : `${display(t.dir)}/`}: ${what}, times only, folded`;
  return { kind, label: text, line: col.dim(`  ${label}${text}`), paths: () => t.changes.map((c) => c.path) };
}

/**
 * git-status-like summary. Flagged changes (code runs later) come first in each kind and are
 * never folded or cut (a `many` rule's are counted on one flagged line per tree); a new or gone dir is one line with its counts; fold-list
 * matches are one counted line per rule; the rest is ordered by top-level tree, largest first.
 */
export function renderSummary(changes: Change[], col: Colors, options: number | SummaryOptions = {}, named?: NamedChanges): string {
  const opts: SummaryOptions = typeof options === 'number' ? { limit: options } : options;
  const limit = opts.limit ?? Infinity;
  const plan = summaryPlan(changes, col, opts, named);
  let out = '';
  for (const k of plan.kinds) {
    out += `${k.kind[0]!.toUpperCase()}${k.kind.slice(1)} (${countText(k.total)}):\n`;
    const listed = k.items.slice(0, k.items.length - k.folds);
    // Flagged changes are never cut; the limit applies to the rest.
    let shown = 0;
    let cut = 0;
    for (const it of listed) {
      if (it.flagged || shown < limit) { out += `${it.line}\n`; if (!it.flagged) shown++; } else cut++;
    }
    if (cut) out += col.dim(`  ${ELLIPSIS} and ${countText(cut)} more\n`);
    for (const it of k.items.slice(k.items.length - k.folds)) out += `${it.line}\n`;
  }
  if (plan.folded) out += col.dim(`${countText(plan.folded)} folded: kept too unless excluded${listAllHint(opts)}\n`);
  const nMarked = plan.flagged;
  if (nMarked) out += col.bold(col.red(`! ${nMarked} change${nMarked === 1 ? '' : 's'} marked ! (code that runs later, or access for others): review ${nMarked === 1 ? 'it' : 'them'} before keeping\n`));
  return out;
}

/**
 * `--name-only` as bytes, handed to `write` in pieces of about 64 KiB: no string per line,
 * and a listing of 100k paths is a few writes. Each path goes through display() like every
 * other path sbx prints. `named` (a names-only scan's new files, in path order like
 * `changes`) is merged in; its paths are made only where display() has to read them. With
 * `reuse`, `write` is done with a piece when it returns (or its promise settles), so one
 * buffer holds every piece in turn: 3.7 MB of output is then not 57 fresh buffers.
 */
export async function writeNameOnly(changes: Change[], write: (b: Buffer) => void | Promise<void>, named?: NamedChanges, reuse = false): Promise<void> {
  const out = new ByteOut();
  const flush = async (): Promise<void> => {
    if (!reuse) { await write(out.take()); return; }
    await write(out.buf.subarray(0, out.at));
    out.at = 0;
  };
  const shown: Shown = { display, plainDir: new Uint8Array(named ? named.dirs.length : 0) };
  const n = named ? named.length : 0;
  let j = 0;
  for (let i = 0; i <= changes.length; i++) {
    const c = changes[i];
    // The named entries that sort before this change (all that are left after the last).
    const to = c === undefined ? n : named ? named.lowerBound(j, n, c.path) : 0;
    while (j < to) {
      j = named!.writeLines(j, to, out, shown);
      if (out.at >= PIECE) await flush();
    }
    if (c === undefined) break;
    out.text(display(c.path));
    out.byte(0x0a);
    if (out.at >= PIECE) await flush();
  }
  if (out.at) await flush();
}

export function changesJson(id: string, changes: Change[], extra: Record<string, unknown> = {}): string {
  const ctx = sensitiveContext();
  let sensitive = 0;
  const trees = replacedTrees(changes);
  const list = changes.map((c) => {
    const o: Record<string, unknown> = { ...jsonPath(c.path), change: c.change, type: c.type, size: c.size };
    // A new entry's mode, which no detail says (`"mode": "755"`: a program, a private file).
    if ((c.change === 'added' || c.change === 'replaced') && c.type !== 'symlink' && c.up) o.mode = oct(c.up.perm);
    const why = sensitiveReason(c, ctx);
    if (why) { o.sensitive = why; sensitive++; }
    if (c.target !== undefined) o.target = jsonPath(c.target).path;
    if (c.targetBefore !== undefined) o.targetBefore = jsonPath(c.targetBefore).path;
    const allocated = c.type === 'file' && c.change !== 'deleted' ? allocatedOf(c) : null;
    if (allocated !== null) o.allocated = allocated;
    if (c.oldType) o.oldType = c.oldType;
    const tree = trees.get(c.path);
    if (tree) o.hostTree = tree;
    if (c.linksTo !== undefined) o.linksTo = jsonPath(c.linksTo).path;
    if (c.movedFrom !== undefined) { o.movedFrom = jsonPath(c.movedFrom).path; if (c.movedChanged) o.movedChanged = true; }
    if (c.movedTo !== undefined) o.movedTo = jsonPath(c.movedTo).path;
    if (c.copyOf !== undefined) { o.copyOf = jsonPath(c.copyOf).path; if (c.copyChanged) o.copyChanged = true; }
    if (c.copiedTo !== undefined) o.copiedTo = jsonPath(c.copiedTo).path;
    if (c.sourceDetails?.length) o.sourceDetails = c.sourceDetails;
    if (c.details?.length) o.details = c.details;
    return o;
  });
  return JSON.stringify({ id, ...extra, sensitive, changes: list }, null, 2) + '\n';
}

const MAX_DIFF_BYTES = 1 << 20;
/** The largest file `--stat` reads: the scan counts new files' lines up to it (diff.ts). */
export const STAT_MAX_BYTES = MAX_DIFF_BYTES;
/** The largest file a diff shows: the scan brings new files' text up to it (diff.ts). */
export const DIFF_MAX_BYTES = MAX_DIFF_BYTES;
const MAX_FILE_LINES = 2000;
const DIFF_LIMITS = { maxBytes: MAX_DIFF_BYTES, maxLines: MAX_FILE_LINES };

interface FileText { text: string | null; why?: string }

function textOf(path: string | undefined, size: number, maxBytes: number): FileText {
  if (!path) return { text: '' };
  if (size > maxBytes) return { text: null, why: 'large' };
  let head: Buffer;
  try { head = readHead(path, Math.min(maxBytes, size)).data; } catch (e) {
    // A file the command made unreadable (mode 000) is shown as such, never a stack trace.
    if (isUnreadable(e)) return { text: null, why: 'unreadable' };
    throw e;
  }
  return textOfBytes(head);
}

function textOfBytes(data: Buffer): FileText {
  if (data.includes(0)) return { text: null, why: 'binary' };
  try { return { text: decodeUtf8Strict(data) }; } catch { return { text: null, why: 'binary' }; }
}

export interface FileDiff {
  change: Change;
  added: number;
  removed: number;
  /** Unified diff lines, or null for binaries and large files. */
  lines: string[] | null;
  why?: string;
  cut: boolean;
}

/**
 * Text diff of one changed file against the host (which is unchanged: the sandbox is over).
 * The review caps what it reads and shows; an exported patch takes every line.
 */
export async function fileDiff(c: Change, limits = DIFF_LIMITS): Promise<FileDiff | null> {
  const now = fileDiffNow(c, limits);
  return now && 'oldText' in now ? diffTexts(c, now, limits) : now;
}

/** Both sides of a file modified in place, as text: what jsdiff is run on. */
interface TwoTexts { oldText: string; newText: string }

/**
 * fileDiff without waiting: every diff but that of two texts (a new, gone or binary file:
 * 200k new files are 200k diffs, none of which needs jsdiff), or the two texts to diff.
 */
function fileDiffNow(c: Change, limits: { maxBytes: number; maxLines: number }): FileDiff | null | TwoTexts {
  if (c.type !== 'file' || c.change === 'metadata') return null;
  // A replaced entry was not a file on the host: its new content is all additions.
  const oldSide = c.change === 'added' || c.change === 'replaced' ? { text: '' } : textOf(c.path, c.host?.size ?? 0, limits.maxBytes);
  // The scan may have brought the new text (sbx diff): no file to open then.
  // The scan's text is checked already (no NUL, valid UTF-8: native/scan.c): decoded as is,
  // with no second check per file (200k new files are 200k strict decodes otherwise).
  const newSide = c.change === 'deleted' ? { text: '' } : c.newText !== undefined && c.newText.length <= limits.maxBytes ? { text: c.newText.toString('utf8') } : textOf(c.upper, c.up?.size ?? 0, limits.maxBytes);
  if (oldSide.text === null || newSide.text === null) return { change: c, added: 0, removed: 0, lines: null, why: oldSide.why ?? newSide.why, cut: false };
  if (oldSide.text === '' || newSide.text === '') return oneSided(c, oldSide.text || newSide.text, oldSide.text === '', limits.maxLines);
  return { oldText: oldSide.text, newText: newSide.text };
}

/** The diff of two texts (jsdiff, loaded on first use). */
async function diffTexts(c: Change, t: TwoTexts, limits: { maxBytes: number; maxLines: number }): Promise<FileDiff> {
  const { structuredPatch } = await import('diff');
  const name = display(c.path);
  const p = structuredPatch(name, name, t.oldText, t.newText, '', '', { context: 3 });
  let added = 0;
  let removed = 0;
  const lines: string[] = [];
  for (const h of p.hunks) {
    // An empty side starts at line 0, as diff(1) and git write it (`@@ -0,0 +1,N @@`).
    lines.push(`@@ -${h.oldLines ? h.oldStart : 0},${h.oldLines} +${h.newLines ? h.newStart : 0},${h.newLines} @@`);
    for (const l of h.lines) {
      if (l[0] === '+') added++; else if (l[0] === '-') removed++;
      lines.push(l);
    }
  }
  const cut = lines.length > limits.maxLines;
  return { change: c, added, removed, lines: cut ? lines.slice(0, limits.maxLines) : lines, cut };
}

/**
 * The diff of a file against nothing (new, gone, or emptied): every line added or removed, as
 * jsdiff writes it (one hunk, a last line without a newline marked), without running a diff;
 * only the lines shown are built.
 */
function oneSided(c: Change, text: string, added: boolean, maxLines: number): FileDiff {
  if (text === '') return { change: c, added: 0, removed: 0, lines: [], cut: false };
  const parts = text.split('\n');
  const noEol = parts[parts.length - 1] !== '';
  if (!noEol) parts.pop();
  const n = parts.length;
  const sign = added ? '+' : '-';
  const lines = [added ? `@@ -0,0 +1,${n} @@` : `@@ -1,${n} +0,0 @@`];
  const total = 1 + n + (noEol ? 1 : 0);
  for (let i = 0; i < n && lines.length < maxLines; i++) lines.push(sign + parts[i]!);
  if (noEol && lines.length < maxLines) lines.push('\\ No newline at end of file');
  return { change: c, added: added ? n : 0, removed: added ? 0 : n, lines, cut: total > maxLines };
}

export async function renderDiffs(changes: Change[], col: Colors, named?: NamedChanges, folds?: DiffFolds): Promise<string> {
  const pieces: Buffer[] = [];
  await writeDiffs(changes, col, (b) => { pieces.push(b); }, named, folds);
  return Buffer.concat(pieces).toString('utf8');
}

/**
 * The unified diffs, handed to `write` in pieces of about 64 KiB as they are made: `sbx diff`
 * of 200k new files writes them as it goes instead of holding the whole text. With `folds`,
 * the diffs of what the summary folds are left out and counted, one line per group at the end.
 * `free` says whether the piece `write` was last handed (and waited for) may be written over:
 * then one buffer serves every piece, as a pipe or file takes each write whole (a fresh piece
 * each was ~26 MiB of new memory for the 200k-file review, its page faults ~5% of its CPU).
 */
export async function writeDiffs(changes: Change[], col: Colors, write: (b: Buffer) => void | Promise<void>, named?: NamedChanges, folds?: DiffFolds, free?: () => boolean): Promise<void> {
  const out = new ByteOut();
  // The column list's new files (the full review's scan) in path order with the changes: a
  // text file's diff is written from its bytes (the text the helper sent, kept or in its
  // answer); any other is made a Change while its diff is written, then dropped.
  const n = named && named.stats ? named.length : 0;
  const diffs = n ? columnDiffs(col, named!) : null;
  const moved = movedPairs(changes);
  const inDirs = moved && movedDirFiles(changes, n ? named! : null, moved);
  const copies = copiedDirCounts(changes);
  let copiedDir: Change | null = null;
  const flush = async (): Promise<void> => {
    if (!out.at) return;
    const w = write(out.buf.subarray(0, out.at));
    if (w) await w;
    if (free?.()) out.at = 0; else out.take();
  };
  for (let i = 0, j = 0; ;) {
    // The column entries before changes[i] (all that are left after the last change): found
    // a directory at a time (lowerBound), not by a compare per entry.
    const to = i === changes.length ? n : n ? named!.lowerBound(j, n, changes[i]!.path) : 0;
    while (j < to) {
      if (out.at >= PIECE) await flush();
      if (folds?.column(named!, j)) { j++; continue; }
      if (inDirs?.size) {
        // A moved dir's new file: the dir's line stands for it, or its diff is against its old copy.
        const p = named!.pathAt(j);
        if (inDirs.same.has(p)) { j++; continue; }
        if (inDirs.from.has(p)) { await writeDiff(named!.changeAt(j++), col, out, moved, inDirs.from); continue; }
      }
      // A program's header says its mode (runMode): the Change path writes it.
      const t = diffs && !(named!.permAt(j) & RUN_BITS) ? named!.textPieceAt(j) : null;
      if (t) { diffs!(j++, t, named!.textFrom, named!.textLength, out); continue; }
      await writeDiff(named!.changeAt(j++), col, out);
    }
    if (i === changes.length) break;
    if (out.at >= PIECE) await flush();
    if (folds?.change(changes[i]!)) { i++; continue; }
    const c = changes[i++]!;
    // A copied dir's files (the scan compared each): one line for all of them.
    if (copiedDir !== null && !isBelow(c.path, copiedDir.path)) copiedDir = null;
    const copied = c.type === 'dir' ? copies?.get(c.path) : undefined;
    if (copied !== undefined) {
      copiedDir = c;
      // A copy then changed: its files of other bytes follow, each against the host's.
      out.text(col.bold(`diff ${display(c.path)}/ (copy of the host's ${display(c.copyOf!)}/${c.copyChanged ? ', then changed' : ''}${accessText(c)})\n`));
      if (copied) out.text(col.dim(`Same content: ${countText(copied)} ${copied === 1 ? 'file' : 'files'}\n`));
      continue;
    }
    if (copiedDir !== null && sameInCopy(c, copiedDir)) continue;
    // A moved dir's files with the bytes they had in the old dir: one line for all of them.
    const count = inDirs?.count.get(c.path);
    if (count) out.text(col.bold(`diff ${display(c.path)}/ (moved from ${display(c.movedFrom!)}/${accessText(c)})\n`) + col.dim(`Same content: ${countText(count)} ${count === 1 ? 'file' : 'files'}\n`));
    for (const g of inDirs?.gone.get(c.path) ?? []) await writeDiff(g, col, out, null, undefined, `deleted after the move to ${display(c.path)}/`);
    if (inDirs?.same.has(c.path)) continue;
    await writeDiff(c, col, out, moved, inDirs?.from);
  }
  if (folds) for (const l of folds.lines()) out.text(col.dim(`${l}\n`));
  await flush();
}

/**
 * The moved files and dirs of a list whose both lines are in it (moves.ts): by old path, the
 * deleted change, whose diff is left to the new name's (a dir's, to its files'). A list
 * filtered to one of the two (--only) shows that one's diff as every other change's.
 */
function movedPairs(changes: readonly Change[]): Map<string, Change> | null {
  let gone: Map<string, Change> | null = null;
  for (const c of changes) if (c.movedTo !== undefined) (gone ??= new Map()).set(c.path, c);
  if (!gone) return null;
  const both = new Map<string, Change>();
  for (const c of changes) {
    const d = c.movedFrom !== undefined ? gone.get(c.movedFrom) : undefined;
    if (d && d.movedTo === c.path) both.set(d.path, d);
  }
  return both.size ? both : null;
}

/**
 * The dirs the scan found copied with their trees (copies.ts pairDirCopies), each with how many
 * of its files are copies (or, in a backup of a refilled dir, moved there unchanged); null when
 * none. `changes` are in path order: a dir's files follow it.
 */
function copiedDirCounts(changes: readonly Change[]): Map<string, number> | null {
  let out: Map<string, number> | null = null;
  let at: Change | null = null;
  for (const c of changes) {
    if (at !== null && !isBelow(c.path, at.path)) at = null;
    if (at === null && c.type === 'dir' && c.change === 'added' && c.copyOf !== undefined) (out ??= new Map()).set((at = c).path, 0);
    else if (at !== null && c.type === 'file' && sameInCopy(c, at)) out!.set(at.path, out!.get(at.path)! + 1);
  }
  return out;
}

/** A change below a copied dir that holds the host's bytes with its mode and owner (a copy, or moved there unchanged): its dir's one line says it. */
function sameInCopy(c: Change, dir: Change): boolean {
  return (c.copyOf !== undefined && !c.copyChanged && !c.sourceDetails) || movedIntoCopy(c, dir);
}

/** A moved dir's new files as their diffs show them (movedDirFiles). */
interface MovedDirFiles {
  /** How many hold what the old dir's file at their place held, by new dir: its one line. */
  count: Map<string, number>;
  /** Those files: no diff of their own. */
  same: Set<string>;
  /** The others the old dir had a file for (one it had empty, or changed after the move): their diffs are against it. */
  from: Map<string, MovedFrom>;
  /** By new dir: the old dir's files the command removed after the move (movedChanged), each shown as deleted. */
  gone: Map<string, Change[]>;
  size: number;
}

/** The host file a file's diff is against, when it was moved (from there, or with its dir). */
interface MovedFrom { path: string; size: number; host: EntryStat }

/**
 * The new files of the moved dirs (movedPairs, `mv olddir newdir` copied them), each beside
 * the old dir's file at its place (one lstat below the root). Where pairDirMoves found every
 * non-empty file of the old tree with its bytes at its place below the new dir, the same size
 * says the same bytes; where the command changed the tree after the move (movedChanged), the
 * pairing's ChangedTree says which old files are no longer as they were and which the new
 * tree lacks. A file of other bytes is shown against its old one, one the old dir did not
 * have as an addition. Null when no dir moved.
 */
function movedDirFiles(changes: readonly Change[], named: NamedChanges | null, moved: Map<string, Change>): MovedDirFiles | null {
  const r: MovedDirFiles = { count: new Map(), same: new Set(), from: new Map(), gone: new Map(), size: 0 };
  const changedAfter = new Map<string, ChangedTree>();
  for (const c of changes) {
    const t = c.type === 'dir' && c.movedFrom !== undefined && c.movedChanged ? changedTree(c) : undefined;
    if (t) changedAfter.set(c.path, t);
  }
  for (const d of moved.values()) {
    if (d.type !== 'dir') continue;
    const dir = d.movedTo!;
    const tree = changedAfter.get(dir);
    const kept = tree ? new Set<string>() : null;
    const add = (p: string, size: number): void => {
      const rel = p.slice(dir.length + 1);
      const path = joinB(d.path, rel);
      kept?.add(rel);
      const old = hostFile(path);
      if (!old) return;
      r.size++;
      if (old.size !== size || tree?.differ.has(rel)) { r.from.set(p, old); return; }
      r.same.add(p);
      r.count.set(dir, (r.count.get(dir) ?? 0) + 1);
    };
    for (const c of changes) if (c.type === 'file' && c.change === 'added' && c.movedFrom === undefined && isBelow(c.path, dir)) add(c.path, c.size);
    if (named) for (let j = named.lowerBound(0, named.length, `${dir}/`); j < named.length && isBelow(named.pathAt(j), dir); j++) add(named.pathAt(j), named.sizeAt(j));
    if (!tree) continue;
    const gone: Change[] = [];
    for (const rel of tree.files) {
      if (kept!.has(rel)) continue;
      const old = hostFile(joinB(d.path, rel));
      if (old) gone.push({ ...old, change: 'deleted', type: 'file' });
    }
    if (gone.length) { r.gone.set(dir, gone.sort((a, b) => codeUnitOrder(a.path, b.path))); r.size++; }
  }
  return r.size ? r : null;
}

/**
 * Writes change c's diff, if it has one. `moved` (movedPairs): a moved file's diff is against
 * the file it was moved from, under its new name, and so is a file of a moved dir's that
 * `inDirs` (movedDirFiles) names; its old name has none.
 */
async function writeDiff(c: Change, col: Colors, out: ByteOut, moved: Map<string, Change> | null = null, inDirs?: ReadonlyMap<string, MovedFrom>, why?: string): Promise<void> {
  if (c.type === 'symlink') { writeLinkDiff(c, col, out); return; }
  if (c.type !== 'file') return;
  if (c.movedTo !== undefined && moved?.has(c.path)) return;
  // The pairing read both (pairCopies): the copy's lines are the host file's, not news.
  if (c.copyOf !== undefined && c.change === 'added' && !c.copyChanged) { out.text(col.bold(`diff ${display(c.path)} (copy of the host's ${display(c.copyOf)}${accessText(c)})\n`) + col.dim('Same content\n')); return; }
  // A file moved over a host file keeps the diff against the one it replaced; one of a dir
  // copied then changed is against the host's file at its place.
  const copied = c.copyOf !== undefined && c.change === 'added' ? hostFile(c.copyOf) : undefined;
  const variant = !copied && c.variantOf !== undefined && c.change === 'added' ? await variantDiff(c, c.variantOf) : null;
  const from: MovedFrom | Change | undefined = copied ?? variant?.from ?? (c.movedFrom !== undefined && c.change === 'added' ? moved?.get(c.movedFrom) : inDirs?.get(c.path));
  const now = variant ? variant.d : fileDiffNow(from ? { ...c, change: 'modified', path: from.path, host: from.host! } : c, DIFF_LIMITS);
  const d = now && 'oldText' in now ? await diffTexts(c, now, DIFF_LIMITS) : now;
  if (!d) return;
  const name = display(c.path);
  const saved = c.copiedTo !== undefined ? `; host version saved as ${display(c.copiedTo)}` : '';
  const how = copied ? `copy of the host's ${display(copied.path)}, then changed${accessText(c, copied)}` : variant ? `added; shown against the host's ${display(variant.from.path)}` : from ? `moved from ${display(from.path)}${accessText(c, from)}` : why ?? `${c.change}${runMode(c)}`;
  out.text(col.bold(`diff ${name} (${how}${saved})\n`));
  if (!d.lines) {
    const before = from ? humanBytes(from.size) : c.host && c.change !== 'added' ? humanBytes(c.host.size) : '-';
    const after = c.change === 'deleted' ? '-' : c.size >= LARGE_FILE ? `${humanBytes(c.size)} (${humanBytes(allocatedOf(c) ?? c.size)} allocated)` : humanBytes(c.size);
    out.text(col.dim(`${d.why === 'large' ? 'Large' : d.why === 'unreadable' ? 'Unreadable' : 'Binary'} file: ${before} ${ARROW} ${after}\n`));
    return;
  }
  if (from && !d.lines.length) { out.text(col.dim('Same content\n')); return; }
  out.text(col.red(`--- ${from ? `a${display(from.path)}` : c.change === 'added' ? '/dev/null' : `a${name}`}\n`) + col.green(`+++ ${c.change === 'deleted' ? '/dev/null' : `b${name}`}\n`));
  for (const l of d.lines) {
    const s = displayText(l);
    out.text((l[0] === '+' ? col.green(s) : l[0] === '-' ? col.red(s) : l[0] === '@' ? col.cyan(s) : l[0] === '\\' ? col.dim(s) : s) + '\n');
  }
  if (d.cut) out.text(col.dim(`${ELLIPSIS} diff cut after ${MAX_FILE_LINES} lines (+${d.added} -${d.removed} in all)\n`));
}

// Execute, setuid, setgid and sticky bits.
const RUN_BITS = 0o7111;

/**
 * `, mode 755` for a new file that can be run (an execute bit, or setuid, setgid, sticky), as
 * git's `new file mode 100755`: its text alone does not say so, nor, inside a new dir, the dir's line.
 */
function runMode(c: Change): string {
  return c.change === 'added' && c.up && c.up.perm & RUN_BITS ? `, mode ${oct(c.up.perm)}` : '';
}

/**
 * A symlink's diff is where it points (`symlink -> /etc/shadow`, and a retargeted one's old
 * target), as git's diff shows a link's target for its text: a link inside a new dir is only
 * counted on that dir's line, and said nowhere else in the review.
 */
function writeLinkDiff(c: Change, col: Colors, out: ByteOut): void {
  if (c.change === 'deleted' || c.change === 'metadata' || c.target === undefined) return;
  const was = c.change === 'modified' && c.targetBefore !== undefined ? ` (was ${display(c.targetBefore)})` : '';
  out.text(col.bold(`diff ${display(c.path)} (${c.change})\n`) + `symlink -> ${display(c.target)}${was}\n`);
}

/**
 * A new file named after a host file with other bytes (Change.variantOf: `foo.conf.dpkg-dist`),
 * as a diff against that file, when at least half of its lines are that file's: a package's new
 * version of a config beside the admin's reads as what differs. Null otherwise (unrelated text
 * under such a name, a binary file, one past the diff's limits): shown as an addition.
 */
async function variantDiff(c: Change, of: string): Promise<{ from: MovedFrom; d: FileDiff } | null> {
  const from = hostFile(of);
  const t = from && fileDiffNow({ ...c, change: 'modified', path: from.path, host: from.host }, DIFF_LIMITS);
  if (!from || !t || !('oldText' in t)) return null;
  const d = await diffTexts(c, t, DIFF_LIMITS);
  return d.added * 2 <= lineCount(t.newText) ? { from, d } : null;
}

/** The lines of a text as a diff counts them (a last line without a newline is one). */
function lineCount(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return text.length && !text.endsWith('\n') ? n + 1 : n;
}

/** The host file at `path` a diff is against (a moved dir's, a copy's, a variant's: one lstat below the root); undefined when it is no file now. */
function hostFile(path: string): MovedFrom | undefined {
  const st = lstatB(path);
  return st?.type === 'file' ? { path, size: st.size, host: st } : undefined;
}

/** Writes the diff of the list's entry i, a new file whose text is text[from, from + len), to `out`. */
type ColumnDiff = (i: number, text: Buffer, from: number, len: number, out: ByteOut) => void;

/**
 * The diffs of the full review's new text files, written as bytes (newFileDiff), a directory's
 * fixed parts made once (plainDiff). Null when `col` paints in a way the byte path does not
 * know (paintParts).
 */
function columnDiffs(col: Colors, list: NamedChanges): ColumnDiff | null {
  const paints = paintParts(col);
  if (!paints) return null;
  const shown: Shown = { display, plainDir: new Uint8Array(list.dirs.length) };
  // Per directory that display() shows as it is, its diffs' two fixed parts with its prefix
  // (plainDiff); null for one it escapes.
  const heads: Array<DirHeads | null | undefined> = [];
  return (i, text, from, len, out) => {
    const d = list.dirAt(i);
    let h = heads[d];
    if (h === undefined) {
      const pre = list.plainPrefix(d, shown);
      const b = pre === null ? null : Buffer.from(pre, 'latin1');
      h = heads[d] = b && { head: Buffer.concat([paints.head, b]), mid: Buffer.concat([paints.mid, b]) };
    }
    const names = list.nameBytesAt(i);
    if (h === null || !plainDiff(h, names, list.nameFrom, list.nameLength, text, from, len, out, paints, col)) newFileDiff(list, i, text, from, len, out, paints, col, shown);
  };
}

/** A plain directory's diff header parts: `head` then the name, `mid` then the name again (Paints head and mid, each with the prefix). */
interface DirHeads { head: Buffer; mid: Buffer }

/**
 * newFileDiff of a new file in a directory display() shows as it is (`h`, its fixed parts),
 * when its name, names[at, at + n), is plain bytes too (what writeShown copies as they are):
 * the same bytes, with the prefix copied as part of each fixed part and the name copied
 * while it is checked. False, and nothing written, when the name is not plain.
 */
function plainDiff(h: DirHeads, names: Buffer, at: number, n: number, t: Buffer, from: number, len: number, out: ByteOut, p: Paints, col: Colors): boolean {
  out.reserve(h.head.length + h.mid.length + 2 * n);
  const ob = out.buf;
  let o = out.at;
  ob.set(h.head, o);
  o += h.head.length;
  const nameAt = o;
  for (let k = at, end = at + n; k < end; k++) {
    const c = names[k]!;
    if (c < 0x20 || c > 0x7e || c === 0x5c) return false;
    ob[o++] = c;
  }
  if (n > 0 && names[at + n - 1] === 0x20) return false;
  ob.set(h.mid, o);
  o += h.mid.length;
  for (let k = 0; k < n; k++) ob[o + k] = ob[nameAt + k]!;
  out.at = o + n;
  addedLines(t, from, len, out, p, col);
  return true;
}

/**
 * What a paint adds before and after plain text (picocolors: an SGR code and its reset), and
 * the fixed bytes of a new file's diff made of them.
 */
interface Paints {
  cyan: [string, string]; dim: [string, string];
  /** Before the name, between the two names, after the second; before and after a `+` line's bytes. */
  head: Buffer; mid: Buffer; tail: Buffer; plus: Buffer; eol: Buffer;
  /** The hunk header around its line count (`@@ -0,0 +1,` N ` @@`, painted). */
  hunk: Buffer; hunkEnd: Buffer;
}

/** The paints as prefix and suffix, or null when a paint is not that simple (then no byte path). */
function paintParts(col: Colors): Paints | null {
  const parts = (f: (s: string) => string): [string, string] | null => {
    const p = f('\0').split('\0');
    return p.length === 2 && f('a b') === `${p[0]}a b${p[1]}` ? [p[0]!, p[1]!] : null;
  };
  const bold = parts(col.bold), red = parts(col.red), green = parts(col.green), cyan = parts(col.cyan), dim = parts(col.dim);
  if (!bold || !red || !green || !cyan || !dim) return null;
  return {
    cyan, dim, head: Buffer.from(`${bold[0]}diff `), mid: Buffer.from(` (added)\n${bold[1]}${red[0]}--- /dev/null\n${red[1]}${green[0]}+++ b`),
    tail: Buffer.from(`\n${green[1]}`), plus: Buffer.from(`${green[0]}+`), eol: Buffer.from(`${green[1]}\n`),
    hunk: Buffer.from(`${cyan[0]}@@ -0,0 +1,`), hunkEnd: Buffer.from(` @@${cyan[1]}\n`),
  };
}

/**
 * The diff of column entry j, a new text file the helper sent (named.ts), written as bytes
 * the way writeDiffs writes the Change that entry stands for (oneSided: every line added):
 * a line of plain bytes is copied as it is, which is what displayText() leaves it, and any
 * other line goes through displayText(). Its text is t[from, from + len); an entry the helper
 * sent no text for (binary, large, or left for sbx to read) goes the Change path.
 */
function newFileDiff(named: NamedChanges, j: number, t: Buffer, from: number, len: number, out: ByteOut, p: Paints, col: Colors, shown: Shown): void {
  out.bytes(p.head, 0, p.head.length);
  const nameAt = out.at;
  named.writeShown(j, out, shown);
  const nameLen = out.at - nameAt;
  out.reserve(p.mid.length + nameLen);
  const ob = out.buf;
  // Tens of bytes: a native copy beats a loop from about 12 bytes on (measured here: 40 bytes
  // in 53 ns against 207 ns).
  ob.set(p.mid, out.at);
  out.at += p.mid.length;
  // The name again: the bytes just written (reserve() may move the buffer, not its content).
  ob.copyWithin(out.at, nameAt, nameAt + nameLen);
  out.at += nameLen;
  addedLines(t, from, len, out, p, col);
}

/**
 * The rest of a new file's diff after its `+++` name: the end of that line, the hunk header
 * and every line added. Its text is t[from, from + len), where it lies in the helper's answer
 * (no view made per file).
 */
function addedLines(t: Buffer, from: number, len: number, out: ByteOut, p: Paints, col: Colors): void {
  const to = from + len;
  // Lines counted first: the hunk header says how many. Most new files are a few short
  // lines: a loop beats a native search per line.
  let nl = 0;
  if (len < 4096) { for (let k = from; k < to; k++) if (t[k] === 0x0a) nl++; }
  else for (let k = t.indexOf(0x0a, from); k >= 0 && k < to; k = t.indexOf(0x0a, k + 1)) nl++;
  const noEol = len > 0 && t[to - 1] !== 0x0a;
  const lines = nl + (noEol ? 1 : 0);
  const shownLines = Math.min(lines, MAX_FILE_LINES - 1);
  // Room for all the rest but an escaped line (out.text reserves its own): the fixed parts
  // are copied into it in local loops, with no call and no bounds check per part.
  out.reserve(p.tail.length + p.hunk.length + 16 + p.hunkEnd.length + len + shownLines * (p.plus.length + p.eol.length));
  let ob = out.buf;
  let at = put(ob, out.at, p.tail);
  if (!len) { out.at = at; return; }
  at = put(ob, at, p.hunk);
  out.at = at;
  out.decimal(lines);
  ob = out.buf;
  at = put(ob, out.at, p.hunkEnd);
  for (let k = 0, from_ = from; k < shownLines; k++) {
    // The line copied as it is read, while it is all printable ASCII (what displayText()
    // leaves as it is); a line with any other byte is taken back and escaped.
    const lineAt = at;
    at = put(ob, at, p.plus);
    let end = from_;
    let printable = true;
    for (; end < to; end++) {
      const c = t[end]!;
      if (c === 0x0a) break;
      if (c < 0x20 || c > 0x7e) { printable = false; break; }
      ob[at++] = c;
    }
    if (printable) at = put(ob, at, p.eol);
    else {
      while (end < to && t[end] !== 0x0a) end++;
      out.at = lineAt;
      out.text(`${col.green(displayText(`+${t.toString('utf8', from_, end)}`))}\n`);
      // The escaped line may be longer than its bytes: room again for the lines left.
      out.reserve(to - end + (shownLines - k) * (p.plus.length + p.eol.length));
      ob = out.buf;
      at = out.at;
    }
    from_ = end + 1;
  }
  out.at = at;
  if (noEol && lines < MAX_FILE_LINES - 1) out.text(`${p.dim[0]}\\ No newline at end of file${p.dim[1]}\n`);
  if (1 + lines + (noEol ? 1 : 0) > MAX_FILE_LINES) out.text(col.dim(`${ELLIPSIS} diff cut after ${MAX_FILE_LINES} lines (+${lines} -0 in all)\n`));
}

/** Copies `src` into `dst` at `at` (a few bytes: a loop beats a native copy); returns where it ended. */
function put(dst: Buffer, at: number, src: Buffer): number {
  for (let k = 0; k < src.length; k++) dst[at + k] = src[k]!;
  return at + src.length;
}

/** A --stat row of no lines: what changed (a retargeted link: `symlink v1 → v2`). */
function statKind(c: Change): string {
  if (c.change === 'modified' && c.type === 'symlink' && c.targetBefore !== undefined && c.target !== undefined) return `symlink ${display(c.targetBefore)} ${ARROW} ${display(c.target)}`;
  return `${c.change} ${c.type}`;
}

/**
 * `--stat`: lines added and removed per file. A file new or gone on one side only needs its
 * lines counted (one read, no diff); only a file modified in place is diffed. `named` (a
 * names-only scan's new files, their lines counted by the helper) is merged in by path, each
 * row written as bytes with no object of its own.
 */
export async function renderStat(changes: Change[], col: Colors, named?: NamedChanges): Promise<string> {
  let diffLines: typeof import('diff').diffLines | null = null;
  const rows: Array<[string, string]> = [];
  const trees = replacedTrees(changes);
  for (const c of changes) {
    const name = display(c.path);
    // A host dir replaced by a non-dir goes with its tree: the row says what it held.
    const tree = removesHostDir(c) ? ` ${col.dim(`replaced (${replacedText(c, trees.get(c.path))})`)}` : '';
    if (c.type !== 'file' || c.change === 'metadata') { rows.push([name, tree ? tree.slice(1) : col.dim(c.change === 'metadata' ? detailsText(c.details ?? []) : statKind(c))]); continue; }
    let added: number | null = 0;
    let removed: number | null = 0;
    if (c.change === 'modified') {
      const oldSide = textOf(c.path, c.host?.size ?? 0, MAX_DIFF_BYTES);
      const newSide = oldSide.text === null ? oldSide : textOf(c.upper, c.up?.size ?? 0, MAX_DIFF_BYTES);
      if (oldSide.text === null || newSide.text === null) added = removed = null;
      else {
        diffLines ??= (await import('diff')).diffLines;
        for (const part of diffLines(oldSide.text, newSide.text)) {
          if (part.added) added += part.count ?? 0; else if (part.removed) removed += part.count ?? 0;
        }
      }
    } else {
      const counted = c.change === 'deleted' ? countLines(c.path, c.host?.size ?? c.size, MAX_DIFF_BYTES) : c.lines !== undefined ? { lines: c.lines } : countLines(c.upper!, c.up?.size ?? c.size, MAX_DIFF_BYTES);
      if (counted.unreadable) { rows.push([name, col.dim(`unreadable, ${c.size} bytes`) + tree]); continue; }
      if (c.change === 'deleted') removed = counted.lines; else added = counted.lines;
    }
    if (added === null || removed === null) {
      rows.push([name, `Bin ${c.host && c.change !== 'added' ? c.host.size : 0} -> ${c.change === 'deleted' ? 0 : c.size} bytes${tree}`]);
    } else rows.push([name, `${col.green(`+${added}`)} ${col.red(`-${removed}`)}${tree}`]);
  }
  const shown: Shown = { display, plainDir: new Uint8Array(named ? named.dirs.length : 0) };
  const n = named ? named.length : 0;
  let w = 0;
  for (const [name] of rows) if (name.length > w) w = name.length;
  for (let j = 0; j < n && w < 60; j++) w = Math.max(w, named!.shownLength(j, shown));
  w = Math.min(60, w);
  const out = new ByteOut();
  const minus = ` ${col.red('-0')}\n`;
  let j = 0;
  for (let i = 0; i <= rows.length; i++) {
    const c = changes[i];
    for (; j < n && (c === undefined || named!.compareTo(j, c.path) < 0); j++) {
      out.byte(0x20);
      named!.writeShown(j, out, shown, w);
      const lines = named!.linesAt(j);
      out.text(lines >= 0 ? ` | ${col.green(`+${lines}`)}${minus}` : ` | Bin 0 -> ${named!.sizeAt(j)} bytes\n`);
    }
    if (c === undefined) break;
    const [name, s] = rows[i]!;
    out.text(` ${name.padEnd(w)} | ${s}\n`);
  }
  out.text(` ${countLine(changes, named)}\n`);
  return out.buf.toString('utf8', 0, out.at);
}
