// Which of the command's stdin/stdout/stderr the helper relays through pipes of its own.
// Root in a remapped sandbox (sudo) holds no right over an object whose owner is not mapped
// into its user namespace: reopening /dev/stdin or /dev/stdout (a pipe or a file owned by host
// root) fails with EACCES, where a plain shell succeeds. A pipe made inside the sandbox belongs
// to its root, so the command gets one of those and the helper copies bytes across.
import { fstatSync, type Stats } from 'node:fs';
import { readProcText } from './base/process.js';
import { isatty } from './base/light-process.js';
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

/** Whether `id` is in one of `ranges` ([start, count] each, as mappedHostRanges gives them). */
export const inRanges = (id: number, ranges: ReadonlyArray<readonly [number, number]>): boolean => ranges.some(([s, n]) => id >= s && id < s + n);

const O_ACCMODE = 0o3, O_APPEND = 0o2000;

/**
 * Whether the sandbox could reopen this regular file through /proc/self/fd/N for writing where
 * the fd itself may not write anywhere in it: stdin read-only (`cmd < notes.txt`) or an append-only
 * log (`cmd >> build.log`). /proc/self/fd/N is a magic link to the host's inode, below every
 * overlay, and the open checks only the inode's owner and mode: an ordinary user's own file
 * (its uid is mapped, root inside may write it), a group-writable one of a mapped group or a
 * world-writable one would be rewritten or truncated on the host. Unknown flags count as
 * read-only.
 */
function reopenWritesMore(st: Stats, flags: number | null, uids: Array<[number, number]>, gids: Array<[number, number]>): boolean {
  if (flags !== null && (flags & O_ACCMODE) !== 0 && !(flags & O_APPEND)) return false;
  return inRanges(st.uid, uids) || (inRanges(st.gid, gids) && (st.mode & 0o020) !== 0) || (st.mode & 0o002) !== 0;
}

/**
 * fds 0-2 that must be relayed: all but terminals (a pty keeps its semantics only as itself),
 * connected unix sockets (below), and a file or character device of an owner not mapped inside
 * that is open to everyone for the access the fd is used for (`/dev/null`; host root's file
 * read as an ordinary user's stdin). A pipe is relayed whoever owns it: as itself it could be
 * reopened through /proc/self/fd/0 for writing (the pipe's owner is the command inside, or the
 * pipe is open to it), and what the command wrote there the host read after the sandbox was
 * gone: `cat script | bash` ran what a throwaway run of one of its lines put in the pipe; a
 * stdout pipe reopened for reading takes bytes other host processes write to it. A file or
 * device whose owner is mapped is the command's own inside: through fd 1 it could chmod (a
 * setuid program left in `> out.bin`), chown or touch the host's file. Anything
 * but a pipe, a file or a character device is relayed whoever owns it: a directory (`sbx run --
 * cmd < dir`) given as itself is a handle on the host's tree below every overlay, where
 * openat(0, ...) and /proc/self/fd/0/.. write and climb on the host as the command's user;
 * relayed, it reads as an empty stdin. A file the command could reopen for more writing than
 * its fd allows is relayed too (reopenWritesMore): it then reads as a pipe (not seekable) and
 * appends as before. A socket keeps its network namespace, the host's: only a connected unix
 * stream or seqpacket socket (a Node parent's stdio, ssh's) goes in as itself, since it can be
 * neither connected again nor disconnected. Any other (an inetd-style TCP socket, an
 * unconnected or datagram one) would let connect(2) reach the host's network and its abstract
 * unix names from a sandbox that has none; relayed, the command gets its bytes only.
 */
export function stdioToRelay(idmap: IdMapping, stat: (fd: number) => Stats | null = safeFstat, tty: (fd: number) => boolean = isatty,
  flags: (fd: number) => number | null = fdFlags, connectedUnix: (ino: number) => boolean = connectedUnixSocket): number[] {
  const uids = mappedHostRanges(idmap, 'uid'), gids = mappedHostRanges(idmap, 'gid');
  const out: number[] = [];
  for (const fd of [0, 1, 2]) {
    const st = stat(fd);
    if (!st || tty(fd)) continue;
    if (st.isSocket()) { if (!connectedUnix(st.ino)) out.push(fd); continue; }
    if (!st.isFile() && !st.isCharacterDevice()) { out.push(fd); continue; }
    if (inRanges(st.uid, uids)) { out.push(fd); continue; }
    // A file's flags only: the common stdio (/dev/null, a terminal) reads no fdinfo.
    if (st.isFile() && reopenWritesMore(st, flags(fd), uids, gids)) { out.push(fd); continue; }
    const otherBit = fd === 0 ? 0o004 : 0o002;
    if (st.mode & otherBit) continue;
    out.push(fd);
  }
  return out;
}

/**
 * Whether relayed stdout and stderr are one object (`2>&1` into a pipe or a file): the command
 * then gets one pipe for both, as it had one object, and what it writes to either comes out in
 * the order written. Two relays copy each in its own time: `echo out; echo err >&2; echo out2`
 * came out with err after out2 now and then.
 */
export function sharedOutputs(relayed: readonly number[], stat: (fd: number) => Stats | null = safeFstat): boolean {
  if (!relayed.includes(1) || !relayed.includes(2)) return false;
  const out = stat(1), err = stat(2);
  return !!out && !!err && out.dev === err.dev && out.ino === err.ino;
}

/** The fd's open flags (/proc/self/fdinfo: octal), or null when they cannot be read. */
function fdFlags(fd: number): number | null {
  try {
    const m = /^flags:\s*([0-7]+)$/m.exec(readProcText(`/proc/self/fdinfo/${fd}`));
    return m ? parseInt(m[1]!, 8) : null;
  } catch { return null; }
}

let unixLines: string[] | null = null;

/**
 * Whether the socket with this inode is a connected unix stream or seqpacket socket, from
 * /proc/self/net/unix (read once, only when an fd 0-2 is a socket). A socket of another network
 * namespace is not listed there, and is relayed.
 */
function connectedUnixSocket(ino: number): boolean {
  if (unixLines === null) {
    try { unixLines = readProcText('/proc/self/net/unix').split('\n'); } catch { unixLines = []; }
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
