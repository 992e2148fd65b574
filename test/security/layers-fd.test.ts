// A sandbox's layers are reached only from the store-root fd (Store.openLayers): the store
// dir, the sandbox's entry and a throwaway run's scratch dir are each opened without following
// a symlink and checked to be the store owner's, and every read below them (the helper's scan,
// the review's texts, export's tar, the commit's copies) starts from that fd. A process of the
// store's owner that swaps one of those directories for a symlink after sbx read meta.json
// (as root runs `sudo sbx commit ID` on that user's store) leads no read to the tree it names.
// In the root run the store belongs to the test user and the canary is a tree only root may
// read (what /root or /etc/ssl/private would be).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough } from 'node:stream';
import { chmodSync, chownSync, existsSync, lchownSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeFixture, type Fixture } from '../unit/changes-fixture.js';
import { Store, safeScratch } from '../../sandbox-core/store.js';
import { scanSandbox, scanSandboxAsync, type ScanResult } from '../../sandbox-core/changes/scan.js';
import { commitSandbox } from '../../sandbox-core/commit/index.js';
import { writeLayer } from '../../sandbox-core/export/layer.js';
import { TarWriter } from '../../sandbox-core/export/tar.js';
import type { SandboxMeta } from '../../sandbox-core/types.js';
import { IS_ROOT, SBX, userIds } from '../helpers/sbx.js';
import { testUnless } from '../helpers/skip.js';

const SECRET = 'CANARY: only root may read this';
const TEST_USER = 'sbxtest';

const userUid = (name: string): number | null => userIds(name)?.uid ?? null;

interface Case { f: Fixture; store: Store; meta: SandboxMeta; storeDir: string; canary: string }

/**
 * A saved sandbox with one new file, its store given to the test user when we are root (the
 * `sudo sbx commit` case), and beside it a canary tree laid out like the store: a sandbox
 * entry of the same id whose layer holds the secret.
 */
function setup(): Case {
  const f = makeFixture();
  writeFileSync(join(f.upper(), 'new.txt'), 'from the sandbox\n');
  const storeDir = join(f.root, 'store');
  let store = f.store;
  const uid = userUid(TEST_USER);
  if (IS_ROOT && uid !== null) {
    // A sandbox of that user's ran as that user (a store not root's naming another uid is broken).
    const metaPath = join(storeDir, f.meta.id, 'meta.json');
    writeFileSync(metaPath, JSON.stringify({ ...JSON.parse(readFileSync(metaPath, 'utf8')) as object, uid, gid: uid }));
    const r = spawnSync('chown', ['-R', `${uid}:${uid}`, storeDir]);
    assert.is(r.status, 0, String(r.stderr));
    store = new Store(storeDir, uid);
  }
  const canary = join(f.root, 'canary');
  const upper = join(canary, f.meta.id, f.meta.layers[0]!.dir, 'upper');
  mkdirSync(upper, { recursive: true });
  mkdirSync(join(canary, f.meta.id, f.meta.layers[0]!.dir, 'work'));
  writeFileSync(join(upper, 'secret.txt'), `${SECRET}\n`);
  writeFileSync(join(upper, 'new.txt'), `${SECRET}\n`);
  chmodSync(canary, 0o700);
  // Read as sbx reads it: meta.json through the store, checked, before anything is swapped.
  const meta = store.resolve(f.meta.id);
  return { f, store, meta, storeDir, canary };
}

/** Whatever of the canary a scan let out: the names and texts of its changes. */
function leaked(s: ScanResult): string[] {
  const out: string[] = [];
  for (const c of s.changes) {
    if (c.path.endsWith('/secret.txt')) out.push(`listed ${c.path}`);
    if (c.newText?.toString('latin1').includes(SECRET)) out.push(`text of ${c.path}`);
  }
  for (const p of s.named?.paths() ?? []) if (p.endsWith('/secret.txt')) out.push(`listed ${p}`);
  return out;
}

