// --hide-secrets, its default with --net, --allow-secrets and --clean-env, seen from inside.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IS_ROOT, USER_SBX, makeStore, sbx, sbxAsync, removeStore, testUserCanRunSbx } from '../helpers/sbx.js';
import { ROOT_CASE, testUnless } from '../helpers/skip.js';

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
  // The ones issue 11 found readable with --net.
  mkdirSync(join(home, '.config', 'containers'), { recursive: true });
  writeFileSync(join(home, '.config', 'containers', 'auth.json'), '{"auths":{"quay.io":{"auth":"REGISTRYAUTH"}}}\n');
  writeFileSync(join(home, '.Xauthority'), 'XCOOKIE\n');
  writeFileSync(join(home, '.bash_history'), 'export SECRET=HISTORYLINE\n');
  mkdirSync(join(home, '.config', 'sops', 'age'), { recursive: true });
  writeFileSync(join(home, '.config', 'sops', 'age', 'keys.txt'), 'AGE-SECRET-KEY-1XYZ\n');
  // Added 2026-12-02: tokens of current CLIs that were readable with --net.
  mkdirSync(join(home, '.cache', 'huggingface'), { recursive: true });
  writeFileSync(join(home, '.cache', 'huggingface', 'token'), 'hf_HFTOKEN\n');
  mkdirSync(join(home, '.claude'));
  writeFileSync(join(home, '.claude', '.credentials.json'), '{"CLAUDECRED":1}\n');
});
test.after(() => { rmSync(home, { recursive: true, force: true }); removeStore(store); });

// Values are unique markers so that a leak is found wherever it shows up in the output.
const LEAKY = {
  GITHUB_TOKEN: 'ghp_x', MY_API_SECRET_VALUE: 'v_secret', AWS_ACCESS_KEY_ID: 'v_akid', SSH_AUTH_SOCK: '/tmp/agent', OPENAI_API_KEY: 'v_openai',
  PGPASSWORD: 'v_pg', MYSQL_PWD: 'v_mysql', SSHPASS: 'v_sshpass', GITHUB_PAT: 'v_pat', BW_SESSION: 'v_bw', TAILSCALE_AUTHKEY: 'v_ts',
  NGROK_AUTHTOKEN: 'v_ngrok', DATABASE_URL: 'postgres://app:v_dburl@db/app', npm_config__authToken: 'v_npm',
  UPSTREAM_URL: 'https://deploy:v_urlpass@git.example.com/r.git',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/v_hook', CI_JOB_JWT: 'v_jwt',
};
const ENV = { HOME: home, ...LEAKY, HARMLESS_VAR: 'kept', GIT_AUTHOR_NAME: 'Ann Author' };
const FILES = ['.ssh/id_ed25519', '.aws/credentials', '.netrc', '.docker/config.json', '.config/containers/auth.json', '.Xauthority', '.bash_history', '.config/sops/age/keys.txt', '.cache/huggingface/token', '.claude/.credentials.json', 'notes.txt'];
const PROBE = `for f in ${FILES.map((f) => `'${home}/${f}'`).join(' ')}; do cat "$f" 2>/dev/null; done; env | sort`;

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

// --allow-net can send too: it hides them as --net does.
for (const args of [['--hide-secrets'], ['--net'], ['--allow-net', 'example.test']]) {
  test(`${args[0]} hides credential stores and drops token variables`, () => {
    const out = run(args);
    for (const s of ['PRIVATE KEY', 'aws_secret_access_key', 'password y', 'auths', 'REGISTRYAUTH', 'XCOOKIE', 'HISTORYLINE', 'AGE-SECRET-KEY', 'HFTOKEN', 'CLAUDECRED', ...Object.keys(LEAKY).map((k) => `${k}=`), ...Object.values(LEAKY)]) {
      assert.not.match(out, s, `${s} visible inside with ${args[0]}:\n${out}`);
    }
    assert.match(out, 'not a secret');
    assert.match(out, 'HARMLESS_VAR=kept');
    assert.match(out, 'GIT_AUTHOR_NAME=Ann Author');
  });
}

