// A file given on stdin or as an append-only stdout is not a way to write the host. Through
// /proc/self/fd/N the command reopens the host's inode itself (below every overlay), and the
// kernel checks only that inode's owner and mode: an ordinary user's own file, or any
// world-writable one, could be rewritten or truncated while the review said "the host was not
// touched". Such fds are relayed (sandbox-core/stdio.ts): the command still reads the input
// and appends to the log, and nothing else.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SBX, makeCanary, makeStore, proveIsolation, removeCanary, removeStore } from '../helpers/sbx.js';

let canary = '', store = '';
test.before(() => { canary = makeCanary(); store = makeStore(); proveIsolation(canary, store); });
test.after(() => { removeCanary(canary); removeStore(store); });

/** Runs `script` under sh with `fds` as stdin/stdout, outside sbx (control) or inside it. */
function runWith(script: string, input: string, output: string, inside: boolean): { code: number | null; stderr: string } {
  const fd0 = openSync(input, 'r'), fd1 = openSync(output, 'a');
  try {
    const argv = inside ? [SBX, 'run', '-n', '-q', '--', 'sh', '-c', script] : ['-c', script];
    const r = spawnSync(inside ? process.execPath : 'sh', argv, { stdio: [fd0, fd1, 'pipe'], encoding: 'utf8', env: { ...process.env, SBX_HOME: store, NO_COLOR: '1' } });
    return { code: r.status, stderr: r.stderr };
  } finally { closeSync(fd0); closeSync(fd1); }
}

// Reads its stdin, appends what it read, then tries to rewrite stdin and truncate stdout
// through their magic links (errors silenced: inside they must fail or miss the host).
const SCRIPT = 'cat; echo appended; (echo rewritten > /proc/self/fd/0) 2>/dev/null; (: > /proc/self/fd/1) 2>/dev/null; exit 0';

for (const mode of [0o644, 0o666]) {
  test(`stdin from a ${mode.toString(8)} file of the caller and a '>>' log: read and appended, neither rewritten`, () => {
    const input = join(canary, `input-${mode.toString(8)}`), log = join(canary, `log-${mode.toString(8)}`);
    const reset = () => {
      writeFileSync(input, 'precious input\n'); chmodSync(input, mode);
      writeFileSync(log, 'old history\n'); chmodSync(log, mode);
    };
    // Control: outside sbx the script does rewrite both (so the probe would see a hole).
    reset();
    runWith(SCRIPT, input, log, false);
    assert.is(readFileSync(input, 'utf8'), 'rewritten\n', 'control: the stdin file was not rewritten');
    assert.is(readFileSync(log, 'utf8'), '', 'control: the log was not truncated');
    reset();
    const r = runWith(SCRIPT, input, log, true);
    assert.is(r.code, 0, r.stderr);
    assert.is(readFileSync(input, 'utf8'), 'precious input\n', 'the stdin file was rewritten on the host');
    assert.is(readFileSync(log, 'utf8'), 'old history\nprecious input\nappended\n', 'the log lost its history or missed the output');
  });
}

/** `sh -c script` with `$SBX` naming sbx (root: with `flags`), its stdin and stdout as sh's own. */
function shell(script: string, flags: string[] = []): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', ['-c', script], {
    encoding: 'utf8', env: { ...process.env, SBX_HOME: store, NO_COLOR: '1', SBX: [process.execPath, SBX, 'run', '-n', '-q', ...flags].join(' ') },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
// Root's default sandbox does not map host root (the pipe's owner); --map-root does.
const ROOT_FLAGS = process.getuid!() === 0 ? [[], ['--map-root']] : [[]];

for (const flags of ROOT_FLAGS) {
  test(`a pipe on stdin is not the host's to write through /proc/self/fd/0: what the command writes never reaches the host's next reader${flags.length ? ` (${flags.join(' ')})` : ''}`, () => {
    // `cat script | bash` with a line that runs sbx: the command wrote the shell's next lines.
    // Control first: the same write outside sbx does reach the next reader.
    const control = shell("printf 'from the host\\n' | { sh -c 'echo planted > /proc/self/fd/0'; cat; }");
    assert.match(control.stdout, 'planted', 'control: a write through /proc/self/fd/0 did not reach the pipe');
    const r = shell(`printf 'from the host\\n' | { $SBX -- sh -c 'echo planted > /proc/self/fd/0; echo ran >&2'; cat; }`, flags);
    assert.match(r.stderr, 'ran', r.stderr);
    assert.not.match(r.stdout, 'planted', `the command's write reached the host's pipe: ${r.stdout}`);
    // The relay passed the host's bytes on without taking them (tee(2): the command's pipe held
    // the host pipe's own pages, which its write did not touch), and the command read none.
    assert.is(r.stdout, 'from the host\n');
  });

  test(`a file the caller made with '>' keeps its mode and owner: the command cannot chmod it through fd 1${flags.length ? ` (${flags.join(' ')})` : ''}`, () => {
    const out = join(canary, `out-${flags.length}`);
    const r = shell(`$SBX -- sh -c 'echo data; chmod 6755 /proc/self/fd/1 /dev/stdout; chown 5:5 /proc/self/fd/1; touch -d 1999-01-01 /proc/self/fd/1' 2>/dev/null > ${out}; echo $? >&2`, flags);
    assert.is(r.stderr.trim(), '0', r.stderr);
    assert.is(readFileSync(out, 'utf8'), 'data\n');
    const st = statSync(out);
    assert.is(st.mode & 0o7777, 0o644 & ~process.umask(), `mode ${(st.mode & 0o7777).toString(8)}`);
    assert.is(st.uid, process.getuid!());
    assert.ok(st.mtimeMs > Date.now() - 600_000, 'the command set the host file\'s time');
  });
}

test.run();
