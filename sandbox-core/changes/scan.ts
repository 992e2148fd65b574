// The change list of a sandbox: walk its upper layers, classify against the host, filter
// and sort by path (parents before children).
import type { SandboxMeta } from '../types.js';
import type { Change } from './types.js';
import { decodeWalk, runScanMany, walkRequest, walksPerStart, walkUppers, walkUppersAsync, type PlannedWalk, type WalkOptions, type WalkResult } from './walk.js';
import { classify } from './classify.js';
import { codeUnitOrder } from '../base/code-order.js';
import { pathFilter, unmatchedPatterns } from './glob.js';
import { fromUser } from '../base/bpath.js';
import { isWithin } from '../base/within.js';
import { closeAll, setHostRoot } from './fsat.js';
import type { NamedChanges } from './named.js';
import { heldMovesAgain, pairColumnMoves } from './moves.js';
import { pairDirCopies } from './copies.js';
import { byteBudget } from './pairing.js';

export interface ScanResult {
  changes: Change[];
  /**
   * Names-only scans (ScanOptions.namesOnly): the new regular files the host lacks, all of
   * them `added`, as a column list in path order (named.ts); they are not in `changes`. The
   * full review's scan (ScanOptions.columns): the plain new files (one link, no xattrs) the
   * same way, with their stats and text (NamedChanges.changeAt makes each one's Change).
   */
  named?: NamedChanges;
  /** Entries that could not be read (e.g. owned by a subordinate uid); listed, never guessed. */
  errors: string[];
  /** How many of `errors` are dirs only root may read (WalkResult.rootOnly). */
  rootOnly?: number;
  /** Upper inode (dev:ino) → host paths of every upper name of it, for keeping hard links. */
  links: Map<string, string[]>;
  /** Bytes the sandbox's upper layers hold on disk (0 when given a reviewed list). */
  layerBytes?: number;
  /** One line per --only/--exclude pattern that matched no change. */
  unmatched?: string[];
  /** The PATH filters (ScanOptions.paths, as host paths) that select no change. */
  unmatchedPaths?: string[];
  /** With a filter given: how many changes there are before it (what "no changes" is out of). */
  total?: number;
  /**
   * With --only/--exclude given: every change, in path order. A commit of the reviewed list
   * (`run -y --only FILE`) makes the new dirs above what it selects from these: without them
   * a file in a new dir failed (`create: ENOENT`) and the sandbox was kept.
   */
  all?: Change[];
}

export interface ScanOptions {
  only?: string[];
  exclude?: string[];
  /** Limit to these host paths (and below), as typed by the user. */
  paths?: string[];
  progress?: (phase: string, n: number) => void;
  /** Only for listing (never for a commit): see WalkOptions.fewXattrs. */
  fewXattrs?: boolean;
  /** Count new files' lines up to this many bytes each (Change.lines; WalkOptions.countLinesUpTo). */
  countLinesUpTo?: number;
  /** Bring new files' text up to this many bytes each (Change.newText; WalkOptions.readNewUpTo). */
  readNewUpTo?: number;
  /**
   * Only for a list of names (never for a commit): new files are read by name only, their
   * `up` holds the type and NaN for every number (WalkOptions.namesOnly).
   */
  namesOnly?: boolean;
  /** The full review (never a commit): new files as columns, ScanResult.named (WalkOptions.columns). */
  columns?: boolean;
  /**
   * Say a copy of a host file as one (copies.ts): for a scan the user reads (a review, `sbx
   * diff`). A commit, `sbx ls`, prune and the rest read nothing of it, and skip its reads.
   */
  copies?: boolean;
  /** With columns: the summary's rules, asked of each column entry while the helper walks (WalkOptions.markColumn). */
  markColumn?: (path: string, perm: number) => number;
  /** With columns: each column entry's text copied out of the helper's answer as it comes (WalkOptions.keepTexts). */
  keepTexts?: boolean;
  /**
   * The run's helper already walked the layers (scan-request.ts reviewScanOf, answered once the
   * sandbox ended): decoded instead of a scan now. Only for a scan with none of the options
   * above that change what the helper sends.
   */
  answer?: Buffer | null;
}

