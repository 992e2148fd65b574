// The V8 code cache the entry loads the bundle's parts through (cli/code-cache.ts): it is code
// sbx runs, so only this user's private files are used, and it is written atomically only
// below a cache dir this user owns. And the shipped entry writes and then uses it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync, cpSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cacheDir, installKey, readCache, sealCache, unsealCache, writeCache } from '../../cli/code-cache.js';
import { cacheRoot, ownDirs } from '../../sandbox-core/base/paths.js';
import { SBX, sbx } from '../helpers/sbx.js';
import { testUnless } from '../helpers/skip.js';

const work = mkdtempSync(join(tmpdir(), 'sbx-code-cache-'));
test.after(() => rmSync(work, { recursive: true, force: true }));
const IS_ROOT = process.geteuid?.() === 0;

let n = 0;
function privateDir(): string {
  const d = join(work, `d${n++}`);
  mkdirSync(d, { mode: 0o700 });
  chmodSync(d, 0o700);
  return d;
}

test('the cache dir follows XDG_CACHE_HOME, else HOME; a relative or missing base means no cache', () => {
  assert.equal(cacheDir({ XDG_CACHE_HOME: '/c', HOME: '/h' }), { dir: '/c/sbx/code', base: '/c' });
  assert.equal(cacheDir({ HOME: '/h' }), { dir: '/h/.cache/sbx/code', base: '/h/.cache' });
  assert.is(cacheDir({ XDG_CACHE_HOME: 'rel' }), null);
  assert.is(cacheDir({}), null);
});

test('a relative XDG_CACHE_HOME is ignored for every cache sbx runs code from (helper, seccomp programs, code cache)', () => {
  assert.is(cacheRoot({ XDG_CACHE_HOME: 'rel', HOME: '/h' }), '/h/.cache/sbx');
  assert.ok(ownDirs({ XDG_CACHE_HOME: 'rel', HOME: '/h' }).includes('/h/.cache/sbx'));
  assert.equal(cacheDir({ XDG_CACHE_HOME: 'rel', HOME: '/h' }), { dir: '/h/.cache/sbx/code', base: '/h/.cache' });
});

const sealed = (text: string): Buffer => sealCache(Buffer.from(text))!;

test('a private file in a private dir is read back', () => {
  const d = privateDir();
  writeFileSync(join(d, 'f'), sealed('bytes'), { mode: 0o600 });
  assert.is(readCache(join(d, 'f'), d)?.data.toString(), 'bytes');
});

test('the cache is read into the room it is given when it fits (pages already touched), else into its own buffer', () => {
  const d = privateDir();
  writeFileSync(join(d, 'f'), sealed('bytes'), { mode: 0o600 });
  const room = Buffer.alloc(16, 'x');
  const b = readCache(join(d, 'f'), d, room)!.data;
  assert.is(b.toString(), 'bytes');
  assert.ok(b.buffer === room.buffer && b.byteOffset === room.byteOffset, 'read into the room');
  const small = Buffer.alloc(3, 'x');
  const c = readCache(join(d, 'f'), d, small)!.data;
  assert.is(c.toString(), 'bytes');
  assert.is(small.toString(), 'xxx', 'a room too small is left alone');
});

test("a cache file is V8's data, its CRC-32 and a seal; one whose CRC-32 or seal does not hold is not used", () => {
  const data = Buffer.from('V8 data, as createCachedData gives it');
  const file = sealed(data.toString());
  assert.is(file.length, data.length + 8);
  assert.equal(file.subarray(0, data.length), data);
  assert.is(file.readUInt32LE(data.length), 0x829fb5ed, "zlib's CRC-32 of the data");
  assert.equal(unsealCache(file), { data, full: false });
  const full = sealCache(data, true)!;
  assert.equal(unsealCache(full), { data, full: true }, 'the mark of a cache written by a run that reached its later code');
  assert.equal(full.subarray(0, data.length + 4), file.subarray(0, data.length + 4));
  for (let at = 0; at < file.length; at++) {
    const bad = Buffer.from(file);
    bad[at]! ^= 0x01;
    assert.is(unsealCache(bad), undefined, `bit flipped at ${at}`);
    const badFull = Buffer.from(full);
    badFull[at]! ^= 0x01;
    assert.is(unsealCache(badFull), undefined, `bit flipped at ${at} (full)`);
  }
  assert.is(unsealCache(data), undefined, 'no trailer (a cache of an sbx before 2026-12-05)');
  assert.is(unsealCache(file.subarray(0, file.length - 1)), undefined, 'truncated');
  assert.is(unsealCache(Buffer.alloc(8)), undefined, 'zeros');
  assert.is(unsealCache(sealed('')), undefined, 'no data');
  const d = privateDir();
  writeFileSync(join(d, 'f'), data, { mode: 0o600 });
  assert.is(readCache(join(d, 'f'), d), undefined, 'read from a file: the same check');
  writeCache(join(d, 'g'), d, d, data);
  assert.equal(readFileSync(join(d, 'g')), file, 'written sealed');
});

