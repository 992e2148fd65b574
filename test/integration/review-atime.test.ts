// A review reads host files (to compare and diff them) without moving their atimes: what the
// host's files say about when they were last read is the host's, not sbx's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { homedir, tmpdir } from 'node:os';
import { removeTree } from '../../sandbox-core/store.js';
import { awaitDetachedRemovals, sbx as run } from '../helpers/sbx.js';
import { ROOT_CASE, testUnless } from '../helpers/skip.js';
import { CANARY } from '../helpers/canary-name.js';

// As the unprivileged user, in its home: a root-owned dir could not be copied up inside.
const base = process.getuid?.() === 0 ? '/tmp' : homedir();
const OLD = 978307200; // 2001-01-01: older than the mtime, so a read moves it (relatime)
const MTIME = 1009843200; // 2002-01-01

/** Whether a plain read moves an old atime on this filesystem (not mounted noatime). */
function readsMoveAtime(): boolean {
  const d = mkdtempSync(join(base, 'sbx-atime-probe-'));
  try {
    const f = join(d, 'probe');
    writeFileSync(f, 'probe\n');
    utimesSync(f, OLD, MTIME);
    readFileSync(f);
    return lstatSync(f).atimeMs !== OLD * 1000;
  } finally {
    removeTree(d);
  }
}

/** Why these tests cannot tell anything here, or null. */
const NO_ATIMES = readsMoveAtime() ? null : `reads do not move atimes on ${base}'s filesystem (noatime)`;

type Sbx = (args: string[]) => ReturnType<typeof run>;

/** A canary tree and a store of the test's own, and sbx run in them; both removed however the test ends. */
function withCanary(body: (canary: string, sbx: Sbx, home: string) => void): void {
  const canary = mkdtempSync(join(base, CANARY));
  const home = mkdtempSync(join(tmpdir(), 'sbx-home-'));
  try {
    body(canary, (args) => run(args, { store: home, cwd: canary, timeoutMs: 300_000 }), home);
  } finally {
    removeTree(canary);
    awaitDetachedRemovals(home);
    removeTree(home);
  }
}

testUnless(NO_ATIMES)('a run\'s summary and sbx diff read the changed host file without moving its atime', () => {
  withCanary((canary, sbx) => {
    const f = join(canary, 'f.txt');
    writeFileSync(f, 'abc\n');
    utimesSync(f, OLD, MTIME);
    // The same size with other bytes: the review has to read both sides to tell.
    const r = sbx(['run', '--', 'sh', '-c', `printf 'xyz\\n' > ${f}`]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /saved/);
    const [meta] = JSON.parse(sbx(['ls', '--json']).stdout) as Array<{ id: string }>;
    const d = sbx(['diff', meta!.id]);
    assert.is(d.code, 0, d.stderr);
    assert.match(d.stdout, /-abc\n\+xyz/);
    // The atime first: this test's own read of the file moves it.
    assert.is(lstatSync(f).atimeMs, OLD * 1000, 'the host file was not read with its atime moved');
    assert.is(readFileSync(f, 'utf8'), 'abc\n', 'and is untouched');
    sbx(['discard', meta!.id]);
  });
});

testUnless(NO_ATIMES)("sbx ls and sbx diff list a sandbox's new directory without moving its atime (the one a commit keeps)", () => {
  withCanary((canary, sbx, home) => {
    const r = sbx(['run', '--', 'sh', '-c', `mkdir ${canary}/made && echo x > ${canary}/made/f`]);
    assert.is(r.code, 0, r.stderr);
    const [row] = JSON.parse(sbx(['ls', '--json']).stdout) as Array<{ id: string }>;
    // The layer holding the canary: the one whose target is its longest prefix.
    const meta = JSON.parse(readFileSync(join(home, row!.id, 'meta.json'), 'utf8')) as { layers: Array<{ target: string; dir: string }> };
    const layer = meta.layers.filter((l) => canary === l.target || canary.startsWith(l.target === '/' ? '/' : `${l.target}/`)).sort((a, b) => b.target.length - a.target.length)[0]!;
    const made = join(home, row!.id, layer.dir, 'upper', canary.slice(layer.target === '/' ? 0 : layer.target.length), 'made');
    utimesSync(made, OLD, MTIME);
    // sbx ls counts what the layers hold (to scan a big sandbox alone): no atime moves either.
    const l = sbx(['ls']);
    assert.is(l.code, 0, l.stderr);
    assert.is(lstatSync(made).atimeMs, OLD * 1000, 'sbx ls counted it without moving its atime');
    const d = sbx(['diff', row!.id]);
    assert.is(d.code, 0, d.stderr);
    assert.match(d.stdout, /made\/f/);
    assert.is(lstatSync(made).atimeMs, OLD * 1000, 'the review listed it without moving its atime');
    sbx(['discard', row!.id]);
  });
});

