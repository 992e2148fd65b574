// Byte-string paths: one char per byte (latin1), so names that are not valid UTF-8 survive.
import { dirname } from 'node:path';
import { UTF8 } from './charset.js';

/** Converts a byte-string path for an fs call. */
export function toFs(p: string): Buffer {
  return Buffer.from(p, 'latin1');
}

/** A path typed by the user (UTF-8 in JS) as a byte string. */
export function fromUser(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

export function joinB(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

export function parentB(p: string): string {
  return dirname(p);
}

/** The last component of a byte path (`/a/b` → `b`). */
export function nameB(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}


const PLAIN = /^[\x20-\x7e]*$/;
/**
 * Whether b[start, end) is all PLAIN bytes, no backslash and no space at its end: then display() of a path of them
 * is the path itself (the test display() starts with, on bytes, for a list printed as bytes).
 */
export function isPlainBytes(b: Uint8Array, start: number, end: number): boolean {
  for (let k = start; k < end; k++) {
    const c = b[k]!;
    if (c < 0x20 || c > 0x7e || c === 0x5c) return false;
  }
  // A path's last name: a blank at its end is escaped.
  return end === start || b[end - 1] !== 0x20;
}
// Made on first use: sbx's start-up (the entry imports terminalSafe) should not pay for it.
let strictUtf8: TextDecoder | null = null;
/** Bytes as UTF-8 text; throws on anything that is not valid UTF-8. */
export function decodeUtf8Strict(b: Uint8Array): string {
  return (strictUtf8 ??= new TextDecoder('utf-8', { fatal: true })).decode(b);
}

/** Length of the valid UTF-8 sequence starting at i, or 0. */
function utf8SeqLen(b: Buffer, i: number): number {
  const c = b[i]!;
  let n: number;
  let min: number;
  if (c >= 0xc2 && c <= 0xdf) { n = 2; min = 0x80; } else if (c >= 0xe0 && c <= 0xef) { n = 3; min = 0x800; } else if (c >= 0xf0 && c <= 0xf4) { n = 4; min = 0x10000; } else return 0;
  if (i + n > b.length) return 0;
  let cp = c & (0xff >> (n + 1));
  for (let k = 1; k < n; k++) {
    const d = b[i + k]!;
    if ((d & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (d & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

/** Characters a terminal shows as nothing (escapeChar says why). */
// Unicode's default-ignorable code points are those a renderer may show as nothing (the
// combining grapheme joiner, variation selectors, Mongolian and Khmer fillers, the Hangul
// fillers) beside the format characters; the braille blank and the Khitan filler draw nothing
// either but are not in that set.
// Made on first use, not a literal: V8 checks a literal's pattern as it compiles the file, and
// these property classes cost ~0.7 ms of every sbx start (the entry holds this module), where
// most runs never print a character beyond ASCII.
let invisible: RegExp | undefined;
const isInvisible = (ch: string): boolean =>
  (invisible ??= new RegExp('^[\\p{Cf}\\p{Zl}\\p{Zp}\\p{Default_Ignorable_Code_Point}\\u2800\\u{16fe4}]$', 'u')).test(ch);
function escapeChar(ch: string, keepBackslash = false): string {
  const cp = ch.codePointAt(0)!;
  if (ch === '\n') return '\\n';
  if (ch === '\t') return '\\t';
  if (ch === '\r') return '\\r';
  if (ch === '\\') return keepBackslash ? ch : '\\\\';
  if (cp < 0x20 || cp === 0x7f) return `\\x${cp.toString(16).padStart(2, '0')}`;
  // C1 controls and bidi overrides can repaint or reorder what the terminal shows; the other
  // format characters (zero-width spaces and joiners, bidi marks, a BOM, tags), line and
  // paragraph separators and the blank Hangul fillers are not seen at all, so a name holding
  // one would read as another (`/usr/bin/sudo\u{200b}` as the host's sudo).
  if ((cp >= 0x80 && cp <= 0x9f) || isInvisible(ch)) {
    return `\\u{${cp.toString(16)}}`;
  }
  // A terminal in a locale that is not UTF-8 (charset.ts) would show a character's bytes as
  // some other text or as nothing: the name still reads as one, `caf\u{e9}`.
  if (cp >= 0x80 && !UTF8) return `\\u{${cp.toString(16)}}`;
  return ch;
}

function escapeText(s: string): string {
  let out = '';
  for (const ch of s) out += escapeChar(ch);
  return out;
}

/**
 * Blanks at the very end of a path are seen as nothing (`/usr/bin/sudo ` reads as the host's
 * sudo): there they are escaped (`\x20`, `\u{a0}`); within a name the next character shows them.
 * Paths only: a diff line's trailing blanks (displayText) are text, shown as they are.
 */
const TRAILING_BLANKS = /\p{Zs}+$/u;
function escapeTrailingBlanks(s: string): string {
  const m = TRAILING_BLANKS.exec(s);
  if (!m) return s;
  let tail = '';
  for (const ch of m[0]) tail += ch === ' ' ? '\\x20' : `\\u{${ch.codePointAt(0)!.toString(16)}}`;
  return s.slice(0, m.index) + tail;
}

/**
 * A byte string made safe for a terminal: valid UTF-8 is shown as text, control characters
 * and invalid bytes as escapes (\n, \x1b, \xff), so no name can move the cursor or recolour.
 */
export function display(p: string): string {
  if (PLAIN.test(p) && !p.includes('\\') && !p.endsWith(' ')) return p;
  const b = toFs(p);
  try {
    return escapeTrailingBlanks(escapeText(decodeUtf8Strict(b)));
  } catch { /* invalid UTF-8: escape the bad bytes one by one */ }
  let out = '';
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    if (c < 0x80) { out += escapeChar(String.fromCharCode(c)); i++; continue; }
    const n = utf8SeqLen(b, i);
    if (n) { out += escapeText(b.subarray(i, i + n).toString('utf8')); i += n; } else { out += `\\x${c.toString(16).padStart(2, '0')}`; i++; }
  }
  return escapeTrailingBlanks(out);
}

/** Escapes text that is already a JS string (a diff line, a name from meta.json, argv) for the terminal. */
export function displayText(s: string): string {
  return PLAIN.test(s) ? s : escapeText(s);
}

/**
 * The same escaping for a whole message line that may already hold escaped values: controls,
 * C1 and bidi characters are escaped, backslashes are left alone, so it is idempotent on the
 * output of display()/displayText(). cli/output.ts applies it to every line sbx writes to
 * stderr, so a value that missed display() still cannot reach the terminal raw.
 */
export function terminalSafe(s: string): string {
  if (PLAIN.test(s)) return s;
  let out = '';
  for (const ch of s) out += escapeChar(ch, true);
  return out;
}

/** Is the byte string valid UTF-8? */
export function isUtf8(p: string): boolean {
  if (PLAIN.test(p)) return true;
  try { decodeUtf8Strict(toFs(p)); return true; } catch { return false; }
}

/** The path for JSON: the text when the bytes are UTF-8, else the escaped form (see `rawPath`). */
export function jsonPath(p: string): { path: string; rawPath?: string } {
  if (isUtf8(p)) return { path: toFs(p).toString('utf8') };
  return { path: display(p), rawPath: toFs(p).toString('base64') };
}
