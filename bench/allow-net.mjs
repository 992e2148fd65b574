// --allow-net throughput: a 100 MB download from a server on 127.0.0.1, straight on the host
// and through the sandbox's relay and sbx's proxy, both measured by curl's own download speed
// (so sbx's start-up is not in the figure). Goal: at least 50% of direct loopback speed.
// Run after `npm run build`: node bench/allow-net.mjs [RUNS]
import { spawn, execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sbx = join(root, 'dist', 'bin', 'sbx.js');
const runs = Number(process.argv[2] ?? 5);
const MB = 100;

const server = spawn(process.execPath, ['-e', `
  const chunk = Buffer.alloc(1 << 20, 120);
  const s = require('node:http').createServer((req, res) => {
    res.writeHead(200, { 'Content-Length': ${MB} * chunk.length });
    let n = 0;
    const more = () => { while (n < ${MB}) { n++; if (!res.write(chunk)) return res.once('drain', more); } res.end(); };
    more();
  }).listen(0, '127.0.0.1', () => console.log(s.address().port));`], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = Number(await new Promise((r) => server.stdout.once('data', r)));
const url = `http://127.0.0.1:${port}/`;

const curl = ['curl', '-s', '-o', '/dev/null', '-w', '%{speed_download}', url];
const speed = (cmd) => Number(execFileSync(cmd[0], cmd.slice(1), { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } }).trim()) / 1e6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const direct = [];
const proxied = [];
try {
  for (let i = 0; i < runs; i++) {
    direct.push(speed(curl));
    proxied.push(speed([process.execPath, sbx, 'run', '-n', '-q', '--allow-net', `127.0.0.1:${port}`, '--', ...curl]));
  }
} finally {
  server.kill();
}
const d = median(direct);
const p = median(proxied);
console.log(`${MB} MB download, median of ${runs} (MB/s, curl's own figure)`);
console.log('| measure | direct loopback | through --allow-net | ratio | goal |');
console.log('|---|---|---|---|---|');
console.log(`| ${MB} MB over HTTP | ${d.toFixed(0)} | ${p.toFixed(0)} | ${(p / d).toFixed(2)} | ≥ 0.50 |`);
