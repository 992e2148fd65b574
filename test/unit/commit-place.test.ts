// The helper's place op (native/place.c via sandbox-core/commit/place.ts): the last conflict
// check, journal line and rename of each staged file, in C. Every test works in its own
// canary dir under /tmp.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync, utimesSync, openSync, closeSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { placeFiles, type PlaceItem } from '../../sandbox-core/commit/place.js';
import { toEntryStat } from '../../sandbox-core/changes/stat.js';
import { commitSandbox } from '../../sandbox-core/commit/index.js';
import { removeTree } from '../../sandbox-core/store.js';
import { makeFixture, markStarted, write, type Fixture } from './changes-fixture.js';
import { CANARY } from '../helpers/canary-name.js';

let dir: string;
test.before.each(() => { dir = mkdtempSync(join(tmpdir(), `${CANARY}place-`)); });
test.after.each(() => { removeTree(dir); });

const opts = { journalFd: null, createdMs: Date.now() + 60_000, syncEvery: 0 };
const stat = (p: string) => toEntryStat(lstatSync(p));
const item = (path: string, tmpName: string, expect: PlaceItem['expect'], step = 0): PlaceItem => ({ step, path, tmpName, expect });

test('placed over an absent name, over the same file the review saw, and over anything when told', () => {
  writeFileSync(join(dir, '.t0'), 'new 0');
  writeFileSync(join(dir, 'b'), 'old b');
  writeFileSync(join(dir, '.t1'), 'new 1');
  writeFileSync(join(dir, 'c'), 'old c');
  writeFileSync(join(dir, '.t2'), 'new 2');
  const r = placeFiles([item(join(dir, 'a'), '.t0', 'absent'), item(join(dir, 'b'), '.t1', stat(join(dir, 'b'))), item(join(dir, 'c'), '.t2', null)], opts);
  assert.equal(r.map((x) => x.kind), ['placed', 'placed', 'placed']);
  assert.is(readFileSync(join(dir, 'a'), 'utf8'), 'new 0');
  assert.is(readFileSync(join(dir, 'b'), 'utf8'), 'new 1');
  assert.is(readFileSync(join(dir, 'c'), 'utf8'), 'new 2');
  assert.equal(readdirSync(dir).sort(), ['a', 'b', 'c']);
});

test('conflicts are found in C: created, deleted, changed, changed after the start; the host keeps its file, the staged one is removed', () => {
  writeFileSync(join(dir, 'created'), 'host');
  writeFileSync(join(dir, 'gone'), 'x');
  const goneSt = stat(join(dir, 'gone'));
  writeFileSync(join(dir, 'changed'), 'before');
  const changedSt = stat(join(dir, 'changed'));
  writeFileSync(join(dir, 'changed'), 'after!');
  writeFileSync(join(dir, 'touched'), 'same');
  utimesSync(join(dir, 'touched'), 1000, 1000);
  const touchedSt = stat(join(dir, 'touched'));
  spawnSync('rm', [join(dir, 'gone')]);
  for (let i = 0; i < 4; i++) writeFileSync(join(dir, `.t${i}`), `staged ${i}`);
  const r = placeFiles([
    item(join(dir, 'created'), '.t0', 'absent'), item(join(dir, 'gone'), '.t1', goneSt),
    item(join(dir, 'changed'), '.t2', changedSt), item(join(dir, 'touched'), '.t3', touchedSt),
  ], { ...opts, createdMs: touchedSt.ctimeMs - 1 });
  assert.equal(r, [
    { kind: 'conflict', why: 'exists', errno: 0 }, { kind: 'conflict', why: 'gone', errno: 0 },
    { kind: 'conflict', why: 'differs', errno: 0 }, { kind: 'conflict', why: 'changed-after-start', errno: 0 },
  ]);
  assert.is(readFileSync(join(dir, 'created'), 'utf8'), 'host');
  assert.is(readFileSync(join(dir, 'changed'), 'utf8'), 'after!');
  assert.is(readFileSync(join(dir, 'touched'), 'utf8'), 'same');
  assert.not.ok(existsSync(join(dir, 'gone')));
  assert.equal(readdirSync(dir).filter((n) => n.startsWith('.t')), [], 'staged files removed');
});

test('a symlink in any component of the host path is refused, nothing is written through it', () => {
  mkdirSync(join(dir, 'real/sub'), { recursive: true });
  writeFileSync(join(dir, 'real/sub/.t'), 'staged');
  symlinkSync('real', join(dir, 'link'));
  symlinkSync(join(dir, 'real/sub'), join(dir, 'real/sublink'));
  const r = placeFiles([item(join(dir, 'link/sub/x'), '.t', null), item(join(dir, 'real/sublink/x'), '.t', 'absent')], opts);
  for (const x of r) {
    assert.is(x.kind, 'failed');
    if (x.kind === 'failed') { assert.is(x.step, 'parent'); assert.ok(x.errno === 40 || x.errno === 20, `ELOOP or ENOTDIR, got ${x.errno}`); }
  }
  assert.not.ok(existsSync(join(dir, 'real/sub/x')));
  assert.ok(existsSync(join(dir, 'real/sub/.t')), 'the staged file is left for the caller');
});

