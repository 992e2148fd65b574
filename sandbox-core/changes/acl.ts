// Extended attributes that carry user and group ids: POSIX ACLs (system.posix_acl_access and
// system.posix_acl_default) and v3 file capabilities (security.capability's rootid). In a
// root sandbox with the unprivileged range, the layers hold those ids shifted (uid 1005 inside
// is 1000001005 on the host), and in an ordinary user's sandbox uids 1.. inside are the user's
// subordinate range, exactly like file owners; the change list shifts them back the same way,
// so a commit restores what the sandbox saw and the review can show them.
// Pure functions over the kernel's on-disk formats (little-endian).
import type { IdShift as RootIdShift } from '../types.js';

export const ACL_ACCESS = 'system.posix_acl_access';
export const ACL_DEFAULT = 'system.posix_acl_default';
const CAPABILITY = 'security.capability';

const ACL_VERSION = 2;
export const TAG = { USER_OBJ: 0x01, USER: 0x02, GROUP_OBJ: 0x04, GROUP: 0x08, MASK: 0x10, OTHER: 0x20 } as const;
const VFS_CAP_REVISION_2 = 0x02000000;
const VFS_CAP_REVISION_3 = 0x03000000;
const VFS_CAP_REVISION_MASK = 0xff000000;

/**
 * Host uids [uid, uid + count) are the sandbox's [from, from + count), gids [gid, gid +
 * gidCount) likewise: root's shifted range (types.ts IdShift, with its extras: host uid
 * uid + count + i is the sandbox's extraUids[i]) starts at 0 inside, an ordinary user's
 * subordinate range at 1 (0 is the user). Other ids are left as they are.
 */
export interface IdShift extends RootIdShift { from?: number; gidCount?: number }
export interface AclEntry { tag: number; perm: number; id: number }

function back(id: number, base: number, count: number, from: number, extras: readonly number[] | undefined): number {
  if (id >= base && id < base + count) return id - base + from;
  const i = id - base - count;
  return extras && i >= 0 && i < extras.length ? extras[i]! : id;
}

/** The sandbox's uid for host uid `id` (`id` itself outside the range). */
export function uidBack(id: number, s: IdShift): number {
  return back(id, s.uid, s.count, s.from ?? 0, s.extraUids);
}

/** The sandbox's gid for host gid `id` (`id` itself outside the range). */
export function gidBack(id: number, s: IdShift): number {
  return back(id, s.gid, s.gidCount ?? s.count, s.from ?? 0, s.extraGids);
}

/** The entries of an ACL xattr, or null when it is not one (wrong version or length). */
export function parseAcl(v: Buffer): AclEntry[] | null {
  if (v.length < 4 || (v.length - 4) % 8 !== 0 || v.readUInt32LE(0) !== ACL_VERSION) return null;
  const out: AclEntry[] = [];
  for (let off = 4; off < v.length; off += 8) out.push({ tag: v.readUInt16LE(off), perm: v.readUInt16LE(off + 2), id: v.readUInt32LE(off + 4) });
  return out;
}

function encodeAcl(entries: AclEntry[]): Buffer {
  const b = Buffer.alloc(4 + entries.length * 8);
  b.writeUInt32LE(ACL_VERSION, 0);
  entries.forEach((e, i) => {
    b.writeUInt16LE(e.tag, 4 + i * 8);
    b.writeUInt16LE(e.perm, 6 + i * 8);
    b.writeUInt32LE(e.id, 8 + i * 8);
  });
  return b;
}

