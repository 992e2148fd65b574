// What meta.json says about an image is hostile input: sandbox-core/image/record.ts accepts only
// well-formed digests whose chain-id is the one the diff-ids make, and store.ts marks an entry
// with anything else broken. The image config's process fields are taken only when well formed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { REPO } from '../helpers/sbx.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chainIdOf, checkImageRecord } from '../../sandbox-core/image/record.js';
import { imageProcess, resolveUser } from '../../sandbox-core/image/view.js';
import { splitRef } from '../../sandbox-core/image/cache.js';
import { Store } from '../../sandbox-core/store.js';

const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const a = sha('a'), b = sha('b');
const good = { ref: 'img:t', manifest: sha('m'), config: sha('c'), diffIds: [a, b], chainId: chainIdOf([a, b]) };

test('chain-id: one layer is its diff-id; more chain as the OCI spec says', () => {
  assert.is(chainIdOf([a]), a);
  assert.is(chainIdOf([a, b]), sha(`${a} ${b}`));
});

test('a record is accepted only when every digest is well formed and the chain-id matches', () => {
  assert.ok(checkImageRecord(good));
  for (const bad of [
    { ...good, chainId: a },
    { ...good, manifest: 'sha256:../../etc' },
    { ...good, diffIds: ['sha256:' + 'A'.repeat(64)], chainId: 'sha256:' + 'A'.repeat(64) },
    { ...good, diffIds: [], chainId: undefined },
    { ...good, ref: 'x\0y' },
    { ...good, diffIds: Array(200).fill(a), chainId: chainIdOf(Array(200).fill(a)) },
    null, 'img',
  ]) assert.not.ok(checkImageRecord(bad), JSON.stringify(bad)?.slice(0, 80));
});

test('store: a tampered image record or rootfs makes the entry broken; lowerRoot is derived, never read', () => {
  const root = mkdtempSync(join(tmpdir(), 'sbx-rec-'));
  chmodSync(root, 0o700);
  try {
    const store = new Store(root);
    const meta = (id: string, extra: Record<string, unknown>) => {
      mkdirSync(join(root, id), { mode: 0o700 });
      writeFileSync(join(root, id, 'meta.json'), JSON.stringify({
        version: 1, id, name: null, command: ['true'], cwd: '/', uid: 0, gid: 0, created: '', createdMs: 0, finished: null, exitStatus: null,
        state: 'saved', layersDir: join(root, id), layers: [], hidden: [], binds: [], options: {}, ...extra,
      }), { mode: 0o600 });
    };
    meta('0000000a', { image: { ...good, chainId: a } });
    meta('0000000b', { rootfs: 'relative/dir' });
    meta('0000000c', { image: good, lowerRoot: '/etc' });
    assert.match(store.entry('0000000a')!.problem ?? '', /invalid image record/);
    assert.match(store.entry('0000000b')!.problem ?? '', /invalid rootfs/);
    // The merged tree, opened from the store's fd when asked for; gone, it is one line.
    const merged = join(root, 'images', 'merged', good.chainId.slice(7));
    assert.throws(() => store.entry('0000000c')!.meta!.lowerRoot, /image tree this sandbox is compared with .* is gone/);
    mkdirSync(merged, { recursive: true, mode: 0o700 });
    const m = store.entry('0000000c')!.meta!;
    assert.match(m.lowerRoot!, /^\/proc\/self\/fd\/\d+\/\.$/);
    assert.is(realpathSync(m.lowerRoot!), realpathSync(merged));
    assert.not.ok(JSON.stringify(m).includes('lowerRoot'), 'the fd path is never written to meta.json');
  } finally { rmSync(root, { recursive: true, force: true }); }
});

test('image config: malformed fields are left out; PATH has a default', () => {
  const p = imageProcess({ Env: ['A=1', 'bad', 7, 'B=x\0'], WorkingDir: 'relative', User: 5, Cmd: ['sh', 1], Entrypoint: ['/init'] });
  assert.equal(p.env.slice(1), ['A=1']);
  assert.ok(p.env[0]!.startsWith('PATH='));
  assert.is(p.cwd, '/');
  assert.is(p.user, '');
  assert.equal(p.cmd, []);
  assert.equal(p.entrypoint, ['/init']);
  assert.equal(imageProcess({ Env: ['A=1'] }).env[0]!.startsWith('PATH='), true);
  assert.equal(imageProcess({ Env: ['PATH=/x'] }).env, ['PATH=/x']);
});

test("User is looked up in the image's own passwd and group, never followed through a symlink", () => {
  const root = mkdtempSync(join(tmpdir(), 'sbx-user-'));
  try {
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/app:/bin/sh\n');
    writeFileSync(join(root, 'etc', 'group'), 'staff:x:50:\n');
    assert.is(resolveUser('', root, 'i'), null);
    assert.is(resolveUser('root', root, 'i'), null);
    assert.equal(resolveUser('app', root, 'i'), { uid: 1000, gid: 1001 });
    assert.equal(resolveUser('app:staff', root, 'i'), { uid: 1000, gid: 50 });
    assert.equal(resolveUser('1000', root, 'i'), { uid: 1000, gid: 1001 });
    assert.equal(resolveUser('7:8', root, 'i'), { uid: 7, gid: 8 });
    assert.throws(() => resolveUser('nobody', root, 'i'), /not in the image's \/etc\/passwd/);
    const linked = mkdtempSync(join(tmpdir(), 'sbx-user-'));
    try {
      // An image whose /etc is a symlink (to this machine's /etc) has no passwd sbx will read.
      symlinkSync('/etc', join(linked, 'etc'));
      assert.throws(() => resolveUser('root2', linked, 'i'), /not in the image's/);
    } finally { rmSync(linked, { recursive: true, force: true }); }
  } finally { rmSync(root, { recursive: true, force: true }); }
});

test('PATH:TAG splits only when PATH alone does not exist', () => {
  const d = mkdtempSync(join(tmpdir(), 'sbx-ref-'));
  try {
    assert.equal(splitRef(`${d}:t`), { path: d, tag: 't' });
    assert.equal(splitRef(d), { path: d, tag: null });
    assert.equal(splitRef(`${d}:repo:1`), { path: d, tag: 'repo:1' });
  } finally { rmSync(d, { recursive: true, force: true }); }
});

test("the change list's host side is opened in one place (fsat.ts), so an image sandbox is never compared with /", () => {
  // walk.ts's native scanner, host-tree.ts and xattr.ts once opened '/' themselves; each such
  // open bypassed the image's lower root. They must ask fsat.ts (physicalRoot) instead.
  const dir = join(REPO, 'sandbox-core', 'changes');
  const offenders: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts') && n !== 'fsat.ts')) {
    const text = readFileSync(join(dir, f), 'utf8');
    if (/Dir\.open\(\s*'\/'\s*\)|\[\s*layersRoot\s*,\s*'\/'\s*\]|openSync\(\s*'\/'/.test(text)) offenders.push(f);
  }
  assert.equal(offenders, []);
});

test.run();
