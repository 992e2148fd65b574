// The image as the sandbox's lower layers show it, as one tree: what the change list compares
// the sandbox with (the "host" side of an image sandbox). Files are hard links to the cached
// layers' own inodes (no data is copied), directories are made with the image's metadata, and
// each layer's whiteouts and opaque directories are applied as overlayfs applies them. Every
// access goes through beneath.ts; the layers are ours but were made from hostile input.
//
// Every walk here goes down with an fd per level (a child opened from its parent's fd), never
// from the top by path again: a layer's tree can be as deep as the tar reader allows
// (MAX_DEPTH), and opening each directory from the root made one chain of 5000 directories
// cost 12.5 million opens (sbx ran for minutes). Open fds: two per level at most.
import { chmodSync, chownSync, linkSync, mkdirSync, utimesSync } from 'node:fs';
import { Dir, removeTreeAt } from '../beneath.js';
import { getXattrs } from '../changes/xattr.js';
import { SbxError } from '../base/errors.js';
import { MAX_IMAGE_ENTRIES, OPAQUE_XATTR, tooManyLinks } from './unpack.js';
import { RoomBudget } from './room.js';

interface DirMeta { mode: number; uid: number; gid: number; atime: Date; mtime: Date }

/** One directory on a walk's path: its fds and the subdirectories not yet visited. */
interface Frame { rel: string; a: Dir; b: Dir | null; subdirs: string[] }

const join = (rel: string, name: string): string => (rel === '' ? name : `${rel}/${name}`);

/**
 * Walks the directories of `a` depth first, parents before children, each opened from its
 * parent's fd; `b` (when given) is walked alongside, as far as it has the same directories.
 * `visit` sees each directory and returns the names of its subdirectories to go into;
 * `leave` (optional) runs once every subdirectory of it is done.
 */
function walkDirs(a: Dir, b: Dir | null, visit: (f: Frame) => string[], leave?: (f: Frame) => void): void {
  const root: Frame = { rel: '', a: Dir.openBeneath(a, ''), b: b && Dir.openBeneath(b, ''), subdirs: [] };
  const stack: Frame[] = [root];
  try {
    root.subdirs = visit(root);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const name = top.subdirs.pop();
      if (name === undefined) {
        leave?.(top);
        stack.pop();
        top.a.close();
        top.b?.close();
        continue;
      }
      const a2 = Dir.openBeneath(top.a, name);
      let b2: Dir | null = null;
      try {
        if (top.b?.lstat(name)?.isDirectory()) b2 = Dir.openBeneath(top.b, name);
      } catch (e) { a2.close(); throw e; }
      const f: Frame = { rel: join(top.rel, name), a: a2, b: b2, subdirs: [] };
      stack.push(f);
      f.subdirs = visit(f);
    }
  } finally {
    for (const f of stack) { f.a.close(); f.b?.close(); }
  }
}

const subdirsOf = (d: Dir): string[] => d.list().filter((e) => e.isDirectory()).map((e) => e.name as string);

/**
 * Builds the merged tree of `layers` (absolute paths of unpacked layer trees, bottom first) in
 * `outPath` (an empty directory of ours). `asRoot`: keep the image's owners. Every entry of
 * every layer counts against `maxEntries` (the image's limit: layers cached for other images
 * were never counted together), and each directory made takes an inode from the store's
 * reserve, as an unpack's entries do (a file is a hard link: no inode of its own).
 */
export function mergeLayers(layers: string[], outPath: string, asRoot: boolean, ref = 'the image', maxEntries = MAX_IMAGE_ENTRIES): void {
  const out = Dir.open(outPath);
  const dirMeta = new Map<string, DirMeta>();
  const room = new RoomBudget(outPath, `the merged tree of ${JSON.stringify(ref).slice(0, 200)}`);
  let count = 0;
  const counted = (): void => {
    if (++count > maxEntries) throw new SbxError(`image ${JSON.stringify(ref).slice(0, 200)} has more than ${maxEntries} entries in all its layers, sbx's limit per image: refused`, 125, 'no real image holds that many; the image is damaged or hostile');
  };
  try {
    for (const layerPath of layers) {
      const layer = Dir.open(layerPath);
      try {
        // An opaque marker matters only on a directory the layers below already have: those
        // are the only ones asked about (one helper call per layer).
        const below: string[] = [];
        walkDirs(layer, out, (f) => {
          if (f.rel !== '' && f.b) below.push(f.rel);
          return subdirsOf(f.a);
        });
        const opaque = new Set<string>();
        getXattrs(below.map((d) => `${layerPath}/${d}`), layerPath).forEach((r, i) => {
          if (r.attrs.some(([n, v]) => n === OPAQUE_XATTR && v.toString() === 'y')) opaque.add(below[i]!);
        });
        walkDirs(layer, out, (f) => {
          const ld = f.a;
          // Its parents were made as directories in `out` before (parents come first).
          const od = f.b!;
          const st = ld.stat();
          dirMeta.set(f.rel, { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, atime: st.atime, mtime: st.mtime });
          if (opaque.has(f.rel)) for (const e of od.list()) removeTreeAt(od, e.name);
          const subdirs: string[] = [];
          for (const e of ld.list()) {
            counted();
            const name = e.name as string;
            const there = od.lstat(name);
            if (e.isCharacterDevice() && ld.lstat(name)!.rdev === 0) {
              if (there) removeTreeAt(od, name);
              continue;
            }
            if (e.isDirectory()) {
              if (there && !there.isDirectory()) removeTreeAt(od, name);
              if (!there || !there.isDirectory()) { room.take(0, 1); mkdirSync(od.at(name), { mode: 0o700 }); }
              subdirs.push(name);
              continue;
            }
            if (there) removeTreeAt(od, name);
            // link(2) never follows a symlink: a symlink is linked as itself.
            try { linkSync(ld.at(name), od.at(name)); } catch (err) {
              // The merged tree adds a link to every layer file: one at the filesystem's limit stops here.
              if ((err as NodeJS.ErrnoException).code === 'EMLINK') throw tooManyLinks(layerPath.slice(layerPath.lastIndexOf('/') + 1), f.rel === '' ? name : `${f.rel}/${name}`);
              throw err;
            }
          }
          return subdirs;
        });
      } finally { layer.close(); }
    }
    // Directories that survived, children before parents, with the metadata of their topmost layer.
    walkDirs(out, null, (f) => subdirsOf(f.a), (f) => {
      const m = dirMeta.get(f.rel);
      if (!m) return;
      if (asRoot) chownSync(f.a.self(), m.uid, m.gid);
      chmodSync(f.a.self(), m.mode);
      utimesSync(f.a.self(), m.atime, m.mtime);
    });
  } finally {
    out.close();
  }
}
