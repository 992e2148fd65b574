// Directories sbx itself puts into an upper layer before a run (the parents of a whiteout or
// of a pre-copied file) must look like the host's, or the change list would report them.
// The layer is the sandbox's: every access goes through beneath.ts, so a symlink the command
// left in any component is refused, never followed to the host.
import { chmodSync, chownSync, lstatSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Dir, NotBeneathError, splitBeneath } from './beneath.js';
import type { EntryFlag, EntryKind, SpecOp, SpecOpOf } from './spec.js';
import { upperOf, type Layer } from './types.js';
import { exactStat, type ExactTime, type ExactTimes } from './base/dir-stat.js';
import { setTimes, type TimesItem } from './changes/xattr.js';
import { SbxError } from './base/errors.js';
import { display } from './base/bpath.js';
import { errnoName } from './base/errno.js';

/**
 * The times of what sbx makes in a sandbox's layers from Node (a run whose layers the helper
 * does not make: `run --in`, --disk, an image, a re-plan), set in one helper call (`xattr
 * --beneath times`) once all is made: Node's utimes keeps microseconds and makes a time before
 * 1970 the current one, and each entry made in a dir moves that dir's mtime. Each entry is
 * checked to be the inode sbx made (resolved below the layers dir's fd, no symlink followed).
 */
export class LayerTimes {
  private readonly items: TimesItem[] = [];
  private readonly after: Array<(layers: Dir) => void> = [];

  /** `name` in `dir`, just made (`rel`: dir's path below the layers dir), takes `times`. */
  add(dir: Dir, rel: string, name: string, times: ExactTimes): void {
    const st = dir.lstat(name);
    if (!st) throw new SbxError(`${display(`${rel}/${name}`)} vanished from the sandbox's layers as sbx made it`);
    this.items.push({ path: `${rel}/${name}`, ino: st.ino, dev: st.dev, atime: times.atime, mtime: times.mtime });
  }

  /** The entry at `at`, a path sbx made below the layers dir as `rel`, takes `times`. */
  addPath(at: string, rel: string, times: ExactTimes): void {
    const st = lstatSync(at);
    this.items.push({ path: rel, ino: st.ino, dev: st.dev, atime: times.atime, mtime: times.mtime });
  }

  empty(): boolean {
    return !this.items.length && !this.after.length;
  }

  /** Called once the times are set, with the layers dir (what reads a ctime the times move). */
  then(f: (layers: Dir) => void): void {
    this.after.push(f);
  }

  /** Sets every time added, below `layers` (the layers dir). */
  flush(layers: Dir): void {
    const items = this.items.splice(0);
    if (items.length) {
      const root = layers.self();
      const errs = setTimes(items.map((it) => ({ ...it, path: `${root}/${it.path}` })), root);
      const bad = errs.findIndex((e) => e !== 0);
      if (bad >= 0) throw new SbxError(`cannot set the times of ${display(items[bad]!.path)} in the sandbox's layers: ${errnoName(errs[bad]!)}`);
    }
    for (const f of this.after.splice(0)) f(layers);
  }
}

/** Host ids -> the ids to give sbx's copies in the layer, or null to leave them ours. */
export type LayerOwner = (host: { uid: number; gid: number }) => { uid: number; gid: number } | null;

/**
 * Makes `dir` (a host path under `target`) and its parents exist in the upper layer `upper`,
 * and returns the deepest one opened (the caller closes it; it is `upper` itself when `dir` is
 * `target`). The times of those it makes go to `times` (`upperRel`: `upper` below the layers
 * dir). Throws NotBeneathError when the layer holds a symlink or a non-directory on the way.
 */
export function ensureUpperDirs(upper: Dir, target: string, dir: string, times: { to: LayerTimes; upperRel: string }, owner: LayerOwner = () => null): Dir {
  let host = target;
  let cur = upper;
  let rel = times.upperRel;
  const close = (d: Dir): void => { if (d !== upper) d.close(); };
  try {
    for (const part of splitBeneath(relative(target, dir))) {
      host = join(host, part);
      // Host paths are JS strings; names below a Dir are byte strings.
      const name = Buffer.from(part, 'utf8').toString('latin1');
      if (!cur.lstat(name)) {
        const st = exactStat(host);
        mkdirSync(cur.at(name), { mode: 0o700 });
        const made = Dir.openBeneath(cur, name);
        try {
          chmodSync(made.self(), st.mode & 0o7777);
          const o = owner(st);
          if (o) chownSync(made.self(), o.uid, o.gid);
        } finally {
          made.close();
        }
        times.to.add(cur, rel, name, st.times);
      }
      rel = `${rel}/${name}`;
      const next = Dir.openBeneath(cur, name);
      close(cur);
      cur = next;
    }
    return cur;
  } catch (e) {
    close(cur);
    throw e;
  }
}

/** A time for an `entry` op: SECONDS.NANOSECONDS, the seconds floored (negative before 1970). */
export function specTime(t: ExactTime): string {
  return `${t.sec}.${String(t.nsec).padStart(9, '0')}`;
}

/** What an `entry` op sets on what it makes; absent: left as made (0700 dir, 0600 file, our ids). */
export interface EntryAttrs {
  mode?: number;
  owner?: { uid: number; gid: number };
  /** As the kernel keeps them (exactTimes): Stats' doubles of ms lose the last ns, and utimes a time before 1970. */
  times?: ExactTimes;
  flags?: EntryFlag[];
}

