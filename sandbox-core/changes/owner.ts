// Whether a root commit gives a new entry to another user: the one rule for it. classify.ts
// flags such an entry (the `other-owner` rule); walk.ts keeps a new file as a column entry,
// which classify never sees, only when this rule says no whatever its parent dir is.
//
// Root's review and an ordinary user's ask the same question: the user's review says what
// `sudo sbx commit` of the sandbox would give away (README's flow: review as yourself, then
// commit the system paths as root), since the user's own commit cannot give anything away.
//
// aclGivesAccess is the same question for an ACL: which named users and groups are another's.
import { isAclName, parseAcl, TAG } from './acl.js';

/**
 * The ids a new entry may have without being given away: root's (`uid`, `gid`: the committer
 * whose commit applies the owners the sandbox set) and the reviewer's own (`selfUid`,
 * `selfGid`: the same ids in root's review). An entry of the reviewing user's own ids goes to
 * that user whoever commits it: root's commit gives it the sandbox's owner, the user's own
 * commit writes it as the user; no other user gets it.
 */
export interface Reviewer { uid: number; gid: number; selfUid: number; selfGid: number }

/** The owner and mode of a new entry, as committed (layer ids mapped back). */
export interface Owned { uid: number; gid: number; perm: number }

/** Whether this process reviews as an ordinary user: its flags speak of a later root commit. */
export function userReview(): boolean {
  return process.geteuid?.() !== 0;
}

/**
 * The reviewer of this process. Root: its euid and egid. An ordinary user: root's commit under
 * sudo (0:0), which gives entries the owners the sandbox set, and the user's own ids. (The
 * user's own commit writes new entries as the user, and its chown to another uid fails, EPERM:
 * safe-fs.ts applyMetaFd keeps the user's own and the commit says so; a group it can set is one
 * of the user's, which the user could set on the host anyway.)
 */
export function reviewer(): Reviewer {
  const uid = process.geteuid?.() ?? 0, gid = process.getegid?.() ?? 0;
  return uid === 0 ? { uid: 0, gid, selfUid: 0, selfGid: gid } : { uid: 0, gid: 0, selfUid: uid, selfGid: gid };
}

/**
 * Whether a new entry goes to a user who can then change it: its uid is neither its parent
 * dir's (as committed, or the host's) nor the reviewer's, or its group may write it and is
 * neither the parent's nor the reviewer's. A `chown -R` tree's entries below its top share its
 * owner: only the top counts. With no parent (null), only the reviewer's ids keep it: a no
 * then holds for any parent, as a parent only adds owners that keep it.
 */
export function givenAway(up: Owned, parent: Pick<Owned, 'uid' | 'gid'> | null | undefined, reviewer: Reviewer): boolean {
  const { uid, gid } = up;
  if (uid !== reviewer.uid && uid !== reviewer.selfUid && uid !== parent?.uid) return true;
  return (up.perm & 0o020) !== 0 && gid !== reviewer.gid && gid !== reviewer.selfGid && gid !== parent?.gid;
}

/**
 * Whether the ACLs an entry carries (`up`, ids as the sandbox saw them: walk.ts unshifts them)
 * grant a named user or group that is another's a permission the host entry's ACL of the same
 * name (`host`) did not: an ACL_USER entry of a uid neither the reviewer's (Reviewer, as for
 * givenAway) nor the entry's owner's (`uid`: the kernel never asks a named entry of the
 * owner), or an ACL_GROUP entry of a gid not the reviewer's, with any of r, w, x. Unlike
 * givenAway, any permission counts (reading a 0600 file is what such an entry is for) and the
 * parent dir's owner is another user too (owning the dir lets one replace the entry, not read
 * it). Not the mask: a mask of --- is only the mode's group bits, which a later `chmod g+…`
 * of the entry raises without touching the ACL, and the grant is live from then on. Both
 * commits apply such an ACL: a file's owner may name any id in it, so unlike an owner, an
 * ordinary user's own commit writes it too. An ACL that does not parse grants nothing: the
 * kernel refuses to set one.
 */
export function aclGivesAccess(up: ReadonlyArray<readonly [string, Buffer]>, host: ReadonlyArray<readonly [string, Buffer]>, uid: number, reviewer: Reviewer): boolean {
  for (const [name, value] of up) {
    if (!isAclName(name)) continue;
    const acl = parseAcl(value);
    if (!acl) continue;
    let before: ReturnType<typeof parseAcl> | undefined;
    for (const e of acl) {
      if ((e.perm & 7) === 0) continue;
      if (e.tag === TAG.USER) { if (e.id === reviewer.uid || e.id === reviewer.selfUid || e.id === uid) continue; }
      else if (e.tag === TAG.GROUP) { if (e.id === reviewer.gid || e.id === reviewer.selfGid) continue; }
      else continue;
      if (before === undefined) { const h = host.find(([n]) => n === name); before = h ? parseAcl(h[1]) : null; }
      const had = before?.find((x) => x.tag === e.tag && x.id === e.id)?.perm ?? 0;
      if ((e.perm & ~had & 7) !== 0) return true;
    }
  }
  return false;
}
