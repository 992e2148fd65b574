// The floor of `sbx run` from Node with this helper (bench/startup.mjs): Node's start,
// the helper's start as sbx makes it (process_wrap's Process, not node:child_process, which
// loads node:net and the streams: sandbox-core/base/light-process.ts), the run's cgroups made, the helper started on a spec that sbx made for a run
// of the same view (read from a file), waited for, the cgroups removed. What sbx loads and
// plans before the helper and does after it is left out.
//   node _run-floor.cjs [--layers LAYERS_JSON] HELPER SPEC VERSION CGROUP_DIR...
// With --layers (a throwaway run's spec, bench/_snap-layers.cjs): the layers dir as sbx made
// it before the launch (the dir, the stand-in tree's copied files) is made first, and removed
// after the helper, as sbx does: the helper needs it and removes only what it made there.
'use strict';
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
function start(file, argv, fds, exited) {
  const { Process } = process.binding('process_wrap');
  const h = new Process();
  h.onexit = (code, signal) => { h.close(); exited(signal ? null : code, signal || null); };
  const err = h.spawn({ file, args: [file, ...argv], envPairs: [], stdio: fds.map((fd) => ({ type: 'fd', fd })), detached: false });
  if (err) throw new Error(`spawn ${file}: ${err}`);
}
start(helper, ['run', '3', '4', version], [0, 1, 2, spec, status], (code, signal) => {
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
