// fuse-overlayfs reads the host as the user, so it cannot copy up (or delete) a file the user
// cannot read. Package managers lock with empty root-only files (dpkg's lock is 0640), and
// would fail inside an unprivileged sandbox for that alone. An empty file has no content to
// protect: sbx copies such files of the package managers' state directories into the layer
// beforehand, with the host's mode and times, so they are no change unless the command
// changes them. The layer is resolved through beneath.ts: where an earlier run in the sandbox
// turned one of these directories into a symlink, nothing is copied there.
import { accessSync, closeSync, constants, fchmodSync, futimesSync, lstatSync, openSync, readdirSync } from 'node:fs';
import { ensureUpperDirs } from './layer-dirs.js';
import { join } from 'node:path';
import { Dir, NotBeneathError } from './beneath.js';
import type { Layer } from './types.js';

const PRECOPY_DIRS = [
  '/var/lib/dpkg', '/var/lib/dpkg/triggers', '/var/lib/apt/lists', '/var/cache/apt/archives',
  '/var/cache/debconf', '/var/lib/rpm', '/var/lib/pacman',
];

function unreadable(path: string): boolean {
  try { accessSync(path, constants.R_OK); return false; } catch { return true; }
}

/**
 * Whether precopyEmptyUnreadable may write into this layer: sbx then makes that layer's dirs
 * itself, before it (the helper makes the others: sandbox.ts prepareLayers).
 */
export function mayPrecopyInto(layer: Layer, dirs = PRECOPY_DIRS): boolean {
  return layer.format === 'fuse' && dirs.some((dir) => dir === layer.target || dir.startsWith(layer.target + '/'));
}

/** Returns how many files were copied. `layers` is the open directory holding the layer dirs. */
export function precopyEmptyUnreadable(layerList: Layer[], layers: Dir, dirs = PRECOPY_DIRS): number {
  let n = 0;
  for (const layer of layerList) {
    if (layer.format !== 'fuse') continue;
    for (const dir of dirs) {
      if (dir !== layer.target && !dir.startsWith(layer.target + '/')) continue;
      let names: string[];
      try { names = readdirSync(dir); } catch { continue; }
      const todo = names.flatMap((name) => {
        const host = join(dir, name);
        const st = lstatSync(host, { throwIfNoEntry: false });
        return st && st.isFile() && st.size === 0 && unreadable(host) ? [{ name, st }] : [];
      });
      if (!todo.length) continue;
      let upper: Dir | null = null, parent: Dir | null = null;
      try {
        upper = Dir.openBeneath(layers, `${layer.dir}/upper`);
        parent = ensureUpperDirs(upper, layer.target, dir);
      } catch (e) {
        upper?.close();
        if (e instanceof NotBeneathError) continue; // the sandbox replaced this directory: nothing of the host's shows there
        throw e;
      }
      try {
        for (const { name, st } of todo) {
          if (parent.lstat(name)) continue;
          const fd = openSync(parent.at(name), constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
          try {
            fchmodSync(fd, st.mode & 0o7777);
            // Seconds as a float keep the host's sub-millisecond time (a Date would drop it).
            futimesSync(fd, st.atimeMs / 1000, st.mtimeMs / 1000);
          } finally {
            closeSync(fd);
          }
          n++;
        }
      } finally {
        if (parent !== upper) parent.close();
        upper.close();
      }
    }
  }
  return n;
}
