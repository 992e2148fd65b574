// From a change list to an ordered list of steps, with the checks done before the first
// host write: selection closure, unsafe paths, conflicts and permissions.
import { accessSync, lstatSync, constants as C } from 'node:fs';
import type { Change, EntryStat } from '../changes/types.js';
import { codeUnitOrder } from '../base/code-order.js';
import { display, joinB, parentB } from '../base/bpath.js';
import { isWithin } from '../base/within.js';
import { dirAt, fsAt } from '../changes/fsat.js';
import { lstatB } from '../changes/stat.js';
import { movedAwayAlone, movedAwayText } from '../changes/moves.js';
import { changedBelow, type FoundBelow } from '../changes/host-tree.js';
import { UnsafePathError, validatePath } from './safe-fs.js';

export type StepKind =
  | 'delete'   // remove the host entry (a dir with its tree)
  | 'put'      // place a non-dir from the upper: stage beside, then rename over
  | 'mkdir'    // create a dir (replacing a non-dir); its metadata comes in 'dirmeta'
  | 'meta'     // owner/mode/times/xattrs of an existing non-dir, in place
  | 'dirmeta'; // owner/mode/times/xattrs of a dir, deepest first, after everything inside

export interface Step {
  kind: StepKind;
  change: Change;
}

export interface Refusal {
  path: string;
  reason: string;
}

export interface Plan {
  steps: Step[];
  conflicts: Refusal[];
  denied: Refusal[];
  skipped: Refusal[];
}

export interface PlanOptions {
  createdMs: number;
  force: boolean;
  /** Host paths a previous, interrupted commit wrote: their new ctime is ours. */
  ours?: Set<string>;
  /**
   * When that commit's journal had its last line (plus CLOCK_SLACK_MS): an `ours` path
   * changed after it was changed since by someone else, a conflict like any other. Unset:
   * `ours` paths are never conflicts.
   */
  oursUntilMs?: number;
  /** sbx's own dirs (base/paths.ts ownDirs), as byte strings: nothing in them, or in their way, is committed. */
  ownDirs?: string[];
  /**
   * Why a change would be written on another filesystem than its layer's tree (a mount made
   * on the host since the run: mounts.ts), or null. Asked even with --force: it is no change
   * of the host's content but a place the review never showed.
   */
  otherMount?: (c: Change) => string | null;
  /** What newestBelow says of each host tree the changes remove, found ahead (makePlan). */
  changedBelow?: Map<string, FoundBelow | null>;
}

/**
 * Why a change may not touch sbx's own dirs: a later sbx runs what is there (the helper it
 * built, seccomp programs, the pager its config names). A new dir on the way is fine (what
 * goes in it is checked on its own); replacing or removing one (a symlink to a tree the
 * sandbox filled, say) is not.
 */
function ownDirRefusal(c: Change, own: readonly string[]): string | null {
  for (const d of own) {
    if (isWithin(c.path, d)) return `sbx's own files (${display(d)}) are never written from a sandbox`;
    if (isWithin(d, c.path) && !(c.type === 'dir' && (c.change === 'added' || c.change === 'metadata'))) {
      return `on the way to sbx's own files (${display(d)}): never replaced from a sandbox`;
    }
  }
  return null;
}

const euid = process.geteuid?.() ?? -1;

function resultIsDir(c: Change): boolean {
  return c.change !== 'deleted' && c.type === 'dir';
}

function inPathOrder(list: Change[]): boolean {
  for (let i = 1; i < list.length; i++) if (codeUnitOrder(list[i - 1]!.path, list[i]!.path) >= 0) return false;
  return true;
}

/**
 * Adds what the selected changes need: a new file in a new dir needs that dir, so ancestors
 * that are added (or replaced) dirs come along even when a filter left them out.
 */
