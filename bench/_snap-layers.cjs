// Run by the wrapper bench/startup.mjs puts in place of the helper, just before the real
// helper starts on a throwaway run's spec: finds the spec's layers dir (its netstrings, as
// native/spec.c reads them) and copies what sbx made there before the launch (the dir, the
// stand-in tree's copied files), with a manifest of it, so that bench/_run-floor.cjs can make
// it again before each run of the same spec.
//   node _snap-layers.cjs SPEC OUTDIR
'use strict';
const { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const [specFile, out] = process.argv.slice(2);
const spec = readFileSync(specFile);
const tokens = [];
for (let i = 0; i < spec.length;) {
  const colon = spec.indexOf(0x3a, i);
  const n = Number(spec.toString('latin1', i, colon));
  tokens.push(spec.toString('utf8', colon + 1, colon + 1 + n));
  i = colon + 1 + n + 1;
}
const at = tokens.indexOf('layers_dir');
if (at < 0) process.exit(1);
const layers = tokens[at + 1];
const snap = join(out, 'snap');
// [kind, path below the layers dir]: dirs before what they hold.
const manifest = [];
const walk = (rel) => {
  for (const e of readdirSync(join(layers, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) { manifest.push(['d', r]); mkdirSync(join(snap, r)); walk(r); }
    else if (e.isFile()) { manifest.push(['f', r]); copyFileSync(join(layers, r), join(snap, r)); }
  }
};
mkdirSync(snap);
walk('');
writeFileSync(join(out, 'layers.json'), JSON.stringify({ layers, snap, manifest }));
