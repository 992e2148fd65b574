// --allow-net's direct path for real: an IP or CIDR entry lets the command's own connect(2)
// reach the host's address with a socket sbx connected on the host and put in place of the
// command's (seccomp user notification, native/netdirect.c), so no relay copies the bytes.
// Servers on 127.0.0.1 started here; no traffic leaves this machine (192.0.2.0/24 is never
// connected to: it is refused before any packet).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CI, makeStore, sbx, sbxAsync, removeStore } from '../helpers/sbx.js';
import { have } from '../helpers/skip.js';
import { directPathSupported } from '../../sandbox-core/net/session.js';

const tools = have('curl') && have('python3');
if (!tools && CI) throw new Error('curl and python3 are needed (installed by .ci/run)');
const kernel = directPathSupported();
if (!kernel && CI) throw new Error('this kernel lacks PIDFD_THREAD (Linux 6.9): --allow-net has no direct path');
const maybe = tools && kernel ? test : test.skip;

const store = makeStore();
const dir = mkdtempSync(join(tmpdir(), 'sbx-allownet-direct-'));
chmodSync(dir, 0o755);
let server: ChildProcess | null = null;
let httpPort = 0;
let bannerPort = 0;

// Plain HTTP ("plain <path>", /big: 24 MiB) and a server that speaks first (a banner, then
// the client's first line back): bytes the host sends before the client must reach it.
const SERVER = `
const http = require('node:http'), net = require('node:net');
const big = Buffer.alloc(24 << 20, 7);
const a = http.createServer((req, res) => res.end(req.url === '/big' ? big : 'plain ' + req.url + '\\n')).listen(0, '127.0.0.1', () => {
  const b = net.createServer((s) => { s.write('banner\\n'); s.once('data', (d) => s.end('echo ' + d)); }).listen(0, '127.0.0.1', () => console.log(a.address().port + ' ' + b.address().port));
});`;

test.before(async () => {
  if (!tools || !kernel) return;
  server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => server!.stdout!.once('data', (d) => resolve(String(d))));
  [httpPort, bannerPort] = line.trim().split(' ').map(Number) as [number, number];
});

test.after(() => {
  server?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  removeStore(store);
});

function inside(allow: string[], script: string, extra: string[] = []) {
  return sbx(['run', '-n', ...extra, ...allow.flatMap((a) => ['--allow-net', a]), '--', 'sh', '-c', script], { store });
}

function script(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  chmodSync(f, 0o644);
  return f;
}

type Row = { host: string; port: number; allowed: boolean; count: number; reason: string; spliced?: number; direct?: number };
const report = (f: string) => (JSON.parse(readFileSync(f, 'utf8')) as { network: Row[] }).network;

maybe('a client that ignores the proxy variables reaches an allowed IP:port directly; summary and --report say so', () => {
  const py = script('banner.py', [
    'import socket, sys',
    's = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)',
    'f = s.makefile("rb")',
    'print(f.readline().decode().strip())',
    's.sendall(b"hello\\n")',
    'print(f.readline().decode().strip())',
  ].join('\n'));
  const f = join(dir, 'direct.json');
  const r = inside([`127.0.0.1:${httpPort}`, `127.0.0.1:${bannerPort}`],
    `curl -sS --noproxy '*' http://127.0.0.1:${httpPort}/x; python3 '${py}' ${bannerPort}; curl -sS --noproxy '*' http://127.0.0.1:${httpPort}/big | wc -c`, ['--report', f]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.replace(/ /g, ''), `plain/x\nbanner\nechohello\n${24 << 20}\n`);
  assert.match(r.stderr, `network: allowed: 127.0.0.1:${httpPort} ×2 (direct ×2)`);
  assert.match(r.stderr, `network: allowed: 127.0.0.1:${bannerPort} ×1 (direct ×1)`);
  const rows = report(f);
  const row = rows.find((d) => d.port === httpPort);
  assert.is(row?.allowed, true);
  assert.is(row?.direct, 2);
  assert.is(row?.spliced, undefined, 'no byte went through the relay');
});

maybe('a connect from a thread that does not lead its process is answered too (direct and inside)', () => {
  const py = script('thread.py', [
    'import socket, sys, threading',
    'def go(addr):',
    '  try: s = socket.create_connection(addr, timeout=5); print("ok", addr[1] == int(sys.argv[1]))',
    '  except OSError as e: print("failed", e.errno)',
    'for addr in [("127.0.0.1", int(sys.argv[1])), ("127.0.0.1", 9)]:',
    '  t = threading.Thread(target=go, args=(addr,)); t.start(); t.join()',
  ].join('\n'));
  const r = inside([`127.0.0.1:${httpPort}`], `python3 '${py}' ${httpPort}`);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'ok True\nfailed 111\n');
  assert.match(r.stderr, `(direct ×1)`);
});

