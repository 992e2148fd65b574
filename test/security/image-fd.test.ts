// Root acting on an ordinary user's image sandbox (`sudo SBX_HOME=… sbx diff|export|images`):
// the image cache lives in that user's store, and a process of theirs may swap any directory
// of it for a symlink to a tree only root may read (/opt/sbx-canary-<random>, 0700). Every read
// of the cache (the merged tree the change list compares with, blobs, the listing) starts from
// the store root fd, checked: the canary's files are never shown, copied or listed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, lchownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { IS_ROOT, SBX, sbx } from '../helpers/sbx.js';
import { testUnless } from '../helpers/skip.js';
import { CANARY } from '../helpers/canary-name.js';

/** No account has it (checked): the store is this file's alone. */
const UID = 54321;
const ID = 'abcdef02';
const accountless = !/^[^:]*:[^:]*:54321:/m.test(spawnSync('getent', ['passwd'], { encoding: 'utf8' }).stdout ?? '');
const rootCase = testUnless(!IS_ROOT ? "root acting on a user's store: the root run covers it" : !accountless ? `uid ${UID} has an account here` : null);

const sha = (b: string | Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hexOf = (d: string): string => d.slice(7);

/** A one-layer image's blobs: the layer (any bytes: nothing here unpacks it), config and manifest. */
function imageBlobs(): { blobs: Map<string, string>; record: Record<string, unknown> } {
  const layer = 'layer bytes of the image\n';
  const diffId = sha('the uncompressed layer');
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } });
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(layer), size: layer.length }],
  });
  const blobs = new Map([[sha(layer), layer], [sha(config), config], [sha(manifest), manifest]]);
  return { blobs, record: { ref: 'img', manifest: sha(manifest), config: sha(config), diffIds: [diffId], chainId: diffId } };
}

/** The root-only tree: /opt/sbx-canary-<random>, 0700 root. */
function makeCanary(): string {
  const c = `/opt/${CANARY}${randomBytes(4).toString('hex')}`;
  mkdirSync(c, { mode: 0o700 });
  return c;
}

/** chown -R of a tree we made, without following a symlink. */
function chownTree(p: string): void {
  lchownSync(p, UID, UID);
  try { for (const n of readdirSync(p)) chownTree(join(p, n)); } catch { /* not a directory */ }
}

/**
 * A store of UID holding image sandbox ID (its upper layer changed /etc/x to "new"), its image's
 * blobs, and a merged tree where /etc/x is "old"; `plant` then changes the cache as its owner could.
 */
function makeUserStore(plant: (store: string, chainHex: string) => void = () => {}): { top: string; store: string } {
  const { blobs, record } = imageBlobs();
  const top = mkdtempSync('/tmp/sbx-imagefd-test-');
  chmodSync(top, 0o755);
  const store = join(top, 'sbx');
  mkdirSync(join(store, ID, 'L0', 'upper', 'etc'), { recursive: true });
  writeFileSync(join(store, ID, 'L0', 'upper', 'etc', 'x'), 'new\n');
  writeFileSync(join(store, ID, 'meta.json'), JSON.stringify({
    version: 1, id: ID, name: null, state: 'saved', uid: UID, gid: UID, createdMs: Date.now() - 3_600_000, command: ['true'], cwd: '/',
    layers: [{ target: '/', dir: 'L0', format: 'kernel' }], hidden: [], binds: [], options: {}, image: record,
  }));
  const chainHex = hexOf(record.chainId as string);
  mkdirSync(join(store, 'images', 'blobs', 'sha256'), { recursive: true });
  for (const [d, b] of blobs) writeFileSync(join(store, 'images', 'blobs', 'sha256', hexOf(d)), b);
  mkdirSync(join(store, 'images', 'merged', chainHex, 'etc'), { recursive: true });
  writeFileSync(join(store, 'images', 'merged', chainHex, 'etc', 'x'), 'old\n');
  plant(store, chainHex);
  chmodSync(store, 0o700);
  chownTree(store);
  return { top, store };
}

/** A canary holding `rel` with a secret line, for a symlink in the cache to name. */
function canaryWith(rel: string): string {
  const c = makeCanary();
  mkdirSync(join(c, rel, 'etc'), { recursive: true });
  writeFileSync(join(c, rel, 'etc', 'x'), 'canary secret\n');
  return c;
}

/** Moves `path` aside and puts a symlink to `target` in its place, as the store's owner could. */
function swap(path: string, target: string): void {
  rmSync(path, { recursive: true, force: true });
  symlinkSync(target, path);
}

