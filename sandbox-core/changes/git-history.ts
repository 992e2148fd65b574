// What in a git dir rewrites history the host already has, behind the repository's one folded
// line: a replace ref (git then shows and checks out another object in place of a commit,
// tree or blob, and `git fsck` still passes), an existing object or pack written over (objects
// are named by their content: git only ever adds new ones, and gc removes old packs, it never
// rewrites one), and a tag moved (tags are not supposed to move; a clone or fetch that meets
// one that did keeps the old one), by a write or by deleting a loose file over an older packed
// line. sensitive.ts flags them (`!`); these say which changes do.
// Read bounded from the layer and the host, no symlink followed, never by running git. Not here
// (docs/changes.md says why): a new pack or multi-pack-index that gives an id the host has
// other content, and a forged commit-graph; telling either needs every such object hashed.
import { lstatSync, type Stats } from 'node:fs';
import { fsAt } from './fsat.js';
import { MAX_REF, parsePacked, readBounded, valueOf } from './repo-fold.js';

/** A packed-refs read stops here; a longer one is flagged unread (~120k refs). */
const MAX_PACKED_CHECK = 8 << 20;
// The git dir (a submodule's too) and the ref's name inside it, of a byte path.
const REF_IN_GIT_DIR = /^(.*?\/\.git(?:\/modules\/.+?)?)\/(refs\/.*)$/s;
const PACKED_IN_GIT_DIR = /^(.*\/\.git(?:\/modules\/.+)?)\/packed-refs$/s;

/** Where a ref points on the host: its loose file, else its packed-refs line; null when it has none. */
function hostValue(gitDir: string, ref: string, packed: () => Map<string, string> | null): string | null {
  return valueOf(readBounded(`${gitDir}/${ref}`, MAX_REF)) ?? packed()?.get(ref) ?? null;
}

