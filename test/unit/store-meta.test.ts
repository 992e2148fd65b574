// meta.json's run state as the store reads it: a run cut short by the machine stopping
// (runBoot of another boot) is `interrupted`, which is derived, never taken from the file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { makeFixture, type Fixture } from './changes-fixture.js';
import { bootId } from '../../sandbox-core/base/process.js';
import { testUnless } from '../helpers/skip.js';

let f: Fixture;
test.before.each(() => { f = makeFixture(); });
test.after.each(() => { f.cleanup(); });

const OTHER_BOOT = '00000000-0000-4000-8000-000000000000';
const write = (fields: Record<string, unknown>): void => writeFileSync(join(f.store.dirOf(f.meta.id), 'meta.json'), JSON.stringify({ ...f.meta, ...fields }));
const read = () => f.store.resolve(f.meta.id);

test('a runBoot that is not a boot id is refused', () => {
  for (const bad of ['', 'x', 42, `${OTHER_BOOT}\n`, 'ABCDEF00-0000-4000-8000-000000000000']) {
    write({ state: 'running', runnerPid: 1, runBoot: bad });
    assert.throws(() => read(), /invalid runBoot/);
  }
});

test('secretsSeen is a boolean or absent', () => {
  for (const bad of ['yes', 1, null, {}]) {
    write({ secretsSeen: bad });
    assert.throws(() => read(), /invalid secretsSeen/, JSON.stringify(bad));
  }
  write({ secretsSeen: true });
  assert.is(read().secretsSeen, true);
});

testUnless(bootId() ? null : 'this kernel has no /proc/sys/kernel/random/boot_id')('running in another boot: saved and interrupted, whatever that pid is now', () => {
  write({ state: 'running', runnerPid: 1, runBoot: OTHER_BOOT });
  const m = read();
  assert.is(m.state, 'saved');
  assert.is(m.interrupted, true);
  // This boot's run by a live sbx (pid 1 stands for one) is running, not interrupted.
  write({ state: 'running', runnerPid: 1, runBoot: bootId() });
  assert.equal([read().state, read().interrupted], ['running', undefined]);
  // By a dead one: saved, every write in the page cache.
  write({ state: 'running', runnerPid: spawnSync('true').pid, runBoot: bootId() });
  assert.equal([read().state, read().interrupted], ['saved', undefined]);
  // The file's own word is not taken.
  write({ state: 'saved', interrupted: true });
  assert.is(read().interrupted, undefined);
});

test('heldMoves: up to 64 pairs of two different absolute byte paths, or absent', () => {
  const many = Array.from({ length: 65 }, (_, i) => [`/o${i}`, `/n${i}`]);
  for (const bad of [{}, [['/a']], [['/a', 'b']], [['/a', '/a']], [['/a\0b', '/c']], [['/a', '/\u0100']], [['/a', 5]], many]) {
    write({ heldMoves: bad });
    assert.throws(() => read(), /invalid heldMoves list/, JSON.stringify(bad).slice(0, 80));
  }
  write({ heldMoves: [['/srv/old', '/srv/new'], ['/\xff', '/b']] });
  assert.equal(read().heldMoves, [['/srv/old', '/srv/new'], ['/\xff', '/b']]);
});

test('a new sandbox is written running, with this boot; saved drops the boot', () => {
  const m = f.store.markCreated({ ...f.meta, runnerPid: process.pid });
  assert.equal([m.state, m.runBoot], ['running', bootId() ?? undefined]);
  f.store.markSaved(m);
  assert.equal([read().state, read().runBoot], ['saved', undefined]);
});

test('shared fuse layers: one dir for trees that do not nest, and nothing else in it', () => {
  const base = { dir: 'L5', format: 'fuse', shared: true };
  write({ layers: [...f.meta.layers, { ...base, target: '/usr' }, { ...base, target: '/etc' }] });
  assert.is(read().layers.length, 3);
  for (const bad of [
    [{ ...base, target: '/usr' }, { ...base, target: '/usr/lib' }],
    [{ ...base, target: '/usr/lib' }, { ...base, target: '/usr' }],
    [{ ...base, target: '/usr' }, { ...base, target: '/usr' }],
    [{ ...base, target: '/usr', format: 'kernel' }],
    [{ ...base, target: '/usr', skeleton: true }],
    [{ ...base, target: '/' }],
    [{ ...base, target: '/usr/../etc' }],
    [{ ...base, target: '/usr/' }],
    [{ ...base, target: '/usr', shared: 1 }],
    [{ ...base, target: '/usr' }, { dir: 'L5', format: 'fuse', target: '/etc' }],
    [{ dir: 'L5', format: 'fuse', target: '/etc' }, { ...base, target: '/usr' }],
  ]) {
    write({ layers: [...f.meta.layers, ...bad] });
    assert.throws(() => read(), /invalid layer/, JSON.stringify(bad));
  }
});

