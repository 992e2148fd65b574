// sbx run --image / --rootfs for real: a small image is built here (umoci, a static busybox,
// a few files, two layers with a deletion and a replaced directory), and a docker-save-style
// archive and hostile layouts are written by hand. The change list must be against the image,
// never against this machine; export must put the sandbox's layer on the image's own layers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CI, IS_ROOT, makeCanary, makeStore, proveIsolation, removeCanary, sbx, removeStore } from '../helpers/sbx.js';
import { have } from '../helpers/skip.js';

const BUSYBOX = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p) && spawnSync('sh', ['-c', `file -L ${p} 2>/dev/null | grep -q 'statically linked' || ldd ${p} 2>&1 | grep -q 'not a dynamic'`]).status === 0);
const tools = have('umoci') && have('skopeo') && !!BUSYBOX;
if (!tools && CI) throw new Error('umoci, skopeo and a static busybox (busybox-static) are needed (installed by .ci/run)');
const maybe = tools ? test : test.skip;

const store = makeStore();
const work = mkdtempSync(join(tmpdir(), 'sbx-image-'));
chmodSync(work, 0o755);
const canary = makeCanary();
const layout = join(work, 'img');
const name = `img${process.pid}`;

function run(cmd: string, args: string[], cwd = work): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  assert.is(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const umoci = (...a: string[]) => run('umoci', [...(IS_ROOT ? [] : ['--log', 'error']), ...a]);
const rootless = IS_ROOT ? [] : ['--rootless'];
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A ustar archive from entries (names are written as given: a test may need hostile ones). */
function tar(entries: Array<{ name: string; type?: '0' | '1' | '2' | '5'; data?: string; link?: string; mode?: number }>): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const h = Buffer.alloc(512);
    const data = Buffer.from(e.data ?? '', 'latin1');
    h.write(e.name, 0, 100, 'latin1');
    h.write(`${(e.mode ?? (e.type === '5' ? 0o755 : 0o644)).toString(8).padStart(7, '0')}\0`, 100);
    h.write('0000000\0', 108); h.write('0000000\0', 116);
    h.write(`${(e.type === undefined || e.type === '0' ? data.length : 0).toString(8).padStart(11, '0')}\0`, 124);
    h.write(`${Math.floor(Date.now() / 1000).toString(8).padStart(11, '0')}\0`, 136);
    h.write(e.type ?? '0', 156);
    if (e.link) h.write(e.link, 157, 100, 'latin1');
    h.write('ustar\0' + '00', 257, 'latin1');
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h);
    if (e.type === undefined || e.type === '0') blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** An OCI layout with one image of uncompressed layers, written by hand. */