// The last packed-refs read, the host's and the layer's, by path and identity: a fetch writes
// each new tag as a loose file, and each is looked up in the host's (read for each, 1,000 new
// tags against a 1 MiB packed-refs would read 1 GB); `git pack-refs` deletes each loose tag,
// and each is looked up in the layer's.
const lastPacked: Array<{ key: string; refs: Map<string, string> | null } | null> = [null, null];
/** The refs of a packed-refs file of the host (slot 0) or the layer (slot 1), null when it has none. */
function packedAt(p: string, slot: 0 | 1, st: Stats): Map<string, string> | null {
  const key = `${p}\0${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  let c = lastPacked[slot];
  if (c?.key !== key) lastPacked[slot] = c = { key, refs: parsePacked(readBounded(p, MAX_PACKED_CHECK)) };
  return c.refs;
}
const lstatOrNull = (p: string): Stats | null | 'error' => {
  try { return lstatSync(fsAt(p), { throwIfNoEntry: false }) ?? null; } catch { return 'error'; }
};
/** The host's packed refs of a git dir, read when first asked (a loose file may answer first). */
const hostPacked = (gitDir: string) => (): Map<string, string> | null => {
  const p = `${gitDir}/packed-refs`;
  const st = lstatOrNull(p);
  return st && st !== 'error' ? packedAt(p, 0, st) : null;
};

/**
 * Whether a ref written in the sandbox (name `ref`, pointing at `now`) rewrites history: any
 * replace ref that is not the host's own, or a tag the host has that now points elsewhere.
 * A new tag is not (a fetch or `git tag` makes them).
 */
function rewrites(ref: string, now: string | null, host: () => string | null): boolean {
  if (ref.startsWith('refs/replace/')) return now !== host();
  if (!ref.startsWith('refs/tags/')) return false;
  const was = host();
  return was !== null && now !== was;
}

/**
 * Whether a loose ref written in the sandbox (byte path `raw`, its file in the layer `upper`)
 * rewrites history. Without the layer's file (the scan's marks) it is taken to.
 */
export function looseRefRewrites(raw: string, upper: string | undefined): boolean {
  const m = REF_IN_GIT_DIR.exec(raw);
  if (!m) return false;
  const [, gitDir, ref] = m as unknown as [string, string, string];
  if (!ref.startsWith('refs/replace/') && !ref.startsWith('refs/tags/')) return false;
  if (upper === undefined) return true;
  // A symlink or a file that holds no hash is `?`: never the host's value, so flagged.
  const now = valueOf(readBounded(upper, MAX_REF)) ?? '?';
  return rewrites(ref, now, () => hostValue(gitDir, ref, hostPacked(gitDir)));
}

/**
 * Whether a packed-refs written in the sandbox adds or moves a replace ref or moves a tag, each
 * against what the host resolves it to (its loose file, else its packed line): `git pack-refs`
 * and gc pack the host's loose refs as they are. Without the layer's file, or one too long to
 * read whole, it is taken to.
 */
export function packedRefsRewrite(raw: string, upper: string | undefined): boolean {
  const m = PACKED_IN_GIT_DIR.exec(raw);
  if (!m) return false;
  if (upper === undefined) return true;
  // git reads packed-refs through a symlink: one there names refs this check cannot see.
  let st;
  try { st = lstatSync(fsAt(upper), { throwIfNoEntry: false }); } catch { st = undefined; }
  if (st && !st.isFile()) return true;
  const b = readBounded(upper, MAX_PACKED_CHECK);
  if (b && b.length >= MAX_PACKED_CHECK) return true;
  const now = parsePacked(b);
  if (!now) return false;
  const gitDir = m[1]!;
  const read = hostPacked(gitDir);
  let hp: Map<string, string> | null | undefined;
  const packed = () => (hp === undefined ? (hp = read()) : hp);
  for (const [ref, v] of now) {
    if (rewrites(ref, v, () => hostValue(gitDir, ref, packed))) return true;
  }
  return false;
}

// A loose ref gone, or its dir: `refs`, `refs/tags`, anything below (a submodule's git dir too).
const GONE_IN_GIT_DIR = /^(.*?\/\.git(?:\/modules\/.+?)?)\/(refs(?:\/.*)?)$/s;
/** Flag: what the sandbox left in place of packed-refs is not something this can read. */
const UNREAD = 'unread';

/** Quiet: the layer wrote a packed-refs of other refs, whose own entry says what it moved (packedRefsRewrite). */
const OWNED = 'owned';
// Whether the last layer packed-refs read names the same refs as the host's, by both their keys.
let lastSame: { layer: Map<string, string>; host: Map<string, string> | null; same: boolean } | null = null;
function sameRefs(a: Map<string, string>, b: Map<string, string> | null): boolean {
  if (lastSame?.layer === a && lastSame.host === b) return lastSame.same;
  let same = b !== null && a.size === b.size;
  if (same) for (const [ref, v] of a) if (b!.get(ref) !== v) { same = false; break; }
  lastSame = { layer: a, host: b, same };
  return same;
}

/**
 * The packed refs git reads after the sandbox, for a git dir whose layer dir is `ug`: the
 * host's when the layer has no packed-refs or one of the same refs (a copy-up, its mtime
 * touched), none for a whiteout. OWNED when the layer's names other refs: its own entry is a
 * change packedRefsRewrite checks against the host, ref by ref, so a deletion it uncovers is
 * flagged there, once (`git tag -f` then `git pack-refs`). UNREAD when the layer holds one this
 * cannot read as git would (a symlink, another kind of file, too long).
 */
function packedAfter(gitDir: string, ug: string | undefined): Map<string, string> | null | typeof UNREAD | typeof OWNED {
  if (ug === undefined) return hostPacked(gitDir)();
  const p = `${ug}/packed-refs`;
  const st = lstatOrNull(p);
  if (st === 'error') return UNREAD;
  if (st) {
    if (st.isCharacterDevice() && st.rdev === 0) return null;
    if (!st.isFile() || st.size >= MAX_PACKED_CHECK) return UNREAD;
    const layer = packedAt(p, 1, st);
    if (layer === null) return UNREAD;
    const host = hostPacked(gitDir)();
    return sameRefs(layer, host) ? host : OWNED;
  }
  // None in the layer (or a `.wh.` name: fuse-overlayfs's whiteout, where the truth is none,
  // and an ordinary file in a kernel layer): the host's, which says the most a deletion uncovers.
  return hostPacked(gitDir)();
}

/**
 * Whether a loose ref the sandbox deleted (or turned into a dir, or a dir of refs it deleted or
 * turned into a file) uncovers a packed-refs line that moves a tag or changes a replace ref:
 * git reads a ref's loose file first and its packed line only without one, so deleting a loose
 * tag whose packed line is older moves it with no write to any ref. `git pack-refs` and gc
 * delete loose refs after writing the same values into packed-refs, and `git tag -d` removes
 * the packed line too: both quiet. `raw` is the host path; `layerDir` the layer's dir of its
 * parent (Change.layerDir, or the upper file's dir); without it the host's packed-refs stands
 * for the sandbox's (flagged when the host's own lines would move the ref). `dir`: a dir of refs
 * (each ref below is asked), else one ref.
 */
export function looseRefGoneRewrites(raw: string, layerDir: string | undefined, dir: boolean): boolean {
  const m = GONE_IN_GIT_DIR.exec(raw);
  if (!m) return false;
  const [, gitDir, rel] = m as unknown as [string, string, string];
  let ug: string | undefined;
  if (layerDir !== undefined) {
    // The layer's git dir: the layer dir less the part of the ref's dir below the git dir.
    const below = raw.slice(gitDir.length, raw.lastIndexOf('/'));
    if (!layerDir.endsWith(below)) return true;
    ug = layerDir.slice(0, layerDir.length - below.length);
  }
  const after = packedAfter(gitDir, ug);
  if (after === UNREAD) return true;
  if (after === null) return false;
  const host = hostPacked(gitDir);
  let hp: Map<string, string> | null | undefined;
  const packed = () => (hp === undefined ? (hp = host()) : hp);
  const moved = (ref: string, now: string): boolean => rewrites(ref, now, () => hostValue(gitDir, ref, packed));
  const movesIn = (refs: Map<string, string>): boolean => {
    if (!dir) {
      const now = refs.get(rel);
      return now !== undefined && moved(rel, now);
    }
    const under = `${rel}/`;
    for (const [ref, now] of refs) if (ref.startsWith(under) && moved(ref, now)) return true;
    return false;
  };
  if (after !== OWNED) return movesIn(after);
  // Committed with the layer's packed-refs the deletion moves nothing that file's own entry
  // does not say. But pick mode can keep the deletion (folded in the repository's line) and
  // leave that file when it is flagged, for any ref: then the host's packed line shows.
  const hostRefs = packed();
  return hostRefs !== null && movesIn(hostRefs) && packedRefsRewrite(`${gitDir}/packed-refs`, `${ug!}/packed-refs`);
}
