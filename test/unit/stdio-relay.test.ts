// Which stdio fds the helper relays (sandbox-core/stdio.ts): those the command could not
// reopen because their owner is not mapped inside, and files it could reopen for writing
// where its fd may not write.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Stats } from 'node:fs';
import { mappedHostRanges, sharedOutputs, stdioToRelay } from '../../sandbox-core/stdio.js';
import type { IdMapping } from '../../sandbox-core/idmap.js';

const remapped: IdMapping = {
  kind: 'root-remapped', description: '', insideUid: 0, insideGid: 0, shift: { uid: 1_000_000_000, gid: 1_000_000_000, count: 65536 },
  ops: [{ op: 'uid_map', args: ['0 1000000000 65536\n'] }, { op: 'gid_map', args: ['0 1000000000 65536\n'] }, { op: 'setid', args: ['0', '0'] }],
};
const subordinate: IdMapping = {
  kind: 'subordinate', description: '', insideUid: 0, insideGid: 0, shift: null,
  ops: [{ op: 'newuidmap', args: ['/usr/bin/newuidmap', '0 1000 1 1 100000 65536'] }, { op: 'newgidmap', args: ['/usr/bin/newgidmap', '0 1000 1 1 100000 65536'] }],
};

type Kind = 'fifo' | 'file' | 'socket' | 'chr' | 'dir' | 'blk';
const st = (kind: Kind, uid: number, gid: number, mode: number): Stats => ({
  uid, gid, mode, isFIFO: () => kind === 'fifo', isFile: () => kind === 'file', isSocket: () => kind === 'socket', isCharacterDevice: () => kind === 'chr',
}) as unknown as Stats;

test('mapped host ranges from uid_map and newuidmap ops', () => {
  assert.equal(mappedHostRanges(remapped, 'uid'), [[1_000_000_000, 65536]]);
  assert.equal(mappedHostRanges(subordinate, 'gid'), [[1000, 1], [100000, 65536]]);
});

test('root remapped: host root\'s pipes and files are relayed; terminals, connected unix sockets and /dev/null are not', () => {
  const fds: Record<number, Stats> = { 0: st('fifo', 0, 0, 0o10600), 1: st('file', 0, 0, 0o100644), 2: st('chr', 0, 5, 0o20620) };
  assert.equal(stdioToRelay(remapped, (fd) => fds[fd]!, (fd) => fd === 2), [0, 1]);
  const others: Record<number, Stats> = { 0: st('chr', 0, 0, 0o20666), 1: st('socket', 0, 0, 0o140777), 2: st('chr', 0, 0, 0o20666) };
  assert.equal(stdioToRelay(remapped, (fd) => others[fd]!, () => false, undefined, () => true), [], '/dev/null and a connected unix socket');
  assert.equal(stdioToRelay(remapped, () => null, () => false), [], 'closed fds');
});

test('a pipe is relayed whoever owns it: as itself the command could reopen it the other way (/proc/self/fd/0 for writing)', () => {
  assert.equal(stdioToRelay(subordinate, () => st('fifo', 1000, 1000, 0o10600), () => false), [0, 1, 2]);
  assert.equal(stdioToRelay(subordinate, () => st('fifo', 0, 0, 0o10600), () => false), [0, 1, 2]);
  assert.equal(stdioToRelay(remapped, () => st('fifo', 1_000_000_000, 1_000_000_000, 0o10600), () => false), [0, 1, 2]);
  assert.equal(stdioToRelay(remapped, () => st('fifo', 0, 0, 0o10666), () => false), [0, 1, 2], 'a named pipe open to everyone');
});

test('a file or device whose owner is mapped is relayed: the command, its owner inside, could chmod or chown it through the fd', () => {
  const WRONLY_TRUNC = 0o101001;
  assert.equal(stdioToRelay(subordinate, () => st('file', 1000, 1000, 0o100644), () => false, () => WRONLY_TRUNC), [0, 1, 2], "'> out.bin'");
  assert.equal(stdioToRelay(subordinate, () => st('file', 1000, 0, 0o100644), () => false, () => WRONLY_TRUNC), [0, 1, 2], 'of an unmapped group');
  assert.equal(stdioToRelay(subordinate, () => st('chr', 1000, 1000, 0o20600), () => false), [0, 1, 2]);
  // --map-root: root inside is host root, /dev/null is its own.
  const mapRoot: IdMapping = { ...remapped, ops: [{ op: 'uid_map', args: ['0 0 65536'] }, { op: 'gid_map', args: ['0 0 65536'] }] } as IdMapping;
  assert.equal(stdioToRelay(mapRoot, () => st('chr', 0, 0, 0o20666), () => false), [0, 1, 2]);
  // Not mapped: /dev/null goes in as itself.
  assert.equal(stdioToRelay(subordinate, () => st('chr', 0, 0, 0o20666), () => false), []);
});

