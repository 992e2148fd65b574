// policies/secrets.json: what --hide-secrets drops from the environment and hides under $HOME,
// checked against the variables and files issue 11 found passing, and against docs/security.md.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SecretMatcher, loadSecretsRules, parseSecretsRules } from '../../policies/secrets.js';
import { withoutSecrets } from '../../sandbox-core/secrets.js';
import { REPO } from '../helpers/sbx.js';

const rules = loadSecretsRules();
const m = new SecretMatcher(rules);
const secret = (name: string, value = 'x'): boolean => m.envRule(name, value) !== null;

test('the variables that passed --net before are dropped by name', () => {
  for (const n of ['PGPASSWORD', 'MYSQL_PWD', 'SSHPASS', 'GITHUB_PAT', 'BW_SESSION', 'TAILSCALE_AUTHKEY', 'NGROK_AUTHTOKEN',
    'DATABASE_URL', 'npm_config__authToken', 'GITHUB_TOKEN', 'GH_TOKEN', 'SSH_AUTH_SOCK', 'OPENAI_API_KEY', 'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY', 'ANTHROPIC_API_KEY', 'SOPS_AGE_KEY', 'VAULT_TOKEN', 'OP_SESSION_my', 'DOCKER_AUTH_CONFIG',
    'GOOGLE_APPLICATION_CREDENTIALS', 'KUBECONFIG', 'my_api_secret_value', 'STRIPE_SECRET_KEY', 'REDIS_PASSWORD', 'XAUTHORITY',
    // Passed --net until 2026-12-04 (an adversarial probe).
    'DB_PASS', 'SMTP_PASS', 'REDIS_PASS', 'DOCKER_PASS', 'DB_PWD', 'LDAP_BIND_PW',
    // And these, found by the next probe the same day.
    'MINIO_ACCESSKEY', 'S3_ACCESSKEY', 'KEY', 'PASS', 'PGPASS', 'COOKIE', 'SESSION_COOKIE', 'BEARER', 'API_BEARER', 'CREDS', 'DOCKER_CREDS',
    'GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_VALUE_0']) {
    assert.ok(secret(n), `${n} should be dropped`);
  }
});

test('ordinary variables are kept, including ones that only look like secrets', () => {
  for (const n of ['PATH', 'HOME', 'PWD', 'OLDPWD', 'TERM', 'LANG', 'LC_ALL', 'SHELL', 'USER', 'EDITOR', 'XDG_SESSION_TYPE',
    'GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'TOKENIZERS_PARALLELISM', 'KEYBOARD', 'MONKEY', 'SSH_CONNECTION', 'DISPLAY', 'NODE_OPTIONS',
    'AWS_CA_BUNDLE', 'REQUESTS_CA_BUNDLE', 'GIT_CONFIG_COUNT', 'PASSAGE', 'KEYMAP']) {
    assert.not.ok(secret(n, 'plain'), `${n} should be kept`);
  }
});

test('a URL with credentials in the value is dropped whatever the name', () => {
  assert.ok(secret('UPSTREAM', 'postgres://app:hunter2@db.internal:5432/app'));
  assert.ok(secret('GIT_REMOTE', 'https://ghp_abcdefghijklmnopqrstuvwxyz0123@github.com/o/r.git'));
  assert.ok(secret('GIT_AUTHOR_URL', 'https://u:p@example.com'), 'name exceptions do not cover values');
  assert.not.ok(secret('HOMEPAGE', 'https://example.com/path?x=1'));
  assert.not.ok(secret('REMOTE', 'ssh://git@github.com/o/r.git'), 'a plain user name is not a credential');
  assert.not.ok(secret('NOTE', 'mail me: a@b.c'));
});

