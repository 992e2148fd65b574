// The server name a TLS client asks for (SNI), read from its ClientHello without decrypting
// anything: a CONNECT to an allowed host that then asks for another one is caught here.

/**
 * What the first bytes of a tunnel are: not TLS; the start of a ClientHello that needs more
 * bytes; a whole ClientHello and its name (null: none); or TLS that is no readable hello.
 */
export type Hello = { kind: 'not-tls' } | { kind: 'more' } | { kind: 'hello'; sni: string | null } | { kind: 'bad' };

/**
 * The ClientHello at the start of `b`, put together from as many handshake records as the
 * client split it into (TLS allows a record of one byte): reading only the first record let a
 * client hide its name in the second. More than `max` bytes of records is `bad`, as is a
 * record of another type before the hello is whole.
 */
export function readHello(b: Buffer, max: number): Hello {
  if (b.length === 0) return { kind: 'more' };
  if (b[0] !== 0x16) return { kind: 'not-tls' };
  const parts: Buffer[] = [];
  let have = 0;
  let p = 0;
  for (;;) {
    if (have >= 4) {
      const msg = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      const len = 4 + msg.readUIntBE(1, 3);
      if (len > max) return { kind: 'bad' };
      if (have >= len) return msg[0] === 1 ? helloName(msg.subarray(4, len)) : { kind: 'bad' };
    }
    if (p >= max) return { kind: 'bad' };
    if (p + 5 > b.length) return { kind: 'more' };
    if (b[p] !== 0x16) return { kind: 'bad' };
    const n = b.readUInt16BE(p + 3);
    if (p + 5 + n > b.length) return p + 5 + n > max ? { kind: 'bad' } : { kind: 'more' };
    parts.push(b.subarray(p + 5, p + 5 + n));
    have += n;
    p += 5 + n;
  }
}

/** The SNI host name of a ClientHello's body; `bad` when a length points past its end. */
function helloName(h: Buffer): Hello {
  const bad: Hello = { kind: 'bad' };
  let p = 2 + 32; // client version, random
  const skip = (lenBytes: 1 | 2): boolean => {
    if (p + lenBytes > h.length) return false;
    p += lenBytes + (lenBytes === 1 ? h[p]! : h.readUInt16BE(p));
    return p <= h.length;
  };
  if (!skip(1) || !skip(2) || !skip(1)) return bad; // session id, cipher suites, compression
  if (p === h.length) return { kind: 'hello', sni: null }; // no extensions
  if (p + 2 > h.length) return bad;
  const end = p + 2 + h.readUInt16BE(p);
  if (end > h.length) return bad;
  p += 2;
  while (p < end) {
    if (p + 4 > end) return bad;
    const type = h.readUInt16BE(p);
    const len = h.readUInt16BE(p + 2);
    p += 4;
    if (p + len > end) return bad;
    if (type === 0) {
      // server_name: a list of (type, name); servers take the one host_name (type 0).
      if (len < 2) return bad;
      let q = p + 2;
      while (q + 3 <= p + len) {
        const n = h.readUInt16BE(q + 1);
        if (q + 3 + n > p + len) return bad;
        if (h[q] === 0) return { kind: 'hello', sni: h.subarray(q + 3, q + 3 + n).toString('latin1') };
        q += 3 + n;
      }
      return bad;
    }
    p += len;
  }
  return { kind: 'hello', sni: null };
}

/** The SNI host name of a whole ClientHello at the start of `b`, null when it has none or is not one. */
export function parseSni(b: Buffer): string | null {
  const h = readHello(b, 64 * 1024);
  return h.kind === 'hello' ? h.sni : null;
}
