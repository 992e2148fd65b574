// What the host's user does between `sbx run --name X` and `sbx commit X` must never be undone
// by the commit: a dir removed with a file the sandbox changed in it, a dir made where the
// sandbox had a file, a second commit of the same sandbox at once, an append-only dir that
// keeps a staged copy. Kernel overlayfs in both lanes (root: /opt, the test user: $HOME).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IS_ROOT, makeCanary, makeStore, proveIsolation, removeCanary, removeStore, sbx, sbxAsync } from '../helpers/sbx.js';
import { testUnless } from '../helpers/skip.js';

function withCanary(fn: (canary: string, store: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const canary = makeCanary();
    const store = makeStore();
    try {
      proveIsolation(canary, store);
      await fn(canary, store);
    } finally {
      removeStore(store);
      removeCanary(canary);
    }
  };
}

function runNamed(store: string, canary: string, script: string): void {
  const r = sbx(['run', '-q', '--name', 'x', '--', 'sh', '-c', script], { store, cwd: canary });
  assert.is(r.code, 0, r.stderr);
}

test('a dir the host removed, with a file the sandbox changed in it, does not bring that file back', withCanary((canary, store) => {
  mkdirSync(join(canary, 'd', 'e'), { recursive: true });
  writeFileSync(join(canary, 'd', 'e', 'f'), 'host f\n');
  writeFileSync(join(canary, 'd', 'g'), 'host g\n');
  runNamed(store, canary, 'echo more >> d/e/f && echo new > d/new');
  rmSync(join(canary, 'd'), { recursive: true });
  const r = sbx(['commit', 'x'], { store });
  assert.is(r.code, 1, r.stderr);
  assert.not.ok(existsSync(join(canary, 'd', 'e', 'f')), `d/e/f, removed on the host with its dir, was brought back: ${r.stderr}`);
  assert.match(r.stderr, `${join(canary, 'd', 'e', 'f')}: the host file it was made from was deleted after the sandbox started`);
  // A file the sandbox made is no one's loss: it is committed (its dirs made anew).
  assert.is(readFileSync(join(canary, 'd', 'new'), 'utf8'), 'new\n');
  assert.not.ok(existsSync(join(canary, 'd', 'g')));
}));

test('a dir the host made where the sandbox changed a file, or removed a dir, is kept (a conflict), even empty', withCanary((canary, store) => {
  writeFileSync(join(canary, 'f'), 'host f\n');
  mkdirSync(join(canary, 'd'));
  mkdirSync(join(canary, 'k'));
  writeFileSync(join(canary, 'k', 'x'), 'host x\n');
  runNamed(store, canary, 'echo new > f && rmdir d && rm -r k && echo new > k');
  unlinkSync(join(canary, 'f'));
  mkdirSync(join(canary, 'f'));
  rmdirSync(join(canary, 'd'));
  mkdirSync(join(canary, 'd'));
  const r = sbx(['commit', 'x'], { store });
  assert.is(r.code, 1, r.stderr);
  for (const p of ['f', 'd']) assert.match(r.stderr, `${join(canary, p)}: made on the host after the sandbox started`);
  assert.ok(existsSync(join(canary, 'f')) && readdirSync(join(canary, 'f')).length === 0, 'the host\'s new dir f was replaced');
  assert.ok(existsSync(join(canary, 'd')), 'the host\'s new dir d was removed');
  // A dir the host left alone is no conflict: the sandbox's removal and file are committed.
  assert.is(readFileSync(join(canary, 'k'), 'utf8'), 'new\n');
}));

