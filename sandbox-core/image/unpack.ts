// One verified image layer written out as an overlayfs lower layer: OCI whiteouts become
// overlay whiteouts (char 0/0, which Linux lets anyone make since 5.8) and opaque directories
// carry `user.overlay.opaque` (sbx mounts every overlay with `userxattr`). The layer is hostile:
// every entry is placed through beneath.ts (no symlink followed in any component, so a
// symlink the layer itself made cannot lead a later entry outside), names with `..` were
// already refused by the tar reader, and absolute names are taken relative to the layer root.
import {
  closeSync, fchmodSync, fchownSync, ftruncateSync, futimesSync, linkSync, lchownSync, lutimesSync, mkdirSync, openSync,
  symlinkSync, writeSync, chmodSync, chownSync, utimesSync, constants as C,
} from 'node:fs';
import { Dir, NotBeneathError, removeTreeAt, resolveParentBeneath } from '../beneath.js';
import { SbxError } from '../base/errors.js';
import { mknodBatch, setXattrs } from '../changes/xattr.js';
import { layerOp, type LayerEntry } from './tar-reader.js';
import { RoomBudget } from './room.js';

export const OPAQUE_XATTR = 'user.overlay.opaque';

export interface UnpackReport {
  entries: number;
  /** Device nodes are never made in the cache (they are no business of an image's files). */
  skippedDevices: number;
}

interface DirMeta { rel: string; mode: number; uid: number; gid: number; mtimeMs: number }

/**
 * Entries one layer may hold. Time and memory grow with the count (measured, as root, load
 * 8-10: 100 000 empty files 70 s and 111 MB peak RSS, 200 000 168 s and 135 MB; 100 000
 * directories 190 s and 145 MB, 200 000 281 s and 213 MB: ~0.7 KB per directory, whose
 * metadata is kept until the end), and a million entries is an 8 MB gzip blob. Real layers
 * hold a few hundred thousand at most.
 */
export const MAX_ENTRIES = 1_000_000;

/**
 * Entries one image may hold in all its layers together (and its merged tree adds one per
 * entry it keeps): without it, 127 layers of MAX_ENTRIES each were 127 million entries to
 * unpack and link. Twice a layer's limit: the biggest real images hold a few hundred thousand.
 */
export const MAX_IMAGE_ENTRIES = 2_000_000;

/** Zero regions this long (aligned in the file) stay holes: the filesystem's blocks fit in it. */
const HOLE = 64 << 10;
const ZEROS = Buffer.alloc(HOLE);

/**
 * Writes a file entry's content to `fd` as it arrives (never held whole), skipping zero
 * regions so they stay holes (a sparse file in the image costs the store nothing), and taking
 * each written byte from the room budget.
 */
async function writeContent(fd: number, e: LayerEntry, room: RoomBudget): Promise<void> {
  let pos = 0;
  const put = (c: Buffer, from: number, to: number, at: number): void => {
    room.take(to - from);
    for (let off = from; off < to;) off += writeSync(fd, c, off, to - off, at + off - from);
  };
  for await (const c of e.chunks) {
    let run = -1; // start in c of the data not yet written
    for (let i = 0; i < c.length;) {
      const end = Math.min(c.length, i + HOLE - ((pos + i) % HOLE));
      const zero = c.subarray(i, end).equals(ZEROS.subarray(0, end - i));
      if (zero && run >= 0) { put(c, run, i, pos + run); run = -1; }
      if (!zero && run < 0) run = i;
      i = end;
    }
    if (run >= 0) put(c, run, c.length, pos + run);
    pos += c.length;
  }
  // Zeros at the end were never written: the size makes them a hole.
  ftruncateSync(fd, pos);
}

const TAMPERED = 'the image is damaged or was tampered with';

/** A hard link the store's filesystem cannot make: its target has as many links as it allows. */
export function tooManyLinks(layer: string, target: string): SbxError {
  return new SbxError(`image layer ${layer}: ${JSON.stringify(target).slice(0, 200)} has more hard links than the store's filesystem allows (EMLINK): refused`, 125, 'no real image links one file that often; the image is damaged or hostile');
}

