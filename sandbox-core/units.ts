// Sizes and durations as users type them on the command line (512M, 2G, 30s, 2m, 1.5h).
// Binary multiples, as Docker and systemd read memory sizes: 1K = 1024 bytes.

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, kb: 2 ** 10, kib: 2 ** 10, m: 2 ** 20, mb: 2 ** 20, mib: 2 ** 20, g: 2 ** 30, gb: 2 ** 30, gib: 2 ** 30, t: 2 ** 40, tb: 2 ** 40, tib: 2 ** 40 };
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, '': 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** Bytes, or an Error whose message says what is accepted. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`'${text}' is not a size: use a number with K, M, G or T (binary multiples), e.g. 512M or 2G`);
  const bytes = Math.floor(Number(m[1]) * unit);
  // Past 2^53 bytes a size cannot be held exactly, nor met by any machine: said as too large,
  // where it read as not positive (bubblewrap's tests refuse 2^64 and 2^63+1 the same way).
  if (bytes > Number.MAX_SAFE_INTEGER) throw new Error(`'${text}' is too large a size (at most 8191T)`);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`'${text}' is not a positive size`);
  return bytes;
}

/** Milliseconds, or an Error whose message says what is accepted. A bare number is seconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? DURATION_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`'${text}' is not a duration: use a number with ms, s, m, h or d, e.g. 30s or 2m`);
  const ms = Math.round(Number(m[1]) * unit);
  if (ms > Number.MAX_SAFE_INTEGER) throw new Error(`'${text}' is too long a duration`);
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new Error(`'${text}' is not a positive duration`);
  return ms;
}

/** The shortest exact spelling: 134217728 -> "128M", 1536 -> "1.5K", 1000 -> "1000". */
export function formatSize(bytes: number): string {
  for (const [u, f] of [['T', 2 ** 40], ['G', 2 ** 30], ['M', 2 ** 20], ['K', 2 ** 10]] as const) {
    if (bytes >= f && (bytes / f) * 100 === Math.floor((bytes / f) * 100)) return `${bytes / f}${u}`;
  }
  return String(bytes);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

/**
 * Date#toISOString's text, from the UTC fields. toISOString itself first sets up V8's local
 * time zone (reads /etc/localtime and walks its symlinks: ~0.3 ms and a dozen syscalls here),
 * which a run that prints no local time never needs. Years 0-9999, as meta.json's times are.
 */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds(), 3)}Z`;
}
