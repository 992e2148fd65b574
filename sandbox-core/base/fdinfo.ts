// One number from /proc/self/fdinfo/FD (proc(5)): what the kernel knows of an open file
// description that Node does not expose (its mount, its offset).
import { closeSync, openSync, readSync } from 'node:fs';

const fdinfo = Buffer.alloc(4096);

/** Field `name` (`mnt_id`, `pos`, …) of open fd `fd`. */
export function fdinfoField(fd: number, name: string): number {
  // One read into a kept buffer: readFileSync of a procfs file (size 0) reads it in growing
  // pieces, 4x the time (2,000 dirs: ~190 ms against ~50 at load 7).
  const f = openSync(`/proc/self/fdinfo/${fd}`, 'r');
  let n: number;
  try { n = readSync(f, fdinfo, 0, fdinfo.length, 0); } finally { closeSync(f); }
  const m = new RegExp(`^${name}:\\s*(\\d+)$`, 'm').exec(fdinfo.toString('latin1', 0, n));
  if (!m) throw new Error(`no ${name} in fdinfo`);
  return Number(m[1]);
}
