import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../../cli/usage-error.js';
import { parseSize, parseDuration, formatSize, formatDuration, isoTime } from '../../sandbox-core/units.js';
import { parseLimitFlags } from '../../cli/limit-options.js';
import { planCgroups, parseProcCgroup, hasSysAdmin, type CgroupFs } from '../../sandbox-core/cgroup/plan.js';
import { limitWrites, CGROUP_NAME_RE, cgroupName } from '../../sandbox-core/cgroup/lifecycle.js';
import { diskLimitReached } from '../../sandbox-core/run.js';

test('sizes: binary multiples, case-insensitive, errors say what is accepted', () => {
  assert.is(parseSize('512M'), 512 * 2 ** 20);
  assert.is(parseSize('2G'), 2 * 2 ** 30);
  assert.is(parseSize('2g'), 2 * 2 ** 30);
  assert.is(parseSize('1.5G'), 1.5 * 2 ** 30);
  assert.is(parseSize('64k'), 65536);
  assert.is(parseSize('10MiB'), 10 * 2 ** 20);
  assert.is(parseSize('4096'), 4096);
  for (const bad of ['', 'M', '12X', '-1M', '0', '1 2M', 'lots']) assert.throws(() => parseSize(bad), /size/, bad);
  assert.throws(() => parseSize('12X'), /512M or 2G/);
  // Overflowing sizes are refused as too large, not as 'not positive'.
  for (const big of ['16777216T', '18446744073709551616', '9223372036854775809', '99999999999999999999T']) assert.throws(() => parseSize(big), /too large/, big);
  assert.throws(() => parseDuration('99999999999999999999d'), /too long/);
  assert.throws(() => parseSize('0M'), /not a positive size/);
});

test('durations: ms, s, m, h, d; a bare number is seconds', () => {
  assert.is(parseDuration('30s'), 30_000);
  assert.is(parseDuration('2m'), 120_000);
  assert.is(parseDuration('1.5h'), 5_400_000);
  assert.is(parseDuration('250ms'), 250);
  assert.is(parseDuration('5'), 5000);
  assert.is(parseDuration('7d'), 7 * 86_400_000);
  for (const bad of ['', 's', '3w', '-1s', '0s', 'soon']) assert.throws(() => parseDuration(bad), /duration/, bad);
});

test('formatting gives back what users type', () => {
  assert.is(formatSize(128 * 2 ** 20), '128M');
  assert.is(formatSize(2 ** 30), '1G');
  assert.is(formatSize(1536), '1.5K');
  assert.is(formatSize(1000), '1000');
  assert.is(formatDuration(1000), '1s');
  assert.is(formatDuration(120_000), '2m');
  assert.is(formatDuration(1500), '1.5s');
  assert.is(formatDuration(250), '250ms');
});

test('isoTime is Date#toISOString without the time zone', () => {
  for (const ms of [0, 1, 999, 86_399_999, 951_782_400_000, 1_796_137_218_381, Date.now(), 253_402_300_799_999]) {
    assert.is(isoTime(ms), new Date(ms).toISOString(), String(ms));
  }
});

