// The change list decoded while the helper still walks (scanSandboxAsync, walk.ts's decoder):
// records arrive cut at any byte, and the result must be exactly the one-piece scan's, on a
// tree with every kind of hostile entry.
// sbx-test: host-free (the helper scans fixture trees in its TMPDIR).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, symlinkSync, writeFileSync, linkSync, truncateSync, openSync, closeSync, utimesSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { helperPath } from '../../sandbox-core/helper.js';
import { join } from 'node:path';
import { makeFixture, whiteout, opaque, setXattr, copyUp, write, type Fixture } from './changes-fixture.js';
import { scanSandbox, scanSandboxAsync } from '../../sandbox-core/changes/scan.js';
import { decodeAnswer, scanAnswer, walkUppers, type UpperEntry, type WalkOptions } from '../../sandbox-core/changes/walk.js';
import type { Change, EntryStat } from '../../sandbox-core/changes/types.js';
import { NamedChanges } from '../../sandbox-core/changes/named.js';
import { renderDiffs, renderStat, renderSummary, countLine, writeDiffs, summaryPlan, writeNameOnly } from '../../cli/render-changes.js';
import { summaryMarker } from '../../cli/summary-marker.js';
import pc from 'picocolors';
import { structuredPatch } from 'diff';
import { display, isPlainBytes } from '../../sandbox-core/base/bpath.js';

let f: Fixture;
test.before.each(() => { f = makeFixture(); });
test.after.each(() => { f.cleanup(); });

/** A layer with one of everything the decoder meets, and a fuse layer beside it. */
function hostileTree(): void {
  const u = f.upper();
  write(join(f.host, 'mod.txt'), 'abcd\n');
  write(join(f.host, 'gone'), 'g');
  write(join(f.host, 'op/hidden'), 'h');
  write(join(f.host, 'xa'), 'x');
  write(join(f.host, 'fz/old'), 'o');
  copyUp(join(f.host, 'mod.txt'), join(u, 'mod.txt'));
  writeFileSync(join(u, 'mod.txt'), 'abce\nmore\n');
  copyUp(join(f.host, 'xa'), join(u, 'xa'));
  setXattr(join(u, 'xa'), 'user.note', Buffer.from([0, 1, 2, 0xff]));
  whiteout(join(u, 'gone'));
  mkdirSync(join(u, 'op'));
  opaque(join(u, 'op'));
  write(join(u, 'op/new'), 'n');
  // Names are bytes: invalid UTF-8, escapes, a newline, the longest name.
  writeFileSync(Buffer.concat([Buffer.from(u + '/bad'), Buffer.from([0xff, 0x1b]), Buffer.from('[31m')]), 'text\n');
  write(join(u, 'new\nline'), 'nl\n');
  write(join(u, 'sudo '), 'a blank at the end\n');
  write(join(u, 'n'.repeat(255)), 'long name\n');
  symlinkSync('/etc/passwd', join(u, 'link'));
  write(join(u, 'h1'), 'linked\n');
  linkSync(join(u, 'h1'), join(u, 'h2'));
  write(join(u, 'bin.dat'), Buffer.from([0, 1, 2, 3]));
  write(join(u, 'noeol'), 'a\nb');
  // Deep: a record for each level, far more levels than one piece holds.
  let d = join(u, 'deep');
  for (let i = 0; i < 60; i++) d = join(d, `level-${i}`);
  write(join(d, 'bottom'), 'bottom\n');
  for (let i = 0; i < 300; i++) write(join(u, 'many', `f${i}`), `file ${i}\n`);
  const fz = f.addLayer(join(f.host, 'fz'), 'fuse');
  writeFileSync(join(fz, '.wh.old'), '');
  write(join(fz, 'added'), 'a\n');
}

/** The fields of a stat, whether read from the helper's records or from lstat. */
function plainStat(s: EntryStat): EntryStat {
  const j = (s as Partial<{ toJSON(): EntryStat }>).toJSON;
  // Not the access time: reading a file that is not the user's moves it (relatime; scan.c
  // opens new files with O_NOATIME, which such a file refuses).
  const { atimeMs: _a, ...rest } = j ? j.call(s) : s;
  return rest as EntryStat;
}

/** A change with its stats as plain fields and Buffers as hex, for a deep comparison. */
function plain(c: Change): Record<string, unknown> {
  const st = (s: EntryStat | undefined) => (s ? plainStat(s) : undefined);
  return {
    ...c, up: st(c.up), host: st(c.host), newText: c.newText?.toString('hex'),
    xattrs: c.xattrs?.map(([n, v]) => [n, v.toString('hex')]),
  };
}

function plainEntry(e: UpperEntry): Record<string, unknown> {
  const st = (s: EntryStat | null) => (s ? plainStat(s) : null);
  return {
    ...e, up: st(e.up), host0: st(e.host0), text: Buffer.isBuffer(e.text) ? e.text.toString('hex') : e.text,
    xattrs: e.xattrs.map(([n, v]) => [n, v.toString('hex')]), hostXattrs: e.hostXattrs.map(([n, v]) => [n, v.toString('hex')]),
  };
}

const MODES: Array<Omit<WalkOptions, 'progress'>> = [{}, { fewXattrs: true }, { fewXattrs: true, countLinesUpTo: 1 << 20 }, { readNewUpTo: 1 << 20 }, { namesOnly: true }];

