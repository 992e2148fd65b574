// The host side of `--allow-net`: an HTTP proxy (plain requests and CONNECT) that the sandbox
// reaches only through a relay its pid 1 runs, and that decides every connection against the
// allowlist, logs it, and answers a refusal at once (403 with one line) so nothing hangs.
import { createServer, connect, isIP, type Server, type Socket } from 'node:net';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { AllowList, ipBits, isHostName, isLocalAddress, isLoopbackOrUnspecified } from './allowlist.js';
import { readHello } from './sni.js';
import { Passer } from './passer.js';
import { codeUnitOrder } from '../base/code-order.js';

/** A request head (and a TLS hello) may be this long; Node's own HTTP server takes 16 KiB. */
const MAX_HEAD = 16 * 1024;
/**
 * Bytes of unfinished heads and hellos held at once, all connections together: each waits in
 * sbx's memory, outside the sandbox's cgroup, and a command can open a connection per process
 * it may have (3000 connections each holding a 64 KiB head made sbx's max RSS 268 MB).
 */
const HELD_BUDGET = 4 << 20;
const CONNECT_TIMEOUT_MS = 10_000;
const FIRST_BYTES_TIMEOUT_MS = 30_000;
/**
 * After this many bytes through Node, a connection is handed to the relay (see `pipe`): small
 * exchanges never pay for starting the hand-off process, big transfers stop paying for Node.
 */
export const HANDOFF_AFTER = 256 * 1024;

/** A connected host socket whose reads arrive through `sink` (null: kept until piping starts). */
interface Upstream {
  sock: Socket; stash: Buffer[]; sink: ((chunk: Buffer) => boolean) | null; ended: boolean;
  /** Called when the host sends before piping started (a banner: SSH, SMTP). */
  onStash?: () => void;
}

/**
 * `spliced`: of the allowed connections, how many were handed to the relay (bytes no longer
 * through Node; the name is from when the relay used splice). `direct`: how many were the
 * command's own connect(2) to an allowed address, answered with a socket connected here
 * (the direct path: no proxy, no relay).
 */
export interface NetDecision { host: string; port: number; allowed: boolean; reason: string; count: number; spliced?: number; direct?: number }

/**
 * Rows the log keeps one by one. A command can ask for as many names as it likes (200 a second
 * through the relay under load here, each up to 253 bytes): without a bound the log grew in
 * sbx's own memory, outside the sandbox's cgroup, and the summary printed a line per name,
 * burying the rows that matter. Past this, new host:port pairs are counted in one row per
 * outcome, OTHER_HOSTS port 0.
 */
export const MAX_LOG_ROWS = 200;
export const OTHER_HOSTS = 'other hosts';
/** The host of the rows for requests refused before any host was named (400, 431), one per reason. */
export const BAD_REQUESTS = 'bad requests';

/** A hosts(5)-format file consulted before DNS (for tests and pinned names); its names are trusted. */
export function readHostsFile(path: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [ip, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!ip || !ipBits(ip)) continue;
    for (const n of names) map.set(n.toLowerCase(), [...(map.get(n.toLowerCase()) ?? []), ip]);
  }
  return map;
}

interface Target { host: string; port: number }

/** The addresses of this host's interfaces (without a zone id). */
function hostAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((a) => a.address.replace(/%.*/, '')));
}

/**
 * `HOST[:PORT]` or `[IPV6][:PORT]`, where HOST is an IP literal or a DNS name: anything else
 * (a zone id, userinfo, `%`-escapes, controls) is null, a 400, never a lookup or a connect.
 */
function splitHostPort(s: string, defPort: number): Target | null {
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(s) ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) return null;
  const port = m[2] ? Number(m[2]) : defPort;
  if (!(port >= 1 && port <= 65535)) return null;
  const bracketed = s.startsWith('[');
  const ip = ipBits(m[1]!);
  if (bracketed ? ip?.family !== 6 : !ip && !isHostName(m[1]!)) return null;
  return { host: m[1]!, port };
}

/** A header field line: a token, a colon, a value without CR, LF or NUL (RFC 9112 5). */
const HEADER_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\r\n\0]*$/;

function sameHost(a: string, b: string): boolean {
  const norm = (h: string) => h.toLowerCase().replace(/\.$/, '');
  return norm(a) === norm(b);
}

/** A client's text in sbx's answer: a target may be up to 16 KiB. */
function clip(s: string): string {
  return s.length > 100 ? `${s.slice(0, 100)}...` : s;
}

