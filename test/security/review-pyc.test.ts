// Real sandboxes, as root (canary under /opt) and as an unprivileged user (canary in $HOME): a
// command that writes __pycache__ bytecode for a module whose source it leaves as the host's.
// The .pyc's header names the source's mtime and size, so Python on the host would run the
// command's bytecode in place of that source after a commit: the review flags it and lists it
// on its own line (docs/security.md, "What the review can hide"). Bytecode of a source the
// command wrote itself (pip install) folds as before.
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCanary, makeStore, proveIsolation, removeCanary, removeStore, sbx as run, type SbxResult } from '../helpers/sbx.js';
import { testUnless } from '../helpers/skip.js';

const PY = spawnSync('python3', ['-c', '0']).status === 0 ? null : 'no python3 on this host';
const store = makeStore();
let canary = '';
test.before.each(() => {
  canary = makeCanary();
  mkdirSync(join(canary, 'lib'));
  writeFileSync(join(canary, 'lib/canary.py'), 'print("the host source")\n');
});
test.after.each(() => removeCanary(canary));
test.after(() => removeStore(store));

const sbx = (args: string[]): SbxResult => run(args, { store, timeoutMs: 300_000 });
const why = 'bytecode Python runs in place of an unchanged source';
const flaggedLines = (out: string): string[] => out.split('\n').filter((l) => l.startsWith('! ')).map((l) => l.replace(/ +/g, ' '));
const compile = (lib: string, name: string): string => `python3 -c 'import py_compile, sys; py_compile.compile(sys.argv[1], doraise=True)' ${lib}/${name}.py`;

testUnless(PY, { missing: true })('a .pyc written for an unchanged host source is flagged and listed with its diff, not folded', () => {
  proveIsolation(canary, store);
  const lib = join(canary, 'lib');
  const script = [compile(lib, 'canary'), `printf plain > ${lib}/__pycache__/canary.cpython-311.opt-1.pyc`].join(' && ');
  const r = sbx(['run', '--name', 'p', '--', 'sh', '-c', script]);
  assert.is(r.code, 0, r.stderr);
  const out = sbx(['diff', 'p']).stdout;
  const pyc = `${lib}/__pycache__/canary.cpython-311.pyc`;
  assert.equal(flaggedLines(out).filter((l) => l.startsWith('! added')), [
    `! added: ${lib}/__pycache__/canary.cpython-311.opt-1.pyc [! ${why}]`,
    `! added: ${pyc} [! ${why}]`,
  ], out);
  // Only the new __pycache__ dir itself folds.
  assert.match(out, /added: {4}1 in python bytecode, folded/);
  // Each one's diff is shown, not left out with the fold's.
  assert.ok(out.includes(`diff ${pyc} (added)\n`), out);
  assert.ok(out.includes(`+plain`), out);
  assert.not.match(out, /diffs left out/);
  assert.is(sbx(['discard', 'p']).code, 0);
});

testUnless(PY, { missing: true })('a .pyc of a source the command wrote too folds as before', () => {
  proveIsolation(canary, store);
  const lib = join(canary, 'lib');
  const r = sbx(['run', '--name', 'q', '--', 'sh', '-c', `printf 'print(2)\\n' > ${lib}/fresh.py && ${compile(lib, 'fresh')}`]);
  assert.is(r.code, 0, r.stderr);
  const out = sbx(['diff', 'q']).stdout;
  assert.equal(flaggedLines(out), [], out);
  assert.match(out, /added: {4}\d+ in python bytecode \([^)]*\), folded/);
  assert.ok(out.includes(`${lib}/fresh.py`), out);
  assert.is(sbx(['discard', 'q']).code, 0);
});

test.run();
