// Real sandboxes, as root (canary under /opt) and as an unprivileged user (canary in $HOME): a
// command that writes __pycache__ bytecode for a module whose source it leaves as the host's.
// The .pyc's header names the source's mtime and size, so Python on the host would run the
// command's bytecode in place of that source after a commit: the review flags it, with its
// diff (docs/security.md, "What the review can hide"); the summary counts those of one tree on
// one flagged line, --all lists each. Bytecode of a source the command wrote itself (pip
// install) folds as before.
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { proveIsolation, sbx as run, type SbxResult, canary, storeAndCanary } from '../helpers/sbx.js';
import { ROOT_CASE, testUnless } from '../helpers/skip.js';
import { underPty, type PtyStep } from '../helpers/pty.js';
import { assertGroupedFlag, flaggedLines } from '../helpers/flagged.js';

const PY = spawnSync('python3', ['-c', '0']).status === 0 ? null : 'no python3 on this host';
// The interpreter's cache tag (cpython-311): compileall names the files with it.
const TAG = PY === null ? spawnSync('python3', ['-c', 'import sys; print(sys.implementation.cache_tag)'], { encoding: 'utf8' }).stdout.trim() : '';
const store = storeAndCanary();
// After the helper's own: the canary is made.
test.before.each(() => {
  mkdirSync(join(canary, 'lib'));
  writeFileSync(join(canary, 'lib/canary.py'), 'print("the host source")\n');
});

const sbx = (args: string[]): SbxResult => run(args, { store, timeoutMs: 300_000 });
const why = 'bytecode Python runs in place of its source (it checks mtime and size, not that the code matches the .py)';
const compile = (lib: string, name: string): string => `python3 -c 'import py_compile, sys; py_compile.compile(sys.argv[1], doraise=True)' ${lib}/${name}.py`;

