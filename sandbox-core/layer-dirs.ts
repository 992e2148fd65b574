// Directories sbx itself puts into an upper layer before a run (the parents of a whiteout or
// of a pre-copied file) must look like the host's, or the change list would report them.
// The layer is the sandbox's: every access goes through beneath.ts, so a symlink the command
// left in any component is refused, never followed to the host.
import { chmodSync, chownSync, lstatSync, mkdirSync, utimesSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Dir, NotBeneathError, splitBeneath } from './beneath.js';
import type { EntryFlag, EntryKind, SpecOp, SpecOpOf } from './spec.js';
import { upperOf, type Layer } from './types.js';

/** Host ids -> the ids to give sbx's copies in the layer, or null to leave them ours. */
export type LayerOwner = (host: { uid: number; gid: number }) => { uid: number; gid: number } | null;

/**
 * Makes `dir` (a host path under `target`) and its parents exist in the upper layer `upper`,
 * and returns the deepest one opened (the caller closes it; it is `upper` itself when `dir` is
 * `target`). Throws NotBeneathError when the layer holds a symlink or a non-directory on the way.
 */
export function ensureUpperDirs(upper: Dir, target: string, dir: string, owner: LayerOwner = () => null): Dir {
  let host = target;
  let cur = upper;
  const close = (d: Dir): void => { if (d !== upper) d.close(); };
  try {
    for (const part of splitBeneath(relative(target, dir))) {
      host = join(host, part);
      // Host paths are JS strings; names below a Dir are byte strings.
      const name = Buffer.from(part, 'utf8').toString('latin1');
      if (!cur.lstat(name)) {
        const st = lstatSync(host);
        mkdirSync(cur.at(name), { mode: 0o700 });
        const made = Dir.openBeneath(cur, name);
        try {
          chmodSync(made.self(), st.mode & 0o7777);
          const o = owner(st);
          if (o) chownSync(made.self(), o.uid, o.gid);
          // Seconds as a float keep the host's sub-millisecond time (a Date would drop it).
          utimesSync(made.self(), st.atimeMs / 1000, st.mtimeMs / 1000);
        } finally {
          made.close();
        }
      }
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

/**
 * A time in seconds as Node's utimes sets it (libuv keeps whole microseconds), for an `entry`
 * op: the helper then makes the very times sbx's own calls would.
 */
export function specTime(seconds: number): string {
  let sec = Math.trunc(seconds);
  let nsec = Math.trunc((seconds - sec) * 1e9);
  nsec -= nsec % 1000;
  if (nsec < 0) { nsec += 1e9; sec -= 1; }
  return `${sec}.${String(nsec).padStart(9, '0')}`;
}

/** What an `entry` op sets on what it makes; absent: left as made (0700 dir, 0600 file, our ids). */
export interface EntryAttrs {
  mode?: number;
  owner?: { uid: number; gid: number };
  /** Seconds, as from Stats' atimeMs / 1000. */
  times?: { atime: number; mtime: number };
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
      const st = lstatSync(host);
      this.add('dir', rel, st, [], owner(st) ?? undefined);
    }
  }

  /** A name something else makes in the layer (a --hide whiteout): no entry may make it, nor anything below it. */
  claim(rel: string): void {
    this.made.add(rel);
    this.claimed.add(rel);
  }

  /** One entry of the host's mode and times (st: the host's lstat); `flags` and `owner` as entryOp's. */
  add(kind: 'dir' | 'file', rel: string, st: { mode: number; atimeMs: number; mtimeMs: number }, flags: EntryFlag[] = [], owner?: { uid: number; gid: number }): void {
    this.entries.push(entryOp(kind, rel, { mode: st.mode, times: { atime: st.atimeMs / 1000, mtime: st.mtimeMs / 1000 }, flags, ...(owner ? { owner } : {}) }));
    this.made.add(rel);
  }

  /** An empty file with the helper's default mode (0600). */
  empty(rel: string): void {
    this.entries.push(entryOp('file', rel));
    this.made.add(rel);
  }
}
