// Directories of a sandbox's layers that the user cannot read: a sandbox's programs gave them
// to another inside user (apt leaves its 0700 `_apt` partial dirs behind). Root of a user
// namespace with the user's own mapping may read them (`sbx-helper as-mapped-root
// count-entries`), and an empty one holds nothing a commit could lose.
import { childProcess } from '../base/builtin.js';
import { countText } from '../base/count-text.js';
import { closeSync, openSync, constants as C } from 'node:fs';
import { O_PATH } from '../beneath.js';
import { helperPath } from '../helper.js';
import { rootPath } from './fsat.js';
import { chooseIdMapping, mappedRootArgs } from '../idmap.js';

export interface UnreadableDir {
  /** Its line in the walk's errors. */
  error: number;
  /** The layer's copy, relative to the layers dir (a byte string). */
  rel: string;
  fuse: boolean;
  /** The host has something at its path that an opaque dir would hide. */
  hidesHost: boolean;
}

interface Counted { entries: number; markers: number; opaqueXattr: boolean }

/**
 * What each directory (resolved beneath `layersRoot`, no symlink followed) holds, read as
 * mapped root; null where that cannot be known.
 */
function countAsMappedRoot(layersRoot: string, rels: string[]): Array<Counted | null> {
  const unknown = rels.map(() => null);
  // Root reads everything already: whatever it could not read, nobody can.
  if (!rels.length || process.getuid!() === 0) return unknown;
  const maps = mappedRootArgs(chooseIdMapping({ keepUser: false }).ops);
  if (!maps) return unknown;
  // From the fd the store opened (fsat.ts rootPath), never the layers path walked again.
  const fd = openSync(Buffer.from(rootPath(layersRoot), 'latin1'), O_PATH | C.O_DIRECTORY);
  let r;
  try {
    r = childProcess().spawnSync(helperPath(), ['as-mapped-root', ...maps, 'count-entries'], {
      input: Buffer.from(rels.map((p) => `${p}\0`).join(''), 'latin1'), stdio: ['pipe', 'pipe', 'pipe', fd],
    });
  } finally {
    closeSync(fd);
  }
  if (r.status !== 0 || r.stdout.length !== 16 * rels.length) return unknown;
  const o = r.stdout;
  return rels.map((_, i) => (o.readUInt32LE(16 * i) ? null : { entries: o.readUInt32LE(16 * i + 4), markers: o.readUInt32LE(16 * i + 8), opaqueXattr: o.readUInt32LE(16 * i + 12) !== 0 }));
}

/**
 * Clears the error of each dir that holds nothing (a fuse-overlayfs opaque marker is no data;
 * in a kernel overlay layer a file of that name is) unless, being opaque, it hides host
 * entries, and says how many entries the others hold. Returns how many dirs are left: root
 * reads them (what the review then tells the user: `sudo sbx diff`).
 */
export function settleUnreadable(layersRoot: string, dirs: UnreadableDir[], errors: string[]): number {
  const counts = countAsMappedRoot(layersRoot, dirs.map((d) => d.rel));
  dirs.forEach((d, i) => {
    const c = counts[i];
    if (!c) return;
    const data = d.fuse ? c.entries - c.markers : c.entries;
    const opaque = d.fuse ? c.markers > 0 : c.opaqueXattr;
    if (data > 0) errors[d.error] += `: ${countText(data)} entr${data === 1 ? 'y' : 'ies'} only root can read`;
    else if (!opaque || !d.hidesHost) errors[d.error] = '';
  });
  return dirs.filter((d) => errors[d.error]).length;
}
