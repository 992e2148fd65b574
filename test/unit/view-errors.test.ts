// Which of the command's own EROFS/EACCES lines sbx's view explains (view-errors.ts), against
// facts about the run and a host described by the test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { explainSeen, pathsIn, viewReason, type HostProbe, type ViewFacts } from '../../sandbox-core/view-errors.js';

const facts = (over: Partial<ViewFacts> = {}): ViewFacts => ({
  roBinds: ['/data'], roFiles: ['/big.img'], fallbacks: ['/mnt/odd'], fuseTrees: ['/usr', '/var'], noFuse: false, uid: 1000, cwd: '/home/u', ...over,
});
// /var/cache/man belongs to `man` (6); /var/log/secret is unreadable to the user; all else root's.
const host: HostProbe = {
  owner: (p) => (p.startsWith('/var/cache/man') ? { path: '/var/cache/man', uid: 6 } : p.startsWith('/home/u') ? { path: '/home/u', uid: 1000 } : { path: p, uid: 0 }),
  readable: (p) => !p.startsWith('/var/log/secret'),
  userName: (uid) => (uid === 6 ? 'man' : `uid ${uid}`),
};

test('paths in messages: quoted in every style, bare absolute ones, relative ones against the cwd', () => {
  assert.equal(pathsIn("touch: cannot touch '/data/f': Read-only file system", '/'), ['/data/f']);
  assert.equal(pathsIn('mkdir: cannot create directory ‘/sys/x’: Read-only file system', '/'), ['/sys/x']);
  assert.equal(pathsIn('sh: 1: cannot create /proc/sys/kernel/x: Read-only file system', '/'), ['/proc/sys/kernel/x']);
  assert.equal(pathsIn('/usr/bin/mandb: fopen /var/cache/man/26: Permission denied', '/'), ['/usr/bin/mandb', '/var/cache/man/26']);
  assert.equal(pathsIn("cp: cannot create regular file 'out/x': Permission denied", '/home/u'), ['/home/u/out/x']);
  assert.equal(pathsIn('E: Could not open lock file "/var/lib/dpkg/lock" - open (13: Permission denied)', '/'), ['/var/lib/dpkg/lock']);
});

test('EROFS: --ro-bind, read-only files beside mounts, mounts that could not be overlaid, /sys and /proc/sys', () => {
  const f = facts();
  assert.match(viewReason('/data/f', 'EROFS', f, host)!, '/data is a --ro-bind');
  assert.match(viewReason('/big.img', 'EROFS', f, host)!, 'bound read-only');
  assert.match(viewReason('/mnt/odd/x', 'EROFS', f, host)!, '/mnt/odd could not be overlaid');
  assert.match(viewReason('/proc/sys/kernel/hostname', 'EROFS', f, host)!, '/proc/sys');
  assert.match(viewReason('/sys/x', 'EROFS', f, host)!, '/sys');
  assert.is(viewReason('/database/x', 'EROFS', f, host), null, 'not a read-only part of the view');
  assert.is(viewReason('/datax', 'EROFS', f, host), null, '/datax is not below /data');
});

test('EACCES: unreadable on the host, owned by another system user, root\'s without fuse-overlayfs; never as root', () => {
  const f = facts();
  assert.match(viewReason('/var/log/secret/x', 'EACCES', f, host)!, 'you cannot read it on the host');
  assert.match(viewReason('/var/cache/man/26', 'EACCES', f, host)!, '/var/cache/man belongs to man');
  assert.is(viewReason('/var/lib/x', 'EACCES', f, host), null, 'root\'s and readable: the view does not explain it');
  assert.is(viewReason('/home/u/x', 'EACCES', f, host), null, 'outside the fuse trees');
  assert.match(viewReason('/usr/local/bin/x', 'EACCES', facts({ noFuse: true, fuseTrees: [] }), host)!, 'without fuse-overlayfs');
  assert.is(viewReason('/home/u/x', 'EACCES', facts({ noFuse: true, fuseTrees: [] }), host), null, 'the user\'s own files');
  assert.is(viewReason('/var/cache/man/26', 'EACCES', facts({ uid: 0 }), host), null);
});

test('one line per cause with a count; lines the view does not explain are not mentioned; at most a few', () => {
  const lines = [
    '/usr/bin/mandb: fopen /var/cache/man/26: Permission denied',
    '/usr/bin/mandb: fopen /var/cache/man/de/26: Permission denied',
    '/usr/bin/mandb: fopen /var/cache/man/de/26: Permission denied',
    "touch: cannot touch '/data/f': Read-only file system",
    "touch: cannot touch '/home/u/nope': Permission denied",
  ];
  assert.equal(explainSeen(lines, facts(), host), [
    "/var/cache/man/26 (and 1 more): Permission denied because of sbx's view: /var/cache/man belongs to man on the host; inside, host files are root's (fuse-overlayfs), so man cannot write there",
    "/data/f: Read-only file system because of sbx's view: read-only inside: /data is a --ro-bind",
  ]);
  const many = ['/data/a', '/big.img', '/mnt/odd/b', '/sys/c', '/var/log/secret/d'].map((p) => `x: '${p}': ${p.startsWith('/var') ? 'Permission denied' : 'Read-only file system'}`);
  const out = explainSeen(many, facts(), host);
  assert.is(out.length, 4);
  assert.is(out[3], 'and 2 more errors caused by sbx\'s view');
  assert.equal(explainSeen([], facts(), host), []);
});

test('a line the helper kept for another text (a network failure quoting a URL) is no EROFS/EACCES to explain', () => {
  // Without fuse-overlayfs a root-owned path is explained: the quoted URL, taken as a path
  // relative to the cwd, would be one.
  const f = facts({ noFuse: true, fuseTrees: [], cwd: '/' });
  assert.equal(explainSeen(["fatal: unable to access 'https://github.com/x/y/': Could not resolve host: github.com"], f, host), []);
  assert.equal(explainSeen(["cat: '/srv/x': Permission denied"], f, host).length, 1, 'the same facts explain a real one');
});

test.run();
