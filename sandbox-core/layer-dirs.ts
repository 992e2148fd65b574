// Directories sbx itself puts into an upper layer before a run (the parents of a whiteout or
// of a pre-copied file) must look like the host's, or the change list would report them.
// The layer is the sandbox's: every access goes through beneath.ts, so a symlink the command
// left in any component is refused, never followed to the host.
import { chmodSync, chownSync, lstatSync, mkdirSync, utimesSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Dir, splitBeneath } from './beneath.js';
import type { EntryFlag, EntryKind, SpecOpOf } from './spec.js';

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
