// A security module's label set inside (docs/security.md): root inside may set
// security.selinux where the kernel lets it (this one does, as root and as the test user), and
// until 2026-12-06 `sbx commit` wrote it onto the host file, as root, while the review said
// only `(xattrs)`: a relabel of any host file (/etc/shadow made a web server's content). Now
// labels are neither a change nor committed; data xattrs and file capabilities are as before.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { canary, sbx, storeAndCanary } from '../helpers/sbx.js';
import { testUnless } from '../helpers/skip.js';
import { getXattrs } from '../../sandbox-core/changes/xattr.js';

const store = storeAndCanary({ prove: true });

const SET = (file: string, name: string, value: string) => `os.setxattr(${JSON.stringify(file)}, ${JSON.stringify(name)}, ${JSON.stringify(value)}.encode())`;
const py = (lines: string[]) => ['python3', '-c', ['import os', ...lines].join('\n')];

// Whether this kernel lets root inside set a label at all: asked once, before the tests.
const probe = sbx(['run', '-n', '-q', '--', ...py(['open("/tmp/l", "w").close()', SET('/tmp/l', 'security.selinux', 'system_u:object_r:etc_t:s0'), 'print("set")'])], { store });
const labelsInside = probe.code === 0 && probe.stdout === 'set\n';
const labelTest = testUnless(labelsInside ? null : `this kernel refuses security labels inside the sandbox (${probe.stderr.trim().split('\n').pop()}): there is nothing to commit`);

const names = (p: string): string[] => getXattrs([p])[0]!.attrs.map(([n]) => n).sort();

labelTest('a label set inside on a host file and on a new one is no change and never reaches the host; a user xattr does', () => {
  const keep = join(canary, 'keep.txt'), made = join(canary, 'new.txt');
  const r = sbx(['run', '--name', 'labels', '--', ...py([
    SET(keep, 'security.selinux', 'system_u:object_r:httpd_sys_content_t:s0'),
    `open(${JSON.stringify(made)}, "w").write("new\\n")`,
    SET(made, 'security.selinux', 'system_u:object_r:shadow_t:s0'),
    SET(made, 'user.note', 'kept'),
  ])], { store });
  assert.is(r.code, 0, r.stderr);
  const diff = sbx(['diff', 'labels'], { store });
  assert.is(diff.code, 0, diff.stderr);
  assert.not.match(diff.stdout + diff.stderr, 'keep.txt', 'a label alone is no change');
  assert.match(diff.stdout + diff.stderr, `added:    ${made}`);
  const c = sbx(['commit', 'labels'], { store });
  assert.is(c.code, 0, c.stderr);
  assert.ok(existsSync(made));
  assert.equal(names(keep), []);
  assert.equal(names(made), ['user.note']);
});

test.run();
