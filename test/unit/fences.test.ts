// A commit's fences (changes/fsat.ts setFences, native/beneath.c): while a commit writes, every
// host dir opened at or below a layer's tree must be on the mount that tree was on when the
// commit was planned. A filesystem mounted there meanwhile is stood for here by a fence whose
// mount id is not the dir's (no privilege needed); commit-mountpoint.test.ts mounts one for
// real during a paused commit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, constants as C } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeAll, dirAt, FenceError, setFences, type Fence } from '../../sandbox-core/changes/fsat.js';
import { mknodBatch, setTimes, setTimesThenSync, stageFiles } from '../../sandbox-core/changes/xattr.js';
import { placeFiles } from '../../sandbox-core/commit/place.js';
import { fdinfoField } from '../../sandbox-core/base/fdinfo.js';
import { O_PATH } from '../../sandbox-core/beneath.js';
import { CANARY } from '../helpers/canary-name.js';

const EXDEV = 18;
const ENOENT = 2;
const ENOTDIR = 20;
const root = mkdtempSync(join(tmpdir(), CANARY));
/** A name no UTF-8 decoder keeps: the fence's path must reach the helper byte for byte. */
const odd = Buffer.from([0x64, 0xff, 0x65]).toString('latin1');
const dir = join(root, odd);
mkdirSync(Buffer.from(dir, 'latin1'));
mkdirSync(Buffer.from(join(dir, 'sub'), 'latin1'));
writeFileSync(Buffer.from(join(dir, 'sub', 'f'), 'latin1'), 'x\n');

function mountOf(p: string): number {
  const fd = openSync(Buffer.from(p, 'latin1'), O_PATH | C.O_DIRECTORY);
  try { return fdinfoField(fd, 'mnt_id'); } finally { closeSync(fd); }
}
const mnt = mountOf(dir);
/** What a fence records when a filesystem was mounted on its tree since: another mount. */
const other = mnt + 1;

function fenced<T>(fences: Fence[], body: () => T): T {
  setFences(fences);
  try { return body(); } finally { setFences(null); closeAll(); }
}

const times = (p: string) => {
  const st = lstatSync(Buffer.from(p, 'latin1'));
  return { path: p, ino: st.ino, dev: st.dev, atime: { sec: 5, nsec: 0 }, mtime: { sec: 7, nsec: 0 } };
};

test.after(() => { rmSync(root, { recursive: true, force: true }); });

test('a dir opened from / below a fenced tree on another mount is refused, naming it; the deepest fence decides', () => {
  fenced([{ path: dir, mnt: other }], () => {
    const e = (() => { try { dirAt(join(dir, 'sub')); return null; } catch (x) { return x; } })();
    assert.instance(e, FenceError);
    assert.is((e as FenceError).dir, dir, 'the first dir on the other mount is named');
    assert.match((e as Error).message, 'while the commit ran');
  });
  fenced([{ path: dir, mnt }, { path: join(dir, 'sub'), mnt: other }], () => {
    assert.ok(dirAt(dir), 'its own tree is on its mount');
    assert.throws(() => dirAt(join(dir, 'sub')), (x: unknown) => x instanceof FenceError && x.dir === join(dir, 'sub'));
  });
  fenced([{ path: join(root, 'elsewhere'), mnt: other }], () => {
    assert.ok(dirAt(join(dir, 'sub')), 'a fence on another tree changes nothing here');
  });
  assert.ok(dirAt(join(dir, 'sub')), 'no fences once the commit ends');
  closeAll();
});

test('the helper\'s writes are fenced too: times, mknod and the place op get EXDEV and change nothing', () => {
  const f = join(dir, 'sub', 'f');
  fenced([{ path: dir, mnt: other }], () => {
    assert.equal(setTimes([times(f)]), [EXDEV]);
    assert.equal(mknodBatch('fifo', [join(dir, 'sub', 'p')]), [EXDEV]);
    writeFileSync(Buffer.from(join(dir, 'sub', 'staged'), 'latin1'), 'new\n');
    const [r] = placeFiles([{ step: 0, path: f, tmpName: 'staged', expect: null }], { journalFd: null, createdMs: 0, syncEvery: 0 });
    assert.equal(r, { kind: 'failed', step: 'parent', errno: EXDEV });
  });
  assert.is(readFileSync(Buffer.from(f, 'latin1'), 'utf8'), 'x\n', 'the place op renamed over a fenced file');
  assert.not.ok(existsSync(Buffer.from(join(dir, 'sub', 'p'), 'latin1')), 'mknod made a fifo in a fenced dir');
  assert.is.not(lstatSync(Buffer.from(f, 'latin1')).mtimeMs, 7000, 'times were set in a fenced dir');
  // The same calls on the tree's own mount: the fence's hex path matched the odd name.
  fenced([{ path: dir, mnt }], () => {
    assert.equal(setTimes([times(f)]), [0]);
    const [r] = placeFiles([{ step: 0, path: f, tmpName: 'staged', expect: null }], { journalFd: null, createdMs: 0, syncEvery: 0 });
    assert.equal(r, { kind: 'placed' });
  });
  assert.is(readFileSync(Buffer.from(f, 'latin1'), 'utf8'), 'new\n');
});

test('the helper\'s stage op writes its copies beside their targets only on the fenced tree\'s mount', () => {
  const src = join(root, 'layers');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'a'), 'staged\n');
  const st = lstatSync(join(src, 'a'));
  const item = (dst: string) => ({
    src: join(src, 'a'), dst, uid: st.uid, gid: st.gid, perm: 0o644, ino: st.ino, dev: st.dev,
    atime: { sec: 1, nsec: 0 }, mtime: { sec: 2, nsec: 0 }, xattrs: [], like: '', flagsMask: 0,
  });
  const dst = join(dir, 'sub', 'copy');
  const sub = join(dir, 'sub');
  fenced([{ path: dir, mnt: other }], () => {
    const { results: [r], synced } = stageFiles([item(dst)], src, [sub]);
    assert.is(r!.errno, EXDEV, r!.step);
    assert.equal(synced, [EXDEV], 'its syncfs dir is fenced too');
  });
  assert.not.ok(existsSync(Buffer.from(dst, 'latin1')), 'stage wrote in a fenced dir');
  fenced([{ path: dir, mnt }], () => {
    const { results: [r], synced } = stageFiles([item(dst)], src, [sub, join(root, 'no-such-dir')]);
    assert.is(r!.errno, 0, r!.step);
    assert.equal(synced, [0, ENOENT], 'an errno per syncfs dir, after the items\' answers');
  });
  assert.is(readFileSync(Buffer.from(dst, 'latin1'), 'utf8'), 'staged\n');
});

test('times --then-syncfs: the items\' errnos, then one per dir, fenced like the writes', () => {
  const f = join(dir, 'sub', 'f');
  const sub = join(dir, 'sub');
  fenced([{ path: dir, mnt: other }], () => {
    assert.equal(setTimesThenSync([times(f)], [sub, root]), { errnos: [EXDEV], synced: [EXDEV, 0] });
  });
  fenced([{ path: dir, mnt }], () => {
    assert.equal(setTimesThenSync([], [sub]), { errnos: [], synced: [0] }, 'a sync alone, no items');
    assert.equal(setTimesThenSync([times(f)], [join(sub, 'f')]), { errnos: [0], synced: [ENOTDIR] });
  });
  assert.is(lstatSync(Buffer.from(f, 'latin1')).mtimeMs, 7000);
});

test.run();
