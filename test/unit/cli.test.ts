// The command line contract that needs no sandbox: help, user errors as one line on stderr
// with exit 125, stdout left clean.
// sbx-test: host-free (its sbx runs end at the command line, before any store or sandbox).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SBX, sbx as run, type SbxResult, removeStore } from '../helpers/sbx.js';

const store = mkdtempSync(join(tmpdir(), 'sbx-cli-'));
test.after(() => removeStore(store));

const sbx = (...args: string[]): SbxResult => run(args, { store, cwd: process.cwd() });

test('help for sbx and for each command', () => {
  const top = sbx('--help');
  assert.is(top.code, 0);
  for (const c of ['run', 'diff', 'commit', 'ls', 'discard', 'doctor']) assert.match(top.stdout, new RegExp(`sbx ${c}`));
  const run = sbx('run', '--help');
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /copy-on-write/);
  assert.match(run.stdout, /sbx run -n -- rm -rf/);
});

test('a bad flag is a usage error: exit 125, nothing on stdout, one line and where to read more', () => {
  const r = sbx('run', '--no-such-flag', 'true');
  assert.is(r.code, 125);
  assert.is(r.stdout, '');
  assert.is(r.stderr, "sbx: error: unknown option --no-such-flag\nsbx: see 'sbx run --help'\n");
  assert.match(sbx('run', '--dsk', '1G', 'true').stderr, /unknown option --dsk: did you mean --disk\?/);
});

test('help names every value and fits 80 columns; no clipanion #0 placeholders', () => {
  for (const c of [[], ['run'], ['diff'], ['commit'], ['ls'], ['prune'], ['export'], ['policy', 'show'], ['policy', 'compile']]) {
    const h = sbx(...c, '--help');
    assert.is(h.code, 0, h.stderr);
    assert.not.match(h.stdout, /#\d/, c.join(' '));
    for (const l of h.stdout.split('\n')) assert.ok(l.length <= 80, `${c.join(' ')}: ${l.length} columns: ${l}`);
  }
  const run = sbx('run', '--help').stdout;
  assert.match(run, /--memory SIZE/);
  assert.match(run, /--name NAME/);
  assert.match(run, /--timeout DURATION/);
  assert.match(sbx('--help').stdout, /sbx run \[OPTIONS\] \[--\] COMMAND \[ARG\.\.\.\]/);
});

test('a typo of a command suggests the command', () => {
  const r = sbx('rnu', 'true');
  assert.is(r.code, 125);
  assert.is(r.stderr, "sbx: error: unknown command 'rnu': did you mean 'run'?\nsbx: see 'sbx --help'\n");
  assert.match(sbx('dif', 'x').stderr, /did you mean 'diff'\?/);
});

test('a group without its command, or with an unknown one, lists its commands; `sbx help CMD` is its help', () => {
  const bare = sbx('policy');
  assert.is(bare.code, 125);
  assert.is(bare.stderr, "sbx: error: 'sbx policy' needs a command: check, compile, ls, secrets, show\nsbx: see 'sbx --help'\n");
  assert.match(sbx('policy', 'bogus').stderr, /^sbx: error: unknown command 'policy bogus': the policy commands are check, compile, ls, secrets, show\n/);
  assert.match(sbx('policy', 'shwo').stderr, /^sbx: error: unknown command 'policy shwo': did you mean 'policy show'\?\n/);
  const help = sbx('help', 'run');
  assert.is(help.code, 0, help.stderr);
  assert.is(help.stdout, sbx('run', '--help').stdout);
  assert.is(sbx('help').stdout, sbx('--help').stdout);
});

test('a size without its unit and a negative count are refused with one clear line', () => {
  const m = sbx('run', '--memory', '10', '--', 'true');
  assert.is(m.code, 125);
  assert.is(m.stderr, "sbx: error: --memory 10: the size has no unit: write e.g. 10M or 10G (K, M, G or T)\nsbx: see 'sbx run --help'\n");
  assert.match(sbx('run', '--disk', '100', '--', 'true').stderr, /--disk 100: the size has no unit/);
  const p = sbx('run', '--pids', '-1', '--', 'true');
  assert.is(p.code, 125);
  assert.is(p.stderr, "sbx: error: --pids -1: a negative number is not a count: expected a whole number from 2 to 4194304\nsbx: see 'sbx run --help'\n");
  const v = sbx('run', '--name');
  assert.match(v.stderr, /^sbx: error: --name needs a value: --name NAME\n/);
});

test('an unknown sandbox id is one clear line', () => {
  const r = sbx('diff', 'nosuchbox');
  assert.is(r.code, 125);
  assert.is(r.stdout, '');
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /no sandbox called 'nosuchbox'.*sbx ls/);
  assert.not.match(r.stderr, /\n\s+at /);
});

