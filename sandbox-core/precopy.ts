// fuse-overlayfs reads the host as the user, so it cannot copy up (or delete) a file the user
// cannot read. Package managers lock with empty root-only files (dpkg's lock is 0640), and
// would fail inside an unprivileged sandbox for that alone. An empty file has no content to
// protect: sbx copies such files of the package managers' state directories into the layer
// beforehand, with the host's mode and times, so they are no change unless the command
// changes them.
import { accessSync, chmodSync, closeSync, constants, existsSync, lstatSync, openSync, readdirSync, utimesSync } from 'node:fs';
import { ensureUpperDirs } from './layer-dirs.js';
import { join, relative } from 'node:path';
import type { Layer } from './types.js';

export const PRECOPY_DIRS = [
  '/var/lib/dpkg', '/var/lib/dpkg/triggers', '/var/lib/apt/lists', '/var/cache/apt/archives',
  '/var/cache/debconf', '/var/lib/rpm', '/var/lib/pacman',
];

function unreadable(path: string): boolean {
  try { accessSync(path, constants.R_OK); return false; } catch { return true; }
}

/** Returns how many files were copied. */
export function precopyEmptyUnreadable(layers: Layer[], layersDir: string, dirs = PRECOPY_DIRS): number {
  let n = 0;
  for (const layer of layers) {
    if (layer.format !== 'fuse') continue;
    const upperRoot = join(layersDir, layer.dir, 'upper');
    for (const dir of dirs) {
      if (dir !== layer.target && !dir.startsWith(layer.target + '/')) continue;
      let names: string[];
      try { names = readdirSync(dir); } catch { continue; }
      for (const name of names) {
        const host = join(dir, name);
        let st;
        try { st = lstatSync(host); } catch { continue; }
        if (!st.isFile() || st.size !== 0 || !unreadable(host)) continue;
        const up = join(upperRoot, relative(layer.target, host));
        if (existsSync(up)) continue;
        ensureUpperDirs(upperRoot, layer.target, dir);
        closeSync(openSync(up, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600));
        chmodSync(up, st.mode & 0o7777);
        // Seconds as a float keep the host's sub-millisecond time (a Date would drop it).
        utimesSync(up, st.atimeMs / 1000, st.mtimeMs / 1000);
        n++;
      }
    }
  }
  return n;
}
