// Issue 12 (unit side): root's sbin PATH, the skeletons' stand-in tree, and no phantom
// `replaced` for an opaque dir that hides nothing of the host.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { rootPath } from '../../sandbox-core/root-path.js';
import { buildSkeletonTree as buildTree, skeletonChildren, COPY_EACH } from '../../sandbox-core/skeleton.js';
import { LayerTimes } from '../../sandbox-core/layer-dirs.js';
import { Dir } from '../../sandbox-core/beneath.js';
import type { EngineUnit } from '../../sandbox-core/engines.js';
import { makeFixture, opaque, copyUp, write } from './changes-fixture.js';
import { testUnless } from '../helpers/skip.js';
import { scanSandbox } from '../../sandbox-core/changes/scan.js';
import { findUnreadableDirsCached } from '../../sandbox-core/unreadable.js';

/** The stand-in tree at `root` as a run makes it without the helper, its times set at the end as the run sets them (below the layers dir: root's parent). */
function buildSkeletonTree(units: EngineUnit[], root: string, chown: boolean): ReturnType<typeof buildTree> {
  const times = new LayerTimes();
  const out = buildTree(units, root, chown, undefined, undefined, { to: times, rel: basename(root) });
  const layers = Dir.open(dirname(root));
  try { times.flush(layers); } finally { layers.close(); }
  return out;
}

test('root inside gets the sbin dirs it lacks, after the user\'s own; SBX_ROOT_PATH overrides', () => {
  assert.is(rootPath('/home/u/bin:/usr/bin:/bin', 0, undefined), '/home/u/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin');
  assert.is(rootPath('/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin', 0, undefined), '/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin');
  assert.is(rootPath('/usr/bin', 1000, undefined), '/usr/bin');
  assert.is(rootPath('/usr/bin', 0, '/opt/x'), '/opt/x');
  assert.is(rootPath(undefined, 0, undefined), '/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin');
});

test('stand-in tree: dirs, symlinks, small files copied, big or unreadable ones left to a bind, vanished ones dropped', () => {
  const host = mkdtempSync(join(tmpdir(), 'sbx-skel-host-'));
  const root = join(mkdtempSync(join(tmpdir(), 'sbx-skel-')), 'skel');
  try {
    mkdirSync(join(host, 'mnt'), { mode: 0o711 });
    chmodSync(join(host, 'mnt'), 0o711);
    writeFileSync(join(host, 'small'), 'hello\n');
    writeFileSync(join(host, 'big'), Buffer.alloc(COPY_EACH + 1));
    const units: EngineUnit[] = [
      { kind: 'skeleton', path: host, mode: 0o755 },
      { kind: 'overlay', path: join(host, 'mnt'), engine: 'kernel' },
      { kind: 'overlay', path: join(host, 'mnt', 'nested'), engine: 'kernel' },
      { kind: 'symlink', path: join(host, 'link'), target: '../elsewhere' },
      { kind: 'ro-bind', path: join(host, 'small'), reason: 'file-in-split-dir' },
      { kind: 'ro-bind', path: join(host, 'big'), reason: 'file-in-split-dir' },
      { kind: 'ro-bind', path: join(host, 'vanished'), reason: 'file-in-split-dir' },
    ];
    // Only the skeleton's own entries: the nested overlay lives inside another unit.
    assert.equal(skeletonChildren(units).map((u) => u.path.slice(host.length)), ['/mnt', '/link', '/small', '/big', '/vanished']);
    // A skeleton child of `/` itself: planning starts at `/`, so the tree mirrors host paths.
    const at = (p: string) => join(root, host, p);
    mkdirSync(join(root, host, '..'), { recursive: true });
    const { copied, gone } = buildSkeletonTree([{ kind: 'skeleton', path: '/', mode: 0o755 }, ...parents(host), ...units], root, false);
    assert.ok(lstatSync(at('mnt')).isDirectory());
    assert.is(lstatSync(at('mnt')).mode & 0o7777, 0o711);
    assert.is(readlinkSync(at('link')), '../elsewhere');
    assert.is(readFileSync(at('small'), 'utf8'), 'hello\n');
    assert.is(lstatSync(at('big')).size, 0);
    assert.not.ok(existsSync(at('vanished')));
    assert.equal([...copied], [join(host, 'small')]);
    assert.equal([...gone], [join(host, 'vanished')]);
  } finally {
    rmSync(host, { recursive: true, force: true });
    rmSync(join(root, '..'), { recursive: true, force: true });
  }
});