// A bind is the host's own tree, where no whiteout reaches: until 2026-12-05 `--net --bind ~`
// (or --ro-bind) showed ~/.ssh and the rest, and a --hide in a bound dir hid nothing.
const SECRETS = ['PRIVATE KEY', 'aws_secret_access_key', 'password y', 'REGISTRYAUTH', 'XCOOKIE', 'HISTORYLINE', 'AGE-SECRET-KEY', 'HFTOKEN', 'CLAUDECRED'];
for (const [flag, dest] of [['--bind', home], ['--ro-bind', '/mnt/sbx-test-home']] as const) {
  test(`hidden paths stay hidden where ${flag} shows them`, () => {
    const probe = PROBE.split(`'${home}/`).join(`'${dest}/`);
    const r = sbx(['run', '-n', '-q', '--hide-secrets', flag, `${home}:${dest}`, '--', 'sh', '-c', probe], { store, env: ENV });
    assert.is(r.code, 0, r.stderr);
    for (const secret of SECRETS) assert.not.match(r.stdout, secret, `${secret} readable through ${flag}:\n${r.stdout}`);
    assert.match(r.stdout, 'not a secret');
    // A --hide in the bound dir, named by its host path and by its path inside; the destination
    // also as `/x//y/` (it failed with a trailing slash, and a double one let the file show).
    for (const h of [join(home, 'notes.txt'), join(dest, 'notes.txt')]) {
      for (const d of [dest, `${dest.replace(/^\//, '//')}/`]) {
        const n = sbx(['run', '-n', '-q', flag, `${home}:${d}`, '--hide', h, '--', 'cat', join(dest, 'notes.txt')], { store, env: ENV });
        assert.is(n.code, 0, `${flag} ${home}:${d} --hide ${h}: ${n.stderr}`);
        assert.is(n.stdout, '', `${flag} ${home}:${d} --hide ${h}: ${n.stderr}`);
      }
    }
    // A bind of a hidden dir itself is covered whole.
    const k = sbx(['run', '-n', '-q', '--net', flag, `${home}/.ssh:/mnt/sbx-test-keys`, '--', 'sh', '-c', 'cat /mnt/sbx-test-keys/id_ed25519; ls -A /mnt/sbx-test-keys'], { store, env: ENV });
    assert.not.match(k.stdout, 'PRIVATE KEY', k.stdout);
    assert.is(k.stdout, '');
  });
}

test('a bind below a hidden dir, named directly or through a symlink to it, shows its source there and nothing of the dir\'s', () => {
  const vault = join(home, 'vault');
  const src = join(home, 'bound-src');
  const link = join(home, 'vault-link');
  mkdirSync(vault, { recursive: true });
  mkdirSync(src, { recursive: true });
  writeFileSync(join(vault, 'secret.txt'), 'VAULT-SECRET\n');
  writeFileSync(join(src, 'f'), 'from the bind\n');
  symlinkSync('vault', link);
  try {
    // Through the link the run failed at setup (step bind-mkdir, ELOOP) until 2026-12-05: the
    // helper resolved L/mp inside, where L led to the dir's whiteout.
    for (const via of [vault, link]) {
      const r = sbx(['run', '-n', '--hide', vault, '--ro-bind', `${src}:${via}/mp`, '--', 'sh', '-c',
        `cat '${vault}/secret.txt' 2>/dev/null; ls -A '${vault}'; cat '${via}/mp/f'`], { store, env: ENV });
      assert.is(r.code, 0, `${via}: ${r.stderr}`);
      assert.is(r.stdout, 'mp\nfrom the bind\n', `${via}: ${r.stderr}`);
      assert.match(r.stderr, /Changes: no changes/, `${via}: ${r.stderr}`);
    }
  } finally {
    for (const p of [vault, src, link]) rmSync(p, { recursive: true, force: true });
  }
});

