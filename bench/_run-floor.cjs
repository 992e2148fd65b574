// The floor of `sbx run` from Node with this helper (bench/startup.mjs): Node's start,
// child_process, the run's cgroups made, the helper started on a spec that sbx made for a run
// of the same view (read from a file), waited for, the cgroups removed. What sbx loads and
// plans before the helper and does after it is left out.
//   node _run-floor.cjs [--layers LAYERS_JSON] HELPER SPEC VERSION CGROUP_DIR...
// With --layers (a throwaway run's spec, bench/_snap-layers.cjs): the layers dir as sbx made
// it before the launch (the dir, the stand-in tree's copied files) is made first, and removed
// after the helper, as sbx does: the helper needs it and removes only what it made there.
'use strict';
const { spawn } = require('node:child_process');
const { copyFileSync, mkdirSync, openSync, readFileSync, rmdirSync, rmSync, unlinkSync } = require('node:fs');
const { join } = require('node:path');

const args = process.argv.slice(2);
const layers = args[0] === '--layers' ? JSON.parse(readFileSync(args.splice(0, 2)[1], 'utf8')) : null;
const [helper, specFile, version, ...cgroups] = args;
for (const d of cgroups) mkdirSync(d);
if (layers) {
  mkdirSync(layers.layers, { mode: 0o700 });
  for (const [kind, rel] of layers.manifest) {
    if (kind === 'd') mkdirSync(join(layers.layers, rel), { mode: 0o700 });
    else copyFileSync(join(layers.snap, rel), join(layers.layers, rel));
  }
}
const spec = openSync(specFile, 'r');
const status = openSync('/dev/null', 'a');
spawn(helper, ['run', '3', '4', version], { stdio: ['inherit', 'inherit', 'inherit', spec, status], env: {} }).on('exit', (code, signal) => {
  for (const d of cgroups.reverse()) rmdirSync(d);
  if (layers) {
    // What the helper leaves: the files sbx put at the top, then the dir.
    try {
      for (const [kind, rel] of layers.manifest) if (kind === 'f' && !rel.includes('/')) unlinkSync(join(layers.layers, rel));
      rmdirSync(layers.layers);
    } catch {
      rmSync(layers.layers, { recursive: true, force: true });
    }
  }
  process.exitCode = code ?? (signal ? 128 : 1);
});
