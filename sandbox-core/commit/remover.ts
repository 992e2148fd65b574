// The detached remover of a committed sandbox's files (Store.removeInBackground hands it the
// trees): `sbx-helper rmtree` (native/copytree.c) outlives sbx, in its own session, so
// `sbx commit` returns without waiting for the unlinks.
import { childProcess } from '../base/builtin.js';
import { helperPath } from '../helper.js';

/** Starts `sbx-helper rmtree NAMES...` below the store root (fd 3 in the helper). */
export function startRemover(storeRootFd: number, names: string[]): void {
  const child = childProcess().spawn(helperPath(), ['rmtree', ...names], { detached: true, stdio: ['ignore', 'ignore', 'ignore', storeRootFd] });
  // A helper that could not start leaves the trees unclaimed: the next commit hands them on.
  child.on('error', () => {});
  child.unref();
}