export class NetProxy {
  private server: Server | null = null;
  private directServer: Server | null = null;
  private readonly log = new Map<string, NetDecision>();
  /** Rows of the log that name a host:port (MAX_LOG_ROWS at most). */
  private named = 0;
  private readonly sockets = new Set<Socket>();
  /** Client connections whose request head is not whole yet. */
  private readonly awaitingHead = new Set<Socket>();
  /** Bytes of unfinished heads and TLS hellos held now (HELD_BUDGET at most). */
  private held = 0;
  private readonly passer: Passer | null;

  /**
   * `passer`: the helper binary whose `net-pass` hands a connected host socket to the relay,
   * so the bytes flow between the client and the host without Node; null keeps every byte in
   * Node (slower, same decisions).
   */
  constructor(
    private readonly allow: AllowList,
    private readonly hosts: Map<string, string[]> = new Map(),
    helper: string | null = null,
    /** DNS for names (tests give their own: a name's DNS answer is what an attack controls). */
    private readonly resolveName: (name: string) => Promise<string[]> = async (name) => (await lookup(name, { all: true })).map((a) => a.address),
    /** The host's own addresses, asked at each decision: interfaces come and go during a run. */
    private readonly ownAddresses: () => string[] = hostAddresses,
  ) {
    this.passer = helper ? new Passer(helper) : null;
  }


