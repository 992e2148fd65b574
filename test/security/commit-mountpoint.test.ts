// A commit that removes a host tree and meets a filesystem mounted inside it (docs/security.md's
// commit list): it names the mount point, enters nothing mounted, and gives back the modes it
// opened up. Apart from commit-adversarial.test.ts because of the mount it makes on the host.
// sbx-test: serial (nothing beside it: as root it mounts a tmpfs on the host, and as an ordinary user a FUSE filesystem
// through the setuid fusermount3 in its home; every other run's view is planned from the host's mounts, an ordinary
// user's as much as root's: one that appeared in the test user's home while another file's sandbox was being set up
// left that sandbox's home read-only, 2026-12-03).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { IS_ROOT, sbx, sbxAsync, canary, storeAndCanary } from '../helpers/sbx.js';
import { ROOT_CASE, testUnless } from '../helpers/skip.js';

const store = storeAndCanary({ prove: true });

/**
 * A filesystem mounted on `dir` for the test (root: a tmpfs; an ordinary user: fuse-overlayfs
 * through the setuid fusermount3) holding `precious`; returns its unmount.
 */
function mountOn(dir: string, scratch: string): () => void {
  if (IS_ROOT) {
    assert.is(spawnSync('mount', ['-t', 'tmpfs', 'sbx-test', dir]).status, 0, 'mount a tmpfs');
    writeFileSync(join(dir, 'precious'), 'kept\n');
    return () => { spawnSync('umount', [dir]); };
  }
  for (const d of ['lower', 'upper', 'work']) mkdirSync(join(scratch, d));
  writeFileSync(join(scratch, 'lower', 'precious'), 'kept\n');
  const r = spawnSync('fuse-overlayfs', ['-o', `lowerdir=${scratch}/lower,upperdir=${scratch}/upper,workdir=${scratch}/work`, dir], { encoding: 'utf8' });
  assert.is(r.status, 0, `fuse-overlayfs: ${r.stderr}`);
  return () => { spawnSync('fusermount3', ['-u', dir]); };
}

/**
 * A sandbox `name` that wrote t/dir/f, t/dir/sub/g and t/ok below the canary; returns t.
 */
function wroteInDir(name: string): string {
  const t = join(canary, 't');
  mkdirSync(join(t, 'dir'), { recursive: true });
  const r = sbx(['run', '--name', name, '-q', '--', 'sh', '-c', `echo hi > ${t}/dir/f && mkdir ${t}/dir/sub && echo g > ${t}/dir/sub/g && echo ok > ${t}/ok`], { store });
  assert.is(r.code, 0, r.stderr);
  return t;
}

/**
 * Another filesystem on t/dir holding `precious`; returns its unmount. Root binds another dir
 * of the same filesystem (st_dev alike: only the mount id tells them apart); an ordinary user
 * mounts fuse-overlayfs (mountOn).
 */
function mountOnDir(t: string, scratch: string): () => void {
  if (!IS_ROOT) return mountOn(join(t, 'dir'), scratch);
  mkdirSync(join(scratch, 'elsewhere'));
  writeFileSync(join(scratch, 'elsewhere', 'precious'), 'kept\n');
  assert.is(statSync(join(scratch, 'elsewhere')).dev, statSync(join(t, 'dir')).dev, 'the bound dir is on the same filesystem');
  assert.is(spawnSync('mount', ['--bind', join(scratch, 'elsewhere'), join(t, 'dir')]).status, 0, 'mount --bind');
  return () => { spawnSync('umount', [join(t, 'dir')]); };
}

