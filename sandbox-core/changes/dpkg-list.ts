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
// A symlink to a dir is dpkg's dir too: it unlinks one only when no other package lists it (its
// remove.c), so a new package's `/lib` line on a merged-/usr host (/lib -> usr/lib, which ~50
// packages list) deletes nothing, and one no other package lists would be unlinked.
import { layerAgainstHost, readWhole } from './content.js';
import { hostRootPath } from './fsat.js';
import { eachHostEntry, hostDir, hostEntry } from './host-path.js';
import { lstatB } from './stat.js';

/** Far above any real record (google-cloud-cli's: ~4 MB, 60k lines); a longer one is marked. */
export const MAX_DPKG_LIST = 32 << 20;

/** The lines of `now` (latin1 byte strings, without empty ones) that `before` lacks. */
export function addedLines(now: Buffer, before: Buffer | null): string[] {
  const old = new Set(before === null ? [] : before.toString('latin1').split('\n'));
  return now.toString('latin1').split('\n').filter((l) => l !== '' && !old.has(l));
}

/**
 * Whether a record's new lines (addedLines) name nothing the host has but dirs. dpkg takes a
 * line without its leading `/` as the same path.
 */
export function listLinesHarmless(lines: string[]): boolean {
  const memo = new Map<string, string | null>();
  const dirLinks: string[] = [];
  for (const line of lines) {
    const p = (line.startsWith('/') ? line : `/${line}`).replace(/\/+$/, '');
    const name = p.slice(p.lastIndexOf('/') + 1);
    // The root, or a name that is a dir whatever it names.
    if (name === '' || name === '.' || name === '..') continue;
    const full = hostEntry(p, memo);
    if (full === null) continue;
    const host = lstatB(full);
    if (host === null || host.type === 'dir') continue;
    if (host.type !== 'symlink' || hostDir(p, memo) === null) return false;
    dirLinks.push(p);
  }
  return dirLinks.length === 0 || listedByOthers(dirLinks);
}

/** dpkg's records on the host. */
const INFO_DIR = '/var/lib/dpkg/info';
/** Its entries looked at, and bytes read, at most (a host has a few thousand files and tens of MB there). */
const MAX_INFO_ENTRIES = 200_000;
const MAX_INFO_BYTES = 512 << 20;
let listed: { root: string | null; names: Map<string, boolean> } | null = null;

/**
 * Whether every one of `paths` is a line of some package's record on the host (the record the
 * sandbox wrote gained it, so its own host copy lacks it). The host's records are read once for
 * the paths not asked before; one not found within the bounds is not listed.
 */
function listedByOthers(paths: string[]): boolean {
  const root = hostRootPath();
  if (listed === null || listed.root !== root) listed = { root, names: new Map() };
  const names = listed.names;
  const ask = [...new Set(paths.filter((p) => !names.has(p)))];
  // With the root's other symlinks to dirs (a merged-/usr host's /bin, /sbin, /lib64): the next
  // record's lines are then answered without reading the records again.
  const memo = new Map<string, string | null>();
  if (ask.length) eachHostEntry('/', { left: 1000 }, (name, kind) => {
    const p = `/${name}`;
    if (kind === 'other' && !names.has(p) && !ask.includes(p) && lstatB(p)?.type === 'symlink' && hostDir(p, memo) !== null) ask.push(p);
  });
  if (ask.length) {
    const found = new Set<string>();
    const needles = ask.map((p) => Buffer.from(`\n${p}\n`, 'latin1'));
    let bytes = 0;
    eachHostEntry(INFO_DIR, { left: MAX_INFO_ENTRIES }, (name, kind) => {
      if (kind !== 'file' || !name.endsWith('.list') || found.size === ask.length || bytes > MAX_INFO_BYTES) return;
      let data: Buffer | null;
      try { data = readWhole(`${INFO_DIR}/${name}`, MAX_DPKG_LIST); } catch { data = null; }
      if (data === null) return;
      bytes += data.length;
      ask.forEach((p, k) => { if (!found.has(p) && hasLine(data, needles[k]!)) found.add(p); });
    });
    for (const p of ask) names.set(p, found.has(p));
  }
  return paths.every((p) => names.get(p) === true);
}
/** Whether `data` has the line `needle` holds between newlines (the first and the last line too, without one there). */
function hasLine(data: Buffer, needle: Buffer): boolean {
  const line = needle.subarray(1, needle.length - 1);
  if (data.includes(needle)) return true;
  const first = data.indexOf(0x0a);
  if ((first < 0 ? data : data.subarray(0, first)).equals(line)) return true;
  const last = data.lastIndexOf(0x0a);
  return last >= 0 && data.subarray(last + 1).equals(line);
}

/**
 * Whether a record the sandbox wrote (`upper`, host path `raw`) is ordinary: read bounded from
 * the layer and from the host, no symlink followed. One that cannot be read, or is cut, is not.
 */
export const dpkgListHarmless = (upper: string, raw: string): boolean =>
  layerAgainstHost(upper, raw, MAX_DPKG_LIST, (now, before) => listLinesHarmless(addedLines(now, before)));
