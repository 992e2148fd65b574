// fuse-overlayfs reads the host as the user, so it cannot copy up (or delete) a file the user
// cannot read. Package managers lock with empty root-only files (dpkg's lock is 0640), and
// would fail inside an unprivileged sandbox for that alone. An empty file has no content to
// protect: sbx copies such files of the package managers' state directories into the layer
// beforehand, with the host's mode and times, so they are no change unless the command
// changes them. The layer is resolved through beneath.ts: where an earlier run in the sandbox
// turned one of these directories into a symlink, nothing is copied there.
//
// The copies keep the host's times of the moment they were made, and the host's package
// manager moves those times whenever it takes its locks (dpkg opens them O_TRUNC). So each
// copy's identity in the layer (inode, ctime) is recorded in meta.json: while it is the same,
// the command never wrote, chmod-ed, renamed or replaced it, and the review does not list it
// (changes/walk.ts), whatever the host did to its own file meanwhile.
//
// The account databases are the one case of content shown empty: /etc/shadow and /etc/gshadow
// are root's (0640, group shadow), so every adduser, useradd, groupadd or systemd-sysusers (a
// daemon package's postinst) failed inside ("cannot open /etc/gshadow"). Shown empty they hold
// no host secret, and what a tool adds has its line there as under root; an account that was
// there before has no shadow line inside, which refuses a password as the unreadable file did.
// Their copies are hidden paths (meta.hidden): a review never lists them and a commit never
// writes them, even under sudo, where the sandbox's few lines would replace the host's file.
// apt's root-only log is shown empty and hidden the same way (LOG_FILES).
import { accessSync, closeSync, constants, fchmodSync, fstatSync, lstatSync, openSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { ensureUpperDirs, LayerTimes, type UpperEntries } from './layer-dirs.js';
import { basename, dirname, join, relative } from 'node:path';
import { Dir, NotBeneathError } from './beneath.js';
import { isWithin } from './base/within.js';
import { exactTimes } from './base/dir-stat.js';
import { keptStamp, stamp, stampCacheFile, writeStampCache } from './stamp-cache.js';
import { throughFuse, upperOf, type Layer, type PrecopiedFile } from './types.js';

export const PRECOPY_DIRS = [
  '/var/lib/dpkg', '/var/lib/dpkg/triggers', '/var/lib/apt/lists', '/var/cache/apt/archives',
  '/var/cache/debconf', '/var/lib/rpm', '/var/lib/pacman',
];

/** Root-only files of the account databases, shown empty when this user cannot read them (see above). */
export const ACCOUNT_FILES = ['/etc/.pwd.lock', '/etc/shadow', '/etc/gshadow', '/etc/shadow-', '/etc/gshadow-'];
/**
 * Root-only logs a package manager appends to: apt's transcript of dpkg's output (0640, group
 * adm), which every unprivileged `apt-get install` failed to open ("W: Could not open file
 * '/var/log/apt/term.log' - OpenLog (13: Permission denied)", and sbx explained the line).
 * Shown empty and hidden as the account files are, and said nothing of: what the sandbox
 * appends is its own run's transcript, which a commit has no host content to add it to.
 */
export const LOG_FILES = ['/var/log/apt/term.log'];
/** Every root-only file shown empty and hidden: the account databases and those logs. */
export const HIDDEN_COPIES = [...ACCOUNT_FILES, ...LOG_FILES];

function readable(path: string): boolean {
  try { accessSync(path, constants.R_OK); return true; } catch { return false; }
}

/** Where the names found last time are kept: sbx's cache dir (never the store); null without one. */
export function precopyCacheFile(env: NodeJS.ProcessEnv = process.env): string | null {
  return stampCacheFile('precopy-files.json', env);
}

/** Per directory: its stamp (mtime, ctime) when it was listed, and the names found then. */
interface FoundCache { v: 1; key: string; dirs: Array<[string, number, number, string[]]> }

function readFound(cacheFile: string | null, key: string): FoundCache['dirs'] {
  if (!cacheFile) return [];
  try {
    const c = JSON.parse(readFileSync(cacheFile, 'utf8')) as FoundCache;
    return c.v === 1 && c.key === key && Array.isArray(c.dirs) ? c.dirs : [];
  } catch {
    return [];
  }
}

/** A plain name of a directory's entry (the cache is only a hint: anything else is dropped). */
const plainName = (n: unknown): n is string => typeof n === 'string' && n !== '' && n !== '.' && n !== '..' && !n.includes('/') && !n.includes('\0');

/**
 * The empty regular files of each directory that this user cannot read. Finding them takes an
 * lstat of every entry (apt keeps its downloaded packages in /var/cache/apt/archives: 1,662
 * here, ~20 ms of every unprivileged run), yet what makes a file one of them rarely changes
 * without its directory changing too: a package manager creates its lock files (the
 * directory's mtime moves). So while a directory's stamp is what it was when it was last
 * listed, only the names found then are looked at again (each checked before it is used). A
 * file emptied and made unreadable in place is found once its directory next changes; until
 * then it is not copied, as before sbx copied any.
 */
export function findEmptyUnreadable(dirs: string[], cacheFile: string | null, canRead: (p: string) => boolean = readable): Map<string, Array<{ name: string; st: Stats }>> {
  const key = JSON.stringify([process.getuid?.(), process.getgroups?.()]);
  const before = readFound(cacheFile, key);
  const after: FoundCache['dirs'] = [];
  let changed = false;
  const out = new Map<string, Array<{ name: string; st: Stats }>>();
  for (const dir of dirs) {
    // Stamped before it is listed: a change made meanwhile shows as a new stamp next time.
    const now = Date.now();
    const s = stamp(dir);
    if (!s) continue;
    const known = before.find((d) => Array.isArray(d) && d[0] === dir && d[1] === s[0] && d[2] === s[1] && Array.isArray(d[3]));
    let names: string[];
    if (known) names = known[3].filter(plainName);
    else {
      changed = true;
      try { names = readdirSync(dir); } catch { continue; }
    }
    const found = names.flatMap((name) => {
      const host = join(dir, name);
      const st = lstatSync(host, { throwIfNoEntry: false });
      return st && st.isFile() && st.size === 0 && !canRead(host) ? [{ name, st }] : [];
    });
    after.push(known ? [dir, s[0], s[1], names] : [dir, ...keptStamp(s, now), found.map((f) => f.name)]);
    if (found.length) out.set(dir, found);
  }
  if (cacheFile && changed) writeStampCache(cacheFile, { v: 1, key, dirs: after } satisfies FoundCache);
  return out;
}

/** The regular files of `files` this user cannot read, by directory, as findEmptyUnreadable answers. */
export function findUnreadableFiles(files: string[], canRead: (p: string) => boolean = readable): Map<string, Array<{ name: string; st: Stats }>> {
  const out = new Map<string, Array<{ name: string; st: Stats }>>();
  for (const path of files) {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st?.isFile() || canRead(path)) continue;
    const dir = dirname(path);
    out.set(dir, [...out.get(dir) ?? [], { name: basename(path), st }]);
  }
  return out;
}

