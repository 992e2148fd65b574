// A fake sandbox for unit tests: a canary "host" tree and hand-built upper layers in a private
// temp dir, with meta.json in a private store. Whiteouts and opaque dirs are made with the
// helper (char 0/0 needs no privilege since Linux 5.8; user.* xattrs work on ext4 and tmpfs).
import { mkdtempSync, mkdirSync, writeFileSync, chmodSync, lstatSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, removeTree } from '../../sandbox-core/store.js';
import type { Layer, SandboxMeta } from '../../sandbox-core/types.js';
import { mknodBatch, setXattrs } from '../../sandbox-core/changes/xattr.js';
import { CANARY } from '../helpers/canary-name.js';

export interface Fixture {
  root: string;
  /** The canary host dir (target of layer 0). */
  host: string;
  store: Store;
  meta: SandboxMeta;
  /** Upper dir of layer `i`. */
  upper(i?: number): string;
  /** Adds a layer over host path `target` and returns its upper dir. */
  addLayer(target: string, format?: Layer['format']): string;
  save(): void;
  cleanup(): void;
}

export function makeFixture(): Fixture {
  const root = mkdtempSync(join(tmpdir(), CANARY));
  chmodSync(root, 0o755);
  const host = join(root, 'host');
  mkdirSync(host);
  const store = new Store(join(root, 'store'));
  const { id, dir } = store.create(null);
  // Where sbx itself keeps a saved sandbox's layers: store locations derive from the id.
  const layersDir = dir;
  const now = Date.now();
  const meta: SandboxMeta = {
    version: 1, id, name: null, command: ['sh', '-c', 'test'], cwd: host, uid: process.getuid!(), gid: process.getgid!(),
    created: new Date(now).toISOString(), createdMs: now, finished: null, exitStatus: 0, state: 'saved',
    layersDir, layers: [], hidden: [], binds: [], options: { net: false, keepUser: false, policy: 'default', hide: [], bind: [] },
  };
  const f: Fixture = {
    root, host, store, meta,
    upper: (i = 0) => join(layersDir, meta.layers[i]!.dir, 'upper'),
    addLayer(target, format = 'kernel') {
      const d = `L${meta.layers.length}`;
      mkdirSync(join(layersDir, d, 'upper'), { recursive: true });
      mkdirSync(join(layersDir, d, 'work'), { recursive: true });
      // As sbx makes them: the overlay's root dir takes its mode from the upper's, and the
      // work dir keeps that mode for the review (sandbox.ts workMode).
      const st = lstatSync(target, { throwIfNoEntry: false });
      if (st) chmodSync(join(layersDir, d, 'upper'), st.mode & 0o7777);
      chmodSync(join(layersDir, d, 'work'), st ? (st.mode & 0o7777) | 0o700 : 0o700);
      meta.layers.push({ target, dir: d, format });
      f.save();
      return join(layersDir, d, 'upper');
    },
    save: () => store.writeMeta(meta),
    cleanup: () => { waitForRemovers(store); removeTree(root); },
  };
  f.addLayer(host);
  return f;
}

/** A complete commit deletes its sandbox in the background: the fixture goes after that. */
export function waitForRemovers(store: Store, maxMs = 60_000): void {
  const until = Date.now() + maxMs;
  while (store.removing().length && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
}

/** Makes the start time "now", after the host tree was built (so it is not a conflict). */
export function markStarted(f: Fixture): void {
  f.meta.createdMs = Date.now() + 1;
  f.meta.created = new Date(f.meta.createdMs).toISOString();
  f.save();
}

export function whiteout(path: string): void {
  const [e] = mknodBatch('whiteout', [Buffer.from(path).toString('latin1')]);
  if (e) throw new Error(`mknod whiteout ${path}: errno ${e}`);
}

export function setXattr(path: string, name: string, value: string | Buffer): void {
  const [e] = setXattrs([{ path: Buffer.from(path).toString('latin1'), attrs: [[name, Buffer.from(value)]] }]);
  if (e) throw new Error(`setxattr ${name} on ${path}: errno ${e}`);
}

export function opaque(path: string): void {
  setXattr(path, 'user.overlay.opaque', 'y');
}

/** What overlayfs does on copy-up: the same bytes, mode, owner, times and xattrs. */
export function copyUp(hostPath: string, upperPath: string): void {
  const r = spawnSync('cp', ['-a', '--no-dereference', hostPath, upperPath]);
  if (r.status !== 0) throw new Error(`cp -a ${hostPath}: ${r.stderr}`);
}

export function write(path: string, data: string | Buffer, mode?: number): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, data);
  if (mode !== undefined) chmodSync(path, mode);
}