testUnless(PY, { missing: true })('a .pyc written for an unchanged host source is flagged and listed with its diff, not folded', () => {
  proveIsolation(canary, store);
  const lib = join(canary, 'lib');
  const script = [compile(lib, 'canary'), `printf plain > ${lib}/__pycache__/canary.cpython-311.opt-1.pyc`].join(' && ');
  const r = sbx(['run', '--name', 'p', '--', 'sh', '-c', script]);
  assert.is(r.code, 0, r.stderr);
  const out = sbx(['diff', 'p']).stdout;
  const pyc = `${lib}/__pycache__/canary.cpython-311.pyc`;
  // One line for both (one rule, one tree); --all names each.
  assert.equal(flaggedLines(out).filter((l) => l.startsWith('! added')), [
    `! added: 2 bytecode files in ${lib}/__pycache__/ ('sbx diff p --all' lists each) [! ${why}]`,
  ], out);
  assert.equal(flaggedLines(sbx(['diff', 'p', '--all']).stdout).filter((l) => l.startsWith('! added')), [
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

testUnless(PY, { missing: true })('a module tree compiled inside is one flagged line; --all, --name-only and --json list each', () => {
  proveIsolation(canary, store);
  const lib = join(canary, 'lib');
  // A checkout made outside: 3 packages of host sources, no bytecode yet (canary.py is the 7th).
  const { pycs, script } = moduleTree(lib);
  const r = sbx(['run', '--name', 'm', '--', 'sh', '-c', script]);
  assert.is(r.code, 0, r.stderr);
  const line = `! added: 7 bytecode files in 3 dirs under ${lib}/ ('sbx diff m --all' lists each) [! ${why}]`;
  const trailer = '! 7 changes marked ! (code that runs later, or access for others): review them before keeping';
  // The summary after the run and sbx diff's: one line for the 7.
  const out = assertGroupedFlag(sbx, 'm', r.stdout + r.stderr, { line, trailer, why, paths: pycs, sensitive: 7 });
  // Each keeps its diff.
  for (const p of pycs) assert.ok(out.includes(`diff ${p} (added)\n`), p);
  assert.is(sbx(['discard', 'm']).code, 0);
});

// The module tree of the test above, written on the host, and the command that compiles it.
function moduleTree(lib: string): { pycs: string[]; script: string } {
  const mods = ['a', 'b', 'pkg/__init__', 'pkg/c', 'pkg/sub/__init__', 'pkg/sub/d'];
  mkdirSync(join(lib, 'pkg/sub'), { recursive: true });
  for (const m of mods) writeFileSync(join(lib, `${m}.py`), `X = ${JSON.stringify(m)}\n`);
  const pycs = ['canary', ...mods].map((m) => `${lib}/${m.replace(/[^/]+$/, '__pycache__/$&')}.${TAG}.pyc`).sort();
  return { pycs, script: `unset PYTHONDONTWRITEBYTECODE; python3 -m compileall -q ${lib} && echo ok > ${lib}/plain.txt` };
}

testUnless(PY, { missing: true })('the grouped line at the prompt: n to the flagged question keeps none of them; pick asks once for all', () => {
  proveIsolation(canary, store);
  const lib = join(canary, 'lib');
  const { pycs, script } = moduleTree(lib);
  const pty = (steps: PtyStep[]) => underPty(steps, ['run', '--', 'sh', '-c', script], { store, timeoutMs: 300_000 });
  let r = pty([['Keep these changes?', 'k\n'], ['n skips them', 'n\n']]);
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /7 flagged changes \(7 bytecode files\): yes keeps them, n skips them:/);
  assert.is(readFileSync(join(lib, 'plain.txt'), 'utf8'), 'ok\n');
  for (const p of pycs) assert.not.ok(existsSync(p), p);
  rmSync(join(lib, 'plain.txt'));
  // Pick: one question for the 7 (n), then all the rest.
  const q = `apply addition of 7 bytecode files in 3 dirs under ${lib}/ [! ${why}]? [y/n/a/q/?]`;
  r = pty([['Keep these changes?', 'p\n'], [q, 'n\n'], ['plain.txt? [y/n/a/q/?]', 'a\n'], ['picked change', 'y\n']]);
  assert.is(r.code, 0, r.out);
  assert.ok(r.out.includes(q), r.out);
  assert.is(r.out.split(q).length, 2, r.out);
  assert.is(readFileSync(join(lib, 'plain.txt'), 'utf8'), 'ok\n');
  for (const p of pycs) assert.not.ok(existsSync(p), p);
});

// The adversarial probe's shape: a harmless edit of another size to the host's source, and
// bytecode of other code whose header names the edited source's mtime and size. Python on the
// host runs the bytecode (checked here, in the sandbox), so the review must not fold it.
testUnless(PY, { missing: true })('bytecode of other code for a source the command edited is flagged, not folded', () => {
  proveIsolation(canary, store);
  const lib = join(canary, 'lib');
  const plant = `python3 -c 'import importlib.util as u, importlib._bootstrap_external as b, os, sys; s = sys.argv[1]; st = os.stat(s); c = u.cache_from_source(s); os.makedirs(os.path.dirname(c), exist_ok=True); open(c, "wb").write(b._code_to_timestamp_pyc(compile("print(\\"planted\\")", s, "exec"), st.st_mtime, st.st_size))' ${lib}/canary.py`;
  const script = `printf '# reviewed\\n' >> ${lib}/canary.py && ${plant} && cd ${lib} && python3 -c 'import canary'`;
  const r = sbx(['run', '--name', 'e', '--', 'sh', '-c', script]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes('planted'), r.stdout);
  const out = sbx(['diff', 'e']).stdout;
  // Root's canary is under /opt, where a changed .py is an installed program's code (the
  // system-code rule); the test user's is in its home.
  const inOpt = canary.startsWith('/opt/');
  assert.equal(flaggedLines(out), [
    ...(inOpt ? [`! modified: ${lib}/canary.py [! installed program's code changed (runs, or is built in, when it is next used)]`] : []),
    `! added: ${lib}/__pycache__/canary.${TAG}.pyc [! ${why}]`,
    inOpt ? '! 2 changes marked ! (code that runs later, or access for others): review them before keeping' : '! 1 change marked ! (code that runs later, or access for others): review it before keeping',
  ], out);
  assert.ok(out.includes('+# reviewed'), out);
  assert.is(sbx(['discard', 'e']).code, 0);
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

// The system's own dist-packages (Debian's /usr/lib/python3; else /usr/local's), written by a
// real root run of the host's python3 inside the sandbox, which is discarded: a .pth keeps its
// startup reason, a new package's modules are one python-library line (not one each).
const SYS_SITE = ['/usr/lib/python3/dist-packages', '/usr/lib64/python3/site-packages'].find((d) => existsSync(d)) ?? null;
testUnless(ROOT_CASE ?? PY ?? (SYS_SITE === null ? 'no /usr/lib/python3/dist-packages on this host' : null), { missing: PY !== null })('a root run writing a .pth and a package into the system dist-packages is flagged', () => {
  proveIsolation(canary, store);
  const name = `sbx_canary_${process.pid}_${Date.now()}`;
  const pth = `${SYS_SITE}/${name}.pth`, pkg = `${SYS_SITE}/${name}`;
  assert.not.ok(existsSync(pth) || existsSync(pkg), 'the names are free on the host');
  const code = `import os, sys; d, n = sys.argv[1], sys.argv[2]; open(f"{d}/{n}.pth", "w").write("import os\\n"); os.makedirs(f"{d}/{n}/sub")
for m in ("__init__.py", "a.py", "sub/b.py"): open(f"{d}/{n}/{m}", "w").write("x = 1\\n")`;
  try {
    const r = sbx(['run', '--name', 'sys', '--', 'python3', '-c', code, SYS_SITE!, name]);
    assert.is(r.code, 0, r.stderr);
    const out = sbx(['diff', 'sys']).stdout;
    assert.equal(flaggedLines(out).filter((l) => l.startsWith('! added')), [
      `! added: ${pth} [! Python startup code (runs at every start of a Python that uses this site-packages)]`,
      `! added: 3 Python library files in 2 dirs under ${pkg}/ ('sbx diff sys --all' lists each) [! Python library code (every Python on the host that imports it runs it, root's too)]`,
    ], out);
    assert.is(flaggedLines(sbx(['diff', 'sys', '--all']).stdout).filter((l) => l.includes('[! Python library code')).length, 3);
  } finally {
    assert.is(sbx(['discard', 'sys']).code, 0);
  }
  assert.not.ok(existsSync(pth) || existsSync(pkg), 'nothing reached the host');
});

test.run();
