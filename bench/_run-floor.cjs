// The floor of `sbx run` from Node with this helper (bench/startup.mjs): Node's start, the
// run's cgroups made, the helper started (as sbx starts it) on a spec that sbx made for a run
// of the same view (read from a file), waited for, the cgroups removed. What sbx loads and
// plans before the helper and does after it is left out.
//   node _run-floor.cjs [--layers LAYERS_JSON] HELPER SPEC VERSION CGROUP_DIR...
// With --layers (a throwaway run's spec, bench/_snap-layers.cjs): the layers dir as sbx made
// it before the launch (the dir, the stand-in tree's copied files) is made first, and removed
// after the helper, as sbx does: the helper needs it and removes only what it made there.
'use strict';
const { copyFileSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, rmdirSync, rmSync, unlinkSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const args = process.argv.slice(2);
const layers = args[0] === '--layers' ? JSON.parse(readFileSync(args.splice(0, 2)[1], 'utf8')) : null;
const [helper, specFile, version, ...theirs] = args;
// The spec's cgroups are named for the sbx run it came from (sbx-<id>-<pid>), long gone: any
// other sbx started meanwhile sweeps them as stale (sandbox-core/cgroup/lifecycle.ts), under
// the helper. They are named for this process, as sbx names its own.
const renamed = new Map(theirs.map((d) => [d, d.replace(/-\d+$/, `-${process.pid}`)]));
const cgroups = [...renamed.values()];
/** The scratch tree's mark (store.ts SCRATCH_MARK) as this process's, as sbx marks its own: another sbx sweeps a tree whose process is gone. */
function ownMark(text) {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  return JSON.stringify({ ...JSON.parse(text), pid: process.pid, start: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] }) + '\n';
}
for (const d of cgroups) mkdirSync(d);
if (layers) {
  mkdirSync(layers.layers, { mode: 0o700 });
  for (const [kind, rel] of layers.manifest) {
    if (kind === 'd') mkdirSync(join(layers.layers, rel), { mode: 0o700 });
    else if (rel === 'store') writeFileSync(join(layers.layers, rel), ownMark(readFileSync(join(layers.snap, rel), 'utf8')), { mode: 0o600 });
    else copyFileSync(join(layers.snap, rel), join(layers.layers, rel));
  }
}
/** The spec (netstrings, `LEN:BYTES,`) with every path in a renamed cgroup renamed. */
function respec(b) {
  const out = [];
  for (let i = 0; i < b.length;) {
    const colon = b.indexOf(0x3a, i);
    const len = Number(b.toString('latin1', i, colon));
    let item = b.toString('latin1', colon + 1, colon + 1 + len);
    for (const [from, to] of renamed) if (item === from || item.startsWith(`${from}/`)) item = to + item.slice(from.length);
    out.push(Buffer.from(`${item.length}:${item},`, 'latin1'));
    i = colon + 1 + len + 1;
  }
  return Buffer.concat(out);
}
const specCopy = join(require('node:os').tmpdir(), `sbx-floor-spec-${process.pid}`);
writeFileSync(specCopy, respec(readFileSync(specFile)), { mode: 0o600 });
const spec = openSync(specCopy, 'r');
unlinkSync(specCopy);
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
