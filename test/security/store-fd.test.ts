// The commit journal is store data reached only from the store root fd (Store.openEntry): an
// entry checked as a real directory and swapped for a symlink afterwards (a racing process of
// the store's owner, while root runs `sudo sbx commit`) is never followed to a journal elsewhere.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeFixture } from '../unit/changes-fixture.js';
import { commitSandbox } from '../../sandbox-core/commit/index.js';
import { snapshot } from '../helpers/snapshot.js';

const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');

test('a sandbox entry swapped for a symlink after it was read: the commit reads and writes no journal through it', () => {
  const f = makeFixture();
  try {
    writeFileSync(join(f.upper(), 'new.txt'), 'sandbox\n');
    const meta = f.store.resolve(f.meta.id);
    const entry = f.store.dirOf(meta.id);
    const elsewhere = join(f.root, 'elsewhere');
    renameSync(entry, elsewhere);
    symlinkSync(elsewhere, entry);
    // A journal there claims a host path as an earlier commit's own: a resume would overwrite
    // it without calling a change made since a conflict.
    const dead = spawnSync('true').pid!;
    writeFileSync(join(elsewhere, 'commit.journal'), JSON.stringify({
      version: 1, startedMs: Date.now(), pid: dead, only: [], exclude: [], steps: [], ours: [b64(join(f.host, 'new.txt'))],
    }) + '\n');
    const before = snapshot(elsewhere);
    for (const dryRun of [true, false]) {
      let resumed: unknown = null;
      let err: unknown = null;
      try { resumed = commitSandbox(f.store, meta, { only: [], exclude: [], force: false, dryRun }).resumed; } catch (e) { err = e; }
      assert.is(resumed, null, `dry run ${dryRun}: the journal was read through the symlinked entry`);
      assert.match(String(err), /cannot be opened/);
      assert.equal(snapshot(elsewhere), before, `dry run ${dryRun}: something was written through the symlinked entry`);
      assert.not.ok(existsSync(join(f.host, 'new.txt')));
    }
  } finally {
    f.cleanup();
  }
});

test.run();
