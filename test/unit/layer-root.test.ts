// A change to a layer's own root (walk.ts rootEntry) is committed as any dir's metadata, except
// the host's `/` itself: listed, and left for the user; an exported layer has no name for `/`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makePlan } from '../../sandbox-core/commit/plan.js';
import type { Change } from '../../sandbox-core/changes/types.js';
import { writeLayer } from '../../sandbox-core/export/layer.js';
import { TarWriter } from '../../sandbox-core/export/tar.js';
import { PassThrough } from 'node:stream';

const root = (path: string): Change => ({ path, change: 'metadata', type: 'dir', size: 0, details: ['mode 755→750'], layerRoot: true });

test('the host\'s / is never changed by a commit: skipped with a reason; another layer\'s root is a dir metadata step', () => {
  const p = makePlan([root('/'), root('/srv/data')], { createdMs: 0, force: true });
  assert.equal(p.skipped.map((s) => s.path), ['/']);
  assert.match(p.skipped[0]!.reason, /sbx never changes the host's \/ itself/);
  assert.equal(p.steps.map((s) => [s.kind, s.change.path]), [['dirmeta', '/srv/data']]);
});

test('an exported layer skips a change to `/` itself, with a reason, and writes no entry for it', async () => {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (d: Buffer) => chunks.push(d));
  const r = await writeLayer({ changes: [root('/')] }, new TarWriter(out), { format: 'oci-layer', keepSetuid: false });
  assert.is(r.entries, 0);
  assert.equal(r.skipped.map((s) => s.path), ['/']);
  assert.is(Buffer.concat(chunks).length, 0);
});

test.run();