/** `sbx commit x` started and stopped after its plan (its lock held, no journal yet); its exit awaited. */
async function pausedCommit(store: string): Promise<{ first: ReturnType<typeof sbxAsync>; exited: Promise<void> }> {
  const first = sbxAsync(['commit', 'x'], { store, env: { SBX_TEST_COMMIT_PAUSE_AFTER: 'planned' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise<void>((res) => first.on('exit', () => res()));
  await new Promise<void>((res, rej) => {
    first.stderr!.on('data', (b: Buffer) => { err += b.toString(); if (err.includes('paused at step planned')) res(); });
    first.on('exit', () => rej(new Error(`the commit did not pause: ${err}`)));
    setTimeout(() => rej(new Error(`the commit did not pause within a minute: ${err}`)), 60_000).unref();
  }).catch((e) => { first.kill('SIGKILL'); throw e; });
  return { first, exited };
}

test('a second commit of a sandbox while the first runs is refused; a killed one\'s lock is taken over', withCanary(async (canary, store) => {
  mkdirSync(join(canary, 'm'));
  for (let i = 0; i < 20; i++) writeFileSync(join(canary, 'm', `f${i}`), `host ${i}\n`);
  runNamed(store, canary, 'for i in $(seq 0 19); do echo sb$i > m/f$i; done; echo new > m/new');
  // The first stops after its plan, before its journal: the moment two commits raced.
  const { first, exited } = await pausedCommit(store);
  try {
    const second = sbx(['commit', 'x'], { store });
    assert.is(second.code, 125, second.stderr);
    assert.match(second.stderr, `another commit of this sandbox is running (pid ${first.pid})`);
    assert.is(readFileSync(join(canary, 'm', 'f0'), 'utf8'), 'host 0\n', 'the second commit wrote');
  } finally {
    first.kill('SIGKILL');
    await exited;
  }
  const third = sbx(['commit', 'x'], { store });
  assert.is(third.code, 0, third.stderr);
  for (let i = 0; i < 20; i++) assert.is(readFileSync(join(canary, 'm', `f${i}`), 'utf8'), `sb${i}\n`);
  assert.is(readFileSync(join(canary, 'm', 'new'), 'utf8'), 'new\n');
}));

test('discard and prune leave a sandbox whose commit still scans and plans (its lock held, no journal yet)', withCanary(async (canary, store) => {
  writeFileSync(join(canary, 'f'), 'host\n');
  runNamed(store, canary, 'echo sb > f');
  const { first, exited } = await pausedCommit(store);
  try {
    const d = sbx(['discard', 'x'], { store });
    assert.is(d.code, 125, d.stderr);
    assert.match(d.stderr, `sandbox x is being committed (sbx pid ${first.pid}): nothing discarded`);
    const p = sbx(['prune', '-f'], { store });
    assert.match(p.stderr, 'skipped x: it is being committed', p.stderr);
    assert.ok(readdirSync(store).some((n) => /^[0-9a-f]{8}$/.test(n)), `the sandbox went: ${p.stderr}`);
  } finally {
    first.kill('SIGKILL');
    await exited;
  }
  // Its lock's owner gone, the sandbox may go.
  const d = sbx(['discard', 'x'], { store });
  assert.is(d.code, 0, d.stderr);
  assert.is(readFileSync(join(canary, 'f'), 'utf8'), 'host\n');
}));

// Decided at load: whether /opt's filesystem takes the append-only flag at all.
const chattrOk = IS_ROOT && spawnSync('sh', ['-c', 'd=$(mktemp -d /opt/sbx-chattr-XXXXXX) && chattr +a "$d" && chattr -a "$d"; s=$?; rmdir "$d"; exit $s']).status === 0;
testUnless(!IS_ROOT ? 'chattr +a needs root' : !chattrOk ? 'no chattr, or /opt takes no append-only flag' : null, { missing: IS_ROOT })(
  'an append-only host dir: the files in it are not committed, and a staged copy it keeps is named', withCanary((canary, store) => {
    mkdirSync(join(canary, 'd'));
    writeFileSync(join(canary, 'd', 'a'), 'host a\n');
    runNamed(store, canary, 'echo new > d/a && echo new > d/b && echo new > c');
    const d = join(canary, 'd');
    const set = spawnSync('chattr', ['+a', d], { encoding: 'utf8' });
    assert.is(set.status, 0, set.stderr);
    try {
      const r = sbx(['commit', 'x'], { store });
      assert.is(r.code, 1, r.stderr);
      assert.is(readFileSync(join(d, 'a'), 'utf8'), 'host a\n');
      assert.is(readFileSync(join(canary, 'c'), 'utf8'), 'new\n');
      const left = readdirSync(d).filter((n) => n.startsWith('.sbx-'));
      for (const n of left) assert.match(r.stderr, `its staged copy ${join(d, n)} could not be removed (EPERM): remove it by hand`);
      assert.ok(left.length > 0, 'this filesystem let the staged copies go: nothing to name');
    } finally {
      spawnSync('chattr', ['-a', d]);
    }
  }));

test.run();
