// The detached remover of a committed sandbox's files (Store.removeInBackground hands it the
// trees), and of a big discarded sandbox's (Store.removeId with a remover: the review's
// discard, `sbx discard`, `sbx prune`): `sbx-helper rmtree` (native/copytree.c) outlives sbx,
// in its own session, so sbx returns without waiting for the unlinks.
import { closeSync, openSync } from 'node:fs';
import { childProcess } from '../base/builtin.js';
import { spawnInherited } from '../base/light-process.js';
import { helperPath } from '../helper.js';
import { chooseIdMapping, mappedRootArgs } from '../idmap.js';
import type { Store, TreeRemover } from '../store.js';

/**
 * From this many changes (the review's count) or entries (`sbx discard`'s and `sbx prune`'s,
 * Store.holdsAtLeast) a discarded sandbox goes to the remover: sbx's own unlinks cost ~10 us
 * an entry (a discard of 10,000 new files waited ~100 ms for them), starting the remover a
 * few ms.
 */
export const BACKGROUND_REMOVAL_MIN = 2000;

/**
 * The remover's arguments. An ordinary user with subordinate ids removes as root of a user
 * namespace with the sandbox's mapping (`as-mapped-root ... rmtree`): a sandbox's programs may
 * give files to other inside users, which are then the user's subordinate uids', and the user
 * could not unlink them as itself (they stayed, claimed, until the next run swept them).
 */
function removerArgs(names: string[]): string[] {
  const mapping = process.getuid!() === 0 ? null : chooseIdMapping({ keepUser: false });
  const maps = mapping?.kind === 'subordinate' ? mappedRootArgs(mapping.ops) : null;
  return [...(maps ? ['as-mapped-root', ...maps] : []), 'rmtree', ...names];
}

/** Starts `sbx-helper rmtree NAMES...` below `rootFd`, the store root or the scratch dir (fd 3 in the helper). */
export function startRemover(rootFd: number, names: string[]): void {
  // Not node:child_process where Node's bindings allow (base/light-process.ts): loading it
  // was ~6 ms of every commit.
  const args = removerArgs(names);
  let nul;
  try {
    nul = openSync('/dev/null', 'r+');
    if (spawnInherited(helperPath(), args, [nul, nul, nul, rootFd], process.env, () => {}, { detached: true })) return;
  } catch {
    // A helper that could not start leaves the trees unclaimed: the next commit hands them on.
    return;
  } finally {
    if (nul !== undefined) closeSync(nul);
  }
  const child = childProcess().spawn(helperPath(), args, { detached: true, stdio: ['ignore', 'ignore', 'ignore', rootFd] });
  child.on('error', () => {});
  child.unref();
}

/** startRemover for saved sandbox `id` when its entry holds BACKGROUND_REMOVAL_MIN entries or more (`sbx discard`, `sbx prune`); else none: sbx removes it itself. */
export function removerIfBig(store: Store, id: string): TreeRemover | undefined {
  return store.holdsAtLeast(id, BACKGROUND_REMOVAL_MIN) ? startRemover : undefined;
}
