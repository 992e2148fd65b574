// What in a git dir rewrites history the host already has, behind the repository's one folded
// line: a replace ref (git then shows and checks out another object in place of a commit,
// tree or blob, and `git fsck` still passes), an existing object or pack written over (objects
// are named by their content: git only ever adds new ones, and gc removes old packs, it never
// rewrites one), and a tag moved (tags are not supposed to move; a clone or fetch that meets
// one that did keeps the old one). sensitive.ts flags them (`!`); these say which changes do.
// Read bounded from the layer and the host, no symlink followed, never by running git.
import { lstatSync } from 'node:fs';
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

// The last host packed-refs read, by its git dir and identity: a fetch writes each new tag as
// a loose file, and each is looked up in it (read for each, 1,000 new tags against a 1 MiB
// packed-refs would read 1 GB).
let lastPacked: { key: string; refs: Map<string, string> | null } | null = null;
/** The host's packed refs of a git dir, read when first asked (a loose file may answer first). */
const hostPacked = (gitDir: string) => (): Map<string, string> | null => {
  const p = `${gitDir}/packed-refs`;
  let st;
  try { st = lstatSync(fsAt(p), { throwIfNoEntry: false }); } catch { st = undefined; }
  if (!st) return null;
  const key = `${gitDir}\0${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  if (lastPacked?.key !== key) lastPacked = { key, refs: parsePacked(readBounded(p, MAX_PACKED_CHECK)) };
  return lastPacked.refs;
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
