// `sbx run`'s fast path parses the common flags by hand: for every argv it accepts, its
// options must be exactly what clipanion's RunCommand would have parsed; everything else must
// be left to clipanion (null).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Cli } from 'clipanion';
import { fastPart, parseRunFast } from '../../cli/run-fast.js';
import { RunCommand } from '../../cli/run.js';
import type { RunOptions } from '../../cli/run-exec.js';

const KEYS: Array<keyof RunOptions> = [
  'discard', 'keep', 'name', 'inRef', 'net', 'keepUser', 'mapRoot', 'hide', 'bind', 'roBind', 'policy', 'capAdd',
  'capDrop', 'noSeccomp', 'only', 'exclude', 'report', 'quiet', 'memory', 'pids', 'cpus', 'disk', 'ioWeight',
  'timeout', 'device', 'hideSecrets', 'allowNet', 'allowSecrets', 'cleanEnvFlag', 'keepSetuid', 'image', 'rootfs',
  'envSet', 'workdir', 'imageUser', 'command',
];

function viaClipanion(args: string[]): Record<string, unknown> {
  const cli = new Cli({ binaryName: 'sbx' });
  cli.register(RunCommand);
  const cmd = cli.process(['run', ...args]) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of KEYS) out[k] = cmd[k];
  // run-exec drops a leading `--` that reaches it (clipanion keeps the second of `-- --`).
  const c = out.command as string[];
  if (c[0] === '--') out.command = c.slice(1);
  return out;
}

function viaFast(args: string[]): Record<string, unknown> | null {
  const o = parseRunFast(args);
  if (!o) return null;
  const out: Record<string, unknown> = {};
  for (const k of KEYS) out[k] = o[k];
  const c = out.command as string[];
  if (c[0] === '--') out.command = c.slice(1);
  return out;
}

const accepted = [
  ['--', 'true'],
  ['true'],
  ['-n', '--', 'true'],
  ['-n', '-q', '--', 'sh', '-c', 'echo hi'],
  ['-nq', 'true', '-n', '--help'],
  ['--discard', '--quiet', '--net', '--user', 'ls', '-la'],
  ['-y', '--keep-setuid', '--clean-env', '--hide-secrets', '--', '--weird-command'],
  ['--name', 'trial', '--', 'make', 'install'],
  ['--name=trial', '--policy', 'strict', 'make'],
  ['--policy=permissive', '--no-seccomp', '--allow-secrets', 'true'],
  ['-q', '--', '--', 'x'],
  ['-n', '-', 'x'],
];
for (const args of accepted) {
  test(`fast path parses ${JSON.stringify(args)} as clipanion does`, () => {
    const fast = viaFast(args);
    assert.ok(fast, 'the fast path should take it');
    assert.equal(fast, viaClipanion(args));
  });
}

// Among them --in, --image, --rootfs and --allow-net: run.js and quiet.js leave their code out
// (scripts/bundle.mjs), so the fast path must never take them.
const declined = [
  [], ['--'], ['-n'], ['-n', '--'], ['--help'], ['-h', 'true'], ['--bind', '/x', 'true'], ['--in', 'trial', 'true'],
  ['-n', '-y', 'true'], ['--hide-secrets', '--allow-secrets', 'true'], ['--name'], ['--name', '--net', 'true'],
  ['--name=', 'true'], ['--memory', '1G', 'true'], ['-nx', 'true'], ['--no-net', 'true'], ['--map-root', 'true'],
  ['--timeout=3s', 'true'], ['--report', 'r.json', 'true'], ['--only', '/x', 'true'], ['--image', 'x.tar'],
  ['--rootfs', '/srv/root', 'true'], ['--env', 'A=1', 'true'], ['--allow-net', 'example.org:443', 'true'],
  ['--allow-net=example.org', 'true'],
];
for (const args of declined) {
  test(`fast path leaves ${JSON.stringify(args)} to clipanion`, () => {
    assert.is(parseRunFast(args), null);
  });
}

test('a quiet throwaway run loads quiet.js unless it hides secrets (its secrets list is left out); any other fast run run.js', () => {
  const part = (args: string[]): string => fastPart(parseRunFast(args)!);
  assert.is(part(['-n', '-q', 'true']), 'quiet');
  assert.is(part(['-nq', '--net', '--allow-secrets', 'true']), 'run');
  assert.is(part(['-n', '-q', '--net', 'true']), 'run');
  assert.is(part(['-n', '-q', '--hide-secrets', 'true']), 'run');
  assert.is(part(['-n', 'true']), 'run');
  assert.is(part(['-q', 'true']), 'run');
});

test.run();
