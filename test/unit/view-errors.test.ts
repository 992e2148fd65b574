// Which of the command's own EROFS/EACCES lines sbx's view explains (view-errors.ts), against
// facts about the run and a host described by the test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { explainSeen, pathsIn, viewReason, type HostProbe, type ViewFacts } from '../../sandbox-core/view-errors.js';

const facts = (over: Partial<ViewFacts> = {}): ViewFacts => ({
  roBinds: ['/data'], roFiles: ['/big.img'], mountedFiles: [], fallbacks: ['/mnt/odd'], fuseTrees: ['/usr', '/var'], noFuse: false, uid: 1000, cwd: '/home/u', ...over,
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
  assert.match(viewReason('/big.img', 'EROFS', f, host)!, 'beside a mount that sbx bound read-only');
  // A file the host has a mount on: said as such, not as too big or unreadable.
  const mounted = viewReason('/etc/hosts', 'EROFS', facts({ roFiles: ['/etc/hosts'], mountedFiles: ['/etc/hosts'] }), host)!;
  assert.match(mounted, 'the host has a mount on this file');
  assert.not.match(mounted, 'too big');
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

test('errors in one tree of another user\'s share a line that names its top (man-db refused on each file of /var/cache/man)', () => {
  // The files exist on the host, each man's; /var/cache/man is too, /var/cache is root's.
  const owners: Record<string, number> = { '/var/cache/man': 6, '/var/cache/man/CACHEDIR.TAG': 6, '/var/cache/man/sr': 6, '/var/cache/man/sr/CACHEDIR.TAG': 6, '/var/cache': 0, '/var': 0, '/': 0, '/usr': 0, '/usr/local': 0, '/usr/local/bin': 0 };
  const real: HostProbe = {
    owner: (p) => { for (let q = p; ; q = q.slice(0, q.lastIndexOf('/')) || '/') { if (owners[q] !== undefined) return { path: q, uid: owners[q]! }; if (q === '/') return null; } },
    readable: () => true,
    userName: (uid) => (uid === 6 ? 'man' : `uid ${uid}`),
  };
  // As an `apt-get install` as an ordinary user printed them (man-db's trigger).
  const seen = ["/usr/bin/mandb: can't chmod /var/cache/man/CACHEDIR.TAG: Operation not permitted", "/usr/bin/mandb: can't remove /var/cache/man/CACHEDIR.TAG: Permission denied",
    '/usr/bin/mandb: fopen /var/cache/man/826: Permission denied', "/usr/bin/mandb: can't chmod /var/cache/man/sr/CACHEDIR.TAG: Operation not permitted",
    '/usr/bin/mandb: fopen /var/cache/man/sr/826: Permission denied'];
  assert.equal(explainSeen(seen, facts(), real), [
    "/var/cache/man/CACHEDIR.TAG (and 3 more): Operation not permitted, Permission denied because of sbx's view: /var/cache/man belongs to man on the host; inside, host files are root's (fuse-overlayfs), so man cannot write there",
  ]);
  // Root's own entries keep their own path (every tree up to / is root's).
  assert.match(viewReason('/usr/local/bin/x', 'EACCES', facts({ noFuse: true, fuseTrees: [] }), { ...real, userName: () => 'root' })!, /^\/usr\/local\/bin belongs to root/);
});

test("root's remapped sandbox: an entry whose host owner or group it does not map is explained (EACCES, EPERM, EOVERFLOW); the extras and --map-root are not", () => {
  // /srv/ad/x belongs to 1828800005, /srv/me to the sudo user (an extra), /srv/grp to root with group 1828800007.
  const adHost: HostProbe = {
    owner: (p) => (p.startsWith('/srv/ad') ? { path: '/srv/ad', uid: 1828800005, gid: 1828800005 }
      : p.startsWith('/srv/me') ? { path: '/srv/me', uid: 1828800001, gid: 1828800002 }
        : p.startsWith('/srv/grp') ? { path: '/srv/grp', uid: 0, gid: 1828800007 } : { path: p, uid: 0, gid: 0 }),
    readable: () => true,
    userName: (uid) => (uid === 1828800005 ? 'alice' : `uid ${uid}`),
  };
  const root = facts({ uid: 0, fuseTrees: [], rootIds: { uid: 1_000_000_000, gid: 1_000_000_000, count: 65536, extraUids: [1828800001], extraGids: [1828800002] } });
  assert.match(viewReason('/srv/ad/x', 'EACCES', root, adHost)!, /^\/srv\/ad belongs to alice \(uid 1828800005\) on the host, above the ids a root sandbox maps \(0-65535, .*--map-root/);
  assert.match(viewReason('/srv/grp/f', 'EOVERFLOW', root, adHost)!, /^\/srv\/grp has group gid 1828800007 on the host/);
  assert.is(viewReason('/srv/me/f', 'EACCES', root, adHost), null, "the sudo user's ids are mapped");
  assert.is(viewReason('/etc/x', 'EACCES', root, adHost), null, "root's own");
  assert.is(viewReason('/srv/ad/x', 'EACCES', facts({ uid: 0, rootIds: null }), adHost), null, '--map-root maps every id');
  assert.is(viewReason('/srv/ad/x', 'EOVERFLOW', facts(), adHost), null, "an ordinary user's EOVERFLOW is not explained");
  assert.equal(explainSeen([
    "chmod: changing permissions of '/srv/ad/x': Value too large for defined data type",
    'sh: 1: cannot create /srv/ad/y: Permission denied',
  ], root, adHost), [
    "/srv/ad/x (and 1 more): Value too large for defined data type, Permission denied because of sbx's view: /srv/ad belongs to alice (uid 1828800005) on the host, above the ids a root sandbox maps (0-65535, the sudo user's and the working directory's owner's), so root inside may not change it: run sbx from a directory of that owner's, or with --map-root (root inside is then root outside)",
  ]);
});

test("an ordinary user's EOVERFLOW: an entry of theirs whose group the sandbox does not map (a file, or the directory a new one goes in); never another's", () => {
  // /home/u/proj and its f have group users (100); /home/u/mine the user's own group; /home/v another user's.
  const groups: HostProbe = {
    owner: (p) => (p === '/home/u/proj/f' ? { path: p, uid: 1000, gid: 100 }
      : p.startsWith('/home/u/proj') ? { path: '/home/u/proj', uid: 1000, gid: 100 }
        : p.startsWith('/home/u/mine') ? { path: '/home/u/mine', uid: 1000, gid: 1000 }
          : p.startsWith('/home/v') ? { path: '/home/v', uid: 1005, gid: 100 } : { path: p, uid: 0, gid: 0 }),
    readable: () => true,
    userName: (uid) => `uid ${uid}`,
  };
  const user = facts({ userGids: [[1000, 1], [100000, 65536]] });
  assert.match(viewReason('/home/u/proj/f', 'EOVERFLOW', user, groups)!, /^\/home\/u\/proj\/f has group gid 100 on the host, which your sandbox does not map .*writes a new file beside it works/);
  assert.match(viewReason('/home/u/proj/new', 'EOVERFLOW', user, groups)!, /^\/home\/u\/proj has group gid 100 .*nothing can be made or changed in it/);
  assert.is(viewReason('/home/u/mine/f', 'EOVERFLOW', user, groups), null, 'the user\'s own group is mapped');
  assert.is(viewReason('/home/v/f', 'EOVERFLOW', user, groups), null, 'another\'s file: the host refuses its chmod too');
  assert.is(viewReason('/home/u/proj/f', 'EOVERFLOW', facts({ userGids: [[1000, 1], [100, 1]] }), groups), null, 'a mapped group');
  assert.is(viewReason('/home/u/proj/f', 'EACCES', user, groups), null, 'EACCES there is not this');
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

test("git's hardlink check after a local clone is explained, as root and as a user, unless the path is a bind's", () => {
  const line = "fatal: hardlink different from source at '/home/u/dst/.git/objects/3b/e22be77da4887e869c981806d8452f034dd014'";
  for (const f of [facts(), facts({ uid: 0 })]) {
    const out = explainSeen([line], f, host);
    assert.is(out.length, 1, out.join('\n'));
    assert.match(out[0]!, /^\/home\/u\/dst\/\.git\/objects\/3b\/e22be77da4887e869c981806d8452f034dd014: hardlink different from source because of sbx's view: .*--no-hardlinks/);
  }
  assert.equal(explainSeen([line], facts({ binds: ['/home/u/dst'] }), host), [], "a bind's links are the host's own");
  assert.equal(explainSeen(['hardlink different from elsewhere'], facts(), host), []);
});

test.run();
