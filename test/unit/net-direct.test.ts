// --allow-net's direct path, its TypeScript half: which connect(2) the proxy continues inside,
// refuses or connects on the host, what NO_PROXY lists, and which kernels have the mechanism.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AllowList, isLoopbackOrUnspecified } from '../../sandbox-core/net/allowlist.js';
import { NetProxy } from '../../sandbox-core/net/proxy.js';
import { directPathSupported } from '../../sandbox-core/net/session.js';

test('decisions: the sandbox loopback stays inside unless an entry names the address; names never open addresses', () => {
  const p = new NetProxy(AllowList.parse(['10.0.0.0/8:443', '127.0.0.1:8080', 'plain.test', '[2001:db8::1]']));
  assert.is(p.directDecision('127.0.0.1', 5000, 3128), 'continue', 'a loopback port no entry names is the sandbox\'s own');
  assert.is(p.directDecision('127.0.0.1', 3128, 3128), 'continue', 'the relay\'s port is always the relay');
  assert.is(p.directDecision('::1', 8080, 3128), 'continue', '::1 is not named');
  assert.is(p.directDecision('0.0.0.0', 8080, 3128), 'continue', 'connect to 0.0.0.0 reaches the sandbox\'s loopback; only the address an entry names is the host\'s');
  assert.is(p.directDecision('127.0.0.1', 8080, 3128), '127.0.0.1:8080');
  assert.is(p.directDecision('10.1.2.3', 443, 3128), '10.0.0.0/8:443');
  assert.is(p.directDecision('2001:db8::1', 22, 3128), '[2001:db8::1]');
  assert.is(p.directDecision('10.1.2.3', 80, 3128), 'refuse', 'port');
  assert.is(p.directDecision('192.0.2.1', 80, 3128), 'refuse');
  assert.is(p.directDecision('::ffff:10.1.2.3', 443, 3128), 'refuse', 'a v4-mapped address is not the v4 entry');
  assert.equal(p.decisions().map((d) => [d.host, d.port, d.allowed, d.count]).sort(),
    [['10.1.2.3', 80, false, 1], ['192.0.2.1', 80, false, 1], ['::ffff:10.1.2.3', 443, false, 1]].sort());
});

test('a broad CIDR (0.0.0.0/0, ::/0) is the internet: no loopback, link-local or metadata address of the host through it', () => {
  const p = new NetProxy(AllowList.parse(['0.0.0.0/0', '::/0']));
  for (const a of ['127.0.0.1', '0.0.0.0', '::1', '::', '::ffff:127.0.0.1']) assert.is(p.directDecision(a, 22, 3128), 'continue', `${a}: the sandbox's own`);
  for (const a of ['169.254.169.254', 'fe80::1', '::ffff:169.254.169.254']) assert.is(p.directDecision(a, 80, 3128), 'refuse', a);
  assert.is(p.directDecision('192.0.2.1', 443, 3128), '0.0.0.0/0');
  assert.is(p.directDecision('2001:db8::1', 443, 3128), '::/0');
  assert.not.ok(AllowList.parse(['0.0.0.0/0', '::/0']).namesLoopback());
  // Named by themselves, or by a block inside loopback, they are the host's.
  const q = new NetProxy(AllowList.parse(['127.0.0.0/8:22', '169.254.169.254', '[::1]:22']));
  assert.is(q.directDecision('127.0.0.5', 22, 3128), '127.0.0.0/8:22');
  assert.is(q.directDecision('169.254.169.254', 80, 3128), '169.254.169.254');
  assert.is(q.directDecision('::1', 22, 3128), '[::1]:22');
  assert.ok(AllowList.parse(['127.0.0.0/8']).namesLoopback());
});

test("the host's own interface addresses: only an entry of that one address reaches them, never a block around them", () => {
  const own = () => ['192.0.2.2', '2001:db8::2'];
  const at = (allow: string[]) => new NetProxy(AllowList.parse(allow), new Map(), null, undefined, own);
  for (const allow of [['0.0.0.0/0'], ['192.0.2.0/24'], ['192.0.2.2/31']]) {
    assert.is(at(allow).directDecision('192.0.2.2', 18083, 3128), 'refuse', `${allow[0]} covers the host's eth0 address`);
    assert.is(at(allow).directDecision('192.0.2.3', 18083, 3128), allow[0], `${allow[0]}: a neighbour is not the host`);
  }
  assert.is(at(['::/0']).directDecision('2001:db8::2', 443, 3128), 'refuse');
  assert.is(at(['::/0']).directDecision('::ffff:192.0.2.2', 443, 3128), 'refuse', 'the v4-mapped form is the host too');
  assert.is(at(['192.0.2.2']).directDecision('192.0.2.2', 18083, 3128), '192.0.2.2');
  assert.is(at(['192.0.2.2/32:18083']).directDecision('192.0.2.2', 18083, 3128), '192.0.2.2/32:18083');
  assert.is(at(['192.0.2.2/32:18083']).directDecision('192.0.2.2', 22, 3128), 'refuse', 'port');
  assert.is(at(['[2001:db8::2]']).directDecision('2001:db8::2', 443, 3128), '[2001:db8::2]');
  assert.ok(AllowList.parse(['192.0.2.0/24']).coversAddress('192.0.2.2', null), 'without the host\'s addresses it is any address');
  assert.not.ok(AllowList.parse(['192.0.2.0/24']).coversAddress('192.0.2.2', null, ['192.0.2.2']));
});

test('loopback and unspecified addresses', () => {
  for (const a of ['127.0.0.1', '127.8.9.10', '0.0.0.0', '::1', '::', '::ffff:127.0.0.1']) assert.ok(isLoopbackOrUnspecified(a), a);
  for (const a of ['10.0.0.1', '169.254.169.254', 'fe80::1', '2001:db8::1', '::ffff:10.0.0.1', 'localhost']) assert.not.ok(isLoopbackOrUnspecified(a), a);
});

test('NO_PROXY gets the IP and CIDR entries without ports', () => {
  assert.equal(AllowList.parse(['10.0.0.0/8:443', '[::1]:80', '192.0.2.7', 'a.test:80', '[2001:db8::/32]']).addressEntries(), ['10.0.0.0/8', '::1', '192.0.2.7', '2001:db8::/32']);
});

test('kernels: ADDFD with SETFD arrived in 5.9, PIDFD_THREAD (a thread\'s connect) in 6.9', () => {
  for (const r of ['6.9.0', '6.12.0-8-amd64', '6.18.44-fc-v782', '7.0', '10.0']) assert.ok(directPathSupported(r), r);
  for (const r of ['6.8.12', '6.1.0', '5.10.0-8-amd64', '5.9.0', '4.19.0', '3.10.0-1160.el7', 'weird']) assert.not.ok(directPathSupported(r), r);
});

test.run();
