// Whether a root commit gives a new entry to another user: the one rule for it. classify.ts
// flags such an entry (the `other-owner` rule); walk.ts keeps a new file as a column entry,
// which classify never sees, only when this rule says no whatever its parent dir is.
//
// Root's review and an ordinary user's ask the same question: the user's review says what
// `sudo sbx commit` of the sandbox would give away (README's flow: review as yourself, then
// commit the system paths as root), since the user's own commit cannot give anything away.

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
