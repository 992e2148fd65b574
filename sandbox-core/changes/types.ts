// The change list: what a sandbox did to the host filesystem, one entry per host path.
//
// Paths are "byte strings": the raw bytes of the path held one byte per char (latin1), so a
// name that is not valid UTF-8 survives a round trip to the filesystem unchanged. Convert with
// bpath.ts (`toFs` for fs calls, `display` for the terminal, `jsonPath` for JSON).

export type ChangeKind = 'added' | 'modified' | 'deleted' | 'replaced' | 'metadata';
export const ENTRY_TYPES = ['file', 'dir', 'symlink', 'fifo', 'socket', 'char', 'block'] as const;
export type EntryType = typeof ENTRY_TYPES[number];

/** A time as the kernel keeps it: whole seconds (negative before 1970) and 0-999999999 ns. */
export interface Timespec {
  sec: number;
  nsec: number;
}

/** The part of lstat a change needs; kept small so 100k changes stay cheap. */
export interface EntryStat {
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  perm: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  atimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
  nlink: number;
  rdev: number;
  /** 512-byte blocks allocated (st_blocks): far fewer than size/512 for a sparse file. */
  blocks?: number;
  /**
   * atime and mtime exactly, where the stat came from the helper's record: the *Ms doubles
   * above are off by up to ~100 ns for a time of this century, so a commit sets these.
   */
  readonly atimeSpec?: Timespec;
  readonly mtimeSpec?: Timespec;
}

export interface Change {
  /** Host path (byte string). */
  path: string;
  change: ChangeKind;
  /** Type after the change; for `deleted`, the type of what the host has. */
  type: EntryType;
  /** For `replaced`: the host's type before. */
  oldType?: EntryType;
  /** Size after the change (host size for `deleted`). */
  size: number;
  /** Symlink target after the change (byte string). */
  target?: string;
  /** For a `modified` symlink: its target on the host (byte string), what `ln -sfn` replaced. */
  targetBefore?: string;
  /** For `metadata` (and informative on `modified`): what differs, e.g. "mode 644→755". */
  details?: string[];
  /** Entry in the upper layer (byte string); absent for `deleted`. */
  upper?: string;
  /**
   * For `deleted`: the upper layer's dir that holds its whiteout or, opaque, hides it (its
   * parent's place in the layer), when the scan knows it. What else the sandbox wrote beside
   * it is read from there (git-history.ts: the packed-refs a deleted loose ref uncovers).
   */
  layerDir?: string;
  /** lstat of the upper entry; absent for `deleted`. */
  up?: EntryStat;
  /** Host entry as seen by the scan (absent for `added`): the commit checks it is still so. */
  host?: EntryStat;
  /**
   * An `added` file the sandbox copied up from the host (overlayfs's origin mark) that the
   * host no longer has: deleted there after the sandbox started. A commit leaves it (a
   * conflict) rather than bring back what the host's user removed.
   */
  hostGone?: true;
  /**
   * An `added` entry a root commit would give to another user or group, or a host entry
   * whose owner the sandbox changed so (classify.ts givenAway): its details name the owner,
   * and the review flags it.
   */
  givenAway?: true;
  /**
   * An ACL of the entry grants a named user or group that is another's a permission the
   * host's did not (owner.ts aclGivesAccess): its details name the ACL, and the review flags it.
   */
  aclGrant?: true;
  /**
   * The upper entry's xattrs could not be read (this errno name; scan.c: a user xattr of an
   * entry of mode 000): `xattrs` is empty for want of them, and a commit leaves the entry.
   */
  attrsUnread?: string;
  /** Extended attributes of the upper entry, minus overlayfs's own (name → value). */
  xattrs?: Array<[string, Buffer]>;
  /**
   * A layer's own root (a mount point of the view, `/` among them): its `xattrs` are only
   * those the command set or changed, and a commit takes none of the host's away.
   */
  layerRoot?: true;
  /** A layer root's xattrs the command removed: the commit takes these (and no other) off the host's. */
  xattrsRemoved?: string[];
  /** A replaced dir that is a dir on both sides (made opaque: emptied then refilled). */
  opaque?: boolean;
  /**
   * A file the sandbox hard-linked to a file the host already had (this host path): committed
   * as a copy unless `--link-host-files` is given.
   */
  linksTo?: string;
  /**
   * An `added` file or dir that is a host file or dir the sandbox moved (moves.ts), or a
   * `modified` file that such a file was moved over: that one's path, whose `deleted` change
   * names this one in `movedTo`. Said in the review (and a commit never takes that deletion alone, plan.ts
   * selectionParents): a commit still writes the new name and removes the old one, each
   * checked as every change is.
   */
  movedFrom?: string;
  /** With `movedFrom`: the content differs from the file it was moved from (changed after the move). */
  movedChanged?: true;
  /** A `deleted` file or dir the sandbox moved to this path (the `added` or `modified` change's `movedFrom` names it back). */
  movedTo?: string;
  /**
   * An `added` file (or dir, with its tree) that holds the bytes of a host file still there
   * (`sed -i.bak`, `mv app.log app.log.1` then a new app.log, `cp fstab fstab.bak`, `cp -r nvim
   * nvim.bak`): that one's path; when the sandbox changed that file, its change names this one
   * in `copiedTo` (copies.ts). The review shows the copy as the same content, not as every
   * line added.
   */
  copyOf?: string;
  /**
   * With `copyOf`, from a dir copied with its tree and then changed (copies.ts pairDirCopies):
   * on the dir, and on each of its files at a host file's place that no longer holds that
   * file's bytes (the review shows its diff against the host file).
   */
  copyChanged?: true;
  /**
   * An `added` file named after a host file of its dir as a copy is (`foo.conf.dpkg-dist`,
   * `app.conf.new`, `notes.txt~`: copies.ts findNamedCopies) that holds other bytes: that
   * file's path. sbx diff shows it against that file when at least half of its lines are that
   * file's (render-changes.ts); nothing else reads it.
   */
  variantOf?: string;
  /** A `modified` or `replaced` host file whose host bytes an `added` file holds (its `copyOf` names this one back). */
  copiedTo?: string;
  /**
   * With `movedFrom` or `copyOf` (the move's first): how its mode and owner differ from those
   * of the host file or dir it came from (stat.ts accessDiff: `mode 600→644`), which the
   * pairing, going by bytes, does not otherwise say: `mv secret secret.old && chmod 644
   * secret.old` opens the secret to every user. The review says it beside the move or copy.
   */
  sourceDetails?: string[];
  /**
   * Lines of the new content of a file the host did not have as a file, when the scan was
   * asked to count them (ScanOptions.countLinesUpTo); null for a binary or too large file.
   */
  lines?: number | null;
  /**
   * The new content of a file the host did not have as a file, as the scan read it when asked
   * (ScanOptions.readNewUpTo): text (no NUL, valid UTF-8) that a diff shows without reading.
   */
  newText?: Buffer;
}
