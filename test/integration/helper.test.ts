// The helper a run uses: a helper of another version in the package (an upgrade without a
// rebuild) is detected before it does anything, and sbx builds this version into the
// per-user cache once and runs there; and its as-mapped-root reader of hostile layer dirs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, makeStore, removeStore } from '../helpers/sbx.js';
import { expectedHelperVersion, helperPath } from '../../sandbox-core/helper.js';
import { encodeSpec } from '../../sandbox-core/spec.js';
import { parseStatusLines } from '../../sandbox-core/launch.js';

const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const work = mkdtempSync(join(tmpdir(), 'sbx-helpertest-'));
const store = makeStore();
test.after(() => { rmSync(work, { recursive: true, force: true }); removeStore(store); });

(have('cc') ? test : test.skip)('a stale helper in the package is replaced by one built into the cache, once', () => {
  const pkg = join(work, 'pkg');
  mkdirSync(pkg);
  spawnSync('cp', ['-a', join(REPO, 'dist'), join(REPO, 'native'), join(REPO, 'scripts'), join(REPO, 'policies'), join(REPO, 'package.json'), `${pkg}/`]);
  // A real helper, built from the same sources under another version: what an upgrade leaves.
  const sources = readdirSync(join(pkg, 'native')).filter((f) => f.endsWith('.c')).map((f) => join(pkg, 'native', f));
  const cc = spawnSync('cc', ['-std=gnu11', '-O1', '-DSBX_HELPER_VERSION="0.0.1+0123456789ab"', '-o', join(pkg, 'native', 'build', 'sbx-helper'), ...sources], { encoding: 'utf8' });
  assert.is(cc.status, 0, cc.stderr);
  const cache = join(work, 'cache');
  const run = () => spawnSync(process.execPath, [join(pkg, 'dist', 'bin', 'sbx.js'), 'run', '-n', '-q', '--', 'true'], {
    encoding: 'utf8', cwd: '/', env: { ...process.env, SBX_HOME: store, XDG_CACHE_HOME: cache, NO_COLOR: '1' },
  });
  const first = run();
  assert.is(first.status, 0, first.stderr);
  assert.match(first.stderr, /building its helper for this machine \(.*is version 0\.0\.1\+0123456789ab\)/);
  assert.ok(existsSync(join(cache, 'sbx', 'helper', expectedHelperVersion(), 'sbx-helper')));
  const second = run();
  assert.is(second.status, 0, second.stderr);
  assert.not.match(second.stderr, /building/);
  const v = spawnSync(process.execPath, [join(pkg, 'dist', 'bin', 'sbx.js'), '--version'], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cache } });
  assert.match(v.stdout, new RegExp(`^helper .*, matches \\(${cache.replace(/[.+]/g, '\\$&')}/`, 'm'));
});


test('count-entries reads a layer dir as mapped root, beneath the layers dir, no symlink followed', () => {
  // The layers dir of a sandbox, as a hostile run could leave it.
  const layers = join(work, 'layers');
  mkdirSync(join(layers, 'L0', 'upper', 'empty'), { recursive: true });
  mkdirSync(join(layers, 'L0', 'upper', 'full'));
  for (const n of ['a', 'b', '.wh..wh..opq']) writeFileSync(join(layers, 'L0', 'upper', 'full', n), '');
  symlinkSync('full', join(layers, 'L0', 'upper', 'link'));
  // The mode a sandbox gives them does not stop root of the user's own namespace.
  chmodSync(join(layers, 'L0', 'upper', 'full'), 0);
  const uid = process.getuid!(), gid = process.getgid!();
  const rels = ['L0/upper/empty', 'L0/upper/full', 'L0/upper/link', 'L0/upper/link/a', 'L0/upper/nope', '../etc'];
  const fd = openSync(layers, 'r');
  let r;
  try {
    r = spawnSync(join(REPO, 'native', 'build', 'sbx-helper'), ['as-mapped-root', '-', `0 ${uid} 1\n`, '-', `0 ${gid} 1\n`, 'count-entries'], {
      input: rels.map((p) => `${p}\0`).join(''), stdio: ['pipe', 'pipe', 'pipe', fd],
    });
  } finally {
    closeSync(fd);
    chmodSync(join(layers, 'L0', 'upper', 'full'), 0o755);
  }
  assert.is(r.status, 0, String(r.stderr));
  const got = rels.map((_, i) => [0, 1, 2].map((k) => r.stdout.readUInt32LE(16 * i + 4 * k)).join(' '));
  // errno entries markers, per path: a symlink is ENOTDIR as the last name, ELOOP on the way, and .. is EXDEV
  assert.equal(got, ['0 0 0', '0 3 1', '20 0 0', '40 0 0', '2 0 0', '18 0 0']);
});


// scrap_after: once the sandbox ended, the helper removes REL beneath BASE, mode-0 dirs of
// the overlay's kind included, and follows no symlink on the way.
test('scrap_after removes a work dir beneath its base once the sandbox ended, through no symlink', () => {
  const base = join(work, 'scrap');
  const outside = join(work, 'scrap-outside');
  mkdirSync(join(base, 'L000', 'work', 'work', 'incompat', 'volatile'), { recursive: true });
  writeFileSync(join(base, 'L000', 'work', 'work', 'incompat', 'volatile', 'dirty'), '');
  for (const d of ['work/work/incompat/volatile', 'work/work/incompat', 'work/work']) chmodSync(join(base, 'L000', d), 0);
  mkdirSync(join(base, 'L000', 'upper'));
  mkdirSync(join(outside, 'work'), { recursive: true });
  symlinkSync(outside, join(base, 'L001'));
  const uid = process.getuid!(), gid = process.getgid!();
  const spec = encodeSpec([
    { op: 'uid_map', args: [`0 ${uid} 1\n`] }, { op: 'setgroups', args: ['deny'] }, { op: 'gid_map', args: [`0 ${gid} 1\n`] },
    { op: 'scrap_after', args: [base, 'L000/work'] }, { op: 'scrap_after', args: [base, 'L001/work'] },
    { op: 'cwd', args: ['/'] }, { op: 'arg', args: ['true'] }, { op: 'env', args: ['PATH=/usr/bin:/bin'] },
  ]);
  const r = spawnSync('sh', ['-c', 'exec "$0" run 0 4 4>&3 3>&-', helperPath()], { input: spec, encoding: 'latin1', stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  assert.is(parseStatusLines((r.output[3] as string | null) ?? '').outcome?.kind, 'exited', `${r.stderr} ${r.output[3]}`);
  assert.not.ok(existsSync(join(base, 'L000', 'work')), 'the work dir is gone');
  assert.ok(existsSync(join(base, 'L000', 'upper')), 'its sibling stays');
  assert.ok(existsSync(join(outside, 'work')), 'nothing through a symlink');
});

test.run();
