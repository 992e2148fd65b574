// Directories sbx itself puts into an upper layer before a run (the parents of a whiteout or
// of a pre-copied file) must look like the host's, or the change list would report them.
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, utimesSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Host ids -> the ids to give sbx's copies in the layer, or null to leave them ours. */
export type LayerOwner = (host: { uid: number; gid: number }) => { uid: number; gid: number } | null;

/** Makes `dir` (a host path under `target`) and its parents exist in the upper layer. */
export function ensureUpperDirs(upperRoot: string, target: string, dir: string, owner: LayerOwner = () => null): void {
  let host = target, up = upperRoot;
  for (const part of relative(target, dir).split('/').filter(Boolean)) {
    host = join(host, part);
    up = join(up, part);
    if (existsSync(up)) continue;
    const st = lstatSync(host);
    mkdirSync(up, { mode: 0o700 });
    chmodSync(up, st.mode & 0o7777);
    const o = owner(st);
    if (o) chownSync(up, o.uid, o.gid);
    // Seconds as a float keep the host's sub-millisecond time (a Date would drop it).
    utimesSync(up, st.atimeMs / 1000, st.mtimeMs / 1000);
  }
}
