// The floor of `sbx run` from Node with this helper (bench/startup.mjs): Node's start,
// child_process, the run's cgroups made, the helper started on a spec that sbx made for a run
// of the same view (read from a file), waited for, the cgroups removed. What sbx loads and
// plans before the helper and does after it is left out.
'use strict';
const { spawn } = require('node:child_process');
const { mkdirSync, openSync, rmdirSync } = require('node:fs');

const [helper, specFile, version, ...cgroups] = process.argv.slice(2);
for (const d of cgroups) mkdirSync(d);
const spec = openSync(specFile, 'r');
const status = openSync('/dev/null', 'a');
spawn(helper, ['run', '3', '4', version], { stdio: ['inherit', 'inherit', 'inherit', spec, status], env: {} }).on('exit', (code, signal) => {
  for (const d of cgroups.reverse()) rmdirSync(d);
  process.exitCode = code ?? (signal ? 128 : 1);
});
