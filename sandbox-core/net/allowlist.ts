// `--allow-net` entries and the decision for one connection: a host name (exact or `*.`
// wildcard), an IP literal or a CIDR, each with an optional port.
import { isIP } from 'node:net';
import { SbxError } from '../base/errors.js';
import { displayText } from '../base/bpath.js';

export type AllowEntry =
  | { kind: 'name'; name: string; wildcard: boolean; port: number | null; text: string }
  /** `address`: the entry's IP or CIDR as written, without brackets and port (for NO_PROXY). */
  | { kind: 'cidr'; family: 4 | 6; bits: bigint; prefix: number; port: number | null; address: string; text: string };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function bad(text: string, why: string): SbxError {
  return new SbxError(`invalid --allow-net entry '${displayText(text)}': ${why}`, 125, 'give HOST, *.DOMAIN, an IP or a CIDR, each with an optional :PORT');
}

function parsePort(text: string, s: string): number {
  if (!/^\d{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) throw bad(text, `port '${s}' is not 1-65535`);
  return Number(s);
}

/**
 * An address as a 32- or 128-bit integer; null for anything else. An IPv6 zone id
 * (`::1%lo`) is not an address here: Node's isIP accepts one (any letters, digits, dots and
 * colons), Node connects to the part before the `%`, and reading the groups through it let
 * `[0:0:0:0:0:0:0:1%a:2001:db8:0:0:0:0:0:5]` pass as 2001:db8::5 and reach the host's ::1.
 */
export function ipBits(ip: string): { family: 4 | 6; bits: bigint } | null {
  const fam = isIP(ip);
  if (fam === 4) return { family: 4, bits: ip.split('.').reduce((a, o) => (a << 8n) | BigInt(Number(o)), 0n) };
  if (fam !== 6 || ip.includes('%')) return null;
  let s = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = ipBits(v4[1]!)!.bits;
    s = s.slice(0, -v4[1]!.length) + `${(b >> 16n).toString(16)}:${(b & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') as [string, string] : [s, null];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === null ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return { family: 6, bits: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

export function parseAllowEntry(text: string): AllowEntry {
  let host = text.trim();
  let port: number | null = null;
  if (!host) throw bad(text, 'empty');
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(host);
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2] !== undefined) port = parsePort(text, bracket[2]);
  } else if ((host.match(/:/g) ?? []).length === 1) {
    const i = host.lastIndexOf(':');
    port = parsePort(text, host.slice(i + 1));
    host = host.slice(0, i);
  }
  const slash = host.indexOf('/');
  const addr = slash >= 0 ? host.slice(0, slash) : host;
  const ip = ipBits(addr);
  if (ip) {
    const max = ip.family === 4 ? 32 : 128;
    const prefix = slash >= 0 ? Number(host.slice(slash + 1)) : max;
    if (slash >= 0 && (!/^\d{1,3}$/.test(host.slice(slash + 1)) || prefix > max)) throw bad(text, `prefix must be 0-${max}`);
    const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(max - prefix);
    return { kind: 'cidr', family: ip.family, bits: ip.bits & mask, prefix, port, address: host, text };
  }
  if (slash >= 0) throw bad(text, 'a prefix needs an IP address');
  const wildcard = host.startsWith('*.');
  const name = (wildcard ? host.slice(2) : host).toLowerCase().replace(/\.$/, '');
  if (name.length > 253 || !name.split('.').every((l) => LABEL.test(l))) throw bad(text, 'not a host name');
  return { kind: 'name', name, wildcard, port, text };
}

function inCidr(e: Extract<AllowEntry, { kind: 'cidr' }>, ip: string): boolean {
  const b = ipBits(ip);
  if (!b || b.family !== e.family) return false;
  const max = e.family === 4 ? 32 : 128;
  const mask = e.prefix === 0 ? 0n : ((1n << BigInt(e.prefix)) - 1n) << BigInt(max - e.prefix);
  return (b.bits & mask) === e.bits;
}

const TARGET_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;

/**
 * Is `host` shaped like a DNS name (labels of letters, digits, `-` and `_`, an optional final
 * dot)? What a client asks the proxy for is either this or an IP literal; `%`, `:`, `@`,
 * spaces and controls are neither, and a name that long is not one either.
 */
export function isHostName(host: string): boolean {
  const h = host.endsWith('.') ? host.slice(0, -1) : host;
  return h.length > 0 && h.length <= 253 && h.split('.').every((l) => TARGET_LABEL.test(l));
}

/** Does a name entry cover the host name asked for? `*.example.com` covers sub-domains only. */
export function nameMatches(e: Extract<AllowEntry, { kind: 'name' }>, host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return e.wildcard ? h.endsWith(`.${e.name}`) : h === e.name;
}

export class AllowList {
  constructor(readonly entries: AllowEntry[]) {}

  static parse(texts: string[]): AllowList {
    return new AllowList(texts.map(parseAllowEntry));
  }

  /**
   * The entry that allows `host` (a name or an IP literal) on `port`, or null. Anything that
   * is neither (`::1%x.example.com`, which Node's lookup and connect take for `::1`) is null.
   */
  allows(host: string, port: number): AllowEntry | null {
    const literal = ipBits(host.replace(/^\[|\]$/g, '')) !== null;
    if (!literal && !isHostName(host)) return null;
    for (const e of this.entries) {
      if (e.port !== null && e.port !== port) continue;
      if (e.kind === 'name' ? !literal && nameMatches(e, host) : literal && inCidr(e, host.replace(/^\[|\]$/g, ''))) return e;
    }
    return null;
  }

  /** Does an IP or CIDR entry name a loopback address (the host's own services)? */
  namesLoopback(): boolean {
    return this.coversAddress('127.0.0.1', null) || this.coversAddress('::1', null);
  }

  /** The IP and CIDR entries without their ports, for NO_PROXY (curl reads CIDRs there). */
  addressEntries(): string[] {
    return this.entries.flatMap((e) => e.kind === 'cidr' ? [e.address] : []);
  }

  /**
   * Is `ip` named by an IP or CIDR entry (on `port`, or on every port when null)? A loopback, unspecified,
   * link-local or metadata address only by an entry that lies inside that block
   * (`127.0.0.1:8080`, `127.0.0.0/8`, `[::1]`): `0.0.0.0/0` or `::/0`, written to mean "the
   * internet", opened the host's loopback services and 169.254.169.254 through the proxy and
   * the direct path (and `::/0` the host's IPv4 loopback as `::ffff:127.0.0.1`). One of the
   * host's interface addresses (`own`) only by an entry of that one address: a block around
   * it (`0.0.0.0/0`, the host's own /24) reached a host service listening on 0.0.0.0.
   */
  coversAddress(ip: string, port: number | null, own: readonly string[] = []): boolean {
    const local = isLocalAddress(ip);
    const hosts = !local && own.length > 0 && isLocalAddress(ip, own);
    return this.entries.some((e) => e.kind === 'cidr' && (e.port === null || port === null || e.port === port) && inCidr(e, ip)
      && (!local || insideLocalBlock(e)) && (!hosts || e.prefix === (e.family === 4 ? 32 : 128)));
  }
}

/**
 * Addresses on this host or its link (loopback, link-local, cloud metadata, and `own`: the
 * addresses of the host's interfaces): a name that resolves to one is refused unless an IP
 * entry names it, so a wildcard's DNS cannot point the proxy at the host's own services. The
 * interfaces' addresses count because a service listening on 0.0.0.0 answers on each of them
 * from this host, firewall or not (here eth0's 192.0.2.2 reached a host port 2024).
 */
export function isLocalAddress(ip: string, own: readonly string[] = []): boolean {
  const b = ipBits(ip);
  if (!b) return false;
  const v4 = v4Of(b);
  if (v4 !== null && ((v4 >> 24n) === 127n || (v4 >> 16n) === 0xa9fen || v4 === 0n)) return true;
  if (v4 === null && (b.bits === 1n || b.bits === 0n || (b.bits >> 118n) === 0x3fan)) return true; // ::1, ::, fe80::/10
  const key = v4 ?? b.bits;
  return own.some((o) => {
    const ob = ipBits(o);
    return ob !== null && (v4 !== null) === (v4Of(ob) !== null) && (v4Of(ob) ?? ob.bits) === key;
  });
}

/** The local blocks (isLocalAddress without the host's interfaces) as [family, address, prefix]. */
const LOCAL_BLOCKS: [4 | 6, string, number][] = [
  [4, '127.0.0.0', 8], [4, '169.254.0.0', 16], [4, '0.0.0.0', 32],
  [6, '::1', 128], [6, '::', 128], [6, 'fe80::', 10],
  [6, '::ffff:127.0.0.0', 104], [6, '::ffff:169.254.0.0', 112], [6, '::ffff:0.0.0.0', 128],
];

/** Does every address of a CIDR entry lie in one local block? */
function insideLocalBlock(e: Extract<AllowEntry, { kind: 'cidr' }>): boolean {
  const max = e.family === 4 ? 32 : 128;
  return LOCAL_BLOCKS.some(([fam, addr, prefix]) => {
    if (fam !== e.family || e.prefix < prefix) return false;
    const shift = BigInt(max - prefix);
    return (e.bits >> shift) === (ipBits(addr)!.bits >> shift);
  });
}

/** 127/8, ::1 (also v4-mapped) and the unspecified addresses, which connect(2) takes for loopback. */
export function isLoopbackOrUnspecified(ip: string): boolean {
  const b = ipBits(ip);
  if (!b) return false;
  const v4 = v4Of(b);
  if (v4 !== null) return (v4 >> 24n) === 127n || v4 === 0n;
  return b.bits === 1n || b.bits === 0n;
}

/** The IPv4 address of a v4 or v4-mapped (::ffff:a.b.c.d) address, else null. */
function v4Of(b: { family: 4 | 6; bits: bigint }): bigint | null {
  if (b.family === 4) return b.bits;
  return (b.bits >> 32n) === 0xffffn ? b.bits & 0xffffffffn : null;
}
