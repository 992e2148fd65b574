// The installed entry is a launcher (cli/launcher.ts): started as a program, as a user starts
// it, /bin/sh keeps NODE_EXTRA_CA_CERTS from sbx's own Node (which would read the file and
// build a certificate store before any JavaScript) and the command inside still gets it.
// Node says so when it tries to load a file that is not there, which makes the proof: started
// as `node sbx.js` it warns; started as the program it must not.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { makeStore, removeStore, SBX } from '../helpers/sbx.js';
import { testUnless } from '../helpers/skip.js';

const store = makeStore();
test.after(() => removeStore(store));

const missing = join('/nonexistent', `sbx-ca-${randomBytes(4).toString('hex')}.pem`);
// The launcher execs `node` from PATH: the one running these tests comes first.
const baseEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, SBX_HOME: store, NO_COLOR: '1', PATH: `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}` };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.SBX_NODE_EXTRA_CA_CERTS;
  return env;
};
const WARNING = /Ignoring extra certs/;

function start(argv: string[], extra: NodeJS.ProcessEnv, viaNode = false): { code: number; stdout: string; stderr: string } {
  const r = viaNode
    ? spawnSync(process.execPath, [SBX, ...argv], { encoding: 'utf8', cwd: '/', env: { ...baseEnv(), ...extra }, timeout: 60_000 })
    : spawnSync(SBX, argv, { encoding: 'utf8', cwd: '/', env: { ...baseEnv(), ...extra }, timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

// Decided at load: a Node that no longer reads the file at start (a later release may load it
// lazily) cannot show the difference, and the launcher is then only a pass-through.
const control = start(['--version'], { NODE_EXTRA_CA_CERTS: missing }, true);
const noWarning = WARNING.test(control.stderr) ? null : `this Node (${process.version}) does not read NODE_EXTRA_CA_CERTS at start`;

testUnless(noWarning)('started as a program, sbx --version does not load NODE_EXTRA_CA_CERTS (node sbx.js does)', () => {
  const r = start(['--version'], { NODE_EXTRA_CA_CERTS: missing });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^sbx /);
  assert.not.match(r.stderr, WARNING);
});

test('the command inside gets NODE_EXTRA_CA_CERTS exactly as it was, and never the launcher\'s holder', () => {
  const show = ['run', '-n', '-q', '--', 'sh', '-c', 'printf "%s|%s" "${NODE_EXTRA_CA_CERTS-unset}" "${SBX_NODE_EXTRA_CA_CERTS-unset}"'];
  const set = start(show, { NODE_EXTRA_CA_CERTS: missing });
  assert.is(set.code, 0, set.stderr);
  assert.is(set.stdout, `${missing}|unset`);
  assert.not.match(set.stderr, WARNING);
  // Set but empty stays set and empty; unset stays unset.
  const empty = start(show, { NODE_EXTRA_CA_CERTS: '' });
  assert.is(empty.code, 0, empty.stderr);
  assert.is(empty.stdout, '|unset');
  const unset = start(show, {});
  assert.is(unset.code, 0, unset.stderr);
  assert.is(unset.stdout, 'unset|unset');
  // A holder the launcher did not fill is dropped, not taken for the variable.
  const stray = start(show, { SBX_NODE_EXTRA_CA_CERTS: '/stray.pem' });
  assert.is(stray.code, 0, stray.stderr);
  assert.is(stray.stdout, 'unset|unset');
});

test.run();