maybe('proxy-aware clients go direct for IP and CIDR entries (NO_PROXY lists them); names keep the proxy', () => {
  const f = join(dir, 'noproxy.json');
  const r = inside([`127.0.0.0/8:${httpPort}`], `echo "$NO_PROXY"; curl -sS http://127.0.0.1:${httpPort}/y`, ['--report', f]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, `localhost,127.0.0.1,::1,127.0.0.0/8\nplain /y\n`);
  assert.is(report(f)[0]?.direct, 1);
});

maybe('a denied address or port fails at once with ECONNREFUSED; a denied host address is reported', () => {
  const py = script('denied.py', [
    'import socket, sys',
    'for host, port in [("192.0.2.1", 80), ("192.0.2.1", 80), ("127.0.0.1", int(sys.argv[1])), ("10.0.0.1", int(sys.argv[2]))]:',
    '  s = socket.socket(); s.settimeout(5)',
    '  try: s.connect((host, port)); print(host, port, "ESCAPED")',
    '  except OSError as e: print(host, "refused", e.errno)',
  ].join('\n'));
  // 127.0.0.1:bannerPort is not named: the sandbox's own loopback answers (nothing listens).
  const r = inside([`127.0.0.1:${httpPort}`, `10.0.0.0/8:1`], `python3 '${py}' ${bannerPort} ${httpPort}`);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, `192.0.2.1 refused 111\n192.0.2.1 refused 111\n127.0.0.1 refused 111\n10.0.0.1 refused 111\n`);
  assert.match(r.stderr, 'network: blocked: 192.0.2.1:80 ×2 (not in --allow-net)');
  assert.match(r.stderr, `network: blocked: 10.0.0.1:${httpPort} ×1 (not in --allow-net)`);
  assert.not.match(r.stderr, `127.0.0.1:${bannerPort}`);
});

maybe('non-blocking connects work: node\'s net and a non-blocking python socket', () => {
  const js = script('nb.js', `const s = require('node:net').connect(${httpPort}, '127.0.0.1', () => s.write('GET /nb HTTP/1.0\\r\\n\\r\\n'));
let out = ''; s.on('data', (d) => { out += d; }); s.on('end', () => console.log(out.split('\\r\\n\\r\\n')[1].trim()));`);
  const py = script('nb.py', [
    'import socket, select, errno, sys',
    's = socket.socket(); s.setblocking(False)',
    'rc = s.connect_ex(("127.0.0.1", int(sys.argv[1])))',
    'assert rc in (0, errno.EINPROGRESS), rc',
    'select.select([], [s], [], 10)',
    'assert s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0',
    'assert s.getblocking() is False',
    's.setblocking(True); s.sendall(b"GET /py HTTP/1.0\\r\\n\\r\\n")',
    'print(s.makefile("rb").read().split(b"\\r\\n\\r\\n")[1].decode().strip())',
  ].join('\n'));
  const r = inside([`127.0.0.1:${httpPort}`], `'${process.execPath}' '${js}'; python3 '${py}' ${httpPort}`);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'plain /nb\nplain /py\n');
  assert.match(r.stderr, `(direct ×2)`);
});

maybe('UDP, IPv6 and other families still fail; a connect to an allowed address on a UDP socket stays inside', () => {
  const py = script('other.py', [
    'import socket, sys',
    'def t(name, fam, kind, addr):',
    '  s = socket.socket(fam, kind); s.settimeout(3)',
    '  try:',
    '    s.connect(addr); s.send(b"x"); s.recv(1); print(name, "ESCAPED")',
    '  except OSError as e: print(name, "refused")',
    'p = int(sys.argv[1])',
    't("udp", socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", p))',
    't("tcp6", socket.AF_INET6, socket.SOCK_STREAM, ("::1", p))',
    't("tcp6-doc", socket.AF_INET6, socket.SOCK_STREAM, ("2001:db8::1", p))',
    't("mapped", socket.AF_INET6, socket.SOCK_STREAM, ("::ffff:192.0.2.1", p))',
  ].join('\n'));
  const r = inside([`127.0.0.1:${httpPort}`], `python3 '${py}' ${httpPort}`);
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stdout, /ESCAPED/);
  for (const n of ['udp', 'tcp6', 'tcp6-doc', 'mapped']) assert.match(r.stdout, new RegExp(`^${n} refused$`, 'm'));
});

