// dpkg's record of a package's files (/var/lib/dpkg/info/PKG.list), as a review reads it. dpkg
// deletes every path the record names when it removes the package, and at an upgrade every
// one the new version no longer ships: a line a command appends there (`/etc/shadow`, a host
// program, a symlink dpkg then unlinks) is a deletion that waits for the next
// unattended-upgrade, and the review listed only `modified: .../coreutils.list` (tried in a
// sandbox: `dpkg -i` of a newer version, and `dpkg -r`, deleted the files appended to it).
// dpkg writes a whole new record at each install; the lines it gains name the files a new
// version brings, which the host does not have. So a record is ordinary when each line it
// gained names nothing the host has but a dir (dpkg removes a dir only when it is empty). A
// file the sandbox also rewrote counts as the host's: its review line says nothing of the
// deletion to come; nor does dpkg spare a file another package lists too (tried: dash's
// copyright, appended to another package's record, went at that package's removal). A package
// that takes a file over from another (Replaces) is marked for that file too.
import { readlinkB, readWhole } from './content.js';
import { lstatB } from './stat.js';

/** Far above any real record (google-cloud-cli's: ~4 MB, 60k lines); a longer one is marked. */
export const MAX_DPKG_LIST = 32 << 20;
/** Symlinks followed in one path at most (the kernel's own limit). */
const MAX_LINKS = 40;

/** The lines of `now` (latin1 byte strings, without empty ones) that `before` lacks. */
export function addedLines(now: Buffer, before: Buffer | null): string[] {
  const old = new Set(before === null ? [] : before.toString('latin1').split('\n'));
  return now.toString('latin1').split('\n').filter((l) => l !== '' && !old.has(l));
}

/**
 * Where dir `d` is on the host with the host's symlinks followed, as dpkg's unlink follows them
 * (`/bin/sh` is `/usr/bin/sh` on a merged-/usr system); null when a dir on the way is missing
 * or not one. A record names each dir before what it holds, so `d`'s parent is mostly known:
 * then only its last name is looked up.
 */
function hostDir(d: string, memo: Map<string, string | null>): string | null {
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
 * follows nothing (stat.ts) and each symlink read and its target resolved in its place.
 */
function resolveDir(from: string, rel: string): string | null {
  const todo = rel.split('/').reverse();
  let cur = from;
  let links = 0;
  for (;;) {
    const name = todo.pop();
    if (name === undefined) return cur;
    if (name === '' || name === '.') continue;
    if (name === '..') { cur = cur.slice(0, cur.lastIndexOf('/')) || '/'; continue; }
    const next = cur === '/' ? `/${name}` : `${cur}/${name}`;
    const st = lstatB(next);
    if (st?.type === 'dir') { cur = next; continue; }
    if (st?.type !== 'symlink' || ++links > MAX_LINKS) return null;
    const target = readlinkB(next);
    for (const x of target.split('/').reverse()) todo.push(x);
    if (target.startsWith('/')) cur = '/';
  }
}

/**
 * Whether a record's new lines (addedLines) name nothing the host has but dirs. dpkg takes a
 * line without its leading `/` as the same path.
 */
export function listLinesHarmless(lines: string[]): boolean {
  const memo = new Map<string, string | null>();
  for (const line of lines) {
    const p = (line.startsWith('/') ? line : `/${line}`).replace(/\/+$/, '');
    const slash = p.lastIndexOf('/');
    const name = p.slice(slash + 1);
    // The root, or a name that is a dir whatever it names.
    if (name === '' || name === '.' || name === '..') continue;
    const dir = hostDir(p.slice(0, slash) || '/', memo);
    if (dir === null) continue;
    const full = dir === '/' ? `/${name}` : `${dir}/${name}`;
    const host = lstatB(full);
    if (host !== null && host.type !== 'dir') return false;
  }
  return true;
}

/**
 * Whether a record the sandbox wrote (`upper`, host path `raw`) is ordinary: read bounded from
 * the layer and from the host, no symlink followed. One that cannot be read, or is cut, is not.
 */
export function dpkgListHarmless(upper: string, raw: string): boolean {
  try {
    const now = readWhole(upper, MAX_DPKG_LIST);
    if (now === null) return false;
    const before = lstatB(raw) === null ? null : readWhole(raw, MAX_DPKG_LIST);
    return listLinesHarmless(addedLines(now, before));
  } catch {
    return false;
  }
}

