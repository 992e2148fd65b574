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
 * Absolute path `p` with its dir's symlinks resolved (its last component as it is): where an
 * entry of that name is on the host. As given when its dir cannot be resolved. Also where a
 * bind's mount point is made (sandbox.ts): the change list knows it by that name.
 */
export function hostLocation(p: string): string {
  try { return join(realpathSync(dirname(p)), basename(p)); } catch { return p; }
}
