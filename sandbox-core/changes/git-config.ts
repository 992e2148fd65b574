// Whether a repository's `config` or `info/exclude`, as the sandbox left it, is what git itself
// writes and nothing more: then the `!` rule that marks them (sensitive.ts) lets it through.
// git init and every clone write both, and a review that flags them each time teaches the user
// to ignore the mark. The file is read from the layer bounded and with no symlink followed
// (content.ts); anything this parser does not understand, an include, or any key outside a
// short allowlist keeps the mark: only a file proved harmless loses it.
import { readHead } from './content.js';

/** A repository config this long is not what git wrote (a clone's is ~300 bytes). */
export const MAX_GIT_CONFIG = 64 << 10;

export interface GitConfigEntry {
  /** Lower-cased, as git compares it. */
  section: string;
  /** Case kept (`[remote "Origin"]`); a legacy `[remote.origin]` one is lower-cased, as git does; null when none. */
  sub: string | null;
  /** Lower-cased. */
  key: string;
  /** null for a key with no `=` (git's boolean true). */
  value: string | null;
}

const isAlpha = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isKeyChar = (c: string): boolean => isAlpha(c) || (c >= '0' && c <= '9') || c === '-';
// git's isspace (sane_ctype): space, \t, \n, \r; not \v or \f.
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/**
 * git-config syntax as git reads it (config.c: sections, quoted subsections, `[a.b]`, a key
 * after `]` on the same line, quoted values, escapes, `\` continuation lines, `#`/`;`
 * comments, CRLF), or null for what git would refuse or this does not follow (then flagged).
 * `text` is the file's bytes as latin1.
 */
export function parseGitConfig(text: string): GitConfigEntry[] | null {
  if (text.includes('\0')) return null;
  // git skips a UTF-8 BOM and reads \r\n as \n (get_next_char).
  let s = text.startsWith('\xef\xbb\xbf') ? text.slice(3) : text;
  s = s.replace(/\r\n/g, '\n');
  const out: GitConfigEntry[] = [];
  let section: string | null = null;
  let sub: string | null = null;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s[i]!;
    if (isSpace(c)) { i++; continue; }
    if (c === '#' || c === ';') { const e = s.indexOf('\n', i); i = e < 0 ? n : e + 1; continue; }
    if (c === '[') {
      // `[name]`, `[name "sub"]` (escapes: `\x` is x), or legacy `[name.sub]`.
      i++;
      let name = '';
      let quoted: string | null = null;
      for (;;) {
        if (i >= n) return null;
        const d = s[i++]!;
        if (d === ']') break;
        if (isSpace(d)) {
          if (d === '\n') return null;
          while (i < n && (s[i] === ' ' || s[i] === '\t')) i++;
          if (s[i] !== '"') return null;
          i++;
          quoted = '';
          for (;;) {
            if (i >= n) return null;
            let e = s[i++]!;
            if (e === '\n') return null;
            if (e === '"') break;
            if (e === '\\') { if (i >= n) return null; e = s[i++]!; if (e === '\n') return null; }
            quoted += e;
          }
          if (s[i++] !== ']') return null;
          break;
        }
        if (!isKeyChar(d) && d !== '.') return null;
        name += d.toLowerCase();
      }
      if (!name) return null;
      const dot = name.indexOf('.');
      if (quoted !== null) { if (dot >= 0) return null; section = name; sub = quoted; } else if (dot >= 0) { section = name.slice(0, dot); sub = name.slice(dot + 1); } else { section = name; sub = null; }
      continue;
    }
    if (!isAlpha(c) || section === null) return null;
    let key = '';
    while (i < n && isKeyChar(s[i]!)) key += s[i++]!.toLowerCase();
    while (i < n && (s[i] === ' ' || s[i] === '\t')) i++;
    if (i >= n || s[i] === '\n') { out.push({ section, sub, key, value: null }); i++; continue; }
    if (s[i] !== '=') return null;
    i++;
    // The value: leading blanks dropped, inner runs of blanks kept (as spaces), trailing ones
    // dropped; quotes toggle, `\` escapes or continues the line, `#`/`;` outside quotes end it.
    let value = '';
    let spaces = 0;
    let quote = false;
    for (;;) {
      if (i >= n) { if (quote) return null; break; }
      let d = s[i++]!;
      if (d === '\n') { if (quote) return null; break; }
      if (!quote && (d === ' ' || d === '\t' || d === '\r')) { if (value) spaces++; continue; }
      if (!quote && (d === ';' || d === '#')) { const e = s.indexOf('\n', i); i = e < 0 ? n : e + 1; break; }
      if (spaces) { value += ' '.repeat(spaces); spaces = 0; }
      if (d === '\\') {
        if (i >= n) return null;
        d = s[i++]!;
        if (d === '\n') continue;
        if (d === 't') value += '\t'; else if (d === 'b') value += '\b'; else if (d === 'n') value += '\n'; else if (d === '\\' || d === '"') value += d; else return null;
        continue;
      }
      if (d === '"') { quote = !quote; continue; }
      value += d;
    }
    out.push({ section, sub, key, value });
  }
  return out;
}

/** A url git would hand to a program (`<transport>::`, ext:: runs any command) or take as an option (`-`). */
const riskyUrl = (v: string | null): boolean => v !== null && (/^\s*-/.test(v) || /^[A-Za-z0-9][A-Za-z0-9+.-]*::/.test(v.trimStart()));

/**
 * What git init and clone write, and nothing that names a program, a hook dir, an include or
 * a transport: core's format and filesystem settings, a remote's url and fetch refspec, a
 * branch's upstream, the object format. Any other key (alias.*, core.hooksPath, fsmonitor,
 * sshCommand, pager, editor, *.uploadpack, filter.*, diff.*.textconv, credential.*, include,
 * includeIf, url.*.insteadOf, remote.*.pushurl, submodule.*) keeps the mark.
 */
function harmlessEntry(e: GitConfigEntry): boolean {
  switch (e.section) {
    case 'core': return e.sub === null && ['repositoryformatversion', 'filemode', 'bare', 'logallrefupdates', 'ignorecase', 'precomposeunicode', 'symlinks'].includes(e.key);
    case 'extensions': return e.sub === null && e.key === 'objectformat';
    // A branch's remote may be a url too (`git pull` fetches from it).
    case 'remote': return e.sub !== null && (e.key === 'fetch' || (e.key === 'url' && !riskyUrl(e.value)));
    case 'branch': return e.sub !== null && (e.key === 'merge' || (e.key === 'remote' && !riskyUrl(e.value)));
    default: return false;
  }
}

/** A repository config that parses and holds only allowlisted keys. */
export function harmlessGitConfig(data: Buffer, cut: boolean): boolean {
  if (cut) return false;
  const entries = parseGitConfig(data.toString('latin1'));
  return entries !== null && entries.every(harmlessEntry);
}

/** info/exclude with only comment and empty lines (git's template): it excludes nothing. */
export function harmlessExclude(data: Buffer, cut: boolean): boolean {
  if (cut) return false;
  for (const l of data.toString('latin1').split('\n')) if (l !== '' && l[0] !== '#') return false;
  return true;
}

/** Up to `limit` bytes (MAX_GIT_CONFIG) of an upper-layer file, or null when it cannot be read. */
export function readLayerFile(upper: string, limit = MAX_GIT_CONFIG): { data: Buffer; cut: boolean } | null {
  try { return readHead(upper, limit); } catch { return null; }
}
