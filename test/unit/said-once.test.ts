// The store's notices said once (said-once.ts): remembered by their exact text, from the very
// first run of a user whose store does not exist yet.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anyNew, firstTime } from '../../sandbox-core/said-once.js';

test('a store that does not exist yet: made private, and the notice remembered on the first ask', () => {
  const top = mkdtempSync(join(tmpdir(), 'sbx-said-unit-'));
  try {
    const store = join(top, 'state', 'sbx');
    assert.ok(firstTime(store, 'limits', 'no cgroup here'));
    assert.is(statSync(store).mode & 0o777, 0o700);
    assert.not.ok(firstTime(store, 'limits', 'no cgroup here'));
    // Another text (the situation changed) is said again, then remembered.
    assert.ok(firstTime(store, 'limits', 'some limits have no cgroup'));
    assert.not.ok(firstTime(store, 'limits', 'some limits have no cgroup'));
    assert.ok(firstTime(store, 'other', 'no cgroup here'));
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});

test('a list is said again when an item joins it, not when one leaves it; each ask remembers the list it was given', () => {
  const top = mkdtempSync(join(tmpdir(), 'sbx-said-unit-'));
  try {
    const store = join(top, 'sbx');
    assert.ok(anyNew(store, 'shown-empty', ['/root', '/var/cache/private']));
    assert.not.ok(anyNew(store, 'shown-empty', ['/root', '/var/cache/private']));
    // Another user's dir appears: said; it goes again: nothing new to say.
    assert.ok(anyNew(store, 'shown-empty', ['/opt/theirs', '/root', '/var/cache/private']));
    assert.not.ok(anyNew(store, 'shown-empty', ['/root', '/var/cache/private']));
    assert.not.ok(anyNew(store, 'shown-empty', ['/root']));
    // Its next appearance is new against the list remembered last.
    assert.ok(anyNew(store, 'shown-empty', ['/opt/theirs', '/root']));
    // A prefix of a remembered item is no item of it.
    assert.ok(anyNew(store, 'shown-empty', ['/opt/the', '/root']));
    // The same marker as firstTime: a list remembered there by its text (before anyNew) is read as one.
    assert.ok(firstTime(store, 'old', '/a\n/b'));
    assert.not.ok(anyNew(store, 'old', ['/b']));
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});

test.run();