/** The scans a review makes (names, texts, the commit's own), after `swap`: nothing of the canary. */
async function assertScansRefuse(c: Case, swap: () => void, what: string): Promise<void> {
  swap();
  const scans: Array<[string, () => Promise<ScanResult> | ScanResult]> = [
    ['scanSandbox', () => scanSandbox(c.meta)],
    ['the review (texts of new files)', () => scanSandboxAsync(c.meta, { readNewUpTo: 1 << 20, countLinesUpTo: 1 << 20 })],
    ['--name-only', () => scanSandboxAsync(c.meta, { namesOnly: true })],
  ];
  for (const [name, scan] of scans) {
    let s: ScanResult | null = null;
    try { s = await scan(); } catch { /* refused: nothing read */ }
    if (s) assert.equal(leaked(s), [], `${what}, ${name}: the scan read the canary`);
  }
}

test('the store dir swapped for a symlink after meta.json was read: no scan reads the tree it names', async () => {
  const c = setup();
  try {
    await assertScansRefuse(c, () => { renameSync(c.storeDir, `${c.storeDir}.real`); symlinkSync(c.canary, c.storeDir); }, 'store dir');
  } finally {
    c.f.cleanup();
  }
});

test('the sandbox\'s entry swapped for a symlink after meta.json was read: no scan reads the tree it names', async () => {
  const c = setup();
  try {
    const entry = join(c.storeDir, c.meta.id);
    await assertScansRefuse(c, () => { renameSync(entry, `${entry}.real`); symlinkSync(join(c.canary, c.meta.id), entry); }, 'entry');
  } finally {
    c.f.cleanup();
  }
});

test('export: the store dir swapped for a symlink between the scan and the tar: the tar holds nothing of the tree it names', async () => {
  const c = setup();
  try {
    const scan = scanSandbox(c.meta);
    assert.ok(scan.changes.some((ch) => ch.path.endsWith('/new.txt')), 'the sandbox\'s own file is listed');
    renameSync(c.storeDir, `${c.storeDir}.real`);
    symlinkSync(c.canary, c.storeDir);
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (d: Buffer) => chunks.push(d));
    try { await writeLayer(scan, new TarWriter(sink), { format: 'tar', keepSetuid: false }); } catch { /* refused: nothing read */ }
    assert.not.ok(Buffer.concat(chunks).includes('CANARY'), 'the tar holds the canary\'s file');
  } finally {
    c.f.cleanup();
  }
});

/** /dev/shm as sbx uses it for throwaway runs (Store's scratch dir), or why not. */
function noScratch(): string | null {
  try { return statfsSync('/dev/shm').type === 0x01021994 ? null : '/dev/shm is not a tmpfs'; } catch { return 'no /dev/shm'; }
}

testUnless(noScratch(), { missing: true })('commit of a throwaway run whose scratch dir is a symlink: nothing of the tree it names is listed or committed', () => {
  const f = makeFixture();
  const scratch = safeScratch(process.getuid!(), true);
  assert.ok(scratch, 'no scratch dir');
  const layersDir = join(scratch!, f.meta.id);
  const canary = join(f.root, 'canary');
  try {
    const upper = join(canary, f.meta.layers[0]!.dir, 'upper');
    mkdirSync(upper, { recursive: true });
    mkdirSync(join(canary, f.meta.layers[0]!.dir, 'work'));
    writeFileSync(join(upper, 'stolen.txt'), `${SECRET}\n`);
    chmodSync(canary, 0o700);
    // The store owner's planted scratch entry: where meta.json says a throwaway run's layers are.
    symlinkSync(canary, layersDir);
    f.meta.throwaway = true;
    f.meta.layersDir = layersDir;
    f.save();
    const meta = f.store.resolve(f.meta.id);
    assert.is(meta.layersDir, layersDir);
    let listed: string[] = [];
    try { listed = commitSandbox(f.store, meta, { only: [], exclude: [], force: false, dryRun: true }).plan.steps.map((s) => s.change.path); } catch { /* refused */ }
    assert.not.ok(listed.some((p) => p.endsWith('/stolen.txt')), 'the dry run listed the canary\'s file');
    try { commitSandbox(f.store, meta, { only: [], exclude: [], force: false, dryRun: false }); } catch { /* refused */ }
    assert.not.ok(existsSync(join(f.host, 'stolen.txt')), 'the commit wrote the canary\'s file to the host');
  } finally {
    rmSync(layersDir, { force: true });
    f.cleanup();
  }
});