test('an answer cut into pieces of any size decodes to the same entries as in one piece', () => {
  hostileTree();
  for (const opts of MODES) {
    const whole = scanAnswer(f.meta, opts)!;
    const once = walkUppers(f.meta, opts);
    assert.ok(once.entries.length + (once.named?.length ?? 0) > 350, 'the fixture has its entries');
    // (A names-only answer is a name per new file: far shorter.)
    assert.ok(whole.length > (opts.namesOnly ? 5000 : 40000), 'the answer spans several of the largest pieces');
    const want = once.entries.map(plainEntry);
    // Past 4 KiB a cut record is completed from the front of the next piece, which is then
    // decoded in place (walk.ts feed).
    for (const size of [1, 2, 3, 7, 64, 1000, 4096, 5000, 10007, 30000]) {
      const pieces: Buffer[] = [];
      for (let o = 0; o < whole.length; o += size) pieces.push(whole.subarray(o, o + size));
      const got = decodeAnswer(f.meta, opts, pieces);
      assert.equal(got.entries.map(plainEntry), want, `pieces of ${size} bytes, ${JSON.stringify(opts)}`);
      assert.equal([...(got.named?.paths() ?? [])], [...(once.named?.paths() ?? [])], `names, pieces of ${size} bytes`);
      assert.equal(got.errors, once.errors);
      assert.ok(Object.is(got.layerBytes, once.layerBytes));
    }
  }
});

test('the full review\'s plain new files, read straight from their records (walk.ts columnRecord), in pieces of any size: the object scan\'s changes', async () => {
  // One layer (no other layer inside it, nothing hidden): runs of plain new files that
  // decodeFrom takes by its short path, broken by every kind of entry it must leave to record().
  const u = f.upper();
  write(join(f.host, 'have/file'), 'host\n');
  for (const d of ['a', 'b/c', 'have']) {
    for (let i = 0; i < 40; i++) write(join(u, d, `f${String(i).padStart(2, '0')}`), i % 7 ? `line ${i}\nsecond\n` : '');
  }
  write(join(u, 'have/file'), 'changed\n');
  write(join(u, 'a/f05x'), 'x\n');
  setXattr(join(u, 'a/f05x'), 'user.note', 'n');
  write(join(u, 'a/f10a'), 'linked\n');
  linkSync(join(u, 'a/f10a'), join(u, 'a/f10b'));
  symlinkSync('f01', join(u, 'a/f15l'));
  mkdirSync(join(u, 'a/f20d'));
  write(join(u, 'a/f20d/inner'), 'in\n');
  write(join(u, 'a/f25bin'), Buffer.from([0, 1, 2]));
  write(join(u, 'a/f26latin1'), Buffer.from([0x61, 0xe9, 0x0a]));
  write(join(u, 'a/f27big'), Buffer.alloc((1 << 20) + 1, 0x61));
  writeFileSync(Buffer.concat([Buffer.from(`${u}/b/c/f30`), Buffer.from([0xff, 0x1b])]), 'bytes\n');
  const opts = { readNewUpTo: 1 << 20, columns: true };
  const objects = await scanSandboxAsync(f.meta, { readNewUpTo: 1 << 20 });
  const once = walkUppers(f.meta, opts);
  assert.ok(once.named!.length > 110, `${once.named!.length} new files as columns`);
  const whole = scanAnswer(f.meta, opts)!;
  const byPath = new Map(objects.changes.map((c) => [c.path, c]));
  for (const size of [1, 3, 7, 64, 200, 1000, 4096, 30000, whole.length]) {
    const pieces: Buffer[] = [];
    for (let o = 0; o < whole.length; o += size) pieces.push(whole.subarray(o, o + size));
    const got = decodeAnswer(f.meta, opts, pieces);
    assert.equal(got.entries.map(plainEntry), once.entries.map(plainEntry), `pieces of ${size} bytes`);
    assert.equal(got.errors, objects.errors);
    assert.is(got.layerBytes, objects.layerBytes);
    const named = got.named!;
    assert.equal([...named.paths()], [...once.named!.paths()]);
    for (let j = 0; j < named.length; j++) {
      const c = named.changeAt(j);
      const o = byPath.get(c.path)!;
      assert.equal({ ...c, up: undefined, newText: c.newText?.toString('hex') }, { ...o, up: undefined, newText: o.newText?.toString('hex') }, `${display(c.path)}, pieces of ${size} bytes`);
      for (const k of ['type', 'perm', 'size', 'blocks', 'nlink'] as const) assert.is(c.up![k], o.up![k], `${display(c.path)} ${k}`);
    }
  }
});

test('a scan that reads new files (through one open fd each) reports the same stats and xattrs as one that does not', () => {
  hostileTree();
  // An ACL-like xattr on a new file: read through the open file.
  setXattr(join(f.upper(), 'noeol'), 'user.new', Buffer.from([9, 8, 7]));
  const bare = (e: UpperEntry) => { const { lines: _l, text: _t, ...rest } = plainEntry(e); return rest; };
  const want = walkUppers(f.meta, {}).entries.map(bare);
  assert.is((want.find((e) => String(e.host).endsWith('/noeol'))!.xattrs as unknown[]).length, 1);
  for (const opts of [{ readNewUpTo: 1 << 20 }, { countLinesUpTo: 1 << 20 }]) {
    assert.equal(walkUppers(f.meta, opts).entries.map(bare), want, JSON.stringify(opts));
  }
});

