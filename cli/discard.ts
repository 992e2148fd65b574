// sbx discard: remove saved sandboxes (the host was never touched).
import { Command, Option } from 'clipanion';
import { resolveEntryAnywhere, runnerAlive } from '../sandbox-core/store.js';
import { liveCommitPid } from '../sandbox-core/commit/journal.js';
import { displayText } from '../sandbox-core/changes/bpath.js';
import { SbxError } from '../sandbox-core/base/errors.js';
import { info } from './output.js';

export class DiscardCommand extends Command {
  static override paths = [['discard']];
  static override usage = Command.Usage({
    description: 'remove saved sandboxes and everything they hold',
    details: 'Asks nothing: a sandbox only holds copies, the host is untouched. Every id is resolved before anything is removed, so an unknown id removes nothing; nor does a sandbox whose command still runs, or one a commit is being written from (exit 125). A broken entry (shown as broken by sbx ls) is removed by its id. Under sudo, a sandbox of the invoking user is found in their store.',
    examples: [['Drop one', 'sbx discard trial'], ['Drop several', 'sbx discard 1a2b3c4d trial2']],
  });

  refs = Option.Rest({ name: 'ID', required: 1 });

  override async execute(): Promise<number> {
    const found = this.refs.map((r) => resolveEntryAnywhere(r));
    // Removing the layers under a live run or commit breaks it halfway (its command loses its
    // files, a commit leaves the host half-written), so a live one stops the whole discard.
    for (const { store, entry } of found) {
      const m = entry.meta;
      const ref = displayText(m?.name ?? entry.id);
      if (m?.state === 'running' && m.runnerPid !== process.pid && runnerAlive(m)) {
        throw new SbxError(`sandbox ${ref} is running a command (sbx pid ${m.runnerPid}): nothing discarded`, 125, 'wait for it to finish, then discard it');
      }
      const committer = m?.state === 'committing' ? liveCommitPid(store, entry.id) : null;
      if (committer !== null) throw new SbxError(`sandbox ${ref} is being committed (sbx pid ${committer}): nothing discarded`, 125, 'wait for the commit to end');
    }
    for (const { store, entry } of found) {
      store.removeId(entry.id);
      info(`discarded ${displayText(entry.meta?.name ?? entry.id)}${entry.meta ? '' : ' (broken)'}`);
    }
    return 0;
  }
}