function contained(layer: string, name: string): SbxError {
  return new SbxError(`image layer ${layer}: entry ${JSON.stringify(name).slice(0, 200)} goes through a symlink or a file: refused`, 125, TAMPERED);
}

/**
 * Writes the entries of one layer into `root` (an empty directory of ours). `asRoot`: keep the
 * image's owners (root's cache, shown inside through an idmapped mount); otherwise every file
 * is ours and a directory keeps at least u+rwx so the cache stays readable to us. setuid and
 * setgid bits are dropped: the cache is on the host, and inside the overlay is nosuid anyway.
 */
export async function unpackLayer(entries: AsyncIterable<LayerEntry>, rootPath: string, label: string, asRoot: boolean, maxEntries = MAX_ENTRIES, limit = 'per layer'): Promise<UnpackReport> {
  const root = Dir.open(rootPath);
  // A layer without an entry for its root still has one, as every image builder's root is.
  const dirs = new Map<string, DirMeta>([['', { rel: '', mode: 0o755, uid: 0, gid: 0, mtimeMs: Date.now() }]]);
  const whiteouts = new Set<string>();
  const opaque = new Set<string>();
  const fifos: Array<{ rel: string; e: LayerEntry }> = [];
  const report: UnpackReport = { entries: 0, skippedDevices: 0 };
  // A gzip layer can unpack to ~1000 times its blob: the store's disk is checked as it fills.
  const room = new RoomBudget(rootPath, `image layer ${label}`);
  // The entry and each parent it may create is at most one inode each: the layer's entry
  // count is the stranger's to choose (a million empty files is an 8 MB blob).
  const charge = (rel: string): void => {
    let inodes = 1;
    for (let i = rel.indexOf('/'); i >= 0; i = rel.indexOf('/', i + 1)) inodes++;
    room.take(0, inodes);
  };
  const parentOf = (rel: string): { dir: Dir; name: string } => {
    charge(rel);
    try { return resolveParentBeneath(root, rel, { create: true, mode: 0o755 }); } catch (e) {
      if (e instanceof NotBeneathError) throw contained(label, rel);
      throw e;
    }
  };
  const clear = (dir: Dir, name: string): void => {
    const st = dir.lstat(name);
    if (st) removeTreeAt(dir, name);
  };
  try {
    for await (const e of entries) {
      if (++report.entries > maxEntries) throw new SbxError(`image layer ${label} has more than ${maxEntries} entries, sbx's limit ${limit}: refused`, 125, 'no real image layer holds that many; the image is damaged or hostile');
      const op = layerOp(e);
      if (op.op === 'opaque') {
        if (op.dir !== '') {
          charge(op.dir);
          try { Dir.openBeneath(root, op.dir, { create: true, mode: 0o755 }).close(); } catch (err) {
            if (err instanceof NotBeneathError) throw contained(label, op.dir);
            throw err;
          }
        }
        opaque.add(op.dir);
        continue;
      }
      if (op.op === 'whiteout') {
        const { dir, name } = parentOf(op.name);
        try { clear(dir, name); } finally { dir.close(); }
        whiteouts.add(op.name);
        continue;
      }
      if (e.name === '') {
        // The layer's root directory itself: only its metadata.
        dirs.set('', { rel: '', mode: e.mode, uid: e.uid, gid: e.gid, mtimeMs: e.mtimeMs });
        continue;
      }
      whiteouts.delete(e.name);
      const { dir, name } = parentOf(e.name);
      try {
        const st = dir.lstat(name);
        if (e.type === 'dir') {
          if (st && !st.isDirectory()) removeTreeAt(dir, name);
          if (!st || !st.isDirectory()) mkdirSync(dir.at(name), { mode: 0o700 });
          dirs.set(e.name, { rel: e.name, mode: e.mode, uid: e.uid, gid: e.gid, mtimeMs: e.mtimeMs });
          continue;
        }
        if (st) removeTreeAt(dir, name);
        const mode = e.mode & 0o1777;
        const t = e.mtimeMs / 1000;
        switch (e.type) {
          case 'file': {
            const fd = openSync(dir.at(name), C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
            try {
              await writeContent(fd, e, room);
              if (asRoot) fchownSync(fd, e.uid, e.gid);
              fchmodSync(fd, mode);
              futimesSync(fd, t, t);
            } finally { closeSync(fd); }
            break;
          }
          case 'symlink':
            symlinkSync(Buffer.from(e.linkName, 'latin1'), dir.at(name));
            if (asRoot) lchownSync(dir.at(name), e.uid, e.gid);
            lutimesSync(dir.at(name), t, t);
            break;
          case 'hardlink': {
            // The target is resolved beneath the layer root like any name: never a path outside.
            let target: { dir: Dir; name: string };
            try { target = resolveParentBeneath(root, e.linkName); } catch (err) {
              if (err instanceof NotBeneathError) throw contained(label, e.linkName);
              throw err;
            }
            try {
              const ts = target.dir.lstat(target.name);
              if (!ts || ts.isDirectory()) throw new SbxError(`image layer ${label}: hard link ${JSON.stringify(e.name).slice(0, 200)} names a missing entry or a directory`, 125, TAMPERED);
              try { linkSync(target.dir.at(target.name), dir.at(name)); } catch (err) {
                // ext4 allows 65000 links to one inode: a layer of 100 000 links to one file was an internal error.
                if ((err as NodeJS.ErrnoException).code === 'EMLINK') throw tooManyLinks(label, e.linkName);
                throw err;
              }
            } finally { target.dir.close(); }
            break;
          }
          case 'fifo':
            fifos.push({ rel: e.name, e });
            break;
          default:
            report.skippedDevices++;
        }
      } finally {
        dir.close();
      }
    }
    // Whiteouts and fifos are made by the helper (Node has no mknod), beneath the layer root.
    const abs = (rel: string): string => `${rootPath}/${rel}`;
    const wl = [...whiteouts];
    mknodBatch('whiteout', wl.map(abs), rootPath).forEach((err, i) => {
      if (err) throw new SbxError(`image layer ${label}: cannot make the whiteout for ${JSON.stringify(wl[i]).slice(0, 200)} (errno ${err})`);
    });
    mknodBatch('fifo', fifos.map((f) => abs(f.rel)), rootPath).forEach((err, i) => {
      if (err) throw new SbxError(`image layer ${label}: cannot make the fifo ${JSON.stringify(fifos[i]!.rel).slice(0, 200)} (errno ${err})`);
    });
    for (const { rel, e } of fifos) {
      const { dir, name } = parentOf(rel);
      try {
        chmodSync(dir.at(name), e.mode & 0o777);
        if (asRoot) lchownSync(dir.at(name), e.uid, e.gid);
      } finally { dir.close(); }
    }
    // An opaque root would make every layer below pointless: no real image builder writes one.
    if (opaque.has('')) throw new SbxError(`image layer ${label} hides the whole root (an opaque marker at /): sbx does not support that`, 125, TAMPERED);
    const od = [...opaque];
    const y = Buffer.from('y');
    const errs = setXattrs(od.map((d) => ({ path: abs(d), attrs: [[OPAQUE_XATTR, y]] })), rootPath);
    if (errs.some((x) => x)) throw new SbxError(`image layer ${label}: cannot mark an opaque directory (errno ${errs.find((x) => x)})`);
    // Directories last, deepest first: their modes may forbid writing, their times move with every child.
    for (const d of [...dirs.values()].sort((a, b) => b.rel.length - a.rel.length)) {
      let dd: Dir;
      try { dd = Dir.openBeneath(root, d.rel); } catch (err) {
        // A later entry replaced it (a symlink, a file, a whiteout): the later one wins, as in
        // tar; its metadata is never applied through whatever stands there now.
        if (err instanceof NotBeneathError) continue;
        throw err;
      }
      try {
        if (asRoot) chownSync(dd.self(), d.uid, d.gid);
        chmodSync(dd.self(), asRoot ? d.mode & 0o1777 : (d.mode & 0o1777) | 0o700);
        utimesSync(dd.self(), d.mtimeMs / 1000, d.mtimeMs / 1000);
      } finally { dd.close(); }
    }
  } finally {
    root.close();
  }
  return report;
}
