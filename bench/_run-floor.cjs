// The floor of `sbx run` from Node with this helper (bench/startup.mjs): Node's start, the
// run's cgroups made, the helper started (as sbx starts it) on a spec that sbx made for a run
// of the same view (read from a file), waited for, the cgroups removed. What sbx loads and
// plans before the helper and does after it is left out.
//   node _run-floor.cjs [--layers LAYERS_JSON] HELPER SPEC VERSION CGROUP_DIR...
// With --layers (a throwaway run's spec, bench/_snap-layers.cjs): the layers dir as sbx made
// it before the launch (the dir, the stand-in tree's copied files) is made first, and removed
// after the helper, as sbx does: the helper needs it and removes only what it made there.
'use strict';
const { copyFileSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, rmdirSync, rmSync, unlinkSync } = require('node:fs');
const { join } = require('node:path');

const args = process.argv.slice(2);
const layers = args[0] === '--layers' ? JSON.parse(readFileSync(args.splice(0, 2)[1], 'utf8')) : null;
const [helper, specFile, version, ...cgroups] = args;
// The spec's cgroups and the scratch tree's mark name a live process already (bench/_floor-claim.cjs).
for (const d of cgroups) mkdirSync(d);
if (layers) {
  mkdirSync(layers.layers, { mode: 0o700 });
  for (const [kind, rel] of layers.manifest) {
    if (kind === 'd') mkdirSync(join(layers.layers, rel), { mode: 0o700 });
    else copyFileSync(join(layers.snap, rel), join(layers.layers, rel));
  }
}
const spec = openSync(specFile, 'r');
// The helper reports a failed step on this fd, not on stderr: kept so a failed floor says why.
const statusFile = join(require('node:os').tmpdir(), `sbx-floor-status-${process.pid}`);
const status = openSync(statusFile, 'w+', 0o600);
unlinkSync(statusFile);
// As sbx starts the helper (sandbox-core/base/light-process.ts): process_wrap's Process, not
// node:child_process, whose load would be in the floor and not in sbx.
function start(onExit) {
  const binding = process.binding;
  if (typeof binding !== 'function' || binding.name !== 'binding') {
    require('node:child_process').spawn(helper, ['run', '3', '4', version], { stdio: ['inherit', 'inherit', 'inherit', spec, status], env: {} }).on('exit', onExit);
    return;
  }
  const h = new (binding('process_wrap').Process)();
  h.onexit = (code, signal) => { h.close(); onExit(signal ? null : code, signal || null); };
  const err = h.spawn({ file: helper, args: [helper, 'run', '3', '4', version], envPairs: [], stdio: [0, 1, 2, spec, status].map((fd) => ({ type: 'fd', fd })), detached: false });
  if (err !== 0) throw new Error(`spawn ${helper}: ${err}`);
}
start((code, signal) => {
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
  if (code !== 0) {
    const said = Buffer.alloc(Math.min(fstatSync(status).size, 4096));
    readSync(status, said, 0, said.length, 0);
    process.stderr.write(`the helper: ${code ?? signal}: ${said.toString().trim()}\n`);
  }
  process.exitCode = code ?? (signal ? 128 : 1);
});
