// Device enforcement with the real kernel: the minimal /dev, nodev mounts, --device, and the
// device cgroup (v1 devices.allow and the v2 eBPF program, each tested on its own by running
// the helper directly in a test cgroup). Runs as root and as an unprivileged user.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IS_ROOT, proveIsolation, sbx, canary, storeAndCanary } from '../helpers/sbx.js';
import { loadDevicePolicy, allowedByRules, compileDevices } from '../../policies/devices/index.js';
import { encodeSpec, type SpecOp } from '../../sandbox-core/spec.js';
import { parseStatusLines } from '../../sandbox-core/launch.js';
import { helperPath } from '../../sandbox-core/helper.js';
import { cgroupHierarchies, realCgroupFs } from '../../sandbox-core/cgroup/plan.js';
import { testUnless } from '../helpers/skip.js';

const store = storeAndCanary();
const policy = loadDevicePolicy('default');


function mknod(path: string, major: number, minor: number): void {
  const r = spawnSync('mknod', ['-m', '0666', path, 'c', String(major), String(minor)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mknod ${path}: ${r.stderr}`);
}

test('/dev holds only allowlisted device nodes', () => {
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', 'for f in /dev/* /dev/pts/*; do [ -c "$f" ] && [ ! -L "$f" ] && echo "$f $(stat -c "%t %T" "$f")"; done; readlink /dev/ptmx >&2; true'], { store });
  assert.is(r.code, 0, r.stderr);
  const nodes = r.stdout.trim().split('\n').map((l) => { const [p, ma, mi] = l.split(' '); return { path: p!, major: parseInt(ma!, 16), minor: parseInt(mi!, 16) }; });
  const paths = new Set(policy.rules.map((x) => x.path));
  for (const n of nodes) {
    assert.ok(allowedByRules(policy.rules, { type: 'c', major: n.major, minor: n.minor, access: 'rw' }), `${n.path} (${n.major}:${n.minor}) is not in the allowlist`);
    assert.ok(paths.has(n.path) || (n.path.startsWith('/dev/pts/') && paths.has('/dev/pts/*')), `${n.path} is not an allowlisted name`);
  }
  // And every allowlisted fixed node is there (ptmx through the devpts instance).
  for (const p of ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty', '/dev/pts/ptmx']) assert.ok(nodes.some((n) => n.path === p), `${p} missing`);
  assert.not.ok(nodes.some((n) => n.path === '/dev/fuse' || n.path === '/dev/kmsg' || n.path === '/dev/mem'));
  assert.is(r.stderr.trim(), 'pts/ptmx', '/dev/ptmx is the devpts instance\'s');
});

test('a device node planted in a host directory cannot be opened inside', () => {
  proveIsolation(canary, store);
  if (!IS_ROOT) {
    // An unprivileged user cannot plant one on the host; inside, making one is refused too.
    const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', `mknod ${canary}/planted c 1 3 2>&1 && echo made || echo refused`], { store });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /refused/);
    return;
  }
  mknod(join(canary, 'null-twin'), 1, 3);   // an allowlisted device: nodev alone stops it
  mknod(join(canary, 'fuse-twin'), 10, 229); // not allowlisted: nodev and the device cgroup
  // On the host both open: the test would notice if they could inside.
  const host = spawnSync('sh', ['-c', `exec 3<>${canary}/null-twin && exec 4<>${canary}/fuse-twin && echo opened`], { encoding: 'utf8' });
  assert.is(host.stdout, 'opened\n', host.stderr);
  for (const n of ['null-twin', 'fuse-twin']) {
    const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', `(exec 3<>${canary}/${n}) 2>&1 && echo opened || echo denied`], { store });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /denied/, n);
    assert.not.match(r.stdout, /opened/, n);
  }
});

test('--device adds a node to /dev and to the allowlist, with its rights', () => {
  const r = sbx(['run', '-n', '-q', '--device', '/dev/fuse', '--', 'stat', '-c', '%F %t:%T', '/dev/fuse'], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'character special file a:e5\n');
  if (!IS_ROOT) {
    // Host permissions still apply (here /dev/fuse may be root's alone), and there is no
    // device cgroup: sbx says so in one line.
    const u = sbx(['run', '-n', '--device', '/dev/fuse', '--', 'true'], { store });
    assert.is(u.code, 0, u.stderr);
    assert.match(u.stderr, /not enforced: device cgroup rules/);
    return;
  }
  // A world-accessible twin of /dev/fuse, so the id mapping of root inside does not matter.
  const node = join(canary, 'fuse');
  mknod(node, 10, 229);
  const rw = sbx(['run', '-n', '-q', '--device', `${node}:/dev/fuse`, '--', 'sh', '-c', '(exec 3<>/dev/fuse) && echo opened'], { store });
  assert.is(rw.code, 0, rw.stderr);
  assert.is(rw.stdout, 'opened\n');
  // Read-only rights: reading opens, writing is refused by the device cgroup (EPERM), which
  // neither the node's mode (0666) nor the mount would refuse.
  const ro = sbx(['run', '-n', '-q', '--device', `${node}:/dev/fuse:r`, '--', 'sh', '-c', '(exec 3</dev/fuse) && echo read-ok; (exec 3<>/dev/fuse) 2>&1 || echo write-denied'], { store });
  assert.is(ro.code, 0, ro.stderr);
  assert.match(ro.stdout, /read-ok/);
  assert.match(ro.stdout, /Operation not permitted/);
  assert.match(ro.stdout, /write-denied/);
});

test('--device rejects what is not a device node', () => {
  const file = join(canary, 'plain');
  writeFileSync(file, 'x');
  chmodSync(file, 0o644);
  const r = sbx(['run', '-n', '--device', file, '--', 'true'], { store });
  assert.is(r.code, 125);
  assert.match(r.stderr, /--device .*plain: not a device node/);
  const missing = sbx(['run', '-n', '--device', '/dev/sbx-no-such-device', '--', 'true'], { store });
  assert.is(missing.code, 125);
  assert.match(missing.stderr, /no such file/);
  const dir = sbx(['run', '-n', '--device', canary, '--', 'true'], { store });
  assert.match(dir.stderr, /not a device node \(a directory\)/);
});

// ---- the cgroup device layers on their own: the helper run directly, without a new root,
// so the host's /dev and the planted nodes are reachable and only the cgroup can refuse.

function runHelper(ops: SpecOp[], script: string): { outcome: ReturnType<typeof parseStatusLines>['outcome']; stdout: string; stderr: string } {
  const spec = encodeSpec([
    { op: 'uid_map', args: ['0 0 4294967295\n'] }, { op: 'gid_map', args: ['0 0 4294967295\n'] },
    ...ops,
    { op: 'cwd', args: ['/'] }, { op: 'arg', args: ['sh'] }, { op: 'arg', args: ['-c'] }, { op: 'arg', args: [script] },
    { op: 'env', args: ['PATH=/usr/bin:/bin'] },
  ]);
  // Status lines go to fd 4; stderr stays the command's.
  const r = spawnSync('sh', ['-c', `exec "$0" run 0 4 4>&3 3>&-`, helperPath()], { input: spec, encoding: 'latin1', stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  return { outcome: parseStatusLines((r.output[3] as string | null) ?? '').outcome, stdout: r.stdout, stderr: r.stderr };
}

const probeScript = (dir: string): string =>
  ['null-twin', 'fuse-twin'].map((n) => `(exec 3<>${dir}/${n}) 2>/dev/null && echo "${n} open" || echo "${n} denied"`).join('; ');

function hierarchy(version: 1 | 2, controller?: string): string | null {
  const h = cgroupHierarchies(readFileSync('/proc/self/mountinfo', 'utf8'), realCgroupFs)
    .find((x) => x.version === version && (!controller || x.controllers.includes(controller)));
  return h?.mountPoint ?? null;
}

const V2 = hierarchy(2);
const V1_DEVICES = hierarchy(1, 'devices');
const NO_V2 = 'no cgroup2 hierarchy is mounted';

function withTestCgroup(parent: string, f: (dir: string) => void): void {
  const dir = join(parent, `sbx-devtest-${process.pid}`);
  mkdirSync(dir);
  try { f(dir); } finally {
    for (let i = 0; i < 100; i++) { try { rmdirSync(dir); break; } catch { spawnSync('sleep', ['0.05']); } }
    if (existsSync(dir)) throw new Error(`could not remove ${dir}`);
  }
}

testUnless(!IS_ROOT || V2 ? null : NO_V2, { missing: true })('cgroup v2: the compiled eBPF program blocks a disallowed device and allows allowlisted ones', () => {
  if (!IS_ROOT) {
    // Loading a device program needs CAP_SYS_ADMIN: the unprivileged user cannot, and sbx says so.
    const r = sbx(['doctor'], { store });
    assert.match(r.stdout, /device cgroup: not usable by uid \d+/);
    return;
  }
  const v2 = V2!;
  mknod(join(canary, 'null-twin'), 1, 3);
  mknod(join(canary, 'fuse-twin'), 10, 229);
  withTestCgroup(v2, (dir) => {
    // Control: in the cgroup but without the program, both open.
    const open = runHelper([{ op: 'cgroup_procs', args: [`${dir}/cgroup.procs`] }], probeScript(canary));
    assert.equal(open.outcome, { kind: 'exited', code: 0 }, open.stderr);
    assert.is(open.stdout, 'null-twin open\nfuse-twin open\n');
  });
  withTestCgroup(v2, (dir) => {
    const { program } = compileDevices(policy.rules);
    const r = runHelper([{ op: 'devbpf', args: [dir, program] }, { op: 'cgroup_procs', args: [`${dir}/cgroup.procs`] }], `${probeScript(canary)}; head -c 4 /dev/urandom | wc -c; echo x > /dev/null && echo null-written`);
    assert.equal(r.outcome, { kind: 'exited', code: 0 }, r.stderr);
    assert.is(r.stdout, 'null-twin open\nfuse-twin denied\n4\nnull-written\n');
  });
});

// As a user there is no writable v1 devices cgroup (the doctor line above covers it); a pure
// v2 host has no v1 devices controller (the v2 test covers it).
testUnless(!IS_ROOT ? 'needs root: no writable v1 devices cgroup as a user' : V1_DEVICES ? null : 'no v1 devices controller on this host')('cgroup v1: devices.deny a + devices.allow lines block a disallowed device', () => {
  const v1 = V1_DEVICES!;
  mknod(join(canary, 'null-twin'), 1, 3);
  mknod(join(canary, 'fuse-twin'), 10, 229);
  withTestCgroup(v1, (dir) => {
    const { v1Allow } = compileDevices(policy.rules);
    const ops: SpecOp[] = [
      { op: 'cgroup_write', args: [`${dir}/devices.deny`, 'a'] },
      ...v1Allow.map((l): SpecOp => ({ op: 'cgroup_write', args: [`${dir}/devices.allow`, l] })),
      { op: 'cgroup_procs', args: [`${dir}/cgroup.procs`] },
    ];
    const r = runHelper(ops, probeScript(canary));
    assert.equal(r.outcome, { kind: 'exited', code: 0 }, r.stderr);
    assert.is(r.stdout, 'null-twin open\nfuse-twin denied\n');
    assert.is(readFileSync(`${dir}/devices.list`, 'utf8').trim().split('\n').sort().join('\n'), [...v1Allow].sort().join('\n'));
  });
});

testUnless(!IS_ROOT ? 'needs root to load a device program' : V2 ? null : NO_V2, { missing: IS_ROOT })('a device program the verifier refuses is a setup failure naming the step', () => {
  const v2 = V2!;
  withTestCgroup(v2, (dir) => {
    // "exit" with r0 never set.
    const bad = Buffer.from([0x95, 0, 0, 0, 0, 0, 0, 0]);
    const r = runHelper([{ op: 'devbpf', args: [dir, bad] }, { op: 'cgroup_procs', args: [`${dir}/cgroup.procs`] }], 'echo ran');
    assert.is(r.stdout, '');
    assert.equal(r.outcome && r.outcome.kind === 'setup-failed' ? [r.outcome.step, r.outcome.errno] : r.outcome, ['devbpf-load', 13]);
  });
});

test.run();