testUnless(process.geteuid?.() === 0 ? null : 'needs root to give the stand-ins the host\'s owners')('stand-ins as root: the host\'s owners (also in a setgid dir) and a nested skeleton\'s own times', () => {
  const host = mkdtempSync(join(tmpdir(), 'sbx-skel-host-'));
  const top = mkdtempSync(join(tmpdir(), 'sbx-skel-'));
  try {
    mkdirSync(join(host, 'sk', 'inner'), { recursive: true });
    mkdirSync(join(host, 'theirs'));
    chownSync(join(host, 'theirs'), 1234, 5678);
    mkdirSync(join(host, 'ours'));
    writeFileSync(join(host, 'small'), 'x');
    chownSync(join(host, 'small'), 0, 4321);
    // setuid and setgid: the stand-in's chown (to the host's group) must not clear them.
    chmodSync(join(host, 'small'), 0o6755);
    symlinkSync('x', join(host, 'link'));
    lchownSync(join(host, 'link'), 1234, 0);
    utimesSync(join(host, 'sk'), 1_000_000, 1_000_000);
    const units: EngineUnit[] = [
      { kind: 'skeleton', path: host, mode: 0o755 },
      { kind: 'skeleton', path: join(host, 'sk'), mode: 0o755 },
      { kind: 'overlay', path: join(host, 'sk', 'inner'), engine: 'kernel' },
      { kind: 'overlay', path: join(host, 'theirs'), engine: 'kernel' },
      { kind: 'overlay', path: join(host, 'ours'), engine: 'kernel' },
      { kind: 'ro-bind', path: join(host, 'small'), reason: 'file-in-split-dir' },
      { kind: 'symlink', path: join(host, 'link'), target: 'x' },
    ];
    // A stand-in tree made inside a setgid dir of another group (so its root is one too):
    // entries made there take that group until they are given the host's.
    for (const [where, setgid] of [['plain', false], ['setgid', true]] as const) {
      mkdirSync(join(top, where));
      if (setgid) { chownSync(join(top, where), 0, 777); chmodSync(join(top, where), 0o2755); }
      const root = join(top, where, 'skel');
      mkdirSync(join(root, host, '..'), { recursive: true });
      if (setgid) chownSync(root, 0, 777);
      buildSkeletonTree([{ kind: 'skeleton', path: '/', mode: 0o755 }, ...parents(host), ...units], root, true);
      const ids = (p: string): string => { const st = lstatSync(join(root, host, p)); return `${st.uid}:${st.gid}`; };
      assert.is(ids('theirs'), '1234:5678', where);
      assert.is(ids('ours'), '0:0', where);
      assert.is(ids('sk'), '0:0', where);
      assert.is(ids('sk/inner'), '0:0', where);
      assert.is(ids('small'), '0:4321', where);
      assert.is(lstatSync(join(root, host, 'small')).mode & 0o7777, 0o6755, where);
      assert.is(ids('link'), '1234:0', where);
      // Made after its entry, and so its own times are the host's.
      assert.is(lstatSync(join(root, host, 'sk')).mtimeMs, lstatSync(join(host, 'sk')).mtimeMs, where);
    }
  } finally {
    rmSync(host, { recursive: true, force: true });
    rmSync(top, { recursive: true, force: true });
  }
});

test('a symlink stand-in whose host entry became a file by now gets no chmod or utimes: its target keeps its mode and times', () => {
  const host = mkdtempSync(join(tmpdir(), 'sbx-skel-host-'));
  const root = join(mkdtempSync(join(tmpdir(), 'sbx-skel-')), 'skel');
  const victim = join(host, 'victim');
  try {
    writeFileSync(victim, '');
    chmodSync(victim, 0o600);
    utimesSync(victim, 1000, 1000);
    // Planned as a symlink to the victim; a plain file of mode 0777 is there when the tree is made.
    writeFileSync(join(host, 'was-link'), '');
    chmodSync(join(host, 'was-link'), 0o777);
    const units: EngineUnit[] = [{ kind: 'skeleton', path: host, mode: 0o755 }, { kind: 'symlink', path: join(host, 'was-link'), target: victim }];
    mkdirSync(join(root, host, '..'), { recursive: true });
    buildSkeletonTree([{ kind: 'skeleton', path: '/', mode: 0o755 }, ...parents(host), ...units], root, false);
    assert.is(readlinkSync(join(root, host, 'was-link')), victim);
    const st = lstatSync(victim);
    assert.equal([st.mode & 0o7777, st.mtimeMs], [0o600, 1000000]);
  } finally {
    rmSync(host, { recursive: true, force: true });
    rmSync(join(root, '..'), { recursive: true, force: true });
  }
});

/** Skeleton units for every ancestor of `p` below `/`. */
function parents(p: string): EngineUnit[] {
  const out: EngineUnit[] = [];
  const parts = p.split('/').filter(Boolean);
  for (let i = 1; i < parts.length; i++) out.push({ kind: 'skeleton', path: '/' + parts.slice(0, i).join('/'), mode: 0o755 });
  return out;
}