rootCase("the merged tree is compared from the store's fd: 'diff' still works, and a symlinked cache dir never shows root-only files", () => {
  const plain = makeUserStore();
  try {
    const r = sbx(['diff', ID], { store: plain.store });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /-old\n\+new/);
  } finally { rmSync(plain.top, { recursive: true, force: true }); }

  for (const where of ['images', 'images/merged']) {
    let c = '';
    const { top, store } = makeUserStore((s, chainHex) => {
      // The canary holds what the path below the symlink names: images/merged/<chain> or merged/<chain>.
      c = canaryWith(where === 'images' ? `merged/${chainHex}` : chainHex);
      swap(join(s, where), c);
    });
    try {
      for (const args of [['diff', ID], ['export', ID, '--format', 'patch']]) {
        const r = sbx(args, { store });
        assert.not.match(r.stdout + r.stderr, /canary/, `${args.join(' ')} with ${where} a symlink showed the canary`);
        assert.is(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /symlink/);
        assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
      }
    } finally {
      rmSync(top, { recursive: true, force: true });
      rmSync(c, { recursive: true, force: true });
    }
  }
});

rootCase("'export --format oci-image' puts the layer on the sandbox's image, its blobs read from the store's fd", () => {
  const { top, store } = makeUserStore();
  try {
    const out = join(top, 'out');
    const r = sbx(['export', ID, '--format', 'oci-image', '-o', out], { store });
    assert.is(r.code, 0, r.stderr);
    const { blobs } = imageBlobs();
    const layer = [...blobs].find(([, b]) => b.startsWith('layer bytes'))!;
    assert.is(readFileSync(join(out, 'blobs', 'sha256', hexOf(layer[0])), 'utf8'), layer[1]);
  } finally { rmSync(top, { recursive: true, force: true }); }
});

rootCase("a symlinked blob dir: 'export --format oci-image' copies nothing from it, 'images' lists nothing of it", () => {
  let c = '';
  const { top, store } = makeUserStore((s) => {
    c = makeCanary();
    // The canary holds the very blobs (so their digests match) and one more root-only file.
    const from = join(s, 'images', 'blobs', 'sha256');
    for (const n of readdirSync(from)) writeFileSync(join(c, n), readFileSync(join(from, n)));
    writeFileSync(join(c, 'ab'.repeat(32)), 'canary secret\n');
    swap(from, c);
  });
  try {
    const out = join(top, 'out');
    const r = sbx(['export', ID, '--format', 'oci-image', '-o', out], { store });
    assert.is(r.code, 125, r.stderr);
    assert.match(r.stderr, /symlink/);
    const l = sbx(['images', '--json'], { store });
    assert.not.match(l.stdout, /abab/, 'the canary was listed');
    assert.is(l.code, 125, l.stderr);
    const p = sbx(['images', '--prune'], { store });
    assert.is(p.code, 125, p.stderr);
    assert.ok(readdirSync(c).length === 4, 'root pruned the canary');
  } finally {
    rmSync(top, { recursive: true, force: true });
    rmSync(c, { recursive: true, force: true });
  }
});

rootCase('root adds nothing to a user\'s image cache (run --image under sudo SBX_HOME=…)', () => {
  const { top, store } = makeUserStore();
  try {
    const r = sbx(['run', '-n', '--image', join(top, 'no-such-layout'), '--', 'true'], { store });
    assert.is(r.code, 125, r.stderr);
    assert.match(r.stderr, /only its owner adds images/);
  } finally { rmSync(top, { recursive: true, force: true }); }
});

rootCase('sandboxes of one image share one open merged tree: sbx ls of 60 of them under a 40-fd limit counts every one', () => {
  // Each compared image sandbox kept its own fd on the merged tree until the process ended:
  // past the fd limit, the rest read as '?' (EMFILE).
  const ids = Array.from({ length: 60 }, (_, i) => `abc${i.toString(16).padStart(5, '0')}`);
  const { top, store } = makeUserStore((s) => {
    const meta = JSON.parse(readFileSync(join(s, ID, 'meta.json'), 'utf8')) as Record<string, unknown>;
    for (const id of ids) {
      mkdirSync(join(s, id, 'L0', 'upper', 'etc'), { recursive: true });
      writeFileSync(join(s, id, 'L0', 'upper', 'etc', 'x'), 'new\n');
      writeFileSync(join(s, id, 'meta.json'), JSON.stringify({ ...meta, id }));
    }
  });
  try {
    const r = spawnSync('sh', ['-c', 'ulimit -n 40 && exec "$@"', 'sh', process.execPath, SBX, 'ls', '--json'], { encoding: 'utf8', env: { ...process.env, SBX_HOME: store, NO_COLOR: '1' }, timeout: 120_000 });
    assert.is(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Array<{ id: string; changes: number | null }>;
    assert.is(rows.length, ids.length + 1);
    assert.equal(rows.filter((x) => x.changes !== 1).map((x) => x.id), [], 'rows whose changes could not be counted');
  } finally { rmSync(top, { recursive: true, force: true }); }
});

test.run();
