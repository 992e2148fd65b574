// --allow-net for real: servers on 127.0.0.1 that this test starts (plain HTTP and TLS with a
// CA made here), names from a hosts file made here, clients inside a real sandbox. No traffic
// leaves this machine: every address used is loopback. A name entry goes through the proxy
// (and, for big transfers, the relay); an IP entry takes the direct path where the kernel has
// it (allow-net-direct.test.ts), so the relay's tests below use names.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCipheriv, createHash } from 'node:crypto';
import { CI, makeStore, sbx, sbxAsync, removeStore } from '../helpers/sbx.js';
import { have } from '../helpers/skip.js';
import { underPty } from '../helpers/pty.js';

const tools = have('curl') && have('openssl') && have('python3');
if (!tools && CI) throw new Error('curl, openssl and python3 are needed (installed by .ci/run)');
const maybe = tools ? test : test.skip;

const store = makeStore();
const dir = mkdtempSync(join(tmpdir(), 'sbx-allownet-'));
chmodSync(dir, 0o755);
let server: ChildProcess | null = null;
let httpPort = 0;
let tlsPort = 0;
const hosts = join(dir, 'hosts');
const env = { SBX_NET_HOSTS: hosts };

// One process serves both: plain HTTP answers "plain <path>", TLS answers "tls <path>".
const SERVER = `
const http = require('node:http'), https = require('node:https'), fs = require('node:fs');
const big = Buffer.alloc(24 << 20, 7);
// Bytes whose order matters: a mixed-up or lost chunk changes the digest (an AES-CTR key
// stream: no two 16-byte blocks alike, and made in well under a second, where a hash per
// 64 bytes took seconds of each run of this file).
const mixed = require('node:crypto').createCipheriv('aes-128-ctr', Buffer.alloc(16, 1), Buffer.alloc(16)).update(Buffer.alloc(24 << 20));
const h = (tag) => (req, res) => {
  if (req.method === 'POST') {
    const d = require('node:crypto').createHash('sha256'); let n = 0;
    req.on('data', (c) => { d.update(c); n += c.length; });
    req.on('end', () => res.end(n + ' ' + d.digest('hex') + '\\n'));
    return;
  }
  // Paced (64 KiB every 2 ms): the proxy's socket to the relay drains between chunks, so the
  // hand-off it tries after 256 KiB finds room and happens; at full speed it may keep failing
  // (a full socket) until the body is over.
  const paced = (upTo, done) => { let at = 0; const next = () => { if (res.destroyed) return; if (at >= upTo) return done(); const end = Math.min(at + (64 << 10), upTo); res.write(big.subarray(at, end)); at = end; setTimeout(next, 2); }; next(); };
  if (req.url === '/reset') {
    // Part of a body that promised more, then a reset: the client must see the end, not wait.
    res.writeHead(200, { 'Content-Length': big.length });
    paced(4 << 20, () => setTimeout(() => req.socket.resetAndDestroy(), 500));
    return;
  }
  if (req.url === '/burst') {
    // Paced until the hand-off has surely happened, then the rest at full speed: through the
    // relay, whose buffers then fill.
    res.writeHead(200, { 'Content-Length': big.length });
    paced(2 << 20, () => res.end(big.subarray(2 << 20)));
    return;
  }
  if (req.url === '/paced') {
    res.writeHead(200, { 'Content-Length': big.length });
    paced(big.length, () => res.end());
    return;
  }
  res.end(req.url === '/big' ? big : req.url === '/mixed' ? mixed : tag + ' ' + req.url + '\\n');
};
const a = http.createServer(h('plain')).listen(0, '127.0.0.1', () => {
  const b = https.createServer({ key: fs.readFileSync(process.argv[1] + '/key.pem'), cert: fs.readFileSync(process.argv[1] + '/cert.pem') }, h('tls'))
    .listen(0, '127.0.0.1', () => console.log(a.address().port + ' ' + b.address().port));
});`;

