// sbx discard: remove saved sandboxes (the host was never touched).
import { Command, Option } from 'clipanion';
import { Store } from '../sandbox-core/store.js';
import { info } from './output.js';

export class DiscardCommand extends Command {
  static override paths = [['discard']];
  static override usage = Command.Usage({
    description: 'remove saved sandboxes and everything they hold',
    details: 'Asks nothing: a sandbox only holds copies, the host is untouched. Every id is resolved before anything is removed, so an unknown id removes nothing.',
    examples: [['Drop one', 'sbx discard trial'], ['Drop several', 'sbx discard 1a2b3c4d trial2']],
  });

  refs = Option.Rest({ name: 'ID', required: 1 });

  override async execute(): Promise<number> {
    const store = new Store();
    const metas = this.refs.map((r) => store.resolve(r));
    for (const m of metas) {
      store.remove(m);
      info(`discarded ${m.name ?? m.id}`);
    }
    return 0;
  }
}