maybe('connects inside the sandbox still work (unix path and abstract, UDP and TCP on its loopback); a direct socket cannot be disconnected', () => {
  const py = script('local.py', [
    'import socket, ctypes, os, sys',
    'def pair(fam, kind, addr):',
    '  srv = socket.socket(fam, kind); srv.bind(addr)',
    '  if kind == socket.SOCK_STREAM: srv.listen(1)',
    '  c = socket.socket(fam, kind); c.settimeout(5); c.connect(srv.getsockname() if fam != socket.AF_UNIX else addr)',
    '  if kind == socket.SOCK_STREAM: a, _ = srv.accept(); c.sendall(b"ok"); return a.recv(2).decode()',
    '  c.send(b"ok"); return srv.recv(2).decode()',
    'print("unix-path", pair(socket.AF_UNIX, socket.SOCK_STREAM, "/tmp/sbx-test.sock"))',
    'print("unix-dgram", pair(socket.AF_UNIX, socket.SOCK_DGRAM, "/tmp/sbx-test-dgram.sock"))',
    'print("unix-abstract", pair(socket.AF_UNIX, socket.SOCK_STREAM, "\\0sbx-test"))',
    'print("udp-local", pair(socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", 0)))',
    'print("tcp-local", pair(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 0)))',
    'os.chdir("/tmp")',
    'try: socket.socket(socket.AF_UNIX).connect("sbx-test.sock"); print("relative ok")',
    'except OSError as e: print("relative", e.errno)',
    's = socket.create_connection(("127.0.0.1", int(sys.argv[1])))',
    'libc = ctypes.CDLL(None, use_errno=True)',
    'unspec = ctypes.create_string_buffer(16)',
    'r = libc.connect(s.fileno(), unspec, 16)',
    'print("disconnect", r, ctypes.get_errno())',
    's.sendall(b"GET /still HTTP/1.0\\r\\n\\r\\n")',
    'print(s.makefile("rb").read().split(b"\\r\\n\\r\\n")[1].decode().strip())',
  ].join('\n'));
  const r = inside([`127.0.0.1:${httpPort}`], `python3 '${py}' ${httpPort}`);
  // Seen once in a full suite (2026-12-05): status 1 with only sbx's secrets line on stderr,
  // not reproduced alone or under CPU load; stdout too, should it come again.
  assert.is(r.code, 0, `${r.stderr}[stdout] ${r.stdout}`);
  assert.is(r.stdout, 'unix-path ok\nunix-dgram ok\nunix-abstract ok\nudp-local ok\ntcp-local ok\nrelative 95\ndisconnect -1 95\nplain /still\n');
});

maybe('a list of names only takes no direct path: connects are not decided one by one', () => {
  const py = script('names.py', [
    'import socket, os',
    'os.chdir("/tmp"); srv = socket.socket(socket.AF_UNIX); srv.bind("rel.sock"); srv.listen(1)',
    'c = socket.socket(socket.AF_UNIX); c.connect("rel.sock"); print("relative ok")',
  ].join('\n'));
  const r = inside(['plain.test'], `echo "$NO_PROXY"; python3 '${py}'`);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'localhost,127.0.0.1,::1\nrelative ok\n');
});

maybe('--no-seccomp: no direct path; the relay still carries proxied traffic and nothing else gets out', () => {
  const r = inside([`127.0.0.1:${httpPort}`], `echo "$NO_PROXY"; curl -sS http://127.0.0.1:${httpPort}/p; curl -sS --noproxy '*' http://127.0.0.1:${httpPort}/q; echo "curl=$?"`, ['--no-seccomp']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '\nplain /p\ncurl=7\n');
  assert.not.match(r.stderr, /direct/);
});