test('a directory or a block device is relayed whoever owns it: as itself it is a handle on the host tree', () => {
  assert.equal(stdioToRelay(subordinate, () => st('dir', 1000, 1000, 0o40777), () => false), [0, 1, 2]);
  assert.equal(stdioToRelay(remapped, (fd) => (fd === 1 ? st('blk', 0, 0, 0o60666) : st('chr', 0, 0, 0o20666)), () => false), [1]);
});

test('sockets: a connected unix stream or seqpacket socket goes in as itself, any other is relayed', () => {
  const sock = (ino: number): Stats => ({ ...st('socket', 0, 0, 0o140777), ino }) as Stats;
  const fds: Record<number, Stats> = { 0: sock(11), 1: sock(12), 2: sock(13) };
  assert.equal(stdioToRelay(remapped, (fd) => fds[fd]!, () => false, () => null, (ino) => ino === 12), [0, 2]);
  assert.equal(stdioToRelay(subordinate, (fd) => fds[fd]!, () => false, () => null, () => true), []);
});

test('a file the command could reopen for more writing than its fd allows is relayed', () => {
  const RDONLY = 0o100000, WRONLY_APPEND = 0o102001, WRONLY_TRUNC = 0o101001, RDWR = 0o100002;
  const own = st('file', 1000, 1000, 0o100644);
  // An ordinary user's own file is relayed however it is open (it is the command's inside).
  assert.equal(stdioToRelay(subordinate, () => own, () => false, (fd) => [RDONLY, WRONLY_APPEND, WRONLY_TRUNC][fd]!), [0, 1, 2]);
  assert.equal(stdioToRelay(subordinate, () => own, () => false, () => RDWR), [0, 1, 2]);
  // Another user's file of a mapped group with g+w, read-only: reopened, it would be written.
  assert.equal(stdioToRelay(subordinate, () => st('file', 0, 1000, 0o100664), () => false, (fd) => (fd ? WRONLY_TRUNC : RDONLY)), [0, 1, 2]);
  assert.equal(stdioToRelay(subordinate, () => st('file', 0, 1000, 0o100644), () => false, () => RDONLY), [1, 2]);
  // Remapped root: host root's 0644 file cannot be reopened for writing (stdin given as
  // itself; as stdout it is relayed as before, since /dev/stdout could not be reopened); a
  // world-writable one, or one of a mapped group with g+w, can (relayed); unknown flags count
  // as read-only.
  assert.equal(stdioToRelay(remapped, () => st('file', 0, 0, 0o100644), () => false, (fd) => (fd ? WRONLY_TRUNC : RDONLY)), [1, 2]);
  assert.equal(stdioToRelay(remapped, () => st('file', 0, 0, 0o100666), () => false, () => null), [0, 1, 2]);
  assert.equal(stdioToRelay(remapped, () => st('file', 0, 1_000_000_005, 0o100664), () => false, () => RDONLY), [0, 1, 2]);
});

test('stdout and stderr share one relay only when both are relayed and are one object (2>&1)', () => {
  const at = (dev: number, ino: number): Stats => ({ dev, ino }) as unknown as Stats;
  const same: Record<number, Stats> = { 1: at(12, 345), 2: at(12, 345) };
  assert.ok(sharedOutputs([0, 1, 2], (fd) => same[fd]!));
  assert.ok(sharedOutputs([1, 2], (fd) => same[fd]!));
  assert.not.ok(sharedOutputs([0, 1], (fd) => same[fd]!), 'stderr not relayed');
  assert.not.ok(sharedOutputs([2], (fd) => same[fd]!), 'stdout not relayed');
  const apart: Record<number, Stats> = { 1: at(12, 345), 2: at(12, 346) };
  assert.not.ok(sharedOutputs([1, 2], (fd) => apart[fd]!), 'two pipes');
  const otherDev: Record<number, Stats> = { 1: at(12, 345), 2: at(13, 345) };
  assert.not.ok(sharedOutputs([1, 2], (fd) => otherDev[fd]!), 'same inode number on another device');
  assert.not.ok(sharedOutputs([1, 2], () => null), 'closed fds');
});

test.run();
