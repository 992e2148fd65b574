import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMountInfo, visibleMounts } from '../../sandbox-core/mountinfo.js';
import { planView, type HostFs } from '../../sandbox-core/plan.js';

// A host tree as data: directories map to their entries.
function fakeHost(tree: Record<string, Array<[string, 'dir' | 'file' | 'symlink' | 'other', string?]>>): HostFs {
  return {
    list(dir) {
      const e = tree[dir];
      if (!e) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return e.map(([name, kind]) => ({ name, kind }));
    },
    mode: () => 0o755,
    readlink(path) {
      const dir = path.slice(0, path.lastIndexOf('/')) || '/';
      const name = path.slice(path.lastIndexOf('/') + 1);
      return tree[dir]!.find(([n]) => n === name)![2]!;
    },
  };
}

const TREE: Record<string, Array<[string, 'dir' | 'file' | 'symlink' | 'other', string?]>> = {
  '/': [['bin', 'symlink', 'usr/bin'], ['dev', 'dir'], ['etc', 'dir'], ['home', 'dir'], ['mnt', 'dir'], ['proc', 'dir'], ['run', 'dir'], ['sys', 'dir'], ['usr', 'dir'], ['vmlinuz', 'file'], ['sock', 'other']],
  '/mnt': [['data', 'dir'], ['plain', 'dir']],
  '/mnt/data': [['inner', 'dir']],
  '/run': [['lock', 'dir'], ['user', 'dir']],
  '/run/user': [['1000', 'dir']],
};

const MOUNTINFO = [
  '1 0 254:0 / / rw - ext4 /dev/vda rw',
  '2 1 0:5 / /proc rw - proc proc rw',
  '3 1 0:6 / /sys rw - sysfs sysfs rw',
  '4 1 0:7 / /dev rw - devtmpfs udev rw',
  '5 1 8:1 / /home rw - ext4 /dev/sdb1 rw',
  '6 1 0:30 / /run rw - tmpfs tmpfs rw',
  '7 6 0:31 / /run/user/1000 rw - tmpfs tmpfs rw',
  '8 1 8:2 / /mnt/data rw - ext4 /dev/sdc1 rw',
  '9 8 0:40 / /mnt/data/inner rw - binfmt_misc binfmt_misc rw',
  '10 1 254:0 /usr /etc/usr-bind rw - ext4 /dev/vda rw',
].join('\n');

test('splits directories that hold mount points, overlays the rest', () => {
  const units = planView(visibleMounts(parseMountInfo(MOUNTINFO)), fakeHost({ ...TREE, '/etc': [['usr-bind', 'dir'], ['passwd', 'file']] }));
  const byPath = Object.fromEntries(units.map((u) => [u.path, u.kind]));
  assert.equal(byPath, {
    '/': 'skeleton',
    '/bin': 'symlink',
    '/dev': 'special',
    '/etc': 'skeleton',
    '/etc/passwd': 'ro-bind',
    '/etc/usr-bind': 'overlay',
    '/home': 'overlay',
    '/mnt': 'skeleton',
    '/mnt/data': 'skeleton',
    '/mnt/data/inner': 'unavailable',
    '/mnt/plain': 'overlay',
    '/proc': 'special',
    '/run': 'skeleton',
    '/run/lock': 'overlay',
    '/run/user': 'skeleton',
    '/run/user/1000': 'overlay',
    '/sys': 'special',
    '/usr': 'overlay',
    '/vmlinuz': 'ro-bind',
  });
  // Sockets are never carried into a split directory.
  assert.not.ok(units.some((u) => u.path === '/sock'));
  // Parents come before children, so the helper can mount in order.
  const order = units.map((u) => u.path);
  for (const [i, p] of order.entries()) {
    const parent = p.slice(0, p.lastIndexOf('/')) || '/';
    if (p !== '/') assert.ok(order.indexOf(parent) < i, `${parent} before ${p}`);
  }
  const bin = units.find((u) => u.path === '/bin');
  assert.equal(bin, { kind: 'symlink', path: '/bin', target: 'usr/bin' });
});