test('--hide-secrets says what it hid, counted in words that fit the count', () => {
  const one = mkdtempSync(join(tmpdir(), 'sbx-test-home-'));
  try {
    chmodSync(one, 0o755);
    writeFileSync(join(one, '.netrc'), 'machine x password y\n');
    // Only GITHUB_TOKEN: this machine's own secret-looking variables (AWS_CA_BUNDLE here) taken out.
    const env: NodeJS.ProcessEnv = { HOME: one, GITHUB_TOKEN: 'ghp_x' };
    for (const k of Object.keys(process.env)) if (k !== 'PATH' && !(k in env)) env[k] = undefined;
    const r = sbx(['run', '-n', '--hide-secrets', '--', 'true'], { store, env });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, 'sbx: secrets: 1 credential path hidden, 1 secret variable dropped (GITHUB_TOKEN)');
    const many = sbx(['run', '-n', '--hide-secrets', '--', 'true'], { store, env: ENV });
    assert.match(many.stderr, /sbx: secrets: \d+ credential paths hidden, \d+ secret variables dropped \(/);
  } finally { rmSync(one, { recursive: true, force: true }); }
});

test('hiding secrets in a run of a saved sandbox deletes nothing: its review lists no deletion, its commit keeps the files', () => {
  const own = mkdtempSync(join(tmpdir(), 'sbx-test-home-'));
  try {
    chmodSync(own, 0o755);
    mkdirSync(join(own, '.ssh'));
    writeFileSync(join(own, '.ssh', 'id_ed25519'), 'PRIVATE KEY\n');
    writeFileSync(join(own, '.netrc'), 'machine x password y\n');
    const env = { HOME: own };
    assert.is(sbx(['run', '--name', 'hidein', '-q', '--', 'sh', '-c', `echo note > ${own}/note`], { store, env }).code, 0);
    const r = sbx(['run', '--in', 'hidein', '-q', '--hide-secrets', '--', 'sh', '-c', `cat ${own}/.netrc ${own}/.ssh/id_ed25519; echo more >> ${own}/note`], { store, env });
    assert.is(r.code, 0, r.stderr);
    assert.not.match(r.stdout, 'PRIVATE KEY');
    assert.not.match(r.stdout, 'password');
    const diff = sbx(['diff', 'hidein', '--json'], { store, env });
    // The home's changes only: other test files' dirs come and go in the host's /var/tmp meanwhile.
    const changes = (JSON.parse(diff.stdout) as { changes: Array<{ path: string; change: string }> }).changes.map((c) => `${c.change} ${c.path}`);
    assert.equal(changes.filter((c) => c.includes(own)), [`added ${own}/note`], diff.stdout);
    assert.equal(changes.filter((c) => c.startsWith('deleted ')), [], diff.stdout);
    const c = sbx(['commit', 'hidein'], { store, env });
    assert.is(c.code, 0, c.stderr);
    assert.is(readFileSync(join(own, '.ssh', 'id_ed25519'), 'utf8'), 'PRIVATE KEY\n');
    assert.is(readFileSync(join(own, '.netrc'), 'utf8'), 'machine x password y\n');
    assert.is(readFileSync(join(own, 'note'), 'utf8'), 'note\nmore\n');
  } finally { rmSync(own, { recursive: true, force: true }); }
});

test('hidden paths behind a linked dir (a dotfiles ~/.config) are hidden where the link leads; the link stays a link, nothing is listed or committed', () => {
  // Until 2026-12-05 the dirs made to hold the whiteouts replaced the link inside: the token
  // stayed readable where the link leads, ~/.config was an empty world-writable dir, and the
  // review listed it replaced (a commit wrote that).
  const own = realpathSync(mkdtempSync(join(tmpdir(), 'sbx-test-home-')));
  try {
    chmodSync(own, 0o755);
    mkdirSync(join(own, 'dotfiles', 'config', 'gh'), { recursive: true });
    writeFileSync(join(own, 'dotfiles', 'config', 'gh', 'hosts.yml'), 'oauth_token: GHTOKEN\n');
    writeFileSync(join(own, 'dotfiles', 'config', 'app.conf'), 'APPCONF\n');
    writeFileSync(join(own, 'dotfiles', 'config', 'other.conf'), 'other\n');
    symlinkSync('dotfiles/config', join(own, '.config'));
    const env = { HOME: own };
    const probe = [`cat ${own}/.config/gh/hosts.yml ${own}/dotfiles/config/gh/hosts.yml ${own}/.config/app.conf ${own}/dotfiles/config/app.conf 2>/dev/null`,
      `test -L ${own}/.config && echo still-a-link`, `cat ${own}/.config/other.conf`].join('; ');
    const r = sbx(['run', '--name', 'dotlink', '-q', '--hide-secrets', '--hide', `${own}/.config/app.conf`, '--', 'sh', '-c', probe], { store, env });
    assert.is(r.code, 0, r.stderr);
    assert.not.match(r.stdout, 'GHTOKEN');
    assert.not.match(r.stdout, 'APPCONF');
    assert.match(r.stdout, 'still-a-link');
    assert.match(r.stdout, 'other');
    const diff = sbx(['diff', 'dotlink', '--json'], { store, env });
    const changes = (JSON.parse(diff.stdout) as { changes: Array<{ path: string; change: string }> }).changes.map((c) => `${c.change} ${c.path}`);
    assert.equal(changes.filter((c) => c.includes(own)), [], diff.stdout);
    const c = sbx(['commit', 'dotlink'], { store, env });
    assert.is(c.code, 0, c.stderr);
    assert.ok(lstatSync(join(own, '.config')).isSymbolicLink(), 'still a link after the commit');
    assert.is(readFileSync(join(own, '.config', 'gh', 'hosts.yml'), 'utf8'), 'oauth_token: GHTOKEN\n');
  } finally { rmSync(own, { recursive: true, force: true }); }
});