function layoutOf(dir: string, layers: Buffer[], config: Record<string, unknown> = {}): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (b: Buffer | string) => { const h = sha(b); writeFileSync(join(dir, 'blobs', 'sha256', h), b); return { digest: `sha256:${h}`, size: Buffer.byteLength(b) }; };
  const ls = layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...put(l) }));
  const cfg = put(JSON.stringify({ architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${sha(l)}`) } }));
  const m = put(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg }, layers: ls }));
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': 't' } }] }));
}

test.before(() => {
  proveIsolation(canary, store);
  if (!tools) return;
  // Layer 1: busybox, /etc/greeting, /etc/old/a, /data/gone. Layer 2: /data/gone deleted,
  // /etc/old replaced by a new directory, /data/top added. Config: Env, WorkingDir, Cmd.
  umoci('init', '--layout', layout);
  umoci('new', '--image', `${layout}:t`);
  const b1 = join(work, 'b1');
  umoci('unpack', ...rootless, '--image', `${layout}:t`, b1);
  const r1 = join(b1, 'rootfs');
  for (const d of ['bin', 'etc/old', 'data']) mkdirSync(join(r1, d), { recursive: true });
  cpSync(BUSYBOX!, join(r1, 'bin', 'busybox'));
  for (const c of ['sh', 'ls', 'cat', 'echo', 'rm', 'mkdir', 'id', 'pwd', 'env', 'printf', 'sed', 'stat']) symlinkSync('busybox', join(r1, 'bin', c));
  writeFileSync(join(r1, 'etc', 'greeting'), 'hello\n');
  writeFileSync(join(r1, 'etc', 'old', 'a'), 'a\n');
  writeFileSync(join(r1, 'data', 'gone'), 'gone\n');
  writeFileSync(join(r1, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/data:/bin/sh\n');
  writeFileSync(join(r1, 'etc', 'group'), 'root:x:0:\napp:x:1000:\n');
  umoci('repack', '--image', `${layout}:t`, b1);
  const b2 = join(work, 'b2');
  umoci('unpack', ...rootless, '--image', `${layout}:t`, b2);
  const r2 = join(b2, 'rootfs');
  rmSync(join(r2, 'data', 'gone'));
  rmSync(join(r2, 'etc', 'old'), { recursive: true });
  mkdirSync(join(r2, 'etc', 'old'));
  writeFileSync(join(r2, 'etc', 'old', 'b'), 'b\n');
  writeFileSync(join(r2, 'data', 'top'), 'top\n');
  umoci('repack', '--image', `${layout}:t`, b2);
  umoci('config', '--image', `${layout}:t`, '--config.env', 'PATH=/bin', '--config.env', 'FROM_IMAGE=yes', '--config.workingdir', '/data', '--config.cmd', '/bin/cat', '--config.cmd', '/etc/greeting');
});

test.after(() => {
  sbx(['discard', name], { store });
  rmSync(work, { recursive: true, force: true });
  removeStore(store);
  removeCanary(canary);
});

maybe('--image runs a command in the image: its files, its Env and WorkingDir, root inside; the host is not touched', () => {
  const r = sbx(['run', '-n', '-q', '--image', `${layout}:t`, '--', 'sh', '-c', `pwd; id -u; echo $FROM_IMAGE; cat /etc/greeting; ls /data; ls /etc/old; test -e /usr/bin || echo no-usr; test -e '${store}' || echo no-store; test -e '${canary}' || echo no-canary`], { store });
  assert.is(r.code, 0, r.stderr);
  // Neither this machine's files nor sbx's store (which holds the image cache) are there.
  assert.is(r.stdout, '/data\n0\nyes\nhello\ntop\nb\nno-usr\nno-store\nno-canary\n');
});

maybe("with no command the image's own Cmd runs; --env, --workdir and --image-user override the config", () => {
  let r = sbx(['run', '-n', '-q', '--image', `${layout}:t`], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'hello\n');
  r = sbx(['run', '-n', '-q', '--image', `${layout}:t`, '--env', 'FROM_IMAGE=cli', '--workdir', '/etc', '--', 'sh', '-c', 'pwd; echo $FROM_IMAGE'], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '/etc\ncli\n');
  // uid 1000 inside needs a mapped range (subordinate ids, or root's own range under sudo).
  r = sbx(['run', '-n', '-q', '--image', `${layout}:t`, '--image-user', 'app', '--', 'id'], { store });
  if (r.code === 0) assert.match(r.stdout, /^uid=1000(\(app\))? gid=1000/);
  else assert.match(r.stderr, /user/, r.stderr);
});

maybe('the change list is against the image, never against this machine; commit refuses and points to export', () => {
  // /etc/passwd exists on the host and in the image: a new /etc/hostname exists on the host only.
  const script = 'echo new > /data/new; rm /etc/greeting; echo changed > /etc/old/b; echo x >> /etc/passwd; echo h > /etc/hostname; mkdir -p /opt/app && echo app > /opt/app/x';
  const r = sbx(['run', '--name', name, '-q', '--image', `${layout}:t`, '--', 'sh', '-c', script], { store });
  assert.is(r.code, 0, r.stderr);
  const d = sbx(['diff', name, '--json'], { store });
  assert.is(d.code, 0, d.stderr);
  const changes = (JSON.parse(d.stdout) as { changes: Array<{ path: string; change: string }> }).changes.map((c) => `${c.change} ${c.path}`).sort();
  assert.equal(changes, [
    'added /data/new', 'added /etc/hostname', 'added /opt', 'added /opt/app', 'added /opt/app/x',
    'deleted /etc/greeting', 'modified /etc/old/b', 'modified /etc/passwd',
  ]);
  const c = sbx(['commit', name], { store });
  assert.is(c.code, 125);
  assert.match(c.stderr, /no host to commit it to/);
  assert.match(c.stderr, /sbx export/);
  assert.is(c.stderr.trim().split('\n').length, 1, c.stderr);
  assert.ok(existsSync('/etc/passwd') && !readFileSync('/etc/passwd', 'utf8').endsWith('x\n'), 'the host /etc/passwd changed');
  // --in runs again in the same view.
  const again = sbx(['run', '--in', name, '-q', '--', 'cat', '/data/new', '/etc/old/b'], { store });
  assert.is(again.code, 0, again.stderr);
  assert.is(again.stdout, 'new\nchanged\n');
});

maybe('export oci-image of an image sandbox: the image layers plus the change, read by skopeo and unpacked by umoci', () => {
  const out = join(work, 'exported');
  const r = sbx(['export', name, '--format', 'oci-image', '-o', out], { store });
  assert.is(r.code, 0, r.stderr);
  const inspected = JSON.parse(run('skopeo', ['inspect', `oci:${out}:latest`])) as { Layers: string[]; Env: string[] };
  assert.is(inspected.Layers.length, 3, 'two image layers plus the sandbox layer');
  assert.ok(inspected.Env.includes('FROM_IMAGE=yes'), 'the base config is kept');
  const cfgDigest = JSON.parse(run('skopeo', ['inspect', '--raw', `oci:${out}:latest`])).config.digest as string;
  const cfg = JSON.parse(readFileSync(join(out, 'blobs', 'sha256', cfgDigest.slice(7)), 'utf8'));
  assert.is(cfg.rootfs.diff_ids.length, 3);
  assert.is(cfg.history.filter((h: { empty_layer?: boolean }) => !h.empty_layer).length, 3);
  const u = join(work, 'u');
  umoci('unpack', ...rootless, '--image', `${out}:latest`, u);
  const root = join(u, 'rootfs');
  assert.is(readFileSync(join(root, 'data', 'new'), 'utf8'), 'new\n');
  assert.is(readFileSync(join(root, 'data', 'top'), 'utf8'), 'top\n');
  assert.is(readFileSync(join(root, 'etc', 'old', 'b'), 'utf8'), 'changed\n');
  assert.is(readFileSync(join(root, 'opt', 'app', 'x'), 'utf8'), 'app\n');
  assert.ok(!existsSync(join(root, 'etc', 'greeting')), 'the deletion is applied');
  assert.ok(!existsSync(join(root, 'data', 'gone')), "the image's own deletion stays");
  assert.ok(existsSync(join(root, 'bin', 'busybox')));
});

maybe('sbx images lists the cached layers with the sandbox using them; --prune keeps them while used', () => {
  const l = sbx(['images'], { store });
  assert.is(l.code, 0, l.stderr);
  assert.match(l.stdout, /^layer\s+sha256:\S+\s+\S+ \S+\s+.*img\d+/m);
  assert.is(readdirSync(join(store, 'images', 'layers')).length, 2);
  let p = sbx(['images', '--prune'], { store });
  assert.is(p.code, 0, p.stderr);
  assert.is(readdirSync(join(store, 'images', 'layers')).length, 2, 'used layers are kept');
});

maybe("the cache's merged tree swapped for a symlink to a directory of this machine: never compared with; refused with one line, made again by run --in", () => {
  const s2 = makeStore();
  const fake = mkdtempSync(join(tmpdir(), 'sbx-image-fake-'));
  try {
    chmodSync(fake, 0o755);
    writeFileSync(join(fake, 'probe'), 'host\n');
    const r = sbx(['run', '--name', 'swap', '-q', '--image', `${layout}:t`, '--', 'sh', '-c', 'echo sandbox > /probe'], { store: s2 });
    assert.is(r.code, 0, r.stderr);
    const merged = join(s2, 'images', 'merged');
    const [tree] = readdirSync(merged);
    rmSync(join(merged, tree!), { recursive: true, force: true });
    symlinkSync(fake, join(merged, tree!));
    // Compared with `fake`, /probe would be "modified" (the walk stat-ed the host's file).
    const d = sbx(['diff', 'swap', '--json'], { store: s2 });
    assert.is(d.code, 125, d.stdout + d.stderr);
    assert.match(d.stderr, /is a symlink or not a directory/);
    assert.is(d.stderr.trim().split('\n').length, 1, d.stderr);
    assert.not.match(d.stdout, /modified/);
    assert.is(sbx(['images'], { store: s2 }).code, 0, 'sbx images lists a swapped entry');
    const again = sbx(['run', '--in', 'swap', '-q', '--', 'sh', '-c', ':'], { store: s2 });
    assert.is(again.code, 0, again.stderr);
    const d2 = sbx(['diff', 'swap', '--json'], { store: s2 });
    assert.is(d2.code, 0, d2.stderr);
    assert.equal((JSON.parse(d2.stdout) as { changes: Array<{ path: string; change: string }> }).changes.map((c) => `${c.change} ${c.path}`), ['added /probe']);
    assert.is(readFileSync(join(fake, 'probe'), 'utf8'), 'host\n');
  } finally {
    sbx(['discard', 'swap'], { store: s2 });
    rmSync(fake, { recursive: true, force: true });
    removeStore(s2);
  }
});

// An image shows none of this machine's credential stores, but a --bind of the home does:
// with --net they are covered there (sandbox.ts boundHideOps; readable until 2026-12-05).
maybe('--rootfs with --net: the credential stores a --bind shows are hidden', () => {
  const rootfs = join(work, 'b2', 'rootfs');
  const fakeHome = join(work, 'home');
  mkdirSync(join(fakeHome, '.ssh'), { recursive: true });
  writeFileSync(join(fakeHome, '.ssh', 'id_ed25519'), 'PRIVATE KEY\n');
  writeFileSync(join(fakeHome, 'plain'), 'plain\n');
  const r = sbx(['run', '-n', '-q', '--net', '--rootfs', rootfs, '--ro-bind', `${fakeHome}:/mnt/h`, '--', 'sh', '-c', 'cat /mnt/h/.ssh/id_ed25519 /mnt/h/plain'], { store, env: { HOME: fakeHome } });
  assert.is(r.stdout, 'plain\n', r.stderr);
});

maybe('--rootfs DIR: a directory tree as the root, compared with that tree; a --bind into a dir it lacks', () => {
  const rootfs = join(work, 'b2', 'rootfs');
  const shared = join(work, 'shared');
  mkdirSync(shared, { recursive: true });
  writeFileSync(join(shared, 'f'), 'shared\n');
  const r = sbx(['run', '--name', `${name}r`, '-q', '--rootfs', rootfs, '--bind', `${shared}:/mnt/deep/b`, '--', 'sh', '-c', 'cat /data/top; rm /data/top; echo y > /bin/new; rm -rf /etc; cat /mnt/deep/b/f'], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'top\nshared\n');
  assert.ok(existsSync(join(rootfs, 'data', 'top')), 'the tree was written to');
  const d = sbx(['diff', `${name}r`, '--json'], { store });
  const changes = (JSON.parse(d.stdout) as { changes: Array<{ path: string; change: string }> }).changes.map((c) => `${c.change} ${c.path}`).sort();
  assert.equal(changes, ['added /bin/new', 'deleted /data/top', 'deleted /etc']);
  // The deleted directory is counted in the tree (5 entries), not in this machine's /etc.
  const text = sbx(['diff', `${name}r`, '--name-only'], { store });
  const summary = sbx(['diff', `${name}r`], { store });
  assert.match(summary.stdout + summary.stderr, /deleted:\s+\/etc\/ \(5 entries/, summary.stdout + text.stdout);
  assert.is(sbx(['commit', `${name}r`], { store }).code, 125);
  sbx(['discard', `${name}r`], { store });
});

maybe('a docker-save archive runs like the layout it holds', () => {
  const layer = tar([{ name: 'bin/', type: '5' }, { name: 'bin/busybox', data: readFileSync(BUSYBOX!).toString('latin1'), mode: 0o755 }, { name: 'bin/sh', type: '2', link: 'busybox' }, { name: 'msg', data: 'from docker\n' }]);
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'] }, rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] } });
  const manifest = JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: ['demo:1'], Layers: ['abc/layer.tar'] }]);
  // The layer data must stay binary: tar() takes latin1 strings, one char per byte.
  writeFileSync(join(work, 'save.tar'), tar([{ name: 'abc/', type: '5' }, { name: 'abc/layer.tar', data: layer.toString('latin1') }, { name: `${sha(config)}.json`, data: config }, { name: 'manifest.json', data: manifest }]));
  const r = sbx(['run', '-n', '-q', '--image', join(work, 'save.tar'), '--', 'sh', '-c', 'cat /msg'], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'from docker\n');
});

maybe('a tampered layer (digest mismatch) is refused with one line, and nothing of it is cached', () => {
  const bad = join(work, 'bad');
  cpSync(layout, bad, { recursive: true });
  const index = JSON.parse(readFileSync(join(bad, 'index.json'), 'utf8'));
  const m = JSON.parse(readFileSync(join(bad, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'));
  const blob = join(bad, 'blobs/sha256', m.layers[1].digest.slice(7));
  const data = readFileSync(blob);
  data[data.length - 1]! ^= 0xff;
  writeFileSync(blob, data);
  const s2 = makeStore();
  try {
    const r = sbx(['run', '-n', '-q', '--image', `${bad}:t`, '--', 'true'], { store: s2 });
    assert.is(r.code, 125, r.stderr);
    assert.match(r.stderr, /does not match its digest/);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!existsSync(join(s2, 'images', 'layers')) || readdirSync(join(s2, 'images', 'layers')).length === 0);
  } finally { rmSync(s2, { recursive: true, force: true }); }
});

maybe('hostile layers never write outside the layer: .., a symlink parent, an absolute name', () => {
  const outside = join(canary, 'escaped');
  const busy = { name: 'bin/busybox', data: readFileSync(BUSYBOX!).toString('latin1'), mode: 0o755 };
  const cases: Array<[string, Buffer, RegExp | null]> = [
    ['dotdot', tar([{ name: `../../../../../../../..${outside}`, data: 'x' }]), /leaves the root/],
    ['symlink-parent', tar([{ name: 'link', type: '2', link: canary }, { name: 'link/escaped', data: 'x' }]), /goes through a symlink/],
    ['symlink-then-dir', tar([{ name: 'd', type: '2', link: canary }, { name: 'd/', type: '5' }, { name: 'd/escaped', data: 'x' }]), null],
    ['hardlink-out', tar([{ name: 'h', type: '1', link: `../../../../..${outside}` }]), /leaves the root/],
    ['absolute', tar([{ name: 'bin/', type: '5' }, busy, { name: 'bin/sh', type: '2', link: 'busybox' }, { name: `${outside}`, data: 'abs\n' }]), null],
  ];
  for (const [label, layer, refusal] of cases) {
    const dir = join(work, `evil-${label}`);
    layoutOf(dir, [layer], { Env: ['PATH=/bin'] });
    const s2 = makeStore();
    try {
      const r = sbx(['run', '-n', '-q', '--image', `${dir}:t`, '--', 'sh', '-c', `cat ${outside}`], { store: s2 });
      if (refusal) {
        assert.is(r.code, 125, `${label}: ${r.stderr}`);
        assert.match(r.stderr, refusal, label);
      } else if (label === 'absolute') {
        // Taken relative to the layer's root: inside the image, at that path.
        assert.is(r.code, 0, `${label}: ${r.stderr}`);
        assert.is(r.stdout, 'abs\n', label);
      }
      assert.ok(!existsSync(outside), `${label}: a layer wrote outside its directory`);
    } finally { rmSync(s2, { recursive: true, force: true }); }
  }
});

maybe('--image and --rootfs are refused together, and --hide with either', () => {
  let r = sbx(['run', '-n', '--image', layout, '--rootfs', work, '--', 'true'], { store });
  assert.is(r.code, 125, r.stderr);
  assert.match(r.stderr, /--image and --rootfs/);
  r = sbx(['run', '-n', '--image', `${layout}:t`, '--hide', '/etc', '--', 'true'], { store });
  assert.match(r.stderr, /--hide/);
  assert.is(sbx(['run', '-n', '--image', join(work, 'nope'), '--', 'true'], { store }).code, 125);
});

test.run();