test('a file others can write, or in a dir others can write, or a symlink, is not used', () => {
  const d = privateDir();
  writeFileSync(join(d, 'f'), 'bytes', { mode: 0o600 });
  chmodSync(join(d, 'f'), 0o620);
  assert.is(readCache(join(d, 'f'), d), undefined);
  chmodSync(join(d, 'f'), 0o600);
  chmodSync(d, 0o702);
  assert.is(readCache(join(d, 'f'), d), undefined);
  chmodSync(d, 0o700);
  symlinkSync(join(d, 'f'), join(d, 'link'));
  assert.is(readCache(join(d, 'link'), d), undefined);
});

testUnless(IS_ROOT ? null : 'needs root to make files of another user')("another user's file or dir is not used, and nothing is written below another user's cache dir", () => {
  const d = privateDir();
  writeFileSync(join(d, 'f'), 'bytes', { mode: 0o600 });
  chownSync(join(d, 'f'), 65534, 65534);
  assert.is(readCache(join(d, 'f'), d), undefined);
  chownSync(join(d, 'f'), 0, 0);
  chownSync(d, 65534, 65534);
  assert.is(readCache(join(d, 'f'), d), undefined);
  // A cache base of another user's (sudo keeping HOME): no dir or file of ours appears there.
  const base = privateDir();
  chownSync(base, 65534, 65534);
  writeCache(join(base, 'sbx', 'code', 'x.v8'), join(base, 'sbx', 'code'), base, Buffer.from('x'));
  assert.equal(readdirSync(base), []);
});

test('written atomically as a private file in a private dir; no temporary file left', () => {
  const base = privateDir();
  const dir = join(base, 'sbx', 'code');
  writeCache(join(dir, 'x.v8'), dir, base, Buffer.from('data'));
  assert.equal(readdirSync(dir), ['x.v8']);
  assert.is(statSync(join(dir, 'x.v8')).mode & 0o777, 0o600);
  assert.is(statSync(dir).mode & 0o777, 0o700);
  assert.is(readCache(join(dir, 'x.v8'), dir)?.data.toString(), 'data');
});

test("writing a part's cache removes that part's older caches of the same install, and only those", () => {
  const base = privateDir();
  const dir = join(base, 'sbx', 'code');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const key = installKey('/opt/sbx/dist/bin');
  const old = `run-0123456789abcdef-${key}-v20.0.0-x64.v8`, unkeyed = 'run-0123456789abcdef-v20.0.0-x64.v8';
  const otherPart = `app-0123456789abcdef-${key}-v20.0.0-x64.v8`, otherInstall = `run-0123456789abcdef-${installKey('/home/u/sbx/dist/bin')}-v20.0.0-x64.v8`;
  for (const f of [old, unkeyed, otherPart, otherInstall, 'notes.txt']) writeFileSync(join(dir, f), 'x', { mode: 0o600 });
  const fresh = `run-fedcba9876543210-${key}-v20.1.0-x64.v8`;
  writeCache(join(dir, fresh), dir, base, Buffer.from('new'));
  assert.equal(readdirSync(dir).sort(), [otherPart, 'notes.txt', fresh, otherInstall].sort());
});

