// sbx's own dirs (config, caches, store) are never written from a sandbox: a later sbx would run
// the helper, seccomp program or pager a sandboxed command planted there.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makePlan } from '../../sandbox-core/commit/plan.js';
import { ownDirs } from '../../sandbox-core/base/paths.js';
import type { Change } from '../../sandbox-core/changes/types.js';
import { readFileSync } from 'node:fs';
import { testUnless } from '../helpers/skip.js';

const change = (path: string, c: Change['change'], type: Change['type'] = 'file'): Change => ({ path, change: c, type, size: 1 });
const OWN = ['/home/u/.cache/sbx', '/home/u/.config/sbx', '/home/u/.local/state/sbx'];
const plan = (changes: Change[]) => makePlan(changes, { createdMs: 0, force: true, ownDirs: OWN });
const skippedPaths = (changes: Change[]) => plan(changes).skipped.map((s) => s.path);

test('files in sbx\'s own dirs are skipped with a reason, whatever the change', () => {
  const p = plan([
    change('/home/u/.cache/sbx/helper/0.1.0+x/sbx-helper', 'added'),
    change('/home/u/.config/sbx/config.json', 'modified'),
    change('/home/u/.local/state/sbx/ab12cd34/meta.json', 'deleted'),
    change('/home/u/.cache/sbx', 'metadata', 'dir'),
    change('/home/u/.cache/pip/x.whl', 'added'),
  ]);
  assert.equal(p.skipped.map((s) => s.path), ['/home/u/.cache/sbx/helper/0.1.0+x/sbx-helper', '/home/u/.config/sbx/config.json', '/home/u/.local/state/sbx/ab12cd34/meta.json', '/home/u/.cache/sbx']);
  assert.match(p.skipped[0]!.reason, /sbx's own files \(\/home\/u\/\.cache\/sbx\) are never written from a sandbox/);
  assert.equal(p.steps.map((s) => s.change.path), ['/home/u/.cache/pip/x.whl']);
});

test('a new dir on the way is committed; replacing or removing one is not, nor what is below it', () => {
  assert.equal(skippedPaths([change('/home/u/.cache', 'added', 'dir'), change('/home/u/.cache/pip', 'added', 'dir')]), []);
  assert.equal(skippedPaths([change('/home/u', 'metadata', 'dir')]), []);
  // A symlink where ~/.cache was would send the next sbx into a tree the sandbox filled.
  assert.equal(skippedPaths([change('/home/u/.cache', 'replaced', 'symlink')]), ['/home/u/.cache']);
  assert.equal(skippedPaths([change('/home/u/.config', 'deleted', 'dir')]), ['/home/u/.config']);
  const p = plan([change('/home/u/.local', 'replaced', 'dir'), change('/home/u/.local/share', 'added', 'dir')]);
  assert.equal(p.skipped.map((s) => s.path), ['/home/u/.local', '/home/u/.local/share']);
  assert.match(p.skipped[0]!.reason, /on the way to sbx's own files \(\/home\/u\/\.local\/state\/sbx\)/);
  assert.equal(p.steps, []);
});

test('a sibling whose name only starts like an own dir is not one', () => {
  assert.equal(skippedPaths([change('/home/u/.cache/sbx-other/x', 'added'), change('/home/u/.config/sbx.bak', 'added')]), []);
});

test('ownDirs: the store, the cache, the config dir from the environment and the scratch dir of the uid; under sudo the invoking user\'s too', () => {
  assert.equal(ownDirs({ HOME: '/home/u' }, undefined, 1000), ['/home/u/.local/state/sbx', '/home/u/.cache/sbx', '/home/u/.config/sbx', '/dev/shm/sbx-1000']);
  assert.equal(ownDirs({ HOME: '/home/u', SBX_HOME: '/data/sbx', XDG_CACHE_HOME: '/c', XDG_CONFIG_HOME: '/cfg' }, undefined, 1000), ['/data/sbx', '/c/sbx', '/cfg/sbx', '/dev/shm/sbx-1000']);
  // Relative XDG dirs are invalid and ignored; a relative SBX_HOME is refused (it would be
  // another store in every directory sbx starts in).
  assert.equal(ownDirs({ HOME: '/home/u', XDG_STATE_HOME: 'st', XDG_CACHE_HOME: 'c', XDG_CONFIG_HOME: 'cfg' }, undefined, 1000), ['/home/u/.local/state/sbx', '/home/u/.cache/sbx', '/home/u/.config/sbx', '/dev/shm/sbx-1000']);
  assert.throws(() => ownDirs({ HOME: '/home/u', SBX_HOME: 'rel/store' }), /^SBX_HOME=rel\/store is not an absolute path$/);
  // By default the scratch dir of the uid sbx runs as (its throwaway runs' layers, in memory).
  assert.ok(ownDirs({ HOME: '/home/u' }).includes(`/dev/shm/sbx-${process.getuid!()}`));
});

testUnless(process.getuid?.() === 0 ? null : 'sbx trusts SUDO_USER only when it runs as root')('ownDirs under sudo: the invoking user\'s dirs too, at the home /etc/passwd gives, and their scratch dir', () => {
  const home = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[0] === 'nobody')?.[5];
  assert.ok(home, 'the test needs the nobody account');
  assert.equal(ownDirs({ HOME: '/h', SUDO_USER: 'nobody', SUDO_UID: '65534' }), ['/h/.local/state/sbx', '/h/.cache/sbx', '/h/.config/sbx', '/dev/shm/sbx-0', `${home}/.local/state/sbx`, `${home}/.cache/sbx`, `${home}/.config/sbx`, '/dev/shm/sbx-65534']);
  // SUDO_USER and SUDO_UID must name the same account.
  assert.equal(ownDirs({ HOME: '/h', SUDO_USER: 'nobody', SUDO_UID: '1' }), ['/h/.local/state/sbx', '/h/.cache/sbx', '/h/.config/sbx', '/dev/shm/sbx-0']);
});

test('a reason names its paths escaped, byte for byte: a control character or a byte that is not UTF-8 never reaches the terminal raw, nor as U+FFFD', () => {
  // Byte strings: '\xff' is the byte 0xff, not valid UTF-8 on its own.
  const dir = '/home/u/.st\x1bate\xff';
  const p = makePlan([change(dir, 'replaced', 'dir'), change(`${dir}/sbx/f`, 'added')], { createdMs: 0, force: true, ownDirs: [`${dir}/sbx`] });
  assert.equal(p.skipped.map((s) => s.reason), [
    "on the way to sbx's own files (/home/u/.st\\x1bate\\xff/sbx): never replaced from a sandbox",
    'inside /home/u/.st\\x1bate\\xff, which is not committed',
  ]);
});

test.run();
