// The command's own stdin/stdout/stderr (issue 11, item 5). As root, the pipes and files sbx
// is given belong to host root, which the sandbox's range does not map: without the relay,
// reopening /dev/stdin or /dev/stdout inside fails with EACCES. As an ordinary user they are
// the user's own (mapped) and work directly; the same expectations hold either way.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeStore, SBX, removeStore } from '../helpers/sbx.js';

const store = makeStore();
const dir = mkdtempSync(join(tmpdir(), 'sbx-stdio-'));
chmodSync(dir, 0o700);
test.after(() => { removeStore(store); rmSync(dir, { recursive: true, force: true }); });

const env = { ...process.env, SBX_HOME: store, NO_COLOR: '1' };
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let n = 0;
/**
 * sbx between real pipes on stdin, stdout and stderr, as a shell pipeline runs it (Node's own
 * child stdio are socket pairs, which nobody can reopen through /proc).
 */
function run(args: string[], input: Buffer | string = ''): { code: number; stdout: Buffer; stderr: string } {
  const b = join(dir, String(n++));
  writeFileSync(`${b}.in`, input);
  const script = 'b=$1; node=$2; sbx=$3; shift 3; cat "$b.in" | { { "$node" "$sbx" run -n -q "$@"; echo $? > "$b.code"; } 2>&1 >&3 | cat > "$b.err"; } 3>&1 | cat > "$b.out"';
  const r = spawnSync('sh', ['-c', script, 'sh', b, process.execPath, SBX, ...args], { env, cwd: '/', timeout: 120_000 });
  assert.is(r.signal, null, 'timed out');
  const out = { code: Number(readFileSync(`${b}.code`, 'utf8')), stdout: readFileSync(`${b}.out`), stderr: readFileSync(`${b}.err`, 'latin1') };
  for (const f of ['in', 'out', 'err', 'code']) rmSync(`${b}.${f}`, { force: true });
  return out;
}

test('echo hi | sbx run -n -- sh -c "cat /dev/stdin"', () => {
  const r = run(['--', 'sh', '-c', 'cat /dev/stdin'], 'hi\n');
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.toString(), 'hi\n');
});

test('sbx run -n -- sh -c "echo x > /dev/stdout" | cat, and /dev/stderr likewise', () => {
  const r = run(['--', 'sh', '-c', 'echo x > /dev/stdout; echo e > /dev/stderr; echo y >> /proc/self/fd/1']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.toString(), 'x\ny\n');
  assert.match(r.stderr, /^e$/m);
});

test('the command\'s stdio belongs to root inside (reopenable), and stays a pipe', () => {
  const r = run(['--', 'sh', '-c', 'stat -L -c "%u %F" /dev/stdin /dev/stdout']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString().trim().split('\n'), ['0 fifo', '0 fifo']);
});

test('a root-owned regular file as stdout and stdin: reopened inside, content intact', () => {
  const out = join(dir, 'out.txt');
  const fd = openSync(out, 'w', 0o600);
  try {
    const r = spawnSync(process.execPath, [SBX, 'run', '-n', '-q', '--', 'sh', '-c', 'echo x > /dev/stdout'], { stdio: ['ignore', fd, 'pipe'], env, cwd: '/' });
    assert.is(r.status, 0, r.stderr?.toString());
  } finally { closeSync(fd); }
  assert.is(readFileSync(out, 'utf8'), 'x\n');
  writeFileSync(out, 'x\ny\n');
  const inFd = openSync(out, 'r');
  try {
    const r = spawnSync(process.execPath, [SBX, 'run', '-n', '-q', '--', 'sh', '-c', 'cat /dev/stdin'], { stdio: [inFd, 'pipe', 'pipe'], env, cwd: '/' });
    assert.is(r.status, 0, r.stderr?.toString());
    assert.is(r.stdout.toString(), 'x\ny\n');
  } finally { closeSync(inFd); }
});

