// Unix sockets: a daemon listening on the host (under /run as root, /tmp, $HOME) cannot be
// reached from inside, because those trees are overlays and a socket in an overlay's lower
// layer refuses connections. Abstract sockets live in the network namespace: unreachable
// without --net. Each case has a host-side control connect that succeeds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, connect, type Server } from 'node:net';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { IS_ROOT, makeStore, removeStore } from '../helpers/sbx.js';
import { compileC, probeResults, removeCompiled } from '../helpers/native.js';

const store = makeStore();
let probe = '';
const servers: Server[] = [];
const dirs: string[] = [];
test.before(() => { probe = compileC('probe'); });
test.after(() => {
  for (const s of servers) s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  removeCompiled();
  removeStore(store);
});

async function listen(path: string): Promise<void> {
  const s = createServer((c) => { c.on('error', () => {}); c.end('hello\n'); });
  servers.push(s);
  await new Promise<void>((res, rej) => { s.once('error', rej); s.listen(path, () => res()); });
  if (!path.startsWith('\0')) chmodSync(path, 0o777);
}

async function hostConnects(path: string): Promise<boolean> {
  return await new Promise((res) => {
    const c = connect(path);
    c.once('connect', () => { c.destroy(); res(true); });
    c.once('error', () => res(false));
  });
}

function socketDir(base: string): string {
  const d = mkdtempSync(join(base, IS_ROOT && base === '/run' ? 'sbx-test-sock-' : '.sbx-test-sock-'));
  chmodSync(d, 0o755);
  dirs.push(d);
  return d;
}

// spawnSync blocks the event loop that serves the host's sockets; run sbx asynchronously.
async function inside(args: string[], sock: string, what: string): Promise<string | undefined> {
  const { spawn } = await import('node:child_process');
  const { SBX } = await import('../helpers/sbx.js');
  const child = spawn(process.execPath, [SBX, 'run', '-n', '-q', ...args, '--', probe, what], {
    cwd: '/', env: { ...process.env, SBX_HOME: store, NO_COLOR: '1', PROBE_SOCK: sock }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '', err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const code = await new Promise<number | null>((res) => child.on('close', res));
  assert.is(code, 0, err);
  return probeResults(out).get(what);
}

const bases = [tmpdir(), homedir(), ...(IS_ROOT ? ['/run'] : [])];
for (const base of bases) {
  test(`a host socket under ${base} cannot be connected to from inside`, async () => {
    const path = join(socketDir(base), 's');
    await listen(path);
    assert.ok(await hostConnects(path), 'control: the host can connect');
    const got = await inside([], path, 'connect-unix');
    assert.ok(got === 'ECONNREFUSED' || got === 'ENOENT' || got === 'EACCES', `connect from inside: ${got}`);
    // --net shares only the network namespace; filesystem sockets stay behind the overlay.
    const withNet = await inside(['--net'], path, 'connect-unix');
    assert.ok(withNet !== 'ok', `connect from inside with --net: ${withNet}`);
  });
}

test('an abstract socket is unreachable without --net, reachable with it', async () => {
  const name = `sbx-test-abstract-${process.pid}`;
  await listen(`\0${name}`);
  assert.ok(await hostConnects(`\0${name}`), 'control: the host can connect');
  assert.is(await inside([], name, 'connect-abstract'), 'ECONNREFUSED');
  // --allow-net keeps the sandbox's own network namespace, with the relay only (a name) and
  // with the direct path's supervisor making the command's unix connects (an IP entry).
  assert.is(await inside(['--allow-net', 'example.test'], name, 'connect-abstract'), 'ECONNREFUSED');
  assert.is(await inside(['--allow-net', '127.0.0.1:1'], name, 'connect-abstract'), 'ECONNREFUSED');
  // The door --net opens (documented): the sandbox shares the host's abstract namespace.
  assert.is(await inside(['--net'], name, 'connect-abstract'), 'ok');
});

// Runs argv with an unconnected TCP socket of the host's network namespace as its stdin (what an
// inetd-style service or `socat ... EXEC:...,nofork` hands its child), and says what a listener
// on the host's loopback got. The connect completes inside connect(2) on loopback, so anything
// that got through is in the listener's queue when the command has exited.
const SOCKET_STDIN = `
import json, socket, subprocess, sys
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(4)
s = socket.socket()
env = dict(__import__('os').environ, PROBE_PORT=str(srv.getsockname()[1]))
r = subprocess.run(sys.argv[1:], stdin=s.fileno(), capture_output=True, text=True, env=env)
srv.setblocking(False)
try:
    c, _ = srv.accept(); c.setblocking(True); c.settimeout(5); got = c.recv(100).decode()
except BlockingIOError:
    got = None
print(json.dumps({'code': r.returncode, 'out': r.stdout, 'err': r.stderr, 'got': got}))
`;

test('a host TCP socket on stdin does not take the command onto the host\'s network', async () => {
  const { spawnSync } = await import('node:child_process');
  const { SBX } = await import('../helpers/sbx.js');
  const run = (argv: string[]) => {
    const r = spawnSync('python3', ['-c', SOCKET_STDIN, ...argv], { encoding: 'utf8', env: { ...process.env, SBX_HOME: store, NO_COLOR: '1' } });
    assert.is(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { code: number; out: string; err: string; got: string | null };
  };
  const control = run([probe, 'stdin-connect-tcp']);
  assert.is(control.got, 'escaped', `control: outside sbx the socket connects (${control.out})`);
  const r = run([process.execPath, SBX, 'run', '-n', '-q', '--', probe, 'stdin-connect-tcp']);
  assert.is(r.code, 0, r.err);
  assert.is(r.got, null, `the host listener got a connection from inside: ${r.out}`);
  assert.match(r.out, /^stdin-connect-tcp E\w+$/m);
});

test.run();
