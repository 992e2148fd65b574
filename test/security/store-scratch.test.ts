// The sweep of throwaway trees whose store is gone (Store.sweepOrphans) reads a mark each tree
// holds: the mark is the user's own data, so only a plain file of the uid is believed, a tree of
// a live sbx or one its store still lists is never taken, and a removal follows no symlink.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Store, scratchPath, safeScratch } from '../../sandbox-core/store.js';
import { snapshot } from '../helpers/snapshot.js';
import { testUnless, USER_CASE } from '../helpers/skip.js';
import { IS_ROOT, makeStore, removeStore, sbx, sbxAsync } from '../helpers/sbx.js';
import { once } from 'node:events';

const tmpfsShm = (() => { try { return statfsSync('/dev/shm').type === 0x01021994; } catch { return false; } })();

testUnless(tmpfsShm ? null : '/dev/shm is not a tmpfs: no scratch dir', { missing: true })('a tree is swept only with a mark that is a file of ours, its sbx dead and its store without it; symlinks in it are not followed', () => {
  const uid = process.getuid!();
  assert.ok(safeScratch(uid, true), 'no usable scratch dir');
  const scratch = scratchPath(uid);
  const top = mkdtempSync(join(tmpdir(), 'sbx-scratch-test-'));
  const storeRoot = join(top, 'store');
  mkdirSync(storeRoot, { mode: 0o700 });
  const canary = join(top, 'canary');
  mkdirSync(join(canary, 'd'), { recursive: true });
  writeFileSync(join(canary, 'd', 'f'), 'canary\n');
  const dead = spawnSync('true').pid!;
  const st = lstatSync(storeRoot);
  const gone = { store: join(top, 'no-such-store'), dev: st.dev, ino: st.ino, pid: dead };
  const ids: Record<string, string> = {};
  const tree = (what: string, mark: object | string | null): string => {
    const id = randomBytes(4).toString('hex');
    ids[what] = id;
    mkdirSync(join(scratch, id, 'L000', 'upper'), { recursive: true, mode: 0o700 });
    if (mark !== null) writeFileSync(join(scratch, id, 'store'), typeof mark === 'string' ? mark : JSON.stringify(mark));
    return join(scratch, id);
  };
  try {
    // Swept: its store gone; links to the canary inside (a dir and a file) are unlinked, not followed.
    const orphan = tree('orphan', gone);
    symlinkSync(canary, join(orphan, 'L000', 'upper', 'dir-link'));
    symlinkSync(join(canary, 'd', 'f'), join(orphan, 'L000', 'upper', 'file-link'));
    // Swept: the store at that path is another one (made again: another inode), with that id.
    tree('remade', { ...gone, store: storeRoot, ino: st.ino + 1 });
    mkdirSync(join(storeRoot, ids.remade!), { mode: 0o700 });
    // Kept: the store still lists it (its own sweep's), a live sbx (this test), a mark that is
    // a symlink to a good one, an unreadable mark, no mark (an older sbx's).
    const held = tree('held', { ...gone, store: storeRoot });
    mkdirSync(join(storeRoot, ids.held!), { mode: 0o700 });
    tree('live', { ...gone, pid: process.pid });
    const linked = tree('linked', null);
    writeFileSync(join(top, 'mark'), JSON.stringify(gone));
    symlinkSync(join(top, 'mark'), join(linked, 'store'));
    tree('garbage', '{"store": 1');
    tree('unmarked', null);
    const before = snapshot(canary);

    // Another store of ours: none of these ids are its entries.
    const other = join(top, 'other');
    mkdirSync(other, { mode: 0o700 });
    const removed = new Store(other).sweepOrphans();
    assert.ok(removed >= 2, `removed ${removed}`);
    for (const w of ['orphan', 'remade']) assert.not.ok(existsSync(join(scratch, ids[w]!)), `${w} was kept`);
    for (const w of ['held', 'live', 'linked', 'garbage', 'unmarked']) assert.ok(existsSync(join(scratch, ids[w]!)), `${w} was removed`);
    assert.equal(snapshot(canary), before, 'something was removed through a link');
    assert.ok(existsSync(held));
  } finally {
    for (const id of Object.values(ids)) rmSync(join(scratch, id), { recursive: true, force: true });
    rmSync(top, { recursive: true, force: true });
  }
});

