// Whether a root commit gives a new entry to another user: the one rule for it. classify.ts
// flags such an entry (the `other-owner` rule); walk.ts keeps a new file as a column entry,
// which classify never sees, only when this rule says no whatever its parent dir is.

/** Whose a commit's entries become when nothing gives them away: the reviewer's euid and egid. */
export interface Reviewer { uid: number; gid: number }

/** The owner and mode of a new entry, as committed (layer ids mapped back). */
export interface Owned { uid: number; gid: number; perm: number }

/**
 * Root's euid and egid, or null for an ordinary user: only root's commit can give an entry
 * away. An ordinary user's commit writes new entries as that user, and its chown to another
 * uid fails (EPERM: safe-fs.ts applyMetaFd keeps the user's own); a group it can set is one
 * of the user's, which the user could set on the host anyway.
 */
export function rootReviewer(): Reviewer | null {
  return process.geteuid?.() === 0 ? { uid: 0, gid: process.getegid?.() ?? 0 } : null;
}

/**
 * Whether a new entry goes to a user who can then change it: its uid is neither its parent
 * dir's (as committed, or the host's) nor the reviewer's, or its group may write it and is
 * neither the parent's nor the reviewer's. A `chown -R` tree's entries below its top share its
 * owner: only the top counts. With no parent (null), only the reviewer's ids keep it: a no
 * then holds for any parent, as a parent only adds owners that keep it.
 */
export function givenAway(up: Owned, parent: Pick<Owned, 'uid' | 'gid'> | null | undefined, reviewer: Reviewer): boolean {
  if (up.uid !== reviewer.uid && up.uid !== parent?.uid) return true;
  return (up.perm & 0o020) !== 0 && up.gid !== reviewer.gid && up.gid !== parent?.gid;
}
