// sbx discard: remove saved sandboxes (the host was never touched).
import { Command, Option } from 'clipanion';
import { resolveEntryAnywhere, runnerAlive, type Store, type StoreEntry } from '../sandbox-core/store.js';
import { liveHolder } from '../sandbox-core/commit/journal.js';
import { removerIfBig } from '../sandbox-core/commit/remover.js';
import { removeStagedCopies } from '../sandbox-core/commit/staged.js';
import { displayText } from '../sandbox-core/base/bpath.js';
import { SbxError } from '../sandbox-core/base/errors.js';
import { error, info } from './output.js';

export class DiscardCommand extends Command {
  static override paths = [['discard']];
  static override usage = Command.Usage({
    description: 'remove saved sandboxes and everything they hold',
    details: 'Asks nothing: a sandbox only holds copies, the host is untouched. Every id is resolved before anything is removed, so an unknown id removes nothing; nor does a sandbox whose command still runs, or one a commit is being written from (exit 125). A sandbox of 2,000 files or more is deleted by a detached process: sbx returns at once, the disk space comes back moments later. A broken entry (shown as broken by sbx ls) is removed by its id. The copies an interrupted commit staged beside their targets go too (what it had already put in place stays). Under sudo, a sandbox of the invoking user is found in their store.',
    examples: [['Drop one', 'sbx discard trial'], ['Drop several', 'sbx discard 1a2b3c4d trial2']],
  });

  refs = Option.Rest({ name: 'ID', required: 1 });

  override async execute(): Promise<number> {
    // One sandbox named twice (`X X`, or its id and its name) is discarded once: the second
    // removal found it gone and said another sbx had removed it.
    const seen = new Set<string>();
    const found = this.refs.map((r) => resolveEntryAnywhere(r)).filter(({ store, entry }) => {
      const key = `${store.root}\0${entry.id}`;
      return !seen.has(key) && !!seen.add(key);
    });
    // Removing the layers under a live run or commit breaks it halfway (its command loses its
    // files, a commit leaves the host half-written), so a live one stops the whole discard;
    // removeId asks again once it holds the entry, for one that began since.
    for (const { store, entry } of found) {
      const why = liveUse(store, entry, entry.id);
      if (why) throw new SbxError(`sandbox ${displayText(entry.meta?.name ?? entry.id)} ${why}: nothing discarded`, 125, 'wait for it to end, then discard it');
    }
    let status = 0;
    for (const { store, entry } of found) {
      const ref = displayText(entry.meta?.name ?? entry.id);
      removeStagedCopies(store, entry.id);
      // A big tree goes to a detached remover: sbx returns without waiting for its unlinks.
      const r = store.removeId(entry.id, (e, name) => liveUse(store, e, name) !== null, [], removerIfBig(store, entry.id));
      if (r === 'live') { error(`sandbox ${ref} began to be used while it was being discarded: kept`); status = 125; continue; }
      info(r === 'gone' ? `${ref} was removed meanwhile by another sbx` : `discarded ${ref}${entry.meta ? '' : ' (broken)'}`);
    }
    return status;
  }
}

/** Why a sandbox must not be removed now (a run or commit of it is alive), or null. */
function liveUse(store: Store, e: StoreEntry, name: string): string | null {
  const m = e.meta;
  if (m?.state === 'running' && m.runnerPid !== process.pid && runnerAlive(m)) return `is running a command (sbx pid ${m.runnerPid})`;
  // Its lock too: a commit that still scans and plans has not marked the sandbox committing yet.
  const h = liveHolder(store, e.id, name);
  if (h === null) return null;
  const pid = h.pid ? ` (sbx pid ${h.pid})` : '';
  return h.use === 'run' ? `has a run or its review still going${pid}` : `is being committed${pid}`;
}
