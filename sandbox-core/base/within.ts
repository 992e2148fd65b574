// Path containment on absolute paths (strings, or latin1 byte strings: one char per byte),
// without touching the filesystem. The one place that knows "/a/bc" is not inside "/a/b".

/** Is `p` equal to `dir` or inside it? */
export function isWithin(p: string, dir: string): boolean {
  if (dir === '/') return p.startsWith('/');
  return p === dir || p.startsWith(dir + '/');
}

/** Is `p` strictly inside `dir`? */
export function isBelow(p: string, dir: string): boolean {
  return p !== dir && isWithin(p, dir);
}
