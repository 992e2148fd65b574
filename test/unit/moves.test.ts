// Which added and deleted files of a scan are one host file moved (sandbox-core/changes/moves.ts),
// and which new files are copies of host files (copies.ts): only on evidence, each deleted file
// at most once.
// sbx-test: host-free (it computes only).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { changedTree, heldMovesAfter, heldMovesAgain, movedAwayAlone, pairDirMoves, pairMoves } from '../../sandbox-core/changes/moves.js';
import { keptHostFiles, pairCopies, pairDirCopies, pairNamedCopies } from '../../sandbox-core/changes/copies.js';
import { handleWords, type MarkedFile } from '../../sandbox-core/changes/pairing.js';
import { lstatB } from '../../sandbox-core/changes/stat.js';
import { ARROW } from '../../sandbox-core/base/charset.js';
import { sameContent } from '../../sandbox-core/changes/content.js';
import { closeAll } from '../../sandbox-core/changes/fsat.js';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Change, EntryStat } from '../../sandbox-core/changes/types.js';
import { changesJson, renderSummary, writeDiffs } from '../../cli/render-changes.js';

// What a file this test writes has: mode 644 (each is chmodded so, whatever the umask) and the runner's ids.
const mine = { perm: 0o644, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const st0 = (): EntryStat => ({ type: 'file', perm: 0o644, uid: 0, gid: 0, size: 0, mtimeMs: 0, atimeMs: 0, ctimeMs: 0, ino: 1, dev: 1, nlink: 1, rdev: 0 });
const st = (ino: number, size: number): EntryStat => ({ type: 'file', perm: 0o644, uid: 0, gid: 0, size, mtimeMs: 0, atimeMs: 0, ctimeMs: 0, ino, dev: 1, nlink: 1, rdev: 0 });
const gone = (path: string, ino: number, size: number): Change => ({ path, change: 'deleted', type: 'file', size, host: st(ino, size) });
const made = (path: string, size: number): Change => ({ path, change: 'added', type: 'file', size, upper: `/layer${path}`, up: st(900, size) });

/** overlayfs's origin mark for an ext4 file: version 0, magic 0xfb, length, flags, type, a uuid, then ino and generation. */
function handle(ino: number): Buffer {
  const b = Buffer.alloc(29);
  b[1] = 0xfb; b[2] = 29; b[3] = 1;
  b.writeUInt32LE(ino, 21);
  b.writeUInt32LE(0xbb9f5a0f, 25);
  return b;
}

/** A compare that says which upper files hold the bytes of which host files: `equal` pairs "upper|host". */
const bytes = (...equal: string[]) => (upper: string, host: string): boolean => equal.includes(`${upper}|${host}`);

test('fuse-overlayfs names the file a copy was made from: the two lines name each other, and a changed size says it changed', () => {
  const a = gone('/d/a', 5, 10), b = made('/d/b', 10), c = gone('/d/c', 6, 3), e = made('/e/c', 4);
  pairMoves([{ change: b, mark: '/d/a' }, { change: e, mark: '/d/c' }], [a, c], bytes('/layer/d/b|/d/a'));
  assert.is(b.movedFrom, '/d/a');
  assert.is(a.movedTo, '/d/b');
  assert.is(b.movedChanged, undefined);
  assert.is(e.movedFrom, '/d/c');
  assert.is(e.movedChanged, true);
  // Its own path (copied up in place, then its host file deleted): no move.
  const f = gone('/f', 7, 1), g = made('/f', 1);
  pairMoves([{ change: g, mark: '/f' }], [f]);
  assert.is(g.movedFrom, undefined);
});

test('overlayfs names its inode: paired by the handle\'s words, not when two deleted files could be it, and the same bytes decide whether it changed', () => {
  assert.equal(handleWords(handle(1458367)), [1458367, 0xbb9f5a0f]);
  const a = gone('/a', 1458367, 10), b = made('/b', 10);
  pairMoves([{ change: b, mark: handle(1458367) }], [a], bytes());
  assert.is(b.movedFrom, '/a');
  assert.is(b.movedChanged, true, 'the same size, other bytes');
  // A second deleted file whose inode is the handle's other word: which one it was is not known.
  const x = gone('/x', 1458367, 10), y = gone('/y', 0xbb9f5a0f, 10), z = made('/z', 10);
  pairMoves([{ change: z, mark: handle(1458367) }], [x, y], bytes('/layer/z|/x'));
  assert.is(z.movedFrom, undefined);
  assert.is(x.movedTo, undefined);
  // A mark that is no handle: nothing.
  const p = gone('/p', 3, 1), q = made('/q', 1);
  pairMoves([{ change: q, mark: Buffer.from('junk') }], [p], bytes('/layer/q|/p'));
  assert.is(q.movedFrom, undefined);
});

test('an empty mark (a user namespace): exactly one deleted file of the same bytes; an empty file only with its own name', () => {
  const a = gone('/d/a', 1, 10), other = gone('/d/o', 2, 10), b = made('/e/b', 10);
  pairMoves([{ change: b, mark: Buffer.alloc(0) }], [a, other], bytes('/layer/e/b|/d/a'));
  assert.is(b.movedFrom, '/d/a');
  assert.is(a.movedTo, '/e/b');
  assert.is(other.movedTo, undefined);
  // Two deleted files with those bytes: no evidence which one moved.
  const c = gone('/c1', 3, 4), d = gone('/c2', 4, 4), e = made('/c3', 4);
  pairMoves([{ change: e, mark: Buffer.alloc(0) }], [c, d], bytes('/layer/c3|/c1', '/layer/c3|/c2'));
  assert.is(e.movedFrom, undefined);
  // Changed after the move, with no handle: the bytes differ, so nothing says it moved.
  const f = gone('/f', 5, 4), g = made('/g', 4);
  pairMoves([{ change: g, mark: Buffer.alloc(0) }], [f], bytes());
  assert.is(g.movedFrom, undefined);
  // Empty files: a rename proves nothing; the same name in another dir does.
  const h = gone('/x/empty', 6, 0), i = made('/x/empty2', 0), k = made('/y/empty', 0);
  pairMoves([{ change: i, mark: Buffer.alloc(0) }, { change: k, mark: Buffer.alloc(0) }], [h], bytes());
  assert.is(i.movedFrom, undefined);
  assert.is(k.movedFrom, '/x/empty');
  // More than 8 deleted files of its size: none is read (a big review is not read per new file).
  const many = Array.from({ length: 9 }, (_, k) => gone(`/many/${k}`, 100 + k, 7));
  const n = made('/n7', 7);
  let reads = 0;
  pairMoves([{ change: n, mark: Buffer.alloc(0) }], many, (_u, h) => { reads++; return h === '/many/0'; });
  assert.is(n.movedFrom, undefined);
  assert.is(reads, 0);
  pairMoves([{ change: n, mark: Buffer.alloc(0) }], many.slice(0, 8), (_u, h) => { reads++; return h === '/many/0'; });
  assert.is(n.movedFrom, '/many/0', 'eight are asked');
  // A compare that fails (a file gone meanwhile) is no evidence either.
  const l = gone('/l', 8, 2), m = made('/m', 2);
  pairMoves([{ change: m, mark: Buffer.alloc(0) }], [l], () => { throw Object.assign(new Error('gone'), { code: 'ENOENT' }); });
  assert.is(m.movedFrom, undefined);
});

test('a host file moved over another (a modified one): paired by a mark that names it, never by the same bytes alone', () => {
  const dist = gone('/etc/f.conf.dist', 11, 4);
  const over: Change = { ...made('/etc/f.conf', 4), change: 'modified', host: st(12, 9) };
  pairMoves([{ change: over, mark: handle(11) }], [dist], bytes('/layer/etc/f.conf|/etc/f.conf.dist'));
  assert.is(over.movedFrom, '/etc/f.conf.dist');
  assert.is(dist.movedTo, '/etc/f.conf');
  const a = gone('/a.dist', 13, 4);
  const b: Change = { ...made('/b', 4), change: 'modified', host: st(14, 9) };
  pairMoves([{ change: b, mark: Buffer.alloc(0) }], [a], bytes('/layer/b|/a.dist'));
  assert.is(b.movedFrom, undefined);
  const text = renderSummary([over, dist], { green: String, red: String, yellow: String, cyan: String, magenta: String, dim: String, bold: String });
  assert.match(text, /modified: \/etc\/f\.conf \(moved from f\.conf\.dist\)\n/);
});

test('a file made anew (no mark: `mv` to another overlay copies it): the same size, modification time and bytes as exactly one deleted file', () => {
  const at = (c: Change, ms: number): Change => { (c.up ?? c.host)!.mtimeMs = ms; return c; };
  const old = at(gone('/home/u/notes', 1, 10), 1700000000123.4567), moved = at(made('/tmp/notes', 10), 1700000000123.4567);
  const twin = at(gone('/home/u/twin', 2, 10), 1700000000999), other = at(made('/tmp/other', 10), 1700000000999);
  pairMoves([{ change: moved, mark: null }, { change: other, mark: null }], [old, twin], bytes('/layer/tmp/notes|/home/u/notes'));
  assert.is(moved.movedFrom, '/home/u/notes');
  assert.is(old.movedTo, '/tmp/notes');
  assert.is(moved.movedChanged, undefined);
  assert.is(other.movedFrom, undefined, 'the same size and time, other bytes');
  // Another time (`cp` without -p, or written after): no evidence, whatever the bytes.
  const a = at(gone('/a', 3, 10), 1000), b = at(made('/b', 10), 2000);
  pairMoves([{ change: b, mark: null }], [a], bytes('/layer/b|/a'));
  assert.is(b.movedFrom, undefined);
  // The times two stats make of one file, a hair apart, are one time.
  const c = at(gone('/c', 4, 10), 1700000000123.4567), d = at(made('/d', 10), 1700000000123.4567 + 1e-7);
  pairMoves([{ change: d, mark: null }], [c], bytes('/layer/d|/c'));
  assert.is(d.movedFrom, '/c');
  // Two deleted files of those bytes and that time: which one is not known. An empty file: never.
  const x = at(gone('/x', 5, 10), 5000), y = at(gone('/y', 6, 10), 5000), z = at(made('/z', 10), 5000);
  pairMoves([{ change: z, mark: null }], [x, y], bytes('/layer/z|/x', '/layer/z|/y'));
  assert.is(z.movedFrom, undefined);
  const e = at(gone('/e', 7, 0), 6000), f = at(made('/e2', 0), 6000);
  pairMoves([{ change: f, mark: null }], [e], bytes('/layer/e2|/e'));
  assert.is(f.movedFrom, undefined);
});

test('a dir moved (mv copied its tree): paired when at least half of the non-empty files of the host\'s tree are below the new dir with their size, time and bytes', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sbx-moves-'));
  try {
    const tree = (name: string, files: Record<string, string>): Change => {
      for (const [rel, text] of Object.entries(files)) { mkdirSync(dirname(join(tmp, name, rel)), { recursive: true }); writeFileSync(join(tmp, name, rel), text); }
      const st = lstatSync(join(tmp, name));
      return { path: join(tmp, name), change: 'deleted', type: 'dir', size: 0, host: { ...st0(), type: 'dir', ino: st.ino, dev: st.dev } };
    };
    // What `mv` left in the layer: a new dir, and each file made anew with the host file's time.
    const copy = (from: string, to: string, rels: string[], skew = 0): Change[] => [
      { path: join(tmp, to), change: 'added', type: 'dir', size: 0 },
      ...rels.map((rel): Change => {
        const st = lstatSync(join(tmp, from, rel));
        return { path: join(tmp, to, rel), change: 'added', type: 'file', size: st.size, upper: `/layer/${to}/${rel}`, up: { ...st0(), size: st.size, mtimeMs: st.mtimeMs + skew, perm: st.mode & 0o7777, uid: st.uid, gid: st.gid } };
      }),
    ];
    const same = (upper: string, host: string): boolean => upper.slice('/layer/'.length).replace(/^[^/]+/, '') === host.slice(tmp.length).replace(/^\/[^/]+/, '');
    const old = tree('old', { a: 'aa', 'sub/b': 'bbb', empty: '' });
    const made = copy('old', 'new', ['a', 'sub/b', 'empty']);
    pairDirMoves([old, ...made], made.slice(1), same);
    assert.is(made[0]!.movedFrom, old.path);
    assert.is(old.movedTo, made[0]!.path);
    // One file's time not kept (cp without -p), or its bytes other: no evidence.
    const old2 = tree('old2', { a: 'aa', 'sub/b': 'bbb' }), made2 = copy('old2', 'new2', ['a', 'sub/b'], 5000);
    pairDirMoves([old2, ...made2], made2.slice(1), same);
    assert.is(old2.movedTo, undefined);
    const old3 = tree('old3', { a: 'aa' }), made3 = copy('old3', 'new3', ['a']);
    pairDirMoves([old3, ...made3], made3.slice(1), () => false);
    assert.is(old3.movedTo, undefined);
    // Half of the host's tree below the new dir, the rest gone from it (or changed) after the
    // move: paired, the new dir changed; whole trees only where the caller sees part of it.
    const old4 = tree('old4', { a: 'aa', z: 'zz' }), made4 = copy('old4', 'new4', ['a']);
    pairDirMoves([old4, ...made4], made4.slice(1), same, undefined, undefined, false);
    assert.is(old4.movedTo, undefined);
    pairDirMoves([old4, ...made4], made4.slice(1), same);
    assert.equal([old4.movedTo, made4[0]!.movedFrom, made4[0]!.movedChanged], [made4[0]!.path, old4.path, true]);
    // What sbx diff shows against the old files, and the old files it lists: as the pairing found them.
    const found = changedTree(made4[0]!);
    assert.equal([[...found!.differ], [...found!.files].sort()], [['z'], ['a', 'z']]);
    assert.is(changedTree(made[0]!), undefined);
    assert.is(made[0]!.movedChanged, undefined, 'the whole tree moved: not changed');
    // A candidate given up reads no more bytes: whole trees only, at its first file that
    // differs; else once more than half differ.
    const old10 = tree('old10', { a: 'a', b: 'b', c: 'c', d: 'd' }), made10 = copy('old10', 'new10', ['a', 'b', 'c', 'd']);
    let compared = 0;
    const never = (): boolean => { compared++; return false; };
    pairDirMoves([old10, ...made10], made10.slice(1), never, undefined, undefined, false);
    assert.equal([old10.movedTo, compared], [undefined, 1]);
    compared = 0;
    pairDirMoves([old10, ...made10], made10.slice(1), never);
    assert.equal([old10.movedTo, compared], [undefined, 3]);
    // Fewer than half: not where the tree went.
    const old7 = tree('old7', { a: 'aa', y: 'yy', z: 'zz' }), made7 = copy('old7', 'new7', ['a']);
    pairDirMoves([old7, ...made7], made7.slice(1), same);
    assert.is(old7.movedTo, undefined);
    // The first files of the tree changed after the move: the others still find it.
    const first: Record<string, string> = {};
    for (let i = 0; i < 7; i++) first[`a${i}`] = `${i}`;
    for (let i = 0; i < 9; i++) first[`b${i}`] = `${i}`;
    const old8 = tree('old8', first), made8 = copy('old8', 'new8', Object.keys(first));
    const firstFew = new Set(Object.keys(first).sort().slice(0, 7));
    pairDirMoves([old8, ...made8], made8.slice(1), (upper, host) => same(upper, host) && !firstFew.has(upper.slice(upper.lastIndexOf('/') + 1)));
    assert.equal([old8.movedTo, made8[0]!.movedChanged], [made8[0]!.path, true]);
    // Files of the tree below a host dir (no new dir): nothing to pair, and no failure.
    const old9 = tree('old9', { a: 'aa' }), made9 = copy('old9', 'host9', ['a']).slice(1);
    pairDirMoves([old9, { path: join(tmp, 'other9'), change: 'added', type: 'dir', size: 0 }, ...made9], made9, same);
    assert.is(old9.movedTo, undefined);
    // Only empty files: nothing to go by. More entries than it reads: not looked into.
    const old5 = tree('old5', { e: '' }), made5 = copy('old5', 'new5', ['e']);
    pairDirMoves([old5, ...made5], made5.slice(1), same);
    assert.is(old5.movedTo, undefined);
    const many: Record<string, string> = {};
    for (let i = 0; i <= 4096; i++) many[`f${i}`] = 'x';
    const old6 = tree('old6', many), made6 = copy('old6', 'new6', Object.keys(many));
    pairDirMoves([old6, ...made6], made6.slice(1), same);
    assert.is(old6.movedTo, undefined);
  } finally {
    closeAll();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('a dir move a commit held while it wrote part of the new tree: remembered, paired again, and its deletion held until the rest of the new tree is chosen', () => {
  const dir = (path: string, change: Change['change']): Change => ({ path, change, type: 'dir', size: 0 });
  // The review before the commit: the pairing found it.
  const old = dir('/s/old', 'deleted'), nw = dir('/s/new', 'added');
  old.movedTo = '/s/new'; nw.movedFrom = '/s/old';
  const other = dir('/s/gone', 'deleted');
  other.movedTo = '/s/elsewhere';
  const remembered = heldMovesAfter([old, nw, other], new Set(['/s/old']), [['/x/a', '/x/b']], 64);
  assert.equal(remembered, [['/x/a', '/x/b'], ['/s/old', '/s/new']]);
  assert.equal(heldMovesAfter([old], new Set(['/s/old']), [['/s/old', '/s/new']], 64), [['/s/old', '/s/new']], 'kept twice');
  assert.is(heldMovesAfter([old], new Set(['/s/old']), Array.from({ length: 70 }, (_, i): [string, string] => [`/o${i}`, `/n${i}`]), 64).length, 64);
  // The next review: /s/new is on the host now, part of its tree with it; the rest is added.
  const again = dir('/s/old', 'deleted'), rest = made('/s/new/sub/b', 4), unrelated = dir('/t/old', 'deleted'), paired = dir('/u/old', 'deleted');
  paired.movedTo = '/u/elsewhere';
  heldMovesAgain([again, rest, unrelated, paired], [['/s/old', '/s/new'], ['/u/old', '/u/new']]);
  assert.is(again.movedTo, '/s/new');
  assert.is(unrelated.movedTo, undefined);
  assert.is(paired.movedTo, '/u/elsewhere', 'a pairing the review made itself stays');
  const byPath = new Map([again, rest].map((c) => [c.path, c]));
  assert.equal(movedAwayAlone(again, new Set(['/s/old']), byPath), { path: '/s/new', type: 'dir' });
  assert.is(movedAwayAlone(again, new Set(['/s/old', '/s/new/sub/b']), byPath), undefined);
  // Nothing of the new tree left to commit: deleting the old dir loses nothing.
  assert.is(movedAwayAlone(again, new Set(['/s/old']), new Map([[again.path, again]])), undefined);
  // The new dir a change of its own (its metadata): below it still counts.
  const meta = dir('/s/new', 'metadata');
  assert.equal(movedAwayAlone(again, new Set(['/s/old', '/s/new']), new Map([again, meta, rest].map((c) => [c.path, c]))), meta);
  // A file's deletion is never held by a remembered dir move.
  const file = gone('/s/old', 1, 1);
  file.movedTo = '/s/new';
  assert.is(movedAwayAlone(file, new Set(['/s/old']), byPath), undefined);
});

test('each deleted file pairs once; dirs, links and other changes are left alone', () => {
  const a = gone('/a', 1, 3), b = made('/b', 3), c = made('/c', 3);
  const marked: MarkedFile[] = [{ change: b, mark: '/a' }, { change: c, mark: '/a' }];
  pairMoves(marked, [a], bytes('/layer/b|/a', '/layer/c|/a'));
  assert.is(b.movedFrom, '/a');
  assert.is(c.movedFrom, undefined);
  const dir: Change = { path: '/dd', change: 'deleted', type: 'dir', size: 0, host: { ...st(2, 0), type: 'dir' } };
  const n = made('/n', 0);
  pairMoves([{ change: n, mark: '/dd' }], [dir]);
  assert.is(n.movedFrom, undefined);
});

test('a copy of a host file the sandbox then changed: by a mark that names it, or one candidate of its size (and time, with no mark), and always its bytes', () => {
  const at = (c: Change, ms: number): Change => { (c.up ?? c.host)!.mtimeMs = ms; return c; };
  const kept = (path: string, ino: number, size: number, ms = 0): Change => ({ path, change: 'modified', type: 'file', size: 1, host: { ...st(ino, size), mtimeMs: ms } });
  // fuse-overlayfs's path, overlayfs's handle: the bytes still decide (a copy changed after is none).
  const conf = kept('/etc/a.conf', 21, 8), bak = made('/etc/a.conf.bak', 8), log = kept('/var/log/x', 22, 30), rot = made('/var/log/x.1', 30);
  const edited = kept('/etc/b.conf', 23, 5), grown = made('/etc/b.conf.bak', 5);
  pairCopies([{ change: bak, mark: '/etc/a.conf' }, { change: rot, mark: handle(22) }, { change: grown, mark: '/etc/b.conf' }], [conf, log, edited],
    bytes('/layer/etc/a.conf.bak|/etc/a.conf', '/layer/var/log/x.1|/var/log/x'));
  assert.is(bak.copyOf, '/etc/a.conf');
  assert.is(conf.copiedTo, '/etc/a.conf.bak');
  assert.is(rot.copyOf, '/var/log/x');
  assert.is(log.copiedTo, '/var/log/x.1');
  assert.is(grown.copyOf, undefined, 'named by the mark, other bytes');
  assert.is(edited.copiedTo, undefined);
  // No handle: exactly one changed host file of its size holds its bytes.
  const p = kept('/p', 24, 6), q = kept('/q', 25, 6), pb = made('/p.bak', 6);
  pairCopies([{ change: pb, mark: Buffer.alloc(0) }], [p, q], bytes('/layer/p.bak|/p'));
  assert.is(pb.copyOf, '/p');
  const twin = made('/pq.bak', 6);
  pairCopies([{ change: twin, mark: Buffer.alloc(0) }], [kept('/p2', 26, 6), kept('/q2', 27, 6)], bytes('/layer/pq.bak|/p2', '/layer/pq.bak|/q2'));
  assert.is(twin.copyOf, undefined, 'two could be it');
  // No mark (`cp -p`): its size and time too; `cp` without -p is no evidence.
  const r = kept('/r', 28, 7, 5000), rp = at(made('/r.orig', 7), 5000), rc = at(made('/r.copy', 7), 9000);
  pairCopies([{ change: rp, mark: null }, { change: rc, mark: null }], [r], bytes('/layer/r.orig|/r', '/layer/r.copy|/r'));
  assert.is(rp.copyOf, '/r');
  assert.is(rc.copyOf, undefined);
  assert.is(r.copiedTo, '/r.orig');
  // A second copy of one file is a copy too; the file's line names the first.
  const r2 = at(made('/r.save', 7), 5000);
  pairCopies([{ change: r2, mark: null }], [r], bytes('/layer/r.save|/r'));
  assert.is(r2.copyOf, '/r');
  assert.is(r.copiedTo, '/r.orig');
  // Already a move, an empty file, a file that is not new: left alone.
  const moved = { ...made('/m.bak', 7), movedFrom: '/m' }, empty = made('/e.bak', 0), mod: Change = { ...made('/mod', 7), change: 'modified', host: st(30, 7) };
  pairCopies([{ change: moved, mark: '/r' }, { change: empty, mark: null }, { change: mod, mark: '/r' }], [r, kept('/e', 29, 0)], bytes('/layer/m.bak|/r', '/layer/e.bak|/e', '/layer/mod|/r'));
  assert.is(moved.copyOf, undefined);
  assert.is(empty.copyOf, undefined);
  assert.is(mod.copyOf, undefined);
  // Past a few candidates of one size (and time), none is read.
  let asked = 0;
  const many = Array.from({ length: 9 }, (_, i) => kept(`/many/${i}`, 40 + i, 9, 7000));
  const m1 = made('/m1', 9), m2 = at(made('/m2', 9), 7000);
  pairCopies([{ change: m1, mark: Buffer.alloc(0) }, { change: m2, mark: null }], many, () => { asked++; return true; });
  assert.is(asked, 0);
  assert.is(m1.copyOf, undefined);
  assert.is(m2.copyOf, undefined);
  const plain = { green: String, red: String, yellow: String, cyan: String, magenta: String, dim: String, bold: String };
  const text = renderSummary([conf, bak, rot, log], plain);
  assert.match(text, /modified: \/etc\/a\.conf \(host version saved as a\.conf\.bak\)\n/);
  assert.match(text, /added: +\/etc\/a\.conf\.bak \(copy of the host's a\.conf\)\n/);
  assert.match(text, /added: +\/var\/log\/x\.1 \(copy of the host's x\)\n/);
});

test('a copy of a host file whose metadata alone the sandbox changed (a dir backed up by `mv`, made again): a copy, and that file\'s line names none; a hard link is no copy', () => {
  const host = (path: string, change: Change['change'], ino: number): Change => ({ path, change, type: 'file', size: 7, host: { ...st(ino, 7), mtimeMs: 5000 } });
  const timed = (path: string): Change => { const c = made(path, 7); c.up!.mtimeMs = 5000; return c; };
  // `mv conf conf.bak && mkdir conf && cp conf.bak/a conf/`: conf/a the host's bytes, a new time.
  const touched = host('/conf/a', 'metadata', 60), bak = timed('/conf.bak/a');
  const kept = keptHostFiles([touched, host('/conf/gone', 'deleted', 61), { ...made('/conf/new', 7), host: undefined }]);
  assert.equal(kept, [touched]);
  pairCopies([{ change: bak, mark: null }], kept, bytes('/layer/conf.bak/a|/conf/a'));
  assert.is(bak.copyOf, '/conf/a');
  assert.is(touched.copiedTo, undefined, 'its bytes are still the host\'s: nothing was saved');
  // `ln`: a hard link to the host file is said as one (classify's linksTo), never as a copy.
  const link = { ...timed('/conf.bak/b'), linksTo: '/conf/b' }, b = host('/conf/b', 'modified', 62);
  pairCopies([{ change: link, mark: null }], [b], bytes('/layer/conf.bak/b|/conf/b'));
  assert.is(link.copyOf, undefined);
  assert.is(b.copiedTo, undefined);
});

test('a copy named after its host file (`cp fstab fstab.bak`): the host file of the name before a `.`, `~`, `-` or `_`, still there, with its bytes', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sbx-moves-'));
  try {
    const host = join(tmp, 'host'), layer = join(tmp, 'layer');
    mkdirSync(join(host, 'newd'), { recursive: true });
    mkdirSync(join(layer, 'newd'), { recursive: true });
    const files: Record<string, string> = { fstab: 'UUID=1 /\n', hosts: 'h\n', gone: 'g\n', edited: 'e\n', a: 'z\n' };
    for (const [n, t] of Object.entries(files)) writeFileSync(join(host, n), t);
    const added = (rel: string, text: string): Change => {
      writeFileSync(join(layer, rel), text);
      return { path: join(host, rel), change: 'added', type: 'file', size: Buffer.byteLength(text), upper: join(layer, rel), up: st(900, Buffer.byteLength(text)) };
    };
    const bak = added('fstab.bak', 'UUID=1 /\n'), dated = added('fstab-2026_12', 'UUID=1 /\n'), tilde = added('hosts~', 'h\n');
    const goneBak = added('gone.bak', 'g\n'), editedOrig = added('edited.orig', 'e\nmore\n'), plain = added('fstabx', 'UUID=1 /\n');
    const inNew = added('newd/fstab.bak', 'UUID=1 /\n'), empty = added('hosts.empty', ''), far = added('a-b-c-d-e-f', 'z\n');
    const hostsChange: Change = { path: join(host, 'hosts'), change: 'modified', type: 'file', size: 3, host: st(5, 2) };
    const changes: Change[] = [bak, dated, tilde, goneBak, editedOrig, plain, inNew, empty, far, hostsChange,
      { path: join(host, 'gone'), change: 'deleted', type: 'file', size: 2, host: st(6, 2) },
      { path: join(host, 'newd'), change: 'added', type: 'dir', size: 0 }];
    pairNamedCopies(changes, changes);
    assert.is(bak.copyOf, join(host, 'fstab'));
    assert.is(dated.copyOf, join(host, 'fstab'), 'the longest name first, down to the one that is a file');
    assert.is(tilde.copyOf, join(host, 'hosts'));
    assert.is(hostsChange.copiedTo, join(host, 'hosts~'), 'a host file the sandbox changed names its copy');
    assert.is(goneBak.copyOf, undefined, 'deleted inside: a move, not a copy');
    assert.is(editedOrig.copyOf, undefined, 'other bytes');
    assert.is(plain.copyOf, undefined, 'no separator');
    assert.is(inNew.copyOf, undefined, 'a dir the sandbox made');
    assert.is(empty.copyOf, undefined);
    assert.is(far.copyOf, undefined, 'only the 4 longest shorter names are tried');
    // Named after a host file, other bytes: a variant of it (dpkg's .dpkg-dist, an edited .new),
    // which sbx diff may show against it; never of a file deleted inside, of none tried, nor a copy.
    assert.is(editedOrig.variantOf, join(host, 'edited'));
    for (const c of [bak, goneBak, plain, inNew, far]) assert.is(c.variantOf, undefined, c.path);
    // Up to 64 a review: each is a diff against its host file in sbx diff.
    mkdirSync(join(host, 'many')); mkdirSync(join(layer, 'many'));
    writeFileSync(join(host, 'many', 'v'), 'v\n');
    const vs = Array.from({ length: 70 }, (_, i) => added(`many/v.${i}`, `${i}\n`));
    pairNamedCopies(vs, vs);
    assert.is(vs.filter((c) => c.variantOf === join(host, 'many', 'v')).length, 64);
    // A dir of many new files (a build's output) is listed once, by the helper: the same answer.
    mkdirSync(join(host, 'out')); mkdirSync(join(layer, 'out'));
    writeFileSync(join(host, 'out', 'f-3'), '3\n');
    const outs = Array.from({ length: 12 }, (_, i) => added(`out/f-${i}.txt`, `${i}\n`));
    pairNamedCopies(outs, outs);
    assert.equal(outs.map((c) => c.copyOf), outs.map((_, i) => (i === 3 ? join(host, 'out', 'f-3') : undefined)));
    // A host file the sandbox hid (--hide, a network run's credential stores) is no copy's source.
    const guess = added('hosts.orig', 'h\n'), other = added('hosts.new', 'x\n');
    pairNamedCopies([guess, other], [guess, other], undefined, undefined, [join(host, 'hosts')]);
    assert.is(guess.copyOf, undefined);
    assert.is(other.variantOf, undefined, 'nor a variant of it');
    pairNamedCopies([guess], [guess], undefined, undefined, [join(host, 'hostsx')]);
    assert.is(guess.copyOf, join(host, 'hosts'));
  } finally {
    closeAll();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('sbx diff shows a variant (`foo.conf.dpkg-dist`) against its host file when at least half of its lines are that file\'s, else as an addition', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sbx-moves-'));
  try {
    const host = join(tmp, 'host'), layer = join(tmp, 'layer');
    mkdirSync(host); mkdirSync(layer);
    const lines = (n: number, f: (i: number) => string): string => Array.from({ length: n }, (_, i) => `${f(i)}\n`).join('');
    writeFileSync(join(host, 'app.conf'), lines(10, (i) => `key${i} = ${i}`));
    writeFileSync(join(host, 'notes'), lines(4, (i) => `note ${i}`));
    const added = (rel: string, text: string, of: string): Change => {
      writeFileSync(join(layer, rel), text);
      return { path: join(host, rel), change: 'added', type: 'file', size: Buffer.byteLength(text), upper: join(layer, rel), up: st(900, Buffer.byteLength(text)), variantOf: join(host, of) };
    };
    const dist = added('app.conf.dpkg-dist', lines(10, (i) => (i === 4 ? 'key4 = 40' : `key${i} = ${i}`)), 'app.conf');
    const unrelated = added('notes.new', lines(4, (i) => `other ${i}`), 'notes');
    const half = added('notes.half', lines(4, (i) => (i < 2 ? `note ${i}` : `new ${i}`)), 'notes');
    const out: Buffer[] = [];
    const plain = { green: String, red: String, yellow: String, cyan: String, magenta: String, dim: String, bold: String };
    await writeDiffs([dist, half, unrelated], plain, (b) => { out.push(Buffer.from(b)); });
    const text = Buffer.concat(out).toString();
    assert.ok(text.includes(`diff ${dist.path} (added; shown against the host's ${join(host, 'app.conf')})\n--- a${join(host, 'app.conf')}\n+++ b${dist.path}\n`), text);
    assert.match(text, /^-key4 = 4\n\+key4 = 40$/m);
    assert.ok(text.includes(`diff ${half.path} (added; shown against the host's ${join(host, 'notes')})\n`), 'half of its lines the host file\'s');
    assert.ok(text.includes(`diff ${unrelated.path} (added)\n--- /dev/null\n`), text);
  } finally {
    closeAll();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('a dir copied with its tree (`cp -r conf conf.bak`): named after a host dir, every one of its files at its place with its bytes, and nothing more', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sbx-moves-'));
  try {
    const host = join(tmp, 'host'), layer = join(tmp, 'layer');
    const files: Record<string, string> = { a: 'a\n', 'sub/b': 'bb\n', e: '' };
    for (const [rel, t] of Object.entries(files)) { mkdirSync(dirname(join(host, 'conf', rel)), { recursive: true }); writeFileSync(join(host, 'conf', rel), t, { mode: 0o644 }); chmodSync(join(host, 'conf', rel), 0o644); }
    /** A new dir of the layer holding `tree`: its change and its files' and subdirs' changes. */
    const newTree = (name: string, tree: Record<string, string>): Change[] => {
      const out: Change[] = [{ path: join(host, name), change: 'added', type: 'dir', size: 0 }];
      for (const [rel, t] of Object.entries(tree)) {
        mkdirSync(dirname(join(layer, name, rel)), { recursive: true });
        writeFileSync(join(layer, name, rel), t);
        if (rel.includes('/')) out.push({ path: join(host, name, dirname(rel)), change: 'added', type: 'dir', size: 0 });
        out.push({ path: join(host, name, rel), change: 'added', type: 'file', size: Buffer.byteLength(t), upper: join(layer, name, rel), up: { ...st(900, Buffer.byteLength(t)), ...mine } });
      }
      return out;
    };
    const bak = newTree('conf.bak', files), edit = newTree('conf.edit', { ...files, a: 'A\n' });
    const more = newTree('conf-more', { ...files, extra: 'x\n' }), less = newTree('conf_less', { a: 'a\n', 'sub/b': 'bb\n' });
    const other = newTree('confx', files), far = newTree('conf.far', { ...files, a: 'A\n', 'sub/b': 'BB\n' });
    const all = [...bak, ...edit, ...more, ...less, ...other, ...far];
    assert.equal(pairDirCopies(all, null), []);
    assert.is(bak[0]!.copyOf, join(host, 'conf'));
    assert.is(bak[0]!.copyChanged, undefined);
    assert.equal(bak.filter((c) => c.type === 'file').map((c) => c.copyOf), ['a', 'sub/b', 'e'].map((r) => join(host, 'conf', r)));
    // Changed after the copy (other bytes, a file more, one fewer), at least half of the host's
    // non-empty files still there with their bytes: a copy then changed, each file at a host
    // file's place against it; a file the host dir has none of stays an addition.
    for (const t of [edit, more, less]) { assert.is(t[0]!.copyOf, join(host, 'conf'), t[0]!.path); assert.is(t[0]!.copyChanged, true, t[0]!.path); }
    const fileOf = (t: Change[], rel: string): Change => t.find((c) => c.path === join(t[0]!.path, rel))!;
    assert.is(fileOf(edit, 'a').copyOf, join(host, 'conf', 'a'));
    assert.is(fileOf(edit, 'a').copyChanged, true);
    assert.is(fileOf(edit, 'sub/b').copyChanged, undefined);
    assert.is(fileOf(more, 'extra').copyOf, undefined);
    assert.is(fileOf(less, 'a').copyChanged, undefined);
    // Not named after the host dir; or fewer than half of its non-empty files held.
    for (const t of [other, far]) assert.is(t[0]!.copyOf, undefined, t[0]!.path);
    // A host dir the sandbox hid, or one holding a hidden path: never a copy's source (a changed
    // copy's diff would print the hidden file's bytes).
    for (const h of [join(host, 'conf'), join(host, 'conf', 'sub'), tmp]) {
      const t = newTree('conf.hid', { ...files, a: 'A\n' });
      pairDirCopies(t, null, undefined, undefined, [h]);
      assert.is(t[0]!.copyOf, undefined, h);
    }
    // Given up once half can no longer be held: of 4 files of other bytes, the 4th is not read.
    for (const n of ['f1', 'f2', 'f3', 'f4']) { mkdirSync(join(host, 'big'), { recursive: true }); writeFileSync(join(host, 'big', n), `${n}\n`); chmodSync(join(host, 'big', n), 0o644); }
    const regen = newTree('big.2', { f1: 'g1\n', f2: 'g2\n', f3: 'g3\n', f4: 'g4\n' });
    let reads = 0;
    pairDirCopies(regen, null, (u, h) => { reads++; return sameContent(u, h); });
    assert.is(regen[0]!.copyOf, undefined);
    assert.is(reads, 3);
    const plain = { green: String, red: String, yellow: String, cyan: String, magenta: String, dim: String, bold: String };
    assert.match(renderSummary(edit, plain), /added: +\S+\/conf\.edit\/ \(3 files, 1 dir, 5 B; copy of the host's conf, then changed\)\n/);
    // The host dir deleted inside: a move, not a copy.
    const again = newTree('conf.old', files);
    pairDirCopies([...again, { path: join(host, 'conf'), change: 'deleted', type: 'dir', size: 0, host: { ...st0(), type: 'dir' } }], null);
    assert.is(again[0]!.copyOf, undefined);
    // `mv conf conf.bak && mkdir conf && cp conf.bak/a conf/`: the host dir emptied and refilled
    // (opaque), the files pairMoves found moved from their places in it held, unchanged.
    const refilled = (): Change => ({ path: join(host, 'conf'), change: 'replaced', type: 'dir', size: 0, opaque: true, host: { ...st0(), type: 'dir' } });
    const backup = (changed?: true): [Change[], Change] => {
      const t = newTree('conf.save', files);
      for (const c of t) if (c.path.endsWith('/sub/b') || c.path.endsWith('/e')) { c.movedFrom = c.path.replace('conf.save', 'conf'); if (changed) c.movedChanged = true; }
      return [t, refilled()];
    };
    const [saved, conf] = backup();
    pairDirCopies([...saved, conf], null);
    assert.is(saved[0]!.copyOf, join(host, 'conf'));
    assert.is(conf.copiedTo, join(host, 'conf.save'), 'the refilled dir names its backup');
    assert.equal(saved.filter((c) => c.type === 'file').map((c) => c.copyOf), [join(host, 'conf', 'a'), undefined, undefined], 'the moved files keep their moves');
    const text = renderSummary([conf, ...saved], plain);
    assert.match(text, /replaced: \S+\/conf\/ \(dir emptied and refilled; host version saved as conf\.save\)\n/);
    assert.match(text, /added: +\S+\/conf\.save\/ \(3 files, 1 dir, 5 B; copy of the host's conf\)\n/);
    // A file changed after the move: a copy then changed (that file's diff is its move's), and
    // the refilled dir names no backup. Moved from elsewhere, or a dir kept as it was: no copy.
    const [edited, conf2] = backup(true);
    pairDirCopies([...edited, conf2], null);
    assert.is(edited[0]!.copyChanged, true);
    assert.is(conf2.copiedTo, undefined);
    const [elsewhere, conf3] = backup();
    elsewhere.find((c) => c.path.endsWith('/sub/b'))!.movedFrom = join(host, 'other', 'b');
    pairDirCopies([...elsewhere, conf3], null);
    assert.is(elsewhere[0]!.copyOf, undefined);
    const [kept] = backup();
    pairDirCopies(kept, null);
    assert.is(kept[0]!.copyOf, undefined, 'moved files count only for a host dir the sandbox refilled');
  } finally {
    closeAll();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('the summary says it on both lines, by name alone within one dir', () => {
  const a = gone('/srv/app.log', 1, 10), b = made('/srv/app.log.1', 10), c = gone('/etc/x.conf', 2, 5), d = made('/opt/x.conf', 6);
  pairMoves([{ change: b, mark: '/srv/app.log' }, { change: d, mark: '/etc/x.conf' }], [a, c], bytes('/layer/srv/app.log.1|/srv/app.log'));
  const plain = { green: String, red: String, yellow: String, cyan: String, magenta: String, dim: String, bold: String };
  const text = renderSummary([b, d, a, c], plain);
  assert.match(text, /added: +\/srv\/app\.log\.1 \(moved from app\.log\)\n/);
  assert.match(text, /deleted: +\/srv\/app\.log \(moved to app\.log\.1\)\n/);
  assert.match(text, /added: +\/opt\/x\.conf \(moved from \/etc\/x\.conf, then changed\)\n/);
  assert.match(text, /deleted: +\/etc\/x\.conf \(moved to \/opt\/x\.conf\)\n/);
});

test('a move or copy with another mode or owner than the host file it came from: said beside it (`mv secret secret.old && chmod 644 secret.old`), and a dir\'s tree then changed', async () => {
  const plain = { green: String, red: String, yellow: String, cyan: String, magenta: String, dim: String, bold: String };
  const diffOf = async (changes: Change[]): Promise<string> => { const out: Buffer[] = []; await writeDiffs(changes, plain, (b) => { out.push(Buffer.from(b)); }); return Buffer.concat(out).toString(); };
  const as = (c: Change, perm: number, uid = 0): Change => { c.up = { ...c.up!, perm, uid, gid: uid }; return c; };
  // A file moved: its bytes the old file's, its mode opened; the same mode says nothing.
  const s = { ...gone('/srv/secret', 1, 10), host: { ...st(1, 10), perm: 0o600 } }, old = as(made('/srv/secret.old', 10), 0o644);
  const k = { ...gone('/srv/key', 2, 11), host: { ...st(2, 11), perm: 0o600 } }, kept = as(made('/srv/key.old', 11), 0o600);
  const o = gone('/srv/own', 3, 12), given = as(made('/srv/own.1', 12), 0o644, 1000);
  pairMoves([{ change: old, mark: '/srv/secret' }, { change: kept, mark: '/srv/key' }, { change: given, mark: '/srv/own' }], [s, k, o],
    bytes('/layer/srv/secret.old|/srv/secret', '/layer/srv/key.old|/srv/key', '/layer/srv/own.1|/srv/own'));
  assert.equal([old.movedFrom, old.movedChanged, old.sourceDetails], ['/srv/secret', undefined, ['mode 600\u2192644']]);
  assert.is(kept.sourceDetails, undefined);
  assert.equal(given.sourceDetails, ['owner 0:0\u21921000:1000']);
  const summary = renderSummary([old, kept, s, k], plain);
  assert.match(summary, /added: +\/srv\/secret\.old \(moved from secret; mode 600(?:\u2192|->)644\)\n/);
  assert.match(summary, /added: +\/srv\/key\.old \(moved from key\)\n/);
  const json = JSON.parse(changesJson('x', [old, s])).changes;
  assert.equal([json[0].sourceDetails, json[0].mode, json[1].mode], [['mode 600\u2192644'], '644', undefined], 'a new entry\'s mode; a deletion has none');
  // A copy (by its mark, or by its name): the same.
  const conf = { path: '/etc/a.conf', change: 'modified' as const, type: 'file' as const, size: 1, host: { ...st(21, 8), perm: 0o600 } }, bak = as(made('/etc/a.conf.bak', 8), 0o644);
  pairCopies([{ change: bak, mark: '/etc/a.conf' }], [conf], bytes('/layer/etc/a.conf.bak|/etc/a.conf'));
  assert.equal([bak.copyOf, bak.sourceDetails], ['/etc/a.conf', ['mode 600\u2192644']]);
  assert.match(await diffOf([bak]), /^diff \/etc\/a\.conf\.bak \(copy of the host's \/etc\/a\.conf; mode 600(?:\u2192|->)644\)\nSame content\n$/);
  const tmp = mkdtempSync(join(tmpdir(), 'sbx-moves-'));
  try {
    const host = join(tmp, 'host'), layer = join(tmp, 'layer');
    mkdirSync(join(host, 'conf'), { recursive: true }); mkdirSync(join(layer, 'conf.bak'), { recursive: true });
    const hostFile = (rel: string, text: string, perm: number): void => { writeFileSync(join(host, rel), text); chmodSync(join(host, rel), perm); };
    hostFile('token', 't\n', 0o600);
    hostFile('conf/a', 'a\n', 0o644); hostFile('conf/key', 'k\n', 0o600);
    const added = (rel: string, text: string, perm: number): Change => {
      writeFileSync(join(layer, rel), text);
      return { path: join(host, rel), change: 'added', type: 'file', size: Buffer.byteLength(text), upper: join(layer, rel), up: { ...st(900, Buffer.byteLength(text)), ...mine, perm } };
    };
    const tb = added('token.bak', 't\n', 0o644);
    pairNamedCopies([tb], [tb]);
    assert.equal([tb.copyOf, tb.sourceDetails], [join(host, 'token'), ['mode 600\u2192644']]);
    // The file moved, as sbx diff shows it: against the old file, with its mode.
    const tokenGone: Change = { path: join(host, 'token'), change: 'deleted', type: 'file', size: 2, host: lstatB(join(host, 'token'))! };
    const tokenOld = added('token.old', 't\n', 0o644);
    pairMoves([{ change: tokenOld, mark: tokenGone.path }], [tokenGone]);
    assert.match(await diffOf([tokenGone, tokenOld]), /^diff \S+\/token\.old \(moved from \S+\/token; mode 600(?:\u2192|->)644\)\nSame content\n$/);
    // A dir copied, one file's mode opened after: a copy then changed, that file a copy of its
    // host file with its mode (no other bytes), the others on the dir's one line.
    const dir: Change = { path: join(host, 'conf.bak'), change: 'added', type: 'dir', size: 0, up: { ...st0(), ...mine, type: 'dir', perm: 0o755 } };
    chmodSync(join(host, 'conf'), 0o700);
    const ca = added('conf.bak/a', 'a\n', 0o644), ck = added('conf.bak/key', 'k\n', 0o640);
    pairDirCopies([dir, ca, ck], null);
    assert.equal([dir.copyOf, dir.copyChanged, dir.sourceDetails], [join(host, 'conf'), true, ['mode 700\u2192755']]);
    assert.equal([ck.copyOf, ck.copyChanged, ck.sourceDetails], [join(host, 'conf', 'key'), undefined, ['mode 600\u2192640']]);
    assert.equal([ca.copyChanged, ca.sourceDetails], [undefined, undefined]);
    assert.match(renderSummary([dir, ca, ck], plain), /added: +\S+\/conf\.bak\/ \(2 files, 4 B; copy of the host's conf, then changed; mode 700(?:\u2192|->)755\)\n/);
    const text = await diffOf([dir, ca, ck]);
    assert.ok(text.includes(`diff ${dir.path}/ (copy of the host's ${join(host, 'conf')}/, then changed; mode 700${ARROW}755)\nSame content: 1 file\ndiff ${ck.path} (copy of the host's ${join(host, 'conf', 'key')}; mode 600${ARROW}640)\nSame content\n`), text);
    // A dir moved (mv copied its tree), one file opened after: paired, changed, that file shown
    // against its old one with its mode.
    chmodSync(join(host, 'conf'), 0o755);
    const was: Change = { path: join(host, 'conf'), change: 'deleted', type: 'dir', size: 0, host: lstatB(join(host, 'conf'))! };
    mkdirSync(join(layer, 'conf.new'));
    const moved = (rel: string, perm: number): Change => {
      const h = lstatSync(join(host, 'conf', rel));
      writeFileSync(join(layer, 'conf.new', rel), readFileSync(join(host, 'conf', rel)));
      return { path: join(host, 'conf.new', rel), change: 'added', type: 'file', size: h.size, upper: join(layer, 'conf.new', rel), up: { ...st0(), size: h.size, mtimeMs: h.mtimeMs, perm, uid: h.uid, gid: h.gid } };
    };
    const to: Change = { path: join(host, 'conf.new'), change: 'added', type: 'dir', size: 0, up: { ...st0(), ...mine, type: 'dir', perm: 0o755 } };
    const mv = [moved('a', 0o644), moved('key', 0o644)];
    const same = (upper: string, h: string): boolean => upper.slice(join(layer, 'conf.new/').length) === h.slice(join(host, 'conf/').length);
    pairDirMoves([was, to, ...mv], mv, same);
    assert.equal([to.movedFrom, to.movedChanged, to.sourceDetails], [was.path, true, undefined]);
    assert.equal([...changedTree(to)!.differ], ['key']);
    const movedText = await diffOf([was, to, ...mv]);
    assert.ok(movedText.includes(`diff ${to.path}/ (moved from ${was.path}/)\nSame content: 1 file\ndiff ${mv[1]!.path} (moved from ${join(host, 'conf', 'key')}; mode 600${ARROW}644)\nSame content\n`), movedText);
    // The mode is no evidence against the move: a tree of one file, its mode changed, is still
    // paired (its deletion then waits for the new tree in a commit), whole trees only or not.
    mkdirSync(join(host, 'one')); hostFile('one/id', 'i\n', 0o600);
    const wasOne: Change = { path: join(host, 'one'), change: 'deleted', type: 'dir', size: 0, host: lstatB(join(host, 'one'))! };
    const h1 = lstatSync(join(host, 'one', 'id'));
    for (const whole of [true, false]) {
      const toOne: Change = { path: join(host, 'one.old'), change: 'added', type: 'dir', size: 0, up: { ...st0(), ...mine, type: 'dir', perm: 0o755 } };
      const id: Change = { path: join(host, 'one.old', 'id'), change: 'added', type: 'file', size: 2, upper: join(layer, 'one.old.id'), up: { ...st0(), size: 2, mtimeMs: h1.mtimeMs, perm: 0o644, uid: h1.uid, gid: h1.gid } };
      writeFileSync(join(layer, 'one.old.id'), 'i\n');
      const w: Change = { ...wasOne };
      pairDirMoves([w, toOne, id], [id], (a, b) => a === id.upper && b === join(host, 'one', 'id'), undefined, undefined, whole);
      assert.equal([toOne.movedFrom, toOne.movedChanged, [...changedTree(toOne)!.differ]], [w.path, true, ['id']], `whole trees only: ${!whole}`);
    }
    // Kept as it was: the whole tree moved, nothing changed.
    const was2: Change = { ...was, movedTo: undefined }, to2: Change = { ...to, movedFrom: undefined, movedChanged: undefined }, mv2 = [moved('a', 0o644), moved('key', 0o600)];
    pairDirMoves([was2, to2, ...mv2], mv2, same);
    assert.equal([to2.movedFrom, to2.movedChanged], [was.path, undefined]);
  } finally {
    closeAll();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test.run();