test('an opaque dir whose host counterpart now matches (after a partial commit) is no change', () => {
  const f = makeFixture();
  try {
    mkdirSync(join(f.host, 'pkg'));
    write(join(f.host, 'pkg/a'), 'a');
    const u = f.upper();
    mkdirSync(join(u, 'pkg'));
    opaque(join(u, 'pkg'));
    copyUp(join(f.host, 'pkg/a'), join(u, 'pkg/a'));
    assert.equal(scanSandbox(f.meta).changes.map((c) => c.change), []);
    // Its own metadata can still differ: then it is a metadata change, not a replacement.
    chmodSync(join(u, 'pkg'), 0o700);
    const c = scanSandbox(f.meta).changes;
    assert.equal(c.map((x) => `${x.change} ${x.path.slice(f.host.length)}`), ['metadata /pkg']);
    assert.is(c[0]!.opaque, undefined);
    // A host entry the opaque dir hides makes it a replacement again.
    write(join(f.host, 'pkg/b'), 'b');
    assert.equal(scanSandbox(f.meta).changes.map((x) => `${x.change} ${x.path.slice(f.host.length)}`), ['replaced /pkg', 'deleted /pkg/b']);
  } finally {
    f.cleanup();
  }
});

test('the unreadable-dir walk is remembered while no directory changed, and redone when one did', () => {
  const top = mkdtempSync(join(tmpdir(), 'sbx-unr-'));
  try {
    const root = join(top, 'var');
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    const cache = join(top, 'cache.json');
    // Stamps are kept only a few clock ticks after they were made (unreadable.ts keptStamp).
    const settle = (): void => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30); };
    settle();
    assert.equal(findUnreadableDirsCached([root], new Set(), cache), []);
    const c = JSON.parse(readFileSync(cache, 'utf8')) as { dirs: Array<[string, number, number]>; result: string[] };
    assert.equal(c.dirs.map((d) => d[0]).sort(), [root, join(root, 'a'), join(root, 'a', 'b')]);
    // A result only the cache can give: it is used while every stamp holds.
    c.result = [join(root, 'a', 'remembered')];
    writeFileSync(cache, JSON.stringify(c));
    assert.equal(findUnreadableDirsCached([root], new Set(), cache), [join(root, 'a', 'remembered')]);
    assert.equal(findUnreadableDirsCached([root], new Set([join(root, 'x')]), cache), [], 'another skip set: another key');
    writeFileSync(cache, JSON.stringify(c));
    mkdirSync(join(root, 'a', 'b', 'new'));
    settle();
    assert.equal(findUnreadableDirsCached([root], new Set(), cache), [], 'a new directory: walked again');
    const again = JSON.parse(readFileSync(cache, 'utf8')) as typeof c;
    again.result = [join(root, 'a', 'remembered')];
    writeFileSync(cache, JSON.stringify(again));
    chmodSync(join(root, 'a', 'b'), 0o700);
    settle();
    assert.equal(findUnreadableDirsCached([root], new Set(), cache), [], 'a chmod: walked again');
    const fresh = JSON.parse(readFileSync(cache, 'utf8')) as typeof c;
    writeFileSync(cache, JSON.stringify({ ...fresh, result: [join(root, 'a', 'ok')] }));
    assert.equal(findUnreadableDirsCached([root], new Set(), cache), [join(root, 'a', 'ok')], 'control: these stamps hold');
    writeFileSync(cache, JSON.stringify({ ...fresh, result: ['/etc/elsewhere'] }));
    assert.equal(findUnreadableDirsCached([root], new Set(), cache), [], 'a result outside the roots is not believed');
    writeFileSync(cache, '{not json');
    assert.equal(findUnreadableDirsCached([root], new Set(), cache), []);
    // A remembered dir that is no path (a number aborted the process in Node's binding): walked again.
    const odd = JSON.parse(readFileSync(cache, 'utf8')) as typeof c;
    writeFileSync(cache, JSON.stringify({ ...odd, dirs: [[42, 0, 0], ...odd.dirs], result: [join(root, 'a', 'ok')] }));
    assert.equal(findUnreadableDirsCached([root], new Set(), cache), [], 'a number for a path');
    writeFileSync(cache, JSON.stringify({ ...odd, result: [join(root, 'a', 'ok')] }));
    assert.equal(findUnreadableDirsCached([root], new Set(), cache), [join(root, 'a', 'ok')], 'control: the same file without it');
    // A dir changed after the walk listed it, before the walk ended: its stamp is the one taken
    // before it was listed, so the next run walks again and finds what the change made.
    const a = join(root, 'a'), secret = join(a, 'secret');
    const hidden = (d: string): boolean => d !== secret;
    rmSync(cache);
    settle();
    let made = false;
    const during = (d: string): boolean => {
      if (d === join(a, 'b') && !made) { made = true; mkdirSync(secret); settle(); }
      return hidden(d);
    };
    assert.equal(findUnreadableDirsCached([root], new Set(), cache, during), [], 'listed before the change');
    assert.ok(made);
    settle();
    assert.equal(findUnreadableDirsCached([root], new Set(), cache, hidden), [secret], 'walked again: a/ changed after its stamp');
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});

test.run();