/** One `entry` op: REL below the run's layers dir, made by the helper before the view is built. */
export function entryOp(kind: EntryKind, rel: string, a: EntryAttrs = {}, target = ''): SpecOpOf<'entry'> {
  return {
    op: 'entry',
    args: [
      kind, rel, a.mode === undefined ? '-' : (a.mode & 0o7777).toString(8),
      a.owner ? String(a.owner.uid) : '-', a.owner ? String(a.owner.gid) : '-',
      a.times ? specTime(a.times.atime) : '-', a.times ? specTime(a.times.mtime) : '-',
      target, a.flags ?? [],
    ],
  };
}

/**
 * What sbx would put into fresh upper layers before a run (ensureUpperDirs' parents, the
 * package managers' pre-copies, the dirs shown empty), listed as `entry` ops for the helper
 * instead: the same names, modes and times, made in the same order. Only for layers the helper
 * makes in this launch, which hold nothing but what is listed here; each path once. The
 * helper costs a few us per call where Node's cost ~15-25 us.
 */
export class UpperEntries {
  private readonly made = new Set<string>();
  /** Names the helper makes otherwise (claim): nothing is made below one. */
  private readonly claimed = new Set<string>();
  /** `layerRel`: a layer's dir below the layers dir. */
  constructor(readonly entries: SpecOp[], private readonly layerRel: (l: Layer) => string) {}

  /** The upper's path of host path `p` (at or below the layer's target). */
  at(layer: Layer, p: string): string {
    const rel = relative(layer.target, p);
    const upper = upperOf({ ...layer, dir: this.layerRel(layer) });
    return rel ? `${upper}/${splitBeneath(rel).join('/')}` : upper;
  }

  has(rel: string): boolean {
    return this.made.has(rel);
  }

  /** `dir`'s parents below the target, and `dir` itself unless `parentsOnly`, like the host's (ensureUpperDirs, `owner` too); throws what the host's lstat throws. */
  dirs(layer: Layer, dir: string, parentsOnly = false, owner: LayerOwner = () => null): void {
    const parts = splitBeneath(relative(layer.target, dir));
    if (parentsOnly) parts.pop();
    // Each parent's host and upper paths grown a name at a time, as `at` would give them:
    // path.join and path.relative for each parent normalized the whole path again, and with
    // the rest of an ordinary user's run that made V8 compile Node's normalizeString with
    // TurboFan (~13 ms on a background thread, as the helper starts; --trace-opt).
    let host = layer.target === '/' ? '' : layer.target;
    let rel = this.at(layer, layer.target);
    for (const part of parts) {
      host = `${host}/${part}`;
      rel = `${rel}/${part}`;
      // A whiteout there: nothing of the host's shows below it, nothing is to be made.
      if (this.claimed.has(rel)) throw new NotBeneathError(`${rel} is a whiteout`);
      if (this.made.has(rel)) continue;
      const st = exactStat(host);
      this.add('dir', rel, st.mode, st.times, [], owner(st) ?? undefined);
    }
  }

  /** A name something else makes in the layer (a --hide whiteout): no entry may make it, nor anything below it. */
  claim(rel: string): void {
    this.made.add(rel);
    this.claimed.add(rel);
  }

  /** One entry of the host's mode and times (exactTimes of the host's path); `flags` and `owner` as entryOp's. */
  add(kind: 'dir' | 'file', rel: string, mode: number, times: ExactTimes, flags: EntryFlag[] = [], owner?: { uid: number; gid: number }): void {
    this.entries.push(entryOp(kind, rel, { mode, times, flags, ...(owner ? { owner } : {}) }));
    this.made.add(rel);
  }

  /** An empty file with the helper's default mode (0600). */
  empty(rel: string): void {
    this.entries.push(entryOp('file', rel));
    this.made.add(rel);
  }
}

/**
 * A dir's mode and times set by an op at the end of `entries` when a later op makes something
 * in it: each entry made there moves its mtime (and its ctime), so the times set first were
 * the host's only until the next mkdir (a parent of a dir shown empty, a layer's upper root,
 * read inside as the moment of the run's set-up). A `dir` op leaves them to a `dir-attrs` op
 * there (its mode with them: a dir of the host's without the owner's write bit takes its
 * entries first); a `dir-attrs` op (a dir sbx made itself) moves there whole.
 */
export function dirAttrsLast(entries: SpecOp[]): void {
  const dirs = new Map<string, SpecOpOf<'entry'>>();
  const filled = new Set<SpecOpOf<'entry'>>();
  for (const op of entries) {
    if (op.op !== 'entry') continue;
    const [kind, rel] = op.args;
    const setsAttrs = op.args[2] !== '-' || op.args[5] !== '-' || op.args[6] !== '-';
    if (kind === 'dir-attrs' || kind === 'file-attrs') {
      if (kind === 'dir-attrs' && setsAttrs) dirs.set(rel, op);
      continue;
    }
    const parent = dirs.get(rel.slice(0, Math.max(0, rel.lastIndexOf('/'))));
    if (parent) filled.add(parent);
    if (kind === 'dir' && setsAttrs) dirs.set(rel, op);
  }
  if (!filled.size) return;
  const last: SpecOp[] = [];
  let n = 0;
  for (const op of entries) {
    if (op.op === 'entry' && filled.has(op)) {
      const a = op.args;
      if (a[0] === 'dir-attrs') { last.push(op); continue; }
      last.push({ op: 'entry', args: ['dir-attrs', a[1], a[2], '-', '-', a[5], a[6], '', []] });
      op.args = [a[0], a[1], '-', a[3], a[4], '-', '-', a[7], a[8]];
    }
    entries[n++] = op;
  }
  entries.length = n;
  entries.push(...last);
}
