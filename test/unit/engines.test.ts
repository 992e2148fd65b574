// Which overlay engine serves each tree of an ordinary user's view (engines.ts), against a
// host described by the test, and the empty-dir probe on real dirs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assignEngines, emptyDir, MAX_LISTLESS, stackWritableDirs, upperTakesUserXattrs, type DirEntryStat, type EngineContext, type EngineUnit } from '../../sandbox-core/engines.js';
import type { ViewUnit } from '../../sandbox-core/plan.js';

const trees = ['/usr', '/srv', '/root', '/home', '/home/u', '/media'];
const units: ViewUnit[] = trees.map((path) => ({ kind: 'overlay', path }));
const ctx = (over: Partial<EngineContext> = {}): EngineContext => ({
  uid: 1000, fuseBinary: '/usr/bin/fuse-overlayfs', userTrees: ['/home/u'],
  readable: (p) => p !== '/root' && p !== '/srv', searchable: (p) => p !== '/root', empty: (p) => p === '/srv' || p === '/media', ...over,
});
const engines = (c: EngineContext) => Object.fromEntries(assignEngines(units, c).map((u) => [u.path, u.kind === 'overlay' ? u.engine : u.kind]));

test('an ordinary user: fuse-overlayfs for system trees with host files in them; kernel overlays for empty, unreadable and own trees; a stand-in for one not searchable', () => {
  // /srv here: searchable, not listable (0711): its known names still resolve through the host's.
  assert.equal(engines(ctx()), { '/usr': 'fuse', '/srv': 'kernel', '/root': 'skeleton', '/home': 'fuse', '/home/u': 'kernel', '/media': 'kernel' });
  const root = assignEngines(units, ctx()).find((u) => u.path === '/root');
  assert.ok(root?.kind === 'skeleton' && root.unsearchable === true, 'marked as a stand-in, not a dir holding mounts');
  // The user's own trees never (a working dir the user cannot search is the user's to fix).
  assert.equal(engines(ctx({ searchable: () => false })), { '/usr': 'skeleton', '/srv': 'skeleton', '/root': 'skeleton', '/home': 'skeleton', '/home/u': 'kernel', '/media': 'skeleton' });
});

test("a dir holding mounts, planned whole: fuse, even the user's own; the user's trees in it stacked only with no mount in them, and as `stackable` allows", () => {
  const plan: ViewUnit[] = [
    { kind: 'overlay', path: '/home', holdsMounts: true },
    { kind: 'overlay', path: '/home/v/remote' },
    { kind: 'overlay', path: '/home/w', holdsMounts: true },
    { kind: 'overlay', path: '/home/w/remote' },
  ];
  const run = (c: EngineContext) => assignEngines(plan, c).map((u) => `${u.path} ${u.kind === 'overlay' ? u.engine : u.kind}`);
  // /home/u: stacked on /home; /home/w (the user's, with a mount in it) stays the daemon's.
  assert.equal(run(ctx({ userTrees: ['/home/u', '/home/w'], empty: () => true })), ['/home fuse', '/home/u kernel', '/home/v/remote kernel', '/home/w fuse', '/home/w/remote kernel']);
  assert.equal(run(ctx({ userTrees: ['/home/u'], stackable: (t, within) => !(t === '/home/u' && within === '/home') })), ['/home fuse', '/home/v/remote fuse', '/home/w fuse', '/home/w/remote fuse']);
  // A $HOME with a mount in it stays the daemon's; the working dir in it is stacked instead.
  const home: ViewUnit[] = [{ kind: 'overlay', path: '/home', holdsMounts: true }, { kind: 'overlay', path: '/home/w/remote' }];
  assert.equal(assignEngines(home, ctx({ userTrees: ['/home/w', '/home/w/proj'] })).map((u) => `${u.path} ${u.kind === 'overlay' ? u.engine : u.kind}`), ['/home fuse', '/home/w/proj kernel', '/home/w/remote kernel']);
  // Without a mount in it, $HOME is stacked, and the working dir in it is not stacked again.
  assert.equal(assignEngines(home.slice(0, 1), ctx({ userTrees: ['/home/w', '/home/w/proj'] })).map((u) => u.path), ['/home', '/home/w']);
  // A mount in it that the user may not search: as on the host (no skeleton to hold a stand-in).
  const shut = (p: string) => p !== '/home/v/remote';
  assert.equal(run(ctx({ searchable: shut, readable: shut })), ['/home fuse', '/home/u kernel', '/home/v/remote kernel', '/home/w fuse', '/home/w/remote fuse']);
});