test('a network for a sandbox whose earlier run had the secrets in sight is refused unless --allow-secrets', () => {
  const own = mkdtempSync(join(tmpdir(), 'sbx-test-home-'));
  try {
    chmodSync(own, 0o755);
    writeFileSync(join(own, '.netrc'), 'machine x password y\n');
    const env = { HOME: own };
    // No network: everything in sight, and a copy of it in the sandbox.
    assert.is(sbx(['run', '--name', 'sawit', '-q', '--', 'sh', '-c', `cp ${own}/.netrc ${own}/copy`], { store, env }).code, 0);
    const r = sbx(['run', '--in', 'sawit', '-q', '--allow-net', 'example.test:80', '--', 'cat', `${own}/copy`], { store, env });
    assert.is(r.code, 125, r.stderr);
    assert.not.match(r.stdout, 'password');
    assert.match(r.stderr, 'sbx: error: sandbox sawit: an earlier run in it had your credentials in sight');
    assert.match(r.stderr, '--allow-secrets');
    const ok = sbx(['run', '--in', 'sawit', '-q', '--allow-net', 'example.test:80', '--allow-secrets', '--', 'cat', `${own}/copy`], { store, env });
    assert.is(ok.code, 0, ok.stderr);
    // Hidden from the start: a later run may have a network.
    assert.is(sbx(['run', '--name', 'hidit', '-q', '--hide-secrets', '--', 'sh', '-c', `cat ${own}/.netrc > ${own}/copy2 || true`], { store, env }).code, 0);
    const h = sbx(['run', '--in', 'hidit', '-q', '--allow-net', 'example.test:80', '--', 'cat', `${own}/copy2`], { store, env });
    assert.is(h.code, 0, h.stderr);
    assert.not.match(h.stdout, 'password');
    // --in keeps the sandbox's network: --net is refused, not ignored.
    const n = sbx(['run', '--in', 'hidit', '-q', '--net', '--', 'true'], { store, env });
    assert.is(n.code, 125);
    assert.match(n.stderr, '--net: sandbox hidit was made without the host\'s network');
    // Made by an sbx that kept no record: unknown, refused the same way.
    const id = readdirSync(store).find((d) => /^[0-9a-f]{8}$/.test(d) && JSON.parse(readFileSync(join(store, d, 'meta.json'), 'utf8')).name === 'hidit')!;
    const metaFile = join(store, id, 'meta.json');
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as Record<string, unknown>;
    assert.is(meta.secretsSeen, false);
    delete meta.secretsSeen;
    writeFileSync(metaFile, JSON.stringify(meta));
    const old = sbx(['run', '--in', 'hidit', '-q', '--allow-net', 'example.test:80', '--', 'true'], { store, env });
    assert.is(old.code, 125, old.stderr);
    assert.match(old.stderr, 'sbx: error: sandbox hidit: it was made by an older sbx that did not record whether a run in it had your credentials in sight');
    assert.is(sbx(['run', '--in', 'hidit', '-q', '--allow-net', 'example.test:80', '--allow-secrets', '--', 'true'], { store, env }).code, 0);
    for (const s of ['sawit', 'hidit']) sbx(['discard', s], { store, env });
  } finally { rmSync(own, { recursive: true, force: true }); }
});

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