const sudoCase = !IS_ROOT ? 'a root case: sudo sbx acting on the test user\'s store' : userIds(TEST_USER) === null ? `no user ${TEST_USER}` : noScratch();

testUnless(sudoCase)('sudo sbx diff and commit of the invoking user\'s throwaway sandbox whose scratch entry is a symlink to a root-only tree: nothing of it is shown or committed', () => {
  const u = userIds(TEST_USER)!;
  const userStore = join(u.home, '.local', 'state', 'sbx');
  // Shared with other test files that use the test user's store: made if missing, never removed.
  for (const d of [join(u.home, '.local'), join(u.home, '.local', 'state'), userStore]) {
    try { mkdirSync(d, { mode: 0o700 }); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; }
    chownSync(d, u.uid, u.uid);
  }
  // The user's scratch dir, as their own sbx makes it (shared: made if missing, never removed).
  const scratch = `/dev/shm/sbx-${u.uid}`;
  try { mkdirSync(scratch, { mode: 0o700 }); chownSync(scratch, u.uid, u.uid); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; }
  const id = randomBytes(4).toString('hex');
  const base = mkdtempSync(join(tmpdir(), 'sbx-test-sudo-layers-'));
  const host = join(base, 'host');
  const canary = join(base, 'root-only');
  const entry = join(userStore, id);
  const layers = join(scratch, id);
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', SUDO_USER: TEST_USER, SUDO_UID: String(u.uid), HOME: join(base, 'roothome') };
  delete env.SBX_HOME; // the sudo forms look in the invoking user's store only without it
  const run = (args: string[]) => spawnSync(process.execPath, [SBX, ...args], { encoding: 'utf8', input: '', env });
  try {
    chmodSync(base, 0o755);
    mkdirSync(env.HOME!);
    mkdirSync(host);
    mkdirSync(join(canary, 'L000', 'upper'), { recursive: true });
    mkdirSync(join(canary, 'L000', 'work'));
    writeFileSync(join(canary, 'L000', 'upper', 'root-secret.txt'), `${SECRET}\n`);
    chmodSync(canary, 0o700);
    // What the user plants: a throwaway sandbox whose layers dir is a symlink to the tree.
    symlinkSync(canary, layers);
    lchownSync(layers, u.uid, u.uid);
    mkdirSync(entry, { mode: 0o700 });
    chownSync(entry, u.uid, u.uid);
    const now = Date.now();
    writeFileSync(join(entry, 'meta.json'), JSON.stringify({
      version: 1, id, name: null, command: ['true'], cwd: '/', uid: u.uid, gid: u.uid, created: new Date(now - 1000).toISOString(), createdMs: now - 1000,
      finished: null, exitStatus: 0, state: 'saved', throwaway: true, layersDir: layers, layers: [{ target: host, dir: 'L000', format: 'kernel' }],
      hidden: [], binds: [], options: { net: false, keepUser: false, policy: 'default', hide: [], bind: [] },
    }));
    chownSync(join(entry, 'meta.json'), u.uid, u.uid);
    for (const args of [['diff', id], ['diff', '--name-only', id], ['diff', '--stat', id]]) {
      const r = run(args);
      assert.not.ok(`${r.stdout}${r.stderr}`.includes('root-secret'), `sudo sbx ${args.join(' ')} listed the root-only tree: ${r.stdout}`);
      assert.not.ok(`${r.stdout}${r.stderr}`.includes('CANARY'), `sudo sbx ${args.join(' ')} showed a root-only file's text`);
      assert.is.not(r.status, 0, `sudo sbx ${args.join(' ')}: ${r.stderr}`);
    }
    const commit = run(['commit', id]);
    assert.not.ok(existsSync(join(host, 'root-secret.txt')), `sudo sbx commit wrote the root-only file to the host: ${commit.stderr}`);
  } finally {
    rmSync(layers, { force: true });
    rmSync(entry, { recursive: true, force: true });
    rmSync(base, { recursive: true, force: true });
  }
});

test.run();