// Root's overlays read the host's files with O_NOATIME (overlayfs does, for a mounter that may:
// root may), a copy-up too; an ordinary user's system trees are fuse-overlayfs's, which reads
// the host as the user and moves atimes as any reader does, so this is root's case. A guard:
// it passes on today's code, and fails if a change of the view makes the sandbox's reads
// reach the host's atimes.
testUnless(ROOT_CASE ?? NO_ATIMES)("root: what the command reads of the host, and a copy-up, leave the host files' atimes as they were", () => {
  withCanary((canary, sbx) => {
    const read = join(canary, 'read.txt'), changed = join(canary, 'changed.txt');
    writeFileSync(read, 'r\n');
    writeFileSync(changed, 'c\n');
    for (const f of [read, changed]) utimesSync(f, OLD, MTIME);
    const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', `cat ${read} >/dev/null && echo more >> ${changed}`]);
    assert.is(r.code, 0, r.stderr);
    assert.equal([lstatSync(read).atimeMs, lstatSync(changed).atimeMs], [OLD * 1000, OLD * 1000]);
    assert.is(readFileSync(changed, 'utf8'), 'c\n', 'and the host file is as it was');
  });
});

/**
 * A host tree a sandbox deletes (`gone`: one whiteout) and a dir it replaces (`opq`: rm -rf,
 * then mkdir: an opaque dir), each with dirs below, every dir's atime OLD (older than its
 * mtime: a listing moves it under relatime). Returns the dirs.
 */
function deletedTrees(canary: string): string[] {
  const dirs = ['gone', 'gone/a', 'gone/a/b', 'gone/c', 'opq', 'opq/sub', 'opq/sub/deep'].map((d) => join(canary, d));
  for (const d of dirs) mkdirSync(d);
  for (const d of dirs) writeFileSync(join(d, 'f'), 'x\n');
  return dirs;
}

function makeOld(paths: string[]): void {
  // Deepest first: nothing made below a dir after its times are set.
  for (const p of [...paths].reverse()) utimesSync(p, OLD, MTIME);
}

const DELETE_AND_REPLACE = (canary: string) => `rm -rf ${canary}/gone ${canary}/opq && mkdir ${canary}/opq && echo n > ${canary}/opq/new`;

function atimesMoved(dirs: string[]): string[] {
  return dirs.filter((d) => lstatSync(d).atimeMs !== OLD * 1000);
}

// The run's own summary: the command's listings are root's overlayfs's, which reads the host's
// dirs O_NOATIME (an ordinary user's fuse-overlayfs lists them as the user: that run moves them).
testUnless(ROOT_CASE ?? NO_ATIMES)("root: a run's summary counts a deleted host tree and lists a replaced dir's host side without moving their atimes", () => {
  withCanary((canary, sbx) => {
    const dirs = deletedTrees(canary);
    makeOld(dirs);
    const r = sbx(['run', '-n', '--', 'sh', '-c', DELETE_AND_REPLACE(canary)]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /gone\/ \(7 entries, 8 B/);
    assert.match(r.stderr, /opq\/sub\//);
    assert.equal(atimesMoved(dirs), []);
  });
});

testUnless(NO_ATIMES)("sbx diff counts a deleted host tree and lists a replaced dir's host side without moving their atimes", () => {
  withCanary((canary, sbx) => {
    const dirs = deletedTrees(canary);
    const r = sbx(['run', '--', 'sh', '-c', DELETE_AND_REPLACE(canary)]);
    assert.is(r.code, 0, r.stderr);
    const [row] = JSON.parse(sbx(['ls', '--json']).stdout) as Array<{ id: string }>;
    // After the run and its summary: an ordinary user's command lists the host as the user.
    makeOld(dirs);
    const d = sbx(['diff', row!.id]);
    assert.is(d.code, 0, d.stderr);
    assert.match(d.stdout, /gone\/ \(7 entries, 8 B/);
    assert.match(d.stdout, /opq\/sub\//);
    assert.equal(atimesMoved(dirs), []);
    sbx(['discard', row!.id]);
  });
});

testUnless(NO_ATIMES)('a commit that refuses to remove a host tree changed meanwhile leaves its dirs\' atimes as they were', () => {
  withCanary((canary, sbx) => {
    const dirs = deletedTrees(canary).filter((d) => d.includes('/gone'));
    const r = sbx(['run', '--', 'rm', '-rf', `${canary}/gone`]);
    assert.is(r.code, 0, r.stderr);
    const [row] = JSON.parse(sbx(['ls', '--json']).stdout) as Array<{ id: string }>;
    // The host writes in the tree after the start: the commit must not remove it.
    writeFileSync(join(canary, 'gone/a/b/later'), 'later\n');
    makeOld(dirs);
    const c = sbx(['commit', row!.id]);
    assert.is.not(c.code, 0, 'the commit refuses');
    assert.match(c.stderr, /changed after the sandbox started/);
    assert.equal(atimesMoved(dirs), []);
    sbx(['discard', row!.id]);
  });
});

test.run();