test("other installs' caches of a part are kept, the newest few: a removed checkout's do not stay forever", () => {
  const base = privateDir();
  const dir = join(base, 'sbx', 'code');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const names = [1, 2, 3, 4, 5].map((i) => `run-0123456789abcdef-${installKey(`/install${i}`)}-v20.0.0-x64.v8`);
  names.forEach((f, i) => {
    writeFileSync(join(dir, f), 'x', { mode: 0o600 });
    utimesSync(join(dir, f), 1000 + i, 1000 + i);
  });
  const mine = `run-0123456789abcdef-${installKey('/mine')}-v20.0.0-x64.v8`;
  writeCache(join(dir, mine), dir, base, Buffer.from('new'));
  // Mine and the three newest others: installs 1 and 2 (the oldest) are evicted.
  assert.equal(readdirSync(dir).sort(), [mine, ...names.slice(2)].sort());
});

test('install keys differ between dirs and are stable', () => {
  assert.is(installKey('/a/dist/bin'), installKey('/a/dist/bin'));
  assert.is.not(installKey('/a/dist/bin'), installKey('/b/dist/bin'));
  assert.match(installKey(''), /^[0-9a-f]{8}$/);
});

test('the shipped entry writes the cache of the part it ran, then runs from it; a corrupt cache is replaced', () => {
  const base = privateDir();
  const env = { XDG_CACHE_HOME: base };
  const first = sbx(['--version'], { store: join(work, 'store'), env });
  assert.is(first.code, 0, first.stderr);
  const dir = join(base, 'sbx', 'code');
  const files = readdirSync(dir);
  assert.is(files.length, 1);
  assert.match(files[0]!, new RegExp(`^version-[0-9a-f]{16}-${installKey(dirname(SBX))}-${process.version.replace(/\./g, '\\.')}-${process.arch}\\.v8$`));
  const size = statSync(join(dir, files[0]!)).size;
  assert.ok(size > 0);
  const second = sbx(['--version'], { store: join(work, 'store'), env });
  assert.is(second.stdout, first.stdout);
  writeFileSync(join(dir, files[0]!), 'not V8 bytecode');
  const third = sbx(['--version'], { store: join(work, 'store'), env });
  assert.is(third.stdout, first.stdout);
  assert.is(statSync(join(dir, files[0]!)).size, size);
});

test("a cache damaged past V8's header is not run (it crashed every start: SIGTRAP, exit 133) but compiled afresh and replaced", () => {
  const base = privateDir();
  const env = { XDG_CACHE_HOME: base };
  const store = join(work, 'store');
  const r = (args: string[]) => sbx(args, { store, env });
  // The run part: a big cache whose payload the damage reaches. Its first run compiles the
  // seccomp policy into the same cache dir and writes no code cache (worthCaching): two runs.
  for (let i = 0; i < 2; i++) {
    const first = r(['run', '-n', '-q', '--', 'echo', 'ok']);
    assert.is(first.code, 0, first.stderr);
  }
  const dir = join(base, 'sbx', 'code');
  const [file] = readdirSync(dir).filter((f) => /^(quiet|run)-/.test(f));
  assert.ok(file, readdirSync(dir).join(' '));
  const good = readFileSync(join(dir, file!));
  assert.ok(good.length > 4096, `${good.length} bytes`);
  const bad = Buffer.from(good);
  // Past V8's header (its own checks); 64 bytes every ~1 KB, the trailer left as written.
  for (let at = 512; at < bad.length - 8; at += 1021) for (let k = 0; k < 64 && at + k < bad.length - 8; k++) bad[at + k]! ^= 0xff;
  writeFileSync(join(dir, file!), bad);
  const second = r(['run', '-n', '-q', '--', 'echo', 'ok']);
  assert.is(second.code, 0, `${second.code} ${second.stderr.slice(0, 400)}`);
  assert.is(second.stdout, 'ok\n');
  const now = readFileSync(join(dir, file!));
  assert.ok(unsealCache(now), 'written again, sealed');
  assert.not.equal(now, bad);
});

