// Pass 1 of a scan: walk every upper layer with a manual stack (the fastest walk in Node),
// decode overlayfs whiteouts and opaque dirs, and lstat the matching host path. Every
// directory is opened fd-relative from the layers dir or `/` (fsat.ts): any depth, and no
// symlink in any component is followed, on either side.
import { lstatSync, type Dirent } from 'node:fs';
import type { Layer, SandboxMeta } from '../types.js';
import type { EntryStat } from './types.js';
import { fromUser, joinB } from './bpath.js';
import { isWithin } from '../base/within.js';
import { toEntryStat } from './stat.js';
import { dirAt, trustRoot } from './fsat.js';
import type { Dir } from '../beneath.js';
import { getXattrs, isOverlayXattr, type Xattrs } from './xattr.js';
import { unshiftXattrs } from './acl.js';

export interface UpperEntry {
  /** Host path (byte string). */
  host: string;
  /** Path in the upper layer; '' for a whiteout in the `.wh.` form (nothing to read). */
  upper: string;
  /** Index of the parent entry, -1 at a layer root. */
  parent: number;
  whiteout: boolean;
  /** The directory hides what the host has below it (own xattr or `.wh..wh..opq`). */
  opaque: boolean;
  up: EntryStat | null;
  /** Host entry; null when absent. */
  host0: EntryStat | null;
  /** Not reported itself: another layer's mount point or an ancestor of one. */
  skeleton: boolean;
  xattrs: Xattrs;
  hostXattrs: Xattrs;
}

export interface WalkResult {
  entries: UpperEntry[];
  errors: string[];
  /** Bytes the upper layers hold on disk (allocated blocks): what discarding frees. */
  layerBytes: number;
}

export interface WalkOptions {
  /** Called now and then with the number of entries seen. */
  progress?: (n: number) => void;
}

const OPAQUE_NAMES = new Set(['user.overlay.opaque', 'trusted.overlay.opaque', 'user.fuseoverlayfs.opaque']);
const WHITEOUT_NAMES = new Set(['user.overlay.whiteout', 'trusted.overlay.whiteout']);

export function upperDirOf(meta: SandboxMeta, layer: Layer): string {
  return `${meta.layersDir}/${layer.dir}/upper`;
}

function unshift(id: number, base: number, count: number): number {
  return id >= base && id < base + count ? id - base : id;
}