export function closeSelection(all: Change[], selected: Change[]): Change[] {
  // Everything selected (no filter, no pick): there is no ancestor to add, and the scan's list
  // is in path order already (checked: one pass), so the map, the walk up and the sort are
  // skipped; they were 0.2 s of a 10k-file commit.
  if (selected.length === all.length && inPathOrder(selected)) return selected.slice();
  const byPath = new Map(all.map((c) => [c.path, c]));
  const out = new Map(selected.map((c) => [c.path, c]));
  for (const c of selected) {
    for (let p = parentB(c.path); p !== '/' && p !== '.'; p = parentB(p)) {
      const a = byPath.get(p);
      if (a && resultIsDir(a) && (a.change === 'added' || a.change === 'replaced')) out.set(p, a);
    }
  }
  return [...out.values()].sort((a, b) => codeUnitOrder(a.path, b.path));
}

/** A new dir a selection did not name, committed because a selected change is below it. */
export interface NeededDir {
  dir: string;
  /** The first selected change below it (path order). */
  for: string;
}

export interface SelectionParents {
  /** The selected changes that may be committed: those below a flagged new dir taken out. */
  keep: Change[];
  /** The unnamed new dirs `keep` needs, in path order: closeSelection adds exactly these. */
  needed: NeededDir[];
  /** Selected changes left out because a new dir above them is flagged and was not selected. */
  held: Refusal[];
}

/**
 * What closeSelection would add, said rather than done silently. A new dir that a flagged
 * rule names (a new dir in PATH, a world-writable one, one in /etc/profile.d) is never brought
 * along unnamed: what is selected below it is left out with a reason naming the dir and how to
 * select it, as pick mode leaves out what was picked below a dir it did not pick. The deletion
 * of a file the sandbox moved (changes/moves.ts) is left out too when its new name is not
 * selected (`--exclude` of the new name, a pick of one line of the two).
 */
export function selectionParents(all: Change[], selected: Change[], flagOf: (c: Change) => string | null): SelectionParents {
  if (selected.length === all.length && inPathOrder(selected)) return { keep: selected, needed: [], held: [] };
  const byPath = new Map(all.map((c) => [c.path, c]));
  const chosen = new Set(selected.map((c) => c.path));
  const flags = new Map<string, string | null>();
  const flagged = (a: Change): string | null => {
    let f = flags.get(a.path);
    if (f === undefined) flags.set(a.path, (f = flagOf(a)));
    return f;
  };
  const keep: Change[] = [];
  const held: Refusal[] = [];
  const needed = new Map<string, NeededDir>();
  for (const c of [...selected].sort((x, y) => codeUnitOrder(x.path, y.path))) {
    // A moved file's old name deleted without its new name written would lose its content.
    const to = movedAwayAlone(c, chosen, byPath);
    if (to) {
      held.push({ path: c.path, reason: `${movedAwayText(to, 'selected')}: deleting it alone would lose its content (select both, or remove it on the host yourself)` });
      continue;
    }
    const above: Change[] = [];
    for (let p = parentB(c.path); p !== '/' && p !== '.'; p = parentB(p)) {
      const a = byPath.get(p);
      if (a && !chosen.has(p) && resultIsDir(a) && (a.change === 'added' || a.change === 'replaced')) above.push(a);
    }
    // The outermost flagged one: selecting it (and so its tree) is what lets the rest through.
    let stop: Change | null = null;
    for (const a of above) if (flagged(a)) stop = a;
    if (stop) {
      const d = display(stop.path);
      held.push({ path: c.path, reason: `below the new dir ${d}, which is flagged [! ${flagged(stop)!}] and not selected: add --only '${d}' to commit it with all it holds` });
      continue;
    }
    keep.push(c);
    for (const a of above) if (!needed.has(a.path)) needed.set(a.path, { dir: a.path, for: c.path });
  }
  return { keep, needed: [...needed.values()].sort((x, y) => codeUnitOrder(x.dir, y.dir)), held };
}

