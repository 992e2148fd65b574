// The change list decoded while the helper still walks (scanSandboxAsync, walk.ts's decoder):
// records arrive cut at any byte, and the result must be exactly the one-piece scan's, on a
// tree with every kind of hostile entry.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, symlinkSync, writeFileSync, linkSync } from 'node:fs';
import { join } from 'node:path';
import { makeFixture, whiteout, opaque, setXattr, copyUp, write, type Fixture } from './changes-fixture.js';
import { scanSandbox, scanSandboxAsync } from '../../sandbox-core/changes/scan.js';
import { decodeAnswer, scanAnswer, walkUppers, type UpperEntry, type WalkOptions } from '../../sandbox-core/changes/walk.js';
import type { Change, EntryStat } from '../../sandbox-core/changes/types.js';
import { renderDiffs, writeNameOnly } from '../../cli/render-changes.js';
import { structuredPatch } from 'diff';
import { display } from '../../sandbox-core/changes/bpath.js';

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
  // Not the access time: the scans that read new files' text move it (relatime).
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

const MODES: Array<Omit<WalkOptions, 'progress'>> = [{}, { fewXattrs: true }, { fewXattrs: true, countLinesUpTo: 1 << 20 }, { readNewUpTo: 1 << 20 }];

test('an answer cut into pieces of any size decodes to the same entries as in one piece', () => {
  hostileTree();
  for (const opts of MODES) {
    const whole = scanAnswer(f.meta, opts)!;
    const once = walkUppers(f.meta, opts);
    assert.ok(once.entries.length > 350, 'the fixture has its entries');
    assert.ok(whole.length > 40000, 'the answer spans several of the largest pieces');
    const want = once.entries.map(plainEntry);
    // Past 4 KiB a cut record is completed from the front of the next piece, which is then
    // decoded in place (walk.ts feed).
    for (const size of [1, 2, 3, 7, 64, 1000, 4096, 5000, 10007, 30000]) {
      const pieces: Buffer[] = [];
      for (let o = 0; o < whole.length; o += size) pieces.push(whole.subarray(o, o + size));
      const got = decodeAnswer(f.meta, opts, pieces);
      assert.equal(got.entries.map(plainEntry), want, `pieces of ${size} bytes, ${JSON.stringify(opts)}`);
      assert.equal(got.errors, once.errors);
      assert.is(got.layerBytes, once.layerBytes);
    }
  }
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
    assert.equal(b.errors, a.errors);
    assert.equal([...b.links], [...a.links]);
    assert.is(b.layerBytes, a.layerBytes);
  }
  const kinds = Object.fromEntries((await scanSandboxAsync(f.meta)).changes
    .filter((c) => !c.path.includes('/many/') && !c.path.includes('/deep/'))
    .map((c) => [display(c.path.slice(f.host.length)), c.change]));
  assert.equal(kinds, {
    '/bad\\xff\\x1b[31m': 'added', '/bin.dat': 'added', '/deep': 'added', '/fz/added': 'added', '/fz/old': 'deleted', '/gone': 'deleted',
    '/h1': 'added', '/h2': 'added', '/link': 'added', '/many': 'added', '/mod.txt': 'modified', [`/${'n'.repeat(255)}`]: 'added',
    '/new\\nline': 'added', '/noeol': 'added', '/op': 'replaced', '/op/hidden': 'deleted', '/op/new': 'added', '/xa': 'metadata',
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
  assert.is(text.split('\ndiff ').length, changes.filter((c) => c.type === 'file' && c.change !== 'metadata').length);
});

test.run();
