// Which of the command's stdin/stdout/stderr the helper relays through pipes of its own.
// Root in a remapped sandbox (sudo) holds no right over an object whose owner is not mapped
// into its user namespace: reopening /dev/stdin or /dev/stdout (a pipe or a file owned by host
// root) fails with EACCES, where a plain shell succeeds. A pipe made inside the sandbox belongs
// to its root, so the command gets one of those and the helper copies bytes across.
import { fstatSync, type Stats } from 'node:fs';
import { isatty } from 'node:tty';
import type { IdMapping } from './idmap.js';

/** Host id ranges [start, start+count) mapped into the sandbox, from the mapping's spec ops. */
export function mappedHostRanges(idmap: IdMapping, which: 'uid' | 'gid'): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const op of idmap.ops) {
    const a = op.args.map(String);
    if (op.op === `${which}_map`) {
      for (const line of (a[0] ?? '').split('\n')) {
        const f = line.trim().split(/\s+/).map(Number);
        if (f.length === 3 && f.every(Number.isFinite)) out.push([f[1]!, f[2]!]);
      }
    } else if (op.op === `new${which}map`) {
      const f = (a[1] ?? '').trim().split(/\s+/).map(Number);
      for (let i = 0; i + 2 < f.length; i += 3) out.push([f[i + 1]!, f[i + 2]!]);
    }
  }
  return out;
}

const inRanges = (id: number, ranges: Array<[number, number]>): boolean => ranges.some(([s, n]) => id >= s && id < s + n);

/**
 * fds 0-2 that must be relayed: not terminals (a pty keeps its semantics only as itself), not
 * sockets (no one can reopen those through /proc), and neither owned by a mapped id nor open
 * to everyone for the access the fd is used for. Anything but a pipe, a file or a character
 * device is relayed whoever owns it: a directory (`sbx run -- cmd < dir`) given as itself is a
 * handle on the host's tree below every overlay, where openat(0, ...) and /proc/self/fd/0/..
 * write and climb on the host as the command's user; relayed, it reads as an empty stdin.
 */
export function stdioToRelay(idmap: IdMapping, stat: (fd: number) => Stats | null = safeFstat, tty: (fd: number) => boolean = isatty): number[] {
  const uids = mappedHostRanges(idmap, 'uid'), gids = mappedHostRanges(idmap, 'gid');
  const out: number[] = [];
  for (const fd of [0, 1, 2]) {
    const st = stat(fd);
    if (!st || st.isSocket() || tty(fd)) continue;
    if (!st.isFIFO() && !st.isFile() && !st.isCharacterDevice()) { out.push(fd); continue; }
    if (inRanges(st.uid, uids) && inRanges(st.gid, gids)) continue;
    const otherBit = fd === 0 ? 0o004 : 0o002;
    if (st.mode & otherBit) continue;
    out.push(fd);
  }
  return out;
}

function safeFstat(fd: number): Stats | null {
  try { return fstatSync(fd); } catch { return null; }
}
