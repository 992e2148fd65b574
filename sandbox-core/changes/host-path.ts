// Host paths as a program of the host would find them: the host's own symlinks in the dirs on
// the way followed (a merged-/usr system's /bin is /usr/bin), each name one lstat that follows
// nothing (stat.ts) and each symlink read and its target walked in its place, iteratively. For
// paths the host's own records name (dpkg's file lists, cron's tables, systemd's units): the
// change list names entries by where they are.
import { opendirSync, type Dir } from 'node:fs';
import { readlinkB } from './content.js';
import { dirAt } from './fsat.js';
import { lstatB } from './stat.js';

/** Symlinks followed in one path at most (the kernel's own limit). */
const MAX_LINKS = 40;

/**
 * Where dir `d` is on the host with the host's symlinks followed; null when a dir on the way is
 * missing or not one. `memo` keeps each dir asked: a record names each dir before what it
 * holds, so `d`'s parent is mostly known, and then only its last name is looked up.
 */
export function hostDir(d: string, memo: Map<string, string | null>): string | null {
  const hit = memo.get(d);
  if (hit !== undefined) return hit;
  const slash = d.lastIndexOf('/');
  const parent = slash > 0 ? memo.get(d.slice(0, slash)) : undefined;
  const out = parent === undefined ? resolveDir('/', d) : parent === null ? null : resolveDir(parent, d.slice(slash + 1));
  memo.set(d, out);
  return out;
}

/**
 * `rel` resolved as a dir from the real dir `from`, iteratively, each name one lstat that
 * follows nothing (stat.ts) and each symlink read and its target resolved in its place. Names
 * are taken one at a time from the text (a hostile record's line of a million names that
 * stops at its first missing one costs that one lookup, not a split of all of them).
 */
function resolveDir(from: string, rel: string): string | null {
  const todo: Array<{ text: string; at: number }> = [{ text: rel, at: 0 }];
  let cur = from;
  let links = 0;
  while (todo.length) {
    const top = todo[todo.length - 1]!;
    if (top.at > top.text.length) { todo.pop(); continue; }
    let end = top.text.indexOf('/', top.at);
    if (end < 0) end = top.text.length;
    const name = top.text.slice(top.at, end);
    top.at = end + 1;
    if (name === '' || name === '.') continue;
    if (name === '..') { cur = cur.slice(0, cur.lastIndexOf('/')) || '/'; continue; }
    const next = cur === '/' ? `/${name}` : `${cur}/${name}`;
    const st = lstatB(next);
    if (st?.type === 'dir') { cur = next; continue; }
    if (st?.type !== 'symlink' || ++links > MAX_LINKS) return null;
    const target = readlinkB(next);
    todo.push({ text: target, at: 0 });
    if (target.startsWith('/')) cur = '/';
  }
  return cur;
}

/** `p` with the dirs on its way resolved (hostDir), its last name kept; null when a dir on the way is missing or not one. */
export function hostEntry(p: string, memo: Map<string, string | null>): string | null {
  const slash = p.lastIndexOf('/');
  const dir = hostDir(p.slice(0, slash) || '/', memo);
  return dir === null ? null : dir === '/' ? `/${p.slice(slash + 1)}` : `${dir}/${p.slice(slash + 1)}`;
}

/**
 * Each entry of host dir `dir` (latin1 names, no symlink followed on the way), read lazily as
 * far as `budget.left` goes, each entry looked at taking one: a dir of a million entries is not
 * listed whole. A dir that cannot be opened has none; one that went away meanwhile, what was read.
 */
export function eachHostEntry(dir: string, budget: { left: number }, visit: (name: string, kind: 'file' | 'dir' | 'other') => void): void {
  let listing: Dir;
  try { listing = opendirSync(dirAt(dir).self(), { encoding: 'latin1' as BufferEncoding }); } catch { return; }
  try {
    for (let e = listing.readSync(); e !== null && budget.left > 0; e = listing.readSync()) {
      budget.left--;
      visit(e.name, e.isFile() ? 'file' : e.isDirectory() ? 'dir' : 'other');
    }
  } catch { /* a dir that went away meanwhile: what was read */ } finally { listing.closeSync(); }
}
