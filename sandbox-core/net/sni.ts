// The server name a TLS client asks for (SNI), read from its first record without decrypting
// anything: a CONNECT to an allowed host that then asks for another one is caught here.

/** Bytes needed before the first TLS record is whole, or 0 when `b` is not TLS. */
export function tlsRecordLength(b: Buffer): number {
  if (b.length < 1 || b[0] !== 0x16) return 0;
  if (b.length < 5) return 5;
  return 5 + b.readUInt16BE(3);
}

/** The SNI host name of a ClientHello record, null when it has none or is not one. */
export function parseSni(b: Buffer): string | null {
  try {
    if (b[0] !== 0x16 || b[5] !== 0x01) return null;
    let p = 5 + 4 + 2 + 32; // record header, handshake header, client version, random
    p += 1 + b[p]!; // session id
    p += 2 + b.readUInt16BE(p); // cipher suites
    p += 1 + b[p]!; // compression methods
    const end = Math.min(b.length, p + 2 + b.readUInt16BE(p));
    p += 2;
    while (p + 4 <= end) {
      const type = b.readUInt16BE(p);
      const len = b.readUInt16BE(p + 2);
      p += 4;
      if (type === 0) {
        let q = p + 2;
        while (q + 3 <= p + len) {
          const nameType = b[q]!;
          const n = b.readUInt16BE(q + 1);
          if (nameType === 0) return b.subarray(q + 3, q + 3 + n).toString('latin1');
          q += 3 + n;
        }
        return null;
      }
      p += len;
    }
  } catch { /* a short or odd record: no name */ }
  return null;
}
