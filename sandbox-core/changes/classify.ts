// Pass 2 of a scan: compare each upper entry with the host and decide what kind of change
// it is. A copy-up with the same content and metadata is no change at all; directory times
// are ignored (they move whenever a child changes, which the child's own entry reports).
import type { Change, EntryStat } from './types.js';
import type { UpperEntry } from './walk.js';
import { joinB, parentB } from '../base/bpath.js';
import { hostDirNames } from './host-tree.js';
import { accessDiff, lstatB, sameTime } from './stat.js';
import { readlinkB, sameContent } from './content.js';
import { xattrsEqual } from './xattr.js';
import { isAclName, xattrDetails } from './acl.js';
import { aclGivesAccess, givenAway, reviewer as reviewerOf } from './owner.js';
import { pairDirMoves, pairMoves } from './moves.js';
import { keptHostFiles, pairCopies, pairNamedCopies } from './copies.js';
import { byteBudget, handleWords } from './pairing.js';

/** What differs between two entries of the same type, excluding content. */
export function metadataDiff(up: EntryStat, host: EntryStat, upX: Array<[string, Buffer]>, hostX: Array<[string, Buffer]>): string[] {
  const d = accessDiff(up, host);
  if (up.type !== 'dir' && !sameTime(up.mtimeMs, host.mtimeMs)) d.push('mtime');
  if (up.type !== 'symlink' && !xattrsEqual(upX, hostX)) d.push(...xattrDetails(upX, hostX));
  return d;
}

export interface ClassifyResult {
  changes: Change[];
  errors: string[];
  links: Map<string, string[]>;
  /** The added regular files with no copy-up mark (one name, not empty): what a moved dir's tree is made of (moves.ts). */
  made: Change[];
}

/**
 * `layerStarts`: where each layer's entries begin (WalkResult.layerStarts); without it, one
 * layer. `columns`: the plain new files are column entries, not in `entries` (sbx diff's full
 * review): a moved dir is paired here only on its whole tree, and on the rest with them
 * (moves.ts pairColumnMoves). `copies`: with ScanOptions.copies, the paths the sandbox hid (no copy is of one), else null.
 */