test('large binary streams pass unchanged both ways (checksums), through /dev/stdin and fd 0', () => {
  const data = randomBytes(24 << 20);
  for (const script of ['cat /dev/stdin', 'cat', 'cat > /dev/stdout']) {
    const r = run(['--', 'sh', '-c', script], data);
    assert.is(r.code, 0, `${script}: ${r.stderr.slice(0, 300)}`);
    assert.is(sha(r.stdout), sha(data), `${script}: ${r.stdout.length} of ${data.length} bytes`);
  }
  // stderr carries binary too (a file here).
  const small = randomBytes(1 << 20);
  const r = run(['--', 'sh', '-c', 'cat /dev/stdin > /dev/stderr'], small);
  assert.is(r.code, 0);
  assert.is(sha(Buffer.from(r.stderr, 'latin1')), sha(small));
});

// Whoever starts sbx may hand it a non-blocking pipe (a Node parent does: the description is
// shared, so the helper's writes to it can fail with EAGAIN while the reader is slow).
const SLOW_READER = `
import fcntl, os, struct, subprocess, sys, termios, time
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
cmd = "head -c 153600 /dev/zero | tr '\\\\0' x > /dev/stderr"
p = subprocess.Popen(sys.argv[1:] + ["run", "-n", "-q", "--", "sh", "-c", cmd], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=w)
os.close(w)
# Read only once the pipe to us is full: within a page of its size, and no fuller 50 ms later
# (the command has more to write than it holds, so sbx's writes to it meet EAGAIN by then), as
# a fixed 3 s wait used to assume; a minute at most.
size = fcntl.fcntl(r, 1032)  # F_GETPIPE_SZ
queued = last = -1
end = time.time() + 60
while time.time() < end:
    last, queued = queued, struct.unpack('i', fcntl.ioctl(r, termios.FIONREAD, b'\\0\\0\\0\\0'))[0]
    if queued >= size - 4096 and queued == last:
        break
    time.sleep(0.05)
n = 0
while True:
    b = os.read(r, 4096)
    if not b:
        break
    n += b.count(b"x")
print(p.wait(), n)
`;

test('output the command wrote before it ended reaches a slow reader on a non-blocking pipe whole', () => {
  const r = spawnSync('python3', ['-c', SLOW_READER, process.execPath, SBX], { env, cwd: '/', timeout: 60_000, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '0 153600\n');
});

test('EOF on stdin reaches the command; a command that does not read stdin still ends', () => {
  let r = run(['--', 'sh', '-c', 'cat; echo done'], 'abc');
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.toString(), 'abcdone\n');
  r = run(['--', 'sh', '-c', 'wc -c < /dev/stdin'], '');
  assert.is(r.stdout.toString().trim(), '0');
  // Input nobody reads: the command's exit ends the run.
  r = run(['--', 'true'], randomBytes(4 << 20));
  assert.is(r.code, 0, r.stderr);
});

test('SIGPIPE: a reader that goes away ends a writer the way a plain pipe does', () => {
  // `yes | head -c 5`: yes dies of SIGPIPE (141 in the shell's terms) and sbx does not hang.
  const r = spawnSync('sh', ['-c', `"${process.execPath}" "${SBX}" run -n -q -- sh -c 'yes; echo "yes-exit=$?" >&2' | head -c 5; echo "pipe-done"`], { env, cwd: '/', timeout: 60_000, encoding: 'utf8' });
  assert.is(r.signal, null, 'sbx hung');
  assert.is(r.stdout, 'y\ny\ny' + 'pipe-done\n');
  assert.match(r.stderr, /yes-exit=141/);
});

test('exit statuses are unchanged by the relay', () => {
  for (const [script, want] of [['cat /dev/stdin > /dev/null; exit 7', 7], ['echo x > /dev/stdout; kill -TERM $$', 143], ['exec cat /nonexistent', 1]] as const) {
    const r = run(['--', 'sh', '-c', script], 'x');
    assert.is(r.code, want, `${script}: ${r.stderr}`);
  }
});