test("a run loads the review's part only when it reviews; the run part's cache holds what the review ran of it once a run reviewed, written again once, then kept", () => {
  const store = join(work, 'store');
  const base = privateDir();
  const dir = join(base, 'sbx', 'code');
  const run = (cmd: string[]): void => {
    const r = sbx(['run', '-n', '--', ...cmd], { store, env: { XDG_CACHE_HOME: base } });
    assert.is(r.code, 0, r.stderr);
  };
  const cache = (part: string): { size: number; ino: number; full: boolean } | undefined => {
    const file = readdirSync(dir).find((f) => f.startsWith(`${part}-`));
    if (!file) return undefined;
    const st = statSync(join(dir, file));
    return { size: st.size, ino: st.ino, full: !!unsealCache(readFileSync(join(dir, file)))?.full };
  };
  const changes = ['sh', '-c', 'echo x > /tmp/sbx-cache-probe; mkdir -p /tmp/sbx-cache-probe-d; echo y > /tmp/sbx-cache-probe-d/f'];
  // The first run compiles the seccomp policy and writes no code cache (worthCaching).
  run(['true']);
  run(['true']);
  const empty = cache('run');
  assert.ok(empty, readdirSync(dir).join(' '));
  // As root the empty sandbox ends before its review, without loading review.js; an ordinary
  // user's layers hold sbx's stand-ins, so every run of theirs reviews.
  if (process.getuid?.() === 0) {
    assert.is(empty!.full, false, 'an empty run reached the review');
    assert.is(cache('review'), undefined, 'an empty run loaded the review part');
  }
  run(['true']);
  assert.equal(cache('run'), empty, 'written again by a run that reached no further');
  run(changes);
  const reviewed = cache('run');
  const review = cache('review');
  assert.ok(review, `no cache of the review part: ${readdirSync(dir).join(' ')}`);
  assert.ok(reviewed!.full, 'not marked as holding what the review ran');
  if (!empty!.full) {
    assert.is.not(reviewed!.ino, empty!.ino, 'the cache of the empty run was kept');
    // With the functions of the modules both parts use that the review ran: 438 KB against 408 (2026-12-07).
    assert.ok(reviewed!.size > empty!.size, `the cache after a review: ${reviewed!.size} bytes, after an empty run: ${empty!.size}`);
  }
  run(changes);
  run(['true']);
  assert.equal(cache('run'), reviewed, 'written again by a later run');
  assert.equal(cache('review'), review, "the review part's cache written again by a later run");
});

test("two installs of sbx keep a cache each: V8 keeps the file name a cache was made under, so one install's stack traces named the other's files", () => {
  const base = privateDir();
  const env = { XDG_CACHE_HOME: base };
  const copy = join(work, 'copy', 'dist', 'bin');
  cpSync(dirname(SBX), copy, { recursive: true });
  const dir = join(base, 'sbx', 'code');
  for (const bin of [SBX, join(copy, 'sbx.js')]) {
    const r = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8', env: { ...process.env, ...env, SBX_HOME: join(work, 'store') } });
    assert.is(r.status, 0, r.stderr);
  }
  const files = readdirSync(dir);
  assert.is(files.length, 2, files.join(' '));
  for (const k of [installKey(dirname(SBX)), installKey(copy)]) assert.ok(files.some((f) => f.includes(`-${k}-`)), `${k}: ${files.join(' ')}`);
});

test('no part of the bundle uses import(): in a vm.Script it has no loader (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING)', () => {
  const bin = dirname(SBX);
  const parts = readdirSync(bin).filter((f) => f.endsWith('.js'));
  assert.ok(parts.length >= 2, parts.join(' '));
  for (const f of parts) assert.not.match(readFileSync(join(bin, f), 'utf8'), /\bimport\s*\(/, `${f} has a dynamic import`);
});

test('every part of the bundle is ASCII: one other character makes V8 hold the whole part as a two-byte string (slower to read and hash)', () => {
  const bin = dirname(SBX);
  for (const f of readdirSync(bin).filter((f) => f.endsWith('.js'))) {
    const at = readFileSync(join(bin, f)).findIndex((b) => b > 0x7f);
    assert.is(at, -1, `${f}: a non-ASCII byte at ${at}`);
  }
});

test('a cache dir sbx cannot look in (a file in its way) is no cache: the command still runs', () => {
  const file = join(work, 'not-a-dir');
  writeFileSync(file, 'x');
  const r = sbx(['--version'], { store: join(work, 'store'), env: { XDG_CACHE_HOME: file } });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^sbx /);
  assert.is(r.stderr, '');
});

test.run();
