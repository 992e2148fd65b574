// Chooses the user-namespace uid/gid mapping. As an ordinary user: the invoking user is root
// inside (or itself with --user), plus the subordinate range from /etc/subuid and /etc/subgid
// when newuidmap/newgidmap exist. As root: ids 0-65535 to an unprivileged range, and the sudo
// user's and the working directory's owner's ids above it to the next ids of that range; with
// --map-root (or in a namespace without the range) the full range, identity.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { nameOfUid } from './base/user-name.js';
import type { SpecOp } from './spec.js';
import { EXTRA_IDS_MAX, type IdShift } from './types.js';

export type { IdShift };

export interface SubRange { start: number; count: number }

/** Ids root's sandboxes map from 0 up. */
const ROOT_COUNT = 65536;
/** The range root's sandboxes map to when /etc/subuid has no entry for root: 0-65535, then the extras. */
const ROOT_FALLBACK_RANGE = { start: 1_000_000_000, count: ROOT_COUNT + EXTRA_IDS_MAX };

/** Ids above the mapped range that a sandbox sees as they are on the host (chooseIdMapping). */
export interface ExtraIds { uids: number[]; gids: number[] }

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
  /** Wanted extra uids (ExtraIds) above the range that this mapping has no room for. */
  unmappedUids?: number[];
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

/**
 * The extras a root sandbox maps (IdShift): the wanted ids above the range, each once, at
 * most as many as the reserved range holds beyond it (`room`) and EXTRA_IDS_MAX.
 */
export function extraIdsOf(wanted: readonly number[], room: number): number[] {
  const out: number[] = [];
  for (const id of wanted) {
    if (out.length >= Math.min(room, EXTRA_IDS_MAX)) break;
    if (Number.isInteger(id) && id >= ROOT_COUNT && id < 4294967295 && !out.includes(id)) out.push(id);
  }
  return out;
}

/** A uid_map/gid_map: 0..count-1 at `base`, then each extra at base + count + i. */
function mapText(base: number, count: number, extras: readonly number[]): string {
  return `0 ${base} ${count}\n${extras.map((e, i) => `${e} ${base + count + i} 1\n`).join('')}`;
}

/**
 * The ids of the user who ran sudo (SUDO_UID, SUDO_GID) and of the working directory's owner:
 * those a root sandbox should show as they are when they are above its range (a directory
 * service's uid, 1828800001), so root inside can change that user's files.
 */
export function invokingIds(env: NodeJS.ProcessEnv, cwdOwner: { uid: number; gid: number } | null): ExtraIds {
  const num = (v: string | undefined): number[] => (v !== undefined && /^[0-9]{1,10}$/.test(v) ? [Number(v)] : []);
  return {
    uids: [...num(env.SUDO_UID), ...(cwdOwner ? [cwdOwner.uid] : [])],
    gids: [...num(env.SUDO_GID), ...(cwdOwner ? [cwdOwner.gid] : [])],
  };
}

/** The owner of `path` (the working directory), following symlinks; null when it cannot be looked at. */
export function dirOwner(path: string): { uid: number; gid: number } | null {
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? { uid: st.uid, gid: st.gid } : null;
}

/**
 * `selfMaps`: this process's uid_map and gid_map as /proc/self has them (read there when
 * absent; given by tests, as a container's would be).
 */
