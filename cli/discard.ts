// sbx discard: remove saved sandboxes (the host was never touched).
import { Command, Option } from 'clipanion';
import { resolveEntryAnywhere } from '../sandbox-core/store.js';
import { displayText } from '../sandbox-core/changes/bpath.js';
import { info } from './output.js';

export class DiscardCommand extends Command {
  static override paths = [['discard']];
  static override usage = Command.Usage({
    description: 'remove saved sandboxes and everything they hold',
    details: 'Asks nothing: a sandbox only holds copies, the host is untouched. Every id is resolved before anything is removed, so an unknown id removes nothing. A broken entry (shown as broken by sbx ls) is removed by its id. Under sudo, a sandbox of the invoking user is found in their store.',
    examples: [['Drop one', 'sbx discard trial'], ['Drop several', 'sbx discard 1a2b3c4d trial2']],
  });

  refs = Option.Rest({ name: 'ID', required: 1 });

  override async execute(): Promise<number> {
    const found = this.refs.map((r) => resolveEntryAnywhere(r));
    for (const { store, entry } of found) {
      store.removeId(entry.id);
      info(`discarded ${displayText(entry.meta?.name ?? entry.id)}${entry.meta ? '' : ' (broken)'}`);
    }
    return 0;
  }
}
