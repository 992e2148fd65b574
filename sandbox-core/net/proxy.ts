// The host side of `--allow-net`: an HTTP proxy (plain requests and CONNECT) that the sandbox
// reaches only through a relay its pid 1 runs, and that decides every connection against the
// allowlist, logs it, and answers a refusal at once (403 with one line) so nothing hangs.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { AllowList, ipBits, isLocalAddress } from './allowlist.js';
import { parseSni, tlsRecordLength } from './sni.js';

const MAX_HEAD = 64 * 1024;
const CONNECT_TIMEOUT_MS = 10_000;
const FIRST_BYTES_TIMEOUT_MS = 30_000;

export interface NetDecision { host: string; port: number; allowed: boolean; reason: string; count: number }

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

function splitHostPort(s: string, defPort: number): Target | null {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s);
  if (!m) return null;
  const port = m[2] ? Number(m[2]) : defPort;
  if (!(port >= 1 && port <= 65535)) return null;
  return { host: m[1]!, port };
}

export class NetProxy {
  private server: Server | null = null;
  private readonly log = new Map<string, NetDecision>();
  private readonly sockets = new Set<Socket>();

  constructor(private readonly allow: AllowList, private readonly hosts: Map<string, string[]> = new Map()) {}

  /** Starts listening on a unix socket path. */
  async listen(path: string): Promise<void> {
    const server = createServer((s) => this.handle(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => { server.off('error', reject); resolve(); });
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
    this.server = null;
  }

  /** Every decision so far, one row per host:port and outcome, most frequent first. */
  decisions(): NetDecision[] {
    return [...this.log.values()].sort((a, b) => b.count - a.count || a.host.localeCompare(b.host));
  }

  private record(t: Target, allowed: boolean, reason: string): void {
    const key = `${allowed ? 'a' : 'b'} ${t.host.toLowerCase()}:${t.port}`;
    const d = this.log.get(key);
    if (d) d.count++;
    else this.log.set(key, { host: t.host.toLowerCase(), port: t.port, allowed, reason, count: 1 });
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
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > MAX_HEAD) { client.off('data', onData); this.refuse(client, 431, 'request head too large'); }
        return;
      }
      client.off('data', onData);
      client.pause();
      void this.dispatch(client, buf.subarray(0, end + 4).toString('latin1'), buf.subarray(end + 4));
    };
    client.on('data', onData);
  }

  private refuse(client: Socket, status: number, reason: string): void {
    const text = `sbx: ${reason}\n`;
    const phrase = status === 403 ? 'Forbidden' : status === 400 ? 'Bad Request' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Gateway';
    client.end(`HTTP/1.1 ${status} ${phrase}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\nX-Sbx-Reason: ${reason.replace(/[\r\n]/g, ' ')}\r\n\r\n${text}`);
  }

  private async dispatch(client: Socket, head: string, rest: Buffer): Promise<void> {
    const lines = head.split('\r\n');
    const [method, target, version] = (lines[0] ?? '').split(' ');
    if (!method || !target || !version?.startsWith('HTTP/')) { this.refuse(client, 400, 'not an HTTP proxy request'); return; }
    if (method === 'CONNECT') {
      const t = splitHostPort(target, 443);
      if (!t) { this.refuse(client, 400, `bad CONNECT target ${target}`); return; }
      const up = await this.open(client, t);
      if (!up) return;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      this.checkSniThenPipe(client, up, t, rest);
      return;
    }
    let t: Target | null;
    let path = target;
    const abs = /^http:\/\/([^/?#]+)([^#]*)$/i.exec(target);
    if (abs) {
      t = splitHostPort(abs[1]!, 80);
      path = abs[2] || '/';
    } else {
      const hostLine = lines.find((l) => /^host:/i.test(l));
      t = hostLine ? splitHostPort(hostLine.slice(5).trim(), 80) : null;
    }
    if (!t || !path.startsWith('/')) { this.refuse(client, 400, `cannot proxy ${method} ${target} (use http:// URLs or CONNECT)`); return; }
    const up = await this.open(client, t);
    if (!up) return;
    // One request per connection: a second request on a kept-alive connection could name
    // another host, so the upstream is told to close after this one.
    const headers = lines.slice(1).filter((l) => l && !/^(proxy-|connection:|keep-alive:)/i.test(l));
    up.write(`${method} ${path} ${version}\r\n${[...headers, 'Connection: close'].join('\r\n')}\r\n\r\n`);
    if (rest.length) up.write(rest);
    this.pipe(client, up);
  }

  /** Decides, resolves and connects; on refusal answers the client and returns null. */
  private async open(client: Socket, t: Target): Promise<Socket | null> {
    const entry = this.allow.allows(t.host, t.port);
    if (!entry) {
      this.record(t, false, 'not in --allow-net');
      this.refuse(client, 403, `blocked ${t.host}:${t.port} (not in --allow-net)`);
      return null;
    }
    const literal = t.host.replace(/^\[|\]$/g, '');
    let addrs: string[];
    const pinned = this.hosts.get(t.host.toLowerCase());
    if (ipBits(literal)) addrs = [literal];
    else if (pinned) addrs = pinned;
    else {
      try { addrs = (await lookup(t.host, { all: true })).map((a) => a.address); } catch (e) {
        this.record(t, false, 'name does not resolve');
        this.refuse(client, 502, `cannot resolve ${t.host}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
        return null;
      }
      // A name may not lead to this host's own services unless an IP entry names the address.
      addrs = addrs.filter((a) => !isLocalAddress(a) || this.allow.coversAddress(a, t.port));
      if (!addrs.length) {
        this.record(t, false, 'resolves to a local address');
        this.refuse(client, 403, `blocked ${t.host}:${t.port} (resolves to a local address; allow the address itself)`);
        return null;
      }
    }
    for (const addr of addrs) {
      const up = await new Promise<Socket | null>((resolve) => {
        const s = connect({ host: addr, port: t.port });
        const timer = setTimeout(() => { s.destroy(); resolve(null); }, CONNECT_TIMEOUT_MS);
        s.once('connect', () => { clearTimeout(timer); resolve(s); });
        s.once('error', () => { clearTimeout(timer); resolve(null); });
      });
      if (up) { this.record(t, true, `allowed by ${entry.text}`); return this.track(up); }
    }
    this.record(t, false, 'connection failed');
    this.refuse(client, 502, `cannot connect to ${t.host}:${t.port}`);
    return null;
  }

  private checkSniThenPipe(client: Socket, up: Socket, t: Target, first: Buffer): void {
    let buf = first;
    const timer = setTimeout(() => go(), FIRST_BYTES_TIMEOUT_MS);
    const go = () => {
      clearTimeout(timer);
      client.off('data', onData);
      const sni = parseSni(buf);
      if (sni && sni.toLowerCase() !== t.host.toLowerCase() && !this.allow.allows(sni, t.port)) {
        this.record({ host: sni, port: t.port }, false, `TLS name inside a CONNECT to ${t.host}`);
        client.destroy();
        up.destroy();
        return;
      }
      if (buf.length) up.write(buf);
      this.pipe(client, up);
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const need = tlsRecordLength(buf);
      if (need === 0 || buf.length >= need || buf.length > MAX_HEAD) go();
    };
    const need = tlsRecordLength(buf);
    if (buf.length && (need === 0 || buf.length >= need)) { go(); return; }
    client.on('data', onData);
    client.resume();
  }

  private pipe(client: Socket, up: Socket): void {
    // Each side's end is passed on by pipe() once what it sent is written: destroying on the
    // first 'close' would cut off data still queued for the other side.
    client.pipe(up);
    up.pipe(client);
    client.resume();
    const kill = () => { client.destroy(); up.destroy(); };
    client.on('error', kill);
    up.on('error', kill);
    client.on('close', () => up.destroy());
  }
}