test('--hide of a path that does not exist yet keeps out what the host creates there while the command runs', async () => {
  const later = join(home, '.later-login');
  const go = join(home, 'go');
  rmSync(later, { force: true });
  rmSync(go, { force: true });
  // The command looks only after the host made the file (a login made meanwhile): it waits for
  // a line on its stdin, which the test writes once both files exist. Not a poll for the marker
  // inside: a look before the host made it left the overlay a negative entry for the name, the
  // marker was then never seen and the run waited out the poll's 10 s (most runs under load).
  // The marker is not hidden, so its appearing shows the host's new entries do reach the view
  // (without --hide the secret is read).
  const child = sbxAsync(['run', '-n', '-q', '--hide', later, '--', 'sh', '-c',
    `echo ready; read x; cat '${later}' 2>&1; echo "marker seen: $([ -e '${go}' ] && echo yes)"`],
  { store, env: ENV, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('ready') && !existsSync(go)) { writeFileSync(later, 'LATER-SECRET\n'); writeFileSync(go, ''); child.stdin!.end('go\n'); resolve(); }
      });
      child.on('exit', () => reject(new Error(`the run ended before it was ready: ${out}${err}`)));
    });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    assert.is(code, 0, err);
  } finally {
    rmSync(later, { force: true });
    rmSync(go, { force: true });
  }
  assert.not.ok(out.includes('LATER-SECRET'), `the hidden path showed what the host made meanwhile: ${out}`);
  assert.match(out, /marker seen: yes/);
  assert.match(out, /No such file or directory/);
});

// An ordinary user's view shows a system dir it cannot read as an empty dir of the sandbox's
// (unreadable.ts): one below a --hide path must not be made there, or the path's whiteout met
// that dir and the path showed (sbx made them itself then: --disk, or every --hide run until
// 2026-12-04). The tree is root's, under /var (which the view walks for such dirs); the runs
// are the test user's, in its own store.
const userRuns = testUserCanRunSbx();
testUnless(ROOT_CASE ?? (userRuns ? null : 'the test user sbxtest cannot run this build'), { missing: IS_ROOT })('an ordinary user\'s --hide of a dir holding one it cannot read: absent inside, with or without --disk', () => {
  const tree = `/var/tmp/sbx-hidecase-${randomBytes(4).toString('hex')}`;
  const userStore = mkdtempSync('/home/sbxtest/sbx-hide-store-');
  try {
    mkdirSync(join(tree, 'closed'), { recursive: true });
    chmodSync(tree, 0o755);
    chmodSync(join(tree, 'closed'), 0o700);
    writeFileSync(join(tree, 'secret.txt'), 'secret\n');
    spawnSync('chown', ['sbxtest:sbxtest', userStore]);
    for (const extra of [[], ['--disk', '64M']]) {
      const r = spawnSync('setpriv', ['--reuid', 'sbxtest', '--regid', 'sbxtest', '--init-groups', '--reset-env', 'env', `SBX_HOME=${userStore}`, 'HOME=/home/sbxtest', 'PATH=/usr/bin:/bin',
        process.execPath, USER_SBX, 'run', '-n', '-q', ...extra, '--hide', tree, '--', 'sh', '-c', `ls -a ${tree}; echo "ls $?"`], { encoding: 'utf8', cwd: '/', input: '' });
      assert.is(r.status, 0, `${extra.join(' ')}: ${r.stderr}`);
      assert.not.match(r.stdout, /secret|closed/, `${extra.join(' ')}: the hidden dir shows: ${r.stdout}`);
      assert.match(r.stdout, /ls [12]\n$/, `${extra.join(' ')}: ${r.stdout}`);
    }
  } finally {
    rmSync(tree, { recursive: true, force: true });
    rmSync(userStore, { recursive: true, force: true });
  }
});

test.run();
