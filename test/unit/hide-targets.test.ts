// Where a path to hide really is (sandbox-core/hide-targets.ts): a hidden path's dirs are made
// in the layer to hold its whiteout, so a symlink among them would become a dir inside.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hideTargets, hostLocation } from '../../sandbox-core/hide-targets.js';

const top = realpathSync(mkdtempSync(join(tmpdir(), 'sbx-hide-targets-')));
test.after(() => rmSync(top, { recursive: true, force: true }));
const t = (...p: string[]): string => join(top, ...p);

test.before(() => {
  mkdirSync(t('real', 'sub'), { recursive: true });
  writeFileSync(t('real', 'sub', 'secret'), 's');
  symlinkSync('real', t('link'));
  symlinkSync(t('link'), t('link2'));
  mkdirSync(t('data', 'keys'), { recursive: true });
  symlinkSync('../data/keys', t('real', 'keys'));
  symlinkSync('sub/secret', t('real', 'filelink'));
  symlinkSync('nowhere', t('real', 'dangling'));
  symlinkSync('loop', t('loop'));
});

test('a path through a linked dir is hidden where the link leads', () => {
  assert.equal(hideTargets([t('link', 'sub', 'secret')]), [t('real', 'sub', 'secret')]);
  assert.equal(hideTargets([t('link2', 'sub', 'secret')]), [t('real', 'sub', 'secret')], 'a chain of links');
  assert.equal(hideTargets([t('link', 'sub', 'absent')]), [t('real', 'sub', 'absent')], 'not there yet: its dir resolved');
});

test('a path that is a link is hidden with what it leads to', () => {
  assert.equal(hideTargets([t('real', 'keys')]), [t('real', 'keys'), t('data', 'keys')]);
  assert.equal(hideTargets([t('link', 'keys')]), [t('real', 'keys'), t('data', 'keys')]);
  assert.equal(hideTargets([t('real', 'filelink')]), [t('real', 'filelink'), t('real', 'sub', 'secret')]);
  assert.equal(hideTargets([t('real', 'dangling')]), [t('real', 'dangling')], 'a link that leads nowhere: the link alone');
});

test('paths without links are as given; what cannot be resolved is kept; each once', () => {
  assert.equal(hideTargets([t('real', 'sub', 'secret'), t('link', 'sub', 'secret')]), [t('real', 'sub', 'secret')]);
  assert.equal(hideTargets([t('missing', 'x')]), [t('missing', 'x')]);
  assert.equal(hideTargets([t('loop', 'x')]), [t('loop', 'x')]);
  assert.equal(hideTargets(['/etc/hostname']), ['/etc/hostname']);
  assert.equal(hideTargets([]), []);
});

// A bind point is made with its missing dirs (native/mounts.c open_dir_made): below a linked
// dir they are made where the link leads, and the change list must know them there.
test('hostLocation: missing dirs are named below the nearest dir that exists, resolved', () => {
  assert.is(hostLocation(t('link', 'new')), t('real', 'new'));
  assert.is(hostLocation(t('link', 'na', 'nb', 'mp')), t('real', 'na', 'nb', 'mp'), 'several missing dirs below a link');
  assert.is(hostLocation(t('link2', 'sub', 'na', 'mp')), t('real', 'sub', 'na', 'mp'));
  assert.is(hostLocation(t('missing', 'x', 'y')), t('missing', 'x', 'y'));
  assert.is(hostLocation(t('real', 'dangling', 'x', 'y')), t('real', 'dangling', 'x', 'y'), 'a dangling link on the way: as given');
  assert.is(hostLocation(t('loop', 'x', 'y')), t('loop', 'x', 'y'), 'a loop: as given');
  assert.is(hostLocation('/'), '/');
  assert.is(hostLocation('/nonexistent-sbx-dir/a'), '/nonexistent-sbx-dir/a');
});

test.run();
