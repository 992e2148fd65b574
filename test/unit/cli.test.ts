// The command line contract that needs no sandbox: help, user errors as one line on stderr
// with exit 125, stdout left clean.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SBX } from '../helpers/sbx.js';

const store = mkdtempSync(join(tmpdir(), 'sbx-cli-'));
test.after(() => rmSync(store, { recursive: true, force: true }));

function sbx(...args: string[]) {
  const r = spawnSync(process.execPath, [SBX, ...args], { encoding: 'utf8', env: { ...process.env, SBX_HOME: store, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('help for sbx and for each command', () => {
  const top = sbx('--help');
  assert.is(top.code, 0);
  for (const c of ['run', 'diff', 'commit', 'ls', 'discard', 'doctor']) assert.match(top.stdout, new RegExp(`sbx ${c}`));
  const run = sbx('run', '--help');
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /copy-on-write/);
  assert.match(run.stdout, /sbx run -n -- rm -rf/);
});

test('a bad flag is a usage error: exit 125, nothing on stdout', () => {
  const r = sbx('run', '--no-such-flag', 'true');
  assert.is(r.code, 125);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /Unsupported option name|no-such-flag/);
});

test('an unknown sandbox id is one clear line', () => {
  const r = sbx('diff', 'nosuchbox');
  assert.is(r.code, 125);
  assert.is(r.stdout, '');
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /no sandbox called 'nosuchbox'.*sbx ls/);
  assert.not.match(r.stderr, /\n\s+at /);
});

test('contradicting options are refused before anything runs', () => {
  const r = sbx('run', '-n', '-y', '--', 'true');
  assert.is(r.code, 125);
  assert.match(r.stderr, /contradict/);
});

test('a closed stdout pipe is not a crash', () => {
  const r = spawnSync('sh', ['-c', `"${process.execPath}" "${SBX}" policy show default | head -1`], { encoding: 'utf8' });
  assert.is(r.status, 0);
  assert.not.match(r.stderr, /EPIPE|Error/);
});

test('policy show follows --cap-add: the raw-socket rule exists only with NET_RAW', () => {
  const def = sbx('policy', 'show', 'default');
  assert.is(def.code, 0, def.stderr);
  assert.match(def.stdout, /^for a command holding: CHOWN DAC_OVERRIDE .*SETFCAP /m);
  assert.match(def.stdout, /errno EPERM if .*SOCK_RAW.* \[without NET_RAW\]:/);
  assert.not.match(def.stdout, /\[with NET_RAW\]/);
  const raw = sbx('policy', 'show', 'default', '--cap-add', 'NET_RAW');
  assert.match(raw.stdout, /allow if .*AF_PACKET.* \[with NET_RAW\]:/);
  assert.not.match(raw.stdout, /\[without NET_RAW\]/);
});

test.run();