/** One xattr's value with the sandbox's shifted ids taken back to what the sandbox saw. */
export function unshiftXattr(name: string, value: Buffer, shift: IdShift): Buffer {
  if (name === ACL_ACCESS || name === ACL_DEFAULT) {
    const acl = parseAcl(value);
    if (!acl) return value;
    return encodeAcl(acl.map((e) => e.tag === TAG.USER ? { ...e, id: uidBack(e.id, shift) }
      : e.tag === TAG.GROUP ? { ...e, id: gidBack(e.id, shift) } : e));
  }
  if (name === CAPABILITY && value.length === 24 && ((value.readUInt32LE(0) & VFS_CAP_REVISION_MASK) >>> 0) === VFS_CAP_REVISION_3) {
    const rootid = uidBack(value.readUInt32LE(20), shift);
    // rootid 0 is the host's root: the kernel's own form for that is revision 2 (no rootid).
    if (rootid === 0) {
      const v2 = Buffer.from(value.subarray(0, 20));
      v2.writeUInt32LE(((value.readUInt32LE(0) & ~VFS_CAP_REVISION_MASK) | VFS_CAP_REVISION_2) >>> 0, 0);
      return v2;
    }
    const v3 = Buffer.from(value);
    v3.writeUInt32LE(rootid, 20);
    return v3;
  }
  return value;
}

export function unshiftXattrs(xattrs: Array<[string, Buffer]>, shift: IdShift): Array<[string, Buffer]> {
  return xattrs.map(([n, v]) => [n, unshiftXattr(n, v, shift)]);
}

function permText(p: number): string {
  return `${p & 4 ? 'r' : '-'}${p & 2 ? 'w' : '-'}${p & 1 ? 'x' : '-'}`;
}

/** An entry as getfacl writes it: `user:1005:rw-`, `group::r-x`, `mask::rwx`. */
export function aclEntryText(e: AclEntry): string {
  const perm = permText(e.perm);
  switch (e.tag) {
    case TAG.USER_OBJ: return `user::${perm}`;
    case TAG.USER: return `user:${e.id}:${perm}`;
    case TAG.GROUP_OBJ: return `group::${perm}`;
    case TAG.GROUP: return `group:${e.id}:${perm}`;
    case TAG.MASK: return `mask::${perm}`;
    case TAG.OTHER: return `other::${perm}`;
    default: return `tag${e.tag}:${e.id}:${perm}`;
  }
}

/**
 * How an ACL changed, in getfacl terms, for the review: `acl +user:1005:rw- +mask::rw-`,
 * `default acl -group:50:r-x`. Entries the mode already shows (user::, group::, other::) are
 * left to the mode diff unless nothing else changed.
 */
export function describeAclChange(name: string, up: Buffer | undefined, host: Buffer | undefined): string {
  const label = name === ACL_DEFAULT ? 'default acl' : 'acl';
  const a = up ? parseAcl(up) : [];
  const b = host ? parseAcl(host) : [];
  if (!a || !b) return `${label} changed`;
  const now = new Set(a.map(aclEntryText));
  const before = new Set(b.map(aclEntryText));
  const named = (t: string) => !/^(user|group|other)::/.test(t);
  const added = [...now].filter((t) => !before.has(t));
  const removed = [...before].filter((t) => !now.has(t));
  let parts = [...added.map((t) => `+${t}`), ...removed.map((t) => `-${t}`)];
  const namedOnly = parts.filter((p) => named(p.slice(1)));
  if (namedOnly.length) parts = namedOnly;
  if (!up) return `${label} removed`;
  return parts.length ? `${label} ${parts.join(' ')}` : `${label} changed`;
}

export function isAclName(name: string): boolean {
  return name === ACL_ACCESS || name === ACL_DEFAULT;
}

/** What differs between two xattr lists, for a change's details: ACLs in getfacl terms, the rest as "xattrs". */
export function xattrDetails(up: Array<[string, Buffer]>, host: Array<[string, Buffer]>): string[] {
  const a = new Map(up);
  const b = new Map(host);
  const out: string[] = [];
  let other = false;
  for (const n of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(n);
    const y = b.get(n);
    if (x && y && x.equals(y)) continue;
    if (isAclName(n)) out.push(describeAclChange(n, x, y));
    else other = true;
  }
  if (other) out.push('xattrs');
  return out;
}