test('names that are not UTF-8 are placed byte for byte', () => {
  const name = Buffer.from([0x66, 0xff, 0x0a, 0xc3]);
  const sub = Buffer.concat([Buffer.from(dir + '/'), Buffer.from([0xfe, 0x64])]);
  mkdirSync(sub);
  writeFileSync(Buffer.concat([sub, Buffer.from('/.t')]), 'bytes');
  const path = Buffer.concat([sub, Buffer.from('/'), name]).toString('latin1');
  const r = placeFiles([item(path, '.t', 'absent')], opts);
  assert.equal(r, [{ kind: 'placed' }]);
  assert.is(readFileSync(Buffer.concat([sub, Buffer.from('/'), name]), 'utf8'), 'bytes');
});

test('a hard link stays one: the staged name that shares an inode is renamed, not copied', () => {
  writeFileSync(join(dir, 'first'), 'shared');
  linkSync(join(dir, 'first'), join(dir, '.t'));
  const r = placeFiles([item(join(dir, 'second'), '.t', 'absent')], opts);
  assert.equal(r, [{ kind: 'placed' }]);
  assert.is(lstatSync(join(dir, 'second')).ino, lstatSync(join(dir, 'first')).ino);
  assert.is(lstatSync(join(dir, 'second')).nlink, 2);
});

test('a path deeper than the open-file limit and than the kept chain of dirs is placed', () => {
  // A child with 128 fds at most: 600 levels cannot be held open at once.
  let p = dir;
  for (let i = 0; i < 600; i++) p += '/d';
  mkdirSync(p, { recursive: true });
  writeFileSync(join(p, '.t'), 'deep');
  const mod = pathToFileURL(join(process.cwd(), 'dist/sandbox-core/commit/place.js')).href;
  const script = `import { placeFiles } from ${JSON.stringify(mod)};
    const r = placeFiles([{ step: 0, path: ${JSON.stringify(join(p, 'x'))}, tmpName: '.t', expect: 'absent' }], { journalFd: null, createdMs: 0, syncEvery: 0 });
    process.stdout.write(JSON.stringify(r));`;
  const r = spawnSync('prlimit', ['--nofile=128:128', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), [{ kind: 'placed' }]);
  assert.is(readFileSync(join(p, 'x'), 'utf8'), 'deep');
});

test('journal lines: b before each rename, d after, in order, after what the caller wrote', () => {
  const jp = join(dir, 'journal');
  writeFileSync(jp, 'header\n');
  const fd = openSync(jp, 'a');
  try {
    for (let i = 0; i < 3; i++) writeFileSync(join(dir, `.t${i}`), String(i));
    writeFileSync(join(dir, 'f1'), 'host');
    const r = placeFiles([0, 1, 2].map((i) => item(join(dir, `f${i}`), `.t${i}`, 'absent', 10 + i)), { ...opts, journalFd: fd, syncEvery: 2 });
    assert.equal(r.map((x) => x.kind), ['placed', 'conflict', 'placed']);
  } finally { closeSync(fd); }
  assert.is(readFileSync(jp, 'utf8'), 'header\nb 10\nd 10\nb 12\nd 12\n');
});

let f: Fixture | null = null;
test.after.each(() => { f?.cleanup(); f = null; });

test('a commit SIGKILLed inside the place op (after a b line, before its rename) is finished by the next commit', async () => {
  f = makeFixture();
  const fx = f;
  markStarted(fx);
  // Steps: mkdir n (0), 1200 files (1..1200), n's metadata (1201): the kill comes after the
  // helper's first journal fdatasync (every 1000 renames).
  for (let i = 0; i < 1200; i++) write(join(fx.upper(), `n/f${String(i).padStart(4, '0')}`), `c ${i}\n`);
  const at = 1100;
  const mod = pathToFileURL(join(process.cwd(), 'dist/sandbox-core/commit/index.js')).href;
  const storeMod = pathToFileURL(join(process.cwd(), 'dist/sandbox-core/store.js')).href;
  const script = `import { commitSandbox } from ${JSON.stringify(mod)}; import { Store } from ${JSON.stringify(storeMod)};
    const s = new Store(${JSON.stringify(fx.store.root)}); const m = s.resolve(${JSON.stringify(fx.meta.id)});
    commitSandbox(s, m, { only: [], exclude: [], force: false, dryRun: false });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, SBX_TEST_COMMIT_PAUSE_AFTER: String(at) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d) => { err += d; if (err.includes(`paused at step ${at} in the helper`)) resolve(); });
    child.on('exit', () => reject(new Error(`child exited before pausing: ${err}`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const journal = readFileSync(join(fx.store.dirOf(fx.meta.id), 'commit.journal'), 'utf8');
  assert.ok(journal.includes(`\nb ${at}\n`), 'the helper wrote the b line before pausing');
  assert.ok(journal.includes(`\nd ${at - 1}\n`), 'and the d line of the step before');
  const n = join(fx.host, 'n');
  assert.ok(readdirSync(n).some((x) => x === `.sbx-${fx.meta.id}-${at}`), 'its staged file is still beside the target');
  assert.not.ok(existsSync(join(n, `f${String(at - 1).padStart(4, '0')}`)), 'and the target not yet renamed');
  const r = commitSandbox(fx.store, fx.meta, { only: [], exclude: [], force: false, dryRun: false });
  assert.ok(r.resumed);
  assert.equal(r.plan.conflicts, []);
  assert.equal(r.result?.conflicts, []);
  assert.ok(r.complete, JSON.stringify(r.result?.failed));
  const names = readdirSync(n);
  assert.is(names.length, 1200);
  assert.ok(names.every((x) => /^f\d{4}$/.test(x)));
  for (let i = 0; i < 1200; i += 97) assert.is(readFileSync(join(n, `f${String(i).padStart(4, '0')}`), 'utf8'), `c ${i}\n`);
});

test.run();