testUnless(tmpfsShm ? null : '/dev/shm is not a tmpfs: no scratch dir', { missing: true })("a throwaway run's removal takes its layers by name only where each is a real dir of the tree: a written upper, a layer or upper that is a symlink, are walked or unlinked, never followed", () => {
  const uid = process.getuid!();
  assert.ok(safeScratch(uid, true), 'no usable scratch dir');
  const top = mkdtempSync(join(tmpdir(), 'sbx-scratch-test-'));
  const storeRoot = join(top, 'store');
  mkdirSync(storeRoot, { mode: 0o700 });
  // Each an empty dir named as a layer's upper, where a followed link would remove it.
  const canary = join(top, 'canary');
  mkdirSync(join(canary, 'upper'), { recursive: true });
  mkdirSync(join(canary, 'empty'));
  const store = new Store(storeRoot);
  const { id } = store.create(null);
  const tree = join(scratchPath(uid), id);
  try {
    for (const d of ['root', 'L000/upper', 'L001/upper/d', 'L003']) mkdirSync(join(tree, d), { recursive: true, mode: 0o700 });
    writeFileSync(join(tree, 'L001', 'upper', 'd', 'f'), 'written inside\n');
    writeFileSync(join(tree, 'store'), '{}');
    symlinkSync(canary, join(tree, 'L002'));
    symlinkSync(join(canary, 'empty'), join(tree, 'L003', 'upper'));
    const before = snapshot(canary);
    const layers = ['L000', 'L001', 'L002', 'L003', 'L004'].map((dir) => ({ target: `/t/${dir}`, dir, format: 'kernel' }));
    store.remove({ id, layers } as unknown as Parameters<Store['remove']>[0]);
    assert.not.ok(existsSync(tree), 'the scratch tree was kept');
    assert.not.ok(existsSync(join(storeRoot, id)), 'the store entry was kept');
    assert.equal(snapshot(canary), before, 'something was removed through a link');
  } finally {
    rmSync(tree, { recursive: true, force: true });
    rmSync(top, { recursive: true, force: true });
  }
});

testUnless(USER_CASE ?? (tmpfsShm ? null : '/dev/shm is not a tmpfs: no scratch dir'))("a --bind of /dev/shm shows the user's scratch dir empty and read-only while another throwaway run of theirs keeps its layers there", async () => {
  // Through the bind the sandbox wrote into the other run's upper layer: its view and its review.
  const uid = process.getuid!();
  const store = makeStore();
  const planted = `planted-${process.pid}`;
  const trees = () => existsSync(scratchPath(uid)) ? readdirSync(scratchPath(uid)).filter((n) => /^[0-9a-f]{8}$/.test(n)) : [];
  // Only the other run's own tree is tried below, not those of runs this test did not start.
  const before = new Set(trees());
  const other = sbxAsync(['run', '-n', '-q', '--', 'sh', '-c', 'echo ready; sleep 5'], { store, stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = once(other, 'exit');
  try {
    await new Promise<void>((ready, failed) => {
      other.stdout!.on('data', (b: Buffer) => { if (b.toString().includes('ready')) ready(); });
      void exited.then(() => failed(new Error('the other run ended before it was ready')));
    });
    const layers = trees().filter((n) => !before.has(n));
    assert.ok(layers.length > 0, `no live run's layers in ${scratchPath(uid)}`);
    const seen = `/mnt/x/sbx-${uid}`;
    const r = sbx(['run', '-n', '-q', '--bind', '/dev/shm:/mnt/x', '--', 'sh', '-c',
      `ls -A ${seen} 2>/dev/null; for id in ${layers.join(' ')}; do mkdir -p ${seen}/$id/L000/upper 2>/dev/null && echo "wrote $id"; done; touch ${seen}/${planted} 2>/dev/null && echo planted; echo done`], { store });
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'done\n', `the other run's layers were in sight or writable: ${r.stdout}`);
    assert.not.ok(existsSync(join(scratchPath(uid), planted)));
  } finally {
    other.kill();
    await exited;
    removeStore(store);
    rmSync(join(scratchPath(uid), planted), { force: true });
  }
});

// `nobody` stands for the user who ran sudo: no sbx of theirs keeps a scratch dir here.
const nobodyFree = !existsSync(scratchPath(65534)) && /^nobody:[^:]*:65534:/m.test(spawnSync('getent', ['passwd', 'nobody'], { encoding: 'utf8' }).stdout ?? '');
testUnless(!IS_ROOT ? 'a root case: sudo' : !tmpfsShm ? '/dev/shm is not a tmpfs: no scratch dir' : !nobodyFree ? 'no account nobody (65534), or /dev/shm/sbx-65534 is in use' : null)("under sudo a --bind of /dev/shm covers the sudo user's scratch dir even before their first throwaway run made it", () => {
  // Made uncovered, their next run's layers (its view and review) would be the sandbox's to write.
  const store = makeStore();
  const mine = scratchPath(65534);
  try {
    // Root's writable bind of this tmpfs (not idmappable here) needs --map-root: root inside is root.
    const r = sbx(['run', '-n', '-q', '--map-root', '--bind', '/dev/shm:/mnt/x', '--', 'sh', '-c',
      'mkdir /mnt/x/sbx-65534/L 2>/dev/null && echo wrote; touch /mnt/x/sbx-65534/f 2>/dev/null && echo planted; echo done'],
    { store, env: { SUDO_USER: 'nobody', SUDO_UID: '65534', SUDO_GID: '65534' } });
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'done\n', `the sudo user's scratch dir was writable: ${r.stdout}`);
    const st = lstatSync(mine);
    assert.ok(st.isDirectory() && st.uid === 65534 && (st.mode & 0o777) === 0o700, `made as ${st.uid} ${(st.mode & 0o777).toString(8)}`);
    assert.equal(readdirSync(mine), []);
  } finally {
    removeStore(store);
    rmSync(mine, { recursive: true, force: true });
  }
});

test.run();