test("`/` planned whole: a top-level dir the user may search but not list is a kernel overlay stacked on it (the daemon would show it empty); one it may not search, or one holding a mount, is not", () => {
  const plan: ViewUnit[] = [{ kind: 'overlay', path: '/', holdsMounts: true }, { kind: 'overlay', path: '/srv/disk' }];
  const listless = new Set(['/srv', '/x711', '/home']);
  const c = ctx({
    userTrees: ['/home/u'],
    topDirs: () => ['/home', '/root', '/srv', '/usr', '/x711'],
    readable: (p) => !listless.has(p) && p !== '/root',
    searchable: (p) => p !== '/root',
  });
  assert.equal(assignEngines(plan, c).map((u) => `${u.path} ${u.kind === 'overlay' ? u.engine : u.kind}`), ['/ fuse', '/home kernel', '/x711 kernel', '/home/u kernel', '/srv/disk fuse']);
  // Only `/` stacks them: another dir planned whole through the daemon asks nothing of them.
  assert.equal(assignEngines([{ kind: 'overlay', path: '/home', holdsMounts: true }], c).map((u) => u.path), ['/home', '/home/u']);
});

test("`/` planned whole: a dir one level down that the user may search but not list (a 0711 home) is stacked too; not in /var or /etc (walked, shown empty), a mount, the user's trees, an unlistable top dir, nor where `stackable` says no", () => {
  const plan: ViewUnit[] = [{ kind: 'overlay', path: '/', holdsMounts: true }, { kind: 'overlay', path: '/mnt/disk' }, { kind: 'overlay', path: '/srv/site/mnt' }];
  const listless = new Set(['/home/alice', '/home/u', '/var/lib/x', '/etc/y', '/mnt/z', '/mnt/disk', '/srv/site', '/opt/app', '/x711', '/x711/in']);
  const children: Record<string, string[]> = {
    '/home': ['/home/alice', '/home/bob', '/home/u'], '/var': ['/var/lib/x'], '/etc': ['/etc/y'], '/mnt': ['/mnt/disk', '/mnt/z'],
    '/srv': ['/srv/site'], '/opt': ['/opt/app', '/opt/link'], '/x711': ['/x711/in'],
  };
  const asked: string[] = [];
  const c = (over: Partial<EngineContext> = {}) => ctx({
    userTrees: ['/home/u'],
    topDirs: () => ['/etc', '/home', '/mnt', '/opt', '/srv', '/var', '/x711'],
    subdirs: (d) => { asked.push(d); return children[d] ?? []; },
    readable: (p) => !listless.has(p),
    searchable: () => true,
    ...over,
  });
  const paths = (u: EngineUnit[]) => u.map((x) => `${x.path} ${x.kind === 'overlay' ? x.engine : x.kind}`);
  // /mnt holds a mount, not listed by the daemon: its other dirs are; /srv/site holds one: not stacked.
  assert.equal(paths(assignEngines(plan, c())), ['/ fuse', '/home/alice kernel', '/mnt/z kernel', '/opt/app kernel', '/x711 kernel', '/home/u kernel', '/mnt/disk kernel', '/srv/site/mnt fuse']);
  // The walked trees and the one the user cannot list are not listed; the user's own is stacked once, by itself.
  assert.equal(asked, ['/home', '/mnt', '/opt', '/srv']);
  // A saved sandbox whose layer of `/` may hold what was made there: only a dir with a layer of its own.
  assert.equal(paths(assignEngines(plan, c({ stackable: (t, within) => within === '/' && t === '/opt/app' }))), ['/ fuse', '/opt/app kernel', '/mnt/disk kernel', '/srv/site/mnt fuse']);
  // Not searchable: an empty dir of `/`'s layer (unreadable.ts), not an overlay.
  assert.equal(paths(assignEngines(plan, c({ searchable: (p) => p !== '/home/alice' && p !== '/x711' }))), ['/ fuse', '/mnt/z kernel', '/opt/app kernel', '/home/u kernel', '/mnt/disk kernel', '/srv/site/mnt fuse']);
  // At most MAX_LISTLESS of them.
  const many = Array.from({ length: MAX_LISTLESS + 5 }, (_, i) => `/home/h${String(i).padStart(3, '0')}`);
  const crowd = assignEngines([{ kind: 'overlay', path: '/', holdsMounts: true }], c({ topDirs: () => ['/home'], subdirs: () => many, readable: (p) => !p.startsWith('/home/h') }));
  assert.equal(crowd.filter((u) => u.path.startsWith('/home/h')).map((u) => u.path), many.slice(0, MAX_LISTLESS));
});