/** The test filterChanges applies to each path; null when nothing is filtered out. */
function keepTest(opts: ScanOptions): ((p: string) => boolean) | null {
  const f = pathFilter(opts.only ?? [], opts.exclude ?? []);
  const roots = (opts.paths ?? []).map((p) => fromUser(p.length > 1 ? p.replace(/\/+$/, '') : p));
  if (!f && !roots.length) return null;
  return (p) => (!f || f(p)) && (!roots.length || roots.some((r) => isWithin(p, r)));
}

export function filterChanges(changes: Change[], opts: ScanOptions): Change[] {
  const keep = keepTest(opts);
  return keep ? changes.filter((c) => keep(c.path)) : changes;
}

export function scanSandbox(meta: SandboxMeta, opts: ScanOptions = {}): ScanResult {
  hostRootOf(meta);
  try {
    return finish(walkUppers(meta, walkOptions(opts), opts.answer ?? null), opts, meta);
  } finally {
    closeAll();
  }
}

/**
 * scanSandbox for the commands that only show the list (diff, review): the helper's records
 * are decoded while it walks, so the walk and the decoding share the machine's cores; a small
 * answer is taken whole first (walkUppersAsync), unless `wholeFirst` is false (known big).
 */
export async function scanSandboxAsync(meta: SandboxMeta, opts: ScanOptions = {}, wholeFirst = true): Promise<ScanResult> {
  hostRootOf(meta);
  try {
    return finish(await walkUppersAsync(meta, walkOptions(opts), wholeFirst), opts, meta);
  } finally {
    closeAll();
  }
}

/**
 * scanSandbox of each sandbox, with one start of the helper for up to walksPerStart() of them
 * (`sbx-helper scan-many`): `sbx ls` started one per sandbox, ~5 ms of Node's fork each (61
 * small sandboxes listed in 0.77 s). Each answer is held whole, so one past `wholeMax` bytes
 * stops there (`--whole-max`) and is scanned again on its own, decoded while the helper walks
 * (scanSandboxAsync): held whole, one of 100,000 files was listed 1.35x slower. (A count of
 * every sandbox's layers first, to pick those, cost each `sbx ls` a helper start and a walk.)
 * Each result, or the error its scan met, in order.
 */
export async function scanSandboxes(metas: SandboxMeta[], opts: ScanOptions = {}, wholeMax?: number): Promise<Array<ScanResult | Error>> {
  const w = walkOptions(opts);
  const each = <T>(meta: SandboxMeta, fn: () => T): T | Error => {
    try { hostRootOf(meta); return fn(); } catch (e) { return e instanceof Error ? e : new Error(String(e)); } finally { closeAll(); }
  };
  const results: Array<ScanResult | Error> = [];
  for (let at = 0, n = walksPerStart(); at < metas.length; at += n) {
    const chunk = metas.slice(at, at + n);
    const planned = chunk.map((m) => each(m, () => walkRequest(m, w)));
    const asked = planned.filter((x): x is PlannedWalk => x !== null && !(x instanceof Error));
    const answers = runScanMany(asked.map((x) => x.req), wholeMax);
    let k = 0;
    for (const [i, m] of chunk.entries()) {
      const pl = planned[i]!;
      const answer = pl && !(pl instanceof Error) ? answers[k++]! : undefined;
      if (pl instanceof Error || answer instanceof Error) results.push(pl instanceof Error ? pl : answer as Error);
      else if (answer === null) results.push(await scanSandboxAsync(m, opts, false).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))));
      else results.push(each(m, () => finish(pl && answer ? decodeWalk(m, w, pl, answer) : { entries: [], errors: [], layerBytes: 0 }, opts, m)));
    }
  }
  return results;
}

function hostRootOf(meta: SandboxMeta): void {
  // An image or --rootfs sandbox is compared with its lower root, never with the host; the
  // setting stays for what reads the same sandbox's "host" side next (diff text, export).
  setHostRoot(meta.image || meta.rootfs ? meta.lowerRoot ?? null : null);
  if ((meta.image || meta.rootfs) && !meta.lowerRoot) throw new Error(`internal error: sandbox ${meta.id} has no lower root`);
}

function walkOptions(opts: ScanOptions): WalkOptions {
  return { progress: opts.progress && ((n) => opts.progress!('scanning', n)), fewXattrs: !!opts.fewXattrs, countLinesUpTo: opts.countLinesUpTo, readNewUpTo: opts.readNewUpTo, namesOnly: !!opts.namesOnly, columns: !!opts.columns, ...(opts.markColumn ? { markColumn: opts.markColumn } : {}), ...(opts.keepTexts ? { keepTexts: true } : {}) };
}

