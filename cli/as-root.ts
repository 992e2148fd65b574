// What sbx tells an ordinary user to run as root for one of their sandboxes: root reads and
// writes what the sandbox gave to other users inside, which the user cannot.
import { sudoSbx, type Store } from '../sandbox-core/store.js';
import { display } from '../sandbox-core/base/bpath.js';
import { info } from './output.js';

/**
 * `sudo sbx VERB REF`: under sudo without SBX_HOME sbx looks in the invoking user's default
 * store (store.ts sudoUserStore), so any other store is named.
 */
export function asRoot(store: Store, verb: string, ref: string): string {
  return `${sudoSbx(store)} ${verb} ${display(ref)}`;
}

/**
 * After a review's warnings, when `rootOnly` dirs of the layers were left unread (a spool dir
 * a daemon inside made 0700 for its own uid, apt's `_apt` partial dir): how to see what they
 * hold. Root reads them, `sudo sbx diff` of the sandbox lists and diffs them (tried:
 * test/security/review-unreadable.test.ts). `ref` is the sandbox's name or id; how the run
 * ends decides when that works: `saved` is false for a run's review, whose sandbox is there to
 * read once saved, and `ref` null for a throwaway run (-n), which leaves none.
 */
export function rootOnlyHint(rootOnly: number | undefined, store: Store, ref: string | null, saved = true): void {
  if (!rootOnly || process.geteuid?.() === 0) return;
  if (ref === null) info(`to see what only root can read: run it again without -n (a throwaway run leaves no sandbox to read), then ${asRoot(store, 'diff', 'ID')} with the id it is saved under`);
  else info(`to see what only root can read: ${asRoot(store, 'diff', ref)}${saved ? '' : ' (once the sandbox is saved)'}`);
}
