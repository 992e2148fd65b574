// Every string sbx prints that came from a path, a name, an id, argv, a policy file or an error
// goes through the one escaping function: escape bytes in any of them must never reach the
// terminal raw, on stderr (messages) or stdout (sbx ls, policy show).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCanary, makeStore, proveIsolation, removeCanary, sbx, removeStore } from '../helpers/sbx.js';

const store = makeStore();
test.after(() => removeStore(store));

const EVIL = 'evil\x1b[31mRED\x1b]0;title\x07\x9b2J';
// A raw ESC, BEL, CSI (C1) or any C0 control other than newline is the terminal being driven.
const RAW = /[\x00-\x09\x0b-\x1f\x7f\x9b]/;

function clean(where: string, text: string): void {
  assert.not.ok(RAW.test(text), `raw control bytes in ${where}: ${JSON.stringify(text)}`);
}

test('an unknown id or name, a bad --name and an unknown option are escaped', () => {
  for (const args of [['diff', EVIL], ['commit', EVIL], ['discard', EVIL], ['run', '--name', EVIL, '--', 'true'], ['run', `--${EVIL}`, '--', 'true'], ['policy', 'show', `./${EVIL}.json`], ['run', '-n', '--policy', `/nonexistent/${EVIL}`, '--', 'true']]) {
    const r = sbx(args, { store });
    assert.ok(r.code !== 0, `${JSON.stringify(args)} succeeded`);
    clean(`stderr of ${JSON.stringify(args)}`, r.stderr);
    clean(`stdout of ${JSON.stringify(args)}`, r.stdout);
    assert.match(r.stderr, /\\x1b|\\u\{9b\}/, r.stderr);
  }
});

test('a policy file whose comments and description carry escapes is shown escaped', () => {
  const dir = join(store, 'pol');
  mkdirSync(dir, { recursive: true });
  const p = join(dir, 'p.json');
  writeFileSync(p, JSON.stringify({ version: 1, description: EVIL, defaultAction: 'allow', rules: [{ syscalls: ['read'], action: 'allow', comment: EVIL }] }));
  const r = sbx(['policy', 'show', p], { store });
  assert.is(r.code, 0, r.stderr);
  clean('policy show', r.stdout);
  assert.match(r.stdout, 'evil\\x1b[31mRED');
});

test('a conflict line and the change summary for a directory named with escapes', () => {
  const canary = makeCanary();
  try {
    proveIsolation(canary, store);
    const dir = join(canary, EVIL);
    mkdirSync(dir);
    writeFileSync(join(dir, 'f'), 'host\n');
    const name = `esc${process.pid}`;
    const run = sbx(['run', '--name', name, '--', 'sh', '-c', `echo sandbox > "$1/f"; echo new > "$1/g"`, 'sh', dir], { store });
    assert.is(run.code, 0, run.stderr);
    clean('run summary', run.stderr);
    assert.match(run.stderr, 'evil\\x1b[31mRED');
    writeFileSync(join(dir, 'f'), 'host changed meanwhile\n');
    const commit = sbx(['commit', name], { store });
    assert.is(commit.code, 1, commit.stderr);
    assert.match(commit.stderr, /Conflicts/);
    clean('commit conflicts', commit.stderr);
    const diff = sbx(['diff', name], { store });
    clean('diff', diff.stdout + diff.stderr);
    sbx(['discard', name], { store });
  } finally {
    removeCanary(canary);
  }
});

test('sbx ls shows a tampered name in meta.json escaped', () => {
  const name = `ls${process.pid}`;
  const run = sbx(['run', '--name', name, '--', 'true'], { store });
  assert.is(run.code, 0, run.stderr);
  for (const id of readdirSync(store)) {
    const f = join(store, id, 'meta.json');
    let meta: { name?: string };
    try { meta = JSON.parse(readFileSync(f, 'utf8')); } catch { continue; }
    if (meta.name !== name) continue;
    writeFileSync(f, JSON.stringify({ ...meta, name: `${name}${EVIL}`, command: ['echo', EVIL] }));
  }
  const ls = sbx(['ls'], { store });
  clean('ls stdout', ls.stdout);
  clean('ls stderr', ls.stderr);
});

test.run();