/** Is the host entry still the one the scan (and so the review) saw? */
function sameAsScanned(now: EntryStat | null, then: EntryStat | undefined): boolean {
  if (!then) return now === null;
  if (!now || now.type !== then.type || now.ino !== then.ino || now.dev !== then.dev) return false;
  if (now.perm !== then.perm || now.uid !== then.uid || now.gid !== then.gid) return false;
  if (now.type === 'dir') return true; // its times follow its children, checked on their own
  return now.size === then.size && now.mtimeMs === then.mtimeMs && now.ctimeMs === then.ctimeMs;
}

/**
 * A tree about to be removed must hold nothing written on the host after the start. Listed in
 * Node: the last check before a delete (apply.ts), whose dir is removed right after unless the
 * host changed in the moments since the plan's check (which lists without moving atimes, all
 * in one helper call: host-tree.ts); a helper call per dir there would cost 2-6 ms each.
 */
function newestBelow(dir: string, createdMs: number): FoundBelow | null {
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    let names: string[];
    let dir;
    try { dir = dirAt(d); names = dir.list().map((e) => e.name as string); } catch { return { path: d, unlisted: true }; }
    for (const n of names) {
      const p = joinB(d, n);
      const st = lstatSync(dir.at(n), { throwIfNoEntry: false });
      if (!st) continue;
      if (st.ctimeMs > createdMs) return { path: p, unlisted: false };
      if (st.isDirectory()) stack.push(p);
    }
  }
  return null;
}

function hostBornAfter(p: string, since: number): boolean {
  try { return lstatSync(fsAt(p)).birthtimeMs > since; } catch { return false; }
}

/** What each conflict is called, here and when the helper's place op finds one (apply.ts). */
export const CONFLICT = {
  created: 'created on the host since the sandbox started',
  deleted: 'deleted on the host since the review',
  changed: 'changed on the host since the review',
  changedAfterStart: 'changed on the host after the sandbox started',
  changedAfterCommit: 'changed on the host after the interrupted commit wrote it',
  goneAfterStart: 'the host file it was made from was deleted after the sandbox started',
  createdAfterStart: 'made on the host after the sandbox started',
} as const;

/**
 * How far a file's ctime may run ahead of a journal line written after it: timestamps are
 * taken from a coarse clock, and some filesystems (fuse, FAT) keep whole seconds.
 */
export const CLOCK_SLACK_MS = 1000;

/** The change removes the host's dir with its tree (an opaque dir keeps the dir and empties it: its children are changes of their own). */
function removesHostTree(c: Change): boolean {
  return (c.change === 'deleted' || c.change === 'replaced') && !c.opaque;
}

export function conflictOf(c: Change, opts: PlanOptions): string | null {
  const ours = opts.ours?.has(c.path);
  // A path an interrupted commit wrote has a new ctime of ours, newer than the sandbox: it
  // is measured against when that commit stopped instead. Skipping it outright let a resumed
  // commit overwrite what the user wrote there after the crash. The step in flight too: its
  // rename comes right after its journal line, well within the clock slack, so a later ctime
  // there is the user's (until 2026-12-04 it was redone over their edit).
  if (ours && opts.oursUntilMs === undefined) return null;
  const since = ours ? opts.oursUntilMs! : opts.createdMs;
  const now = lstatB(c.path);
  if (!sameAsScanned(now, c.host)) {
    if (!c.host) return CONFLICT.created;
    if (!now) return CONFLICT.deleted;
    return CONFLICT.changed;
  }
  // The scan saw no host file, but the sandbox copied this one up from the host: a user
  // removed it on the host since. Before, the commit brought it back as a new file.
  if (!now && c.hostGone) return CONFLICT.goneAfterStart;
  if (now && now.type !== 'dir' && now.ctimeMs > since) return ours ? CONFLICT.changedAfterCommit : CONFLICT.changedAfterStart;
  if (now?.type === 'dir' && removesHostTree(c)) {
    // A dir made on the host after the start where the sandbox had a file (or removed the
    // dir): nothing below it need be new (an empty one), and its ctime follows its children's
    // comings and goings, so its birth time says it (statx; 0 where the filesystem keeps none).
    if (hostBornAfter(c.path, since)) return ours ? CONFLICT.changedAfterCommit : CONFLICT.createdAfterStart;
    const p = !ours && opts.changedBelow?.has(c.path) ? opts.changedBelow.get(c.path)! : newestBelow(c.path, since);
    // One it cannot list (another user's 0700 dir, as sbx showed it empty) was said to have
    // changed: what it holds is unknown, so it is not removed, for that reason.
    if (p?.unlisted) return `the host dir would be removed but ${display(p.path)} cannot be listed by you: what it holds is unknown`;
    if (p) return `the host dir would be removed but ${display(p.path)} changed after ${ours ? 'the interrupted commit' : 'the sandbox started'}`;
  }
  return null;
}

