// Node decodes argv, the environment and the working directory as UTF-8, replacing bytes that
// are not UTF-8 with U+FFFD: a file name or variable made of other bytes would reach the
// command changed. The kernel keeps the original bytes for us (/proc/self/cmdline, environ,
// cwd); where Node's string is lossy, the spec gets those bytes instead.
import { readFileSync, readlinkSync } from 'node:fs';

const LOSSY = '\uFFFD';

function splitNul(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < b.length; i++) if (b[i] === 0) { out.push(b.subarray(start, i)); start = i + 1; }
  if (start < b.length) out.push(b.subarray(start));
  return out;
}

/**
 * `args` are the last arguments of this process as Node decoded them; each lossy one is
 * replaced by its bytes from /proc/self/cmdline, provided the two line up exactly.
 */
export function rawArgs(args: string[], cmdline: () => Buffer = () => readFileSync('/proc/self/cmdline')): Array<string | Buffer> {
  if (!args.some((a) => a.includes(LOSSY))) return args;
  let parts: Buffer[];
  try { parts = splitNul(cmdline()); } catch { return args; }
  if (parts.length < args.length) return args;
  const tail = parts.slice(parts.length - args.length);
  if (!tail.every((b, i) => b.toString('utf8') === args[i])) return args;
  return args.map((a, i) => (a.includes(LOSSY) ? tail[i]! : a));
}

/** The original bytes of environment entries ("NAME=value") whose decoding was lossy, by decoded entry. */
function rawEnvEntries(environ: () => Buffer = () => readFileSync('/proc/self/environ')): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  let parts: Buffer[];
  try { parts = splitNul(environ()); } catch { return m; }
  for (const p of parts) {
    const s = p.toString('utf8');
    if (s.includes(LOSSY)) m.set(s, p);
  }
  return m;
}

/** Entries for the spec: each lossy one as its original bytes, when this process started with it. */
export function rawEnv(entries: string[], environ?: () => Buffer): Array<string | Buffer> {
  if (!entries.some((e) => e.includes(LOSSY))) return entries;
  const raw = rawEnvEntries(environ);
  return entries.map((e) => raw.get(e) ?? e);
}

/** The working directory's bytes when its decoded form is lossy. */
export function rawCwd(cwd: string, link: () => Buffer = () => readlinkSync('/proc/self/cwd', { encoding: 'buffer' })): string | Buffer {
  if (!cwd.includes(LOSSY)) return cwd;
  try {
    const b = link();
    return b.toString('utf8') === cwd ? b : cwd;
  } catch { return cwd; }
}
