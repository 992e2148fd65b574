import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseSubIds, rangeMapped, chooseIdMapping, extraIdsOf, invokingIds, sameIdShift, shiftedGid, shiftedUid } from '../../sandbox-core/idmap.js';
import { EXTRA_IDS_MAX } from '../../sandbox-core/types.js';
import { gidBack, uidBack } from '../../sandbox-core/changes/acl.js';

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

test("root's extras: ids above the range, each once, no more than the reserved range holds", () => {
  assert.equal(extraIdsOf([1828800001, 1000, 1828800001, 70000], 2), [1828800001, 70000]);
  assert.equal(extraIdsOf([65535, 65536], 2), [65536]);
  assert.equal(extraIdsOf([70000, 80000, 90000], 5), [70000, 80000].slice(0, EXTRA_IDS_MAX));
  assert.equal(extraIdsOf([70000], 0), [], 'an /etc/subuid entry of exactly 65536 has no room');
  assert.equal(extraIdsOf([4294967295, -1, 1.5, NaN], 2), [], 'the invalid id and non-ids are never mapped');
});

test('the ids a root sandbox wants beside its range: the sudo user and the working directory\'s owner', () => {
  assert.equal(invokingIds({ SUDO_UID: '1828800001', SUDO_GID: '1828800002' }, { uid: 1828800003, gid: 0 }), { uids: [1828800001, 1828800003], gids: [1828800002, 0] });
  assert.equal(invokingIds({ SUDO_UID: '12x', SUDO_GID: '' }, null), { uids: [], gids: [] });
  assert.equal(invokingIds({}, { uid: 5, gid: 6 }), { uids: [5], gids: [6] });
});

test('root remapped with extras: one map line each, after the range; the shift takes them there and back', () => {
  const root = chooseIdMapping({ keepUser: false, extraIds: { uids: [1828800001, 1000], gids: [1828800002] } }, 0, 0);
  if (root.kind !== 'root-remapped') {
    assert.ok(root.unavailableRange, 'only a namespace without the range falls back to identity');
    return;
  }
  const s = root.shift!;
  const uidMap = root.ops.find((o) => o.op === 'uid_map')!.args[0];
  const gidMap = root.ops.find((o) => o.op === 'gid_map')!.args[0];
  if (s.extraUids) {
    assert.equal(s.extraUids, [1828800001]);
    assert.is(uidMap, `0 ${s.uid} 65536\n1828800001 ${s.uid + 65536} 1\n`);
    assert.is(gidMap, `0 ${s.gid} 65536\n1828800002 ${s.gid + 65536} 1\n`);
    assert.ok(root.description.includes('uid 1828800001 is'), root.description);
    assert.is(shiftedUid(s, 1828800001), s.uid + 65536);
    assert.is(shiftedGid(s, 1828800002), s.gid + 65536);
    assert.is(uidBack(s.uid + 65536, s), 1828800001);
    assert.is(gidBack(s.gid + 65536, s), 1828800002);
  } else {
    // Root's /etc/subuid entry here holds exactly 65536: no room, so no extras and one line.
    assert.is(uidMap, `0 ${s.uid} 65536\n`);
  }
  // Two at most: a third wanted id is named as left out (sbx doctor says so).
  const three = chooseIdMapping({ keepUser: false, extraIds: { uids: [70001, 70002, 70003, 5], gids: [] } }, 0, 0);
  assert.equal(three.unmappedUids, s.extraUids ? [70003] : [70001, 70002, 70003]);
  assert.is(shiftedUid(s, 7), s.uid + 7);
  assert.is(shiftedUid(s, 1828800009), null);
  assert.is(uidBack(s.uid + 65536 + 1, s), s.uid + 65537, 'past the extras an id is left as it is');
  assert.is(uidBack(12, s), 12);
});

test("a namespace that owns root's range but not the ids after it maps no extras; one without the range, identity", () => {
  const wanted = { uids: [1828800001], gids: [1828800002] };
  const full = chooseIdMapping({ keepUser: false, extraIds: wanted, selfMaps: { uid: '0 0 4294967295\n', gid: '0 0 4294967295\n' } }, 0, 0);
  assert.is(full.kind, 'root-remapped');
  if (!full.shift!.extraUids) {
    // Root's /etc/subuid entry here holds exactly 65536: no room for extras at all.
    assert.is(full.ops.find((o) => o.op === 'uid_map')!.args[0], `0 ${full.shift!.uid} 65536\n`);
    return;
  }
  const base = full.shift!.uid;
  // A container given exactly 0-65535 of the range (and the ids below it), not one more.
  const tight = `0 0 ${base + 65536}\n`;
  const noExtras = chooseIdMapping({ keepUser: false, extraIds: wanted, selfMaps: { uid: tight, gid: `0 0 ${full.shift!.gid + 65536}\n` } }, 0, 0);
  assert.is(noExtras.kind, 'root-remapped');
  assert.equal([noExtras.shift!.extraUids, noExtras.shift!.extraGids], [undefined, undefined]);
  assert.is(noExtras.ops.find((o) => o.op === 'uid_map')!.args[0], `0 ${base} 65536\n`);
  const none = chooseIdMapping({ keepUser: false, extraIds: wanted, selfMaps: { uid: '0 0 65536\n', gid: '0 0 65536\n' } }, 0, 0);
  assert.is(none.kind, 'root-identity');
  assert.is(none.unavailableRange, `${base}-${base + 65535}`);
});

test('two root mappings are the same when every id is at the same place', () => {
  const a = { uid: 1_000_000_000, gid: 1_000_000_000, count: 65536 };
  assert.ok(sameIdShift(a, { ...a }));
  assert.ok(sameIdShift(null, undefined));
  assert.not.ok(sameIdShift(a, null));
  assert.not.ok(sameIdShift(a, { ...a, uid: 300_000_000 }));
  assert.not.ok(sameIdShift(a, { ...a, extraUids: [1828800001] }));
  assert.ok(sameIdShift({ ...a, extraUids: [] }, a));
  assert.not.ok(sameIdShift({ ...a, extraGids: [70000, 70001] }, { ...a, extraGids: [70001, 70000] }), 'the order places them');
});

test.run();
