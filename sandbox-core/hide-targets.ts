// Where a path to hide really is on the host. A hidden path's whiteout goes into the layer at
// the path's own dirs, made there to hold it: made at a component that is a symlink on the host
// (a `~/.config` linked into a dotfiles repo), that dir replaced the link inside, the entry
// stayed readable at the place the link leads (`--hide-secrets` left `gh/hosts.yml` readable
// there), and the review listed the link as replaced by a world-writable dir, which a commit
// then wrote (found 2026-12-05). So every path is hidden where its dirs lead, and a path that
// is itself a symlink is hidden with what it leads to: what the path shows stays out of reach
// under both names.
import { lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * The host paths that hide `paths` (absolute): each with its dirs' symlinks resolved, and for a
 * path that is a symlink, its target resolved too (when it exists). A path whose dir cannot be
 * resolved (absent, unreadable, a loop) is kept as given: hiding it then makes no dir of its
 * own in a layer (sandbox.ts hideOps finds no parent to hold it, or one sbx resolved already).
 */
export function hideTargets(paths: readonly string[]): string[] {
  const out: string[] = [];
  const add = (p: string): void => { if (!out.includes(p)) out.push(p); };
  for (const p of paths) {
    const at = hostLocation(p);
    add(at);
    try {
      if (lstatSync(at).isSymbolicLink()) add(realpathSync(at));
    } catch { /* not there, or a link that leads nowhere: the link alone */ }
  }
  return out;
}

/**
 * Absolute path `p` with its dirs' symlinks resolved (its last component as it is): where an
 * entry of that name is on the host. Dirs that do not exist yet are taken as named below the
 * nearest one that does, resolved: a `--bind` point made with its missing dirs below a linked
 * dir (`link/new/mp`) makes them where the link leads, and the change list must know them by
 * that name, or it lists them as added and a commit makes them on the host (found 2026-12-05).
 * As given when a dir that exists cannot be resolved (unreadable, a loop, a dangling link).
 * Also where a bind's mount point is made (sandbox.ts).
 */
export function hostLocation(p: string): string {
  const below = [basename(p)];
  for (let dir = dirname(p); ; dir = dirname(dir)) {
    try {
      return join(realpathSync(dir), ...below);
    } catch {
      if (dir === '/' || !absent(dir)) return p;
      below.unshift(basename(dir));
    }
  }
}

/** Whether nothing at all, not even a symlink, has this name (its dir exists and is searchable). */
function absent(path: string): boolean {
  try { lstatSync(path); return false; } catch (e) { return (e as NodeJS.ErrnoException).code === 'ENOENT'; }
}
