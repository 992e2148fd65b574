// Chooses the user-namespace uid/gid mapping. As an ordinary user: the invoking user is root
// inside (or itself with --user), plus the subordinate range from /etc/subuid and /etc/subgid
// when newuidmap/newgidmap exist. As root: the full range, identity.
import { accessSync, constants, readFileSync } from 'node:fs';
import { nameOfUid } from './base/user-name.js';
import type { SpecOp } from './spec.js';

export interface SubRange { start: number; count: number }

/** Host ids = inside ids + offset, for the first `count` ids (root's remapped sandboxes). */
export interface IdShift { uid: number; gid: number; count: number }

/** The range root's sandboxes map to when /etc/subuid has no entry for root. */
const ROOT_FALLBACK_RANGE = { start: 1_000_000_000, count: 65536 };

export interface IdMapping {
  kind: 'root-identity' | 'root-remapped' | 'single' | 'subordinate';
  /** One line per mapping shown by `sbx doctor`. */
  description: string;
  ops: SpecOp[];
  /** Inside uid/gid the command starts as. */
  insideUid: number;
  insideGid: number;
  /** Set when inside ids are not host ids (root's remapped sandboxes): for reading layers and committing. */
  shift: IdShift | null;
  /** Root wanted an unprivileged range but this user namespace does not have it. */
  unavailableRange?: string;
}

const NEWUIDMAP = '/usr/bin/newuidmap';
const NEWGIDMAP = '/usr/bin/newgidmap';

/** Parses /etc/subuid-style text for a user (matched by name or numeric id). First range wins. */
export function parseSubIds(text: string, name: string, id: number): SubRange | null {
  for (const line of text.split('\n')) {
    const [who, start, count] = line.trim().split(':');
    if (!who || start === undefined || count === undefined) continue;
    if (who !== name && who !== String(id)) continue;
    const s = Number(start), c = Number(count);
    if (Number.isInteger(s) && Number.isInteger(c) && c > 0 && s > 0) return { start: s, count: c };
  }
  return null;
}

function executable(p: string): boolean {
  try { accessSync(p, constants.X_OK); return true; } catch { return false; }
}

function readSub(file: string, name: string, id: number): SubRange | null {
  try { return parseSubIds(readFileSync(file, 'utf8'), name, id); } catch { return null; }
}

/** Whether ids [start, start+count) exist in this process's user namespace (/proc/self/uid_map). */
export function rangeMapped(mapText: string, start: number, count: number): boolean {
  for (const line of mapText.split('\n')) {
    const [inside, , len] = line.trim().split(/\s+/).map(Number);
    if (inside === undefined || len === undefined || Number.isNaN(inside) || Number.isNaN(len)) continue;
    if (start >= inside && start + count <= inside + len) return true;
  }
  return false;
}

/** Whether this process's user namespace maps both ids (an unmapped one shows as the overflow id, and cannot be given). */
export function idsMappedHere(uid: number, gid: number): boolean {
  return rangeMapped(readOr('/proc/self/uid_map', '0 0 4294967295'), uid, 1) && rangeMapped(readOr('/proc/self/gid_map', '0 0 4294967295'), gid, 1);
}

function readOr(path: string, fallback: string): string {
  try { return readFileSync(path, 'utf8'); } catch { return fallback; }
}

/**
 * The maps of `ops` as `sbx-helper as-mapped-root` takes them (UIDTOOL UIDMAP GIDTOOL GIDMAP):
 * a tool and its ranges, or "-" and the map text written directly; null when `ops` has none.
 */
export function mappedRootArgs(ops: readonly SpecOp[]): [string, string, string, string] | null {
  const one = (kind: 'uid' | 'gid'): [string, string] | null => {
    for (const o of ops) {
      const a = o.args as readonly unknown[];
      if (o.op === `new${kind}map`) return [String(a[0]), String(a[1])];
      if (o.op === `${kind}_map`) return ['-', String(a[0])];
    }
    return null;
  };
  const u = one('uid'), g = one('gid');
  return u && g ? [...u, ...g] : null;
}

/** The most ids a sandbox maps from a subordinate range (uids 1-65536 inside). */
const SUB_MAX = 65536;

/**
 * The subordinate uids and gids a user's sandboxes map ids 1.. inside to (/etc/subuid and
 * /etc/subgid, by name or number, first range, at most SUB_MAX), each null without one.
 */
