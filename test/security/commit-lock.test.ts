// The commit lock (`commit.lock` in a sandbox's store entry, sandbox-core/commit/journal.ts):
// one commit of a sandbox at a time, and a lock left by a commit that died is taken over by the
// next. Two processes taking over the same dead lock at the same instant must never both hold
// it: before, each unlinked the dead file and made its own with O_EXCL, and the slower one's
// unlink could remove the faster one's fresh lock. No sandbox is run: the lock is taken by
// the real takeSandboxLock in child processes, in an entry dir of a temporary store.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Dir } from '../../sandbox-core/beneath.js';
import { takeSandboxLock } from '../../sandbox-core/sandbox-lock.js';
import { REPO } from '../helpers/sbx.js';

const ROUNDS = 150;

/**
 * A taker: for each `go AT` line on stdin it waits until that time (ms since the epoch), takes
 * the lock of the entry dir, and says `won` or `lost`; a winner marks its hold with a file made
 * O_EXCL (`overlap` when the other winner's mark is still there), holds a few ms, then removes
 * the mark and releases. `kill` takes the lock and waits to be killed.
 */
const TAKER = `
import { openSync, closeSync, unlinkSync } from 'node:fs';
import { createInterface } from 'node:readline';
const { Dir } = await import(process.argv[1] + '/dist/sandbox-core/beneath.js');
const { takeSandboxLock } = await import(process.argv[1] + '/dist/sandbox-core/sandbox-lock.js');
const entry = Dir.open(process.argv[2]);
const mark = process.argv[2] + '.held';
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, at] = line.split(' ');
  if (cmd === 'kill') { takeSandboxLock(entry, 'commit'); console.log('holding'); continue; }
  // Both start together: asleep until 2 ms before, then spinning.
  if (Number(at) - Date.now() > 2) sleep(Number(at) - Date.now() - 2);
  while (Date.now() < Number(at)) { /* spin */ }
  let release;
  try { release = takeSandboxLock(entry, 'commit'); } catch { console.log('lost'); continue; }
  let said = 'won';
  try { closeSync(openSync(mark, 'wx')); } catch { said = 'overlap'; }
  sleep(5);
  if (said === 'won') unlinkSync(mark);
  release();
  console.log(said);
}
`;

function startTaker(entryDir: string): { child: ChildProcess; next: () => Promise<string> } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', TAKER, REPO, entryDir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiting: Array<(l: string) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (l) => { const w = waiting.shift(); if (w) w(l); else lines.push(l); });
  return { child, next: () => new Promise((res) => { const l = lines.shift(); if (l !== undefined) res(l); else waiting.push(res); }) };
}

/** Whether no process has `pid` (ESRCH): a pid that ended may be given to a new process. */
const isGone = (pid: number): boolean => { try { process.kill(pid, 0); return false; } catch (e) { return (e as NodeJS.ErrnoException).code === 'ESRCH'; } };
let gone = 0;

/**
 * A lock file as a killed commit leaves it: a stamp naming a pid that is gone (one ended
 * process's, while no new process has it: a spawn from this process each round was ~6 ms of
 * its ~55).
 */
function plantDeadLock(entryDir: string): void {
  if (!gone || !isGone(gone)) gone = spawnSync('true').pid!;
  writeFileSync(join(entryDir, 'commit.lock'), JSON.stringify({ pid: gone }));
}

test('two takers of the same dead lock at the same instant: never both hold it', async () => {
  const top = mkdtempSync(join(tmpdir(), 'sbx-lock-test-'));
  const entryDir = join(top, 'abcdef01');
  mkdirSync(entryDir);
  const a = startTaker(entryDir);
  const b = startTaker(entryDir);
  try {
    let overlaps = 0, both = 0, none = 0;
    for (let i = 0; i < ROUNDS; i++) {
      plantDeadLock(entryDir);
      const at = Date.now() + (i === 0 ? 1500 : 8);
      a.child.stdin!.write(`go ${at}\n`);
      b.child.stdin!.write(`go ${at}\n`);
      const said = [await a.next(), await b.next()];
      if (said.includes('overlap')) overlaps++;
      if (said.every((s) => s !== 'lost')) both++;
      if (said.every((s) => s === 'lost')) none++;
    }
    // `both` alone may be honest (one released before the other tried); an overlap never is.
    assert.is(overlaps, 0, `both takers held the lock at once in ${overlaps} of ${ROUNDS} rounds (both won in ${both})`);
    assert.is(none, 0, `no taker got a dead lock in ${none} of ${ROUNDS} rounds`);
  } finally {
    a.child.kill('SIGKILL');
    b.child.kill('SIGKILL');
    rmSync(top, { recursive: true, force: true });
  }
});

test('a lock held by a process that is SIGKILLed is free at once for the next commit', async () => {
  const top = mkdtempSync(join(tmpdir(), 'sbx-lock-test-'));
  const entryDir = join(top, 'abcdef01');
  mkdirSync(entryDir);
  const k = startTaker(entryDir);
  const entry = Dir.open(entryDir);
  try {
    k.child.stdin!.write('kill\n');
    assert.is(await k.next(), 'holding');
    assert.throws(() => takeSandboxLock(entry, 'commit'), /another commit of this sandbox is running \(pid \d+\)/);
    // Its hint names sbx as the caller types it (under sudo, for root's store: store.ts sbxFor).
    assert.throws(() => takeSandboxLock(entry, 'commit', 'sudo sbx'), (e: Error & { hint?: string }) => e.hint === "wait for it to finish; a commit that was killed is finished by the next 'sudo sbx commit'");
    k.child.kill('SIGKILL');
    await new Promise((r) => k.child.once('exit', r));
    const release = takeSandboxLock(entry, 'commit');
    release();
  } finally {
    entry.close();
    if (k.child.exitCode === null && k.child.signalCode === null) k.child.kill('SIGKILL');
    rmSync(top, { recursive: true, force: true });
  }
});

test.run();
