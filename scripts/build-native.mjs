// Builds the C helper with this machine's C compiler; nothing prebuilt is ever downloaded.
// Used by `npm install` (the package's install script), `npm run build`, and by sbx itself
// on first use when the package directory holds no helper it can use (install scripts
// blocked, or a global install by root used by another user): then with --out DIR, a
// per-user cache. Without a compiler it prints one line saying what to install.
//   node scripts/build-native.mjs [--out DIR] [--why TEXT]
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { helperVersion, nativeSources } from './native-id.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argOf = (flag) => { const i = process.argv.indexOf(flag); return i > 0 ? process.argv[i + 1] : undefined; };
const out = argOf('--out') ?? join(root, 'native', 'build');
const event = process.env.npm_lifecycle_event;
const why = argOf('--why') ?? (event === 'install' ? 'npm install' : event ? `npm run ${event}` : 'node scripts/build-native.mjs');
const cc = process.env.CC || 'cc';

const probe = spawnSync(cc, ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  console.error(`sbx: cannot build its helper: no C compiler found (tried '${cc}'); install one (Debian/Ubuntu: apt-get install gcc libc6-dev; Fedora: dnf install gcc) or set CC, then run 'sbx doctor'`);
  process.exit(1);
}
const version = helperVersion(root);
mkdirSync(out, { recursive: true, mode: 0o755 });
// native/preload/ holds shared objects the helper has other programs load, built below: not the helper's.
const sources = nativeSources(root).filter((f) => f.endsWith('.c') && !f.startsWith('preload/')).map((f) => join(root, 'native', f));
// Built beside, then renamed: a concurrent sbx never executes a half-written binary.
const tmp = join(out, `.sbx-helper.${process.pid}`);
// -fPIE: the objects go into a static-pie or an ordinary PIE alike, whatever the compiler's default.
const cflags = ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror=implicit-function-declaration',
  '-D_FORTIFY_SOURCE=2', '-fstack-protector-strong', '-fPIE', `-DSBX_HELPER_VERSION="${version}"`];
const buildFailed = () => {
  console.error(`sbx: building the C helper with '${cc}' failed (see the compiler output above); a missing header usually means: apt-get install libc6-dev`);
  process.exit(1);
};
// Each source compiled on its own, as many at once as there are CPUs, then one link: ~3.7 s
// against ~6.5 s for one cc of every source on a 2-core VM (npm install, and a first run that
// builds into the cache). A file's warnings are printed together, in source order.
const objDir = mkdtempSync(join(out, '.sbx-obj-'));
const objects = sources.map((src, i) => join(objDir, `${i}.o`));
const compile = (i) => new Promise((done) => {
  const c = spawn(cc, [...cflags, '-c', sources[i], '-o', objects[i]], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  c.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
  c.on('error', (e) => done({ status: 1, err: `${e.message}\n` }));
  c.on('close', (status) => done({ status, err }));
});
const results = new Array(sources.length);
let next = 0;
const worker = async () => { while (next < sources.length) { const i = next++; results[i] = await compile(i); } };
await Promise.all(Array.from({ length: Math.max(1, Math.min(availableParallelism(), sources.length)) }, worker));
for (const c of results) if (c.err) process.stderr.write(c.err); // the compiler's own warnings
// Linked statically where the C library allows it (static-pie: still randomised): every run
// execs the helper, and the dynamic loader's work (mapping and relocating libc) was a third
// of its page faults, ~26 us each on the VM this was measured on. Without a static libc
// (Fedora's glibc-static is a separate package) it is linked as usual, quietly. A static
// glibc warns at link time about a call that needs shared libraries at run time (NSS:
// getpwnam, getaddrinfo; dlopen): such a binary breaks where it makes that call, so the
// warning means "link dynamically", and it is never hidden.
const link = () => {
  const r = spawnSync(cc, ['-static-pie', '-o', tmp, ...objects], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const needsShared = /statically linked applications requires at runtime/.test(r.stderr ?? '');
  if (r.status === 0 && !needsShared) {
    if (r.stderr) process.stderr.write(r.stderr);
    return { status: 0, linked: 'static-pie' };
  }
  if (needsShared) process.stderr.write(r.stderr);
  return { status: spawnSync(cc, ['-o', tmp, ...objects], { stdio: 'inherit' }).status, linked: 'dynamic' };
};
let built = null;
try {
  if (results.every((c) => c.status === 0)) built = link();
} finally {
  rmSync(objDir, { recursive: true, force: true });
}
if (built?.status !== 0) buildFailed();
const { linked } = built;
renameSync(tmp, join(out, 'sbx-helper'));
// The fuse-overlayfs daemons' preload (native/preload/fuse-noplus.c): built beside the helper,
// which names it to them when it is there. Without it (no dlfcn.h, no -shared) runs go on as
// before, their listings exposed to the daemon's ENOENT when the host removes a listed entry.
const preload = join(out, `.sbx-fuse-noplus.so.${process.pid}`);
const so = spawnSync(cc, ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-shared', '-fPIC', '-o', preload, join(root, 'native', 'preload', 'fuse-noplus.c'), '-ldl'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (so.status === 0) renameSync(preload, join(out, 'sbx-fuse-noplus.so'));
else console.error(`sbx: building the fuse-overlayfs preload with '${cc}' failed; directory listings in fuse layers may come out empty when the host removes entries meanwhile:\n${so.stderr ?? ''}`);
const compiler = probe.stdout.split('\n')[0].trim();
// What `sbx doctor` reports as "how built"; the link kind last, so older records still parse.
writeFileSync(join(out, 'sbx-helper.build'), `${version}\n${compiler}\n${why}\n${new Date().toISOString()}\n${linked}\n`);