test('limit flags: defaults, values, and UsageErrors naming the flag', () => {
  const d = parseLimitFlags({ device: [] });
  assert.equal(d, { pids: 4096, pidsExplicit: false, devices: [] });
  const r = parseLimitFlags({ memory: '128M', pids: '64', cpus: '0.5', ioWeight: '500', timeout: '1s', device: ['/dev/fuse', '/dev/kvm:rw', '/dev/null:mwr'] });
  assert.equal(r, { pids: 64, pidsExplicit: true, memory: 128 * 2 ** 20, cpus: 0.5, ioWeight: 500, timeoutMs: 1000, devices: [{ path: '/dev/fuse', inside: '/dev/fuse', access: 'rwm' }, { path: '/dev/kvm', inside: '/dev/kvm', access: 'rw' }, { path: '/dev/null', inside: '/dev/null', access: 'rwm' }] });
  assert.equal(parseLimitFlags({ device: ['/dev/null:/dev//x/./y/:r'] }).devices, [{ path: '/dev/null', inside: '/dev/x/y', access: 'r' }]);
  assert.equal(parseLimitFlags({ device: ['/opt/x/fuse:/dev/myfuse:r', '/opt/x/node'] }).devices, [{ path: '/opt/x/fuse', inside: '/dev/myfuse', access: 'r' }, { path: '/opt/x/node', inside: '/dev/node', access: 'rwm' }]);
  const bad: Array<[Parameters<typeof parseLimitFlags>[0], RegExp]> = [
    [{ memory: 'lots', device: [] }, /^--memory: 'lots' is not a size/],
    [{ memory: '1M', device: [] }, /at least 4M/],
    [{ pids: '0', device: [] }, /--pids 0: expected a whole number from 2/],
    [{ pids: '1.5', device: [] }, /--pids/],
    [{ cpus: '0', device: [] }, /--cpus 0/],
    [{ cpus: 'half', device: [] }, /--cpus half/],
    [{ ioWeight: '20000', device: [] }, /--io-weight 20000: .* 1 to 10000/],
    [{ timeout: '10 years', device: [] }, /^--timeout: /],
    [{ device: ['/dev/fuse:rx'] }, /--device \/dev\/fuse:rx: .*access 'rx'/],
    [{ device: ['fuse'] }, /absolute path/],
    [{ device: ['/dev/fuse:/etc/fuse'] }, /under \/dev/],
    [{ device: ['/dev/fuse:/dev/../etc/x:r'] }, /under \/dev/],
    [{ device: ['/dev/fuse:/dev/pts/9'] }, /not in pts/],
    // Folded first: `/dev//pts/x` passed the check and failed mid-setup (step bind-create, EACCES).
    [{ device: ['/dev/fuse:/dev//pts/9'] }, /not in pts/],
    [{ device: ['/dev/fuse:/dev/./shm/x'] }, /not in pts/],
    [{ device: ['/dev/fuse:/dev/shm/'] }, /not in pts/],
    [{ device: ['/dev/a:/dev/b:r:w'] }, /HOST\[:INSIDE\]/],
  ];
  for (const [flags, re] of bad) {
    try { parseLimitFlags(flags); assert.unreachable(JSON.stringify(flags)); } catch (e) {
      assert.instance(e, UsageError, JSON.stringify(flags));
      assert.match((e as Error).message, re);
    }
  }
});

/** A fake /sys/fs/cgroup: files with contents, and the set of paths writable by the caller. */
function fakeFs(files: Record<string, string>, writable: string[]): CgroupFs {
  const dirs = new Set<string>();
  for (const f of Object.keys(files)) for (let d = f; d !== '/'; d = d.slice(0, d.lastIndexOf('/')) || '/') dirs.add(d);
  return {
    read: (p) => files[p] ?? null,
    exists: (p) => p in files || dirs.has(p),
    writable: (p) => writable.includes(p),
    list: () => [],
  };
}

const HYBRID_MOUNTINFO = [
  '30 25 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '32 30 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '33 30 0:29 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices',
  '34 30 0:30 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio',
  '35 30 0:31 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '36 30 0:32 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '37 30 0:33 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');
const HYBRID_SELF = '9:name=systemd:/\n8:pids:/\n7:blkio:/\n5:devices:/\n4:memory:/jobs/42\n1:cpu:/\n0::/\n';
const HYBRID_FILES = {
  '/sys/fs/cgroup/unified/cgroup.controllers': 'hugetlb\n',
  '/sys/fs/cgroup/unified/cgroup.subtree_control': '\n',
  '/sys/fs/cgroup/memory/jobs/42/memory.limit_in_bytes': '9223372036854771712\n',
  '/sys/fs/cgroup/pids/cgroup.procs': '', '/sys/fs/cgroup/cpu/cgroup.procs': '', '/sys/fs/cgroup/devices/cgroup.procs': '',
  '/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device': '',
};
const HYBRID_ROOT_WRITABLE = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup/memory/jobs/42', '/sys/fs/cgroup/pids', '/sys/fs/cgroup/cpu', '/sys/fs/cgroup/devices', '/sys/fs/cgroup/blkio'];