test.before(async () => {
  if (!tools) return;
  const ssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=tls.test',
    '-addext', 'subjectAltName=DNS:tls.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
  assert.is(ssl.status, 0, ssl.stderr);
  chmodSync(join(dir, 'cert.pem'), 0o644);
  writeFileSync(hosts, '127.0.0.1 plain.test tls.test denied.test\n');
  chmodSync(hosts, 0o644);
  server = spawn(process.execPath, ['-e', SERVER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => server!.stdout!.once('data', (d) => resolve(String(d))));
  [httpPort, tlsPort] = line.trim().split(' ').map(Number) as [number, number];
});

test.after(() => {
  server?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  removeStore(store);
});

/** The digest of the server's /mixed body, made the same way. */
function mixedSha256(): string {
  const mixed = createCipheriv('aes-128-ctr', Buffer.alloc(16, 1), Buffer.alloc(16)).update(Buffer.alloc(24 << 20));
  return createHash('sha256').update(mixed).digest('hex');
}

function inside(allow: string[], script: string, extra: string[] = []) {
  return sbx(['run', '-n', ...extra, ...allow.flatMap((a) => ['--allow-net', a]), '--', 'sh', '-c', script], { store, env });
}

maybe('allowed by IP:port and by name: plain HTTP through the proxy; the summary says so', () => {
  const r = inside([`127.0.0.1:${httpPort}`, 'plain.test'], `curl -sS http://127.0.0.1:${httpPort}/a; curl -sS http://plain.test:${httpPort}/b`);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'plain /a\nplain /b\n');
  assert.match(r.stderr, `network: allowed: 127.0.0.1:${httpPort} ×1`);
  assert.match(r.stderr, `network: allowed: plain.test:${httpPort} ×1`);
});

maybe('a 24 MiB body arrives whole through the relay and the proxy (plain and TLS)', () => {
  const r = inside([`plain.test:${httpPort}`, `tls.test:${tlsPort}`],
    `curl -sS http://plain.test:${httpPort}/big | wc -c; curl -sS --cacert '${join(dir, 'cert.pem')}' https://tls.test:${tlsPort}/big | wc -c`);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.replace(/ /g, ''), `${24 << 20}\n${24 << 20}\n`);
});

maybe('big transfers are handed to the relay (no longer through Node) with every byte in order, both ways, plain and TLS', () => {
  const cert = join(dir, 'cert.pem');
  const r = inside([`plain.test:${httpPort}`, `tls.test:${tlsPort}`], [
    `curl -sS http://plain.test:${httpPort}/mixed | sha256sum`,
    `curl -sS --cacert '${cert}' https://tls.test:${tlsPort}/mixed | sha256sum`,
    'head -c 9000000 /dev/urandom > /tmp/up; sha256sum < /tmp/up',
    `curl -sS --data-binary @/tmp/up -H 'Content-Type: application/octet-stream' http://plain.test:${httpPort}/up`,
    `curl -sS --cacert '${cert}' --data-binary @/tmp/up -H 'Content-Type: application/octet-stream' https://tls.test:${tlsPort}/up`,
  ].join('; '), ['--report', join(dir, 'spliced.json')]);
  assert.is(r.code, 0, r.stderr);
  const want = mixedSha256();
  const [down1, down2, upSum, up1, up2] = r.stdout.trim().split('\n');
  assert.is(down1!.split(' ')[0], want, 'plain download');
  assert.is(down2!.split(' ')[0], want, 'TLS download');
  const sent = upSum!.split(' ')[0];
  assert.is(up1, `9000000 ${sent}`, 'plain upload');
  assert.is(up2, `9000000 ${sent}`, 'TLS upload');
  const j = JSON.parse(readFileSync(join(dir, 'spliced.json'), 'utf8')) as { network: Array<{ host: string; allowed: boolean; count: number; spliced?: number }> };
  const row = (h: string) => j.network.find((d) => d.host === h && d.allowed);
  assert.is(row('plain.test')?.count, 2);
  assert.is(row('plain.test')?.spliced, 2, 'both plain transfers were handed off');
  assert.is(row('tls.test')?.spliced, 2, 'both TLS tunnels were handed off');
});