/** `sbx-helper scan` of layer 0 with these flag words, under `ulimit -n limit`: its answer. */
function helperScan(words: number[], limit: number): Buffer {
  const flags = Buffer.alloc(4 * words.length);
  words.forEach((w, i) => flags.writeUInt32LE(w, 4 * i));
  const input = Buffer.concat([Buffer.from(`${f.meta.layers[0]!.dir}/upper\0${f.host.slice(1)}\0`), flags]);
  const fds = [openSync(f.meta.layersDir, 'r'), openSync('/', 'r')];
  try {
    const r = spawnSync('sh', ['-c', `ulimit -n ${limit} && exec "$0" scan`, helperPath()], { input, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe', ...fds] });
    assert.is(r.status, 0, String(r.stderr));
    return r.stdout;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/** The review's request (flag 8: each new file opened, its text sent), as walk.ts sends it. */
const REVIEW = [8, 1 << 20, 64 * 2 ** 20];

test('a review scan with fewer fds than a batch of new files held open (scan.c closes them in batches): the same answer', () => {
  // Shallow (a deep tree needs an fd per level to be walked at all with so few), 300 files.
  for (let i = 0; i < 300; i++) write(join(f.upper(), 'many', `f${i}`), `file ${i}\n`);
  write(join(f.upper(), 'top.txt'), 'top\n');
  // The first read of each file moves its access time (relatime), which the answer holds.
  helperScan(REVIEW, 1024);
  const whole = helperScan(REVIEW, 1024);
  assert.ok(whole.includes(Buffer.from('file 299\n')), 'the files\' text is sent');
  // `many` holds 300 files: far more than 16 fds, so the batch meets EMFILE and is closed.
  assert.ok(helperScan(REVIEW, 16).equals(whole));
});

test('the scan made by two threads (windows of a directory\'s files) is the answer one thread makes, for every request', () => {
  hostileTree();
  const u = f.upper();
  // Windows cut by subdirectories, larger than a window, files past the read-ahead size (read
  // when written), binary, empty and invalid UTF-8 files, and a text budget spent mid-window.
  for (let d = 0; d < 3; d++) {
    for (let i = 0; i < 300; i++) write(join(u, `w${d}`, `f${String(i).padStart(3, '0')}`), i % 50 === 7 ? Buffer.alloc(70000 + i, 0x61) : i % 50 === 9 ? Buffer.from([1, 0, 2]) : i % 50 === 11 ? '' : i % 50 === 13 ? Buffer.from([0xc3, 0x28]) : `file ${d} ${i}\n`.repeat(1 + (i % 5)));
    mkdirSync(join(u, `w${d}`, 'f150-sub'));
    write(join(u, `w${d}`, 'f150-sub', 'inner'), 'inner\n');
  }
  for (let i = 0; i < 200; i++) write(join(f.host, 'w1', `f${String(i).padStart(3, '0')}`), 'host side\n');
  const requests = [REVIEW, [8, 1 << 20, 400000], [8, 1 << 20, 5000], [8, 60000, 64 * 2 ** 20], [4, 1 << 20], [4 | 16 | 2, 1 << 20], [4 | 8, 1 << 20, 300000]];
  for (const words of requests) helperScan(words, 4096); // access times settled
  for (const words of requests) {
    // Below 896 fds the helper walks with one thread (scan.c, pool_start).
    const one = helperScan(words, 512);
    assert.ok(helperScan(words, 4096).equals(one), JSON.stringify(words));
  }
  assert.ok(helperScan([8, 1 << 20, 5000], 4096).includes(Buffer.from([0xfd, 0xff, 0xff, 0xff])), 'the small budget is spent: -3 records');
});

// (An answer cut between two records is caught by the helper's exit status: it exits 0 only
// once the whole answer is written.)
test('an answer cut inside a record is an error, never a shorter list', () => {
  write(join(f.upper(), 'a'), 'a\n');
  write(join(f.upper(), 'b'), 'b\n');
  const whole = scanAnswer(f.meta)!;
  for (const cut of [1, 3, 8, 40, whole.length - 1]) {
    assert.throws(() => decodeAnswer(f.meta, {}, [whole.subarray(0, cut)]), /malformed answer/, `cut at ${cut}`);
  }
});

test('scanSandboxAsync gives exactly scanSandbox\'s change list, errors and links', async () => {
  hostileTree();
  for (const opts of MODES) {
    const a = scanSandbox(f.meta, opts);
    const b = await scanSandboxAsync(f.meta, opts);
    assert.equal(b.changes.map(plain), a.changes.map(plain));
    assert.equal([...(b.named?.paths() ?? [])], [...(a.named?.paths() ?? [])]);
    assert.equal(b.errors, a.errors);
    assert.equal([...b.links], [...a.links]);
    assert.ok(Object.is(b.layerBytes, a.layerBytes));
  }
  const kinds = Object.fromEntries((await scanSandboxAsync(f.meta)).changes
    .filter((c) => !c.path.includes('/many/') && !c.path.includes('/deep/'))
    .map((c) => [display(c.path.slice(f.host.length)), c.change]));
  assert.equal(kinds, {
    '/bad\\xff\\x1b[31m': 'added', '/bin.dat': 'added', '/deep': 'added', '/fz/added': 'added', '/fz/old': 'deleted', '/gone': 'deleted',
    '/h1': 'added', '/h2': 'added', '/link': 'added', '/many': 'added', '/mod.txt': 'modified', [`/${'n'.repeat(255)}`]: 'added',
    '/new\\nline': 'added', '/noeol': 'added', '/op': 'replaced', '/op/hidden': 'deleted', '/op/new': 'added', '/sudo\\x20': 'added', '/xa': 'metadata',
  });
});

test('--name-only bytes: every path escaped as display() shows it, one per line, in pieces', async () => {
  hostileTree();
  const { changes } = scanSandbox(f.meta);
  const pieces: Buffer[] = [];
  await writeNameOnly(changes, (b) => { pieces.push(Buffer.from(b)); });
  const text = Buffer.concat(pieces).toString('utf8');
  assert.is(text, changes.map((c) => `${display(c.path)}\n`).join(''));
  assert.not.ok(/[\x00-\x09\x0b-\x1f\x7f]/.test(text), 'no control character but the newlines');
  assert.is(text.split('\n').length - 1, changes.length);
});

/** Every path of a scan in path order, the names-only scan's column list merged in. */
function allPaths(r: { changes: Change[]; named?: { paths(): Iterable<string> } }): string[] {
  return [...r.changes.map((c) => c.path), ...(r.named ? r.named.paths() : [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

test('names-only scan: the same paths and kinds as a full scan; the new files by name, with no stat', async () => {
  hostileTree();
  // Preorder is not path order here ("p/a" < "p/a-b" < "p/a.txt" < "p/a/x"), and some names
  // the host also has, so the helper reads them whole.
  for (const p of ['p/a/x', 'p/a-b', 'p/a.txt']) write(join(f.upper(), p), 'x\n');
  write(join(f.host, 'p/b'), 'x\n');
  copyUp(join(f.host, 'p/b'), join(f.upper(), 'p/b'));
  write(join(f.host, 'gone2'), 'g');
  write(join(f.upper(), 'gone2'), '');
  setXattr(join(f.upper(), 'gone2'), 'user.overlay.whiteout', 'y');
  const full = scanSandbox(f.meta, { fewXattrs: true });
  const names = await scanSandboxAsync(f.meta, { namesOnly: true });
  assert.equal(allPaths(names), full.changes.map((c) => c.path));
  assert.equal(names.errors, full.errors);
  const kinds = new Map(full.changes.map((c) => [c.path, `${c.change} ${c.type}`]));
  for (const c of names.changes) assert.is(`${c.change} ${c.type}`, kinds.get(c.path), display(c.path));
  // Every new regular file the host lacks came as a name alone, and is an added file.
  const named = [...names.named!.paths()];
  assert.ok(named.length > 300, `${named.length} files by name`);
  for (const p of named) assert.is(kinds.get(p), 'added file', display(p));
  assert.equal(named.filter((p) => p.startsWith(join(f.host, 'p/'))).map((p) => p.slice(f.host.length)), ['/p/a-b', '/p/a.txt', '/p/a/x']);
  // What the host also has was stat'ed and compared as in a full scan.
  const mod = names.changes.find((c) => c.path === join(f.host, 'mod.txt'))!;
  assert.is(mod.change, 'modified');
  assert.is(mod.size, 10);
  assert.is(names.changes.find((c) => c.path === join(f.host, 'gone2'))?.change, 'deleted');
  assert.not.ok(names.changes.some((c) => c.path === join(f.host, 'p/b')), 'an unchanged copy is no change');
  // A symlink the host lacks comes by name too, and still gets its target.
  assert.is(names.changes.find((c) => c.path === join(f.host, 'link'))?.target, '/etc/passwd');
  // --name-only prints the merged list exactly as the full list, each path through display().
  const pieces: Buffer[] = [];
  await writeNameOnly(names.changes, (b) => { pieces.push(Buffer.from(b)); }, names.named);
  assert.is(Buffer.concat(pieces).toString('utf8'), full.changes.map((c) => `${display(c.path)}\n`).join(''));
});

test('--stat of a names-only scan (lines and sizes from the helper, by name) is the full scan\'s', async () => {
  hostileTree();
  // Binary, empty, no final newline, larger than the cap, and a non-UTF-8 name.
  write(join(f.upper(), 'z/bin'), Buffer.from([1, 0, 2]));
  write(join(f.upper(), 'z/empty'), '');
  write(join(f.upper(), 'z/big'), Buffer.alloc(2 << 20, 0x61));
  writeFileSync(Buffer.concat([Buffer.from(`${f.upper()}/z/`), Buffer.from([0xe9, 0x0a])]), 'a\nb\nc');
  const id = (x: string) => x;
  const col = { green: id, red: id, yellow: id, cyan: id, magenta: id, dim: id, bold: id };
  const full = await scanSandboxAsync(f.meta, { fewXattrs: true, countLinesUpTo: 1 << 20 });
  const names = await scanSandboxAsync(f.meta, { namesOnly: true, countLinesUpTo: 1 << 20 });
  assert.ok(names.named!.length > 300);
  const want = await renderStat(full.changes, col);
  assert.is(await renderStat(names.changes, col, names.named), want);
  assert.match(want, new RegExp(`${display(join(f.host, 'z/big'))} +\\| Bin 0 -> ${2 << 20} bytes\n`));
  assert.match(want, new RegExp(`${display(join(f.host, 'z/'))}\\\\xe9\\\\n +\\| \\+3 -0\n`));
});

test('names-only with --only/--exclude and PATHs: the column list is filtered like the rest', () => {
  hostileTree();
  const opts = { only: ['/**/many/**', '**/bad*', '/**/nothing-*'], exclude: ['**/f1*'], paths: [f.host] };
  const full = scanSandbox(f.meta, opts);
  const names = scanSandbox(f.meta, { ...opts, namesOnly: true });
  assert.equal(allPaths(names), full.changes.map((c) => c.path));
  assert.ok(full.changes.length > 100 && full.changes.length < 300);
  assert.equal(names.unmatched, full.unmatched);
  assert.is(names.unmatched!.length, 1);
});

test('a name --name-only copies as bytes is one display() leaves as it is, and only such', () => {
  for (let c = 0; c < 256; c++) {
    for (const p of [`/dir/a${String.fromCharCode(c)}b`, `/dir/a${String.fromCharCode(c)}`]) {
      assert.is(isPlainBytes(Buffer.from(p, 'latin1'), 0, p.length), display(p) === p, `byte ${c} in ${JSON.stringify(p)}`);
    }
  }
});

test('names-only: a directory\'s new files come as one run of names (M), and every byte of a name prints as display() shows it', async () => {
  hostileTree();
  // A name with each byte a name can hold, between plain names of the same directory: the
  // run is written a stretch of plain names at a time (named.ts writeLines).
  const dir = join(f.upper(), 'bytes');
  mkdirSync(dir);
  for (let c = 1; c < 256; c++) {
    if (c === 0x2f) continue;
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/a`), Buffer.from([c]), Buffer.from('z')]), '');
    writeFileSync(`${dir}/a${c.toString(16).padStart(2, '0')}`, '');
  }
  const whole = scanAnswer(f.meta, { namesOnly: true })!;
  // many/f0, f1, f10, f100, ... one after the other, each ended by a 0 byte: no record per name.
  assert.ok(whole.includes(Buffer.from('f0\0f1\0f10\0f100\0f101\0')), 'a run of names');
  const full = scanSandbox(f.meta, { fewXattrs: true });
  const names = await scanSandboxAsync(f.meta, { namesOnly: true });
  assert.ok(names.named!.length > 800);
  assert.equal(allPaths(names), full.changes.map((c) => c.path));
  const pieces: Buffer[] = [];
  await writeNameOnly(names.changes, (b) => { pieces.push(Buffer.from(b)); }, names.named);
  assert.is(Buffer.concat(pieces).toString('utf8'), full.changes.map((c) => `${display(c.path)}\n`).join(''));
  // One buffer for every piece (the list part's writes to fd 1): the same bytes.
  const again: Buffer[] = [];
  await writeNameOnly(names.changes, (b) => { again.push(Buffer.from(b)); }, names.named, true);
  assert.equal(Buffer.concat(again), Buffer.concat(pieces));
});

test('--name-only of more than one piece (1 MiB) of paths', async () => {
  const many: Change[] = [];
  for (let i = 0; i < 40000; i++) many.push({ path: `/some/long/directory/name/for/the/test/${'x'.repeat(i % 7)}file-${i}\x1b`, change: 'added', type: 'file', size: 0 });
  const pieces: Buffer[] = [];
  await writeNameOnly(many, (b) => { pieces.push(Buffer.from(b)); });
  assert.ok(pieces.length > 1);
  assert.is(Buffer.concat(pieces).toString('utf8'), many.map((c) => `${display(c.path)}\n`).join(''));
});

test('sbx diff\'s diffs: a modified file through jsdiff, new files without it, in one text', async () => {
  hostileTree();
  const { changes } = await scanSandboxAsync(f.meta, { readNewUpTo: 1 << 20 });
  const id = (x: string) => x;
  const col = { green: id, red: id, yellow: id, cyan: id, magenta: id, dim: id, bold: id };
  const text = await renderDiffs(changes, col);
  const name = display(join(f.host, 'mod.txt'));
  const p = structuredPatch(name, name, 'abcd\n', 'abce\nmore\n', '', '', { context: 3 });
  const hunk = p.hunks.flatMap((h) => [`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`, ...h.lines]).join('\n');
  assert.ok(text.includes(`diff ${name} (modified)\n--- a${name}\n+++ b${name}\n${hunk}\n`), 'the modified file\'s hunk');
  assert.ok(text.includes(`diff ${display(join(f.host, 'noeol'))} (added)\n--- /dev/null\n+++ b${display(join(f.host, 'noeol'))}\n@@ -0,0 +1,2 @@\n+a\n+b\n\\ No newline at end of file\n`));
  assert.ok(text.includes(`Binary file: - → 4 B`), text.slice(0, 2000));
  // A new link's diff is its target (inside a new dir, that dir's line only counts it).
  assert.ok(text.includes(`diff ${display(join(f.host, 'link'))} (added)\nsymlink -> /etc/passwd\n`), text.slice(0, 2000));
  assert.is(text.split('\ndiff ').length, changes.filter((c) => (c.type === 'file' || c.type === 'symlink') && c.change !== 'metadata').length);
});

test('the full review finds a moved dir past more new files of its files\' sizes than it asks the time of, before it in path order', async () => {
  // `mv tree tree2` (mv copies a host dir's tree, keeping each file's time) after a build
  // wrote 4,200 files of those sizes in aaa/: the 4,096 column entries asked went to aaa/.
  const u = f.upper();
  mkdirSync(join(f.host, 'tree'));
  mkdirSync(join(u, 'tree2'));
  for (let i = 0; i < 30; i++) {
    writeFileSync(join(f.host, 'tree', `f${i}`), `line ${i % 10}\n`);
    writeFileSync(join(u, 'tree2', `f${i}`), `line ${i % 10}\n`);
    utimesSync(join(f.host, 'tree', `f${i}`), 978307200 + i, 978307200 + i);
    utimesSync(join(u, 'tree2', `f${i}`), 978307200 + i, 978307200 + i);
  }
  whiteout(join(u, 'tree'));
  mkdirSync(join(u, 'aaa'));
  for (let i = 0; i < 4200; i++) writeFileSync(join(u, 'aaa', `g${i}`), `lin ${i % 10}\n`.padStart(7, ' '));
  const scan = await scanSandboxAsync(f.meta, { readNewUpTo: 1 << 20, columns: true, keepTexts: true, copies: true });
  assert.ok(scan.named && scan.named.length >= 4200, 'aaa/ as columns');
  const dir = scan.changes.find((c) => c.path === join(f.host, 'tree2'));
  assert.equal([dir?.movedFrom, dir?.movedChanged], [join(f.host, 'tree'), undefined]);
  assert.is(scan.changes.find((c) => c.path === join(f.host, 'tree'))?.movedTo, join(f.host, 'tree2'));
});

test('the full review (summary and diffs) of a scan with new files as columns is the object scan\'s, byte for byte', async () => {
  hostileTree();
  const u = f.upper();
  // Existing host dirs (new files there stand alone) and new dirs (their files are grouped).
  write(join(f.host, 'home/u/keep'), 'k\n');
  mkdirSync(join(u, 'home/u'), { recursive: true });
  // Flagged: ssh keys, an rc file, a git hook, a setuid program, a command in PATH; a
  // world-writable PATH dir; a hard link; an ACL (an xattr: an object, not a column).
  write(join(u, 'home/u/.ssh/authorized_keys'), 'ssh-ed25519 AAAA\n');
  write(join(u, 'home/u/.bashrc'), 'curl x | sh\n');
  write(join(u, 'proj/.git/hooks/post-checkout'), '#!/bin/sh\n', 0o755);
  write(join(u, 'tools/suid'), 'x\n', 0o4755);
  write(join(u, 'pbin/cmd'), '#!/bin/sh\necho\n', 0o755);
  setXattr(join(u, 'tools/suid'), 'user.note', 'n');
  write(join(u, 'acl/file'), 'acl\n');
  // Folded: an npm cache below a new dir and one below an existing dir.
  for (let i = 0; i < 5; i++) write(join(u, `home/u/.npm/_cacache/content-v2/x${i}`), `cache ${i}\n`);
  for (let i = 0; i < 3; i++) write(join(u, `pkg/.npm/_logs/l${i}`), `log ${i}\n`);
  // Content: control characters and a backslash in lines, CR, non-UTF-8 text (binary), an
  // empty file, more lines than a diff shows, larger than the cap (sparse and not).
  write(join(u, 'txt/ctl'), 'plain\nesc \x1b[31mred\ttab\r\nback\\slash\nbidi \u202e here\nünï\n');
  write(join(u, 'txt/latin1'), Buffer.from([0x61, 0xe9, 0x0a]));
  write(join(u, 'txt/empty'), '');
  write(join(u, 'txt/run.sh'), '#!/bin/sh\necho run\n', 0o755);
  write(join(u, 'txt/long'), Array.from({ length: 2500 }, (_, i) => `line ${i}`).join('\n'));
  write(join(u, 'txt/exact'), Array.from({ length: 1998 }, (_, i) => `l${i}`).join('\n'));
  write(join(u, 'txt/big'), Buffer.alloc((1 << 20) + 1, 0x61));
  write(join(u, 'txt/sparse'), '');
  truncateSync(join(u, 'txt/sparse'), 3 * 2 ** 30);
  const path0 = process.env.PATH;
  process.env.PATH = `${path0}:${join(f.host, 'pbin')}`;
  try {
    const objects = await scanSandboxAsync(f.meta, { readNewUpTo: 1 << 20 });
    const columns = await scanSandboxAsync(f.meta, { readNewUpTo: 1 << 20, columns: true });
    assert.ok(columns.named!.length > 300, `${columns.named!.length} new files as columns`);
    assert.ok(columns.changes.length < objects.changes.length - 300);
    assert.equal(columns.errors, objects.errors);
    assert.is(columns.layerBytes, objects.layerBytes);
    assert.equal(allPaths(columns), objects.changes.map((c) => c.path));
    // Every column entry makes the Change the object scan made (stat fields it read aside).
    const byPath = new Map(objects.changes.map((c) => [c.path, c]));
    for (let j = 0; j < columns.named!.length; j++) {
      const c = columns.named!.changeAt(j);
      const o = byPath.get(c.path)!;
      assert.equal({ ...c, up: undefined, newText: c.newText?.toString('hex') }, { ...o, up: undefined, newText: o.newText?.toString('hex') }, display(c.path));
      for (const k of ['type', 'perm', 'size', 'blocks', 'nlink'] as const) assert.is(c.up![k], o.up![k], `${display(c.path)} ${k}`);
    }
    // The summary's rules asked while the helper walks (sbx diff): marks for the default view and --all.
    const marker = summaryMarker({}), markerAll = summaryMarker({ expand: true });
    const marked = await scanSandboxAsync(f.meta, { readNewUpTo: 1 << 20, columns: true, markColumn: marker.mark });
    const markedAll = await scanSandboxAsync(f.meta, { readNewUpTo: 1 << 20, columns: true, markColumn: markerAll.mark });
    const marks = new Set(Array.from({ length: marked.named!.length }, (_, j) => marked.named!.markAt(j)));
    assert.ok(marks.size >= 3, `plain, flagged and folded entries: marks ${[...marks]}`);
    const plainCol0 = pc.createColors(false);
    for (const col of [plainCol0, pc.createColors(true)]) {
      for (const opts of [{}, { expand: true }, { limit: 3 }]) {
        const want = countLine(objects.changes) + renderSummary(objects.changes, col, opts);
        assert.is(countLine(columns.changes, columns.named) + renderSummary(columns.changes, col, opts, columns.named), want);
        const m = 'expand' in opts ? { scan: markedAll, marker: markerAll } : { scan: marked, marker };
        assert.is(countLine(m.scan.changes, m.scan.named) + renderSummary(m.scan.changes, col, { ...opts, marker: m.marker }, m.scan.named), want, `marked, ${JSON.stringify(opts)}`);
        // Marks made for other options are not used (the summary asks its own rules).
        assert.is(countLine(marked.changes, marked.named) + renderSummary(marked.changes, col, { ...opts, marker: 'expand' in opts ? marker : markerAll }, marked.named), want);
      }
      const want = await renderDiffs(objects.changes, col);
      assert.is(await renderDiffs(columns.changes, col, columns.named), want);
      // A new program (a column entry when plain) says its mode in its header, either way.
      assert.ok(want.includes(`diff ${display(join(f.host, 'pbin/cmd'))} (added, mode 755)\n`), want.slice(0, 3000));
      assert.ok(want.includes(`diff ${display(join(f.host, 'txt/run.sh'))} (added, mode 755)\n`), want.slice(0, 3000));
      // In pieces to a slow writer: the same bytes.
      const pieces: Buffer[] = [];
      await writeDiffs(columns.changes, col, async (b) => { await new Promise((r) => setTimeout(r, 1)); pieces.push(b); }, columns.named);
      assert.is(Buffer.concat(pieces).toString('utf8'), want);
      // The texts copied out of the answer while the helper walks (sbx diff): the same bytes.
      const made = await scanSandboxAsync(f.meta, { readNewUpTo: 1 << 20, columns: true, keepTexts: true });
      const madeCount = Array.from({ length: made.named!.length }, (_, j) => made.named!.textPieceAt(j)).filter((t) => t).length;
      assert.ok(madeCount > 300, `${madeCount} texts kept during the walk`);
      assert.is(await renderDiffs(made.changes, col, made.named), want);
      const madePieces: Buffer[] = [];
      await writeDiffs(made.changes, col, async (b) => { await new Promise((r) => setTimeout(r, 1)); madePieces.push(b); }, made.named);
      assert.is(Buffer.concat(madePieces).toString('utf8'), want);
      // One buffer for every piece, each copied by the writer before it is written over.
      const copied: Buffer[] = [];
      const seen = new Set<ArrayBufferLike>();
      await writeDiffs(made.changes, col, (b) => { seen.add(b.buffer); copied.push(Buffer.from(b)); }, made.named, undefined, () => true);
      assert.is(Buffer.concat(copied).toString('utf8'), want);
      assert.ok(copied.length > 1 && seen.size < copied.length, `${copied.length} pieces in ${seen.size} buffers`);
      // Other colours: made from the same kept texts.
      const other = pc.createColors(col === plainCol0);
      assert.is(await renderDiffs(made.changes, other, made.named), await renderDiffs(objects.changes, other));
      // A narrowed list (filtered, copied) keeps the kept texts.
      const only = ['**/txt/**', '**/a/**'];
      const narrowed = await scanSandboxAsync(f.meta, { readNewUpTo: 1 << 20, columns: true, keepTexts: true, only });
      const wantNarrowed = await renderDiffs((await scanSandboxAsync(f.meta, { readNewUpTo: 1 << 20, only })).changes, col);
      assert.ok(Array.from({ length: narrowed.named!.length }, (_, j) => narrowed.named!.textPieceAt(j)).some((t) => t));
      assert.is(await renderDiffs(narrowed.changes, col, narrowed.named), wantNarrowed);
    }
    const plainCol = pc.createColors(false);
    const summary = renderSummary(columns.changes, plainCol, {}, columns.named);
    for (const flagged of ['.ssh/authorized_keys', '.bashrc', 'post-checkout', 'tools/suid', 'pbin/cmd']) assert.match(summary, new RegExp(`! added: .*${flagged.replace(/[.]/g, '\\.')}.*\\[! `), flagged);
    assert.match(summary, /in npm cache.*folded/);
    const diffs = await renderDiffs(columns.changes, plainCol, columns.named);
    assert.ok(diffs.includes('+esc \\x1b[31mred\\ttab\\r\n'), 'control characters escaped');
    assert.ok(diffs.includes('… diff cut after 2000 lines (+2500 -0 in all)'));
    assert.ok(diffs.includes('Large file: - → 3.0 GiB (0 B allocated)'), diffs.slice(diffs.indexOf('sparse') - 100, diffs.indexOf('sparse') + 200));
    // What the review picks by line: the same host paths for every item.
    const pick = (p: ReturnType<typeof summaryPlan>) => p.kinds.map((k) => k.items.map((it) => [it.label, it.paths()]));
    assert.equal(pick(summaryPlan(columns.changes, plainCol, {}, columns.named)), pick(summaryPlan(objects.changes, plainCol, {})));
    assert.equal(pick(summaryPlan(marked.changes, plainCol, { marker }, marked.named)), pick(summaryPlan(objects.changes, plainCol, {})));
    assert.equal(pick(summaryPlan(markedAll.changes, plainCol, { expand: true, marker: markerAll }, markedAll.named)), pick(summaryPlan(objects.changes, plainCol, { expand: true })));
  } finally {
    process.env.PATH = path0;
  }
});

test('the review\'s columns with --only/--exclude, PATHs and a helper order that is not path order: the object scan\'s output', async () => {
  hostileTree();
  // Preorder is not path order here ("p/a" < "p/a-b" < "p/a.txt" < "p/a/x"): the columns are sorted.
  for (const p of ['p/a/x', 'p/a-b', 'p/a.txt', 'p/a/y']) write(join(f.upper(), p), `${p}\n`);
  const col = pc.createColors(false);
  for (const opts of [{}, { only: ['/**/many/**', '/**/p/**', '**/bad*'], exclude: ['**/f1*'] }, { paths: [join(f.host, 'p')] }]) {
    const objects = await scanSandboxAsync(f.meta, { ...opts, readNewUpTo: 1 << 20 });
    const columns = await scanSandboxAsync(f.meta, { ...opts, readNewUpTo: 1 << 20, columns: true });
    assert.ok(columns.named!.length > 0);
    assert.equal(allPaths(columns), objects.changes.map((c) => c.path), JSON.stringify(opts));
    assert.equal(columns.unmatched, objects.unmatched);
    assert.is(renderSummary(columns.changes, col, {}, columns.named), renderSummary(objects.changes, col, {}));
    assert.is(await renderDiffs(columns.changes, col, columns.named), await renderDiffs(objects.changes, col));
    // Marks follow their entries through the filter and the sort.
    const marker = summaryMarker({});
    const marked = await scanSandboxAsync(f.meta, { ...opts, readNewUpTo: 1 << 20, columns: true, markColumn: marker.mark });
    assert.is(renderSummary(marked.changes, col, { marker }, marked.named), renderSummary(objects.changes, col, {}), `marked, ${JSON.stringify(opts)}`);
    // So do the texts kept during the walk.
    const made = await scanSandboxAsync(f.meta, { ...opts, readNewUpTo: 1 << 20, columns: true, keepTexts: true });
    assert.ok(Array.from({ length: made.named!.length }, (_, j) => made.named!.textPieceAt(j)).some((t) => t));
    assert.is(await renderDiffs(made.changes, col, made.named), await renderDiffs(objects.changes, col), `made, ${JSON.stringify(opts)}`);
  }
});

test('an answer decoded a few whole records at a time (runScanAsync: the rest of a piece left for the next turn) is the one-piece answer', () => {
  hostileTree();
  for (const opts of [...MODES, { readNewUpTo: 1 << 20, columns: true }]) {
    const whole = scanAnswer(f.meta, opts)!;
    const once = walkUppers(f.meta, opts);
    const want = once.entries.map(plainEntry);
    for (const [size, upTo] of [[whole.length, 1], [whole.length, 100], [whole.length, 4096], [5000, 1000], [30000, 16384], [7, 3]] as const) {
      const pieces: Buffer[] = [];
      for (let o = 0; o < whole.length; o += size) pieces.push(whole.subarray(o, o + size));
      const got = decodeAnswer(f.meta, opts, pieces, upTo);
      const at = `pieces of ${size} bytes, ${upTo} at a time, ${JSON.stringify(opts)}`;
      assert.equal(got.entries.map(plainEntry), want, at);
      assert.equal([...(got.named?.paths() ?? [])], [...(once.named?.paths() ?? [])], at);
      assert.equal(got.errors, once.errors, at);
      assert.ok(Object.is(got.layerBytes, once.layerBytes), at);
    }
  }
});

test('a kept text is a copy: the answer piece it came in can be written over (NamedChanges keepsTexts)', () => {
  const list = new NamedChanges(false, true, null, true);
  list.dirs.push('/d/');
  list.uppers.push('/u/');
  const piece = Buffer.from('nameAtext of a\nnameBmore text\n', 'latin1');
  list.pushStatAt(0, piece, 0, 5, 0o644, 9, 8, piece, 5, 10);
  list.pushStatAt(0, piece, 15, 5, 0o644, 10, 8, piece, 20, 10);
  piece.fill(0x78);
  assert.is(list.textAt(0)?.toString('latin1'), 'text of a\n');
  assert.is(list.textAt(1)?.toString('latin1'), 'more text\n');
  assert.is(list.pathAt(1), '/d/nameB');
});

test.run();