test('hybrid v1 + v2 as root: v1 controllers in our own cgroups, the device program on v2', () => {
  const plan = planCgroups({ mountinfo: HYBRID_MOUNTINFO, procCgroup: HYBRID_SELF, uid: 0, canBpf: true, fs: fakeFs(HYBRID_FILES, HYBRID_ROOT_WRITABLE) });
  assert.equal(plan.controllers.memory, { ok: true, version: 1, parent: '/sys/fs/cgroup/memory/jobs/42' });
  assert.equal(plan.controllers.pids, { ok: true, version: 1, parent: '/sys/fs/cgroup/pids' });
  assert.equal(plan.controllers.cpu, { ok: true, version: 1, parent: '/sys/fs/cgroup/cpu' });
  assert.not.ok(plan.controllers.io.ok);
  assert.match((plan.controllers.io as { why: string }).why, /blkio has no weight file/);
  assert.equal(plan.devicesV1, { ok: true, version: 1, parent: '/sys/fs/cgroup/devices' });
  assert.equal(plan.devicesBpf, { ok: true, version: 2, parent: '/sys/fs/cgroup/unified' });
  assert.is(plan.v2Parent, '/sys/fs/cgroup/unified');
  assert.equal(plan.hierarchies.map((h) => `${h.version}:${h.controllers.join(',')}`), ['1:cpu', '1:memory', '1:devices', '1:blkio', '1:pids', '1:name=systemd', '2:hugetlb']);
});

test('hybrid as an unprivileged user: nothing writable, each reason named', () => {
  const plan = planCgroups({ mountinfo: HYBRID_MOUNTINFO, procCgroup: HYBRID_SELF, uid: 1001, canBpf: false, fs: fakeFs(HYBRID_FILES, []) });
  for (const c of ['memory', 'pids', 'cpu'] as const) {
    assert.not.ok(plan.controllers[c].ok, c);
    assert.match((plan.controllers[c] as { why: string }).why, /not writable by uid 1001/);
  }
  assert.not.ok(plan.devicesV1.ok);
  assert.not.ok(plan.devicesBpf.ok);
  assert.match((plan.devicesBpf as { why: string }).why, /no cgroup v2 subtree is delegated to uid 1001/);
  assert.is(plan.v2Parent, null);
});

const V2_MOUNTINFO = '30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot';
const USER_SVC = '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service';

test('pure v2, systemd user delegation: the user@UID.service subtree, controllers it enables', () => {
  const files = {
    '/sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma misc\n',
    [`${USER_SVC}/cgroup.controllers`]: 'cpu memory pids\n',
    [`${USER_SVC}/cgroup.subtree_control`]: 'memory pids\n',
    [`${USER_SVC}/cgroup.procs`]: '',
    [`${USER_SVC}/app.slice/app-term.scope/cgroup.procs`]: '4242\n',
  };
  const writable = [USER_SVC, `${USER_SVC}/cgroup.procs`, `${USER_SVC}/cgroup.subtree_control`, `${USER_SVC}/app.slice/app-term.scope`, `${USER_SVC}/app.slice/app-term.scope/cgroup.procs`];
  const plan = planCgroups({ mountinfo: V2_MOUNTINFO, procCgroup: '0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-term.scope\n', uid: 1000, canBpf: false, fs: fakeFs(files, writable) });
  assert.is(plan.v2Parent, USER_SVC);
  assert.equal(plan.controllers.memory, { ok: true, version: 2, parent: USER_SVC });
  assert.equal(plan.controllers.cpu, { ok: true, version: 2, parent: USER_SVC });
  assert.equal(plan.v2Enable, ['cpu']);
  assert.match((plan.controllers.io as { why: string }).why, /does not offer io \(it has: cpu memory pids\)/);
  assert.not.ok(plan.devicesBpf.ok);
  assert.match((plan.devicesBpf as { why: string }).why, /CAP_SYS_ADMIN/);
  assert.match((plan.devicesV1 as { why: string }).why, /no cgroup v1 devices/);
});

test('pure v2 without delegation: the reason names the cgroup searched', () => {
  const files = { '/sys/fs/cgroup/cgroup.controllers': 'cpu io memory pids\n', '/sys/fs/cgroup/user.slice/cgroup.procs': '' };
  const plan = planCgroups({ mountinfo: V2_MOUNTINFO, procCgroup: '0::/user.slice/user-1000.slice/session-3.scope\n', uid: 1000, canBpf: false, fs: fakeFs(files, []) });
  assert.is(plan.v2Parent, null);
  assert.match((plan.controllers.memory as { why: string }).why, /no cgroup v2 subtree is delegated to uid 1000 \(checked the ancestors of \/user.slice\/user-1000.slice\/session-3.scope\)/);
});