test('a value in a format only secrets have is dropped whatever the name', () => {
  for (const v of ['sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF',
    'glpat-abcdefghij0123456789', 'xoxb-1234567890-abcdefghij', 'AKIAIOSFODNN7EXAMPLE', 'npm_abcdefghijklmnopqrstuvwxyz0123456789',
    'sk-ant-api03-abcdefghijklmnopqrst', 'AIzaSyA-abcdefghijklmnopqrstuvwxyz01234', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl']) {
    assert.ok(secret('SK_LIVE', v), v);
    assert.ok(secret('STRIPE_SK', v), v);
  }
  for (const v of ['sk_live', 'ghp_short', 'AKIA', 'xoxb-1', 'npm_config', 'plain words', '/usr/bin/npm_helper', '-----BEGIN CERTIFICATE-----']) assert.not.ok(secret('HARMLESS', v), v);
  // A JSON Web Token (header and payload are base64url JSON: eyJ…), and an Authorization header anywhere.
  assert.ok(secret('JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'));
  assert.ok(secret('GIT_CONFIG_PARAMS', "'http.extraheader'='Authorization: Basic dXNlcjpodW50ZXIyMjIy'"));
  assert.ok(secret('CURL_OPTS', '-H "Authorization: Bearer abcdefghijklmnop0123"'));
  assert.ok(secret('HDR', 'bearer abcdefghijklmnop0123'));
  for (const v of ['eyJ', 'see the Authorization: header docs', 'the bearer of news', 'Bearer short']) assert.not.ok(secret('HARMLESS', v), v);
});

test('withoutSecrets returns the kept environment and the dropped names', () => {
  const r = withoutSecrets({ PATH: '/bin', PGPASSWORD: 'p', DB: 'mysql://root:pw@h/db', GIT_AUTHOR_NAME: 'me' }, rules);
  assert.equal(r.env, { PATH: '/bin', GIT_AUTHOR_NAME: 'me' });
  assert.equal(r.dropped.sort(), ['DB', 'PGPASSWORD']);
});

test('the credential files issue 11 found readable are in the list, with each class of tool', () => {
  const files = new Set(rules.files.map((f) => f.path));
  for (const f of ['.config/containers/auth.json', '.Xauthority', '.bash_history', '.config/sops', '.ssh', '.gnupg', '.aws',
    '.config/gcloud', '.azure', '.kube', '.docker/config.json', '.npmrc', '.pypirc', '.cargo/credentials.toml', '.gem/credentials',
    '.password-store', '.config/op', '.config/Bitwarden CLI', '.zsh_history', '.local/share/fish/fish_history', '.netrc']) {
    assert.ok(files.has(f), `~/${f} missing from policies/secrets.json`);
  }
});

test('docs/security.md lists exactly the rules of policies/secrets.json', () => {
  const doc = readFileSync(join(REPO, 'docs', 'security.md'), 'utf8');
  const start = doc.indexOf('<!-- secrets-rules:start -->');
  const end = doc.indexOf('<!-- secrets-rules:end -->');
  assert.ok(start >= 0 && end > start, 'docs/security.md has no secrets-rules section');
  const section = doc.slice(start, end);
  // Only what looks like a rule: flags and commands in the prose are not rules.
  const documented = new Set([...section.matchAll(/`([^`]+)`/g)].map((x) => x[1]!).filter((t) => /^(~\/.+|[A-Za-z0-9_*]*[A-Za-z0-9][A-Za-z0-9_*]*|url-userinfo|known-token|auth-header)$/.test(t)));
  const want = [...rules.env.map((r) => r.name), ...rules.envKeep.map((r) => r.name), ...rules.envValues.map((r) => r.match), ...rules.files.map((r) => `~/${r.path}`)];
  for (const w of want) assert.ok(documented.has(w), `docs/security.md does not list \`${w}\``);
  for (const d of documented) assert.ok(want.includes(d), `docs/security.md lists \`${d}\`, which policies/secrets.json does not have`);
});

test('a malformed rules file is one clear line naming the field', () => {
  const bad: Array<[unknown, string]> = [
    [[], '$: must be an object'],
    [{ version: 2, env: [], envKeep: [], envValues: [], files: [] }, '$.version'],
    [JSON.parse('{"version":1,"__proto__":{"env":[]},"env":[],"envKeep":[],"envValues":[],"files":[]}'), '$.__proto__: unknown field'],
    [{ version: 1, env: [{ name: 'A(' , why: 'x' }], envKeep: [], envValues: [], files: [] }, '$.env[0].name'],
    [{ version: 1, env: [], envKeep: [], envValues: [{ match: 'constructor', why: 'x' }], files: [] }, '$.envValues[0].match: unknown matcher'],
    [{ version: 1, env: [], envKeep: [], envValues: [], files: [{ path: '../etc/shadow', why: 'x' }] }, '$.files[0].path'],
    [{ version: 1, env: [], envKeep: [], envValues: [], files: 'x' }, '$.files: must be an array'],
  ];
  for (const [json, want] of bad) {
    try { parseSecretsRules(json, 'f.json'); assert.unreachable(`accepted ${JSON.stringify(json)}`); } catch (e) {
      assert.is((e as Error).name, 'UserError');
      assert.match((e as Error).message, want);
      assert.not.match((e as Error).message, '\n');
    }
  }
});

test.run();
