import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errnoName } from '../../sandbox-core/base/errno.js';
import { isBelow, isWithin } from '../../sandbox-core/base/within.js';
import { REPO } from '../helpers/sbx.js';

test('errnoName: one complete table, canonical names for aliases', () => {
  assert.is(errnoName(39), 'ENOTEMPTY'); // commit used to print "errno 39"
  assert.is(errnoName(2), 'ENOENT');
  assert.is(errnoName(11), 'EAGAIN');
  assert.is(errnoName(95), 'EOPNOTSUPP');
  assert.is(errnoName(35), 'EDEADLK');
  assert.is(errnoName(99999), 'errno 99999');
});

test('containment: a sibling with a common prefix is not inside', () => {
  assert.ok(isWithin('/a/b', '/a/b'));
  assert.ok(isWithin('/a/b/c', '/a/b'));
  assert.not.ok(isWithin('/a/bc', '/a/b'));
  assert.ok(isWithin('/x', '/'));
  assert.not.ok(isBelow('/a/b', '/a/b'));
  assert.ok(isBelow('/a/b/c', '/a/b'));
  assert.not.ok(isBelow('/', '/'));
  assert.ok(isBelow('/x', '/'));
});

function tsFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

function imports(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/from '([^']+)'|import\('([^']+)'\)/g)].map((m) => (m[1] ?? m[2])!);
}

test('import arrows: base imports only base and policies; policies import nothing of sandbox-core or cli', () => {
  for (const f of tsFiles('sandbox-core/base')) {
    for (const i of imports(f)) assert.ok(i.startsWith('node:') || i.startsWith('./') || i.startsWith('../../policies/'), `${f} imports ${i}`);
  }
  for (const f of tsFiles('policies')) {
    for (const i of imports(f)) {
      assert.not.ok(i.includes('sandbox-core/'), `${f} imports ${i}`);
      assert.not.ok(i.includes('/cli/'), `${f} imports ${i}`);
    }
  }
  for (const f of tsFiles('sandbox-core')) {
    for (const i of imports(f)) assert.not.ok(/(^|\/)cli\//.test(i), `${f} imports ${i}`);
  }
});

test.run();