test('pure v2 as root: the top of the hierarchy, controllers from its subtree_control', () => {
  const files = { '/sys/fs/cgroup/cgroup.controllers': 'cpu io memory pids\n', '/sys/fs/cgroup/cgroup.subtree_control': 'cpu io memory pids\n' };
  const plan = planCgroups({ mountinfo: V2_MOUNTINFO, procCgroup: '0::/user.slice/user-0.slice/session-1.scope\n', uid: 0, canBpf: true, fs: fakeFs(files, ['/sys/fs/cgroup']) });
  for (const c of ['memory', 'pids', 'cpu', 'io'] as const) assert.equal(plan.controllers[c], { ok: true, version: 2, parent: '/sys/fs/cgroup' }, c);
  assert.equal(plan.v2Enable, []);
  assert.equal(plan.devicesBpf, { ok: true, version: 2, parent: '/sys/fs/cgroup' });
});

test('no cgroup at all', () => {
  const plan = planCgroups({ mountinfo: '', procCgroup: '', uid: 0, canBpf: true, fs: fakeFs({}, []) });
  assert.match((plan.controllers.pids as { why: string }).why, /no cgroup v1 pids hierarchy and no cgroup v2 hierarchy is mounted/);
});

test('limit files for each version', () => {
  const lim = { memory: 128 * 2 ** 20, pids: 64, cpus: 0.5, ioWeight: 500 };
  const all = (): boolean => true, none = (): boolean => false;
  assert.equal(limitWrites('memory', 2, lim, all), [['memory.max', '134217728'], ['memory.swap.max', '0']]);
  assert.equal(limitWrites('memory', 1, lim, all), [['memory.limit_in_bytes', '134217728'], ['memory.memsw.limit_in_bytes', '134217728']]);
  assert.equal(limitWrites('memory', 1, lim, none), [['memory.limit_in_bytes', '134217728']]);
  assert.equal(limitWrites('pids', 1, lim, all), [['pids.max', '64']]);
  assert.equal(limitWrites('cpu', 2, lim, all), [['cpu.max', '50000 100000']]);
  assert.equal(limitWrites('cpu', 1, lim, all), [['cpu.cfs_period_us', '100000'], ['cpu.cfs_quota_us', '50000']]);
  assert.equal(limitWrites('io', 2, lim, all), [['io.weight', 'default 500']]);
  assert.equal(limitWrites('io', 1, lim, all), [['blkio.weight', '50']]);
  assert.equal(limitWrites('io', 1, { ioWeight: 1 }, none), [['blkio.bfq.weight', '10']]);
  assert.equal(limitWrites('cpu', 2, {}, all), []);
});

test('cgroup names carry the owner pid for the stale sweep; capability parsing', () => {
  const n = cgroupName('0123abcd', 4321);
  assert.is(n, 'sbx-0123abcd-4321');
  assert.is(CGROUP_NAME_RE.exec(n)![2], '4321');
  assert.not.ok(CGROUP_NAME_RE.test('sbx-canary-x'));
  assert.ok(hasSysAdmin('CapEff:\t000001fffeffffff\n'));
  assert.not.ok(hasSysAdmin('CapEff:\t0000000000000000\n'));
  assert.equal(parseProcCgroup('4:memory:/a/b\n0::/x\n1:cpu,cpuacct:/'), [{ id: 4, controllers: ['memory'], path: '/a/b' }, { id: 0, controllers: [], path: '/x' }, { id: 1, controllers: ['cpu', 'cpuacct'], path: '/' }]);
});

test('--disk: the limit is said reached when the tmpfs is (nearly) full, never when nothing was written to it', () => {
  // `--disk 1K` is one page: all of it within the slack, full or not.
  assert.not.ok(diskLimitReached({ total: 4096, free: 4096 }), 'an empty one-page tmpfs');
  assert.ok(diskLimitReached({ total: 4096, free: 0 }));
  assert.ok(diskLimitReached({ total: 100 << 20, free: 4096 }));
  assert.not.ok(diskLimitReached({ total: 100 << 20, free: 50 << 20 }));
  assert.not.ok(diskLimitReached(undefined));
});

test.run();
