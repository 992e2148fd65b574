// The fd-relative resolution every host-side access to layers and the store goes through.
import { test } from 'uvu';
import { spawnSync } from 'node:child_process';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dir, NotBeneathError, holdsAtLeast, removeTreeAt, resolveParentBeneath, splitBeneath } from '../../sandbox-core/beneath.js';
import { removeTree } from '../../sandbox-core/store.js';
import { testUnless } from '../helpers/skip.js';

let root = '';
let outside = '';
test.before.each(() => {
  root = mkdtempSync(join(tmpdir(), 'sbx-beneath-'));
  outside = mkdtempSync(join(tmpdir(), 'sbx-beneath-outside-'));
  writeFileSync(join(outside, 'precious'), 'keep\n');
});
test.after.each(() => {
  for (const d of [root, outside]) { try { chmodSync(d, 0o700); } catch { /* gone */ } rmSync(d, { recursive: true, force: true }); }
});

const throwsBeneath = (fn: () => unknown) => {
  try { fn(); } catch (e) { assert.instance(e, NotBeneathError, String(e)); return; }
  assert.unreachable('no NotBeneathError');
};

test('plain relative paths only', () => {
  assert.equal(splitBeneath('a/b'), ['a', 'b']);
  assert.equal(splitBeneath(''), []);
  for (const bad of ['/a', 'a/../b', '..', 'a//b', './a', 'a/', 'a\0b']) throwsBeneath(() => splitBeneath(bad));
});

test('a symlink in any component stops the walk', () => {
  mkdirSync(join(root, 'a/b/c'), { recursive: true });
  symlinkSync(outside, join(root, 'a/link'));
  symlinkSync(outside, join(root, 'a/b/c/last'));
  const base = Dir.open(root);
  try {
    throwsBeneath(() => Dir.openBeneath(base, 'a/link'));
    throwsBeneath(() => Dir.openBeneath(base, 'a/link/x', { create: true }));
    throwsBeneath(() => Dir.openBeneath(base, 'a/b/c/last'));
    throwsBeneath(() => resolveParentBeneath(base, 'a/link/precious'));
    assert.not.ok(existsSync(join(outside, 'x')), 'create went through the symlink');
    const d = Dir.openBeneath(base, 'a/b/c');
    assert.ok(d.stat().isDirectory());
    d.close();
    const same = Dir.openBeneath(base, '');
    assert.is(same.stat().ino, base.stat().ino, 'an empty path is the base itself');
    same.close();
  } finally { base.close(); }
});

test('a file in a middle component stops the walk', () => {
  mkdirSync(join(root, 'a'));
  writeFileSync(join(root, 'a/f'), 'x');
  const base = Dir.open(root);
  try { throwsBeneath(() => Dir.openBeneath(base, 'a/f/g')); } finally { base.close(); }
});

test('the trusted root itself must not be a symlink', () => {
  symlinkSync(outside, join(root, 'r'));
  throwsBeneath(() => Dir.open(join(root, 'r')));
});

test('create makes missing components with the mode asked for; at() acts on the name itself', () => {
  const base = Dir.open(root);
  try {
    const { dir, name } = resolveParentBeneath(base, 'x/y/z', { create: true, mode: 0o750 });
    assert.is(name, 'z');
    assert.is(lstatSync(join(root, 'x/y')).mode & 0o777, 0o750);
    symlinkSync(outside, dir.at(name));
    assert.ok(dir.lstat(name)!.isSymbolicLink(), 'lstat through at() followed the link');
    dir.close();
    throwsBeneath(() => base.at('a/b'));
    throwsBeneath(() => base.at('..'));
  } finally { base.close(); }
});

test('names are bytes: a non-UTF-8 name round-trips', () => {
  const name = 'n\xff\xfe';
  const base = Dir.open(root);
  try {
    mkdirSync(base.at(name));
    const listed = base.list().map((e) => e.name);
    assert.equal(listed, [name]);
    const d = Dir.openBeneath(base, name);
    d.close();
  } finally { base.close(); }
});

test('holdsAtLeast counts the entries below a dir up to n, follows no symlink, and calls a tree past the fd bound big', () => {
  // 3 files, 2 dirs, 1 symlink to a dir of 40 entries: 6 below t.
  mkdirSync(join(root, 't/a/b'), { recursive: true });
  for (const f of ['t/f1', 't/a/f2', 't/a/b/f3']) writeFileSync(join(root, f), 'x');
  for (let i = 0; i < 40; i++) writeFileSync(join(outside, `o${i}`), 'o');
  symlinkSync(outside, join(root, 't/a/to-outside'));
  symlinkSync(outside, join(root, 'link'));
  writeFileSync(join(root, 'file'), 'x');
  // 70 nested dirs: fewer entries than asked for, but deeper than the walk holds fds for.
  mkdirSync(join(root, 'deep', ...Array.from({ length: 70 }, () => 'd')), { recursive: true });
  const base = Dir.open(root);
  try {
    assert.ok(holdsAtLeast(base, 't', 6));
    assert.not.ok(holdsAtLeast(base, 't', 7), 'counted past the symlink');
    assert.ok(holdsAtLeast(base, 't', 1));
    assert.not.ok(holdsAtLeast(base, 'link', 1), 'followed a symlink given as the tree');
    assert.not.ok(holdsAtLeast(base, 'file', 1));
    assert.not.ok(holdsAtLeast(base, 'missing', 1));
    assert.ok(holdsAtLeast(base, 'deep', 1000), 'a tree deeper than the fd bound');
  } finally {
    base.close();
  }
});