test("--user: a dir in a top-level tree that the host lets you write, not yours (1777, or your group's), is a kernel overlay on its tree, and so is such a working dir deeper down; not in `/`, deeper, beside a mount, nor in a skeleton", () => {
  const plan: EngineUnit[] = [
    { kind: 'skeleton', path: '/', mode: 0o755 },
    { kind: 'overlay', path: '/run', engine: 'kernel' },
    { kind: 'overlay', path: '/srv', engine: 'kernel' },
    { kind: 'overlay', path: '/var', engine: 'kernel' },
    { kind: 'overlay', path: '/var/cache/disk', engine: 'kernel' },
    { kind: 'skeleton', path: '/opt', mode: 0o755 },
  ];
  const w = (path: string, uid = 0, writable = true): DirEntryStat => ({ path, uid, writable });
  const dirs: Record<string, DirEntryStat[]> = {
    '/': [w('/tmp')],
    '/run': [w('/run/lock'), w('/run/user', 0, false)],
    '/srv': [w('/srv/proj', 1001)],
    '/var': [w('/var/cache'), w('/var/mine', 1000), w('/var/tmp')],
    '/opt': [w('/opt/pub')],
  };
  const stack = (cwd: DirEntryStat | null) => stackWritableDirs(plan, 1000, (d) => dirs[d] ?? [], cwd).map((u) => `${u.path} ${u.kind}`);
  assert.equal(stack(null), ['/ skeleton', '/run overlay', '/run/lock overlay', '/srv overlay', '/srv/proj overlay', '/var overlay', '/var/tmp overlay', '/var/cache/disk overlay', '/opt skeleton']);
  // The working dir, deeper in a tree: stacked once; not when it is yours, not writable, holds a mount, or is a stacked one already.
  assert.equal(stack(w('/srv/proj/src', 1001)).slice(-1), ['/srv/proj/src overlay']);
  for (const cwd of [w('/srv/proj/src', 1000), w('/srv/proj/src', 1001, false), w('/var/cache'), w('/srv/proj', 1001), w('/opt/pub/x'), w('/x')]) assert.equal(stack(cwd), stack(null), cwd.path);
});

test('root: every tree a kernel overlay, empty, unsearchable or not; no fuse-overlayfs: the same but for the stand-in', () => {
  const all = Object.fromEntries(trees.map((t) => [t, 'kernel']));
  assert.equal(engines(ctx({ uid: 0 })), all);
  assert.equal(engines(ctx({ fuseBinary: null })), { ...all, '/root': 'skeleton' });
});

test('emptyDir: true only for a dir with no entry (a dotfile counts); a missing or unlistable one is not empty', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-engines-'));
  try {
    mkdirSync(join(dir, 'none'));
    mkdirSync(join(dir, 'dot'));
    writeFileSync(join(dir, 'dot', '.x'), '');
    writeFileSync(join(dir, 'file'), '');
    assert.is(emptyDir(join(dir, 'none')), true);
    assert.is(emptyDir(join(dir, 'dot')), false);
    assert.is(emptyDir(join(dir, 'file')), false);
    assert.is(emptyDir(join(dir, 'missing')), false);
    // A subdirectory (answered by the link count), and a big directory of files only (listed
    // through a Dir): neither is empty; a symlink to an empty dir is, as opendir sees it.
    mkdirSync(join(dir, 'sub', 'inner'), { recursive: true });
    assert.is(emptyDir(join(dir, 'sub')), false);
    mkdirSync(join(dir, 'many'));
    for (let i = 0; i < 400; i++) writeFileSync(join(dir, 'many', `a-rather-long-file-name-${i}`), '');
    assert.ok(statSync(join(dir, 'many')).size > 4096);
    assert.is(emptyDir(join(dir, 'many')), false);
    symlinkSync(join(dir, 'none'), join(dir, 'link'));
    assert.is(emptyDir(join(dir, 'link')), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a kernel overlay over the fuse daemon only where its upper takes user xattrs: tmpfs since 6.6', () => {
  assert.ok(upperTakesUserXattrs('6.1.0-28-amd64', false));
  assert.not.ok(upperTakesUserXattrs('6.1.0-28-amd64', true));
  assert.not.ok(upperTakesUserXattrs('5.19.0', true));
  assert.ok(upperTakesUserXattrs('6.6.0', true));
  assert.ok(upperTakesUserXattrs('6.18.44-fc-v1252', true));
  assert.ok(upperTakesUserXattrs('7.0.1', true));
  assert.not.ok(upperTakesUserXattrs('weird', true));
});

test.run();
