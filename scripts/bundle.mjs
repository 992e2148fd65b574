// Bundles the CLI into dist/bin/ as CommonJS: a small entry (sbx.js) and its parts, each
// one minified file that holds all a command needs: version.js (`sbx --version`), run.js
// (`sbx run` with its common flags), list.js (`sbx diff ID --name-only`), one part for each of
// `sbx ls`, `diff`, `commit` and `discard` (cli/command-parts.ts) and app.js (every command, with clipanion). The entry loads
// one part through V8's code cache (cli/code-cache.ts), so a command reads two files and
// compiles almost nothing instead of resolving and linking tens of ES modules.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { helperVersion } from './native-id.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'bin');

/** Identifies the seccomp compiler's code, so cached programs of an older compiler are not reused. */
function compilerId() {
  const h = createHash('sha256');
  const dir = join(root, 'policies', 'seccomp');
  for (const f of readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.ts')).sort()) {
    h.update(String(f)).update('\0').update(readFileSync(join(dir, String(f)))).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * The shipped default device policy, compiled now by the tsc output of this very build (it runs
 * first): a run uses it while the file still holds this text (policies/devices/index.ts).
 */
async function defaultDevices() {
  const { compileDevices, loadDevicePolicy, shippedDevicePolicyPath } = await import(pathToFileURL(join(root, 'dist', 'policies', 'devices', 'index.js')).href);
  const c = compileDevices(loadDevicePolicy('default').rules);
  return { json: readFileSync(shippedDevicePolicyPath('default'), 'utf8'), program: c.program.toString('base64'), v1Allow: c.v1Allow };
}

/** The `!` rules' path filter (sandbox-core/changes/sensitive.ts), made now by the tsc output of this build. */
async function sensitiveFilter() {
  const { sensitiveFilter: filter, sensitiveGates } = await import(pathToFileURL(join(root, 'dist', 'sandbox-core', 'changes', 'sensitive.js')).href);
  return { filter: filter(), gates: sensitiveGates() };
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// CommonJS: Node's ES module loader costs milliseconds per module and its own start-up.
writeFileSync(join(out, 'package.json'), '{ "type": "commonjs" }\n');
const sensitive = await sensitiveFilter();

/** A shipped data file's text and what its parser (this build's tsc output) makes of it: a run that finds the same text uses the result (policies/read-json.ts shippedLoader). */
async function bakedFile(name, parser) {
  const mod = await import(pathToFileURL(join(root, 'dist', 'policies', `${name}.js`)).href);
  const file = join(root, 'policies', `${name}.json`);
  const text = readFileSync(file, 'utf8');
  const value = mod[parser](JSON.parse(text), file);
  // Carried as JSON: what JSON cannot hold (a RegExp, a Map, undefined) would come back otherwise.
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(value)), value)) throw new Error(`${file}: ${parser}'s result does not survive JSON`);
  return JSON.stringify({ text, value });
}
const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
  define: {
    __SBX_HELPER_VERSION__: JSON.stringify(helperVersion(root)),
    __SBX_COMPILER_ID__: JSON.stringify(compilerId()),
    __SBX_DEFAULT_DEVICES__: JSON.stringify(await defaultDevices()),
    __SBX_SENSITIVE_FILTER__: JSON.stringify(JSON.stringify(sensitive.filter)),
    __SBX_SENSITIVE_GATES__: JSON.stringify(JSON.stringify(sensitive.gates)),
    __SBX_SHIPPED_FOLD__: JSON.stringify(await bakedFile('fold', 'parseFoldRules')),
    __SBX_SHIPPED_SECRETS__: JSON.stringify(await bakedFile('secrets', 'parseSecretsRules')),
    // The parts live in dist/bin/ like the old chunks: paths relative to the module still hold.
    'import.meta.url': '__sbxModuleUrl',
  },
};
// As cli/code-cache.ts expects them (its PART_HEAD/PART_TAIL).
const PART_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const PART_TAIL = '\n})';
// A path of only letters, digits and `/._-` is its own URL after `file://` (pathToFileURL
// escapes nothing in it): that spares each start node:url's URL object (~0.4 ms).
const partBanner = { js: "var __sbxModuleUrl=/^[\\w./-]+$/.test(__filename)?'file://'+__filename:require('node:url').pathToFileURL(__filename).href;" };
// The parts (SBX_BUNDLE_MINIFY=0 keeps names readable, for --cpu-prof): each a whole program for its commands (dynamic imports inlined, evaluated only
// when reached), so a command reads and compiles one file.
// quiet.js is run.js for a quiet throwaway run (`run -n -q` with only the fast flags, the
// entry's choice): without the code such a run never reaches (the review with the change
// lists, commit and diff rendering; --image; --allow-net), each a dynamic import that in this
// part fails loudly if ever reached. A run reads, copies and deserializes its whole part, and
// those ~150 KB cost -n -q ~100 page faults (docs/architecture.md).
const parts = { version: 'entry-version.ts', run: 'entry-run.ts', quiet: 'entry-run.ts', list: 'entry-list.ts', app: 'app.ts' };
// A command part is app.ts with every other command left out (cli/command-parts.ts).
const { COMMAND_PARTS } = await import(pathToFileURL(join(root, 'dist', 'cli', 'command-parts.js')).href);
for (const name of COMMAND_PARTS) parts[name] = 'app.ts';
// run.js leaves out what no flag of the fast path (cli/run-fast.ts) reaches either: --image,
// --rootfs and --in (the image code), --allow-net (the proxy and its relay) are parsed by
// app.js, whose part holds them (test/unit/run-fast.test.ts keeps them off the fast path):
// 365 -> 316 KB, ~27 page faults fewer a `run -n`.
const FAST_LEAVES_OUT = [
  { from: '/cli/run-exec.ts', path: '../sandbox-core/image/view.js' },
  { from: '/cli/run-exec.ts', path: '../sandbox-core/net/session.js' },
  { from: '/sandbox-core/sandbox.ts', path: './net/session.js' },
];
// quiet.js also leaves out the secrets list (policies/secrets.ts, 23 KB with its baked rules):
// the entry loads it only for a run that hides none (cli/run-fast.ts fastPart).
const LEAVES_OUT = {
  run: FAST_LEAVES_OUT,
  quiet: [
    { from: '/cli/run-exec.ts', path: './review.js' },
    { from: '/sandbox-core/sandbox.ts', path: './changes/scan-request.js' },
    // A saved sandbox's layers whose mounts are gone (sandbox.ts settleOldLayers): never a new one's.
    { from: '/sandbox-core/sandbox.ts', path: './changes/scan.js' },
    { from: '/cli/run-exec.ts', path: '../sandbox-core/secrets.js' },
    ...FAST_LEAVES_OUT,
  ],
};
// The commands a command part leaves out: every import of cli/commands.ts but its own file.
const commandFiles = [...readFileSync(join(root, 'cli', 'commands.ts'), 'utf8').matchAll(/import\('(\.\/[a-z-]+\.js)'\)/g)].map((m) => m[1]);
for (const name of COMMAND_PARTS) LEAVES_OUT[name] = commandFiles.filter((p) => p !== `./${name}.js`).map((path) => ({ from: '/cli/commands.ts', path }));
const leaveOut = (part, list) => ({
  name: 'leave-out',
  setup(b) {
    b.onResolve({ filter: /./ }, (a) => {
      if (a.kind !== 'dynamic-import') return undefined;
      const hit = list.find((x) => a.importer.endsWith(x.from) && a.path === x.path);
      return hit ? { path: `${hit.from} -> ${hit.path}`, namespace: 'left-out' } : undefined;
    });
    b.onLoad({ filter: /./, namespace: 'left-out' }, (a) => ({
      contents: `throw new Error(${JSON.stringify(`${a.path} is not in dist/bin/${part}.js, the part of ${part === 'quiet' ? 'a quiet throwaway run' : part === 'run' ? "a run with the fast path's flags" : `sbx ${part}`}: reinstall sbx or report this`)});`,
      loader: 'js',
    }));
  },
});
// Dependencies' texts sbx changes as it bundles them, each a text that must be there (the build
// fails when the dependency changed) and what it becomes.
const LIGHT_PROCESS = join(root, 'sandbox-core', 'base', 'light-process.ts');
const PATCHES = [
  // picocolors decides its default colours when it loads, reading process.stdout.isTTY: that
  // makes Node build stdout's stream (a tty's WriteStream, a pipe's socket, ~0.7-2 ms of a run
  // here, in-process, fresh node, /dev/null or pty, load ~8), for a default sbx never uses
  // (cli/output.ts makes its own with createColors). isatty(1) is the same answer without it,
  // sbx's own (sandbox-core/base/light-process.ts): node:tty's loads node:net.
  { file: /[\\/]picocolors[\\/]picocolors\.js$/, from: '(p.stdout || {}).isTTY', to: `require(${JSON.stringify(LIGHT_PROCESS)}).isatty(1)` },
  // clipanion loads node:tty (and with it node:net and node:stream) for its default colour
  // depth, and its default context makes the stdio streams, each as it loads: ~6 ms of `sbx
  // discard`, which uses none (app.ts gives clipanion a colour depth and a context of its own,
  // cli/output.ts writes with writeSync). They become getters, tty loaded and a stream made
  // when first asked, left out of the copies clipanion makes of a context (not enumerable),
  // which would ask them.
  { file: /[\\/]clipanion[\\/]lib[\\/]platform[\\/]node\.js$/, from: "var tty = require('tty');", to: "var tty = { get WriteStream() { return require('tty').WriteStream; } };" },
  {
    file: /[\\/]clipanion[\\/]lib[\\/]advanced[\\/]Cli\.js$/,
    from: 'Cli.defaultContext = {\n    env: process.env,\n    stdin: process.stdin,\n    stdout: process.stdout,\n    stderr: process.stderr,\n    colorDepth: platform.getDefaultColorDepth(),\n};',
    to: 'Cli.defaultContext = Object.defineProperties({ env: process.env }, { stdin: { get() { return process.stdin; } }, stdout: { get() { return process.stdout; } }, stderr: { get() { return process.stderr; } }, colorDepth: { get() { return platform.getDefaultColorDepth(); } } });',
  },
];
const patched = {
  name: 'patched-dependencies',
  setup(b) {
    for (const { file, from, to } of PATCHES) {
      b.onLoad({ filter: file }, (a) => {
        const text = readFileSync(a.path, 'utf8');
        if (!text.includes(from)) throw new Error(`${a.path}: no ${JSON.stringify(from)} to replace (the package changed): update scripts/bundle.mjs`);
        return { contents: text.replace(from, to), loader: 'js', resolveDir: dirname(a.path) };
      });
    }
  },
};
const hashes = {};
for (const [name, file] of Object.entries(parts)) {
  // SBX_BUNDLE_MINIFY=0 keeps the names only: whitespace and comments still go (a comment's
  // non-ASCII character would fail the check below, as every unminified build did).
  const minify = process.env.SBX_BUNDLE_MINIFY !== '0' ? { minify: true } : { minifyWhitespace: true, minifySyntax: true, minifyIdentifiers: false };
  const r = await build({ ...common, entryPoints: [join(root, 'cli', file)], outfile: join(out, `${name}.js`), banner: partBanner, ...minify, write: false, plugins: [patched, ...(LEAVES_OUT[name] ? [leaveOut(name, LEAVES_OUT[name])] : [])] });
  const text = r.outputFiles[0].text;
  // esbuild escapes non-ASCII in strings but not in regular expressions; one such character
  // makes V8 keep the whole part as a two-byte string: twice the memory to read, decode and
  // hash on every run (measured: 330 more page faults, ~10 ms, for run.js). Write it as \uXXXX.
  const wide = /[^\x00-\x7f]/.exec(text);
  if (wide) throw new Error(`dist/bin/${name}.js: non-ASCII ${JSON.stringify(text.slice(Math.max(0, wide.index - 40), wide.index + 10))}: escape it as \\u${wide[0].charCodeAt(0).toString(16).padStart(4, '0')} in the source`);
  // Stored wrapped as the function the entry calls (cli/code-cache.ts): the entry compiles the
  // file's text as it is, where wrapping it at run time made a second copy of the whole part
  // (a 326 KB young string for run.js: the run's first scavenge came that much sooner).
  writeFileSync(join(out, `${name}.js`), `${PART_HEAD}${text}${PART_TAIL}`);
  hashes[name] = createHash('sha256').update(PART_HEAD).update(text).update(PART_TAIL).digest('hex').slice(0, 16);
}
// The entry stays readable (small; its function names show in --cpu-prof, see bench/startup.mjs).
await build({
  ...common,
  entryPoints: [join(root, 'cli', 'main.ts')],
  outfile: join(out, 'sbx.js'),
  define: { ...common.define, __SBX_PARTS__: JSON.stringify(hashes) },
});
// The entry is a launcher too (cli/launcher.ts): /bin/sh runs its first lines, Node the rest.
const { LAUNCHER_LINES } = await import(pathToFileURL(join(root, 'dist', 'cli', 'launcher.js')).href);
const entry = readFileSync(join(out, 'sbx.js'), 'utf8');
if (!entry.startsWith('#!/usr/bin/env node\n')) throw new Error('dist/bin/sbx.js: expected the hashbang of cli/main.ts');
writeFileSync(join(out, 'sbx.js'), `${LAUNCHER_LINES.join('\n')}\n${entry.slice(entry.indexOf('\n') + 1)}`);
chmodSync(join(out, 'sbx.js'), 0o755);
