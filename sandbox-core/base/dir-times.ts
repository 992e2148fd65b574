// A directory's modification and change times without an fs.Stats. Node 20 builds every Stats
// with four Date objects: for the ~320 directories an ordinary user's run checks before it
// starts (unreadable.ts's remembered walk of /var and /etc), lstatSync cost 4.6 ms and ~140
// page faults where Node's own binding answers the same lstat(2) into one shared array in 1.6
// ms and 8 faults (321 dirs, this VM). The binding is reached through process.binding, as
// light-process.ts reaches its own; it is used only after it gave exactly what lstatSync gives
// for `/`, and lstatSync is used wherever it is missing, wrapped to warn, or answers otherwise.
import { constants, lstatSync } from 'node:fs';

type Lstat = (path: string, bigint: boolean, req: undefined, throwIfNoEntry: boolean) => Float64Array | undefined;

let binding: Lstat | null | undefined;

/** lstat(2)'s answer as Node's statValues: [1] mode, [12]/[13] mtime s/ns, [14]/[15] ctime s/ns. */
function fsBinding(): Lstat | null {
  if (binding !== undefined) return binding;
  binding = null;
  const b = (process as { binding?: ((name: string) => unknown) & { name: string } }).binding;
  // Node's deprecate() wrapper (named `deprecated`) would print DEP0111 on the first call.
  if (typeof b !== 'function' || b.name !== 'binding') return null;
  try {
    const fs = b('fs') as { lstat?: unknown };
    if (typeof fs.lstat !== 'function') return null;
    const lstat = (fs.lstat as Lstat).bind(fs);
    const st = lstatSync('/');
    const times = timesOf(lstat('/', false, undefined, false));
    if (times && times[0] === st.mtimeMs && times[1] === st.ctimeMs) binding = lstat;
  } catch { /* not on the allow-list, or another signature: lstatSync */ }
  return binding;
}

/** A directory's [mtimeMs, ctimeMs] from statValues, computed as Node computes Stats' (so equal to them); null if not a directory. */
function timesOf(a: Float64Array | undefined): [number, number] | null {
  if (!(a instanceof Float64Array) || a.length < 16 || (a[1]! & constants.S_IFMT) !== constants.S_IFDIR) return null;
  return [a[12]! * 1e3 + a[13]! / 1e6, a[14]! * 1e3 + a[15]! / 1e6];
}

/** What lstatSync(path)'s mtimeMs and ctimeMs are when it is a directory; null when it is not, or cannot be looked at. */
export function dirTimes(path: string): [number, number] | null {
  const lstat = fsBinding();
  try {
    if (lstat) return timesOf(lstat(path, false, undefined, false));
    const st = lstatSync(path);
    return st.isDirectory() ? [st.mtimeMs, st.ctimeMs] : null;
  } catch {
    return null;
  }
}

/** Whether dirTimes answers through Node's binding here (for the tests). */
export function dirTimesFromBinding(): boolean {
  return fsBinding() !== null;
}
