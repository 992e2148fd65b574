// ACL and capability xattrs of a shifted root sandbox: ids back to what the sandbox saw, and
// ACL changes described in getfacl terms.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ACL_ACCESS, ACL_DEFAULT, aclEntryText, describeAclChange, gidBack, parseAcl, uidBack, unshiftXattr, xattrDetails } from '../../sandbox-core/changes/acl.js';

const SHIFT = { uid: 1000000000, gid: 1000000000, count: 65536 };

function acl(entries: Array<[number, number, number]>): Buffer {
  const b = Buffer.alloc(4 + entries.length * 8);
  b.writeUInt32LE(2, 0);
  entries.forEach(([tag, perm, id], i) => { b.writeUInt16LE(tag, 4 + i * 8); b.writeUInt16LE(perm, 6 + i * 8); b.writeUInt32LE(id, 8 + i * 8); });
  return b;
}
const U = 0xffffffff;
const base = (extra: Array<[number, number, number]> = []) => acl([[1, 6, U], ...extra, [4, 4, U], ...(extra.length ? [[0x10, 6, U] as [number, number, number]] : []), [0x20, 4, U]]);

test('named user and group entries in the range are shifted back; others untouched', () => {
  const v = base([[2, 6, 1000001005], [8, 5, 1000000050], [2, 4, 7]]);
  const out = parseAcl(unshiftXattr(ACL_ACCESS, v, SHIFT))!;
  assert.equal(out.map(aclEntryText), ['user::rw-', 'user:1005:rw-', 'group:50:r-x', 'user:7:r--', 'group::r--', 'mask::rw-', 'other::r--']);
  assert.equal(parseAcl(unshiftXattr(ACL_DEFAULT, v, SHIFT))!.map((e) => e.id).filter((id) => id !== U), [1005, 50, 7]);
});

// An ordinary user's sandbox: uid 0 inside is the user, uids 1.. its subordinate range.
const SUB = { uid: 100000, count: 65536, gid: 200000, gidCount: 10, from: 1 };

test('a subordinate range: its first id is 1 inside, each count bounds its own ids, the user\'s own id stays', () => {
  assert.is(uidBack(100000, SUB), 1);
  assert.is(uidBack(100031, SUB), 32);
  assert.is(uidBack(165535, SUB), 65536);
  assert.is(uidBack(165536, SUB), 165536);
  assert.is(uidBack(99999, SUB), 99999);
  assert.is(uidBack(1001, SUB), 1001);
  assert.is(gidBack(200009, SUB), 10);
  assert.is(gidBack(200010, SUB), 200010);
  const v = base([[2, 6, 100031], [8, 5, 200005], [8, 5, 200010], [2, 4, 1001]]);
  assert.equal(parseAcl(unshiftXattr(ACL_ACCESS, v, SUB))!.map(aclEntryText), ['user::rw-', 'user:32:rw-', 'group:6:r-x', 'group:200010:r-x', 'user:1001:r--', 'group::r--', 'mask::rw-', 'other::r--']);
});

test('a malformed ACL or another xattr is left as it is', () => {
  const junk = Buffer.from('not an acl');
  assert.is(unshiftXattr(ACL_ACCESS, junk, SHIFT), junk);
  const user = Buffer.from([1, 2, 3, 4]);
  assert.is(unshiftXattr('user.x', user, SHIFT), user);
});

test('a v3 file capability: rootid shifted back; rootid 0 becomes the v2 form', () => {
  const v3 = Buffer.alloc(24);
  v3.writeUInt32LE(0x03000001, 0); // revision 3, effective
  v3.writeUInt32LE(1 << 13, 4); // cap_net_raw permitted
  v3.writeUInt32LE(1000000000, 20);
  const v2 = unshiftXattr('security.capability', v3, SHIFT);
  assert.is(v2.length, 20);
  assert.is(v2.readUInt32LE(0), 0x02000001);
  assert.is(v2.readUInt32LE(4), 1 << 13);
  v3.writeUInt32LE(1000000033, 20);
  assert.is(unshiftXattr('security.capability', v3, SHIFT).readUInt32LE(20), 33);
});

test('the review says what an ACL change is, as getfacl would write the entries', () => {
  const before = base();
  const after = base([[2, 6, 1005]]);
  assert.is(describeAclChange(ACL_ACCESS, after, before), 'acl +user:1005:rw- +mask::rw-');
  assert.is(describeAclChange(ACL_ACCESS, after, undefined), 'acl +user:1005:rw- +mask::rw-');
  assert.is(describeAclChange(ACL_DEFAULT, undefined, after), 'default acl removed');
  assert.is(describeAclChange(ACL_ACCESS, base([[8, 5, 50]]), base([[8, 7, 50]])), 'acl +group:50:r-x -group:50:rwx');
  assert.equal(xattrDetails([[ACL_ACCESS, after], ['user.k', Buffer.from('1')]], [[ACL_ACCESS, before]]), ['acl +user:1005:rw- +mask::rw-', 'xattrs']);
  assert.equal(xattrDetails([[ACL_ACCESS, after]], [[ACL_ACCESS, after]]), []);
});

test.run();
