// ACLs made inside a root sandbox (the unprivileged range) are committed with the ids the
// sandbox saw, not the shifted host ids, and the review shows them in getfacl terms.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { IS_ROOT, makeCanary, makeStore, proveIsolation, removeCanary, sbx, removeStore } from '../helpers/sbx.js';
import { aclEntryText, parseAcl } from '../../sandbox-core/changes/acl.js';

const store = makeStore();
test.after(() => removeStore(store));

function aclHex(entries: Array<[number, number, number]>): string {
  const b = Buffer.alloc(4 + entries.length * 8);
  b.writeUInt32LE(2, 0);
  entries.forEach(([tag, perm, id], i) => { b.writeUInt16LE(tag, 4 + i * 8); b.writeUInt16LE(perm, 6 + i * 8); b.writeUInt32LE(id, 8 + i * 8); });
  return b.toString('hex');
}
const U = 0xffffffff;
// What `setfacl -m u:1005:rw,g:50:r` and `setfacl -d -m u:1005:rwx` write.
const ACCESS = aclHex([[1, 6, U], [2, 6, 1005], [4, 4, U], [8, 4, 50], [0x10, 6, U], [0x20, 4, U]]);
const DEFAULT = aclHex([[1, 7, U], [2, 7, 1005], [4, 5, U], [0x10, 7, U], [0x20, 5, U]]);

function hostAcl(path: string, name: string): string[] {
  const r = spawnSync('python3', ['-c', `import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2]).hex())`, path, name], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return parseAcl(Buffer.from(r.stdout, 'hex'))!.map(aclEntryText);
}

const root = IS_ROOT ? test : test.skip; // the shift is root's unprivileged range; an ordinary user's ACL ids are its own subordinate ids
root('root sandbox: ACLs set inside are reviewed in getfacl terms and committed with the inside ids', () => {
  const canary = makeCanary();
  try {
    proveIsolation(canary, store);
    writeFileSync(join(canary, 'f'), 'x\n');
    mkdirSync(join(canary, 'd'));
    const name = `acl${process.pid}`;
    const set = `import os; os.setxattr('${canary}/f', 'system.posix_acl_access', bytes.fromhex('${ACCESS}')); os.setxattr('${canary}/d', 'system.posix_acl_default', bytes.fromhex('${DEFAULT}')); open('${canary}/new', 'w').close(); os.setxattr('${canary}/new', 'system.posix_acl_access', bytes.fromhex('${ACCESS}'))`;
    const run = sbx(['run', '-q', '--name', name, '--', 'python3', '-c', set], { store });
    assert.is(run.code, 0, run.stderr);
    const diff = sbx(['diff', name, '--json'], { store });
    assert.is(diff.code, 0, diff.stderr);
    const changes = JSON.parse(diff.stdout).changes as Array<{ path: string; details?: string[] }>;
    const f = changes.find((c) => c.path === join(canary, 'f'));
    const d = changes.find((c) => c.path === join(canary, 'd'));
    assert.ok(f?.details?.includes('acl +user:1005:rw- +group:50:r-- +mask::rw-'), JSON.stringify(changes));
    assert.ok(d?.details?.includes('default acl +user:1005:rwx +mask::rwx'), JSON.stringify(changes));
    const added = changes.find((c) => c.path === join(canary, 'new'));
    assert.ok(added?.details?.includes('acl +user:1005:rw- +group:50:r-- +mask::rw-'), JSON.stringify(changes));
    const summary = sbx(['diff', name], { store });
    assert.match(summary.stdout + summary.stderr, 'acl +user:1005:rw-');
    assert.match(summary.stdout + summary.stderr, /added:\s+\S+\/new \(acl \+user:1005:rw-/);
    const commit = sbx(['commit', name], { store });
    assert.is(commit.code, 0, commit.stderr);
    assert.equal(hostAcl(join(canary, 'f'), 'system.posix_acl_access'), ['user::rw-', 'user:1005:rw-', 'group::r--', 'group:50:r--', 'mask::rw-', 'other::r--']);
    assert.equal(hostAcl(join(canary, 'new'), 'system.posix_acl_access'), ['user::rw-', 'user:1005:rw-', 'group::r--', 'group:50:r--', 'mask::rw-', 'other::r--']);
    assert.equal(hostAcl(join(canary, 'd'), 'system.posix_acl_default'), ['user::rwx', 'user:1005:rwx', 'group::r-x', 'mask::rwx', 'other::r-x']);
  } finally {
    removeCanary(canary);
  }
});

test.run();