test('a mount point missing from the listing is still planned', () => {
  const units = planView(visibleMounts(parseMountInfo(MOUNTINFO)), fakeHost({ ...TREE, '/run': [['lock', 'dir']], '/etc': [] }));
  assert.ok(units.some((u) => u.path === '/run/user/1000' && u.kind === 'overlay'));
});

test('an unreadable split directory is reported, not silently empty', () => {
  const t = { ...TREE, '/etc': [] as Array<[string, 'dir']> };
  delete (t as Record<string, unknown>)['/mnt/data'];
  const units = planView(visibleMounts(parseMountInfo(MOUNTINFO)), fakeHost(t));
  assert.equal(units.find((u) => u.path === '/mnt/data'), { kind: 'unavailable', path: '/mnt/data', reason: 'ENOENT' });
});

test('a file mount point becomes a read-only bind', () => {
  const mi = MOUNTINFO + '\n11 1 254:0 /x /etc/resolv.conf rw - ext4 /dev/vda rw';
  const units = planView(visibleMounts(parseMountInfo(mi)), fakeHost({ ...TREE, '/etc': [['resolv.conf', 'file'], ['hosts', 'file']] }));
  assert.equal(units.find((u) => u.path === '/etc/resolv.conf'), { kind: 'ro-bind', path: '/etc/resolv.conf', reason: 'file-mount' });
});


test("another user's FUSE mount that refuses even root is planned as an empty unit, not a failure", () => {
  const mounts = visibleMounts(parseMountInfo([
    '1 0 254:0 / / rw - ext4 /dev/vda rw',
    '2 1 0:38 / /mnt/theirs rw,nosuid,nodev - fuse.sshfs sshfs rw,user_id=1001,group_id=1001',
  ].join('\n')));
  const host = fakeHost({ '/': [['mnt', 'dir']], '/mnt': [['theirs', 'dir'], ['plain', 'dir']] });
  host.mode = (p) => { if (p === '/mnt/theirs') throw Object.assign(new Error('EACCES'), { code: 'EACCES' }); return 0o755; };
  const unit = planView(mounts, host).find((u) => u.path === '/mnt/theirs');
  assert.equal(unit, { kind: 'unavailable', path: '/mnt/theirs', reason: 'a mount sbx cannot read: EACCES' });
});

test('planned whole (root, outside any user namespace): each mount is one overlay, the mounts below it on top, in order', () => {
  const mi = MOUNTINFO + '\n11 1 254:0 /x /etc/resolv.conf rw - ext4 /dev/vda rw';
  const units = planView(visibleMounts(parseMountInfo(mi)), fakeHost({ ...TREE, '/etc': [['usr-bind', 'dir'], ['resolv.conf', 'file'], ['passwd', 'file']] }), { whole: true });
  assert.equal(Object.fromEntries(units.map((u) => [u.path, u.kind])), {
    '/': 'overlay',
    '/dev': 'special',
    '/etc/resolv.conf': 'ro-bind',
    '/etc/usr-bind': 'overlay',
    '/home': 'overlay',
    '/mnt/data': 'overlay',
    '/mnt/data/inner': 'unavailable',
    '/proc': 'special',
    '/run': 'overlay',
    '/run/user/1000': 'overlay',
    '/sys': 'special',
  });
  // Each after the mount it is in: the helper mounts in this order.
  const order = units.map((u) => u.path);
  for (const [i, p] of order.entries()) {
    const outer = order.slice(0, i).filter((q) => q === '/' || p.startsWith(`${q}/`));
    if (p !== '/') assert.ok(outer.length > 0, `${p} after the mount holding it`);
  }
  // A mount point its parent's listing does not show is still planned, as a dir.
  const hidden = planView(visibleMounts(parseMountInfo(MOUNTINFO)), fakeHost({ ...TREE, '/run': [['lock', 'dir']], '/etc': [] }), { whole: true });
  assert.ok(hidden.some((u) => u.path === '/run/user/1000' && u.kind === 'overlay'));
  assert.ok(hidden.some((u) => u.path === '/etc/usr-bind' && u.kind === 'overlay'));
});