export function classify(entries: UpperEntry[], progress?: (n: number) => void, layerStarts: number[] = [0], budget = byteBudget(), columns = false, copies: readonly string[] | null = null): ClassifyResult {
  const changes: Change[] = [];
  const errors: string[] = [];
  const links = new Map<string, string[]>();
  const reviewer = reviewerOf();
  // The host dirs new top-level entries go in (a layer's root has no entry of its own). One an
  // ordinary user cannot stat (EACCES) is none: only the reviewer's ids keep an entry then.
  const hostDirs = new Map<string, EntryStat | null>();
  const parentStat = (p: string): EntryStat | null => {
    const d = parentB(p);
    let st = hostDirs.get(d);
    if (st === undefined) {
      try { st = lstatB(d); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'EACCES') throw err; st = null; }
      hostDirs.set(d, st);
    }
    return st;
  };
  /** What e's parent dir is as committed: its own entry, else the host's dir. */
  const parentOf = (e: UpperEntry): EntryStat | null | undefined => (e.parent >= 0 ? entries[e.parent]!.up : parentStat(e.host));
  // Upper inode → a name of it that the host already had as a file (the first one seen).
  const onHost = new Map<string, string>();
  // Added entries that carry overlayfs's copy-up mark, with it (and modified ones whose mark may name another host file).
  const copied: Array<[Change, Buffer | string, number]> = [];
  // Added regular files with no copy-up mark (of one name, not empty).
  const made: Change[] = [];
  // Whether each dir entry hides the host below it: its own opaque mark, or an opaque
  // ancestor (overlayfs never looks below an opaque dir, so neither do we).
  const hides = new Uint8Array(entries.length);
  // Opaque dirs reported as replaced, by entry: undone below when the host has nothing the dir hides.
  const replacedAt = new Map<number, number>();

  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (progress && (i & 0x3fff) === 0) progress(i);
    const parentHides = e.parent >= 0 && hides[e.parent] === 1;
    const h = e.host0;
    if (e.whiteout) {
      // CASE(whiteout, absent): nothing. CASE(whiteout, *): deleted.
      const layerDir = e.parent >= 0 ? entries[e.parent]!.upper : e.upper ? parentB(e.upper) : undefined;
      if (h) changes.push(layerDir === undefined ? { path: e.host, change: 'deleted', type: h.type, size: h.size, host: h } : { path: e.host, change: 'deleted', type: h.type, size: h.size, host: h, layerDir });
      continue;
    }
    const up = e.up!;
    if (up.type === 'dir' && (e.opaque || parentHides)) hides[i] = 1;
    if (up.type === 'file' && up.nlink > 1) {
      const key = `${up.dev}:${up.ino}`;
      const l = links.get(key);
      if (l) l.push(e.host); else links.set(key, [e.host]);
      if (h?.type === 'file' && !onHost.has(key)) onHost.set(key, e.host);
    }
    if (e.skeleton) continue;
    const base: Change = { path: e.host, change: 'added', type: up.type, size: up.type === 'file' ? up.size : 0, upper: e.upper, up };
    if (e.xattrs.length) base.xattrs = e.xattrs;
    if (e.attrsUnread) base.attrsUnread = e.attrsUnread;
    if (e.layerRoot) base.layerRoot = true;
    if (e.xattrsRemoved) base.xattrsRemoved = e.xattrsRemoved;
    // Counted by the helper when asked (diff --stat); -3: not read there, counted on demand.
    if (e.lines !== undefined && e.lines !== -3) base.lines = e.lines >= 0 ? e.lines : null;
    if (e.text !== undefined && typeof e.text !== 'number') base.newText = e.text;
    if (up.type === 'symlink') {
      try { base.target = readlinkB(e.upper); } catch (err) {
        errors.push(`${e.host}: cannot read the sandbox's symlink (${(err as NodeJS.ErrnoException).code})`);
        continue;
      }
      base.size = base.target.length;
    }
    if (!h) {
      // CASE(*, absent): added (an opaque dir too: it hides nothing).
      // A new entry's ACL is worth seeing in the review: it says who else gets access.
      const acl = e.xattrs.length ? xattrDetails(e.xattrs.filter(([n]) => isAclName(n)), []) : [];
      let c = acl.length ? { ...base, details: acl } : base;
      if (up.type !== 'symlink' && givenAway(up, parentOf(e), reviewer)) {
        c = { ...c, details: [`owner ${up.uid}:${up.gid}`, ...(c.details ?? [])], givenAway: true };
      }
      if (acl.length && aclGivesAccess(e.xattrs, [], up.uid, reviewer)) c = { ...c, aclGrant: true };
      changes.push(c);
      // One name of its inode only: a hard link made inside shares the mark of the file it links.
      if (e.copiedFrom !== undefined && up.nlink === 1) copied.push([c, e.copiedFrom, i]);
      // Made anew, which a move to another overlay does (moves.ts asks its time and bytes).
      else if (e.copiedFrom === undefined && up.type === 'file' && up.nlink === 1 && up.size > 0) made.push(c);
      continue;
    }
    base.host = h;
    // An ACL that grants another user or group what the host's did not (a new one: the host
    // entry of another type had none the sandbox kept; e.hostXattrs is empty then).
    if (up.type !== 'symlink' && e.xattrs.length && aclGivesAccess(e.xattrs, e.hostXattrs, up.uid, reviewer)) base.aclGrant = true;
    // A host entry given to another user (`chown 1000 /etc/hosts`, `chgrp staff` of a g+w
    // dir; `rm f; mkdir f; chown 1000 f` replaces it): the same rule as a new entry's, asked
    // only where the owner changed (an opaque dir remade by its own owner gives nothing away).
    const given = up.type !== 'symlink' && (up.uid !== h.uid || up.gid !== h.gid)
      && givenAway(up, parentOf(e), reviewer);
    if (h.type !== up.type) {
      // CASE(file|dir|opaque-dir|symlink|fifo|socket|char|block, <another type>): replaced.
      // Its line names the new owner, as a new entry's does (no metadata diff across types).
      changes.push({ ...base, change: 'replaced', oldType: h.type, ...(given ? { details: [`owner ${up.uid}:${up.gid}`], givenAway: true } : {}) });
      continue;
    }
    if (up.type === 'dir' && e.opaque) {
      // CASE(opaque-dir, dir): replaced, or only metadata when it hides nothing (below).
      replacedAt.set(i, changes.length);
      changes.push({ ...base, change: 'replaced', oldType: 'dir', opaque: true, details: metadataDiff(up, h, e.xattrs, e.hostXattrs), ...(given ? { givenAway: true } : {}) });
      continue;
    }
    // CASE(file, file) CASE(symlink, symlink) CASE(char, char) CASE(block, block): content
    // compared, then metadata. CASE(dir, dir) CASE(fifo, fifo) CASE(socket, socket): metadata only.
    let modified = false;
    let targetBefore: string | undefined;
    try {
      // Two empty files are equal without opening either (the host's may be unreadable to us).
      if (up.type === 'file') modified = up.size !== h.size || (up.size > 0 && !sameContent(e.upper, e.host));
      else if (up.type === 'symlink') modified = base.target !== (targetBefore = readlinkB(e.host));
      else if (up.type === 'char' || up.type === 'block') modified = up.rdev !== h.rdev;
    } catch (err) {
      errors.push(`${e.host}: cannot compare with the host (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      continue;
    }
    const details = metadataDiff(up, h, e.xattrs, e.hostXattrs);
    if (modified) {
      const c: Change = { ...base, change: 'modified', details, ...(targetBefore !== undefined ? { targetBefore } : {}), ...(given ? { givenAway: true } : {}) };
      changes.push(c);
      // Another host file moved over this one (`mv foo.conf.dpkg-dist foo.conf`): its mark names that file.
      if (up.type === 'file' && up.nlink === 1 && e.copiedFrom !== undefined && e.copiedFrom.length && e.copiedFrom !== e.host) copied.push([c, e.copiedFrom, i]);
    }
    else if (details.length) changes.push({ ...base, change: 'metadata', details, ...(given ? { givenAway: true } : {}) });
  }

  // A file the sandbox copied up from the host that the host no longer has, unless it was moved
  // inside: its mark names another path (fuse-overlayfs), or an inode the host still has under
  // a name of this list, the one it was moved from (overlayfs's handle holds the inode number
  // among its words). An empty mark (overlayfs in a user namespace encodes no handle) says only
  // "copied up": it counts only in a layer where no host file could have been moved from, i.e.
  // nothing deleted inside (a whiteout, an emptied dir) nor written anew (a file made inside
  // over a host name, as `sed -i` and `mv x y && echo > x` leave). A mark that cannot be read
  // is no evidence.
  if (copied.length) {
    let inos: Set<number> | null = null;
    let movable: Set<number> | null = null;
    // The layer of entry k: the last start at or before it.
    const layerOf = (k: number): number => { let j = layerStarts.length - 1; while (j > 0 && layerStarts[j]! > k) j--; return j; };
    for (const [c, from, i] of copied) {
      if (c.change !== 'added') continue;
      if (typeof from === 'string') { if (from === c.path) c.hostGone = true; continue; }
      if (!from.length) {
        if (!movable) {
          movable = new Set();
          for (let j = 0; j < layerStarts.length; j++) {
            const end = j + 1 < layerStarts.length ? layerStarts[j + 1]! : entries.length;
            for (let k = layerStarts[j]!; k < end; k++) {
              const x = entries[k]!;
              if (x.host0 && (x.whiteout || x.opaque || (x.host0.type !== 'dir' && x.copiedFrom === undefined))) { movable.add(j); break; }
            }
          }
        }
        if (!movable.has(layerOf(i))) c.hostGone = true;
        continue;
      }
      const words = handleWords(from);
      if (!words) continue;
      if (!inos) { inos = new Set(); for (const x of entries) if (x.host0) inos.add(x.host0.ino % 0x100000000); }
      if (!words.some((w) => inos!.has(w))) c.hostGone = true;
    }
  }

  // A new name the sandbox gave a file the host already had (`ln ~/.bashrc notes`): the
  // review says which host file it links to, and commit copies it unless asked to link.
  for (const c of changes) {
    if (c.type !== 'file' || !c.up || c.up.nlink < 2 || c.change === 'deleted') continue;
    const other = onHost.get(`${c.up.dev}:${c.up.ino}`);
    if (other !== undefined && other !== c.path) c.linksTo = other;
  }

  // Host entries that an opaque dir hides are deleted in the sandbox's view.
  const present = new Map<number, Set<string>>();
  for (let i = 0; i < entries.length; i++) {
    const p = entries[i]!.parent;
    if (p >= 0 && hides[p]) {
      let s = present.get(p);
      if (!s) present.set(p, (s = new Set()));
      s.add(entries[i]!.host);
    }
  }
  // Listed by the helper, all in one call: without moving their atimes (host-tree.ts).
  const hiding: number[] = [];
  for (let i = 0; i < entries.length; i++) if (hides[i] && entries[i]!.host0?.type === 'dir') hiding.push(i);
  const listed = hostDirNames(hiding.map((i) => entries[i]!.host));
  for (const i of hiding) {
    const e = entries[i]!;
    const names = listed.get(e.host)!;
    if (typeof names === 'string') {
      errors.push(`${e.host}: cannot list the host dir (${names})`);
      continue;
    }
    const seen = present.get(i);
    let hidden = 0;
    for (const n of names) {
      const p = joinB(e.host, n);
      if (seen?.has(p)) continue;
      const h = lstatB(p);
      if (h) { changes.push({ path: p, change: 'deleted', type: h.type, size: h.size, host: h, layerDir: e.upper }); hidden++; }
    }
    // An opaque dir that hides nothing of the host (made new by a package manager, then
    // committed) is not a replacement: only its own metadata can still differ.
    const at = replacedAt.get(i);
    if (!hidden && at !== undefined) {
      const { opaque: _o, oldType: _t, ...c } = changes[at]!;
      changes[at] = c.details?.length ? { ...c, change: 'metadata' } : null!;
    }
  }
  const out = replacedAt.size ? changes.filter((c) => c !== null) : changes;
  // A host file moved inside: its new name's line and its old name's say so.
  if (copied.length || made.length) {
    const deleted = out.filter((c) => c.change === 'deleted');
    const marked = [...copied.map(([change, mark]) => ({ change, mark })), ...made.map((change) => ({ change, mark: null }))];
    if (deleted.length) pairMoves(marked, deleted, sameContent, budget);
    // A host dir moved: `mv` copied its tree (files made anew), and its deletion is one change.
    if (made.length && deleted.some((c) => c.type === 'dir')) pairDirMoves(out, made, sameContent, budget, undefined, !columns);
    if (copies) {
      // A copy of a host file the sandbox then changed (a backup, a rotated log): said as one.
      pairCopies(marked, keptHostFiles(out), sameContent, budget);
      // A copy named after its host file (`cp fstab fstab.bak`), which the sandbox may not have changed.
      pairNamedCopies(marked.map((m) => m.change), out, sameContent, budget, copies);
    }
  }
  return { changes: out, errors, links, made };
}
