// A directory's link count, size and times without an fs.Stats. Node 20 builds every Stats with
// four Date objects: for the ~320 directories an ordinary user's run checks before it starts
// (unreadable.ts's remembered walk of /var and /etc), lstatSync cost 4.6 ms and ~140 page
// faults where Node's own binding answers the same lstat(2) into one shared array in 1.6 ms
// and 8 faults (321 dirs, this VM). The binding (node-binding.ts) is used only after it gave
// exactly what lstatSync gives for `/`, and lstatSync wherever it is missing or answers otherwise.
import { constants, lstatSync } from 'node:fs';
import { nodeBinding } from './node-binding.js';

/** What dirStat tells of a directory, each as lstatSync's Stats has it. */
export interface DirStat { nlink: number; size: number; mtimeMs: number; ctimeMs: number }

type Lstat = (path: string, bigint: boolean, req: undefined, throwIfNoEntry: boolean) => Float64Array | undefined;

let binding: Lstat | null | undefined;

function fsBinding(): Lstat | null {
  if (binding !== undefined) return binding;
  binding = null;
  const fs = nodeBinding('fs');
  if (typeof fs?.lstat !== 'function') return null;
  try {
    const lstat = (fs.lstat as Lstat).bind(fs);
    const st = lstatSync('/');
    const got = fromValues(lstat('/', false, undefined, false));
    if (got && got.nlink === st.nlink && got.size === st.size && got.mtimeMs === st.mtimeMs && got.ctimeMs === st.ctimeMs) binding = lstat;
  } catch { /* another signature: lstatSync */ }
  return binding;
}

/**
 * Node's statValues ([1] mode, [2] nlink, [8] size, [12]/[13] mtime s/ns, [14]/[15] ctime
 * s/ns), the times computed as Node computes Stats' (so equal to them); null if not a directory.
 */
function fromValues(a: Float64Array | undefined): DirStat | null {
  if (!(a instanceof Float64Array) || a.length < 16 || (a[1]! & constants.S_IFMT) !== constants.S_IFDIR) return null;
  return { nlink: a[2]!, size: a[8]!, mtimeMs: a[12]! * 1e3 + a[13]! / 1e6, ctimeMs: a[14]! * 1e3 + a[15]! / 1e6 };
}

/** lstat(2) of `path` when it is a directory (a symlink is not followed); null when it is not, or cannot be looked at. */
export function dirStat(path: string): DirStat | null {
  const lstat = fsBinding();
  try {
    if (lstat) return fromValues(lstat(path, false, undefined, false));
    const st = lstatSync(path);
    return st.isDirectory() ? { nlink: st.nlink, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs } : null;
  } catch {
    return null;
  }
}

/** Whether dirStat answers through Node's binding here (for the tests). */
export function dirStatFromBinding(): boolean {
  return fsBinding() !== null;
}