export function subordinateIds(uid: number, name = nameOfUid(uid) ?? String(uid)): { uid: SubRange | null; gid: SubRange | null } {
  const cap = (r: SubRange | null): SubRange | null => r && { start: r.start, count: Math.min(r.count, SUB_MAX) };
  return { uid: cap(readSub('/etc/subuid', name, uid)), gid: cap(readSub('/etc/subgid', name, uid)) };
}

export function chooseIdMapping(opts: { keepUser: boolean; mapRoot?: boolean }, uid = process.getuid!(), gid = process.getgid!()): IdMapping {
  if (uid === 0 && !opts.mapRoot) {
    // Root inside must not be root outside: map 0-65535 to an unprivileged range. Host files
    // keep their owners inside through idmapped lower layers.
    const su = readSub('/etc/subuid', 'root', 0), sg = readSub('/etc/subgid', 'root', 0);
    const u = su && su.count >= 65536 ? su.start : ROOT_FALLBACK_RANGE.start;
    const g = sg && sg.count >= 65536 ? sg.start : ROOT_FALLBACK_RANGE.start;
    const count = 65536;
    // Root of a container may not own that range: then only the identity mapping is possible.
    if (!rangeMapped(readOr('/proc/self/uid_map', '0 0 4294967295'), u, count) || !rangeMapped(readOr('/proc/self/gid_map', '0 0 4294967295'), g, count)) {
      return { ...chooseIdMapping({ ...opts, mapRoot: true }, uid, gid), unavailableRange: `${u}-${u + count - 1}` };
    }
    return {
      kind: 'root-remapped',
      description: `root: uids 0-${count - 1} inside are ${u}-${u + count - 1} outside (${su ? '/etc/subuid' : 'sbx\'s fixed range'}), host files keep their owners through idmapped mounts; root inside is not root outside`,
      ops: [
        { op: 'uid_map', args: [`0 ${u} ${count}\n`] },
        { op: 'gid_map', args: [`0 ${g} ${count}\n`] },
        { op: 'setid', args: ['0', '0'] },
        { op: 'build_outside', args: [] },
      ],
      insideUid: 0,
      insideGid: 0,
      shift: { uid: u, gid: g, count },
    };
  }
  if (uid === 0) {
    return {
      kind: 'root-identity',
      description: 'root with --map-root: uids and gids map to themselves (root inside is root outside)',
      ops: [
        { op: 'uid_map', args: ['0 0 4294967295\n'] },
        { op: 'gid_map', args: ['0 0 4294967295\n'] },
      ],
      insideUid: 0,
      insideGid: 0,
      shift: null,
    };
  }
  const inside = opts.keepUser ? uid : 0;
  const insideG = opts.keepUser ? gid : 0;
  // No passwd entry: matched by number.
  const { uid: subU, gid: subG } = subordinateIds(uid);
  if (!opts.keepUser && subU && subG && executable(NEWUIDMAP) && executable(NEWGIDMAP)) {
    const nu = subU.count, ng = subG.count;
    return {
      kind: 'subordinate',
      description: `you (uid ${uid}) are root inside; uids 1-${nu} map to your subordinate range ${subU.start}-${subU.start + nu - 1} (newuidmap)`,
      ops: [
        { op: 'newuidmap', args: [NEWUIDMAP, `0 ${uid} 1 1 ${subU.start} ${nu}`] },
        { op: 'newgidmap', args: [NEWGIDMAP, `0 ${gid} 1 1 ${subG.start} ${ng}`] },
      ],
      insideUid: 0,
      insideGid: 0,
      shift: null,
    };
  }
  return {
    kind: 'single',
    description: opts.keepUser
      ? `you (uid ${uid}) keep your uid inside; no other uid is mapped`
      : `you (uid ${uid}) are root inside; no other uid is mapped (add a range to /etc/subuid and install uidmap for more)`,
    ops: [
      { op: 'uid_map', args: [`${inside} ${uid} 1\n`] },
      { op: 'setgroups', args: ['deny'] },
      { op: 'gid_map', args: [`${insideG} ${gid} 1\n`] },
    ],
    insideUid: inside,
    insideGid: insideG,
    shift: null,
  };
}
