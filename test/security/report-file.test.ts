// `sbx run --report FILE` is written by sbx after the command (root's sbx under sudo). A command
// given a host dir with --bind could put a symlink at FILE, or in place of a dir on its way, and
// sbx wrote its JSON wherever that led: another file of the host overwritten (found 2026-12-05).
// FILE's dir is now opened before the command runs and the report renamed onto the name
// (cli/report-file.ts). Only canary trees the test makes are involved.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCanary, proveIsolation, provenStore, removeCanary, sbx } from '../helpers/sbx.js';

const store = provenStore();
let canary = '';
test.before.each(() => {
  canary = makeCanary();
  proveIsolation(canary, store);
  mkdirSync(join(canary, 'out', 'sub'), { recursive: true });
  writeFileSync(join(canary, 'victim'), 'keep\n');
});
test.after.each(() => removeCanary(canary));

const victim = (): string => readFileSync(join(canary, 'victim'), 'utf8');
const isReport = (p: string): boolean => (JSON.parse(readFileSync(p, 'utf8')) as { changes?: unknown }).changes !== undefined;

test('a symlink the command puts at FILE through --bind is replaced by the report, not followed', () => {
  const out = join(canary, 'out');
  const r = sbx(['run', '-n', '-q', '--bind', out, '--report', join(out, 'r.json'), '--', 'ln', '-s', join(canary, 'victim'), join(out, 'r.json')], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(victim(), 'keep\n', 'the file the link named is untouched');
  assert.ok(lstatSync(join(out, 'r.json')).isFile());
  assert.ok(isReport(join(out, 'r.json')));
});

test("a dir on FILE's way swapped for a symlink by the command: the report goes to the dir named at the start", () => {
  const out = join(canary, 'out');
  const r = sbx(['run', '-n', '-q', '--bind', out, '--report', join(out, 'sub', 'victim'), '--',
    'sh', '-c', `mv '${out}/sub' '${out}/sub2' && ln -s '${canary}' '${out}/sub'`], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(victim(), 'keep\n', 'the link led to the canary\'s own victim file: untouched');
  assert.is(readlinkSync(join(out, 'sub')), canary);
  assert.ok(isReport(join(out, 'sub2', 'victim')), 'written in the dir it was, under its new name');
});

test("the user's own link at FILE, made before the run, is followed, also to a file not there yet", () => {
  symlinkSync(join(canary, 'out', 'target.json'), join(canary, 'out', 'mine.json'));
  const r = sbx(['run', '-n', '-q', '--report', join(canary, 'out', 'mine.json'), '--', 'true'], { store });
  assert.is(r.code, 0, r.stderr);
  assert.ok(lstatSync(join(canary, 'out', 'mine.json')).isSymbolicLink());
  assert.ok(isReport(join(canary, 'out', 'target.json')));
});

test('a FILE that cannot be written is refused before anything runs, in one line', () => {
  const mark = join(canary, 'ran');
  for (const [file, want] of [
    [join(canary, 'missing', 'r.json'), 'its directory cannot be opened (ENOENT)'],
    [join(canary, 'out'), 'a directory, not a file'],
  ] as const) {
    const r = sbx(['run', '-n', '-q', '--report', file, '--', 'touch', mark], { store });
    assert.is(r.code, 125, r.stderr);
    assert.is(r.stderr, `sbx: error: --report ${file}: ${want}; nothing ran (name a file in an existing directory you can write)\n`);
  }
  const r = sbx(['run', '-n', '-q', '--report', '', '--', 'true'], { store });
  assert.is(r.code, 125, r.stderr);
  assert.match(r.stderr, /^sbx: error: --report '': give the file to write\n/);
});

test.run();