function finish(walked: WalkResult, opts: ScanOptions, meta: SandboxMeta): ScanResult {
  // The bytes the review's move pairings may read, all of them (moves.ts).
  const budget = byteBudget();
  // Copies are looked for only by the scans a user reads, never of a path the sandbox hid.
  const copies = opts.copies ? meta.hidden.map(fromUser) : null;
  const res = classify(walked.entries, opts.progress && ((n) => opts.progress!('comparing', n)), walked.layerStarts, budget, !!walked.named?.length, copies);
  if (walked.named?.length) {
    // A file moved to another overlay is a column entry: paired, it joins the changes.
    const columns = pairColumnMoves(walked.named, res.changes, res.made, undefined, budget, copies);
    if (columns.moved.length) { res.changes.push(...columns.moved); walked.named = columns.named; }
  }
  // A host dir copied with its tree (`cp -r nvim nvim.bak`): its files' column entries join the changes.
  const copied = copies ? pairDirCopies(res.changes, walked.named ?? null, undefined, budget, copies) : [];
  if (copied.length) {
    res.changes.push(...copied);
    const paths = new Set(copied.map((c) => c.path));
    walked.named = walked.named!.filter((p) => !paths.has(p));
  }
  // The moves an earlier commit held (its new dir is on the host now: nothing pairs it again).
  if (meta.heldMoves?.length) heldMovesAgain(res.changes, meta.heldMoves);
  const sorted = sortByPath(res.changes);
  const changes = filterChanges(sorted, opts);
  // Names-only: the new files the helper reported by name are added files as they stand.
  const keep = walked.named && keepTest(opts);
  const named = walked.named && (keep ? walked.named.filter(keep) : walked.named).sorted();
  // A pattern that matches nothing is most likely a typo: said, not silently a no-op.
  const unmatched = unmatchedPatterns(pathsOf(res.changes, walked.named), opts.only ?? [], opts.exclude ?? []);
  const unmatchedPaths = unmatchedRoots(pathsOf(res.changes, walked.named), opts.paths ?? []);
  const filtered = keepTest(opts) !== null;
  return {
    changes, ...(named ? { named } : {}), errors: walked.errors.concat(res.errors), ...(walked.rootOnly ? { rootOnly: walked.rootOnly } : {}), links: res.links, layerBytes: walked.layerBytes,
    ...(unmatched.length ? { unmatched } : {}), ...(unmatchedPaths.length ? { unmatchedPaths } : {}),
    ...(filtered ? { total: res.changes.length + (walked.named?.length ?? 0), all: sorted } : {}),
  };
}

/**
 * The PATH filters no change is at or below, as host paths: `sbx diff A B` took B for a path
 * and said "no changes" (and --exit-code 0) of a sandbox that had some.
 */
function unmatchedRoots(paths: Iterable<string>, typed: string[]): string[] {
  const roots = typed.map((p) => fromUser(p.length > 1 ? p.replace(/\/+$/, '') : p));
  if (!roots.length) return [];
  const hit = roots.map(() => false);
  let left = roots.length;
  for (const p of paths) {
    for (let i = 0; i < roots.length; i++) if (!hit[i] && isWithin(p, roots[i]!)) { hit[i] = true; left--; }
    if (!left) break;
  }
  return roots.filter((_, i) => !hit[i]);
}

/** In path order. The helper's order almost always is already: then one pass checks it. */
function sortByPath(changes: Change[]): Change[] {
  for (let i = 1; i < changes.length; i++) {
    if (changes[i - 1]!.path > changes[i]!.path) return changes.sort((a, b) => codeUnitOrder(a.path, b.path));
  }
  return changes;
}

function* pathsOf(changes: Change[], named?: NamedChanges): Iterable<string> {
  for (const c of changes) yield c.path;
  if (named) yield* named.paths();
}

export interface ChangeCounts {
  added: number; modified: number; deleted: number; replaced: number; metadata: number; total: number;
}

export function countChanges(changes: Change[]): ChangeCounts {
  const c: ChangeCounts = { added: 0, modified: 0, deleted: 0, replaced: 0, metadata: 0, total: changes.length };
  for (const x of changes) c[x.change]++;
  return c;
}