const noFuse = IS_ROOT || spawnSync('fuse-overlayfs', ['--version']).status === 0 ? null : 'fuse-overlayfs is not installed (an ordinary user mounts with it)';
testUnless(noFuse, { missing: true })('a host tree delete that stops at a mount point names it, enters nothing mounted, and gives back the modes it opened up', () => {
  const t = join(canary, 't');
  mkdirSync(join(t, 'd', 'm'), { recursive: true });
  writeFileSync(join(t, 'd', 'f'), 'x\n');
  const r = sbx(['run', '--name', 'rmtree', '-q', '--', 'rm', '-rf', t], { store });
  assert.is(r.code, 0, r.stderr);
  // Made unwritable after the run: a commit must open them up to empty them.
  chmodSync(join(t, 'd'), 0o555);
  chmodSync(t, 0o511);
  const scratch = join(canary, 'scratch');
  mkdirSync(scratch);
  const unmount = mountOn(join(t, 'd', 'm'), scratch);
  try {
    const c = sbx(['commit', '--force', 'rmtree'], { store });
    assert.is(c.code, 1, c.stderr);
    assert.match(c.stderr, new RegExp(`${t}: not removed: a filesystem is mounted on ${t}/d/m\\n`));
    assert.is(readFileSync(join(t, 'd', 'm', 'precious'), 'utf8'), 'kept\n', 'the mounted filesystem was entered');
    assert.is(statSync(t).mode & 0o7777, 0o511, 'left opened up to 0700');
    assert.is(statSync(join(t, 'd')).mode & 0o7777, 0o555, 'left opened up to 0700');
  } finally {
    unmount();
    chmodSync(t, 0o755);
    chmodSync(join(t, 'd'), 0o755);
  }
  assert.is(sbx(['discard', 'rmtree'], { store }).code, 0);
});

// docs/security.md: a mount made on the host after the run receives nothing of the commit.
testUnless(noFuse, { missing: true })('a commit refuses to write into a filesystem mounted on the host after the run, even with --force, and commits it once unmounted', () => {
  const t = wroteInDir('later');
  const scratch = join(canary, 'scratch');
  mkdirSync(scratch);
  const unmount = mountOnDir(t, scratch);
  let mounted = true;
  try {
    const c = sbx(['commit', '--force', 'later'], { store });
    assert.is(c.code, 1, c.stderr);
    assert.match(c.stderr, `  ${t}/dir/f: a filesystem was mounted on ${t}/dir after the sandbox ran, which the review never showed: unmount it and commit again (or discard the sandbox)\n`, c.stderr);
    assert.match(c.stderr, `  ${t}/dir/sub/g: inside ${t}/dir/sub, which is not committed\n`);
    assert.equal(readdirSync(join(t, 'dir')).sort(), ['precious'], 'the commit wrote into the mounted filesystem');
    assert.is(readFileSync(join(t, 'ok'), 'utf8'), 'ok\n', 'what lies on the run-time filesystem is committed');
    unmount();
    mounted = false;
    const again = sbx(['commit', 'later'], { store });
    assert.is(again.code, 0, again.stderr);
    assert.is(readFileSync(join(t, 'dir', 'f'), 'utf8'), 'hi\n');
    assert.is(readFileSync(join(t, 'dir', 'sub', 'g'), 'utf8'), 'g\n');
  } finally {
    if (mounted) unmount();
    sbx(['discard', 'later'], { store });
  }
});

