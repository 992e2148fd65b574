// Ids and cache keys without node:crypto: FNV-1a 64 against its published test vectors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Fnv64, randomHex } from '../../sandbox-core/random.js';

test('FNV-1a 64 matches the reference vectors', () => {
  assert.is(new Fnv64().update('').hex(), 'cbf29ce484222325');
  assert.is(new Fnv64().update('a').hex(), 'af63dc4c8601ec8c');
  assert.is(new Fnv64().update('foobar').hex(), '85944171f73967e8');
  assert.is(new Fnv64().update('foo').update(Buffer.from('bar')).hex(), '85944171f73967e8');
});

test('randomHex gives n random bytes as hex', () => {
  const a = randomHex(4), b = randomHex(4);
  assert.match(a, /^[0-9a-f]{8}$/);
  assert.is.not(a + randomHex(8), b + randomHex(8));
});

test.run();
