// Directories sbx itself puts into an upper layer before a run (the parents of a whiteout or
// of a pre-copied file) must look like the host's, or the change list would report them.
// The layer is the sandbox's: every access goes through beneath.ts, so a symlink the command
// left in any component is refused, never followed to the host.
import { chmodSync, chownSync, lstatSync, mkdirSync, utimesSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Dir, splitBeneath } from './beneath.js';

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
