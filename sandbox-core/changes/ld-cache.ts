// Caches that name libraries by path, as a review reads them. /etc/ld.so.cache is the file ld.so
// looks up every library name in, so a crafted one makes every dynamically linked program
// (root's too) load a library from wherever it says, without a line of ld.so.conf or a file in
// a loader dir changed; gdk-pixbuf's and GTK's module caches do the same for the programs that
// read them. Their tools rewrite them after installs, so a written cache is ordinary when each
// library it names is where it would be looked for anyway; otherwise the review marks it.
import { readdirSync, readFileSync } from 'node:fs';

/** Bigger than any real cache (Debian's: ~35 KB for 550 libraries); a longer one is marked. */
export const MAX_LD_CACHE = 8 << 20;

const NEW_MAGIC = 'glibc-ld.so.cache1.1';
const OLD_MAGIC = 'ld.so-1.7.0';
/** struct cache_file_new's size, and its entries' (flags, key, value, osversion, hwcap). */
const NEW_HEADER = 48;
const NEW_ENTRY = 24;
/** struct cache_file (old format): magic[11], nlibs at 12; its entries: flags, key, value. */
const OLD_HEADER = 16;
const OLD_ENTRY = 12;

/**
 * The library paths a cache names, or null when it is not a cache this reader knows (then the
 * review marks it: nothing it says can be checked). Offsets are the new format's own: from its
 * header, which follows the old format's entries in a file of both (glibc's dl-cache.c).
 */
export function ldCachePaths(data: Buffer): string[] | null {
  let base = 0;
  if (data.length >= OLD_HEADER && data.toString('latin1', 0, OLD_MAGIC.length) === OLD_MAGIC) {
    const n = data.readUInt32LE(12);
    // glibc aligns the new part to its 8-byte alignment of struct cache_file_new.
    base = Math.ceil((OLD_HEADER + n * OLD_ENTRY) / 8) * 8;
  }
  if (base + NEW_HEADER > data.length || data.toString('latin1', base, base + NEW_MAGIC.length) !== NEW_MAGIC) return null;
  const n = data.readUInt32LE(base + 20);
  if (base + NEW_HEADER + n * NEW_ENTRY > data.length) return null;
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const at = base + data.readUInt32LE(base + NEW_HEADER + i * NEW_ENTRY + 8);
    const end = at < data.length ? data.indexOf(0, at) : -1;
    if (end < 0) return null;
    paths.push(data.toString('latin1', at, end));
  }
  return paths;
}

/** How hostLoaderConfDirs reads: a file's text and a dir's names, null when either cannot be had. */
export interface ConfReader {
  read(path: string): string | null;
  list(dir: string): string[] | null;
}

/** This machine's own files, as they are. */
const HOST_CONF: ConfReader = {
  read: (p) => { try { return readFileSync(p, 'latin1'); } catch { return null; } },
  list: (d) => { try { return readdirSync(d); } catch { return null; } },
};

/**
 * The dirs the host's /etc/ld.so.conf names (and the files its `include` lines match, one
 * `*` pattern each, as Debian's `include /etc/ld.so.conf.d/*.conf`): host files, not the
 * sandbox's. A conf the sandbox wrote is marked by its own rule. `fs`: how the tree that
 * stands for the host is read (an image's, through sensitive.ts's reader beneath its root).
 */
export function hostLoaderConfDirs(conf = '/etc/ld.so.conf', fs: ConfReader = HOST_CONF): Set<string> {
  const dirs = new Set<string>();
  const read = (file: string, depth: number): void => {
    const text = fs.read(file);
    if (text === null) return;
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) continue;
      const inc = /^include\s+(\S+)$/.exec(line);
      if (!inc) { if (line.startsWith('/')) dirs.add(line.replace(/\/+$/, '') || '/'); continue; }
      if (depth > 2) continue;
      const pattern = inc[1]!;
      const slash = pattern.lastIndexOf('/');
      const dir = pattern.slice(0, slash) || '/';
      const name = pattern.slice(slash + 1);
      if (!name.includes('*')) { read(pattern, depth + 1); continue; }
      const [head, tail] = [name.slice(0, name.indexOf('*')), name.slice(name.lastIndexOf('*') + 1)];
      const names = fs.list(dir)?.sort();
      if (!names) continue;
      for (const n of names) if (n.startsWith(head) && n.endsWith(tail) && n.length >= head.length + tail.length) read(`${dir}/${n}`, depth + 1);
    }
  };
  read(conf, 0);
  return dirs;
}

/**
 * Whether every library a cache names is in a dir the loader searches anyway: `standard`
 * (/lib, /usr/lib, their 64-bit and multiarch dirs), one of `confDirs`, or a glibc-hwcaps
 * subdir of either. A cache cut short, or one this reader does not know, is not.
 */
export function ldCacheHarmless(data: Buffer, cut: boolean, standard: (dir: string) => boolean, confDirs: ReadonlySet<string>): boolean {
  if (cut) return false;
  const paths = ldCachePaths(data);
  if (paths === null) return false;
  const known = (d: string): boolean => standard(d) || confDirs.has(d);
  return paths.every((p) => {
    const slash = p.lastIndexOf('/');
    if (slash <= 0 || !plainAbsolute(p)) return false;
    const dir = p.slice(0, slash);
    const hw = /^(.*)\/glibc-hwcaps\/[^/]+$/.exec(dir);
    return known(dir) || (hw !== null && known(hw[1]!));
  });
}

/**
 * Whether a module cache below the lib trees (gdk-pixbuf's loaders.cache, GTK's
 * immodules.cache, which name each module by its quoted absolute path) names libraries only
 * where `inTree` says. A cache cut short is not harmless.
 */
export function moduleCacheHarmless(data: Buffer, cut: boolean, inTree: (path: string) => boolean): boolean {
  if (cut) return false;
  for (const m of data.toString('latin1').matchAll(/"(\/[^"\n]*)"/g)) {
    const path = m[1]!;
    if (path.includes('.so') && (!inTree(path) || !plainAbsolute(path))) return false;
  }
  return true;
}

/** An absolute path with no `.` or `..` component between its slashes (a cache's library path). */
function plainAbsolute(p: string): boolean {
  return p.startsWith('/') && !p.includes('/../') && !p.includes('/./');
}