// docs/security.md: a filesystem mounted while the commit runs receives nothing either. The
// commit stops after staging its files beside their targets; the mount is made then, and the
// renames (the helper's place op), the dir metadata and times (Node's) meet it: each dir a
// commit writes in is checked against the mount its layer's tree was on when it was planned.
testUnless(noFuse, { missing: true })('a commit refuses to write into a filesystem mounted on the host while it runs, and commits it once unmounted', async () => {
  const t = wroteInDir('during');
  const scratch = join(canary, 'scratch');
  mkdirSync(scratch);
  const go = join(scratch, 'go');
  const child = sbxAsync(['commit', '--force', 'during'], {
    store, stdio: ['ignore', 'ignore', 'pipe'], env: { SBX_TEST_COMMIT_PAUSE_AFTER: 'staged', SBX_TEST_COMMIT_RESUME: go },
  });
  let stderr = '';
  const paused = new Promise<void>((resolve) => {
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); if (stderr.includes('sbx-test: paused at step staged')) resolve(); });
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let unmount: (() => void) | null = null;
  try {
    await Promise.race([paused, exited]);
    assert.match(stderr, 'paused at step staged', stderr);
    unmount = mountOnDir(t, scratch);
    writeFileSync(go, '');
    const code = await exited;
    assert.is(code, 1, stderr);
    assert.match(stderr, `  ${t}/dir/f: a filesystem was mounted on ${t}/dir while the commit ran, which the review never showed: unmount it and commit again (or discard the sandbox)`, stderr);
    assert.match(stderr, `  ${t}/dir/sub/g: a filesystem was mounted on ${t}/dir while the commit ran`);
    const left = [...stderr.matchAll(new RegExp(`its staged copy ${t}/dir/((sub/)?\\.sbx-[^/ ]+) is left below that mount: remove it once it is unmounted`, 'g'))].map((m) => m[1]!);
    assert.is(left.length, 2, 'f and sub/g were staged before the mount');
    assert.equal(readdirSync(join(t, 'dir')).sort(), ['precious'], 'the commit wrote into the mounted filesystem');
    assert.is(readFileSync(join(t, 'ok'), 'utf8'), 'ok\n', 'what lies on the planned filesystem is committed');
    unmount();
    unmount = null;
    // As the line says: the copy staged before the mount is there once it is gone.
    for (const copy of left) rmSync(join(t, 'dir', copy));
    const again = sbx(['commit', '--force', 'during'], { store });
    assert.is(again.code, 0, again.stderr);
    assert.is(readFileSync(join(t, 'dir', 'f'), 'utf8'), 'hi\n');
    assert.is(readFileSync(join(t, 'dir', 'sub', 'g'), 'utf8'), 'g\n');
    assert.equal(readdirSync(join(t, 'dir')).sort(), ['f', 'sub'], 'a staged copy was left behind');
    assert.equal(readdirSync(join(t, 'dir', 'sub')), ['g'], 'a staged copy was left behind');
  } finally {
    if (child.exitCode === null) { writeFileSync(go, ''); await exited; }
    unmount?.();
    sbx(['discard', 'during'], { store });
  }
});

// The same for a filesystem mounted exactly on a layer's own tree: root's view makes each host
// mount a layer of its own, so a tmpfs on the canary's `m` is one; mounted anew after the run,
// every other check compared with the new one. Root only: an ordinary user cannot mount there.
testUnless(ROOT_CASE)('a commit refuses to write into a filesystem mounted anew exactly on a layer\'s own tree, even with --force; the rest is committed; a run --in over the new one commits there', () => {
  const m = join(canary, 'm');
  mkdirSync(m);
  let mounted = false;
  const mount = (file: string): void => {
    assert.is(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'sbx-test', m]).status, 0, 'mount a tmpfs');
    mounted = true;
    writeFileSync(join(m, file), 'kept\n');
  };
  const unmount = (): void => { if (mounted) spawnSync('umount', [m]); mounted = false; };
  try {
    mount('old');
    const r = sbx(['run', '--name', 'exact', '-q', '--', 'sh', '-c', `echo hi > ${m}/f && echo ok > ${canary}/ok`], { store });
    assert.is(r.code, 0, r.stderr);
    unmount();
    mount('precious');
    const c = sbx(['commit', '--force', 'exact'], { store });
    assert.is(c.code, 1, c.stderr);
    assert.match(c.stderr, `  ${m}/f: ${m} is no longer the directory the sandbox ran over (a filesystem was mounted on it, or it was made anew, after the run), which the review never showed: unmount it and commit again (or discard the sandbox)\n`, c.stderr);
    assert.equal(readdirSync(m).sort(), ['precious'], 'the commit wrote into the filesystem mounted anew');
    assert.is(readFileSync(join(canary, 'ok'), 'utf8'), 'ok\n', 'what lies on the run-time filesystem is committed');
    // Unmounted, the dir below is not the tmpfs the sandbox ran over either.
    unmount();
    const again = sbx(['commit', 'exact'], { store });
    assert.is(again.code, 1, again.stderr);
    assert.equal(readdirSync(m), [], 'the commit wrote into the dir below the mount');
    // A run in it over the dir as it is now: the sandbox runs over that one, and it commits.
    mount('anew');
    const rerun = sbx(['run', '--in', 'exact', '-q', '--', 'true'], { store });
    assert.is(rerun.code, 0, rerun.stderr);
    const last = sbx(['commit', 'exact'], { store });
    assert.is(last.code, 0, last.stderr);
    assert.is(readFileSync(join(m, 'f'), 'utf8'), 'hi\n');
  } finally {
    unmount();
    sbx(['discard', 'exact'], { store });
  }
});