export function chooseIdMapping(opts: { keepUser: boolean; mapRoot?: boolean; extraIds?: ExtraIds; selfMaps?: { uid: string; gid: string } }, uid = process.getuid!(), gid = process.getgid!()): IdMapping {
  if (uid === 0 && !opts.mapRoot) {
    // Root inside must not be root outside: map 0-65535 to an unprivileged range. Host files
    // keep their owners inside through idmapped lower layers, where the same maps apply.
    const su = readSub('/etc/subuid', 'root', 0), sg = readSub('/etc/subgid', 'root', 0);
    const count = ROOT_COUNT;
    const ur = su && su.count >= count ? su : ROOT_FALLBACK_RANGE, gr = sg && sg.count >= count ? sg : ROOT_FALLBACK_RANGE;
    const u = ur.start, g = gr.start;
    // Only ids the reserved range has room for: an /etc/subuid entry of exactly 65536 has none.
    let eu = extraIdsOf(opts.extraIds?.uids ?? [], ur.count - count), eg = extraIdsOf(opts.extraIds?.gids ?? [], gr.count - count);
    // Root of a container may not own that range: then only the identity mapping is possible.
    // One that owns the 65536 but not the ids after them maps no extras.
    const maps = opts.selfMaps ?? { uid: readOr('/proc/self/uid_map', '0 0 4294967295'), gid: readOr('/proc/self/gid_map', '0 0 4294967295') };
    const have = (nu: number, ng: number): boolean => rangeMapped(maps.uid, u, count + nu) && rangeMapped(maps.gid, g, count + ng);
    if (!have(eu.length, eg.length)) {
      eu = [];
      eg = [];
      if (!have(0, 0)) return { ...chooseIdMapping({ keepUser: opts.keepUser, mapRoot: true }, uid, gid), unavailableRange: `${u}-${u + count - 1}` };
    }
    const shift: IdShift = { uid: u, gid: g, count, ...(eu.length ? { extraUids: eu } : {}), ...(eg.length ? { extraGids: eg } : {}) };
    const extra = extrasText(shift, 'is');
    return {
      kind: 'root-remapped',
      description: `root: uids 0-${count - 1} inside are ${u}-${u + count - 1} outside (${su && su === ur ? '/etc/subuid' : 'sbx\'s fixed range'})${extra.length ? `, and ${extra.join(', ')} (the sudo user's or the working directory's owner's, above that range)` : ''}, host files keep their owners through idmapped mounts; root inside is not root outside`,
      ops: [
        { op: 'uid_map', args: [mapText(u, count, eu)] },
        { op: 'gid_map', args: [mapText(g, count, eg)] },
        { op: 'setid', args: ['0', '0'] },
        { op: 'build_outside', args: [] },
      ],
      insideUid: 0,
      insideGid: 0,
      shift,
      unmappedUids: [...new Set((opts.extraIds?.uids ?? []).filter((e) => e >= count && !eu.includes(e)))],
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

function shifted(id: number, base: number, count: number, extras: readonly number[] | undefined): number | null {
  if (id >= 0 && id < count) return base + id;
  const i = extras?.indexOf(id) ?? -1;
  return i >= 0 ? base + count + i : null;
}

/** The layers' (outside) uid of inside uid `id` under `s`, or null when `s` does not map it. */
export function shiftedUid(s: IdShift, id: number): number | null {
  return shifted(id, s.uid, s.count, s.extraUids);
}

/** The layers' (outside) gid of inside gid `id` under `s`, or null when `s` does not map it. */
export function shiftedGid(s: IdShift, id: number): number | null {
  return shifted(id, s.gid, s.count, s.extraGids);
}

/** Whether two root mappings put every id at the same place (null: the identity mapping). */
export function sameIdShift(a: IdShift | null | undefined, b: IdShift | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  const same = (x: readonly number[] | undefined, y: readonly number[] | undefined): boolean => (x ?? []).length === (y ?? []).length && (x ?? []).every((v, i) => v === y![i]);
  return a.uid === b.uid && a.gid === b.gid && a.count === b.count && same(a.extraUids, b.extraUids) && same(a.extraGids, b.extraGids);
}

/** Each extra id of `s` and where it is outside, as `uid E <verb> X`. */
function extrasText(s: IdShift, verb: string): string[] {
  return [...(s.extraUids ?? []).map((e, i) => `uid ${e} ${verb} ${s.uid + s.count + i}`), ...(s.extraGids ?? []).map((e, i) => `gid ${e} ${verb} ${s.gid + s.count + i}`)];
}

/** How a root mapping reads in a message. */
export function idShiftText(s: IdShift | null | undefined): string {
  if (!s) return 'root inside as root outside (--map-root)';
  const extra = extrasText(s, 'at');
  return `uids 0-${s.count - 1} at ${s.uid}, gids at ${s.gid}${extra.length ? `, ${extra.join(', ')}` : ''}`;
}
