// --only / --exclude patterns. Node 20's path.matchesGlob is experimental (prints a warning),
// so this is a small matcher of our own: `*` (within a name), `**` (across names), `?`,
// `[...]`. A pattern matches a path and everything below it, so `--exclude /home/u/.cache`
// drops the whole tree. A pattern without a leading `/` matches at any depth (`*.log`).
import { fromUser } from './bpath.js';

export interface Matcher {
  (path: string): boolean;
}

function compile(glob: string): RegExp {
  let g = fromUser(glob);
  if (!g.startsWith('/')) g = `**/${g}`;
  while (g.length > 1 && g.endsWith('/')) g = g.slice(0, -1);
  // A subtree already matches below its root, so `/usr/local/**` also names /usr/local.
  while (g.endsWith('/**')) g = g.slice(0, -3);
  if (g === '') return /^\//s;
  let re = '^';
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    if (c === '*') {
      if (g[i + 1] === '*') {
        i++;
        if (g[i + 1] === '/') { i++; re += '(?:.*/)?'; } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = g.indexOf(']', i + 2);
      if (end < 0) { re += '\\['; continue; }
      let body = g.slice(i + 1, end);
      const neg = body.startsWith('!') || body.startsWith('^');
      if (neg) body = body.slice(1);
      re += `[${neg ? '^/' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  re += '(?:/.*)?$';
  return new RegExp(re, 's');
}

/** A predicate over byte-string host paths for the given --only and --exclude lists. */
export function pathFilter(only: string[], exclude: string[]): Matcher | null {
  if (!only.length && !exclude.length) return null;
  const inc = only.map(compile);
  const exc = exclude.map(compile);
  return (p: string) => (!inc.length || inc.some((r) => r.test(p))) && !exc.some((r) => r.test(p));
}

export function globMatch(glob: string, path: string): boolean {
  return compile(glob).test(path);
}

/** One compiled pattern, for testing many paths against it. */
export function globRegExp(glob: string): RegExp {
  return compile(glob);
}
