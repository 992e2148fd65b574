// Real sandboxes, as root and as an unprivileged user: changes the review used to show without
// a `!` although they make code run later, and that `sbx commit` applies (docs/security.md,
// "What the review can hide"). Committed only into the canary tree.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { proveIsolation, sbx as run, type SbxResult, canary, storeAndCanary } from '../helpers/sbx.js';

const store = storeAndCanary();
// After the helper's own: the canary is made.
test.before.each(() => {
  mkdirSync(join(canary, 'bin'));
  writeFileSync(join(canary, 'bin/tool'), 'echo tool\n');
  chmodSync(join(canary, 'bin/tool'), 0o644);
  writeFileSync(join(canary, 'bin/runme'), '#!/bin/sh\n');
  chmodSync(join(canary, 'bin/runme'), 0o755);
  mkdirSync(join(canary, 'site-packages/__pycache__'), { recursive: true });
});

// The canary's bin is on PATH for the review, as ~/.local/bin or /usr/local/bin is.
const sbx = (args: string[]): SbxResult => run(args, { store, env: { PATH: `${canary}/bin:${process.env.PATH}` }, timeoutMs: 300_000 });

test('chmod +x and o+w of commands on PATH and a sitecustomize.pyc are flagged, a sourceless module.pyc listed; commit applies them', () => {
  proveIsolation(canary, store);
  const sp = join(canary, 'site-packages');
  const script = [`chmod +x ${canary}/bin/tool`, `chmod o+w ${canary}/bin/runme`, `printf bytecode > ${sp}/sitecustomize.pyc`,
    `printf bytecode > ${sp}/json.pyc`, `printf cache > ${sp}/__pycache__/a.cpython-311.pyc`].join(' && ');
  const r = sbx(['run', '--name', 'h', '--', 'sh', '-c', script]);
  assert.is(r.code, 0, r.stderr);
  const out = sbx(['diff', 'h']).stdout;
  const flagged = out.split('\n').filter((l) => l.startsWith('! ')).map((l) => l.replace(/ +/g, ' '));
  assert.equal(flagged, [
    `! added: ${sp}/sitecustomize.pyc [! Python startup code (runs at every start of a Python that uses this site-packages)]`,
    `! metadata: ${canary}/bin/runme (mode 755→757) [! command in PATH: who may run or write it changed]`,
    `! metadata: ${canary}/bin/tool (mode 644→755) [! command in PATH: who may run or write it changed]`,
    '! 3 changes marked ! (code that runs later, or access for others): review them before keeping',
  ], out);
  assert.ok(out.includes(`  added:    ${sp}/json.pyc\n`), out);
  assert.match(out, /added: {4}1 in python bytecode \(5 B\), folded/);
  // What the review showed is what the commit writes.
  const c = sbx(['commit', 'h']);
  assert.is(c.code, 0, c.stderr);
  assert.is(statSync(join(canary, 'bin/tool')).mode & 0o7777, 0o755);
  assert.is(statSync(join(canary, 'bin/runme')).mode & 0o7777, 0o757);
  assert.ok(statSync(join(sp, 'sitecustomize.pyc')).isFile());
});

test.run();
