import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, symlinkSync, chmodSync, statSync, utimesSync, writeFileSync, linkSync } from 'node:fs';
import { join } from 'node:path';
import { makeFixture, whiteout, opaque, setXattr, copyUp, write, type Fixture } from './changes-fixture.js';
import { scanSandbox, countChanges } from '../../sandbox-core/changes/scan.js';
import { display, jsonPath } from '../../sandbox-core/base/bpath.js';
import type { Change } from '../../sandbox-core/changes/types.js';

let f: Fixture;
test.before.each(() => { f = makeFixture(); });
test.after.each(() => { f.cleanup(); });

function byPath(changes: Change[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (const c of changes) o[c.path.slice(f.host.length) || '/'] = `${c.change} ${c.type}${c.oldType ? ` from ${c.oldType}` : ''}`;
  return o;
}

test('added files and nested dirs, modified content, unchanged copy-up', () => {
  write(join(f.host, 'same.txt'), 'same\n');
  write(join(f.host, 'mod.txt'), 'abcd\n');
  const u = f.upper();
  write(join(u, 'new/deep/er/file'), 'x');
  copyUp(join(f.host, 'same.txt'), join(u, 'same.txt'));
  copyUp(join(f.host, 'mod.txt'), join(u, 'mod.txt'));
  writeFileSync(join(u, 'mod.txt'), 'abce\n'); // same size, other bytes
  utimesSync(join(u, 'mod.txt'), new Date(), new Date());
  const { changes, errors } = scanSandbox(f.meta);
  assert.equal(errors, []);
  assert.equal(byPath(changes), {
    '/mod.txt': 'modified file', '/new': 'added dir', '/new/deep': 'added dir', '/new/deep/er': 'added dir', '/new/deep/er/file': 'added file',
  });
  assert.equal(changes.find((c) => c.path.endsWith('/file'))!.size, 1);
});

test('chmod and touch are metadata; content identical', () => {
  write(join(f.host, 'a'), 'a', 0o644);
  write(join(f.host, 'b'), 'b');
  mkdirSync(join(f.host, 'd'), { mode: 0o755 });
  chmodSync(join(f.host, 'd'), 0o755);
  const u = f.upper();
  copyUp(join(f.host, 'a'), join(u, 'a'));
  chmodSync(join(u, 'a'), 0o755);
  copyUp(join(f.host, 'b'), join(u, 'b'));
  utimesSync(join(u, 'b'), 1000, 1000);
  mkdirSync(join(u, 'd'));
  chmodSync(join(u, 'd'), 0o700);
  const { changes } = scanSandbox(f.meta);
  assert.equal(byPath(changes), { '/a': 'metadata file', '/b': 'metadata file', '/d': 'metadata dir' });
  assert.equal(changes[0]!.details, ['mode 644→755']);
  assert.equal(changes[1]!.details, ['mtime']);
  assert.equal(changes[2]!.details, ['mode 755→700']);
});

test('a dir only touched by its children is not a change', () => {
  mkdirSync(join(f.host, 'd'));
  const u = f.upper();
  mkdirSync(join(u, 'd'));
  utimesSync(join(u, 'd'), 5, 5);
  write(join(u, 'd/new'), 'n');
  assert.equal(byPath(scanSandbox(f.meta).changes), { '/d/new': 'added file' });
});

test('whiteouts: char 0/0 and the xattr form; a whiteout of nothing is nothing', () => {
  write(join(f.host, 'gone'), 'g');
  mkdirSync(join(f.host, 'gonedir/sub'), { recursive: true });
  write(join(f.host, 'gone2'), 'g2');
  const u = f.upper();
  whiteout(join(u, 'gone'));
  whiteout(join(u, 'gonedir'));
  whiteout(join(u, 'never-existed'));
  writeFileSync(join(u, 'gone2'), '');
  setXattr(join(u, 'gone2'), 'user.overlay.whiteout', '');
  const { changes } = scanSandbox(f.meta);
  assert.equal(byPath(changes), { '/gone': 'deleted file', '/gone2': 'deleted file', '/gonedir': 'deleted dir' });
});

test('an opaque dir is replaced: host children it hides are deleted, equal ones are no change', () => {
  mkdirSync(join(f.host, 'd/sub'), { recursive: true });
  write(join(f.host, 'd/keep'), 'k');
  write(join(f.host, 'd/drop'), 'x');
  write(join(f.host, 'd/sub/inner'), 'i');
  const u = f.upper();
  mkdirSync(join(u, 'd'));
  opaque(join(u, 'd'));
  copyUp(join(f.host, 'd/keep'), join(u, 'd/keep'));
  mkdirSync(join(u, 'd/sub'));
  write(join(u, 'd/sub/fresh'), 'f');
  const { changes } = scanSandbox(f.meta);
  assert.equal(byPath(changes), {
    '/d': 'replaced dir from dir', '/d/drop': 'deleted file', '/d/sub/fresh': 'added file', '/d/sub/inner': 'deleted file',
  });
});

test('type changes both ways and symlinks', () => {
  write(join(f.host, 'f2d'), 'f');
  mkdirSync(join(f.host, 'd2f'));
  write(join(f.host, 'd2f/x'), 'x');
  symlinkSync('target-a', join(f.host, 'ln'));
  symlinkSync('t', join(f.host, 'ln2f'));
  const u = f.upper();
  mkdirSync(join(u, 'f2d'));
  opaque(join(u, 'f2d'));
  write(join(u, 'f2d/child'), 'c');
  write(join(u, 'd2f'), 'now a file');
  symlinkSync('target-b', join(u, 'ln'));
  write(join(u, 'ln2f'), 'file');
  symlinkSync('/etc/passwd', join(u, 'newln'));
  const { changes } = scanSandbox(f.meta);
  assert.equal(byPath(changes), {
    '/d2f': 'replaced file from dir', '/f2d': 'replaced dir from file', '/f2d/child': 'added file',
    '/ln': 'modified symlink', '/ln2f': 'replaced file from symlink', '/newln': 'added symlink',
  });
  assert.is(changes.find((c) => c.path.endsWith('/newln'))!.target, '/etc/passwd');
  const ln = changes.find((c) => c.path.endsWith('/ln'))!;
  assert.equal([ln.target, ln.targetBefore], ['target-b', 'target-a']);
});

test('names with spaces, newlines and invalid UTF-8 are kept as bytes and shown escaped', () => {
  const u = f.upper();
  write(join(u, 'a b'), '1');
  write(join(u, 'new\nline'), '2');
  const bad = Buffer.concat([Buffer.from(u + '/bad'), Buffer.from([0xff, 0x1b]), Buffer.from('[31mred')]);
  writeFileSync(bad, '3');
  const { changes } = scanSandbox(f.meta);
  const shown = changes.map((c) => display(c.path.slice(f.host.length)));
  assert.equal(shown, ['/a b', '/bad\\xff\\x1b[31mred', '/new\\nline']);
  const j = jsonPath(changes[1]!.path);
  assert.ok(j.rawPath);
  assert.equal(Buffer.from(j.rawPath!, 'base64'), Buffer.concat([Buffer.from(f.host + '/bad'), Buffer.from([0xff, 0x1b]), Buffer.from('[31mred')]));
});

test('fuse-overlayfs whiteouts and opaque marker', () => {
  write(join(f.host, 'x/gone'), 'g');
  write(join(f.host, 'x/also'), 'a');
  write(join(f.host, 'y/sub/hidden'), 'h');
  const u = f.addLayer(f.host + '/x', 'fuse');
  const u2 = f.addLayer(f.host + '/y', 'fuse');
  writeFileSync(join(u, '.wh.gone'), '');
  mkdirSync(join(u2, 'sub'));
  writeFileSync(join(u2, 'sub/.wh..wh..opq'), '');
  const { changes } = scanSandbox(f.meta);
  assert.equal(byPath(changes), { '/x/gone': 'deleted file', '/y/sub': 'replaced dir from dir', '/y/sub/hidden': 'deleted file' });
});

test("in a kernel layer another engine's marks are the command's own xattrs: no opaque dir, no whiteout; in a fuse layer fuse-overlayfs's opaque name is one", () => {
  write(join(f.host, 'k/sub/hidden'), 'h');
  write(join(f.host, 'k/w'), '');
  write(join(f.host, 'z/sub/hidden'), 'h');
  const k = f.addLayer(f.host + '/k');
  // The dir as overlayfs copies it up: its mode and times, none of its entries.
  mkdirSync(join(k, 'sub'));
  const hs = statSync(join(f.host, 'k/sub'));
  chmodSync(join(k, 'sub'), hs.mode & 0o7777);
  utimesSync(join(k, 'sub'), hs.atime, hs.mtime);
  for (const n of ['user.fuseoverlayfs.opaque', 'trusted.overlay.opaque']) {
    try { setXattr(join(k, 'sub'), n, 'y'); } catch { /* trusted.*: root only */ }
  }
  copyUp(join(f.host, 'k/w'), join(k, 'w'));
  setXattr(join(k, 'w'), 'user.fuseoverlayfs.whiteout', 'y');
  const z = f.addLayer(f.host + '/z', 'fuse');
  mkdirSync(join(z, 'sub'));
  setXattr(join(z, 'sub'), 'user.fuseoverlayfs.opaque', 'y');
  const { changes } = scanSandbox(f.meta);
  assert.equal(byPath(changes), { '/z/sub': 'replaced dir from dir', '/z/sub/hidden': 'deleted file' });
});

test('a shared fuse daemon\'s trees: each one\'s upper is its own path in the one upper, nothing above them walked', () => {
  write(join(f.host, 'x/gone'), 'g');
  write(join(f.host, 'y/keep'), 'k');
  const upper = join(f.meta.layersDir, 'L9', 'upper');
  mkdirSync(join(f.meta.layersDir, 'L9', 'work'), { recursive: true });
  for (const t of ['x', 'y']) {
    // The dirs above the trees (the daemon's view of the host's `/` down to them) are made
    // here with this process's mode and times, not the host's: no tree holds them.
    mkdirSync(join(upper, f.host, t), { recursive: true });
    f.meta.layers.push({ target: join(f.host, t), dir: 'L9', format: 'fuse', shared: true });
  }
  f.save();
  writeFileSync(join(upper, f.host, 'x', '.wh.gone'), '');
  write(join(upper, f.host, 'y', 'new'), 'n');
  const { changes, errors } = scanSandbox(f.meta);
  assert.equal(errors, []);
  assert.equal(byPath(changes), { '/x/gone': 'deleted file', '/y/new': 'added file' });
});

test('another layer\'s mount point and its ancestors are skeleton, not changes', () => {
  mkdirSync(join(f.host, 'home/u/mnt'), { recursive: true });
  f.addLayer(join(f.host, 'home/u/mnt'));
  const u = f.upper();
  mkdirSync(join(u, 'home/u/mnt'), { recursive: true, mode: 0o700 });
  chmodSync(join(u, 'home'), 0o700);
  write(join(u, 'home/u/real'), 'r');
  write(join(u, 'home/u/mnt/ignored'), 'r');
  write(join(f.upper(1), 'inner'), 'i');
  assert.equal(byPath(scanSandbox(f.meta).changes), { '/home/u/mnt/inner': 'added file', '/home/u/real': 'added file' });
});

test('hard links in the upper are recorded; counts; filters', () => {
  const u = f.upper();
  write(join(u, 'l1'), 'same inode');
  linkSync(join(u, 'l1'), join(u, 'l2'));
  write(join(u, 'cache/x.log'), 'log');
  const r = scanSandbox(f.meta);
  assert.equal([...r.links.values()].map((v) => v.map((p) => p.slice(f.host.length))), [['/l1', '/l2']]);
  assert.equal(countChanges(r.changes), { added: 4, modified: 0, deleted: 0, replaced: 0, metadata: 0, total: 4 });
  assert.equal(byPath(scanSandbox(f.meta, { exclude: ['*.log', f.host + '/cache'] }).changes), { '/l1': 'added file', '/l2': 'added file' });
  assert.equal(byPath(scanSandbox(f.meta, { only: [f.host + '/cache/**'] }).changes), { '/cache': 'added dir', '/cache/x.log': 'added file' });
  assert.equal(byPath(scanSandbox(f.meta, { paths: [f.host + '/l2'] }).changes), { '/l2': 'added file' });
});

test('xattrs: a changed user xattr on a copy-up is metadata', () => {
  write(join(f.host, 'x'), 'x');
  setXattr(join(f.host, 'x'), 'user.note', 'one');
  const u = f.upper();
  copyUp(join(f.host, 'x'), join(u, 'x'));
  assert.equal(scanSandbox(f.meta).changes.length, 0);
  setXattr(join(u, 'x'), 'user.note', 'two');
  const c = scanSandbox(f.meta).changes;
  assert.equal(c.map((x) => [x.change, x.details]), [['metadata', ['xattrs']]]);
  assert.equal(c[0]!.xattrs!.map(([n, v]) => [n, v.toString()]), [['user.note', 'two']]);
});

test.run();