/** A shell script with sbx as the function SBX (this node and the bundle), run in `dir`: its stdout. */
function shell(script: string): Buffer {
  const r = spawnSync('sh', ['-c', `SBX() { "$SBX_NODE" "$SBX_JS" "$@"; }; ${script}`], { env: { ...env, SBX_NODE: process.execPath, SBX_JS: SBX }, cwd: dir, timeout: 120_000 });
  assert.is(r.signal, null, 'timed out');
  assert.is(r.status, 0, r.stderr.toString());
  return r.stdout;
}

// A world-writable file is relayed (the command could reopen it for writing), root's and the
// test user's alike: the relay's file mode.
function relayedFile(name: string, data: Buffer | string): string {
  const f = join(dir, name);
  writeFileSync(f, data);
  chmodSync(f, 0o666);
  assert.is(shell(`SBX run -n -q -- stat -L -c %F /dev/stdin < ${name}`).toString(), 'fifo\n', 'the file was not relayed');
  return name;
}

test('a read loop around sbx gets every line: the relay leaves what the command did not read (pipe and file)', () => {
  const loop = 'while read l; do SBX run -n -q -- true; echo "$l"; done';
  assert.is(shell(`printf 'a\\nb\\nc\\n' | ${loop}`).toString(), 'a\nb\nc\n');
  const lines = relayedFile('lines.txt', 'a\nb\nc\n');
  assert.is(shell(`${loop} < ${lines}`).toString(), 'a\nb\nc\n');
  // A shell's read inside takes one line; the rest is the next reader's.
  assert.is(shell(`printf 'a\\nb\\nc\\n' | { SBX run -n -q -- sh -c 'read x; echo "in:$x"'; cat; }`).toString(), 'in:a\nb\nc\n');
  assert.is(shell(`{ SBX run -n -q -- sh -c 'read x; echo "in:$x"'; cat; } < ${lines}`).toString(), 'in:a\nb\nc\n');
});

test('a command that reads part of stdin leaves the rest byte for byte, whatever its reads (pipe and file)', () => {
  const data = randomBytes(300_000);
  const input = relayedFile('part.bin', data);
  for (const bs of [7, 1000, 65536]) {
    const count = Math.floor(100_000 / bs);
    const take = `SBX run -n -q -- dd bs=${bs} count=${count} iflag=fullblock 2>/dev/null > a.bin; cat > b.bin`;
    for (const [how, script] of [['pipe', `cat ${input} | { ${take}; }`], ['file', `{ ${take}; } < ${input}`]]) {
      shell(script!);
      const a = readFileSync(join(dir, 'a.bin')), b = readFileSync(join(dir, 'b.bin'));
      assert.is(a.length, bs * count, `${how}, bs ${bs}: the command read ${a.length}`);
      assert.ok(Buffer.concat([a, b]).equals(data), `${how}, bs ${bs}: ${a.length} + ${b.length} bytes are not the input's ${data.length}`);
    }
  }
});

// A TCP socket as stdin, as inetd or a socket-activated service gives it (relayed: it keeps
// the host's network namespace). Runs the shell script with it and prints what the script did.
const ON_SOCKET = `
import os, socket, subprocess, sys
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1)
cli = socket.create_connection(srv.getsockname()); conn, _ = srv.accept()
cli.sendall(open(sys.argv[1], 'rb').read()); cli.shutdown(socket.SHUT_WR)
r = subprocess.run(['sh', '-c', sys.argv[2]], stdin=conn.fileno(), capture_output=True)
sys.stdout.buffer.write(r.stdout); sys.stderr.buffer.write(r.stderr); sys.exit(r.returncode)
`;