test('contradicting options are refused before anything runs', () => {
  const r = sbx('run', '-n', '-y', '--', 'true');
  assert.is(r.code, 125);
  assert.match(r.stderr, /contradict/);
});

test('options that cannot go together are refused with one line naming them, before anything runs', () => {
  // Each was accepted and one silently won, or (--bind '') bound the current directory.
  const cases: Array<[string[], RegExp]> = [
    [['diff', 'x', '--json', '--stat'], /^sbx: error: --stat and --json are different outputs: give one\n/],
    [['diff', 'x', '--name-only', '--stat'], /^sbx: error: --stat and --name-only are different outputs: give one\n/],
    [['diff', 'x', '--json', '--name-only'], /^sbx: error: --name-only and --json are different outputs: give one\n/],
    [['export', 'x', '--tag', 'foo', '-o', '/nonexistent/x.tar'], /^sbx: error: --tag goes with --format oci-image \(the format is oci-layer\)\n/],
    [['export', 'x', '--format', 'tar', '--base', 'l:t', '-o', '/nonexistent/x.tar'], /^sbx: error: --base goes with --format oci-image \(the format is tar\)\n/],
    // The fast path's flags alone, and with one only clipanion parses.
    [['run', '-n', '--name', 'x', '--', 'true'], /^sbx: error: -n\/--discard keeps nothing for --name to name: drop one\n/],
    [['run', '-n', '--name', 'x', '--pids', '100', '--', 'true'], /^sbx: error: -n\/--discard keeps nothing for --name to name: drop one\n/],
    [['run', '-n', '--bind', '', '--', 'true'], /^sbx: error: --bind '': give the host path to bind\n/],
    [['run', '-n', '--ro-bind', ':/x', '--', 'true'], /^sbx: error: --ro-bind ':\/x': give the host path to bind\n/],
    [['run', '-n', '--hide', '', '--', 'true'], /^sbx: error: --hide '': give the path to hide\n/],
    // They failed mid-setup at steps bind-idmap (EPERM) and bind-mkdir (ENOENT, EROFS).
    [['run', '-n', '--ro-bind', '/etc/hostname:/proc/sys/kernel/hostname', '--', 'true'], /^sbx: error: --ro-bind \/etc\/hostname:\/proc\/sys\/kernel\/hostname: \/proc and \/sys inside are the sandbox's own, which sbx does not bind into; bind somewhere else\n/],
    [['run', '-n', '--bind', '/tmp:/sys/x', '--', 'true'], /^sbx: error: --bind \/tmp:\/sys\/x: \/proc and \/sys inside/],
    [['run', '-n', '--bind', '/tmp:/proc', '--', 'true'], /^sbx: error: --bind \/tmp:\/proc: \/proc and \/sys inside/],
  ];
  for (const [args, want] of cases) {
    const r = sbx(...args);
    assert.is(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stdout, '');
    assert.match(r.stderr, want, args.join(' '));
    assert.is(r.stderr.split('\n').length, 3, r.stderr);
  }
  // diff's rest is PATHs: its usage said `<ID> ...`, read as several ids.
  assert.match(sbx('diff', '--help').stdout, /\$ sbx diff <ID> \[PATH\.\.\.\]\n/);
});

test('a bind of a dir onto a file, or a file onto a dir, is refused in one line before anything runs', () => {
  // It failed mid-setup with "sandbox setup failed at step 'bind' PATH: EINVAL".
  const d = mkdtempSync(join(tmpdir(), 'sbx-cli-kinds-'));
  try {
    writeFileSync(join(d, 'file'), 'f');
    for (const [flag, spec, want] of [
      ['--bind', `${d}:${d}/file`, `${d} is a directory and ${d}/file is not a directory`],
      ['--ro-bind', `${d}/file:${d}`, `${d}/file is not a directory and ${d} is a directory`],
    ] as const) {
      const r = sbx('run', '-n', flag, spec, '--', 'true');
      assert.is(r.code, 125, r.stderr);
      assert.is(r.stderr, `sbx: error: ${flag} ${spec}: ${want}; nothing ran (bind a directory onto a directory and a file onto a file, or onto a new name, which sbx makes inside)\n`);
    }
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a closed stdout pipe is not a crash', () => {
  // stdout is a pipe whose reader is gone before sbx starts, so every write gets EPIPE; the
  // status asserted is sbx's own (not that of the last command of a shell pipeline).
  const closedPipe = 'import os, subprocess, sys\nr, w = os.pipe()\nos.close(r)\np = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)\nsys.stderr.buffer.write(p.stderr)\nsys.exit(p.returncode)';
  const r = spawnSync('python3', ['-c', closedPipe, process.execPath, SBX, 'policy', 'show', 'default'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.not.match(r.stderr, /EPIPE|Error/);
});

test('policy show follows --cap-add: the raw-socket rule exists only with NET_RAW', () => {
  const def = sbx('policy', 'show', 'default');
  assert.is(def.code, 0, def.stderr);
  assert.match(def.stdout, /^for a command holding: CHOWN DAC_OVERRIDE .*SETFCAP /m);
  assert.match(def.stdout, /errno EPERM if .*SOCK_RAW.* \[without NET_RAW\]:/);
  assert.not.match(def.stdout, /\[with NET_RAW\]/);
  const raw = sbx('policy', 'show', 'default', '--cap-add', 'NET_RAW');
  assert.match(raw.stdout, /allow if .*AF_PACKET.* \[with NET_RAW\]:/);
  assert.not.match(raw.stdout, /\[without NET_RAW\]/);
});

test('a missing argument names what is missing', () => {
  const id = "sandbox id or name \\(see 'sbx ls'\\)";
  for (const [cmd, what] of [
    [['diff'], id], [['commit'], id], [['discard'], id], [['export'], id],
    [['policy', 'check'], 'policy file \\(a JSON file\\)'], [['policy', 'show'], "policy name or file \\(see 'sbx policy ls'\\)"],
  ] as const) {
    const r = sbx(...cmd);
    assert.is(r.code, 125, cmd.join(' '));
    assert.match(r.stderr, new RegExp(`^sbx: error: missing ${what}\\n(?:.*\\n)?sbx: see 'sbx ${cmd.join(' ')} --help'\\n$`), r.stderr);
  }
});

test('a size of 0 suggests a size sbx takes, in the flag and in the config', () => {
  for (const flag of ['--memory', '--disk']) {
    const r = sbx('run', flag, '0', '--', 'true');
    assert.is(r.code, 125);
    assert.is(r.stderr, `sbx: error: ${flag} 0: the size must be more than 0, with a unit: write e.g. 512M or 2G (K, M, G or T)\nsbx: see 'sbx run --help'\n`);
  }
  assert.match(sbx('run', '--memory', '1.5', '--', 'true').stderr, /write e\.g\. 1\.5M or 1\.5G/);
});

test('SBX_HOME must be an absolute path to a directory', () => {
  const rel = run(['ls'], { store: 'rel-store', cwd: store });
  assert.is(rel.code, 125);
  assert.is(rel.stderr, 'sbx: error: SBX_HOME=rel-store is not an absolute path (set SBX_HOME to an absolute path, e.g. SBX_HOME="$PWD/rel-store")\n');
  assert.not.ok(existsSync(join(store, 'rel-store')));
  const runRel = run(['run', '-n', '--', 'true'], { store: 'rel-store', cwd: store });
  assert.is(runRel.code, 125);
  assert.match(runRel.stderr, /^sbx: error: SBX_HOME=rel-store is not an absolute path/);
  assert.not.ok(existsSync(join(store, 'rel-store')));
  const file = join(store, 'a-file');
  writeFileSync(file, '');
  for (const home of [file, join(file, 'below')]) {
    const r = run(['run', '-n', '--', 'true'], { store: home });
    assert.is(r.code, 125);
    assert.match(r.stderr, new RegExp(`^sbx: error: ${home} is not a directory.*: refusing to use it \\(give SBX_HOME a directory of your own, or unset it for the default store\\)\\n$`), r.stderr);
    const ls = run(['ls'], { store: home });
    assert.is(ls.code, 125);
    assert.is(ls.stderr.split('\n').length, 2, ls.stderr);
    assert.not.match(ls.stderr, /internal error/);
  }
});

test.run();
