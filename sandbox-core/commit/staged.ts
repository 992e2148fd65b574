// The copies a commit stages beside their targets (`.sbx-ID-N`), named from the sandbox's id
// and the step so that a resumed commit finds an interrupted one's, and their removal before
// a discard. Apart from commit/index.ts, so that `sbx discard` (cli/discard.ts) does not load
// the commit's planner and the review's rules with it (~5 ms of module set-up).
import { parentB } from '../base/bpath.js';
import { otherStampAlive } from '../base/process.js';
import type { Dir } from '../beneath.js';
import type { Store } from '../store.js';
import { readJournal, type JournalState } from './journal.js';
import { removeEntry } from './safe-fs.js';

/** Deterministic, so an interrupted commit's leftovers are found and removed on resume. */
export function stagingPath(path: string, sandboxId: string, step: number): string {
  return `${parentB(path)}/${stagingName(sandboxId, step)}`;
}

export function stagingName(sandboxId: string, step: number): string {
  return `.sbx-${sandboxId}-${step}`;
}

/**
 * The host paths of an interrupted commit's steps that were begun and not done; with `remove`,
 * the copies it staged beside their targets (`.sbx-ID-N`, never followed) are removed first.
 */
export function unfinishedSteps(j: JournalState, id: string, remove: boolean): string[] {
  const inFlight: string[] = [];
  for (const i of new Set([...j.staged, ...j.begun])) {
    if (j.done.has(i)) continue;
    const s = j.header.steps[i];
    if (!s) continue;
    const p = Buffer.from(s.path, 'base64').toString('latin1');
    if (j.begun.has(i)) inFlight.push(p);
    if (s.kind === 'put' && remove) {
      try { removeEntry(stagingPath(p, id, i)); } catch { /* its dir is gone or refused: nothing of ours is left there */ }
    }
  }
  return inFlight;
}

/**
 * Before a sandbox is discarded: an interrupted commit's staged copies, which only a resumed
 * commit removed (they stayed on the host for good, with the sandbox's content, when the
 * sandbox was discarded instead). Nothing when no journal is there or its commit still runs.
 */
export function removeStagedCopies(store: Store, id: string): void {
  let entry: Dir;
  try { entry = store.openEntry(id); } catch { return; /* a broken entry: it has no journal sbx could read */ }
  try {
    const j = readJournal(entry, store.dirOf(id));
    if (j && !otherStampAlive(j.header)) unfinishedSteps(j, id, true);
  } catch { /* a journal sbx did not write: nothing of it is followed */ } finally { entry.close(); }
}
