// One `--allow-net` run: the proxy on a private unix socket, the relay op that makes it
// reachable inside as 127.0.0.1:PORT, the proxy variables for the command, and the summary.
import { lchownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { release as osRelease } from 'node:os';
import { Dir, removeTreeAt } from '../beneath.js';
import { findHelper } from '../helper.js';
import { AllowList } from './allowlist.js';
import { BAD_REQUESTS, NetProxy, OTHER_HOSTS, readHostsFile, type NetDecision } from './proxy.js';
import { TIMES } from '../base/charset.js';

/** The port the relay listens on inside the sandbox (127.0.0.1 and ::1). */
export const RELAY_PORT = 3128;
const SOCKET_NAME = 's';
/** The proxy's socket for the direct path's decisions (native/netdirect.c), beside the relay's. */
const DIRECT_NAME = 'd';
/** The relay's copy buffer per direction without --memory, and its smallest. */
export const RELAY_BUFFER_MAX = 4 << 20;
export const RELAY_BUFFER_MIN = 64 << 10;
const NET_DIR = 'net';

export interface NetSession {
  /** Host directory holding the proxy's socket; the helper's pid 1 connects to `name` in it. */
  dir: string;
  name: string;
  port: number;
  /** Bytes of the relay's copy buffer per direction (relayBufferBytes). */
  buffer: number;
  /** With the direct path: the name of the decisions socket in `dir` (spec op net_direct). */
  directName: string | null;
  /** Proxy variables for the command (both spellings: tools read one or the other). */
  env: string[];
  /** Stops the proxy, removes its socket, and returns every decision made. */
  stop(): Promise<NetDecision[]>;
}

/**
 * The relay's copy buffer per direction of a handed-off connection. Bigger moves a fast
 * transfer with fewer, longer reads (at full speed the relay reads a full buffer each time):
 * 4 MiB was 7-10% faster than 1 MiB on this project's 2-core machine (docs/security.md). But
 * the relay runs in the sandbox's cgroup and the pages a fast transfer fills count against
 * --memory: 4 MiB buffers got the command OOM-killed at --memory 4M. So with a limit, the
 * largest power of two that is at most 1/16 of it, within [64 KiB, 4 MiB]: --memory 4M gets
 * 256 KiB, 64M and more get 4 MiB.
 */
export function relayBufferBytes(memoryLimit?: number): number {
  let b = RELAY_BUFFER_MAX;
  if (memoryLimit === undefined) return b;
  while (b > RELAY_BUFFER_MIN && b * 16 > memoryLimit) b /= 2;
  return b;
}

/**
 * Starts the proxy. `relayOwner` is the host uid/gid pid 1 runs as when that is not us (root's
 * sandboxes run as an unprivileged range): the socket's directory is given to it, so nobody
 * else can connect. `layers` is the sandbox's layers dir as the store opened it (Store.openLayers,
 * from the store-root fd), owned by the session from now on; `layersDir` is its path, only
 * for the helper's spec. What is in it may be the sandbox's doing, so `net` below it is
 * reached through beneath.ts only.
 */
export async function startAllowNet(entries: string[], layers: Dir, layersDir: string, relayOwner: { uid: number; gid: number } | null, memoryLimit?: number, direct = false, env: NodeJS.ProcessEnv = process.env): Promise<NetSession> {
  let allow: AllowList;
  let hosts: Map<string, string[]>;
  try {
    allow = AllowList.parse(entries);
    hosts = env.SBX_NET_HOSTS ? readHostsFile(env.SBX_NET_HOSTS) : new Map<string, string[]>();
  } catch (e) {
    layers.close();
    throw e;
  }
  // Beside the layers, so whatever removes the sandbox (discard, commit, the sweep of a killed
  // throwaway run) removes the socket too. Bound and connected through directory fds, so the
  // length of the layers' path never meets sun_path's 108 bytes.
  let net: Dir | null = null;
  const remove = () => { try { removeTreeAt(layers, NET_DIR); } catch { /* gone already */ } };
  const proxy = new NetProxy(allow, hosts, findHelper()?.path ?? null);
  try {
    remove(); // an earlier run's, if its sbx was killed
    mkdirSync(layers.at(NET_DIR), { mode: 0o700 });
    net = Dir.openBeneath(layers, NET_DIR);
    await proxy.listen(net.at(SOCKET_NAME).toString('latin1'));
    if (direct) await proxy.listenDirect(net.at(DIRECT_NAME).toString('latin1'), RELAY_PORT);
    if (relayOwner) {
      lchownSync(layers.at(NET_DIR), relayOwner.uid, relayOwner.gid);
      for (const n of direct ? [SOCKET_NAME, DIRECT_NAME] : [SOCKET_NAME]) lchownSync(net.at(n), relayOwner.uid, relayOwner.gid);
    }
  } catch (e) {
    await proxy.close();
    net?.close();
    remove();
    layers.close();
    throw e;
  }
  const url = `http://127.0.0.1:${RELAY_PORT}`;
  // Inside, loopback is the sandbox's own, and goes direct; but an entry that names a host
  // loopback address means the host's service, which only the proxy can reach, unless the
  // direct path decides each connect(2): then IP and CIDR entries are reached without the
  // proxy (the sandbox's loopback stays local except what an entry names, see directDecision).
  const hostLoopback = allow.namesLoopback();
  const noProxy = direct ? ['localhost', '127.0.0.1', '::1', ...allow.addressEntries()].filter((x, i, a) => a.indexOf(x) === i).join(',')
    : hostLoopback ? '' : 'localhost,127.0.0.1,::1';
  return {
    dir: join(layersDir, NET_DIR),
    name: SOCKET_NAME,
    port: RELAY_PORT,
    buffer: relayBufferBytes(memoryLimit),
    directName: direct ? DIRECT_NAME : null,
    env: [
      `HTTP_PROXY=${url}`, `HTTPS_PROXY=${url}`, `ALL_PROXY=${url}`, `NO_PROXY=${noProxy}`,
      `http_proxy=${url}`, `https_proxy=${url}`, `all_proxy=${url}`, `no_proxy=${noProxy}`,
    ],
    async stop() {
      await proxy.close();
      net?.close();
      remove();
      layers.close();
      return proxy.decisions();
    },
  };
}

/** `allowed: a:443 ×3`, `blocked: b:80 ×1 (not in --allow-net)`: one line per host and outcome. */
export function netSummaryLines(decisions: NetDecision[], display: (s: string) => string): string[] {
  // OTHER_HOSTS and BAD_REQUESTS rows are sbx's own (a space: no host has one), not a host:port.
  return decisions.map((d) => d.host === OTHER_HOSTS || d.host === BAD_REQUESTS
    ? `${d.allowed ? 'allowed' : 'blocked'}: ${d.host} ${TIMES}${d.count} (${d.reason})`
    : `${d.allowed ? 'allowed' : 'blocked'}: ${display(d.host)}:${d.port} ${TIMES}${d.count}${d.allowed ? (d.direct ? ` (direct ${TIMES}${d.direct})` : '') : ` (${d.reason})`}`);
}

/**
 * Does a run with these --allow-net entries take the direct path? Only with an IP or CIDR
 * entry (names keep the proxy, and every connect the path decides costs a round trip to the
 * supervisor), and only where the kernel can run it. A malformed entry throws, as parse does.
 */
export function wantsDirectPath(entries: string[]): boolean {
  return AllowList.parse(entries).entries.some((e) => e.kind === 'cidr') && directPathSupported();
}

/**
 * Can this kernel run the direct path? It needs seccomp user notifications with
 * SECCOMP_IOCTL_NOTIF_ADDFD and SECCOMP_ADDFD_FLAG_SETFD (Linux 5.9), pidfd_getfd (5.6), and
 * pidfd_open of a thread with PIDFD_THREAD (6.9): every connect(2) is notified, and one from
 * a thread that does not lead its process (Go, Java, Python threads) cannot be answered
 * without it. Without them --allow-net goes through the relay only, as before.
 */
export function directPathSupported(release: string = osRelease()): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return !!m && (Number(m[1]) > 6 || (Number(m[1]) === 6 && Number(m[2]) >= 9));
}