test('a TCP socket on stdin also loses only what the command read (a read loop, dd leaving the rest)', () => {
  const onSocket = (data: Buffer | string, script: string): string => {
    const input = join(dir, 'socket-in.bin');
    writeFileSync(input, data);
    const r = spawnSync('python3', ['-c', ON_SOCKET, input, `SBX() { "$SBX_NODE" "$SBX_JS" "$@"; }; ${script}`], { env: { ...env, SBX_NODE: process.execPath, SBX_JS: SBX }, cwd: dir, timeout: 120_000 });
    assert.is(r.status, 0, r.stderr.toString());
    return r.stdout.toString();
  };
  assert.is(onSocket('', 'SBX run -n -q -- stat -L -c %F /dev/stdin'), 'fifo\n', 'the socket was not relayed');
  assert.is(onSocket('a\nb\nc\n', 'while read l; do SBX run -n -q -- true; echo "$l"; done'), 'a\nb\nc\n');
  const data = randomBytes(300_000);
  for (const bs of [7, 65536]) {
    onSocket(data, `SBX run -n -q -- dd bs=${bs} count=${Math.floor(100_000 / bs)} iflag=fullblock 2>/dev/null > a.bin; cat > b.bin`);
    const a = readFileSync(join(dir, 'a.bin')), b = readFileSync(join(dir, 'b.bin'));
    assert.is(a.length, bs * Math.floor(100_000 / bs));
    assert.ok(Buffer.concat([a, b]).equals(data), `bs ${bs}: ${a.length} + ${b.length} bytes are not the input's ${data.length}`);
  }
});

test('a command killed outright leaves a relayed file\'s offset past what it read, not at the start', () => {
  // It ignores SIGTERM, so --timeout's SIGKILL ends it, and its init, with no last count: the
  // offset is where the relay had moved it before passing more on.
  const data = randomBytes(300_000);
  const input = relayedFile('killed.bin', data);
  shell(`{ SBX run -n -q --timeout 1s -- sh -c 'trap "" TERM; dd bs=100000 count=1 iflag=fullblock 2>/dev/null >/dev/null; sleep 30' 2>/dev/null; cat > rest.bin; } < ${input}`);
  const rest = readFileSync(join(dir, 'rest.bin'));
  assert.ok(rest.length >= 200_000 && rest.length < data.length, `the next reader got ${rest.length} of ${data.length} bytes`);
  assert.ok(rest.equals(data.subarray(data.length - rest.length)), 'the next reader\'s bytes are not the file\'s tail');
});

test('a command that writes into its own stdin pipe is not blocked by the relay, and reads both', () => {
  // The relay holds the command's pipe full of the caller's bytes; a write through
  // /proc/self/fd/0 waits until they are taken back (100 ms), then its own bytes come first.
  const out = shell(`printf 'host\\n' | { SBX run -n -q -- sh -c 'echo mine > /proc/self/fd/0; read a; read b; echo "$a|$b"'; cat; }`);
  assert.is(out.toString(), 'mine|host\n');
});

test('2>&1: what the command writes to stdout and stderr comes out in the order written (a pipe, and a file)', () => {
  const script = `SBX run -n -q -- sh -c 'i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo out$i; echo err$i >&2; done'`;
  const want = Array.from({ length: 300 }, (_, i) => `out${i + 1}\nerr${i + 1}\n`).join('');
  assert.is(shell(`${script} 2>&1 | cat`).toString(), want);
  // A file is relayed too: the test user's own (root inside is its owner there) as root's
  // (root inside could not reopen it).
  const log = join(dir, 'merged.log');
  assert.is(shell(`SBX run -n -q -- stat -L -c %F /dev/stdout > merged.log; cat merged.log`).toString(), 'fifo\n', 'the file was not relayed');
  shell(`${script} > merged.log 2>&1`);
  assert.is(readFileSync(log, 'utf8'), want);
});

test('stdin from /dev/null and stdout to /dev/null need no relay and still work', () => {
  const r = spawnSync(process.execPath, [SBX, 'run', '-n', '-q', '--', 'sh', '-c', 'cat /dev/stdin; echo x > /dev/stdout'], { stdio: ['ignore', 'ignore', 'pipe'], env, cwd: '/' });
  assert.is(r.status, 0, r.stderr?.toString());
});

test.run();
