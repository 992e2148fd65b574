import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseSubIds, rangeMapped, chooseIdMapping } from '../../sandbox-core/idmap.js';

test('subordinate ranges: by name or uid, first valid entry', () => {
  const text = 'alice:100000:65536\n1001:200000:65536\nbob:x:y\n';
  assert.equal(parseSubIds(text, 'alice', 1000), { start: 100000, count: 65536 });
  assert.equal(parseSubIds(text, 'carol', 1001), { start: 200000, count: 65536 });
  assert.is(parseSubIds(text, 'bob', 1002), null);
});

test('a range is usable only when this user namespace maps all of it', () => {
  assert.ok(rangeMapped('         0          0 4294967295\n', 1_000_000_000, 65536));
  assert.not.ok(rangeMapped('         0       1000      65536\n', 1_000_000_000, 65536));
  assert.ok(rangeMapped('0 1000 1\n1 100000 65536\n', 1, 65536));
  assert.not.ok(rangeMapped('0 1000 1\n1 100000 65536\n', 1, 65537));
});

test('mappings by who runs sbx', () => {
  const user = chooseIdMapping({ keepUser: true }, 1000, 1000);
  assert.is(user.kind, 'single');
  assert.equal(user.ops.find((o) => o.op === 'uid_map')!.args, ['1000 1000 1\n']);
  const rootMapped = chooseIdMapping({ keepUser: false, mapRoot: true }, 0, 0);
  assert.is(rootMapped.kind, 'root-identity');
  assert.is(rootMapped.shift, null);
  const root = chooseIdMapping({ keepUser: false }, 0, 0);
  // On a host whose namespace has the range, root is remapped; the ids shift in the layers.
  if (root.kind === 'root-remapped') {
    assert.ok(root.shift && root.shift.uid > 0 && root.shift.count === 65536);
    assert.ok(root.ops.some((o) => o.op === 'build_outside'));
  } else {
    assert.ok(root.unavailableRange);
  }
});

test.run();
