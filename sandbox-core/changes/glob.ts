// --only / --exclude patterns. Node 20's path.matchesGlob is experimental (prints a warning),
// so this is a small matcher of our own: `*` (within a name), `**` (across names), `?`,
// `[...]`, `{a,b}`. A malformed pattern (`[` or `{` left open) is an error, never a literal. A pattern matches a path and everything below it, so `--exclude /home/u/.cache`
// drops the whole tree. A pattern without a leading `/` matches at any depth (`*.log`).
import { fromUser } from '../base/bpath.js';
import { SbxError } from '../base/errors.js';

/** A pattern that cannot mean what its writer meant: said in one line. */
export class GlobError extends SbxError {
  constructor(glob: string, why: string) {
    super(`'${glob}': ${why}`);
    this.name = 'GlobError';
  }
}

export interface Matcher {
  (path: string): boolean;
}

function compile(glob: string): RegExp {
  let g = fromUser(glob);
  if (g === '') throw new GlobError(glob, 'an empty pattern');
  if (!g.startsWith('/')) g = `**/${g}`;
  while (g.length > 1 && g.endsWith('/')) g = g.slice(0, -1);
  // A subtree already matches below its root, so `/usr/local/**` also names /usr/local.
  while (g.endsWith('/**')) g = g.slice(0, -3);
  if (g === '') return /^\//s;
  let re = '^';
  let braces = 0;
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    if (c === '{') { braces++; re += '(?:'; continue; }
    if (c === '}') { if (!braces) throw new GlobError(glob, "a '}' without '{'"); braces--; re += ')'; continue; }
    if (c === ',' && braces) { re += '|'; continue; }
    if (c === '*') {
      if (g[i + 1] === '*') {
        i++;
        if (g[i + 1] === '/') { i++; re += '(?:.*/)?'; } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = g.indexOf(']', i + 2);
      if (end < 0) throw new GlobError(glob, "a '[' without ']' (a literal [ is [[])");
      let body = g.slice(i + 1, end);
      const neg = body.startsWith('!') || body.startsWith('^');
      if (neg) body = body.slice(1);
      re += `[${neg ? '^/' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else re += c.replace(/[.+^$()|\\\]]/g, '\\$&');
  }
  if (braces) throw new GlobError(glob, "a '{' without '}'");
  re += '(?:/.*)?$';
  return new RegExp(re, 's');
}

function compileFlag(flag: string, glob: string): RegExp {
  try { return compile(glob); } catch (e) {
    if (e instanceof GlobError) throw new SbxError(`${flag} ${e.message}`);
    throw e;
  }
}

/** Throws the first malformed --only/--exclude pattern as one line (before anything runs). */
export function checkPatterns(only: string[], exclude: string[]): void {
  for (const g of only) compileFlag('--only', g);
  for (const g of exclude) compileFlag('--exclude', g);
}

/** One line per --only/--exclude pattern that matches none of `changes` (the unfiltered list). */
export function unmatchedPatterns(paths: Iterable<string>, only: string[], exclude: string[]): string[] {
  const pats = [...only.map((g) => ['--only', g] as const), ...exclude.map((g) => ['--exclude', g] as const)];
  if (!pats.length) return [];
  const res = pats.map(([f, g]) => compileFlag(f, g));
  const hit = res.map(() => false);
  let left = res.length;
  for (const p of paths) {
    for (let i = 0; i < res.length; i++) if (!hit[i] && res[i]!.test(p)) { hit[i] = true; left--; }
    if (!left) break;
  }
  return pats.filter((_, i) => !hit[i]).map(([f, g]) => `${f} '${g}' matches no change`);
}

/** A predicate over byte-string host paths for the given --only and --exclude lists. */
export function pathFilter(only: string[], exclude: string[]): Matcher | null {
  if (!only.length && !exclude.length) return null;
  const inc = only.map((g) => compileFlag('--only', g));
  const exc = exclude.map((g) => compileFlag('--exclude', g));
  return (p: string) => (!inc.length || inc.some((r) => r.test(p))) && !exc.some((r) => r.test(p));
}

export function globMatch(glob: string, path: string): boolean {
  return compile(glob).test(path);
}

/** One pattern as a predicate (pick mode's +GLOB); throws GlobError when malformed. */
export function globMatcher(glob: string): Matcher {
  const r = compile(glob);
  return (p) => r.test(p);
}

/**
 * The longest run of plain characters in a pattern (a byte string): every path the pattern
 * matches contains it, so a path without it is rejected without running the pattern. Null
 * when the pattern has a `[...]` or `{...}` (no run is certain) or no plain character.
 */
export function globLiteral(glob: string): string | null {
  const g = fromUser(glob);
  if (/[[\]{}]/.test(g)) return null;
  let best = '';
  for (const run of g.split(/[*?]+/)) if (run.length > best.length) best = run;
  return best || null;
}

/** One compiled pattern, for testing many paths against it. */
export function globRegExp(glob: string): RegExp {
  return compile(glob);
}
