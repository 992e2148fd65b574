// Bundles the CLI into dist/bin/ as CommonJS: a small entry (sbx.js) and its parts, each
// one minified file that holds all a command needs: version.js (`sbx --version`), run.js
// (`sbx run` with its common flags) and review.js (its review, loaded when a run gets there), list.js (`sbx diff ID --name-only`), one part for each of
// `sbx ls`, `diff`, `commit` and `discard` (cli/command-parts.ts) and app.js (every command, with clipanion). The entry loads
// one part through V8's code cache (cli/code-cache.ts), so a command reads two files and
// compiles almost nothing instead of resolving and linking tens of ES modules.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
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
const parts = { version: 'entry-version.ts', run: 'entry-run.ts', review: null, quiet: 'entry-run.ts', list: 'entry-list.ts', app: 'app.ts' };
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
  review: FAST_LEAVES_OUT,
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
// The review is a part of its own, review.js, that run.js loads when a run gets to it (a run
// with changes, or an ordinary user's, whose layers hold sbx's stand-ins): root's empty `run
// -n -- true` then reads, copies and deserializes run.js without it (550 -> 261 KB, ~5-10 ms
// of that run, docs/benchmarks.md s84). The two parts share one copy of every module both hold (output.ts's counters, the
// store's state, the classes `instanceof` asks): run.js hands its instances of them over as
// it loads review.js (the `sbx-shared` registry below) and review.js takes them from there
// instead of bundling its own.
const REVIEW_PART = [
  { from: '/cli/run-exec.ts', path: './review.js', key: 'review', file: 'cli/review.ts' },
  { from: '/sandbox-core/sandbox.ts', path: './changes/scan.js', key: 'scan', file: 'sandbox-core/changes/scan.ts' },
];
const SHARED = "globalThis[Symbol.for('sbx.sharedModules')]";
/** run.js: the review part's imports load review.js, once, with run.js's shared modules handed over. */
const reviewStubs = (shared) => ({
  name: 'review-part',
  setup(b) {
    b.onResolve({ filter: /./ }, (a) => {
      if (a.kind !== 'dynamic-import') return undefined;
      const hit = REVIEW_PART.find((x) => a.importer.endsWith(x.from) && a.path === x.path);
      return hit ? { path: hit.key, namespace: 'review-part' } : undefined;
    });
    b.onResolve({ filter: /^sbx-shared$/ }, () => ({ path: 'registry', namespace: 'sbx-shared' }));
    b.onLoad({ filter: /./, namespace: 'review-part' }, (a) => ({
      // The loader the entry gives run.js (cli/main.ts, Symbol.for('sbx.reviewPart')) loads the part once.
      contents: `${SHARED} ??= require('sbx-shared').modules;\nmodule.exports = globalThis[Symbol.for('sbx.reviewPart')]()[${JSON.stringify(a.path)}];`,
      loader: 'js',
    }));
    b.onLoad({ filter: /./, namespace: 'sbx-shared' }, () => ({
      contents: `${shared.map((f, i) => `import * as m${i} from ${JSON.stringify(join(root, f))};`).join('\n')}\nexport const modules = { ${shared.map((f, i) => `${JSON.stringify(f)}: m${i}`).join(', ')} };`,
      loader: 'js',
      resolveDir: root,
    }));
  },
});
/** review.js: every module run.js holds (`inRun`, paths from the root) is run.js's own instance; `taken` collects them. */
const sharedFromRun = (inRun, taken) => ({
  name: 'shared-from-run',
  setup(b) {
    b.onResolve({ filter: /./ }, async (a) => {
      if (a.pluginData === 'inner' || a.kind === 'entry-point') return undefined;
      const r = await b.resolve(a.path, { kind: a.kind, importer: a.importer, resolveDir: a.resolveDir, pluginData: 'inner' });
      if (r.errors.length || r.external || r.namespace !== 'file') return undefined;
      const rel = relative(root, r.path);
      if (!inRun.has(rel)) return undefined;
      taken.add(rel);
      return { path: rel, namespace: 'sbx-shared' };
    });
    b.onLoad({ filter: /./, namespace: 'sbx-shared' }, async (a) => {
      const take = `(${SHARED} || {})[${JSON.stringify(a.path)}] || (() => { throw new Error(${JSON.stringify(`${a.path} was not handed over by dist/bin/run.js: reinstall sbx or report this`)}); })()`;
      // sbx's own modules by their export names: what imports them then reads the bindings
      // directly, where a CommonJS stand-in made esbuild copy each namespace into a new object
      // of getters as review.js loads (~2.5 ms) and call two getters at every use. The values
      // are taken once, when run.js has evaluated the module: one reassigned later would go
      // stale here, so an exported `let` or `var` fails the build. A dependency (picocolors)
      // stays CommonJS.
      if (a.path.startsWith('node_modules/')) return { contents: `module.exports = ${take};`, loader: 'js' };
      const names = await exportNames(a.path);
      const rebound = reassignable(readFileSync(join(root, a.path), 'utf8')).filter((n) => names.includes(n));
      if (rebound.length) throw new Error(`${a.path} exports ${rebound.join(', ')}, declared with let or var: review.js would keep the value run.js had when it loaded; export a const (or a function that reads it)`);
      return { contents: `const m = ${take};\nexport const { ${names.join(', ')} } = m;`, loader: 'js' };
    });
  },
});
/** The names a module declares at its top level with let or var (a name, or a destructured list's names). */
function reassignable(text) {
  const out = [];
  for (const m of text.matchAll(/^(?:export\s+)?(?:let|var)\s+([^;=]*)/gm)) for (const id of m[1].matchAll(/[A-Za-z_$][\w$]*/g)) out.push(id[0]);
  return out;
}

