// A new layer of a run's plan over what a saved sandbox's layer holds (covered-changes.ts):
// found at the path, below a dir, through anything the sandbox put in a dir's place, and never
// by following a symlink the sandbox made in its upper.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dir } from '../../sandbox-core/beneath.js';
import { coveredChange, unplannedLayers, withOldPlaces } from '../../sandbox-core/covered-changes.js';
import type { EngineUnit } from '../../sandbox-core/engines.js';
import type { Layer } from '../../sandbox-core/types.js';

let top = '';
let layers: Dir;
test.before.each(() => {
  top = mkdtempSync(join(tmpdir(), 'sbx-covered-'));
  mkdirSync(join(top, 'L000/upper/opt/app'), { recursive: true });
  writeFileSync(join(top, 'L000/upper/opt/app/f'), 'f');
  writeFileSync(join(top, 'L000/upper/file'), 'x');
  mkdirSync(join(top, 'L001/upper/c'), { recursive: true });
  // Elsewhere, a dir that holds what a followed symlink would find.
  mkdirSync(join(top, 'outside/x'), { recursive: true });
  symlinkSync(join(top, 'outside'), join(top, 'L001/upper/link'));
  symlinkSync(join(top, 'nowhere'), join(top, 'L001/upper/dangling'));
  layers = Dir.open(top);
});
test.after.each(() => { layers.close(); rmSync(top, { recursive: true, force: true }); });

const existing: Layer[] = [{ target: '/', dir: 'L000', format: 'kernel' }, { target: '/home/u', dir: 'L001', format: 'kernel' }];
const overlay = (path: string): EngineUnit => ({ kind: 'overlay', path, engine: 'kernel' });

test('a new unit at or above what a layer holds covers it; one where the layer holds nothing does not', () => {
  assert.equal(coveredChange(layers, existing, [overlay('/opt/app')]), { path: '/opt/app', layer: '/' });
  assert.equal(coveredChange(layers, existing, [{ kind: 'skeleton', path: '/opt', mode: 0o755 }]), { path: '/opt', layer: '/' });
  assert.equal(coveredChange(layers, existing, [overlay('/home/u/c')]), { path: '/home/u/c', layer: '/home/u' });
  assert.is(coveredChange(layers, existing, [overlay('/srv'), overlay('/opt/other'), overlay('/home/u/d')]), null);
  // A unit that is an existing layer's own tree is that layer, not a new one over it.
  assert.is(coveredChange(layers, existing, [overlay('/home/u'), overlay('/')]), null);
  // Units that are no layer (a file bound read-only) cover nothing.
  assert.is(coveredChange(layers, existing, [{ kind: 'ro-bind', path: '/opt/app', reason: 'file-mount' }]), null);
});

test('a file or a symlink where a dir was is the sandbox\'s change too; the symlink is never followed', () => {
  // A new mount below a path that the sandbox made a file.
  assert.equal(coveredChange(layers, existing, [overlay('/file/below')]), { path: '/file/below', layer: '/' });
  // Followed, `link/x` would be found and `dangling/x` not: both are the sandbox's symlinks.
  assert.equal(coveredChange(layers, existing, [overlay('/home/u/dangling/x')]), { path: '/home/u/dangling/x', layer: '/home/u' });
  assert.equal(coveredChange(layers, existing, [overlay('/home/u/link/y')]), { path: '/home/u/link/y', layer: '/home/u' });
});

test('a layer no overlay or skeleton unit of the plan is for is unplanned', () => {
  const units: EngineUnit[] = [overlay('/'), { kind: 'skeleton', path: '/home/u', mode: 0o755 }, { kind: 'ro-bind', path: '/gone', reason: 'file-mount' }];
  const gone: Layer = { target: '/gone', dir: 'L002', format: 'kernel' };
  assert.equal(unplannedLayers([...existing, gone], units), [gone]);
  assert.equal(unplannedLayers(existing, [overlay('/')]), [existing[1]]);
});

test('a layer whose mount is gone keeps its place over its dir, after the units of the tree it is in; one it cannot place stays unplanned', () => {
  const units: EngineUnit[] = [overlay('/'), overlay('/home/u'), overlay('/home/u/a'), overlay('/home/u/z'), { kind: 'special', path: '/proc' }, overlay('/srv')];
  const layer = (target: string, format: Layer['format'] = 'kernel'): Layer => ({ target, dir: 'L009', format });
  const dirs = new Set(['/home/u/m', '/proc/x', '/usr/fuse', '/']);
  const { units: placed, unplaced } = withOldPlaces(units, [...existing, layer('/home/u/m'), layer('/proc/x'), layer('/usr/fuse', 'fuse'), layer('/gone')], (p) => dirs.has(p), false);
  assert.equal(unplaced.map((l) => l.target), ['/proc/x', '/usr/fuse', '/gone']);
  assert.equal(placed.map((u) => u.path), ['/', '/home/u', '/home/u/a', '/home/u/m', '/home/u/z', '/proc', '/srv']);
  assert.equal(placed[3], { kind: 'overlay', path: '/home/u/m', engine: 'kernel' });
  // With fuse-overlayfs at hand a fuse layer is placed too, as a fuse unit.
  const fused = withOldPlaces(units, [layer('/usr/fuse', 'fuse')], (p) => dirs.has(p), true).units;
  assert.equal(fused.find((u) => u.path === '/usr/fuse'), { kind: 'overlay', path: '/usr/fuse', engine: 'fuse' });
});

test.run();