maybe('a tight --memory (4M) still downloads 24 MiB through the relay: its buffers count against the limit', () => {
  // The relay's buffer is sized from --memory (net/session.ts): the 4 MiB it gets without a
  // limit got the command OOM-killed here (cgroup as root; as an ordinary user the limit is an
  // rlimit of the command, and this checks the same bytes). /burst makes sure the bulk of the
  // body goes through the relay at full speed, not through the proxy.
  const report = join(dir, 'memory.json');
  const r = inside([`plain.test:${httpPort}`], `curl -sS http://plain.test:${httpPort}/burst | wc -c; curl -sS http://plain.test:${httpPort}/big | wc -c`, ['--memory', '4M', '--report', report]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.replace(/ /g, ''), `${24 << 20}\n${24 << 20}\n`);
  const j = JSON.parse(readFileSync(report, 'utf8')) as { network: Array<{ allowed: boolean; count: number; spliced?: number }> };
  assert.ok((j.network[0]?.spliced ?? 0) >= 1, `the /burst transfer went through the relay: ${JSON.stringify(j.network)}`);
});

maybe('a client that reads slower than the host sends: handed off, every byte in order', () => {
  // The proxy keeps its socket to the relay full while the client lags, and stops reading the
  // host while it hands off: reading must resume after the pass (or a failed one) and the body
  // arrive whole. The helper's wait for room is tested in unit/net-passer.
  const r = inside([`plain.test:${httpPort}`], `curl -sS --limit-rate 8M http://plain.test:${httpPort}/mixed | sha256sum`, ['--report', join(dir, 'slow.json')]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.split(' ')[0], mixedSha256());
  const j = JSON.parse(readFileSync(join(dir, 'slow.json'), 'utf8')) as { network: Array<{ allowed: boolean; count: number; spliced?: number }> };
  assert.is(j.network[0]?.count, 1);
  assert.is(j.network[0]?.spliced, 1, 'handed off although the client lagged');
});

maybe('after the hand-off, a host that resets and a client that stops reading end the connection at once', () => {
  const r = inside([`plain.test:${httpPort}`], [
    `curl -sS --max-time 120 -o /dev/null http://plain.test:${httpPort}/reset; echo "reset=$?"`,
    `curl -sS --max-time 120 http://plain.test:${httpPort}/paced | head -c 3000000 | wc -c`,
    `curl -sS http://plain.test:${httpPort}/after`,
  ].join('; '), ['--report', join(dir, 'ends.json')]);
  assert.is(r.code, 0, r.stderr);
  // 18: a partial transfer (56: a reset seen as such); 28 would be curl's time-out: a hang.
  assert.match(r.stdout, /^reset=(18|56)\n/);
  assert.match(r.stdout, /^ *3000000\n/m);
  assert.match(r.stdout, /plain \/after\n$/);
  const j = JSON.parse(readFileSync(join(dir, 'ends.json'), 'utf8')) as { network: Array<{ allowed: boolean; count: number; spliced?: number }> };
  assert.is(j.network[0]?.count, 3);
  assert.is(j.network[0]?.spliced, 2, 'both big transfers were handed off before they ended');
});

maybe('allowed CONNECT + TLS by name, verified against the test CA', () => {
  const r = inside([`tls.test:${tlsPort}`], `curl -sS --cacert '${join(dir, 'cert.pem')}' https://tls.test:${tlsPort}/secure`);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'tls /secure\n');
});

maybe('denied name and denied port fail at once with a 403 and are reported with counts', () => {
  const r = inside([`plain.test:${httpPort}`],
    `curl -sS http://denied.test:${httpPort}/ ; curl -sS http://denied.test:${httpPort}/ ; curl -sS http://plain.test:${tlsPort}/ ; curl -sS https://denied.test:${tlsPort}/ ; echo done`);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, `sbx: blocked denied.test:${httpPort} (not in --allow-net)`);
  assert.match(r.stdout, `sbx: blocked plain.test:${tlsPort} (not in --allow-net)`);
  assert.match(r.stderr, `network: blocked: denied.test:${httpPort} ×2 (not in --allow-net)`);
  assert.match(r.stderr, `network: blocked: denied.test:${tlsPort} ×1`);
  assert.match(r.stdout, /done\n$/);
});

