// --allow-net throughput: a 100 MB download from a server on 127.0.0.1, straight on the host,
// through --allow-net's direct path (an IP entry: the client inside connects to the address
// itself, NO_PROXY lists it, and gets a socket sbx connected on the host: no relay; beside it
// the bare C version of that mechanism, direct-floor.c), through a bare C relay on the host
// (relay-floor.c: the floor of one extra loopback hop, which the sandbox's relay cannot avoid:
// the client inside connects to it over the sandbox's own loopback; copying as the sandbox's
// relay does, with its buffer and with the 1 MiB it had before, and with splice(2) as it did
// before that), and through the sandbox's relay and sbx's proxy (a name entry, which keeps that
// path: ~0.4×, the floor of the extra hop). As root also through the kernel (sockmap-floor.c: a sockmap redirect between the two
// sockets, no relay process: the root-only path considered and not taken, docs/security.md).
// Every row is the same curl against the same server for the same 100 MB; times are curl's own
// time_total (connect, request and body: for sbx that includes the proxy's decision and the
// first 256 KiB through Node, not the sandbox's start-up), one after the other in each round,
// so a busy minute slows all rows of that round. Each row says its spread (fastest-slowest) and
// the sbx row also the median of the per-round ratios. No CPU column: the transfer's CPU is
// small beside the sandbox's start-up, so a difference of two runs is mostly noise
// (docs/security.md has perf's figures for 500 MB). Goal: at least 50% of direct loopback
// speed, i.e. at most 2× its time.
// Run after `npm run build`: node bench/allow-net.mjs [RUNS] (or in the one table: npm run bench allow-net)
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, SBX, median, row, runAlone } from './_lib.mjs';
import { relayBufferBytes } from '../dist/sandbox-core/net/session.js';

const MB = 100;

async function listening(cmd, args) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = Number(String(await new Promise((r) => p.stdout.once('data', r))).trim());
  return { p, port };
}

export async function rows(runs = Number(process.env.BENCH_RUNS || 5)) {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-bench-net-'));
  const floorBin = join(dir, 'relay-floor');
  execFileSync('cc', ['-O2', '-pthread', '-o', floorBin, join(REPO, 'bench', 'relay-floor.c')]);
  const directBin = join(dir, 'direct-floor');
  execFileSync('cc', ['-O2', '-o', directBin, join(REPO, 'bench', 'direct-floor.c')]);
  // The proxied row's name, pinned to the server's address (as the tests do).
  const hosts = join(dir, 'hosts');
  writeFileSync(hosts, '127.0.0.1 bench.test\n');
  const root = process.geteuid?.() === 0;
  const sockmapBin = join(dir, 'sockmap-floor');
  if (root) execFileSync('cc', ['-O2', '-o', sockmapBin, join(REPO, 'bench', 'sockmap-floor.c')]);
  const server = await listening(process.execPath, ['-e', `
    const chunk = Buffer.alloc(1 << 20, 120);
    const s = require('node:http').createServer((req, res) => {
      res.writeHead(200, { 'Content-Length': ${MB} * chunk.length });
      let n = 0;
      const more = () => { while (n < ${MB}) { n++; if (!res.write(chunk)) return res.once('drain', more); } res.end(); };
      more();
    }).listen(0, '127.0.0.1', () => console.log(s.address().port));`]);
  // What sbx gives the relay without --memory (net/session.ts), and the 1 MiB it had before.
  const buffer = relayBufferBytes(undefined);
  const floor = await listening(floorBin, [String(server.port), String(buffer)]);
  const floor1M = await listening(floorBin, [String(server.port), String(1 << 20)]);
  const spliceFloor = await listening(floorBin, [String(server.port), 'splice']);
  let sockmap = root ? await listening(sockmapBin, [String(server.port)]) : null;
  if (sockmap && !sockmap.port) sockmap = null; // no BPF here: the row is left out
  const curl = (port, host = '127.0.0.1') => ['curl', '-s', '-o', '/dev/null', '-w', '%{time_total}', `http://${host}:${port}/`];
  const inSbx = (entry, ...cmd) => [process.execPath, SBX, 'run', '-n', '-q', '--allow-net', entry, '--', ...cmd];
  const ms = (cmd) => 1000 * Number(execFileSync(cmd[0], cmd.slice(1), { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', SBX_NET_HOSTS: hosts } }).trim());
  const direct = [], hop = [], hop1M = [], spliced = [], kernel = [], sbx = [], sbxDirect = [], directFloor = [];
  try {
    for (let i = 0; i < runs; i++) {
      direct.push(ms(curl(server.port)));
      hop.push(ms(curl(floor.port)));
      hop1M.push(ms(curl(floor1M.port)));
      spliced.push(ms(curl(spliceFloor.port)));
      if (sockmap) kernel.push(ms(curl(sockmap.port)));
      sbx.push(ms(inSbx(`bench.test:${server.port}`, ...curl(server.port, 'bench.test'))));
      sbxDirect.push(ms(inSbx(`127.0.0.1:${server.port}`, ...curl(server.port))));
      directFloor.push(ms([directBin, ...curl(server.port)]));
    }
  } finally {
    server.p.kill();
    floor.p.kill();
    floor1M.p.kill();
    spliceFloor.p.kill();
    sockmap?.p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  const [d, h, sp, s] = [median(direct), median(hop), median(spliced), median(sbx)];
  const spread = (xs) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)} ms`;
  const vs = `direct ${spread(direct)}`;
  const perRound = (xs) => { const p = xs.map((x, i) => direct[i] / x); return `speed per round ${median(p).toFixed(2)}× (${Math.min(...p).toFixed(2)}-${Math.max(...p).toFixed(2)})`; };
  const mib = `${buffer >> 20} MiB`;
  return [
    row(`${MB} MB download through \`--allow-net IP:PORT\`, direct path (median of ${runs})`, median(sbxDirect), 'direct loopback', d,
      { goal: 2, note: `≥ 0.5× the speed; client via NO_PROXY, socket connected by sbx on the host; runs ${spread(sbxDirect)}, ${vs}; ${perRound(sbxDirect)}` }),
    row(`${MB} MB through the same mechanism in bare C (direct-floor.c)`, median(directFloor), 'direct loopback', d, { note: `its floor; runs ${spread(directFloor)}` }),
    row(`${MB} MB download through \`--allow-net NAME:PORT\` (proxy and relay)`, s, 'direct loopback', d,
      { note: `a name entry keeps the relay hop (~0.4× direct's speed near idle, docs/security.md); runs ${spread(sbx)}; ${perRound(sbx)}` }),
    row(`${MB} MB through a bare C relay on the host (read/write, ${mib})`, h, 'direct loopback', d, { note: `the floor of one relay hop; runs ${spread(hop)}` }),
    row(`${MB} MB through the same relay with 1 MiB`, median(hop1M), 'direct loopback', d, { note: `the relay's buffer before; runs ${spread(hop1M)}` }),
    row(`${MB} MB through the same relay with splice(2)`, sp, 'direct loopback', d, { note: `what the relay did before that; runs ${spread(spliced)}` }),
    ...(sockmap ? [row(`${MB} MB through a kernel sockmap redirect instead (root)`, median(kernel), 'direct loopback', d, { note: `no relay process; not used by sbx; runs ${spread(kernel)}` })] : []),
    row(`${MB} MB through \`--allow-net NAME:PORT\`, against that floor`, s, 'C relay', h, {}),
  ];
}

await runAlone(import.meta.url, () => rows(Number(process.argv[2] || process.env.BENCH_RUNS || 5)));
