// The commit journal is store data reached only from the store root fd (Store.openEntry): an
// entry checked as a real directory and swapped for a symlink afterwards (a racing process of
// the store's owner, while root runs `sudo sbx commit`) is never followed to a journal elsewhere.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
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

test('removeId holds the entry (claimed by a rename) before it asks whether it is in use: a run that began after the caller\'s check keeps its sandbox', () => {
  const f = makeFixture();
  const p = spawn('sleep', ['120'], { stdio: 'ignore' });
  try {
    writeFileSync(join(f.upper(), 'work.txt'), 'in use\n');
    const id = f.meta.id;
    // What a run --in writes before its command starts, after prune or discard listed the entry as saved.
    const start = ((s: string) => s.slice(s.lastIndexOf(')') + 2).split(' ')[19]!)(readFileSync(`/proc/${p.pid}/stat`, 'latin1'));
    f.store.writeMeta({ ...f.meta, state: 'running', runnerPid: p.pid, runnerStart: start });
    const seen: string[] = [];
    const r = f.store.removeId(id, (e, name) => { seen.push(name); return e.meta?.state === 'running'; });
    assert.is(r, 'live');
    assert.equal(seen, [`.removing-${id}.${process.pid}`], 'asked about the entry before claiming it');
    assert.ok(existsSync(join(f.upper(), 'work.txt')), 'the layers of a live run were removed');
    assert.is(f.store.resolve(id).state, 'running');
    assert.equal(readdirSync(join(f.root, 'store')).filter((n) => n.startsWith('.removing-')), []);
    // Its run over (the pid reused by another start time: the same as gone), it goes; then it is gone.
    f.store.writeMeta({ ...f.meta, state: 'running', runnerPid: p.pid, runnerStart: String(Number(start) + 1) });
    assert.is(f.store.removeId(id, (e) => e.meta?.state === 'running'), 'removed');
    assert.not.ok(existsSync(join(f.root, 'store', id)));
    assert.is(f.store.removeId(id), 'gone');
  } finally {
    p.kill();
    f.cleanup();
  }
});

test.run();