export function walkUppers(meta: SandboxMeta, opts: WalkOptions = {}): WalkResult {
  const shift = meta.idShift ?? null;
  const asRoot = meta.uid !== 0 && !meta.options?.keepUser;
  // The lower layers are a tree the user owns (an image sandbox, --rootfs), not the host's.
  const ownLower = !!(meta.image || meta.rootfs);
  const entries: UpperEntry[] = [];
  const errors: string[] = [];
  const targets = meta.layers.map((l) => fromUser(l.target));
  const hidden = meta.hidden.map(fromUser);
  // A bind's destination that the view lacked is made by the helper in the layer below the
  // bind; the command only ever saw the bound host path there.
  const bindPoints = (meta.bindPoints ?? []).map(fromUser);
  // Directories shown empty because the user cannot read them (unreadable.ts): opaque in the
  // layer, but hiding nothing the sandbox saw; the host below them may be unreadable to us.
  const shownEmpty = (meta.shownEmpty ?? []).map(fromUser);
  // Entries needing attributes: dirs (opaque?), empty files (xattr whiteout?), and entries
  // the host also has (metadata comparison needs both sides).
  const needUpper: number[] = [];
  const needHost: number[] = [];
  const layersRoot = fromUser(meta.layersDir);
  let layerBytes = 0;
  trustRoot(layersRoot);

  meta.layers.forEach((layer, li) => {
    const target = targets[li]!;
    const others = targets.filter((t, k) => k !== li && t !== target && isWithin(t, target));
    const root = fromUser(upperDirOf(meta, layer));
    const fuse = layer.format === 'fuse';
    const stack: Array<[string, string, number, boolean]> = [[root, target, -1, true]];
    while (stack.length) {
      const [udir, hdir, parent, hostIsDir] = stack.pop()!;
      let list: Dirent[];
      let ud: Dir;
      try {
        ud = dirAt(udir);
        list = ud.list();
      } catch (e) {
        errors.push(`${hdir}: cannot read the sandbox's copy (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        continue;
      }
      // The host dir, when it is one: its entries are looked up from it, never through a path.
      let hd: Dir | null = null;
      if (hostIsDir) {
        try { hd = dirAt(hdir); } catch { hd = null; }
      }
      for (const d of list) {
        let name = d.name as string;
        let wh = false;
        if (fuse && name.startsWith('.wh.')) {
          if (name === '.wh..wh..opq') {
            if (parent >= 0) entries[parent]!.opaque = true;
            continue;
          }
          name = name.slice(4);
          wh = true;
        }
        const host = joinB(hdir, name);
        const upper = wh ? '' : joinB(udir, name);
        if (others.some((t) => t === host)) continue;
        const skeleton = others.some((t) => isWithin(t, host));
        if (hidden.some((h) => isWithin(host, h))) continue;
        if (bindPoints.includes(host)) continue;
        let up: EntryStat | null = null;
        if (!wh) {
          try {
            const st = lstatSync(ud.at(d.name as string), { throwIfNoEntry: false });
            if (!st) continue;
            layerBytes += st.blocks * 512;
            up = toEntryStat(st);
          } catch (e) {
            errors.push(`${host}: cannot stat the sandbox's copy (${(e as NodeJS.ErrnoException).code})`);
            continue;
          }
          if (d.isCharacterDevice() && up.rdev === 0) wh = true;
        }
        let host0: EntryStat | null = null;
        if (hd) {
          try {
            const st = lstatSync(hd.at(name), { throwIfNoEntry: false });
            host0 = st ? toEntryStat(st) : null;
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EACCES' || !shownEmpty.some((d) => host !== d && isWithin(host, d))) {
              errors.push(`${host}: cannot stat the host path (${(e as NodeJS.ErrnoException).code})`);
              continue;
            }
          }
        }
        // fuse-overlayfs (squash_to_root) writes its upper files under whatever uid it runs as:
        // ownership there means nothing. Inside, everything looked root-owned, so a copy-up
        // keeps the host's owner and a new entry is root's.
        if (fuse && up) up = { ...up, uid: host0 && host0.type === up.type ? host0.uid : 0, gid: host0 && host0.type === up.type ? host0.gid : 0 };
        // Root's remapped sandboxes: the layers hold shifted ids; the change list speaks in
        // the ids the sandbox saw, which are what a commit restores.
        else if (shift && up) up = { ...up, uid: unshift(up.uid, shift.uid, shift.count), gid: unshift(up.gid, shift.gid, shift.count) };
        // An ordinary user's skeleton layers (new entries in `/`, `/run`, ...) were written by
        // root inside, which is the user on the host: they are root's, as a real root run makes them.
        else if (asRoot && up && (layer.skeleton || ownLower)) up = { ...up, uid: up.uid === meta.uid ? 0 : up.uid, gid: up.gid === meta.gid ? 0 : up.gid };
        // An ordinary user's image cache (or --rootfs tree) is the user's, and root's inside.
        if (asRoot && host0 && ownLower) host0 = { ...host0, uid: host0.uid === meta.uid ? 0 : host0.uid, gid: host0.gid === meta.gid ? 0 : host0.gid };
        const idx = entries.length;
        entries.push({ host, upper, parent, whiteout: wh, opaque: false, up, host0, skeleton, xattrs: [], hostXattrs: [] });
        if (!wh && up) {
          needUpper.push(idx); // every entry: attributes are data to commit, and mark whiteouts and opaque dirs
          if (host0 && host0.type === up.type && host0.type !== 'symlink') needHost.push(idx);
          if (up.type === 'dir') stack.push([upper, host, idx, host0?.type === 'dir']);
        }
        if ((idx & 0x3fff) === 0 && opts.progress) opts.progress(idx);
      }
    }
  });

  if (needUpper.length || needHost.length) {
    const res = getXattrs(needUpper.map((i) => entries[i]!.upper), layersRoot).concat(getXattrs(needHost.map((i) => entries[i]!.host), '/'));
    needUpper.forEach((i, k) => {
      const e = entries[i]!;
      const r = res[k]!;
      if (r.errno) { errors.push(`${e.host}: cannot read the sandbox copy's attributes (errno ${r.errno})`); return; }
      for (const [n, v] of r.attrs) {
        if (OPAQUE_NAMES.has(n) && v.toString() === 'y' && e.up?.type === 'dir') e.opaque = true;
        if (WHITEOUT_NAMES.has(n) && e.up?.type === 'file' && e.up.size === 0) e.whiteout = true;
      }
      const user = r.attrs.filter(([n]) => !isOverlayXattr(n));
      // ACL and capability ids in a shifted layer are shifted like owners (see acl.ts).
      if (user.length) e.xattrs = shift ? unshiftXattrs(user, shift) : user;
    });
    needHost.forEach((i, k) => {
      const r = res[needUpper.length + k]!;
      const user = r.attrs.filter(([n]) => !isOverlayXattr(n));
      if (user.length) entries[i]!.hostXattrs = user;
    });
  }
  if (shownEmpty.length) for (const e of entries) if (e.opaque && shownEmpty.includes(e.host)) e.opaque = false;
  return { entries, errors, layerBytes };
}
