// What makes sbx an installable package without running a sandbox: the helper's version is
// computed the same way by the build script, the runtime and the bundle; --version reports the
// helper; the man page and completion scripts come from the command definitions.
// sbx-test: host-free (it builds and asks helpers in its TMPDIR; its sbx runs are --version and completion).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileDefaultDevices, compileDevices, loadDevicePolicy, shippedDevicePolicyPath } from '../../policies/devices/index.js';
import { REPO, SBX, sbx as run, type SbxResult } from '../helpers/sbx.js';
import { have } from '../helpers/skip.js';
import { expectedHelperVersion, helperMatches, packageHelperPath } from '../../sandbox-core/helper.js';
import { VERSION } from '../../sandbox-core/version.js';
import { parseOption } from '../../cli/definitions.js';
import { allDefinitions, manPage } from '../../cli/man-page.js';
import { bashScript, fishScript, zshScript } from '../../cli/completion-scripts.js';
import { KEPT_CA_VAR, LAUNCHER_LINES, restoreLauncherEnv } from '../../cli/launcher.js';
import { COMMAND_PARTS } from '../../cli/command-parts.js';

const work = mkdtempSync(join(tmpdir(), 'sbx-pkg-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

const sbx = (args: string[], env: NodeJS.ProcessEnv = {}): SbxResult => run(args, { store: join(work, 'store'), env, cwd: work });

test('the bundle carries the default device policy as this build compiled it, and its text to check the shipped file against', () => {
  const c = compileDevices(loadDevicePolicy('default').rules);
  const run = readFileSync(join(dirname(SBX), 'run.js'), 'latin1');
  assert.ok(run.includes(c.program.toString('base64')), 'the compiled program is in run.js');
  for (const line of c.v1Allow) assert.ok(run.includes(JSON.stringify(line)), line);
  const text = readFileSync(shippedDevicePolicyPath('default'), 'utf8');
  // A stretch without quotes or newlines: the same however esbuild quotes the string.
  const frag = /[A-Za-z][A-Za-z ,.()-]{24,}/.exec(text)![0];
  assert.ok(run.includes(frag), `the policy text (${frag}) is in run.js`);
  // Without the bundle (this tsc output) it compiles the file.
  assert.equal(compileDefaultDevices(), c);
});

test("the run parts hold no code the fast path cannot reach: --image/--rootfs's and --allow-net's are in app.js only", () => {
  const part = (n: string): string => readFileSync(join(dirname(SBX), `${n}.js`), 'latin1');
  // A hint of image/view.ts and the proxy environment of net/session.ts: string literals, kept by the minifier.
  const marks = ['give the root directory of a tree', 'NO_PROXY'];
  for (const m of marks) assert.ok(part('app').includes(m), `${m} is in app.js`);
  for (const n of ['run', 'review', 'quiet']) for (const m of marks) assert.not.ok(part(n).includes(m), `${m} is in ${n}.js`);
  // The secrets list (policies/secrets.ts): a quiet run that hides none leaves it out (cli/run-fast.ts fastPart).
  const secrets = 'a plain path relative to $HOME';
  for (const n of ['app', 'run']) assert.ok(part(n).includes(secrets), `the secrets list is in ${n}.js`);
  assert.not.ok(part('quiet').includes(secrets), 'the secrets list is in quiet.js');
});

test("the review is a part of its own, review.js, holding no copy of the modules it takes from run.js", () => {
  const part = (n: string): string => readFileSync(join(dirname(SBX), `${n}.js`), 'latin1');
  // The review's question (cli/review.ts): in review.js and app.js, not in run.js.
  const question = 'keep: commit every change to the host';
  for (const n of ['review', 'app']) assert.ok(part(n).includes(question), `the review is in ${n}.js`);
  assert.not.ok(part('run').includes(question), 'the review is in run.js');
  // The store (sandbox-core/store.ts), which the review uses too: its code once, in run.js; a
  // second copy in review.js would have state of its own (the output's counters, the store's).
  const store = 'meta.json names another sandbox';
  assert.ok(part('run').includes(store), 'the store is not in run.js');
  assert.not.ok(part('review').includes(store), 'review.js has a copy of the store');
  assert.ok(part('review').includes('sandbox-core/store.ts was not handed over by dist/bin/run.js'), 'review.js does not take the store from run.js');
});

/** Whether an ELF executable names a dynamic loader (a PT_INTERP program header). */
function hasInterpreter(file: string): boolean {
  const b = readFileSync(file);
  const phoff = Number(b.readBigUInt64LE(0x20)), size = b.readUInt16LE(0x36), n = b.readUInt16LE(0x38);
  for (let i = 0; i < n; i++) if (b.readUInt32LE(phoff + i * size) === 3) return true;
  return false;
}

test('the helper is linked static-pie where this C library can (no dynamic loader to run on every exec), else dynamically', () => {
  const probe = join(work, 'probe');
  writeFileSync(`${probe}.c`, 'int main(void) { return 0; }\n');
  const canStatic = spawnSync(process.env.CC || 'cc', ['-static-pie', '-o', probe, `${probe}.c`]).status === 0;
  assert.is(hasInterpreter(packageHelperPath()), !canStatic);
  if (canStatic) assert.not.ok(hasInterpreter(probe));
});

/** Runs scripts/build-native.mjs with a stand-in compiler: a shell script that, for a
 * `-static-pie` link, prints `staticWarns` on stderr and writes "static", else writes "dynamic". */
function buildWith(staticWarns: string): { out: string; stderr: string; record: string[] } {
  const dir = mkdtempSync(join(work, 'cc-'));
  const cc = join(dir, 'cc');
  writeFileSync(cc, `#!/bin/sh
case "$1" in --version) echo "standin-cc 1"; exit 0;; esac
out=; static=; prev=
for a; do [ "$prev" = -o ] && out=$a; [ "$a" = -static-pie ] && static=1; prev=$a; done
if [ -n "$static" ]; then printf '%s' "$STATIC_WARNS" >&2; printf static > "$out"; else printf dynamic > "$out"; fi
`, { mode: 0o755 });
  const out = join(dir, 'out');
  const r = spawnSync(process.execPath, [join(REPO, 'scripts', 'build-native.mjs'), '--out', out], { encoding: 'utf8', env: { ...process.env, CC: cc, STATIC_WARNS: staticWarns } });
  assert.is(r.status, 0, r.stderr);
  return { out: readFileSync(join(out, 'sbx-helper'), 'utf8'), stderr: r.stderr, record: readFileSync(join(out, 'sbx-helper.build'), 'utf8').split('\n') };
}

test('a static link that needs shared libraries at run time (NSS, dlopen) is linked dynamically instead, and its warning shown', () => {
  const warn = "x.c:(.text+0x12): warning: Using 'getpwnam' in statically linked applications requires at runtime the shared libraries from the glibc version used for linking\n";
  const b = buildWith(warn);
  assert.is(b.out, 'dynamic');
  assert.is(b.record[4], 'dynamic');
  assert.ok(b.stderr.includes("Using 'getpwnam'"), b.stderr);
});

test('a static link with only compiler warnings stays static, and the warnings are shown', () => {
  const b = buildWith("spec.c:1:1: warning: unused variable 'x' [-Wunused-variable]\n");
  assert.is(b.out, 'static');
  assert.is(b.record[4], 'static-pie');
  assert.ok(b.stderr.includes('unused variable'), b.stderr);
});

test('the shipped entry starts with the launcher\'s lines, is executable, and sh accepts them', () => {
  const text = readFileSync(SBX, 'utf8');
  assert.ok(text.startsWith(`${LAUNCHER_LINES.join('\n')}\n"use strict";`), text.slice(0, 300));
  assert.ok((statSync(SBX).mode & 0o111) === 0o111);
  // Only the launcher's lines: past its exec the file is JavaScript, which sh never reads.
  const head = spawnSync('/bin/sh', ['-n'], { input: `${LAUNCHER_LINES.join('\n')}\n`, encoding: 'utf8' });
  assert.is(head.status, 0, head.stderr);
});

test('the shipped entry holds no regexp literal with a Unicode property class: V8 checks one as it compiles the entry, every start', () => {
  // The entry is compiled from source on each start (the parts come from V8's code cache);
  // bpath's invisible-character pattern as a literal there cost ~0.7 ms of each.
  const text = readFileSync(SBX, 'utf8');
  const literal = /(?:^|[=(,:!&|?;{}[]|return)\s*\/(?:[^/\\\n]|\\.)*\\[pP]\{(?:[^/\\\n]|\\.)*\/[a-z]*/m.exec(text);
  assert.is(literal, null, literal?.[0]);
  assert.ok(text.includes('Default_Ignorable_Code_Point'), 'the pattern is still in the entry, built when first used');
});

test("each part's import.meta.url is pathToFileURL's of its file, for plain paths (no URL object made) and for paths it escapes", () => {
  const partsDir = dirname(SBX);
  const wanted = ['/usr/lib/node_modules/sbx/dist/bin/run.js', '/opt/my_sbx-1.0/dist/bin/run.js', '/home/a b/sbx/dist/bin/run.js',
    '/tmp/100%/run.js', '/tmp/x#y?z/run.js', '/srv/caf\u00e9/run.js', '/srv/tab\there/run.js', '/srv/a~b/run.js', '/srv/back\\slash/run.js'];
  for (const part of ['version', 'run', 'review', 'quiet', 'list', 'app', ...COMMAND_PARTS]) {
    const text = readFileSync(join(partsDir, `${part}.js`), 'latin1');
    const banner = /^\(function \(exports, require, module, __filename, __dirname\) \{ (var __sbxModuleUrl=[^\n]*)\n/.exec(text)?.[1];
    assert.ok(banner, `${part}.js starts with the banner: ${text.slice(0, 200)}`);
    const url = new Function('require', '__filename', `${banner} return __sbxModuleUrl;`) as (r: NodeRequire, f: string) => string;
    const req = createRequire(import.meta.url);
    for (const f of wanted) assert.is(url(req, f), pathToFileURL(f).href, `${part}.js: ${f}`);
  }
});

test('restoreLauncherEnv puts NODE_EXTRA_CA_CERTS back as it was, set, empty or not set', () => {
  const set: NodeJS.ProcessEnv = { [KEPT_CA_VAR]: '/a b.pem', OTHER: 'x' };
  restoreLauncherEnv(set);
  assert.equal(set, { NODE_EXTRA_CA_CERTS: '/a b.pem', OTHER: 'x' });
  const empty: NodeJS.ProcessEnv = { [KEPT_CA_VAR]: '' };
  restoreLauncherEnv(empty);
  assert.equal(empty, { NODE_EXTRA_CA_CERTS: '' });
  const none: NodeJS.ProcessEnv = { NODE_EXTRA_CA_CERTS: '/kept.pem' };
  restoreLauncherEnv(none);
  assert.equal(none, { NODE_EXTRA_CA_CERTS: '/kept.pem' });
});

test('VERSION is package.json\'s version', () => {
  assert.is(VERSION, JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
});

test('the helper version: build script, runtime and the built helper agree', async () => {
  const { helperVersion } = await import(join(REPO, 'scripts', 'native-id.mjs'));
  assert.is(expectedHelperVersion(), helperVersion(REPO));
  assert.match(expectedHelperVersion(), new RegExp(`^${VERSION.replace(/\./g, '\\.')}\\+[0-9a-f]{12}$`));
  const r = spawnSync(packageHelperPath(), ['version'], { encoding: 'utf8' });
  assert.is(r.stdout.trim(), expectedHelperVersion());
  assert.ok(helperMatches(packageHelperPath()));
  // As an ELF note in the first page (native/main.c), where `sbx --version` reads first.
  const head = readFileSync(packageHelperPath()).subarray(0, 4096);
  assert.ok(head.indexOf(Buffer.from(`sbx\0${expectedHelperVersion()}\0`)) >= 0, 'the version note is in the first page');
});

test('helperMatches finds the version anywhere in a large binary, across the chunks it reads', () => {
  const fake = join(work, 'large-helper');
  const v = Buffer.from(`${expectedHelperVersion()}\0`);
  // The chunks' edges: one page first (where the helper's note is), then 64 KiB less the overlap.
  const step = 65536 - (v.length - 1);
  const edges = [4096, 4096 + step, 4096 + 2 * step];
  const near = edges.flatMap((e) => [e - v.length, e - v.length + 1, e - 5, e - 1, e]);
  for (const at of [0, ...near, 300000 - v.length]) {
    const b = Buffer.alloc(300000, 0x41);
    v.copy(b, at);
    writeFileSync(fake, b);
    assert.ok(helperMatches(fake), `at ${at}`);
  }
  writeFileSync(fake, Buffer.alloc(300000, 0x41));
  assert.not.ok(helperMatches(fake));
});

test('helperMatches reads the version out of the binary: another build does not match', () => {
  const fake = join(work, 'other-helper');
  writeFileSync(fake, Buffer.concat([Buffer.from('\x7fELF....'), Buffer.from(`${VERSION}+000000000000\0`)]));
  assert.not.ok(helperMatches(fake));
  writeFileSync(fake, Buffer.concat([Buffer.from('\x7fELF....'), Buffer.from(`${expectedHelperVersion()}\0`)]));
  assert.ok(helperMatches(fake));
});

test('a helper of another version refuses the spec before doing anything', () => {
  const r = spawnSync(packageHelperPath(), ['run', '0', '2', '0.0.0+000000000000'], { input: '', encoding: 'latin1' });
  assert.is(r.status, 125);
  assert.match(r.stderr, /^error helper-version 0 - /m);
});

test('sbx --version prints the helper version and that it matches', () => {
  const r = sbx(['--version']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^sbx ${VERSION}\\n`));
  assert.match(r.stdout, new RegExp(`^helper ${expectedHelperVersion().replace(/[.+]/g, '\\$&')}, matches \\(`, 'm'));
});

test('sbx --version with a stale helper in the package says it does not match', () => {
  // A copy of the package whose native/build holds a helper of another version.
  const pkg = join(work, 'pkg');
  mkdirSync(pkg, { recursive: true });
  spawnSync('cp', ['-a', join(REPO, 'dist'), join(REPO, 'native'), join(REPO, 'scripts'), join(REPO, 'policies'), join(REPO, 'package.json'), pkg + '/']);
  const stale = join(pkg, 'native', 'build', 'sbx-helper');
  rmSync(stale);
  writeFileSync(stale, '#!/bin/sh\necho 0.0.1+0123456789ab\n', { mode: 0o755 });
  const r = spawnSync(process.execPath, [join(pkg, 'dist', 'bin', 'sbx.js'), '--version'], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: join(work, 'empty-cache') } });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^helper 0\.0\.1\+0123456789ab does not match /m);
});

test("sbx --version escapes what the helper and its build record say (stdout, not through sbx's message output)", () => {
  const pkg = join(work, 'pkg-escapes');
  mkdirSync(pkg, { recursive: true });
  spawnSync('cp', ['-a', join(REPO, 'dist'), join(REPO, 'native'), join(REPO, 'scripts'), join(REPO, 'policies'), join(REPO, 'package.json'), pkg + '/']);
  const helper = join(pkg, 'native', 'build', 'sbx-helper');
  const version = () => spawnSync(process.execPath, [join(pkg, 'dist', 'bin', 'sbx.js'), '--version'], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: join(work, 'empty-cache') } });
  // The matching helper's record names who built it: a line of a file beside it.
  const record = readFileSync(`${helper}.build`, 'utf8').split('\n');
  record[2] = 'npm run build\x1b]0;owned\x07\x1b[2J';
  writeFileSync(`${helper}.build`, record.join('\n'));
  const built = version();
  assert.is(built.status, 0, built.stderr);
  assert.ok(built.stdout.includes('built by npm run build\\x1b]0;owned\\x07\\x1b[2J)'), built.stdout);
  assert.not.ok(built.stdout.includes('\x1b'), 'no raw escape');
  // A helper of another build: its own answer to `version`.
  rmSync(helper);
  writeFileSync(helper, "#!/bin/sh\nprintf '0.0.1\\033[31m\\n'\n", { mode: 0o755 });
  const stale = version();
  assert.is(stale.status, 0, stale.stderr);
  assert.match(stale.stdout, /^helper 0\.0\.1\\x1b\[31m does not match /m);
  assert.not.ok(stale.stdout.includes('\x1b'), 'no raw escape');
});

test('option definitions parse into flags', () => {
  assert.equal(parseOption('-n,--discard', 'x'), { long: ['discard'], short: ['n'], takesValue: false, description: 'x' });
  assert.equal(parseOption('--name #0'), { long: ['name'], short: [], takesValue: true, description: '' });
});

test('the man page documents every command and option', async () => {
  const defs = await allDefinitions();
  const page = manPage(defs, VERSION, '2026-01-01');
  assert.match(page, /^\.TH SBX 1 "2026-01-01" "sbx 0\.1\.0"/);
  for (const d of defs) {
    assert.ok(page.includes(`.SS "${d.path}"`), d.path);
    for (const o of d.options) for (const l of parseOption(o.definition).long) assert.ok(page.includes(`\\-\\-${l.replace(/-/g, '\\-')}`), `${d.path} --${l}`);
  }
  const built = readFileSync(join(REPO, 'dist', 'man', 'sbx.1'), 'utf8');
  assert.is(built.replace(/^\.TH .*\n/, ''), page.replace(/^\.TH .*\n/, ''), 'dist/man/sbx.1 is stale: npm run build');
  if (have('groff')) {
    const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z'], { input: page, encoding: 'utf8' });
    assert.is(r.stderr, '', 'groff warnings');
  }
});

test('completion scripts: every command and option, sandboxes and policies asked from sbx', async () => {
  const defs = await allDefinitions();
  const bash = bashScript(defs);
  for (const d of defs) {
    assert.ok(bash.includes(`'${d.path.slice(4)}')`), d.path);
    for (const o of d.options) for (const l of parseOption(o.definition).long) assert.ok(bash.includes(`--${l}`), l);
  }
  assert.match(bash, /sbx completion --sandboxes/);
  assert.match(bash, /sbx completion --policies/);
  const syntax = spawnSync('bash', ['-n'], { input: bash, encoding: 'utf8' });
  assert.is(syntax.status, 0, syntax.stderr);
  assert.match(zshScript(defs), /^#compdef sbx\n/);
  if (have('zsh')) assert.is(spawnSync('zsh', ['-n'], { input: zshScript(defs) }).status, 0);
  const fish = fishScript(defs);
  assert.match(fish, /complete -c sbx -n '__fish_seen_subcommand_from run' -l discard -s n/);
  if (have('fish')) assert.is(spawnSync('fish', ['-n'], { input: fish }).status, 0);
});

test('bash completion completes commands, subcommands and policy names', () => {
  const script = sbx(['completion', 'bash']);
  assert.is(script.code, 0, script.stderr);
  const probe = (words: string[]): string => {
    const r = spawnSync('bash', ['-c', `${script.stdout}\nsbx() { "${process.execPath}" "${SBX}" "$@"; }\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _sbx; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8', cwd: work, env: { ...process.env, SBX_HOME: join(work, 'store') } });
    return r.stdout.trim();
  };
  assert.is(probe(['sbx', 'dis']), 'discard');
  assert.is(probe(['sbx', 'policy', 'co']), 'compile');
  assert.is(probe(['sbx', 'run', '--policy', 'str']), 'strict');
  assert.is(probe(['sbx', 'run', '--disc']), '--discard');
});

test('sbx completion lists only well-formed sandbox ids and names', () => {
  const store = join(work, 'cstore');
  mkdirSync(join(store, 'abcdef01'), { recursive: true, mode: 0o700 });
  // A meta.json as sbx writes it (the store checks every field it turns into a path or id).
  writeFileSync(join(store, 'abcdef01', 'meta.json'), JSON.stringify({
    version: 1, id: 'abcdef01', name: 'trial', createdMs: 1, created: new Date(1).toISOString(), state: 'saved', layers: [], layersDir: join(store, 'abcdef01'),
    uid: process.getuid!(), gid: process.getgid!(), command: ['true'], cwd: '/', finished: null, exitStatus: 0, hidden: [], binds: [], options: { net: false, keepUser: false, policy: 'default', hide: [], bind: [] },
  }));
  mkdirSync(join(store, 'abcdef02'), { recursive: true, mode: 0o700 });
  writeFileSync(join(store, 'abcdef02', 'meta.json'), JSON.stringify({ version: 1, id: 'abcdef02', name: 'x\u001b[31m; rm -rf ~', createdMs: 2, state: 'saved', layers: [] }));
  const r = sbx(['completion', '--sandboxes'], { SBX_HOME: store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'abcdef01\ntrial\nabcdef02\n');
  assert.is(sbx(['completion', 'tcsh']).code, 125);
});

test.run();