/** The fuse layers, and the files of theirs to copy, by host directory. */
function toPrecopy(layerList: Layer[], dirs: string[], cacheFile: () => string | null, canRead: (p: string) => boolean, files: string[]): { fuse: Layer[]; found: Map<string, Array<{ name: string; st: Stats }>> } {
  const fuse = layerList.filter(throughFuse);
  const inFuse = dirs.filter((dir) => fuse.some((l) => isWithin(dir, l.target)));
  const filesInFuse = files.filter((path) => fuse.some((l) => isWithin(path, l.target)));
  if (!inFuse.length && !filesInFuse.length) return { fuse, found: new Map() };
  const found = inFuse.length ? findEmptyUnreadable(inFuse, cacheFile(), canRead) : new Map<string, Array<{ name: string; st: Stats }>>();
  for (const [dir, more] of findUnreadableFiles(filesInFuse, canRead)) found.set(dir, [...(found.get(dir) ?? []).filter((f) => !more.some((m) => m.name === f.name)), ...more]);
  return { fuse, found };
}

/**
 * The copies precopyEmptyUnreadable would make, listed for the helper instead (`into`), each
 * flagged `report`: the helper says each one's inode and ctime once made (LaunchResult's
 * `entriesMade`), which the review needs (`meta.precopied`). Returns each copy's host path and
 * its path below the layers dir.
 */
