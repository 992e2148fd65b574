// Reading a policy file that may be anything the user pointed at: /dev/zero, a FIFO, a 2 GB
// log, 100k nested arrays. Every policy file goes through here, so that no such input can grow
// sbx without bound or reach a recursive validator: the read stops at a size cap, and nesting
// depth is checked on the text before JSON.parse builds anything.
import { UserError } from './errors.js';
import { closeSync, fstatSync, openSync, readSync, constants } from 'node:fs';

export const POLICY_LIMITS = {
  /** Bytes in one policy file; the shipped ones are a few KiB. */
  maxBytes: 1024 * 1024,
  /** Nesting of arrays and objects; the policy formats need five or six levels. */
  maxDepth: 32,
  /** Rules in one seccomp or device policy after `extends` (and entries in the secrets list). */
  maxRules: 4096,
};

export type ReadJsonResult = { ok: true; value: unknown } | { ok: false; message: string };

/** A shipped data file as the build read it (scripts/bundle.mjs): its text, and what its parser made of it. */
export interface BakedFile<T> { text: string; value: T }

/**
 * A shipped data file, read and checked by `parse` once per process; a problem is one UserError
 * line. With `baked`, a file that still holds the text the build read is not parsed or checked
 * again: the build's result is used (a review read and checked the fold list on every run).
 */
export function shippedLoader<T>(file: () => string, parse: (value: unknown, file: string) => T, baked?: () => BakedFile<T> | null): () => T {
  let cached: T | null = null;
  return () => {
    if (cached) return cached;
    const f = file();
    const b = baked?.() ?? null;
    if (b && holdsText(f, b.text)) return (cached = b.value);
    const r = readJsonFile(f);
    if (!r.ok) throw new UserError(`${f}: ${r.message}`);
    cached = parse(r.value, f);
    return cached;
  };
}

/** Whether `file` holds exactly `text`: at most one byte more than it is read; any problem is a no (readJsonFile then says what it is). */
function holdsText(file: string, text: string): boolean {
  const want = Buffer.from(text);
  let fd: number;
  try { fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK); } catch { return false; }
  try {
    const buf = Buffer.allocUnsafe(want.length + 1);
    const len = readInto(fd, buf);
    return len === want.length && want.equals(buf.subarray(0, len));
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Reads from `fd` (at its offset) until `buf` is full or the file ends; the bytes read. */
export function readInto(fd: number, buf: Buffer): number {
  let len = 0;
  while (len < buf.length) {
    const n = readSync(fd, buf, len, buf.length - len, null);
    if (n === 0) break;
    len += n;
  }
  return len;
}

/** Reads and parses a JSON policy file within POLICY_LIMITS; problems are one line, never a throw. */
export function readJsonFile(file: string): ReadJsonResult {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer must not hang sbx.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { ok: false, message: err.code === 'ENOENT' ? 'no such file' : `cannot read: ${err.code ?? err.message}` };
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return { ok: false, message: 'is a directory, not a policy file' };
    if (!st.isFile()) return { ok: false, message: 'not a regular file (a policy is a JSON file)' };
    if (st.size > POLICY_LIMITS.maxBytes) return { ok: false, message: `too large: ${st.size} bytes (a policy file is at most ${POLICY_LIMITS.maxBytes})` };
    // The size can change under us (a file being written): read at most one byte past the cap.
    const buf = Buffer.alloc(Math.min(st.size, POLICY_LIMITS.maxBytes) + 1);
    let len: number;
    try { len = readInto(fd, buf); } catch (e) { return { ok: false, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }; }
    if (len > POLICY_LIMITS.maxBytes) return { ok: false, message: `too large: more than ${POLICY_LIMITS.maxBytes} bytes` };
    return parseJsonText(buf.subarray(0, len).toString('utf8'));
  } finally {
    closeSync(fd);
  }
}

/** JSON text to a value within POLICY_LIMITS.maxDepth, with line and column on errors. */
function parseJsonText(text: string): ReadJsonResult {
  const depth = nestingProblem(text);
  if (depth) return { ok: false, message: depth };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, message: `invalid JSON: ${jsonErrorWhere(text, (e as Error).message)}` };
  }
}

/** The first place nesting exceeds the cap, counted outside strings; invalid JSON is left to JSON.parse. */
function nestingProblem(text: string): string | null {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped char
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > POLICY_LIMITS.maxDepth) return `nested more than ${POLICY_LIMITS.maxDepth} levels deep at ${lineCol(text, i)}`;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return null;
}

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos).split('\n');
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}

/** Node reports JSON errors by character position; people want line and column. */
function jsonErrorWhere(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  const first = message.split('\n')[0]!.replace(/ in JSON at position \d+.*$/, '').replace(/^(Unexpected token .*?), ".*$/, '$1');
  if (!m) return first;
  return `${first} at ${lineCol(text, Number(m[1]))}`;
}

/** Own keys of a parsed JSON object that a policy format does not know. */
export function unknownKeys(o: object, allowed: readonly string[]): string[] {
  return Object.keys(o).filter((k) => !allowed.includes(k));
}

/** A plain JSON object (not an array, not null)? */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A field of a parsed JSON object, own properties only: `__proto__` or `constructor` never come from the prototype. */
export function own(o: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}
