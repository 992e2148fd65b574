// --hide-secrets, its default with --net, --allow-secrets and --clean-env, seen from inside.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeStore, sbx } from '../helpers/sbx.js';

const store = makeStore();
// A fake home with credential stores, so the user's real ones are never touched.
const home = mkdtempSync(join(tmpdir(), 'sbx-test-home-'));
chmodSync(home, 0o755);
test.before(() => {
  mkdirSync(join(home, '.ssh'));
  writeFileSync(join(home, '.ssh', 'id_ed25519'), 'PRIVATE KEY\n');
  mkdirSync(join(home, '.aws'));
  writeFileSync(join(home, '.aws', 'credentials'), 'aws_secret_access_key=x\n');
  writeFileSync(join(home, '.netrc'), 'machine x password y\n');
  mkdirSync(join(home, '.docker'));
  writeFileSync(join(home, '.docker', 'config.json'), '{"auths":{}}\n');
  writeFileSync(join(home, 'notes.txt'), 'not a secret\n');
});
test.after(() => { rmSync(home, { recursive: true, force: true }); rmSync(store, { recursive: true, force: true }); });

const ENV = { HOME: home, GITHUB_TOKEN: 'ghp_x', MY_API_SECRET_VALUE: 's', AWS_ACCESS_KEY_ID: 'a', SSH_AUTH_SOCK: '/tmp/agent', OPENAI_API_KEY: 'k', HARMLESS_VAR: 'kept' };
const PROBE = `cat ${home}/.ssh/id_ed25519 ${home}/.aws/credentials ${home}/.netrc ${home}/.docker/config.json ${home}/notes.txt 2>/dev/null; env | sort | grep -E '^(GITHUB_TOKEN|MY_API_SECRET_VALUE|AWS_ACCESS_KEY_ID|SSH_AUTH_SOCK|OPENAI_API_KEY|HARMLESS_VAR)='`;

function run(args: string[]): string {
  const r = sbx(['run', '-n', '-q', ...args, '--', 'sh', '-c', PROBE], { store, env: ENV });
  assert.is(r.code, 0, r.stderr);
  return r.stdout;
}

test('by default (no --net) secrets are visible: nothing can leave', () => {
  const out = run([]);
  assert.match(out, 'PRIVATE KEY');
  assert.match(out, 'GITHUB_TOKEN=ghp_x');
});

for (const args of [['--hide-secrets'], ['--net']]) {
  test(`${args[0]} hides credential stores and drops token variables`, () => {
    const out = run(args);
    for (const s of ['PRIVATE KEY', 'aws_secret_access_key', 'password y', 'auths', 'GITHUB_TOKEN', 'MY_API_SECRET_VALUE', 'AWS_ACCESS_KEY_ID', 'SSH_AUTH_SOCK', 'OPENAI_API_KEY']) {
      assert.not.match(out, s, `${s} visible inside with ${args[0]}:\n${out}`);
    }
    assert.match(out, 'not a secret');
    assert.match(out, 'HARMLESS_VAR=kept');
  });
}

test('--net --allow-secrets leaves them visible', () => {
  const out = run(['--net', '--allow-secrets']);
  assert.match(out, 'PRIVATE KEY');
  assert.match(out, 'SSH_AUTH_SOCK=/tmp/agent');
});

test('--clean-env starts from a minimal environment', () => {
  const r = sbx(['run', '-n', '-q', '--clean-env', '--', 'env'], { store, env: { ...ENV, SOME_BUILD_FLAG: '1' } });
  assert.is(r.code, 0, r.stderr);
  const names = r.stdout.trim().split('\n').map((l) => l.split('=')[0]);
  assert.not.ok(names.includes('SOME_BUILD_FLAG') || names.includes('GITHUB_TOKEN') || names.includes('HARMLESS_VAR'), r.stdout);
  assert.ok(names.includes('PATH') && names.includes('HOME'), r.stdout);
});

test.run();