export function precopyEntries(layerList: Layer[], into: UpperEntries, dirs = PRECOPY_DIRS, cacheFile: () => string | null = precopyCacheFile, canRead: (p: string) => boolean = readable, files = ACCOUNT_FILES): Array<[host: string, rel: string]> {
  const { fuse, found } = toPrecopy(layerList, dirs, cacheFile, canRead, files);
  const made: Array<[string, string]> = [];
  for (const layer of fuse) {
    for (const [dir, todo] of found) {
      if (!isWithin(dir, layer.target)) continue;
      into.dirs(layer, dir);
      for (const { name, st } of todo) {
        const host = join(dir, name);
        const rel = into.at(layer, host);
        if (into.has(rel)) continue;
        // Gone since it was found: nothing to copy.
        let times;
        try { times = exactTimes(host); } catch { continue; }
        into.add('file', rel, st.mode, times, ['report']);
        made.push([host, rel]);
      }
    }
  }
  return made;
}

/**
 * Returns the copies made: host path, inode and ctime (ms, as Node and the scan compute it) of
 * each in the layer. `layers` is the open directory holding the layer dirs. The copies' times
 * (and their new parents') go to `times`; each ctime is read once they are set (`times.then`),
 * so the records are complete only after `times.flush`. Without `times` they are set here.
 */
export function precopyEmptyUnreadable(layerList: Layer[], layers: Dir, dirs = PRECOPY_DIRS, cacheFile: () => string | null = precopyCacheFile, canRead: (p: string) => boolean = readable, files = ACCOUNT_FILES, times?: LayerTimes): PrecopiedFile[] {
  const { fuse, found } = toPrecopy(layerList, dirs, cacheFile, canRead, files);
  const made: PrecopiedFile[] = [];
  const to = times ?? new LayerTimes();
  // Each copy's dir below the layers dir and its name, for the ctime once its times are set.
  const where: Array<[string, string]> = [];
  for (const layer of fuse) {
    for (const dir of found.keys()) {
      if (!isWithin(dir, layer.target)) continue;
      const todo = found.get(dir);
      if (!todo) continue;
      let upper: Dir | null = null, parent: Dir | null = null;
      try {
        upper = Dir.openBeneath(layers, upperOf(layer));
        parent = ensureUpperDirs(upper, layer.target, dir, { to, upperRel: upperOf(layer) });
      } catch (e) {
        upper?.close();
        if (e instanceof NotBeneathError) continue; // the sandbox replaced this directory: nothing of the host's shows there
        throw e;
      }
      const rel = join(upperOf(layer), relative(layer.target, dir));
      try {
        for (const { name, st } of todo) {
          if (parent.lstat(name)) continue;
          let times;
          try { times = exactTimes(join(dir, name)); } catch { continue; }
          const fd = openSync(parent.at(name), constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
          try {
            fchmodSync(fd, st.mode & 0o7777);
            const own = fstatSync(fd);
            made.push([join(dir, name), own.ino, own.ctimeMs]);
          } finally {
            closeSync(fd);
          }
          to.add(parent, rel, name, times);
          where.push([rel, name]);
        }
      } finally {
        if (parent !== upper) parent.close();
        upper.close();
      }
    }
  }
  // Last: setting the times moved the ctime the review knows an unwritten copy by.
  to.then((top) => made.forEach((m, i) => {
    const [rel, name] = where[i]!;
    const d = Dir.openBeneath(top, rel);
    try {
      const st = d.lstat(name);
      if (st && st.ino === m[1]) m[2] = st.ctimeMs;
    } finally { d.close(); }
  }));
  if (!times) to.flush(layers);
  return made;
}

/**
 * The account files among `made` whose copy in the layer is no longer the one sbx made (the
 * command wrote, replaced or removed it): what the review leaves out. `layers` is the open
 * directory holding the layer dirs.
 */
export function changedAccountCopies(layerList: Layer[], layers: Dir, made: PrecopiedFile[], files = ACCOUNT_FILES): string[] {
  const out: string[] = [];
  for (const [path, ino, ctimeMs] of made) {
    if (!files.includes(path)) continue;
    const layer = layerList.find((l) => throughFuse(l) && isWithin(path, l.target));
    if (!layer) continue;
    let dir: Dir | null = null;
    try {
      dir = Dir.openBeneath(layers, join(upperOf(layer), relative(layer.target, dirname(path))));
      const st = dir.lstat(basename(path));
      if (!st || st.ino !== ino || st.ctimeMs !== ctimeMs) out.push(path);
    } catch {
      out.push(path); // the command replaced its directory
    } finally {
      dir?.close();
    }
  }
  return out;
}
