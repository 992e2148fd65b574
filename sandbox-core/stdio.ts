// Which of the command's stdin/stdout/stderr the helper relays through pipes of its own.
// Root in a remapped sandbox (sudo) holds no right over an object whose owner is not mapped
// into its user namespace: reopening /dev/stdin or /dev/stdout (a pipe or a file owned by host
// root) fails with EACCES, where a plain shell succeeds. A pipe made inside the sandbox belongs
// to its root, so the command gets one of those and the helper copies bytes across.
import { fstatSync, readFileSync, type Stats } from 'node:fs';
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
 * fds 0-2 that must be relayed: not terminals (a pty keeps its semantics only as itself), and
 * neither owned by a mapped id nor open to everyone for the access the fd is used for. Anything
 * but a pipe, a file or a character device is relayed whoever owns it: a directory (`sbx run --
 * cmd < dir`) given as itself is a handle on the host's tree below every overlay, where
 * openat(0, ...) and /proc/self/fd/0/.. write and climb on the host as the command's user;
 * relayed, it reads as an empty stdin. A socket keeps its network namespace, the host's: only a
 * connected unix stream or seqpacket socket (a Node parent's stdio, ssh's) goes in as itself,
 * since it can be neither connected again nor disconnected. Any other (an inetd-style TCP
 * socket, an unconnected or datagram one) would let connect(2) reach the host's network and its
 * abstract unix names from a sandbox that has none; relayed, the command gets its bytes only.
 */
export function stdioToRelay(idmap: IdMapping, stat: (fd: number) => Stats | null = safeFstat, tty: (fd: number) => boolean = isatty,
  connectedUnix: (ino: number) => boolean = connectedUnixSocket): number[] {
  const uids = mappedHostRanges(idmap, 'uid'), gids = mappedHostRanges(idmap, 'gid');
  const out: number[] = [];
  for (const fd of [0, 1, 2]) {
    const st = stat(fd);
    if (!st || tty(fd)) continue;
    if (st.isSocket()) { if (!connectedUnix(st.ino)) out.push(fd); continue; }
    if (!st.isFIFO() && !st.isFile() && !st.isCharacterDevice()) { out.push(fd); continue; }
    if (inRanges(st.uid, uids) && inRanges(st.gid, gids)) continue;
    const otherBit = fd === 0 ? 0o004 : 0o002;
    if (st.mode & otherBit) continue;
    out.push(fd);
  }
  return out;
}

let unixLines: string[] | null = null;

/**
 * Whether the socket with this inode is a connected unix stream or seqpacket socket, from
 * /proc/self/net/unix (read once, only when an fd 0-2 is a socket). A socket of another network
 * namespace is not listed there, and is relayed.
 */
function connectedUnixSocket(ino: number): boolean {
  if (unixLines === null) {
    try { unixLines = readFileSync('/proc/self/net/unix', 'latin1').split('\n'); } catch { unixLines = []; }
  }
  const want = String(ino);
  for (const line of unixLines) {
    // Num RefCount Protocol Flags Type St Inode [Path]; Type 0001 stream, 0005 seqpacket; St 03 connected.
    const f = line.trim().split(/\s+/);
    if (f[6] === want) return (f[4] === '0001' || f[4] === '0005') && f[5] === '03';
  }
  return false;
}

function safeFstat(fd: number): Stats | null {
  try { return fstatSync(fd); } catch { return null; }
}