// On a filesystem with no birth times, another one on the same device shows the same dev and
// root inode (a USB stick swapped for another in the same slot; here two ext4 images with
// 128-byte inodes, which keep no birth time, one after the other on the same loop device):
// the record's statfs size tells them apart. The first one mounted again is the same tree.
const noLoop = !IS_ROOT ? ROOT_CASE : spawnSync('losetup', ['--version']).status !== 0 || spawnSync('mkfs.ext4', ['-V']).status !== 0 ? 'losetup or mkfs.ext4 is missing (util-linux, e2fsprogs)' : null;
testUnless(noLoop, { missing: IS_ROOT })('a commit refuses a tree on another filesystem with no birth times on the same device and inode; the same one mounted again commits', () => {
  const m = join(canary, 'stick');
  mkdirSync(m);
  const images = [join(canary, 'a.img'), join(canary, 'b.img')];
  images.forEach((img, k) => {
    writeFileSync(img, '');
    spawnSync('truncate', ['-s', `${8 + k}M`, img]);
    const f = spawnSync('mkfs.ext4', ['-q', '-F', '-I', '128', img], { encoding: 'utf8' });
    assert.is(f.status, 0, f.stderr);
  });
  let loop = '';
  let attached = false;
  let mounted = false;
  const attach = (img: string) => {
    const a = loop ? spawnSync('losetup', [loop, img], { encoding: 'utf8' }) : spawnSync('losetup', ['-f', '--show', img], { encoding: 'utf8' });
    assert.is(a.status, 0, a.stderr);
    if (!loop) loop = a.stdout.trim();
    attached = true;
    const r = spawnSync('mount', [loop, m], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    mounted = true;
  };
  const detach = () => {
    if (mounted) assert.is(spawnSync('umount', [m]).status, 0, 'umount');
    mounted = false;
    if (attached) assert.is(spawnSync('losetup', ['-d', loop]).status, 0, 'losetup -d');
    attached = false;
  };
  try {
    attach(images[0]!);
    assert.is(statSync(m).birthtimeMs, 0, 'the filesystem keeps no birth time');
    const r = sbx(['run', '--name', 'stick', '-q', '--', 'sh', '-c', `echo hi > ${m}/f`], { store });
    assert.is(r.code, 0, r.stderr);
    const seen = statSync(m);
    detach();
    attach(images[1]!);
    assert.equal([statSync(m).dev, statSync(m).ino], [seen.dev, seen.ino], 'the other filesystem shows the same device and root inode');
    const c = sbx(['commit', '--force', 'stick'], { store });
    assert.is(c.code, 1, c.stderr);
    assert.match(c.stderr, `  ${m}/f: ${m} is on a filesystem of another size than the one the sandbox ran over (another disk in the same place, or this one resized, after the run), which the review never showed: mount that one there again and commit again (or discard the sandbox)\n`, c.stderr);
    assert.not.ok(readdirSync(m).includes('f'), 'the commit wrote on the other filesystem');
    detach();
    attach(images[0]!);
    const again = sbx(['commit', 'stick'], { store });
    assert.is(again.code, 0, again.stderr);
    assert.is(readFileSync(join(m, 'f'), 'utf8'), 'hi\n');
  } finally {
    detach();
    sbx(['discard', 'stick'], { store });
  }
});

test.run();