test('removeTreeAt: no symlink followed, mode-000 dirs removed, outside intact', () => {
  mkdirSync(join(root, 't/w/work'), { recursive: true });
  writeFileSync(join(root, 't/w/work/f'), 'x');
  chmodSync(join(root, 't/w/work'), 0);
  chmodSync(join(root, 't/w'), 0);
  symlinkSync(outside, join(root, 't/to-outside'));
  symlinkSync(join(outside, 'precious'), join(root, 't/to-file'));
  const base = Dir.open(root);
  try { removeTreeAt(base, 't'); } finally { base.close(); }
  assert.not.ok(existsSync(join(root, 't')));
  assert.is(readFileSync(join(outside, 'precious'), 'utf8'), 'keep\n');
});

test('removeTreeAt: a tree of empty dirs (what a finished sandbox mostly leaves) and mode-000 ones, each kind of entry', () => {
  for (let i = 0; i < 20; i++) mkdirSync(join(root, `t/L${i}/upper`), { recursive: true });
  mkdirSync(join(root, 't/L0/work/work'), { recursive: true });
  chmodSync(join(root, 't/L0/work/work'), 0);
  mkdirSync(join(root, 't/L1/upper/full'));
  writeFileSync(join(root, 't/L1/upper/full/f'), 'x');
  symlinkSync(outside, join(root, 't/L2/upper/link'));
  const base = Dir.open(root);
  try { removeTreeAt(base, 't'); } finally { base.close(); }
  assert.not.ok(existsSync(join(root, 't')));
  assert.is(readFileSync(join(outside, 'precious'), 'utf8'), 'keep\n');
});

testUnless(process.getuid!() === 0 ? null : 'only root can mount a tmpfs to test with')('removeTreeAt never enters a mount point inside the tree: EBUSY, its contents stay', () => {
  const m = join(root, 't/a/mnt');
  mkdirSync(m, { recursive: true });
  writeFileSync(join(root, 't/a/f'), 'f');
  assert.is(spawnSync('mount', ['-t', 'tmpfs', 'none', m]).status, 0);
  try {
    writeFileSync(join(m, 'mounted'), 'kept');
    const base = Dir.open(root);
    try {
      assert.throws(() => removeTreeAt(base, 't'), (e: NodeJS.ErrnoException) => e.code === 'EBUSY');
    } finally {
      base.close();
    }
    assert.is(readFileSync(join(m, 'mounted'), 'utf8'), 'kept', 'the mounted tree was not entered');
  } finally {
    spawnSync('umount', ['-l', m]);
  }
});

test('removeTreeAt: a 2,100-level chain of 200-byte names (far past PATH_MAX)', () => {
  const name = 'd'.repeat(200);
  const base = Dir.open(root);
  try {
    let cur = Dir.openBeneath(base, 'deep', { create: true });
    for (let i = 0; i < 2100; i++) {
      const next = Dir.openBeneath(cur, name, { create: true });
      if (i % 500 === 0) writeFileSync(next.at('f'), 'x');
      cur.close();
      cur = next;
    }
    symlinkSync(outside, cur.at('escape'));
    cur.close();
    removeTreeAt(base, 'deep');
    assert.equal(base.list().map((e) => e.name), []);
  } finally { base.close(); }
  assert.is(readFileSync(join(outside, 'precious'), 'utf8'), 'keep\n');
});

test('removeTreeAt of a missing name or a file', () => {
  writeFileSync(join(root, 'f'), 'x');
  const base = Dir.open(root);
  try {
    removeTreeAt(base, 'missing');
    removeTreeAt(base, 'f');
  } finally { base.close(); }
  assert.not.ok(existsSync(join(root, 'f')));
});

test('removeTree with the names a tree most likely holds: those alone, more, or symlinks in their place', () => {
  // Exactly what was named: removed by name.
  const exact = join(root, 'exact');
  mkdirSync(join(exact, 'root'), { recursive: true });
  writeFileSync(join(exact, 'meta.json'), '{}');
  removeTree(exact, ['root'], ['meta.json']);
  assert.not.ok(existsSync(exact));
  // More than that, and a named dir that is not empty: the walk removes the rest.
  const more = join(root, 'more');
  mkdirSync(join(more, 'root', 'deep'), { recursive: true });
  writeFileSync(join(more, 'root', 'deep', 'f'), 'x');
  writeFileSync(join(more, 'other'), 'x');
  removeTree(more, ['root', 'absent'], ['meta.json']);
  assert.not.ok(existsSync(more));
  // Symlinks under the expected names: removed as links, what they point to stays.
  const links = join(root, 'links');
  mkdirSync(links);
  symlinkSync(outside, join(links, 'root'));
  symlinkSync(join(outside, 'precious'), join(links, 'meta.json'));
  removeTree(links, ['root'], ['meta.json']);
  assert.not.ok(existsSync(links));
  assert.is(readFileSync(join(outside, 'precious'), 'utf8'), 'keep\n');
  // The tree itself a symlink: refused by name, and the walk removes only the link.
  symlinkSync(outside, join(root, 'alias'));
  removeTree(join(root, 'alias'), ['root'], ['precious']);
  assert.not.ok(existsSync(join(root, 'alias')));
  assert.is(readFileSync(join(outside, 'precious'), 'utf8'), 'keep\n');
});

test.run();
