// The image as the sandbox's lower layers show it, as one tree: what the change list compares
// the sandbox with (the "host" side of an image sandbox). Files are hard links to the cached
// layers' own inodes (no data is copied), directories are made with the image's metadata, and
// each layer's whiteouts and opaque directories are applied as overlayfs applies them. Every
// access goes through beneath.ts; the layers are ours but were made from hostile input.
import { chmodSync, chownSync, linkSync, mkdirSync, utimesSync } from 'node:fs';
import { Dir, removeTreeAt } from '../beneath.js';
import { getXattrs } from '../changes/xattr.js';
import { OPAQUE_XATTR } from './unpack.js';

/** Every directory of a layer tree (relative byte-string paths, '' for the root), parents first. */
function layerDirs(root: Dir): string[] {
  const out: string[] = [''];
  for (let i = 0; i < out.length; i++) {
    const rel = out[i]!;
    const d = rel === '' ? Dir.openBeneath(root, '') : Dir.openBeneath(root, rel);
    try {
      for (const e of d.list()) if (e.isDirectory()) out.push(rel === '' ? e.name : `${rel}/${e.name}`);
    } finally { d.close(); }
  }
  return out;
}

/**
 * Builds the merged tree of `layers` (absolute paths of unpacked layer trees, bottom first) in
 * `outPath` (an empty directory of ours). `asRoot`: keep the image's owners.
 */
export function mergeLayers(layers: string[], outPath: string, asRoot: boolean): void {
  const out = Dir.open(outPath);
  const dirMeta = new Map<string, { mode: number; uid: number; gid: number; atime: Date; mtime: Date }>();
  try {
    for (const layerPath of layers) {
      const layer = Dir.open(layerPath);
      try {
        const dirs = layerDirs(layer);
        const sub = dirs.filter((d) => d !== '');
        const opaque = new Set<string>();
        getXattrs(sub.map((d) => `${layerPath}/${d}`), layerPath).forEach((r, i) => {
          if (r.attrs.some(([n, v]) => n === OPAQUE_XATTR && v.toString() === 'y')) opaque.add(sub[i]!);
        });
        for (const rel of dirs) {
          const ld = rel === '' ? Dir.openBeneath(layer, '') : Dir.openBeneath(layer, rel);
          // Its parents were made as directories in `out` before (parents come first).
          const od = rel === '' ? Dir.openBeneath(out, '') : Dir.openBeneath(out, rel);
          try {
            const st = ld.stat();
            dirMeta.set(rel, { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, atime: st.atime, mtime: st.mtime });
            if (opaque.has(rel)) for (const e of od.list()) removeTreeAt(od, e.name);
            for (const e of ld.list()) {
              const name = e.name as string;
              const there = od.lstat(name);
              if (e.isCharacterDevice() && ld.lstat(name)!.rdev === 0) {
                if (there) removeTreeAt(od, name);
                continue;
              }
              if (e.isDirectory()) {
                if (there && !there.isDirectory()) removeTreeAt(od, name);
                if (!there || !there.isDirectory()) mkdirSync(od.at(name), { mode: 0o700 });
                continue;
              }
              if (there) removeTreeAt(od, name);
              // link(2) never follows a symlink: a symlink is linked as itself.
              linkSync(ld.at(name), od.at(name));
            }
          } finally { ld.close(); od.close(); }
        }
      } finally { layer.close(); }
    }
    // Directories that survived, deepest first, with the metadata of their topmost layer.
    for (const [rel, m] of [...dirMeta].sort((a, b) => b[0].length - a[0].length)) {
      let d: Dir;
      try { d = rel === '' ? Dir.openBeneath(out, '') : Dir.openBeneath(out, rel); } catch { continue; }
      try {
        if (asRoot) chownSync(d.self(), m.uid, m.gid);
        chmodSync(d.self(), m.mode);
        utimesSync(d.self(), m.atime, m.mtime);
      } finally { d.close(); }
    }
  } finally {
    out.close();
  }
}
