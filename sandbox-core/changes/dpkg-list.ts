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
import { layerAgainstHost } from './content.js';
import { hostEntry } from './host-path.js';
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
  for (const line of lines) {
    const p = (line.startsWith('/') ? line : `/${line}`).replace(/\/+$/, '');
    const name = p.slice(p.lastIndexOf('/') + 1);
    // The root, or a name that is a dir whatever it names.
    if (name === '' || name === '.' || name === '..') continue;
    const full = hostEntry(p, memo);
    if (full === null) continue;
    const host = lstatB(full);
    if (host !== null && host.type !== 'dir') return false;
  }
  return true;
}

/**
 * Whether a record the sandbox wrote (`upper`, host path `raw`) is ordinary: read bounded from
 * the layer and from the host, no symlink followed. One that cannot be read, or is cut, is not.
 */
export const dpkgListHarmless = (upper: string, raw: string): boolean =>
  layerAgainstHost(upper, raw, MAX_DPKG_LIST, (now, before) => listLinesHarmless(addedLines(now, before)));