function writable(dir: string): boolean {
  // Not a dir yet: an earlier step of this plan replaces or creates it, as the user.
  if (lstatB(dir)?.type !== 'dir') return true;
  try { accessSync(fsAt(dir), C.W_OK | C.X_OK); return true; } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT'; // created by an earlier step
  }
}

function deniedOf(c: Change, kind: StepKind, canWrite: Map<string, boolean>): string | null {
  if (euid === 0) return null;
  const needsParent = kind === 'delete' || kind === 'put' || kind === 'mkdir';
  const parent = parentB(c.path);
  let w = canWrite.get(parent);
  if (w === undefined) canWrite.set(parent, (w = writable(parent)));
  if (needsParent && !w) return `cannot write ${display(parent)}`;
  if ((kind === 'meta' || kind === 'dirmeta') && c.host && c.host.uid !== euid) return 'owned by another user';
  return null;
}

function stepsOf(c: Change): StepKind[] {
  switch (c.change) {
    case 'deleted': return ['delete'];
    // A host file with other names: inside, the copy-up gave this name an inode of its own and
    // the others kept the host's; changing the host's inode in place would chmod or chown
    // names the review never showed (a link to a 0600 secret made 0666). A new inode, as inside.
    case 'metadata': return [c.type === 'dir' ? 'dirmeta' : c.type === 'file' && (c.host?.nlink ?? 1) > 1 && c.upper ? 'put' : 'meta'];
    case 'replaced': return c.type === 'dir' ? (c.opaque ? ['dirmeta'] : ['mkdir', 'dirmeta']) : ['put'];
    default: return c.type === 'dir' ? ['mkdir', 'dirmeta'] : ['put'];
  }
}

