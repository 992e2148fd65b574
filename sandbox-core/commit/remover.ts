// The detached remover of a committed sandbox's files (Store.removeInBackground hands it the
// trees), and of a reviewed throwaway run's scratch tree (Store.remove with a remover):
// `sbx-helper rmtree` (native/copytree.c) outlives sbx, in its own session, so `sbx commit`
// and the review return without waiting for the unlinks.
import { childProcess } from '../base/builtin.js';
import { helperPath } from '../helper.js';

/** Starts `sbx-helper rmtree NAMES...` below `rootFd`, the store root or the scratch dir (fd 3 in the helper). */
export function startRemover(rootFd: number, names: string[]): void {
  const child = childProcess().spawn(helperPath(), ['rmtree', ...names], { detached: true, stdio: ['ignore', 'ignore', 'ignore', rootFd] });
  // A helper that could not start leaves the trees unclaimed: the next commit hands them on.
  child.on('error', () => {});
  child.unref();
}
