// Hints that name an sbx command say it as the user at the keyboard must type it: under sudo, a
// sandbox in root's store (or one SBX_HOME names) is `sudo sbx ...` / `sudo SBX_HOME=... sbx`,
// or their plain `sbx` looks in their own store and answers "no sandbox called".
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { makeFixture, type Fixture } from './changes-fixture.js';
import { sbxFor, Store } from '../../sandbox-core/store.js';
import { sbxOf } from '../../sandbox-core/layers-opener.js';
import { assertHostBased } from '../../sandbox-core/commit/index.js';
import { storeRoot } from '../../sandbox-core/base/paths.js';
import { diffView } from '../../cli/render-diff-folds.js';
import type { SandboxMeta } from '../../sandbox-core/types.js';
import { IS_ROOT } from '../helpers/sbx.js';
import { testUnless } from '../helpers/skip.js';

// sudoUserHome believes SUDO_USER/SUDO_UID only as root, and only for a user /etc/passwd has.
const user = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')).find((e) => Number(e[2]) > 0 && e[5]);
const asSudo = testUnless(!IS_ROOT ? 'sudo is only recognised when running as root' : user ? null : '/etc/passwd has no user but root');
const SUDO = { SUDO_USER: user?.[0] ?? '', SUDO_UID: user?.[2] ?? '', HOME: '/root' };

let f: Fixture;
test.before.each(() => { f = makeFixture(); });
test.after.each(() => { f.cleanup(); });

/** Runs `fn` with `env` set in process.env (sbxOf asks process.env, as the CLI does). */
function withEnv<T>(env: Record<string, string>, fn: () => T): T {
  const old = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try { return fn(); } finally {
    for (const [k, v] of Object.entries(old)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

test('without sudo every hint says plain sbx', () => {
  const env = { HOME: '/root' };
  assert.is(sbxFor(f.store, env), 'sbx');
  assert.is(sbxFor(new Store(storeRoot(env), 0), env), 'sbx');
});

asSudo('under sudo: root\'s default store is `sudo sbx`, another store names SBX_HOME, the user\'s own is `sbx`', () => {
  assert.is(sbxFor(new Store(storeRoot({ HOME: '/root' }), 0), SUDO), 'sudo sbx');
  assert.is(sbxFor(f.store, SUDO), `sudo SBX_HOME=${f.store.root} sbx`);
  assert.is(sbxFor(new Store(storeRoot({ HOME: user![5] }), Number(user![2])), SUDO), 'sbx');
});

asSudo('a sandbox\'s hints name the store it was read from (sbxOf), where no store is in reach', () => {
  const meta = f.store.resolve(f.meta.id);
  withEnv(SUDO, () => assert.is(sbxOf(meta), `sudo SBX_HOME=${f.store.root} sbx`));
  assert.is(sbxOf(meta), 'sbx');
  // The refusal to commit an image sandbox: its export hint.
  (meta as { rootfs?: string }).rootfs = '/srv/tree';
  const err = withEnv(SUDO, () => { try { assertHostBased(meta); } catch (e) { return e as Error & { hint?: string }; } return null; });
  assert.ok(err, 'a --rootfs sandbox is refused');
  assert.ok(err!.hint?.startsWith(`'sudo SBX_HOME=${f.store.root} sbx export ${meta.id} --format oci-image`), err!.hint);
});

test('a meta no store read (made by hand) gets plain sbx', () => {
  const meta = { ...f.meta } as SandboxMeta;
  assert.is(sbxOf(meta), 'sbx');
});

test('sbx diff\'s view names the command in both its summary and its diffs\' hints', () => {
  const view = diffView({ ref: 'trial', sbx: 'sudo SBX_HOME=/s sbx' });
  assert.is(view.summary.listAll, 'sudo SBX_HOME=/s sbx diff trial --all');
  assert.ok(view.folds);
  // --all itself folds nothing: no hint to give.
  assert.is(diffView({ ref: 'trial', sbx: 'sbx', all: true }).folds, undefined);
});

test.run();