test('a root\'s owner bits (--user): 0 to 7, on a layer of its own', () => {
  const l = { dir: 'L5', format: 'kernel', target: '/etc' };
  write({ layers: [...f.meta.layers, { ...l, rootOwnerBits: 5 }, { ...l, dir: 'L6', target: '/root', rootOwnerBits: 0 }] });
  assert.equal(read().layers.map((x) => x.rootOwnerBits), [undefined, 5, 0]);
  for (const bits of [8, -1, 1.5, '5', null]) {
    write({ layers: [...f.meta.layers, { ...l, rootOwnerBits: bits }] });
    assert.throws(() => read(), /invalid layer/, String(bits));
  }
  write({ layers: [...f.meta.layers, { dir: 'L5', format: 'fuse', shared: true, target: '/usr', rootOwnerBits: 5 }] });
  assert.throws(() => read(), /invalid layer/, 'a shared tree\'s root is no upper root');
});

test('a layer\'s host dir record (the commit\'s check that the tree is still that dir): three numbers, and a size only without a birth time', () => {
  const l = { dir: 'L5', format: 'kernel', target: '/opt' };
  const ok = { dev: 65024, ino: 2, birthMs: 1796448819857.682 };
  const sized = { dev: 1792, ino: 2, birthMs: 0, blocks: 7976, files: 2048 };
  for (const good of [ok, sized]) {
    write({ layers: [...f.meta.layers, { ...l, hostDir: good }] });
    assert.equal(read().layers[1]!.hostDir, good);
  }
  for (const bad of [null, 5, {}, { dev: 1, ino: 2 }, { ...ok, dev: -1 }, { ...ok, ino: 1.5 }, { ...ok, birthMs: '0' }, { ...ok, extra: 1 }, { ...ok, dev: 2 ** 60 },
    { ...ok, blocks: 1, files: 1 }, { ...sized, files: undefined }, { ...sized, blocks: -1 }, { ...sized, files: 0.5 }, { ...sized, extra: 1 }]) {
    write({ layers: [...f.meta.layers, { ...l, hostDir: bad }] });
    assert.throws(() => read(), /invalid layer/, JSON.stringify(bad));
  }
});

test('trees read through a read-only daemon: kernel layers naming a head that names itself', () => {
  const head = { dir: 'L5', format: 'kernel', fuseLower: 'L5', target: '/usr' };
  write({ layers: [...f.meta.layers, head, { dir: 'L6', format: 'kernel', fuseLower: 'L5', target: '/etc' }] });
  assert.equal(read().layers.map((l) => l.fuseLower), [undefined, 'L5', 'L5']);
  // `/` too: an ordinary user's whole view through the daemon.
  write({ layers: [...f.meta.layers, { ...head, target: '/' }] });
  assert.equal(read().layers.map((l) => l.target), [f.meta.layers[0]!.target, '/']);
  for (const bad of [
    [{ ...head, fuseLower: 'L6' }],
    [head, { dir: 'L6', format: 'kernel', fuseLower: 'L7', target: '/etc' }],
    [head, { dir: 'L6', format: 'kernel', fuseLower: 'L6x', target: '/etc' }],
    [head, { dir: 'L6', format: 'kernel', fuseLower: '../L5', target: '/etc' }],
    [{ ...head, format: 'fuse' }],
    [{ ...head, skeleton: true }],
    [{ ...head, shared: true }],
    [{ ...head, fuseLower: 5 }],
  ]) {
    write({ layers: [...f.meta.layers, ...bad] });
    assert.throws(() => read(), /invalid layer/, JSON.stringify(bad));
  }
});

test('a layer\'s tree is named as sbx names one: no `..`, `//` or trailing `/` (a run may mount it there again)', () => {
  const ok = { dir: 'L7', format: 'kernel', target: '/opt/x' };
  write({ layers: [...f.meta.layers, ok] });
  assert.is(read().layers.length, 2);
  for (const target of ['/opt/../etc', '/opt//x', '/opt/x/', '/opt/./x', 'opt/x']) {
    write({ layers: [...f.meta.layers, { ...ok, target }] });
    assert.throws(() => read(), /invalid layer/, target);
  }
});

test.run();
