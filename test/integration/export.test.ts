// sbx export for real: a sandbox changes a canary tree, its export is read back by the standard
// tools (umoci, skopeo, tar, git apply, patch) and the result must equal the sandbox's view.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CI, IS_ROOT, makeCanary, makeStore, proveIsolation, removeCanary, sbx, sbxAsync, removeStore } from '../helpers/sbx.js';
import { have } from '../helpers/skip.js';

const tools = have('umoci') && have('skopeo') && have('git') && have('patch');
if (!tools && CI) throw new Error('umoci, skopeo, git and patch are needed (installed by .ci/run)');
const maybe = tools ? test : test.skip;

const store = makeStore();
const work = mkdtempSync(join(tmpdir(), 'sbx-export-'));
const canary = makeCanary();
const name = `exp${process.pid}`;

const SCRIPT = [
  'set -e', 'echo two >> f', 'mkdir d', 'echo new > d/n', 'ln d/n d/hl', 'ln -s f sl', 'rm -rf gone',
  'rm tc', 'mkdir tc', 'echo in > tc/x', 'rm -rf od', 'mkdir od', 'echo y > od/y', 'chmod 600 meta.txt',
  "printf '\\000\\001' > bin", "printf 'line\\n' > 'sp ace'",
].join('; ');

/** Type, mode, target, and for files size, link count and content hash, of every entry below `dir`. */
const LIST = `find . \\( -type f -printf '%p|%y|%m|%s|%n\\n' \\) -o \\( ! -type f -printf '%p|%y|%m|%l\\n' \\) | sort; find . -type f -exec sha256sum {} + | sort -k2`;