  /** Starts listening on a unix socket path. */
  async listen(path: string): Promise<void> {
    // Half-open allowed: a client that finished sending still gets its answer, and the hand-off
    // relies on the relay's end of sending not ending ours.
    const server = createServer({ allowHalfOpen: true }, (s) => this.handle(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => { server.off('error', reject); resolve(); });
    });
    // Starting a process blocks Node for 10-200 ms on a busy machine: do it while the sandbox
    // starts (after the caller has launched it), not when the first transfer needs it.
    setImmediate(() => { if (this.server) this.passer?.start(); });
  }

  /**
   * The direct path's decisions (native/netdirect.c): the sandbox's supervisor connects here
   * for each connect(2) of the command to an IPv4/IPv6 address over TCP and sends one line,
   * `FAMILY ADDRESS PORT`. The answer is one byte: `c` (continue: the kernel connects inside
   * the sandbox's own network namespace), `r` (refused: ECONNREFUSED at once), or a socket
   * connected here, on net-pass's marker byte, which the supervisor puts in place of the
   * command's. Only the supervisor reaches this socket (its directory was opened before the
   * sandbox's root was replaced); `relayPort` is the relay's port on the sandbox's loopback,
   * which always stays local.
   */
  async listenDirect(path: string, relayPort: number): Promise<void> {
    const server = createServer((s) => this.handleDirect(s, relayPort));
    this.directServer = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => { server.off('error', reject); resolve(); });
    });
  }

  async close(): Promise<void> {
    // First: a server whose accepted sockets went over an IPC channel waits, on close, for
    // the channel's other end to confirm them closed, unless that channel is gone.
    this.passer?.stop();
    // Counted now: their 'close' comes after the caller has read the log.
    for (const s of this.awaitingHead) this.endedBeforeRequest(s);
    for (const s of this.sockets) s.destroy();
    for (const srv of [this.server, this.directServer]) if (srv) await new Promise<void>((r) => srv.close(() => r()));
    this.server = null;
    this.directServer = null;
  }

  /** The decision for a connect(2) to `addr`:`port`: continue, refuse, or the entry allowing it. */
  directDecision(addr: string, port: number, relayPort: number): 'continue' | 'refuse' | string {
    // The sandbox's own loopback stays local, as NO_PROXY keeps it for proxy-aware clients;
    // only an address:port an IP or CIDR entry names is the host's.
    if (isLoopbackOrUnspecified(addr) && (port === relayPort || !this.allow.coversAddress(addr, port))) return 'continue';
    const entry = this.allow.allows(addr, port);
    const own = entry ? this.ownAddresses() : [];
    if (!entry || entry.kind !== 'cidr' || (isLocalAddress(addr, own) && !this.allow.coversAddress(addr, port, own))) {
      this.record({ host: addr, port }, false, entry ? 'a local address no entry names' : 'not in --allow-net');
      return 'refuse';
    }
    return entry.text;
  }

  private handleDirect(conn: Socket, relayPort: number): void {
    this.track(conn);
    let line = '';
    const onData = (d: Buffer) => {
      line += d.toString('latin1');
      const nl = line.indexOf('\n');
      if (nl < 0) { if (line.length > 128) conn.destroy(); return; }
      conn.off('data', onData);
      conn.pause();
      const m = /^([46]) (\S+) (\d{1,5})$/.exec(line.slice(0, nl));
      const fam = m ? Number(m[1]) : 0;
      if (!m || isIP(m[2]!) !== fam) { conn.end('r'); return; }
      const addr = m[2]!;
      const port = Number(m[3]);
      const d2 = this.directDecision(addr, port, relayPort);
      if (d2 === 'continue') { conn.end('c'); return; }
      if (d2 === 'refuse') { conn.end('r'); return; }
      void this.connectDirect(conn, { host: addr, port }, fam as 4 | 6, d2);
    };
    conn.on('data', onData);
  }

  /** Connects to an allowed address here and hands the socket to the supervisor. */
  private async connectDirect(conn: Socket, t: Target, family: 4 | 6, entryText: string): Promise<void> {
    const host = await new Promise<Socket | null>((resolve) => {
      const s = connect({ host: t.host, port: t.port, family });
      // Never read here: whatever the host sends first (a banner) is the client's.
      s.pause();
      const timer = setTimeout(() => { s.destroy(); resolve(null); }, CONNECT_TIMEOUT_MS);
      s.once('connect', () => { clearTimeout(timer); resolve(s); });
      s.once('error', () => { clearTimeout(timer); s.destroy(); resolve(null); });
    });
    if (!host || !this.passer || conn.destroyed) {
      host?.destroy();
      this.record(t, false, host ? 'the sandbox went away' : 'connection failed');
      conn.end('r');
      return;
    }
    this.track(host);
    const ok = await this.passer.pass(conn, host);
    // Our copy closes without a shutdown: the supervisor's stays connected.
    host.destroy();
    if (!ok) {
      this.record(t, false, 'hand-off failed');
      conn.destroy();
      return;
    }
    this.record(t, true, `allowed by ${entryText}`);
    const d = this.log.get(this.row(t, true));
    if (d) d.direct = (d.direct ?? 0) + 1;
    conn.end();
  }

  /**
   * Every decision so far, one row per host:port and outcome, most frequent first, then by host
   * in code-unit order: the same in every locale, and no ICU collator loaded (its first
   * localeCompare is ~12 ms, at the end of each --allow-net run).
   */
  decisions(): NetDecision[] {
    return [...this.log.values()].sort((a, b) => b.count - a.count || codeUnitOrder(a.host, b.host));
  }

  /** The log's row for a decision about `t` (the overflow row once MAX_LOG_ROWS are taken). */
  private row(t: Target, allowed: boolean): string {
    const key = `${allowed ? 'a' : 'b'} ${t.host.toLowerCase()}:${t.port}`;
    return this.log.has(key) || this.named < MAX_LOG_ROWS ? key : `${allowed ? 'a' : 'b'} ${OTHER_HOSTS}`;
  }

  private record(t: Target, allowed: boolean, reason: string): void {
    const key = this.row(t, allowed);
    const d = this.log.get(key);
    if (d) d.count++;
    else if (key.endsWith(OTHER_HOSTS)) this.log.set(key, { host: OTHER_HOSTS, port: 0, allowed, reason: `more than ${MAX_LOG_ROWS} host:port pairs, not listed one by one`, count: 1 });
    else {
      this.log.set(key, { host: t.host.toLowerCase(), port: t.port, allowed, reason, count: 1 });
      this.named++;
    }
  }

  private endedBeforeRequest(s: Socket): void {
    if (this.awaitingHead.delete(s)) this.recordBad('no whole request before the connection ended');
  }

  private recordBad(reason: string): void {
    const d = this.log.get(`x ${reason}`);
    if (d) d.count++;
    else this.log.set(`x ${reason}`, { host: BAD_REQUESTS, port: 0, allowed: false, reason, count: 1 });
  }

  private countSpliced(t: Target): void {
    const d = this.log.get(this.row(t, true));
    if (d) d.spliced = (d.spliced ?? 0) + 1;
  }

  private track(s: Socket): Socket {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => s.destroy());
    return s;
  }

  private handle(client: Socket): void {
    this.track(client);
    let buf = Buffer.alloc(0);
    // A connection that ends (or is still open when the run ends) before its request is whole
    // is counted too: 500 of them said 'no connection was attempted'.
    this.awaitingHead.add(client);
    const release = () => { this.held -= buf.length; buf = Buffer.alloc(0); };
    client.once('close', () => { if (this.awaitingHead.has(client)) release(); this.endedBeforeRequest(client); });
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      this.held += d.length;
      const end = buf.indexOf('\r\n\r\n');
      const over = this.held > HELD_BUDGET;
      if (end < 0 || over) {
        if (buf.length > MAX_HEAD || over) {
          const why = over ? 'too many unfinished requests at once' : 'request head too large';
          release();
          this.awaitingHead.delete(client);
          client.off('data', onData);
          this.recordBad(why);
          this.refuse(client, over ? 503 : 431, why);
        }
        return;
      }
      this.held -= buf.length;
      this.awaitingHead.delete(client);
      client.off('data', onData);
      client.off('end', onEnd);
      client.pause();
      void this.dispatch(client, buf.subarray(0, end + 4).toString('latin1'), buf.subarray(end + 4));
    };
    const onEnd = () => client.destroy();
    client.on('data', onData);
    client.on('end', onEnd);
  }

  private refuse(client: Socket, status: number, reason: string): void {
    const text = `sbx: ${reason}\n`;
    const phrase = status === 403 ? 'Forbidden' : status === 400 ? 'Bad Request' : status === 431 ? 'Request Header Fields Too Large' : status === 503 ? 'Service Unavailable' : 'Bad Gateway';
    client.end(`HTTP/1.1 ${status} ${phrase}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\nX-Sbx-Reason: ${reason.replace(/[\r\n]/g, ' ')}\r\n\r\n${text}`);
  }

  private async dispatch(client: Socket, head: string, rest: Buffer): Promise<void> {
    const lines = head.split('\r\n');
    const [method, target, version] = (lines[0] ?? '').split(' ');
    if (!method || !target || !version?.startsWith('HTTP/')) { this.recordBad('not an HTTP proxy request'); this.refuse(client, 400, 'not an HTTP proxy request'); return; }
    if (method === 'CONNECT') {
      const t = splitHostPort(target, 443);
      if (!t) { this.recordBad('bad CONNECT target'); this.refuse(client, 400, `bad CONNECT target ${clip(target)}`); return; }
      const up = await this.open(client, t);
      if (!up) return;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      this.checkSniThenPipe(client, up, t, rest);
      return;
    }
    // The head goes to the host as sent: a line the proxy reads one way and a server another
    // (`Host : x`, a folded line, a bare LF or CR, two Host lines) could name another host
    // behind the allowed one's address. Only `NAME: value` lines pass.
    const fields = lines.slice(1).filter((l) => l !== '');
    if (!fields.every((l) => HEADER_LINE.test(l)) || fields.filter((l) => /^host:/i.test(l)).length > 1) {
      this.recordBad('a header line sbx does not read one way only');
      this.refuse(client, 400, 'malformed or repeated header line');
      return;
    }
    const hostLine = fields.find((l) => /^host:/i.test(l));
    const hostField = hostLine ? splitHostPort(hostLine.slice(5).trim(), 80) : null;
    let t: Target | null;
    let path = target;
    const abs = /^http:\/\/([^/?#]+)([^#]*)$/i.exec(target);
    if (abs) {
      t = splitHostPort(abs[1]!, 80);
      path = abs[2] || '/';
    } else t = hostField;
    if (!t || !path.startsWith('/') || (hostLine && !hostField)) { this.recordBad('no http:// URL or Host: with a host name or an IP'); this.refuse(client, 400, `cannot proxy ${clip(method)} ${clip(target)} (use http:// URLs or CONNECT)`); return; }
    // The Host: a server on a shared address picks its site by, as the TLS name is for CONNECT.
    if (hostField && !sameHost(hostField.host, t.host) && !this.allow.allows(hostField.host, t.port)) {
      this.record({ host: hostField.host, port: t.port }, false, `Host: inside a request to ${t.host}`);
      this.refuse(client, 403, `blocked ${hostField.host}:${t.port} (Host: inside a request to ${t.host}; not in --allow-net)`);
      return;
    }
    const up = await this.open(client, t);
    if (!up) return;
    // One request per connection: a second request on a kept-alive connection could name
    // another host, so the upstream is told to close after this one.
    const headers = lines.slice(1).filter((l) => l && !/^(proxy-|connection:|keep-alive:)/i.test(l));
    up.sock.write(`${method} ${path} ${version}\r\n${[...headers, 'Connection: close'].join('\r\n')}\r\n\r\n`);
    if (rest.length) up.sock.write(rest);
    this.pipe(client, up, t);
  }

  /** Decides, resolves and connects; on refusal answers the client and returns null. */
  private async open(client: Socket, t: Target): Promise<Upstream | null> {
    const entry = this.allow.allows(t.host, t.port);
    if (!entry) {
      this.record(t, false, 'not in --allow-net');
      this.refuse(client, 403, `blocked ${t.host}:${t.port} (not in --allow-net)`);
      return null;
    }
    const literal = t.host.replace(/^\[|\]$/g, '');
    let addrs: string[];
    const pinned = this.hosts.get(t.host.toLowerCase());
    const own = this.ownAddresses();
    if (ipBits(literal) && isLocalAddress(literal, own) && !this.allow.coversAddress(literal, t.port, own)) {
      this.record(t, false, 'a local address no entry names');
      this.refuse(client, 403, `blocked ${t.host}:${t.port} (a local address: allow it by itself, e.g. ${t.host}:${t.port})`);
      return null;
    }
    if (ipBits(literal)) addrs = [literal];
    else if (pinned) addrs = pinned;
    else {
      try { addrs = await this.resolveName(t.host); } catch (e) {
        this.record(t, false, 'name does not resolve');
        this.refuse(client, 502, `cannot resolve ${t.host}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
        return null;
      }
      // A name may not lead to this host's own services unless an IP entry names the address.
      // (An answer that is no plain address is dropped too: Node's lookup hands back a name
      // that isIP accepts as given, zone id and all.)
      addrs = addrs.filter((a) => ipBits(a) !== null && (!isLocalAddress(a, own) || this.allow.coversAddress(a, t.port, own)));
      if (!addrs.length) {
        this.record(t, false, 'resolves to a local address');
        this.refuse(client, 403, `blocked ${t.host}:${t.port} (resolves to a local address; allow the address itself)`);
        return null;
      }
    }
    for (const addr of addrs) {
      const up = await new Promise<Upstream | null>((resolve) => {
        // Read through `onread`: pausing it stops reading at once (the hand-off needs that),
        // which a stream's pause() does not promise.
        const u: Upstream = { sock: null as unknown as Socket, stash: [], sink: null, ended: false };
        const s = connect({
          host: addr, port: t.port, allowHalfOpen: true,
          onread: {
            buffer: Buffer.allocUnsafe(64 * 1024),
            callback: (n: number, buf: Buffer) => {
              const chunk = Buffer.from(buf.subarray(0, n));
              if (u.sink) return u.sink(chunk);
              u.stash.push(chunk);
              u.onStash?.();
              return false;
            },
          },
        });
        u.sock = s;
        s.once('end', () => { u.ended = true; });
        const timer = setTimeout(() => { s.destroy(); resolve(null); }, CONNECT_TIMEOUT_MS);
        s.once('connect', () => { clearTimeout(timer); resolve(u); });
        s.once('error', () => { clearTimeout(timer); resolve(null); });
      });
      if (up) {
        this.record(t, true, `allowed by ${entry.text}`);
        this.track(up.sock);
        return up;
      }
    }
    this.record(t, false, 'connection failed');
    this.refuse(client, 502, `cannot connect to ${t.host}:${t.port}`);
    return null;
  }

  private checkSniThenPipe(client: Socket, up: Upstream, t: Target, first: Buffer): void {
    let buf = first;
    let ended = false;
    let mine = 0;
    const release = () => { this.held -= mine; mine = 0; };
    const timer = setTimeout(() => go(), FIRST_BYTES_TIMEOUT_MS);
    const stop = () => {
      up.onStash = undefined;
      clearTimeout(timer);
      release();
      client.off('data', onData);
      client.off('end', onEnd);
    };
    const go = () => {
      stop();
      const h = readHello(buf, MAX_HEAD);
      let refused: [Target, string] | null = null;
      if (h.kind === 'hello' && h.sni !== null && h.sni.toLowerCase() !== t.host.toLowerCase() && !this.allow.allows(h.sni, t.port)) {
        refused = [{ host: isHostName(h.sni) ? h.sni : clip(h.sni), port: t.port }, `TLS name inside a CONNECT to ${t.host}`];
      } else if (h.kind === 'bad' || (h.kind === 'more' && buf.length)) {
        // A TLS start whose hello cannot be read whole (cut off, over 16 KiB, malformed):
        // its name is unknown, so it is not let through unchecked.
        refused = [t, 'a TLS hello sbx could not read'];
      }
      if (refused) {
        this.record(refused[0], false, refused[1]);
        client.destroy();
        up.sock.destroy();
        return;
      }
      if (buf.length) up.sock.write(buf);
      this.pipe(client, up, t, ended);
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      mine += d.length;
      this.held += d.length;
      if (this.held > HELD_BUDGET) {
        stop();
        this.record(t, false, 'too many unfinished requests at once');
        client.destroy();
        up.sock.destroy();
        return;
      }
      if (readHello(buf, MAX_HEAD).kind !== 'more') go();
    };
    client.once('close', release);
    // A client that ends before its hello is whole gets its decision now, not in 30 s.
    const onEnd = () => { ended = true; go(); };
    // A host that speaks first (SSH, SMTP) is answered by a client that sent nothing yet, no
    // TLS hello to wait for: its banner waited the 30 s first-bytes limit.
    up.onStash = () => { if (!buf.length) go(); };
    if (readHello(buf, MAX_HEAD).kind !== 'more' || (!buf.length && up.stash.length)) { go(); return; }
    client.on('data', onData);
    client.once('end', onEnd);
    client.resume();
  }

  /**
   * Copies both ways, and once HANDOFF_AFTER bytes went through, hands the host socket to the
   * relay inside (through the Passer: SCM_RIGHTS over this very connection), which then
   * copies between the client and the host itself: the decision and the log stay here, the bytes no
   * longer pass through Node. The order that keeps every byte in place: the socket arrives
   * among our bytes; the relay, on receiving it, ends its sending and forwards what we still
   * send; once the pass is confirmed we stop reading the host (an onread pause is immediate),
   * everything the relay had sent is forwarded to the host and, once written, our end closes:
   * only then does the relay use the host socket itself.
   */
  private pipe(client: Socket, up: Upstream, t: Target, clientEndedBefore = false): void {
    let moved = 0;
    let handing = false;
    let handed = false;
    let writing = 0;
    let clientEnded = false;
    const host = up.sock;
    const kill = () => { client.destroy(); host.destroy(); };
    client.on('error', kill);
    host.on('error', kill);
    client.on('close', () => host.destroy());
    const finish = () => {
      // Everything the relay sent us is written to the host; our copy of the host socket is
      // closed without a shutdown, so the relay's copy stays connected.
      if (writing) return;
      client.end();
      host.destroy();
    };
    let nextTry = HANDOFF_AFTER;
    /** Reading the host is stopped while a hand-off is tried (see maybeHandOff). */
    let holding = false;
    const maybeHandOff = () => {
      if (handing || handed || !this.passer || moved < nextTry || up.ended || clientEnded || client.destroyed) return;
      handing = true;
      // The socket rides on a byte of the helper's own, which needs room in the relay's socket:
      // at full speed we keep that socket full, and a pass then failed (EAGAIN) almost every
      // time. So we stop reading the host, let our queue and the socket drain into the relay
      // (the helper waits a little for room, see netrelay.c), and pass. Bytes the client sends
      // keep flowing meanwhile; the kernel never merges the helper's byte with ours, so the
      // socket arrives in order among them.
      holding = true;
      const pass = () => void this.passer!.pass(client, host).then((ok) => {
        handing = false;
        holding = false;
        if (ok === null) { kill(); return; }
        if (!ok) {
          // No room in time (a client that does not read) or the helper is gone: go on
          // through Node, try again later.
          nextTry = moved + HANDOFF_AFTER;
          if (clientEnded) host.end();
          host.resume();
          return;
        }
        handed = true;
        host.pause(); // from here on the host's bytes are the relay's to read
        this.countSpliced(t);
        if (clientEnded) finish();
      });
      if (client.writableLength > 0) client.once('drain', pass);
      else pass();
    };
    up.sink = (chunk) => {
      moved += chunk.length;
      const ok = client.write(chunk);
      if (!ok) client.once('drain', () => { if (!handed && !holding) host.resume(); });
      maybeHandOff();
      return ok && !handed && !holding;
    };
    client.on('data', (d: Buffer) => {
      moved += d.length;
      writing++;
      if (!host.write(d, () => { writing--; if (handed && clientEnded) finish(); })) {
        client.pause();
        host.once('drain', () => client.resume());
      }
      maybeHandOff();
    });
    const onClientEnd = () => {
      clientEnded = true;
      if (handed) finish();
      else if (!handing) host.end();
    };
    client.on('end', onClientEnd);
    if (clientEndedBefore) onClientEnd();
    host.on('end', () => { if (!handed) client.end(); });
    for (const chunk of up.stash) client.write(chunk);
    up.stash = [];
    host.resume();
    client.resume();
  }
}
