// The config file: every key optional, each checked on load with one line naming the file and
// the key; a missing file is no config; the fold list can be extended or turned off.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configPath, foldRules, parseConfig } from '../../sandbox-core/config.js';
import { loadFoldRules } from '../../policies/fold.js';
import { SBX } from '../helpers/sbx.js';

const F = '/x/config.json';

test('where the file is: $XDG_CONFIG_HOME, else ~/.config', () => {
  assert.is(configPath({ XDG_CONFIG_HOME: '/c', HOME: '/h' }), '/c/sbx/config.json');
  assert.is(configPath({ HOME: '/h' }), '/h/.config/sbx/config.json');
  assert.is(configPath({ XDG_CONFIG_HOME: 'relative', HOME: '/h' }), '/h/.config/sbx/config.json');
});

test('valid keys load as given', () => {
  const c = parseConfig({ policy: 'strict', hide: ['/opt/x'], pager: false, color: 'never', limits: { memory: '2G', pids: 100, timeout: '10m', disk: '1G', cpus: '0.5' } }, F);
  assert.equal(c, { policy: 'strict', hide: ['/opt/x'], pager: false, color: 'never', limits: { memory: '2G', pids: '100', timeout: '10m', disk: '1G', cpus: '0.5' } });
});

test('each mistake is one line naming the file and the key', () => {
  const cases: Array<[unknown, RegExp]> = [
    [[], /^\/x\/config\.json: top level: expected an object$/],
    [{ colour: 'never' }, /^\/x\/config\.json: colour: unknown key \(known: policy, hide, fold, pager, color, limits\)$/],
    [{ color: 'blue' }, /color: expected "auto", "always" or "never"/],
    [{ hide: ['relative'] }, /hide: expected a list of absolute paths/],
    [{ hide: ['/'] }, /hide: expected a list of absolute paths \(not \/, \/proc, \/sys or \/dev\)/],
    [{ hide: ['/proc'] }, /hide: expected a list of absolute paths/],
    [{ hide: ['/dev/'] }, /hide: expected a list of absolute paths/],
    [{ hide: ['//'] }, /hide: expected a list of absolute paths/],
    [{ limits: { memory: '10' } }, /limits\.memory: '10' has no unit \(e\.g\. 10M\)/],
    [{ limits: { disk: 0 } }, /limits\.disk: '0' is not more than 0 \(e\.g\. 512M\)/],
    [{ limits: { pids: -1 } }, /limits\.pids: '-1' is not a whole number/],
    [{ limits: { timeout: 'soon' } }, /limits\.timeout: 'soon' is not a duration/],
    [{ limits: { swap: '1G' } }, /limits\.swap: unknown key/],
    [{ fold: 'off' }, /fold: expected false, a list/],
    [{ fold: [{ name: 'x' }] }, /fold: fold\[0\]: "paths" must be/],
    [{ pager: '' }, /pager: expected a command/],
  ];
  for (const [v, re] of cases) {
    try { parseConfig(v, F); assert.unreachable(JSON.stringify(v)); } catch (e) {
      assert.match((e as Error).message, re);
      assert.not.match((e as Error).message, /\n/);
    }
  }
});

test('the fold list: extended by the user, or the shipped rules turned off', () => {
  const shipped = loadFoldRules();
  const mine = { name: 'build logs', paths: ['*.log'] };
  assert.equal(foldRules({}), shipped);
  assert.equal(foldRules(parseConfig({ fold: [mine] }, F)), [...shipped, mine]);
  assert.equal(foldRules(parseConfig({ fold: { shipped: false, rules: [mine] } }, F)), [mine]);
  assert.equal(foldRules(parseConfig({ fold: false }, F)), []);
});

test('an invalid file stops a command with one line; help still answers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-config-'));
  try {
    mkdirSync(join(dir, 'sbx'));
    writeFileSync(join(dir, 'sbx', 'config.json'), '{"limits": {"memory": "10"}}');
    const env = { ...process.env, XDG_CONFIG_HOME: dir, SBX_HOME: join(dir, 'store'), NO_COLOR: '1' };
    const r = spawnSync(process.execPath, [SBX, 'ls'], { encoding: 'utf8', env });
    assert.is(r.status, 125);
    assert.is(r.stderr, `sbx: error: ${dir}/sbx/config.json: limits.memory: '10' has no unit (e.g. 10M) (docs/config.md lists the keys)\n`);
    assert.is(spawnSync(process.execPath, [SBX, 'run', '--help'], { encoding: 'utf8', env }).status, 0);
    writeFileSync(join(dir, 'sbx', 'config.json'), '{"limits": ');
    assert.match(spawnSync(process.execPath, [SBX, 'ls'], { encoding: 'utf8', env }).stderr, /config\.json: .*JSON/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
