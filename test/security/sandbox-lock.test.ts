// One sbx at a time in a saved sandbox (sandbox-core/sandbox-lock.ts). A `run --in` started
// while an earlier run's review waited for its answer wrote into the layers the review had
// shown: `k` then committed content nobody reviewed and removed the sandbox with the new run's
// other writes (its command ended on ENOENT); `sbx commit`, `discard` and `prune -f` took the
// sandbox from under the waiting review. Now they are refused while it waits, and `k` commits
// what was shown. The commits go only to this test's canary tree.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canary, proveIsolation, sbx, sbxAsync, storeAndCanary } from '../helpers/sbx.js';
import { underPtyAsync } from '../helpers/pty.js';

const store = storeAndCanary();

/** The store entry of the sandbox named `name`, once its meta.json says `state`. */
function entryOf(name: string): { id: string; state: string } | null {
  for (const d of readdirSync(store).filter((n) => /^[0-9a-f]{8}$/.test(n))) {
    try {
      const m = JSON.parse(readFileSync(join(store, d, 'meta.json'), 'utf8')) as { name?: string; state: string };
      if (m.name === name) return { id: d, state: m.state };
    } catch { /* being written */ }
  }
  return null;
}

async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('while a run\'s review waits for its answer, run --in, commit, discard and prune are refused, and k commits what was shown', async () => {
  proveIsolation(canary, store);
  const gates = mkdtempSync(join(tmpdir(), 'sbx-lock-gate-'));
  const gate = join(gates, 'answer');
  const name = `held-${process.pid}`;
  try {
    const run = underPtyAsync([['Keep these changes?', 'k\n', gate]], ['run', '--name', name, '--', 'sh', '-c', `echo reviewed > ${canary}/f`], { store });
    // The review shows its question with the sandbox saved and its lock held.
    await until('the review', () => { const e = entryOf(name); return !!e && e.state === 'saved' && existsSync(join(store, e.id, 'commit.lock')); });
    const busy = 'a run in this sandbox (sbx pid';
    const inRun = sbx(['run', '--in', name, '-q', '--', 'sh', '-c', `echo NOT-REVIEWED > ${canary}/f; echo more > ${canary}/unreviewed`], { store });
    assert.is(inRun.code, 125, inRun.stderr);
    assert.match(inRun.stderr, busy);
    const commit = sbx(['commit', name], { store });
    assert.is(commit.code, 125, commit.stderr);
    assert.match(commit.stderr, busy);
    const discard = sbx(['discard', name], { store });
    assert.is(discard.code, 125, discard.stderr);
    assert.match(discard.stderr, 'has a run or its review still going');
    const prune = sbx(['prune', '-f'], { store });
    assert.match(prune.stderr + prune.stdout, 'a run in it or its review is still going');
    assert.ok(entryOf(name), 'the sandbox was removed from under its review');
    writeFileSync(gate, '');
    const r = await run;
    assert.is(r.code, 0, r.out);
    assert.is(readFileSync(join(canary, 'f'), 'utf8'), 'reviewed\n');
    assert.not.ok(existsSync(join(canary, 'unreviewed')));
    assert.is(entryOf(name), null, 'a complete commit removes the sandbox');
  } finally {
    rmSync(gates, { recursive: true, force: true });
    sbx(['discard', name], { store });
  }
});

test('a run --in while another runs in the sandbox is refused; the lock is free again after', async () => {
  proveIsolation(canary, store);
  const name = `busy-${process.pid}`;
  let first: ReturnType<typeof sbxAsync> | undefined;
  try {
    assert.is(sbx(['run', '--name', name, '-q', '--', 'true'], { store }).code, 0);
    // It runs until the test closes its stdin, not for a fixed while: that cost the wait in full,
    // and on a slow enough machine it could end before the refusals were asked.
    first = sbxAsync(['run', '--in', name, '-q', '--', 'sh', '-c', `read x; echo first > ${canary}/g`], { store, stdio: ['pipe', 'ignore', 'ignore'] });
    await until('the first run', () => entryOf(name)?.state === 'running');
    const second = sbx(['run', '--in', name, '-q', '--', 'sh', '-c', `echo second > ${canary}/g`], { store });
    assert.is(second.code, 125, second.stderr);
    assert.match(second.stderr, /in use by another sbx|a run in this sandbox \(sbx pid/);
    const commit = sbx(['commit', name], { store });
    assert.is(commit.code, 125, commit.stderr);
    const closed = new Promise((r) => first!.on('close', r));
    first.stdin!.end();
    await closed;
    assert.is(first.exitCode, 0);
    // Released: a run in it and the commit go on.
    assert.is(sbx(['run', '--in', name, '-q', '--', 'sh', '-c', `cat ${canary}/g`], { store }).stdout, 'first\n');
    const c = sbx(['commit', name], { store });
    assert.is(c.code, 0, c.stderr);
    assert.is(readFileSync(join(canary, 'g'), 'utf8'), 'first\n');
  } finally {
    // A failed assertion left it reading: its end lets the discard go on.
    if (first && first.exitCode === null && first.signalCode === null) {
      const closed = new Promise((r) => first!.on('close', r));
      first.stdin!.end();
      await closed;
    }
    sbx(['discard', name], { store });
  }
});

test.run();
