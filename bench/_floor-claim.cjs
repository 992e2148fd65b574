// Makes a caught spec bench/_run-floor.cjs can run again and again: its cgroups, named for
// the sbx run it came from (sbx-<id>-<pid>, long gone), and the scratch tree's mark are
// renamed once for the calling process (the bench, alive while it measures), as sbx names
// its own. Any other sbx started meanwhile would sweep names of a dead process as stale,
// under the helper. Done here once, not in each timed run: decoding the spec item by item
// there cost ~15 ms of CPU and GC that sbx, which writes its spec into one buffer, never
// pays, and put the floor above sbx itself (--cpu-prof, 2026-12-03).
//   claimFloor(args) -> args, for args as bench/_run-floor.cjs takes them
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

/**
 * The spec (netstrings, `LEN:BYTES,`) with every path in a renamed cgroup renamed, and without
 * its `review_scan` op (4 arguments: the fds it names are sbx's, given the helper at its
 * start; the floor is the run without sbx's review).
 */
function respec(b, renamed) {
  const out = [];
  let skip = 0;
  for (let i = 0; i < b.length;) {
    const colon = b.indexOf(0x3a, i);
    const len = Number(b.toString('latin1', i, colon));
    let item = b.toString('latin1', colon + 1, colon + 1 + len);
    if (item === 'review_scan' && !skip) skip = 5;
    if (skip) { skip--; i = colon + 1 + len + 1; continue; }
    for (const [from, to] of renamed) if (item === from || item.startsWith(`${from}/`)) item = to + item.slice(from.length);
    out.push(Buffer.from(`${item.length}:${item},`, 'latin1'));
    i = colon + 1 + len + 1;
  }
  return Buffer.concat(out);
}

module.exports = function claimFloor(args) {
  const layersAt = args[0] === '--layers' ? 2 : 0;
  const [, spec, , ...theirs] = args.slice(layersAt);
  const renamed = new Map(theirs.map((d) => [d, d.replace(/-\d+$/, `-${process.pid}`)]));
  writeFileSync(spec, respec(readFileSync(spec), renamed));
  if (layersAt) {
    const { snap, manifest } = JSON.parse(readFileSync(args[1], 'utf8'));
    if (manifest.some(([kind, rel]) => kind === 'f' && rel === 'store')) {
      // store.ts SCRATCH_MARK: whose tree this is, by pid and start time.
      const stat = readFileSync('/proc/self/stat', 'utf8');
      const mark = join(snap, 'store');
      writeFileSync(mark, JSON.stringify({ ...JSON.parse(readFileSync(mark, 'utf8')), pid: process.pid, start: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] }) + '\n');
    }
  }
  return [...args.slice(0, layersAt + 3), ...renamed.values()];
};
