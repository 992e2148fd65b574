// npm run bench [FRAGMENT]: ONE table with every row of the performance goals (issue 14): sbx
// and its floor or peer measured side by side in the same run, the ratio, and the goal.
//
// Adding a row: in any bench/*.mjs (files starting with _ are helpers), export
//   export async function rows() { return [row('what', sbxValue, 'peer name', peerValue, { goal: 2 })]; }
// using `row` and `time` from ./_lib.mjs. `time(cmd, args)` gives {ms, cpu} medians (wall and
// CPU time, via bench/timer.c); a plain number with { unit } works for counts; { goal: R } is
// the largest acceptable sbx/peer ratio, { max: N } the largest acceptable value of sbx
// itself. Rows appear in file-name order. `node bench/FILE.mjs` prints that file's rows alone
// (end the file with `await runAlone(import.meta.url, rows)`).
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatTable } from './_lib.mjs';

const dir = dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];
const all = [];
const legacy = [];
let failed = 0;
for (const f of readdirSync(dir).filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && !f.startsWith('_')).sort()) {
  if (only && !f.includes(only)) continue;
  // A bench file not yet giving rows prints its own table after the main one.
  if (!/export async function rows\(/.test(readFileSync(join(dir, f), 'utf8'))) { legacy.push(f); continue; }
  try {
    const mod = await import(pathToFileURL(join(dir, f)).href);
    if (typeof mod.rows === 'function') all.push(...(await mod.rows()));
  } catch (e) {
    failed++;
    console.error(`bench/${f}: ${e.message}`);
  }
}
console.log(`sbx bench on ${process.arch}, uid ${process.getuid()}, ${new Date().toISOString().slice(0, 16)}Z; ratios rest on wall time, (cpu …) on CPU time (a goal counts as met on either: the machine may be shared)`);
console.log(formatTable(all));
for (const f of legacy) {
  console.log(`\n## ${f} (its own table, not yet rows of the one above)`);
  if (spawnSync(process.execPath, [join(dir, f)], { stdio: 'inherit' }).status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
