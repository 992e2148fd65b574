// A crash inside does not start the host's piped crash handler (sandbox-core/core-dumps.ts).
// Root only: the test sets the host's core_pattern to a handler of its own for the few seconds
// it runs (restored in every case), crashes a process outside (control: the handler runs)
// and one inside sbx (it must not).
// sbx-test: serial (the runner runs nothing beside this file: security/procfs compares the host's
// core_pattern before and after a run, and read this file's handler in a fresh-clone run).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCanary, makeStore, proveIsolation, removeCanary, removeStore, sbx } from '../helpers/sbx.js';
import { ROOT_CASE, testUnless } from '../helpers/skip.js';
import { CORE_PATTERN } from '../../sandbox-core/core-dumps.js';

const rootTest = testUnless(ROOT_CASE);
let canary = '', store = '';
test.before(() => { canary = makeCanary(); store = makeStore(); proveIsolation(canary, store); });
test.after(() => { removeCanary(canary); removeStore(store); });

/** Waits (polling) up to `ms` for the handler to have been called for `name`. */
function called(marker: string, name: string, ms: number): boolean {
  const seen = () => existsSync(marker) && readFileSync(marker, 'utf8').split('\n').includes(name);
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (seen()) return true;
    spawnSync('sleep', ['0.05']);
  }
  return seen();
}

rootTest('a crash inside never reaches a piped core handler on the host; one outside does (control)', () => {
  const dir = mkdtempSync('/tmp/sbx-core-handler-');
  const handler = join(dir, 'handler'), marker = join(dir, 'called');
  writeFileSync(handler, `#!/bin/sh\necho "$1" >> '${marker}'\ncat > /dev/null\n`);
  chmodSync(dir, 0o755);
  chmodSync(handler, 0o755);
  // The crashing program has a name of its own (the handler gets %e): a crash elsewhere on
  // the machine in these seconds goes to the handler too, and must not count.
  const name = `sbxcrash${process.pid % 100000}`;
  copyFileSync('/bin/sh', join(dir, name));
  chmodSync(join(dir, name), 0o755);
  const saved = readFileSync(CORE_PATTERN, 'latin1');
  const crash = `ulimit -c unlimited 2>/dev/null; ${join(dir, name)} -c 'kill -SEGV $$'; echo crashed`;
  try {
    writeFileSync(CORE_PATTERN, `|${handler} %e`);
    const outside = spawnSync('sh', ['-c', crash], { encoding: 'utf8' });
    assert.match(outside.stdout, /crashed/);
    assert.ok(called(marker, name, 5000), 'control: a crash outside did not run the handler');
    rmSync(marker);
    const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', `${crash}; grep core /proc/self/limits`], { store });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /crashed\nMax core file size +1 +1 +bytes/, 'the core limit inside is not 1, hard');
    assert.not.ok(called(marker, name, 2000), 'a crash inside the sandbox ran the host\'s core handler');
  } finally {
    writeFileSync(CORE_PATTERN, saved);
    rmSync(dir, { recursive: true, force: true });
  }
  assert.is(readFileSync(CORE_PATTERN, 'latin1'), saved);
});

test.run();