maybe('a client that ignores the proxy variables to a denied destination, UDP, IPv6 and raw addresses all fail closed', () => {
  const py = [
    'import socket',
    'def t(name, fam, kind, addr):',
    '  s = socket.socket(fam, kind); s.settimeout(3)',
    '  try:',
    '    (s.sendto(b"x", addr) if kind == socket.SOCK_DGRAM else s.connect(addr)); print(name, "ESCAPED")',
    '  except OSError as e: print(name, "refused", e.errno)',
    `t("tcp-host", socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", ${tlsPort}))`,
    't("tcp-public", socket.AF_INET, socket.SOCK_STREAM, ("192.0.2.1", 80))',
    't("udp-dns", socket.AF_INET, socket.SOCK_DGRAM, ("192.0.2.53", 53))',
    `t("tcp6-host", socket.AF_INET6, socket.SOCK_STREAM, ("::1", ${httpPort}))`,
    `t("tcp-name-only", socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.2", ${httpPort}))`,
    't("tcp6-public", socket.AF_INET6, socket.SOCK_STREAM, ("2001:db8::1", 80))',
  ].join('\n');
  writeFileSync(join(dir, 'escape.py'), py);
  chmodSync(join(dir, 'escape.py'), 0o644);
  // Allowed: port httpPort by IP, and plain.test by name. A name entry never opens its
  // addresses to a client that connects by address (tcp-name-only: plain.test's is 127.0.0.1,
  // asked for as 127.0.0.2, which the host's loopback also answers).
  const r = inside([`127.0.0.1:${httpPort}`, `plain.test`], `curl -sS --noproxy '*' http://127.0.0.1:${tlsPort}/ ; echo "curl=$?"; python3 '${join(dir, 'escape.py')}'`);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /curl=7/);
  assert.not.match(r.stdout, /ESCAPED/);
  for (const n of ['tcp-host', 'tcp-public', 'udp-dns', 'tcp6-host', 'tcp6-public', 'tcp-name-only']) assert.match(r.stdout, new RegExp(`^${n} refused`, 'm'));
});

maybe('with --allow-net, a lookup that fails outside the proxy gets the report of attempts, not the hint for a run without a network (on a pty, where the helper sees it)', () => {
  const lookup = `${process.execPath} -e "require('dns').lookup('sbx-test.invalid', (e) => { console.error(String(e)); process.exit(0); })"`;
  const t = underPty([], ['run', '-n', '--allow-net', `plain.test:${httpPort}`, '--', 'sh', '-c', lookup], { store, env });
  assert.is(t.code, 0, t.out);
  assert.match(t.out, 'getaddrinfo EAI_AGAIN sbx-test.invalid');
  assert.match(t.out, 'network: no connection was attempted');
  assert.not.match(t.out, 'had no network');
});

maybe('--report includes every decision; --net and --allow-net together are refused', () => {
  const report = join(dir, 'report.json');
  const r = inside([`plain.test:${httpPort}`], `curl -sS http://plain.test:${httpPort}/x; curl -sS http://denied.test:${httpPort}/`, ['--report', report]);
  assert.is(r.code, 0, r.stderr);
  const j = JSON.parse(readFileSync(report, 'utf8')) as { network: Array<{ host: string; port: number; allowed: boolean; count: number }> };
  assert.equal(j.network.map((d) => [d.host, d.port, d.allowed, d.count]).sort(), [['denied.test', httpPort, false, 1], ['plain.test', httpPort, true, 1]].sort());
  const both = sbx(['run', '-n', '--net', '--allow-net', 'x.test', '--', 'true'], { store });
  assert.is(both.code, 125, both.stderr);
  assert.match(both.stderr, /--allow-net gives only the hosts named/);
  const bad = sbx(['run', '-n', '--allow-net', 'exa mple', '--', 'true'], { store });
  assert.is(bad.code, 125, bad.stderr);
  assert.match(bad.stderr, /invalid --allow-net entry 'exa mple'/);
});

