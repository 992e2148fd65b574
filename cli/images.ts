// sbx images: the image cache (layers unpacked by `run --image`), with sizes and the sandboxes
// using each layer; --prune removes what no saved sandbox uses.
import { Command, Option } from 'clipanion';
import { Store } from '../sandbox-core/store.js';
import { ImageCache } from '../sandbox-core/image/cache.js';
import { displayText } from '../sandbox-core/base/bpath.js';
import { humanBytes } from './progress.js';
import { info, stdoutColors } from './output.js';

export class ImagesCommand extends Command {
  static override paths = [['images']];
  static override usage = Command.Usage({
    description: 'list the image cache, or prune it',
    details: "`sbx run --image` unpacks each layer of an image once into the cache in the store (`images/` beside the sandboxes). This lists the cached layers (by diff-id), the merged trees the change list compares with, and the blobs kept for `sbx export`, each with its size and the sandboxes that use it. `--prune` removes everything no sandbox uses.",
    examples: [['List', 'sbx images'], ['Free what no sandbox uses', 'sbx images --prune'], ['As JSON', 'sbx images --json']],
  });

  prune = Option.Boolean('--prune', false, { description: 'Remove cached layers, trees and blobs that no sandbox uses' });
  json = Option.Boolean('--json', false, { description: 'Print JSON' });

  override async execute(): Promise<number> {
    const store = new Store();
    const users = store.list().flatMap((m) => (m.image ? [{ name: m.name ?? m.id, rec: m.image }] : []));
    const cache = new ImageCache(store);
    if (this.prune) {
      const r = cache.prune(users);
      info(`pruned ${r.removed} cache entr${r.removed === 1 ? 'y' : 'ies'}, ${humanBytes(r.bytes)} freed`);
      return 0;
    }
    const l = cache.list(users);
    const rows = [
      ...l.layers.map((e) => ({ kind: 'layer', ...e })),
      ...l.merged.map((e) => ({ kind: 'tree', ...e })),
      ...l.blobs.map((e) => ({ kind: 'blob', ...e })),
    ];
    const out = this.context.stdout;
    if (this.json) { out.write(JSON.stringify(rows, null, 2) + '\n'); return 0; }
    if (!rows.length) { out.write('the image cache is empty\n'); return 0; }
    const table = [['KIND', 'DIGEST', 'SIZE', 'USED BY']].concat(rows.map((r) => [
      r.kind, r.digest.slice(0, 19), humanBytes(r.bytes), r.usedBy.length ? displayText(r.usedBy.join(', ')) : '-',
    ]));
    const w = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    table.forEach((row, k) => {
      const line = row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(w[i]!))).join('  ');
      out.write((k === 0 ? stdoutColors.bold(line) : line) + '\n');
    });
    const total = rows.reduce((a, r) => a + r.bytes, 0);
    const unused = rows.filter((r) => !r.usedBy.length).reduce((a, r) => a + r.bytes, 0);
    out.write(`total ${humanBytes(total)}${unused ? `; ${humanBytes(unused)} unused ('sbx images --prune' frees it)` : ''}\n`);
    return 0;
  }
}
