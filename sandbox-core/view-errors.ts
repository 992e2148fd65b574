// After a run: which of the command's own "Read-only file system" / "Permission denied" lines
// were caused by sbx's view, and why. The helper hands back the lines it saw in the output it
// relays (the command's pty, or a relayed stdout/stderr: native/errlines.c); here each path such a
// line names is checked against what the view made read-only or unwritable, using facts about
// this run and the host (never a guess from the text alone). A path that no part of the view
// explains is left alone: the host would have refused it as well, or sbx cannot tell.
import { accessSync, constants, lstatSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { isWithin } from './base/within.js';
import { nameOfUid } from './base/user-name.js';
import { shiftedGid, shiftedUid, type IdShift } from './idmap.js';
import { inRanges } from './stdio.js';

/** glibc's texts for EROFS, EACCES, EPERM and EOVERFLOW: what the helper looks for (spec op scan_output). */
export const SCANNED_TEXTS = ['Read-only file system', 'Permission denied', 'Operation not permitted', 'Value too large for defined data type'];

/**
 * git's check after it hard-links a local clone's objects (`fatal: hardlink different from
 * source at 'PATH'`): link(2) succeeded, but the new name's lstat shows another inode than the
 * source's. In a kernel overlay a link to a file that came from the host reports the upper
 * inode, the file itself the host's (docs/architecture.md "What still differs").
 */
export const LINK_TEXT = 'hardlink different from source';
const LINK_WHY = "a local git clone hard-links the source's objects, and in the sandbox's overlay a new link to a file from the host shows another inode than that file: clone with --no-hardlinks (or a file:// URL)";

export interface ViewFacts {
  /** `--ro-bind` destinations. */
  roBinds: string[];
  /** Files beside mounts bound read-only (too big to copy, or unreadable). */
  roFiles: string[];
  /** Files the host has a mount on (a bind of one file, as containers have on /etc/hosts), bound read-only. */
  mountedFiles: string[];
  /** Mounts that could not be overlaid and were bound read-only. */
  fallbacks: string[];
  /** Targets of fuse-overlayfs layers (an ordinary user's system trees). */
  fuseTrees: string[];
  /** An ordinary user without fuse-overlayfs: root's files cannot be changed inside. */
  noFuse: boolean;
  /** The invoking user (0 under sudo). */
  uid: number;
  /**
   * Root's remapped sandbox: its id shift (idmap.ts), whose ids it maps; a host entry of
   * another owner or group cannot be changed inside. Absent: every id is mapped.
   */
  rootIds?: IdShift | null;
  /**
   * An ordinary user's sandbox: the host gids it maps, [start, count] each (the user's own
   * group, the subordinate range). A file of the user's with another group cannot be copied up.
   */
  userGids?: ReadonlyArray<readonly [number, number]>;
  /** The command's working directory, for relative paths in its messages. */
  cwd: string;
  /** Every --bind and --ro-bind destination: the host's own filesystem, with its own links. */
  binds?: string[];
}

/** What the host says about a path; replaceable in tests. */
export interface HostProbe {
  /** Owner uid and gid of the path or, when it does not exist, of its nearest existing ancestor. */
  owner(path: string): { path: string; uid: number; gid?: number } | null;
  /** Whether the invoking user can read (and, for a directory, search) the path on the host. */
  readable(path: string): boolean;
  userName(uid: number): string;
}

export const hostProbe: HostProbe = {
  owner(path) {
    for (let p = path; ; p = dirname(p)) {
      try { const st = lstatSync(p); return { path: p, uid: st.uid, gid: st.gid }; } catch { /* not there: its parent */ }
      if (p === '/') return null;
    }
  },
  readable(path) {
    try {
      const st = lstatSync(path);
      accessSync(path, st.isDirectory() ? constants.R_OK | constants.X_OK : constants.R_OK);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ENOENT';
    }
  },
  userName(uid) {
    return nameOfUid(uid) ?? `uid ${uid}`;
  },
};

/** Paths a message names: quoted ('p', ‘p’, `p', "p") or bare absolute ones. */
export function pathsIn(line: string, cwd: string): string[] {
  const out: string[] = [];
  // Escaped, not literal: one non-ASCII character makes V8 hold the whole bundle as a two-byte
  // string, which costs a run milliseconds to decode and hash (scripts/bundle.mjs checks).
  const quoted = /'([^']+)'|\u2018([^\u2019]+)\u2019|`([^']+)'|"([^"]+)"/g;
  for (let m; (m = quoted.exec(line));) out.push((m[1] ?? m[2] ?? m[3] ?? m[4])!);
  if (!out.length) for (const m of line.matchAll(/(?:^|[\s(=])(\/[^\s:'"(),]+)/g)) out.push(m[1]!);
  return [...new Set(out.filter((p) => !p.includes('\0')).map((p) => normalize(isAbsolute(p) ? p : join(cwd, p))))];
}

const under = (p: string, roots: string[]): string | undefined => roots.filter((r) => isWithin(p, r)).sort((a, b) => b.length - a.length)[0];

/**
 * The highest directory above `own.path` (or it) that its owner still owns on the host: what a
 * reason names, so that the errors in one tree of another user's share one line (man-db's
 * trigger after an install, refused on each file of /var/cache/man: one line, not four).
 */
function ownedTop(own: { path: string; uid: number }, host: HostProbe): string {
  let top = own.path;
  // Root owns the trees up to `/`: its entry's own path says more.
  if (own.uid === 0) return top;
  for (let up = dirname(top); up !== top; top = up, up = dirname(top)) {
    const o = host.owner(up);
    if (!o || o.path !== up || o.uid !== own.uid) break;
  }
  return top;
}

/**
 * Why root's remapped sandbox refused `path`: its host owner or group is none of the ids the
 * sandbox maps (a directory service's user, 1828800005), whose entries root inside may not
 * change (EACCES, EPERM, and EOVERFLOW for chmod and chown); null otherwise.
 */
function unmappedOwner(path: string, ids: IdShift, host: HostProbe): string | null {
  const own = host.owner(path);
  if (!own) return null;
  const byUid = shiftedUid(ids, own.uid) === null;
  const who = byUid ? `belongs to ${host.userName(own.uid)}${host.userName(own.uid) === `uid ${own.uid}` ? '' : ` (uid ${own.uid})`}`
    : own.gid !== undefined && shiftedGid(ids, own.gid) === null ? `has group gid ${own.gid}` : null;
  if (!who) return null;
  return `${byUid ? ownedTop(own, host) : own.path} ${who} on the host, above the ids a root sandbox maps (0-${ids.count - 1}, the sudo user's and the working directory's owner's), so root inside may not change it: run sbx from a directory of that owner's, or with --map-root (root inside is then root outside)`;
}

/**
 * Why an ordinary user's sandbox could not change an entry of theirs (EOVERFLOW): its host
 * group (a shared project's `users`) is not one newgidmap maps, so overlayfs cannot copy it up
 * with its group; null otherwise (another owner's file is refused on the host as well).
 */
function unmappedGroup(path: string, f: ViewFacts, host: HostProbe): string | null {
  const own = host.owner(path);
  if (!own || own.uid !== f.uid || own.gid === undefined || !f.userGids) return null;
  if (inRanges(own.gid, f.userGids)) return null;
  const what = own.path === path
    ? 'so inside it cannot be changed in place: a tool that writes a new file beside it works (sed -i, cp then mv) where the directory\'s group is yours, or run sbx with sudo'
    : 'so inside nothing can be made or changed in it: run sbx with sudo';
  return `${own.path} has group gid ${own.gid} on the host, which your sandbox does not map (newgidmap maps your own group and your subordinate range only), ${what}`;
}

/** Why the view refused `path` with the error of `kind`, or null when the view did not. */
export function viewReason(path: string, kind: 'EROFS' | 'EACCES' | 'EOVERFLOW', f: ViewFacts, host: HostProbe): string | null {
  if (kind === 'EROFS') {
    const rb = under(path, f.roBinds);
    if (rb) return `read-only inside: ${rb} is a --ro-bind`;
    if (f.mountedFiles.includes(path)) return 'read-only inside: the host has a mount on this file, which sbx binds read-only (a file cannot be overlaid)';
    if (f.roFiles.includes(path)) return 'read-only inside: a file beside a mount that sbx bound read-only (too big to copy, or unreadable to you)';
    const fb = under(path, f.fallbacks);
    if (fb) return `read-only inside: ${fb} could not be overlaid`;
    if (path === '/sys' || isWithin(path, '/sys') || path === '/proc/sys' || isWithin(path, '/proc/sys')) return 'read-only inside: the kernel\'s settings (/sys, /proc/sys) are never writable in a sandbox';
    return null;
  }
  if (f.uid === 0) return f.rootIds ? unmappedOwner(path, f.rootIds, host) : null;
  if (kind === 'EOVERFLOW') return unmappedGroup(path, f, host);
  const own = host.owner(path);
  if (f.noFuse && own && own.uid !== f.uid) {
    return `${ownedTop(own, host)} belongs to ${host.userName(own.uid)} on the host, and without fuse-overlayfs an ordinary user's sandbox cannot change what is not yours; install fuse-overlayfs (or use sudo)`;
  }
  if (!under(path, f.fuseTrees)) return null;
  if (!host.readable(path)) return 'you cannot read it on the host, and the sandbox\'s copy of system files reads the host as you';
  if (own && own.uid !== 0 && own.uid !== f.uid) {
    return `${ownedTop(own, host)} belongs to ${host.userName(own.uid)} on the host; inside, host files are root's (fuse-overlayfs), so ${host.userName(own.uid)} cannot write there`;
  }
  return null;
}

/**
 * One line per cause, at most `max`: `PATH (and N more): Read-only file system: read-only
 * inside: /x is a --ro-bind`. Lines the view does not explain are not mentioned.
 */
export function explainSeen(lines: string[], f: ViewFacts, host: HostProbe = hostProbe, max = 3): string[] {
  // One line per reason: the errors it caused (a write's EACCES, then chmod's EOVERFLOW on the
  // same file) are named together.
  const byReason = new Map<string, { paths: Set<string>; texts: Set<string>; why: string }>();
  for (const line of lines) {
    // The helper keeps other texts' lines too (net-errors.ts): a URL such a line quotes is no path.
    const link = line.includes(LINK_TEXT);
    const text = link ? LINK_TEXT : SCANNED_TEXTS.find((t) => line.includes(t));
    if (!text) continue;
    // git's link check has no errno: its cause is the overlay's, unless the path is the host's own (a bind).
    const kind = link ? null : text === SCANNED_TEXTS[0] ? 'EROFS' : text === SCANNED_TEXTS[3] ? 'EOVERFLOW' : 'EACCES';
    for (const p of pathsIn(line, f.cwd)) {
      const why = kind === null ? (under(p, f.binds ?? []) ? null : LINK_WHY) : viewReason(p, kind, f, host);
      if (!why) continue;
      const g = byReason.get(why) ?? { paths: new Set<string>(), texts: new Set<string>(), why };
      g.paths.add(p);
      g.texts.add(text);
      byReason.set(why, g);
      break; // a line's first explained path is the one it is about
    }
  }
  const out = [...byReason.values()].map((g) => {
    const [first] = g.paths;
    return `${first}${g.paths.size > 1 ? ` (and ${g.paths.size - 1} more)` : ''}: ${[...g.texts].join(', ')} because of sbx's view: ${g.why}`;
  });
  if (out.length > max) return [...out.slice(0, max), `and ${out.length - max} more errors caused by sbx's view`];
  return out;
}