function run(cmd: string, args: string[], cwd = work) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  assert.is(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function viewListing(): string {
  const r = sbx(['run', '--in', name, '-q', '--', 'sh', '-c', `cd '${canary}' && ${LIST}`], { store });
  assert.is(r.code, 0, r.stderr);
  return r.stdout;
}

const hostListing = (dir: string) => run('sh', ['-c', `cd '${dir}' && ${LIST}`]);
const umoci = (...a: string[]) => run('umoci', [...(IS_ROOT ? [] : ['--log', 'error']), ...a]);
const rootless = IS_ROOT ? [] : ['--rootless'];

test.before(() => {
  writeFileSync(join(canary, 'f'), 'one\n');
  mkdirSync(join(canary, 'gone'));
  writeFileSync(join(canary, 'gone', 'x'), 'x\n');
  writeFileSync(join(canary, 'tc'), 'file\n');
  mkdirSync(join(canary, 'od'));
  writeFileSync(join(canary, 'od', 'a'), 'a\n');
  writeFileSync(join(canary, 'meta.txt'), 'm\n');
  proveIsolation(canary, store);
  const r = sbx(['run', '--name', name, '-q', '--', 'sh', '-c', SCRIPT], { store, cwd: canary });
  assert.is(r.code, 0, r.stderr);
  assert.is(readFileSync(join(canary, 'f'), 'utf8'), 'one\n', 'the run changed the host');
});

test.after(() => {
  sbx(['discard', name], { store });
  rmSync(work, { recursive: true, force: true });
  removeStore(store);
  removeCanary(canary);
});

maybe('oci-image on a base made from the host tree: skopeo reads it, umoci unpacks the sandbox view', () => {
  const layout = join(work, 'base');
  umoci('init', '--layout', layout);
  umoci('new', '--image', `${layout}:base`);
  const b = join(work, 'b');
  umoci('unpack', ...rootless, '--image', `${layout}:base`, b);
  mkdirSync(join(b, 'rootfs', dirname(canary)), { recursive: true });
  cpSync(canary, join(b, 'rootfs', canary), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  umoci('repack', '--image', `${layout}:base`, b);

  const img = join(work, 'img');
  const r = sbx(['export', name, '--format', 'oci-image', '--base', `${layout}:base`, '-o', img], { store });
  assert.is(r.code, 0, r.stderr);
  const inspected = JSON.parse(run('skopeo', ['inspect', `oci:${img}:latest`])) as { Layers: string[] };
  assert.is(inspected.Layers.length, 2, 'base layer plus the sandbox layer');
  const u = join(work, 'u');
  umoci('unpack', ...rootless, '--image', `${img}:latest`, u);
  assert.fixture(hostListing(join(u, 'rootfs', canary)), viewListing());
});

maybe('oci-layer: whiteouts, opaque marker, hard link; digest and diff-id are what stderr says', () => {
  const file = join(work, 'layer.tar.gz');
  const r = sbx(['export', name, '-o', file], { store });
  assert.is(r.code, 0, r.stderr);
  const gz = readFileSync(file);
  const digest = `sha256:${createHash('sha256').update(gz).digest('hex')}`;
  const diffId = `sha256:${createHash('sha256').update(gunzipSync(gz)).digest('hex')}`;
  assert.match(r.stderr, `digest ${digest}`);
  assert.match(r.stderr, `diff-id ${diffId}`);
  const rel = canary.slice(1);
  const list = run('tar', ['tvzf', file]);
  for (const want of [`${rel}/.wh.gone`, `${rel}/.wh.tc`, `${rel}/od/.wh..wh..opq`, `${rel}/sl -> f`]) assert.ok(list.includes(want), `${want} missing:\n${list}`);
  assert.match(list, new RegExp(`^h.* ${rel}/d/n link to ${rel}/d/hl$`, 'm'));
});

maybe('tar: extracted over a copy of the host, with the deletions done, gives the sandbox view', () => {
  const file = join(work, 'plain.tar');
  const r = sbx(['export', name, '--format', 'tar', '-o', file], { store });
  assert.is(r.code, 0, r.stderr);
  const root = join(work, 'troot');
  mkdirSync(join(root, dirname(canary)), { recursive: true });
  cpSync(canary, join(root, canary), { recursive: true, preserveTimestamps: true });
  const deleted = readFileSync(`${file}.deleted`, 'utf8').split('\n').filter(Boolean);
  assert.equal(deleted.sort(), [`${canary}/gone`, `${canary}/od/a`, `${canary}/tc`]);
  for (const d of deleted) rmSync(join(root, d), { recursive: true, force: true });
  run('tar', ['-C', root, '-xpf', file, ...(IS_ROOT ? [] : ['--no-same-owner'])]);
  assert.fixture(hostListing(join(root, canary)), viewListing());
});

maybe('patch: git apply and patch -p1 on copies of the host give the sandbox content of text files', () => {
  const r = sbx(['export', name, '--format', 'patch'], { store });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^# sbx: not in this patch/m);
  assert.match(r.stdout, /bin: added binary file/);
  const patchFile = join(work, 'p.diff');
  writeFileSync(patchFile, r.stdout);
  for (const tool of ['git', 'patch']) {
    const root = join(work, `p-${tool}`);
    mkdirSync(join(root, dirname(canary)), { recursive: true });
    cpSync(canary, join(root, canary), { recursive: true });
    if (tool === 'git') run('git', ['apply', patchFile], root); else run('sh', ['-c', `patch -s -p1 < '${patchFile}'`], root);
    assert.is(readFileSync(join(root, canary, 'f'), 'utf8'), 'one\ntwo\n', tool);
    assert.is(readFileSync(join(root, canary, 'd', 'n'), 'utf8'), 'new\n', tool);
    assert.is(readFileSync(join(root, canary, 'sp ace'), 'utf8'), 'line\n', tool);
  }
});

maybe('a base image whose blob does not match its digest is refused', () => {
  const layout = join(work, 'bad');
  umoci('init', '--layout', layout);
  umoci('new', '--image', `${layout}:t`);
  const ub = join(work, 'ub');
  umoci('unpack', ...rootless, '--image', `${layout}:t`, ub);
  writeFileSync(join(ub, 'rootfs', 'x'), 'x');
  umoci('repack', '--image', `${layout}:t`, ub);
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(join(layout, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'));
  const blob = join(layout, 'blobs/sha256', manifest.layers.at(-1).digest.slice(7));
  const data = readFileSync(blob);
  data[data.length - 1]! ^= 0xff;
  writeFileSync(blob, data);
  const r = sbx(['export', name, '--format', 'oci-image', '--base', `${layout}:t`, '-o', join(work, 'img-bad')], { store });
  assert.is(r.code, 125, r.stderr);
  assert.match(r.stderr, /does not match its digest/);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('tar: FILE.deleted is always this export\'s list (empty without deletions), in either order; a symlink there is replaced, not followed', () => {
  // A sandbox that only adds: its export to a FILE an export with deletions used before must
  // not leave that list, which the user would apply to the host before untarring.
  const other = `${name}b`;
  const made = sbx(['run', '--name', other, '-q', '--', 'sh', '-c', `echo b > '${canary}/only-added'`], { store });
  assert.is(made.code, 0, made.stderr);
  try {
    const expected = [`${canary}/gone`, `${canary}/od/a`, `${canary}/tc`];
    const exportTo = (ref: string, file: string): string[] => {
      const r = sbx(['export', ref, '--format', 'tar', '-o', file], { store });
      assert.is(r.code, 0, r.stderr);
      assert.ok(lstatSync(`${file}.deleted`).isFile(), `${file}.deleted is not a regular file`);
      return readFileSync(`${file}.deleted`, 'utf8').split('\n').filter(Boolean).sort();
    };
    const first = join(work, 'order1.tar');
    assert.equal(exportTo(name, first), expected);
    assert.is(readFileSync(`${first}.deleted`, 'utf8').length > 0, true);
    assert.equal(exportTo(other, first), [], 'the list of the earlier export was left');
    assert.is(readFileSync(`${first}.deleted`, 'utf8'), '');
    const second = join(work, 'order2.tar');
    assert.equal(exportTo(other, second), []);
    assert.equal(exportTo(name, second), expected);
    // A symlink at FILE.deleted (to a file of someone's) is replaced by the list, not written through.
    const victim = join(work, 'victim');
    writeFileSync(victim, 'keep\n');
    const third = join(work, 'order3.tar');
    symlinkSync(victim, `${third}.deleted`);
    assert.equal(exportTo(name, third), expected);
    assert.is(readFileSync(victim, 'utf8'), 'keep\n', 'the export wrote through a symlink');
  } finally {
    sbx(['discard', other], { store });
  }
});

test('patch -o FILE: a symlink at FILE is replaced by the patch, not written through', () => {
  const victim = join(work, 'patch-victim');
  writeFileSync(victim, 'keep\n');
  const file = join(work, 'out.patch');
  symlinkSync(victim, file);
  const r = sbx(['export', name, '--format', 'patch', '-o', file], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(readFileSync(victim, 'utf8'), 'keep\n', 'the export wrote through a symlink');
  assert.ok(lstatSync(file).isFile());
  assert.match(readFileSync(file, 'utf8'), '--- a/');
});

test('a sandbox whose command still runs is not exported: one line, 125, nothing written', async () => {
  // Its layer changes while it is read: a file that shrinks meanwhile came out padded with zeros.
  const busy = `${name}r`;
  // It runs until the test closes its stdin: a fixed `sleep` cost its whole length.
  const child = sbxAsync(['run', '--name', busy, '-q', '--', 'sh', '-c', 'read x'], { store, stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = once(child, 'exit');
  try {
    const until = Date.now() + 30_000;
    while (!/\brunning\b/.test(sbx(['ls'], { store }).stdout.split('\n').find((l) => l.includes(busy)) ?? '')) {
      assert.ok(Date.now() < until, 'the run never showed as running');
      await new Promise((done) => setTimeout(done, 100));
    }
    const file = join(work, 'busy.tar');
    const r = sbx(['export', busy, '--format', 'tar', '-o', file], { store });
    assert.is(r.code, 125, r.stderr);
    assert.match(r.stderr, `sandbox ${busy} is still running a command`);
    assert.match(r.stderr, /then export/);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.not.ok(existsSync(file) || existsSync(`${file}.deleted`), 'an export was written');
    child.stdin!.end('go\n');
    const [code] = await exited;
    assert.is(code, 0);
    assert.is(sbx(['export', busy, '--format', 'tar', '-o', file], { store }).code, 0, 'the export once the run ended');
  } finally {
    child.stdin!.end();
    child.kill();
    await exited;
    sbx(['discard', busy], { store });
  }
});

test('unknown format and an archive to a terminal are one-line errors', () => {
  const r = sbx(['export', name, '--format', 'zip'], { store });
  assert.is(r.code, 125);
  assert.match(r.stderr, /unknown export format 'zip'/);
});

test.run();