maybe('if the supervisor dies, connects fail (ENOSYS) instead of going anywhere', async () => {
  const py = script('after.py', [
    'import socket, sys',
    'print("ready", flush=True)',
    'sys.stdin.readline()',
    'for addr in [("127.0.0.1", int(sys.argv[1])), ("192.0.2.1", 80)]:',
    '  s = socket.socket(); s.settimeout(5)',
    '  try: s.connect(addr); print("connected")',
    '  except OSError as e: print("failed", e.errno)',
  ].join('\n'));
  const child = sbxAsync(['run', '-n', '-q', '--allow-net', `127.0.0.1:${httpPort}`, '--', 'python3', py, String(httpPort)], { store, stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    for (const end = Date.now() + 30_000; !out.includes('ready') && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    assert.ok(out.includes('ready'), 'the command did not start');
    // The supervisor: a helper process in the sandbox's outer pid namespace (two levels of
    // NSpid; the command's processes have three) named for its job (the relay's acceptor is
    // there too).
    const tree: number[] = [];
    for (let todo = [child.pid!]; todo.length;) {
      const kids = spawnSync('pgrep', ['-P', String(todo.pop()!)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
      tree.push(...kids);
      todo.push(...kids);
    }
    const nspid = (p: number) => /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1]?.trim().split(/\s+/) ?? [];
    const cmd = (p: number) => readFileSync(`/proc/${p}/cmdline`, 'latin1');
    const comm = (p: number) => readFileSync(`/proc/${p}/comm`, 'latin1').trim();
    const supervisors = tree.filter((p) => { try { const n = nspid(p); return n.length === 2 && comm(p) === 'sbx-net-direct' && cmd(p).includes('sbx-helper'); } catch { return false; } });
    assert.is(supervisors.length, 1, `one supervisor: ${tree.map((p) => { try { return `${p}:${nspid(p).join('/')}:${comm(p)}`; } catch { return String(p); } }).join(' ')}`);
    process.kill(supervisors[0]!, 'SIGKILL');
    // Dead once a zombie or gone (reaped between two reads of /proc: no stat to read then).
    const running = (p: number): boolean => { try { return !readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z'); } catch { return false; } };
    for (const end = Date.now() + 10_000; running(supervisors[0]!) && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    child.stdin!.write('go\n');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.is(code, 0);
    assert.is(out, 'ready\nfailed 38\nfailed 38\n');
  } finally {
    child.kill('SIGKILL');
  }
});

maybe('SIGKILL of sbx ends a direct connection and leaves no process behind', async () => {
  const conns = new Set<Socket>();
  let closed = 0;
  const srv = createServer((s) => { conns.add(s); s.on('close', () => { closed++; conns.delete(s); }); s.on('error', () => {}); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  const py = script('hold.py', `import socket, sys, time\ns = socket.create_connection(("127.0.0.1", ${port}))\nprint("ready", flush=True)\ntime.sleep(3600)\n`);
  const child = sbxAsync(['run', '-n', '-q', '--allow-net', `127.0.0.1:${port}`, '--', 'python3', py], { store, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    for (const end = Date.now() + 30_000; !(out.includes('ready') && conns.size === 1) && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    assert.ok(out.includes('ready') && conns.size === 1, 'control: the command holds a connection to the host server');
    const tree: number[] = [];
    for (let todo = [child.pid!]; todo.length;) {
      const kids = spawnSync('pgrep', ['-P', String(todo.pop()!)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
      tree.push(...kids);
      todo.push(...kids);
    }
    const alive = () => tree.filter((p) => { try { return !readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z'); } catch { return false; } });
    child.kill('SIGKILL');
    for (const end = Date.now() + 20_000; (alive().length || conns.size) && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    assert.equal(alive(), [], 'a process below sbx outlived it');
    assert.is(conns.size, 0, 'the direct connection outlived the sandbox');
    assert.is(closed, 1);
  } finally {
    child.kill('SIGKILL');
    srv.close();
  }
});

// The host's own interface address: a service listening on 0.0.0.0 answers there from the
// sandbox's direct path as from the host, so a block around it is not enough to reach it.
const ownV4 = Object.values(networkInterfaces()).flatMap((l) => l ?? []).find((a) => a.family === 'IPv4' && !a.internal)?.address ?? null;
(tools && kernel && ownV4 ? test : test.skip)("the host's own address: refused through 0.0.0.0/0 or its /24, reached when named by itself", async () => {
  const srv = createServer((s: Socket) => s.end('HOSTSERVICE\n'));
  await new Promise<void>((r) => srv.listen(0, '0.0.0.0', () => r()));
  const port = (srv.address() as { port: number }).port;
  const py = script('own.py', [
    'import socket, sys',
    'try: print(socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5).recv(64).decode().strip())',
    'except OSError as e: print("refused", e.errno)',
  ].join('\n'));
  // The server is in this process: sbx runs beside it, never with the event loop blocked.
  const run = (args: string[]) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const c = sbxAsync(args, { store, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    c.stdout!.on('data', (d) => { stdout += d; });
    c.stderr!.on('data', (d) => { stderr += d; });
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  try {
    for (const allow of ['0.0.0.0/0', `${ownV4!.split('.').slice(0, 3).join('.')}.0/24`]) {
      const r = await run(['run', '-n', '--allow-net', allow, '--', 'python3', py, ownV4!, String(port)]);
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout, 'refused 111\n', `${allow}: ${r.stdout}`);
      assert.match(r.stderr, `network: blocked: ${ownV4}:${port} ×1 (a local address no entry names)`);
    }
    const ok = await run(['run', '-n', '--allow-net', `${ownV4}:${port}`, '--', 'python3', py, ownV4!, String(port)]);
    assert.is(ok.stdout, 'HOSTSERVICE\n', ok.stderr);
  } finally { srv.close(); }
});

test.run();