/** The plan through fuse with the dirs `declined` kept skeletons: each unit's path, kind and holdsMounts, and the dirs asked. */
function throughFusePlan(declined: string[]): { rows: Array<[string, string, boolean]>; asked: string[] } {
  const asked: string[] = [];
  const units = planView(visibleMounts(parseMountInfo(MOUNTINFO)), fakeHost({ ...TREE, '/etc': [['usr-bind', 'dir'], ['passwd', 'file']] }), {
    throughFuse: (dir) => { asked.push(dir); return !declined.includes(dir); },
  });
  return { rows: units.map((u) => [u.path, u.kind, u.kind === 'overlay' && u.holdsMounts === true]), asked: asked.sort() };
}

test("through fuse (an ordinary user's, with the daemon): a dir holding mounts below `/` is one overlay, its mounts on top; one it declines stays a skeleton", () => {
  // `/` declined (a sandbox whose `/` is a skeleton keeps it): the dirs below it are asked.
  const { rows, asked } = throughFusePlan(['/', '/mnt/data']);
  assert.equal(rows, [
    ['/', 'skeleton', false],
    ['/bin', 'symlink', false],
    ['/dev', 'special', false],
    ['/etc', 'overlay', true],
    ['/etc/usr-bind', 'overlay', false],
    ['/home', 'overlay', false],
    ['/mnt', 'overlay', true],
    ['/mnt/data', 'skeleton', false],
    ['/mnt/data/inner', 'unavailable', false],
    ['/proc', 'special', false],
    ['/run', 'overlay', true],
    ['/run/user/1000', 'overlay', false],
    ['/sys', 'special', false],
    ['/usr', 'overlay', false],
    ['/vmlinuz', 'ro-bind', false],
  ]);
  // Only dirs holding mounts are asked.
  assert.equal(asked, ['/', '/etc', '/mnt', '/mnt/data', '/run']);
  // A dir on the way to a mount that the user may not list: empty and read-only, as a skeleton
  // made it; its mounts are not planned (nothing could be mounted past it).
  const shut = { ...TREE, '/etc': [] as Array<[string, 'dir']> };
  delete (shut as Record<string, unknown>)['/run/user'];
  const r = planView(visibleMounts(parseMountInfo(MOUNTINFO)), fakeHost(shut), { throughFuse: () => true }).filter((u) => u.path.startsWith('/run'));
  assert.equal(r, [{ kind: 'overlay', path: '/run', holdsMounts: true }, { kind: 'unavailable', path: '/run/user', reason: 'ENOENT' }]);
});

test("through fuse, `/` itself: one overlay, each mount nearest below it on top, so nothing between top-level dirs is a mount point", () => {
  const { rows, asked } = throughFusePlan(['/mnt/data']);
  assert.equal(rows, [
    ['/', 'overlay', true],
    ['/dev', 'special', false],
    ['/etc/usr-bind', 'overlay', false],
    ['/home', 'overlay', false],
    ['/mnt/data', 'skeleton', false],
    ['/mnt/data/inner', 'unavailable', false],
    ['/proc', 'special', false],
    ['/run', 'overlay', true],
    ['/run/user/1000', 'overlay', false],
    ['/sys', 'special', false],
  ]);
  // No file beside a mount point is bound (/vmlinuz, /etc/passwd are in `/`'s overlay), no
  // symlink made: the daemon shows them.
  assert.equal(asked, ['/', '/mnt/data', '/run']);
  // A dir on the way from `/` that the user may not list: empty and read-only, its mounts not
  // planned (the way's components counted from `/`).
  const shut = { ...TREE };
  delete (shut as Record<string, unknown>)['/mnt'];
  const m = planView(visibleMounts(parseMountInfo(MOUNTINFO)), fakeHost(shut), { throughFuse: () => true }).filter((u) => u.path.startsWith('/mnt'));
  assert.equal(m, [{ kind: 'unavailable', path: '/mnt', reason: 'ENOENT' }]);
});

test.run();
