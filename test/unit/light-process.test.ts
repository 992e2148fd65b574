// sandbox-core/base/light-process.ts: isatty and the helper's start without node:tty and
// node:child_process must answer as those modules do.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isatty as nodeIsatty } from 'node:tty';
import { isatty, spawnInherited, spawnSyncFromBinding, spawnSyncPiped, type LightChild } from '../../sandbox-core/base/light-process.js';
import { testUnless } from '../helpers/skip.js';

const dir = mkdtempSync(join(tmpdir(), 'sbx-light-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function exitOf(file: string, args: string[], fds: number[], env: Record<string, string> = {}): Promise<[number | null, string | null]> {
  return new Promise((resolve) => {
    const child = spawnInherited(file, args, fds, env, (code, signal) => resolve([code, signal]));
    assert.ok(child, 'process.binding is there in the Node that runs the tests');
  });
}

test('isatty answers as node:tty for a file, /dev/null, a closed fd and an fd out of range', () => {
  const fds = [openSync(join(dir, 'f'), 'w'), openSync('/dev/null', 'r')];
  try {
    for (const fd of [...fds, 0, 1, 2, 999, -1, 1.5]) assert.is(isatty(fd), nodeIsatty(fd), `fd ${fd}`);
  } finally {
    for (const fd of fds) closeSync(fd);
  }
});

test('isatty is true for a terminal (script(1) gives the child a pty)', () => {
  const probe = `import(${JSON.stringify(join(import.meta.dirname, '../../sandbox-core/base/light-process.js'))}).then((m) => console.log([m.isatty(0), m.isatty(1), require('tty').isatty(1)].join(' ')))`;
  const r = spawnSync('script', ['-qec', `${process.execPath} -e "${probe.replace(/"/g, '\\"')}"`, '/dev/null'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /true true true/);
});

test('a child gets the fds given, at their indexes, the environment given and no other, and its exit code', async () => {
  const out = openSync(join(dir, 'out'), 'w');
  try {
    const [code, signal] = await exitOf('/bin/sh', ['-c', 'echo "$SBX_X $HOME" >&3; ls /proc/self/fd >&3; exit 7'], [0, 1, 2, out], { SBX_X: 'x' });
    assert.equal([code, signal], [7, null]);
  } finally {
    closeSync(out);
  }
  const [first, ...fds] = readFileSync(join(dir, 'out'), 'utf8').trim().split('\n');
  assert.is(first, 'x ');
  // Besides 0-3, ls's own fd of /proc/self/fd and whatever the test runner left open without
  // close-on-exec (node:child_process passes those on too; the helper closes them).
  assert.equal(fds.map(Number).filter((n) => n <= 3), [0, 1, 2, 3]);
});

test('a child killed by a signal reports its name, and kill reaches it', async () => {
  const done = new Promise<[number | null, string | null]>((resolve) => {
    const child = spawnInherited('/bin/sleep', ['30'], [0, 1, 2], {}, (code, signal) => resolve([code, signal]));
    child!.kill('SIGTERM');
  });
  assert.equal(await done, [null, 'SIGTERM']);
  assert.equal(await exitOf('/bin/sh', ['-c', 'kill -USR1 $$'], [0, 1, 2]), [null, 'SIGUSR1']);
});

test('kill after the child was reaped signals nothing: its pid may be another process by then', async () => {
  const child = await new Promise<LightChild>((resolve) => {
    const c: LightChild | null = spawnInherited('/bin/true', [], [0, 1, 2], {}, () => resolve(c!));
  });
  const killed: Array<[number, unknown]> = [];
  const real = process.kill;
  process.kill = ((pid: number, sig?: string | number) => { killed.push([pid, sig]); return true; }) as typeof process.kill;
  try { child.kill('SIGTERM'); } finally { process.kill = real; }
  assert.equal(killed, []);
});

test("a file that cannot be started throws node:child_process's message", () => {
  assert.throws(() => spawnInherited(join(dir, 'missing'), [], [0, 1, 2], {}, () => undefined), (e: Error & { code?: string }) => e.message === `spawn ${join(dir, 'missing')} ENOENT` && e.code === 'ENOENT');
});

/** child_process.spawnSync with the options spawnSyncPiped stands for, in the same shape. */
function nodeSync(file: string, args: string[], input: Buffer, fds: number[], maxBuffer: number) {
  const r = spawnSync(file, args, { input, maxBuffer, stdio: ['pipe', 'pipe', 'pipe', ...fds] });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? Buffer.alloc(0), stderr: r.stderr ?? Buffer.alloc(0), error: (r.error as NodeJS.ErrnoException | undefined)?.code ?? null };
}
function lightSync(file: string, args: string[], input: Buffer, fds: number[], maxBuffer: number) {
  const r = spawnSyncPiped(file, args, input, fds, maxBuffer);
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, error: (r.error as NodeJS.ErrnoException | undefined)?.code ?? null };
}

const bindingWhy = typeof (process as { binding?: unknown }).binding !== 'function' ? `no process.binding in Node ${process.version}` : null;
testUnless(bindingWhy)('spawnSyncPiped runs through the spawn_sync binding on this Node', () => {
  assert.ok(spawnSyncFromBinding());
});

test('spawnSyncPiped answers as child_process.spawnSync: input, both outputs, exit codes, signals, extra fds, the environment, a missing program, a full buffer', () => {
  const extra = join(dir, 'extra');
  writeFileSync(extra, 'from fd 3\n');
  const fd = openSync(extra, 'r');
  process.env.SBX_LIGHT_SYNC_PROBE = 'probe value';
  try {
    const big = Buffer.alloc(300_000, 0x61);
    const cases: Array<[string, string[], Buffer, number[], number]> = [
      ['/bin/cat', [], Buffer.from('some input\n\0bytes'), [], 1 << 20],
      ['/bin/cat', [], big, [], 1 << 20],
      ['/bin/sh', ['-c', 'echo out; echo err >&2; exit 3'], Buffer.alloc(0), [], 1 << 20],
      ['/bin/sh', ['-c', 'kill -TERM $$'], Buffer.alloc(0), [], 1 << 20],
      // /dev/fd/3 opens the file again: both runs read it from its start.
      ['/bin/sh', ['-c', 'cat /dev/fd/3'], Buffer.alloc(0), [fd], 1 << 20],
      ['/bin/sh', ['-c', 'printf %s "$SBX_LIGHT_SYNC_PROBE"'], Buffer.alloc(0), [], 1 << 20],
      [join(dir, 'no-such-program'), [], Buffer.alloc(0), [], 1 << 20],
      ['/bin/cat', [], big, [], 1000],
    ];
    for (const [file, args, input, fds, max] of cases) {
      const want = nodeSync(file, args, input, fds, max);
      const got = lightSync(file, args, input, fds, max);
      const what = `${file} ${args.join(' ')} (maxBuffer ${max})`;
      assert.equal({ ...got, stdout: got.stdout.toString('latin1'), stderr: got.stderr.toString('latin1') }, { ...want, stdout: want.stdout.toString('latin1'), stderr: want.stderr.toString('latin1') }, what);
    }
  } finally {
    delete process.env.SBX_LIGHT_SYNC_PROBE;
    closeSync(fd);
  }
});

test.run();
