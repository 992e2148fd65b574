// The proxy's hand-off helper (`sbx-helper net-pass`, fed over Node's IPC channel): one process
// for every hand-off of a proxy, waiting a little for room in a full relay socket but never for
// ever on a relay that does not read. Unix sockets this
// test makes stand for the proxy's connections to a relay and to a host; no sandbox is involved.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, connect, type Socket } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findHelper } from '../../sandbox-core/helper.js';
import { Passer } from '../../sandbox-core/net/passer.js';
import { CI } from '../helpers/sbx.js';

const helper = findHelper()?.path ?? null;
if (!helper && CI) throw new Error('the helper is not built (npm run build)');
const maybe = helper ? test : test.skip;

const dir = mkdtempSync(join(tmpdir(), 'sbx-passer-'));
const path = join(dir, 's');
const accepted: Array<(s: Socket) => void> = [];
const server = createServer({ allowHalfOpen: true }, (s) => accepted.shift()!(s));
const sockets: Socket[] = [];

test.before(() => new Promise<void>((resolve) => { server.listen(path, resolve); }));
test.after(() => {
  for (const s of sockets) s.destroy();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A connected pair: [the accepted end (the proxy's, as in NetProxy), the connecting end (the relay's)]. */
async function pair(): Promise<[Socket, Socket]> {
  const got = new Promise<Socket>((resolve) => accepted.push(resolve));
  const relay = connect(path);
  const mine = await got;
  sockets.push(mine, relay);
  return [mine, relay];
}

/** The net-pass processes that are children of this test. */
function passers(): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'latin1').split('\0');
      const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'latin1'))?.[1]);
      if (ppid === process.pid && cmd[1] === 'net-pass' && readlinkSync(`/proc/${p}/exe`) === helper) out.push(Number(p));
    } catch { /* gone meanwhile */ }
  }
  return out;
}

const nextData = (s: Socket) => new Promise<Buffer>((resolve) => s.once('data', resolve));

maybe('hands a socket to the relay end on one marker byte; one helper process serves every hand-off', async () => {
  const p = new Passer(helper!);
  try {
    for (let i = 0; i < 3; i++) {
      const [proxySide, relay] = await pair();
      const [host] = await pair();
      const got = nextData(relay);
      assert.is(await p.pass(proxySide, host), true, `pass ${i}`);
      assert.equal([...(await got)], [0], 'the marker byte arrives (the socket rides on it)');
      // Both sockets are still the proxy's: it closes its copies when it is done with them.
      assert.not.ok(proxySide.destroyed);
      assert.not.ok(host.destroyed);
      proxySide.write('after');
      assert.is(String(await nextData(relay)), 'after');
    }
    assert.is(passers().length, 1, 'one net-pass process for all three hand-offs');
  } finally {
    p.stop();
  }
});

/** Writes to `proxySide` until the kernel's buffers towards the paused `relay` are full; returns the bytes written. */
async function fill(proxySide: Socket, relay: Socket): Promise<number> {
  relay.pause();
  const block = Buffer.alloc(1 << 20, 1);
  let n = 0;
  // Until the kernel's buffers are full: Node's own queue then stops draining.
  for (let i = 0; i < 64 && proxySide.writableLength < 8 << 20; i++) { proxySide.write(block); n += block.length; }
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(proxySide.writableLength > 0, 'the relay end is full');
  return n;
}

maybe('a full relay socket that drains: the pass waits for room and succeeds (it used to fail at once)', async () => {
  const p = new Passer(helper!);
  try {
    const [proxySide, relay] = await pair();
    const written = await fill(proxySide, relay);
    const [host] = await pair();
    let got = 0, markers = 0;
    relay.on('data', (d: Buffer) => { got += d.length; for (const b of d) if (b === 0) markers++; });
    const passed = p.pass(proxySide, host);
    setTimeout(() => relay.resume(), 50); // the relay forwards to a client that reads again
    assert.is(await passed, true);
    for (let i = 0; i < 100 && got < written + 1; i++) await new Promise((r) => setTimeout(r, 20));
    assert.is(got, written + 1, 'every byte and the marker arrived');
    assert.is(markers, 1);
  } finally {
    p.stop();
  }
});

maybe('a relay that does not read: the pass fails after a short wait instead of hanging, and the next one works', async () => {
  const p = new Passer(helper!);
  try {
    const [proxySide, relay] = await pair();
    await fill(proxySide, relay);
    const [host] = await pair();
    assert.is(await p.pass(proxySide, host), false, 'a full relay socket is a failed pass');
    const [a, b] = await pair();
    const [h2] = await pair();
    const got = nextData(b);
    assert.is(await p.pass(a, h2), true, 'the helper serves the next hand-off');
    assert.equal([...(await got)], [0]);
  } finally {
    p.stop();
  }
});

maybe('a socket closed before its hand-off is a failed pass, and the helper goes on', async () => {
  const p = new Passer(helper!);
  try {
    const [proxySide] = await pair();
    const [host] = await pair();
    host.destroy(); // Node then sends the message without a descriptor
    assert.is(await p.pass(proxySide, host), false);
    const [relayGone, b] = await pair();
    const [h2] = await pair();
    relayGone.destroy();
    assert.is(await p.pass(relayGone, h2), false);
    const [c, d] = await pair();
    const got = nextData(d);
    assert.is(await p.pass(c, h2), true, 'the next hand-off works');
    assert.equal([...(await got)], [0]);
    b.destroy();
  } finally {
    p.stop();
  }
});

test('a helper that ends on its own (another build, say): passes fail at once, nothing is restarted per connection', async () => {
  const p = new Passer('/bin/false'); // exits 1 at once, like a helper that does not know net-pass
  try {
    p.start();
    for (let i = 0; i < 50 && passers().length + falseChildren() > 0; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 100));
    const [a] = await pair();
    const [h] = await pair();
    assert.is(await p.pass(a, h), false, 'the proxy keeps the bytes itself');
    assert.is(falseChildren(), 0, 'not started again');
  } finally {
    p.stop();
  }
});

function falseChildren(): number {
  let n = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'latin1'))?.[1]);
      if (ppid === process.pid && readFileSync(`/proc/${p}/cmdline`, 'latin1').startsWith('/bin/false')) n++;
    } catch { /* gone meanwhile */ }
  }
  return n;
}

maybe('stop() ends the helper process', async () => {
  const p = new Passer(helper!);
  p.start();
  assert.is(passers().length, 1);
  p.stop();
  for (let i = 0; i < 50 && passers().length; i++) await new Promise((r) => setTimeout(r, 50));
  assert.is(passers().length, 0, 'no net-pass process left');
});

test.run();