maybe('the relay\'s processes stay out of the command\'s pid namespace: all it sees descends from its init', () => {
  // While a proxied download is open (the relay's child for it is alive), list every process
  // the command can see with its parent. One forked outside the namespace shows parent 0; only
  // the namespace's init may (the command could signal or watch anything else it sees).
  const r = inside([`plain.test:${httpPort}`], [
    `curl -sS http://plain.test:${httpPort}/paced -o /dev/null & sleep 0.3`,
    'for p in /proc/[0-9]*; do s=$(cat $p/stat 2>/dev/null) || continue; c=${s#*(}; c=${c%%)*}; rest=${s##*) }; set -- $rest; echo "${p#/proc/} $2 $c"; done',
    'wait',
  ].join('\n'));
  assert.is(r.code, 0, r.stderr);
  const seen = r.stdout.trim().split('\n').map((l) => l.split(' ')) as [string, string, string][];
  assert.ok(seen.some(([, , comm]) => comm === 'curl'), `control: the download was open while listing: ${r.stdout}`);
  const outside = seen.filter(([pid, ppid]) => pid !== '1' && ppid === '0');
  assert.equal(outside, [], `processes from outside the command's pid namespace: ${r.stdout}`);
});

maybe('SIGKILL of sbx leaves no relay process; the socket goes with the swept sandbox', async () => {
  const child = sbxAsync(['run', '-n', '-q', '--allow-net', `127.0.0.1:${httpPort}`, '--', 'sh', '-c', 'echo ready; sleep 3600'], { store, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await killedRun(child);
  } finally {
    child.kill('SIGKILL');
  }
});

async function killedRun(child: ReturnType<typeof sbxAsync>): Promise<void> {
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  for (const end = Date.now() + 30_000; !out.includes('ready') && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
  assert.ok(out.includes('ready'), 'the command did not start');
  const ids = readdirSync(store).filter((n) => /^[0-9a-f]{8}$/.test(n));
  assert.is(ids.length, 1, `one running sandbox in the store: ${ids}`);
  const net = join(`/dev/shm/sbx-${process.getuid!()}`, ids[0]!, 'net');
  assert.ok(existsSync(join(net, 's')), 'control: the proxy socket lives beside the throwaway layers');
  // Every process below sbx: the helper, pid 1, the relay's children, the command.
  const tree: number[] = [];
  for (let todo = [child.pid!]; todo.length;) {
    const p = todo.pop()!;
    const kids = spawnSync('pgrep', ['-P', String(p)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
    tree.push(...kids);
    todo.push(...kids);
  }
  assert.ok(tree.length >= 4, `expected helper, init, command and net-pass below sbx: ${tree}`);
  const cmdline = (p: number) => { try { return readFileSync(`/proc/${p}/cmdline`, 'latin1'); } catch { return ''; } };
  assert.ok(tree.some((p) => cmdline(p).includes('\0net-pass')), 'control: the proxy\'s hand-off helper runs');
  const helpers = () => tree.filter((p) => { try { return !readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z'); } catch { return false; } });
  child.kill('SIGKILL');
  for (const end = Date.now() + 20_000; helpers().length && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
  assert.equal(helpers(), [], 'helper, pid 1, a relay child or net-pass outlived sbx');
  // The dead sandbox's mounts go away asynchronously; until then its layers are busy and the
  // sweep leaves them for the next run. A bound on that wait, not a timing assertion.
  for (const end = Date.now() + 20_000; ;) {
    const r = sbx(['run', '-n', '-q', '--', 'true'], { store });
    assert.is(r.code, 0, r.stderr);
    if (!existsSync(net) || Date.now() > end) break;
    await new Promise((res) => setTimeout(res, 500));
  }
  assert.not.ok(existsSync(net), 'a later run swept the killed sandbox and its socket');
}

test.run();