/** The names a module of sbx's own exports, as esbuild reads them. */
async function exportNames(rel) {
  const r = await build({ entryPoints: [join(root, rel)], bundle: false, write: false, metafile: true, format: 'esm', outdir: '/sbx-export-names', absWorkingDir: root, logLevel: 'warning' });
  return Object.values(r.metafile.outputs).flatMap((o) => o.exports ?? []);
}
// The entry the review part is built from: the modules run.js's stubs ask for, by key.
const reviewEntry = {
  name: 'review-entry',
  setup(b) {
    b.onResolve({ filter: /^sbx-review-entry$/ }, () => ({ path: 'entry', namespace: 'review-entry' }));
    b.onLoad({ filter: /./, namespace: 'review-entry' }, () => ({
      contents: REVIEW_PART.map((x) => `export * as ${x.key} from ${JSON.stringify(join(root, x.file))};`).join('\n'),
      loader: 'js',
      resolveDir: root,
    }));
  },
};
// SBX_BUNDLE_MINIFY=0 keeps the names only: whitespace and comments still go (a comment's
// non-ASCII character would fail the check below, as every unminified build did).
const minify = process.env.SBX_BUNDLE_MINIFY !== '0' ? { minify: true } : { minifyWhitespace: true, minifySyntax: true, minifyIdentifiers: false };
const buildPart = (name, entry, plugins) => build({ ...common, entryPoints: [entry], outfile: join(out, `${name}.js`), banner: partBanner, ...minify, write: false, metafile: true, absWorkingDir: root, plugins: [patched, ...(LEAVES_OUT[name] ? [leaveOut(name, LEAVES_OUT[name])] : []), ...plugins] });
const filesOf = (r) => new Set(Object.keys(r.metafile.inputs).filter((k) => !k.includes(':')));
/**
 * run.js and review.js, built until they agree: run.js hands over every module review.js
 * takes from it, and handing a module over keeps all of its exports in run.js, which may bring
 * more modules into it, which review.js must then take too.
 */
async function runAndReview() {
  let shared = [];
  for (let round = 0; round < 6; round++) {
    const run = await buildPart('run', join(root, 'cli', 'entry-run.ts'), [reviewStubs(shared)]);
    const taken = new Set();
    const review = await buildPart('review', 'sbx-review-entry', [reviewEntry, sharedFromRun(filesOf(run), taken)]);
    const now = [...taken].sort();
    if (now.join('\n') === shared.join('\n')) return { run, review };
    shared = now;
  }
  throw new Error('run.js and review.js: the modules they share did not settle in 6 builds');
}
const hashes = {};
const reviewBuilt = await runAndReview();
for (const [name, file] of Object.entries(parts)) {
  const r = reviewBuilt[name] ?? await buildPart(name, join(root, 'cli', file), []);
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