export function makePlan(changes: Change[], opts: PlanOptions): Plan {
  const conflicts: Refusal[] = [];
  const denied: Refusal[] = [];
  const skipped: Refusal[] = [];
  const deletes: Step[] = [];
  const puts: Step[] = [];
  const dirmetas: Step[] = [];
  // A refused dir takes everything below it along: those steps could only fail half way.
  const blocked: string[] = [];
  // New dirs the host did not have when checked: what goes below them cannot be on the host
  // either, so it needs no lstat each (10k files in new dirs were 10k lookups). The last check
  // before each rename (apply.ts) still sees a path created meanwhile.
  const absentDirs = new Set<string>();
  // Parent dir -> writable by us (non-root): one access check per dir, not per file.
  const canWrite = new Map<string, boolean>();
  // The host trees the changes would remove, checked for later changes in one helper call
  // that moves no atime: a check that refuses the commit leaves the host as it was.
  if (!opts.force) {
    const trees = changes.filter((c) => c.host?.type === 'dir' && removesHostTree(c) && !opts.ours?.has(c.path)).map((c) => c.path);
    if (trees.length) opts = { ...opts, changedBelow: changedBelow(trees, opts.createdMs) };
  }
  for (const c of changes) {
    const under = blocked.find((b) => isWithin(c.path, b) && c.path !== b);
    if (under) { skipped.push({ path: c.path, reason: `inside ${display(under)}, which is not committed` }); continue; }
    // The host's `/` is the one root no commit changes: its mode, owner or xattrs, if the
    // sandbox changed them, are listed and left for the user to set by hand.
    if (c.layerRoot && c.path === '/') { skipped.push({ path: c.path, reason: 'sbx never changes the host\'s / itself: set its mode, owner or xattrs by hand if you mean it' }); continue; }
    try { validatePath(c.path); } catch (e) {
      if (!(e instanceof UnsafePathError)) throw e;
      skipped.push({ path: c.path, reason: e.message });
      continue;
    }
    const own = opts.ownDirs ? ownDirRefusal(c, opts.ownDirs) : null;
    if (own) { skipped.push({ path: c.path, reason: own }); if (resultIsDir(c)) blocked.push(c.path); continue; }
    if (c.change !== 'deleted' && (c.type === 'char' || c.type === 'block')) {
      skipped.push({ path: c.path, reason: 'device nodes are never committed' });
      continue;
    }
    // Made without its xattrs, it would lose them (a dir of mode 000 the command set one on:
    // the user's scan cannot read them); root's commit reads them.
    if (c.attrsUnread && c.change !== 'deleted') {
      skipped.push({ path: c.path, reason: `its extended attributes cannot be read (${c.attrsUnread}): not committed, so that none is lost` });
      if (resultIsDir(c)) blocked.push(c.path);
      continue;
    }
    const foreign = opts.otherMount?.(c) ?? null;
    if (foreign) { skipped.push({ path: c.path, reason: foreign }); if (resultIsDir(c)) blocked.push(c.path); continue; }
    const kinds = stepsOf(c);
    const underNew = !c.host && c.change === 'added' && absentDirs.has(parentB(c.path));
    // Below a dir the host lacks no host entry can be in the way, but a file the sandbox
    // copied up from the host can be there still: its dir was removed (or renamed) on the host
    // since, and skipping the check brought the removed file back in a dir made anew.
    let conflict: string | null;
    try {
      conflict = opts.force ? null : underNew ? (c.hostGone ? CONFLICT.goneAfterStart : null) : conflictOf(c, opts);
    } catch (e) {
      // A host dir this user may not search (`/root`, `/etc/ssl/private`: shown empty inside,
      // and written there): nothing in it can be looked at, so nothing can be put there either.
      // It was an "internal error" that stopped the whole commit.
      if (euid === 0 || (e as NodeJS.ErrnoException).code !== 'EACCES') throw e;
      denied.push({ path: c.path, reason: 'a host dir on its way is not searchable by you (EACCES)' });
      if (resultIsDir(c)) blocked.push(c.path);
      continue;
    }
    if (conflict) { conflicts.push({ path: c.path, reason: conflict }); if (resultIsDir(c)) blocked.push(c.path); continue; }
    if (!c.host && c.change === 'added' && c.type === 'dir' && !opts.ours?.has(c.path)) absentDirs.add(c.path);
    const no = underNew ? null : deniedOf(c, kinds[0]!, canWrite);
    if (no) { denied.push({ path: c.path, reason: no }); if (resultIsDir(c)) blocked.push(c.path); continue; }
    for (const k of kinds) {
      const s = { kind: k, change: c };
      if (k === 'delete') deletes.push(s); else if (k === 'dirmeta') dirmetas.push(s); else puts.push(s);
    }
  }
  const depth = (p: string) => p.split('/').length;
  deletes.sort((a, b) => depth(b.change.path) - depth(a.change.path) || codeUnitOrder(b.change.path, a.change.path));
  dirmetas.sort((a, b) => depth(b.change.path) - depth(a.change.path) || codeUnitOrder(b.change.path, a.change.path));
  return { steps: [...deletes, ...puts, ...dirmetas], conflicts, denied, skipped };
}
