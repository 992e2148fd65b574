// Every shipped policy, on every syscall number of both architectures and a set of argument
// vectors, against the policy's definition (seccomp-reference.ts) and against the denials the
// issue asks for. Prints the longest and mean decision path.
// sbx-test: host-free (it compiles the shipped policies and runs them in an interpreter).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { compileSeccompPolicy, compilePolicy, loadPolicy, shippedPolicyNames, listShippedPolicies } from '../../policies/seccomp/index.js';
import { shippedPolicyDir } from '../../policies/seccomp/load.js';
import { decode } from '../../policies/seccomp/bpf.js';
import { runFilter, dataWords, longestPath } from '../../policies/seccomp/interpreter.js';
import { PolicyError } from '../../policies/seccomp/errors.js';
import { ARG_CONSTANTS as C } from '../../policies/seccomp/constants.js';
import { AUDIT, TABLES, ALLOW, errnoRet, expectedRet, nameOf, syscallNumbers, type Arch } from './seccomp-reference.js';

const ARCHES: Arch[] = ['x86_64', 'aarch64'];
const EPERM = errnoRet(1);
const ENOSYS = errnoRet(38);
const EAFNOSUPPORT = errnoRet(97);
const B = (n: number): bigint => BigInt(n >>> 0);
const HIGH = 0x100000000n;

const SIGCHLD = 17n;
const FORK_FLAGS = B(C.CLONE_CHILD_SETTID! | C.CLONE_CHILD_CLEARTID!) | SIGCHLD;
const THREAD_FLAGS = B(C.CLONE_VM! | C.CLONE_FS! | C.CLONE_FILES! | C.CLONE_SIGHAND! | C.CLONE_THREAD! | C.CLONE_SYSVSEM! | C.CLONE_SETTLS! | C.CLONE_PARENT_SETTID! | C.CLONE_CHILD_CLEARTID!);

/** Values that matter to some shipped condition, tried in each of the first three arguments. */
const INTERESTING: bigint[] = [
  0n, 1n, 2n, 8n, 10n, 16n, 17n, 38n, 40n, 0xffffffffn, 0xffffffffffffffffn,
  B(C.TIOCSTI!), B(C.TIOCSTI!) | HIGH, B(C.TIOCLINUX!), B(C.TIOCLINUX!) | HIGH, 0x5413n, 0x5401n,
  FORK_FLAGS, THREAD_FLAGS, B(C.CLONE_NEWUSER!) | SIGCHLD, B(C.CLONE_NEWNS!), B(C.CLONE_NEWNET!) | FORK_FLAGS, B(C.CLONE_NEWUSER!) * HIGH | SIGCHLD,
  B(C.S_IFCHR!) | 0o666n, B(C.S_IFBLK!) | 0o660n, B(C.S_IFIFO!) | 0o644n, B(C.S_IFREG!) | 0o600n, B(C.S_IFSOCK!) | 0o755n, B(C.S_IFCHR!) | HIGH,
  B(C.ADDR_NO_RANDOMIZE!), B(C.MMAP_PAGE_ZERO!), B(C.READ_IMPLIES_EXEC!), B(C.PER_LINUX32! | C.UNAME26!), B(C.PER_LINUX32!) | HIGH,
  B(C.AF_PACKET!), B(C.AF_INET!) | HIGH, B(C.AF_ALG!), B(C.AF_VSOCK!),
];
function argVectors(): bigint[][] {
  const out: bigint[][] = [[]];
  for (const v of INTERESTING) for (let i = 0; i < 3; i++) out.push(Object.assign([0n, 0n, 0n], { [i]: v }));
  return out;
}
const VECTORS = argVectors();

function verdict(policy: string, arch: Arch, name: string, args: bigint[] = []): number {
  const program = decode(compileSeccompPolicy(policy, arch));
  return runFilter(program, { nr: TABLES[arch][name]!, arch: AUDIT[arch], args }).ret;
}

test('the shipped policies are found from the compiled module and listed', () => {
  assert.ok(fileURLToPath(import.meta.url).includes('/dist/'), 'runs from dist');
  assert.ok(existsSync(join(shippedPolicyDir(), 'default.json')));
  assert.equal(shippedPolicyNames(), ['default', 'permissive', 'strict']);
  const strict = listShippedPolicies().find((p) => p.name === 'strict');
  assert.is(strict?.extends, 'default');
});

/**
 * What the kernel's seccomp_is_const_allow decides for one syscall number: the filter run with
 * only `nr` and `arch` known, through the instructions it emulates (loads of those two words,
 * AND with a constant, the jumps on constants); anything else, or a return other than ALLOW,
 * and the number is not cached.
 */
function cacheAllows(program: readonly { code: number; jt: number; jf: number; k: number }[], nr: number, arch: number): boolean {
  let a = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const { code, jt, jf, k } = program[pc]!;
    const K = k >>> 0;
    switch (code) {
      case 0x20: /* LD W ABS */ if (K === 0) a = nr >>> 0; else if (K === 4) a = arch >>> 0; else return false; break;
      case 0x06: /* RET K */ return K === ALLOW;
      case 0x05: /* JA */ pc += K; break;
      case 0x15: /* JEQ K */ pc += a === K ? jt : jf; break;
      case 0x35: /* JGE K */ pc += a >= K ? jt : jf; break;
      case 0x25: /* JGT K */ pc += a > K ? jt : jf; break;
      case 0x45: /* JSET K */ pc += (a & K) !== 0 ? jt : jf; break;
      case 0x54: /* ALU AND K */ a = (a & K) >>> 0; break;
      default: return false;
    }
  }
  return false;
}

for (const name of ['default', 'strict', 'permissive']) {
  test(`${name}: every syscall number on both architectures matches the policy's definition`, () => {
    const policy = loadPolicy(name);
    const report: string[] = [];
    for (const arch of ARCHES) {
      const { program } = compilePolicy(policy, arch);
      let longest = 0;
      let total = 0;
      let count = 0;
      for (const nr of syscallNumbers(arch)) {
        for (const args of VECTORS) {
          const r = runFilter(program, dataWords({ nr, arch: AUDIT[arch], args }));
          const want = expectedRet(policy, arch, AUDIT[arch], nr, args);
          if (r.ret !== want) assert.is(r.ret.toString(16), want.toString(16), `${name} ${arch} nr ${nr} args ${args.map((a) => a.toString(16))}`);
          if (args.length === 0) {
            longest = Math.max(longest, r.steps);
            total += r.steps;
            count++;
          }
        }
      }
      report.push(`${arch}: ${program.length} insns, longest ${longest}, mean ${(total / count).toFixed(1)}`);
      // A balanced search over this policy's ranges plus the argument checks; the longest is
      // socket's chain of family/type/protocol rules (two instructions to pass over each), paid
      // once per socket created, not per read or write.
      assert.ok(longest <= 40, `${name} ${arch} longest path ${longest}`);
    }
    console.log(`  ${name}: ${report.join('; ')}`);
  });

  test(`${name}: no syscall and no argument runs more than 16 instructions; hot syscalls decide in fewer`, () => {
    for (const arch of ARCHES) {
      const { program } = compilePolicy(loadPolicy(name), arch);
      // The longest path through the program bounds every syscall number and argument.
      assert.ok(longestPath(program) <= 16, `${name} ${arch}: worst case ${longestPath(program)} instructions`);
      for (const s of ['read', 'write', 'rt_sigprocmask']) {
        const r = runFilter(program, dataWords({ nr: TABLES[arch][s]!, arch: AUDIT[arch], args: [] }));
        assert.ok(r.steps < longestPath(program) && r.steps <= 9, `${name} ${arch} ${s}: ${r.steps} instructions`);
      }
    }
  });

  // The kernel's action cache (Linux 5.11+, kernel/seccomp.c) runs each filter once per
  // syscall number at load, knowing only the number and the arch: a syscall whose path loads
  // nothing else, uses only the few instructions it emulates and ends in ALLOW is from then
  // on allowed without running the program at all. So every syscall a policy allows whatever
  // its arguments must take such a path, or each call of it would run the filter for nothing.
  test(`${name}: every syscall it allows whatever the arguments is one the kernel's action cache allows without running it`, () => {
    for (const arch of ARCHES) {
      const { program } = compilePolicy(loadPolicy(name), arch);
      const missed: string[] = [];
      let cached = 0;
      for (const nr of syscallNumbers(arch)) {
        if (!VECTORS.every((args) => runFilter(program, dataWords({ nr, arch: AUDIT[arch], args })).ret === ALLOW)) continue;
        if (cacheAllows(program, nr, AUDIT[arch])) cached++;
        else missed.push(nameOf(arch, nr) ?? String(nr));
      }
      assert.equal(missed, [], `${name} ${arch}: allowed whatever the arguments, yet the action cache cannot tell`);
      assert.ok(cached > 100, `${name} ${arch}: ${cached} syscalls cached`);
    }
  });

  test(`${name}: no rule is shadowed by an earlier unconditional rule`, () => {
    for (const arch of ARCHES) {
      const { decisions } = compilePolicy(loadPolicy(name), arch);
      const shadowed = decisions.filter((d) => d.shadowed.length).map((d) => d.name);
      assert.equal(shadowed, [], `${arch}`);
    }
  });
}

const ESCAPES: Array<[string, number]> = [
  ['init_module', EPERM], ['finit_module', EPERM], ['delete_module', EPERM], ['kexec_load', EPERM], ['kexec_file_load', EPERM],
  ['bpf', EPERM], ['perf_event_open', EPERM], ['keyctl', EPERM], ['add_key', EPERM], ['request_key', EPERM], ['userfaultfd', EPERM],
  ['io_uring_setup', ENOSYS], ['io_uring_enter', ENOSYS], ['io_uring_register', ENOSYS],
  ['mount', EPERM], ['umount2', EPERM], ['pivot_root', EPERM], ['fsopen', EPERM], ['fsconfig', EPERM], ['fsmount', EPERM], ['move_mount', EPERM],
  ['open_tree', EPERM], ['fspick', EPERM], ['mount_setattr', EPERM], ['unshare', EPERM], ['setns', EPERM], ['clone3', ENOSYS],
  ['open_by_handle_at', EPERM], ['name_to_handle_at', EPERM],
];

for (const policy of ['default', 'strict', 'permissive']) {
  test(`${policy}: escape-class syscalls are denied on both architectures`, () => {
    for (const arch of ARCHES) {
      for (const [name, want] of ESCAPES) assert.is(verdict(policy, arch, name), want, `${arch} ${name}`);
      const ioctl = (cmd: bigint) => verdict(policy, arch, 'ioctl', [1n, cmd]);
      assert.is(ioctl(B(C.TIOCSTI!)), EPERM, 'TIOCSTI');
      assert.is(ioctl(B(C.TIOCSTI!) | HIGH), EPERM, 'TIOCSTI with high bits set (CVE-2019-10063)');
      assert.is(ioctl(0xffffffff00000000n | B(C.TIOCSTI!)), EPERM, 'TIOCSTI with all high bits set');
      assert.is(ioctl(B(C.TIOCLINUX!) | HIGH), EPERM, 'TIOCLINUX with high bits set');
      assert.is(ioctl(0x5401n), ALLOW, 'TCGETS');
      const clone = (flags: bigint) => verdict(policy, arch, 'clone', [flags]);
      assert.is(clone(FORK_FLAGS), ALLOW, 'fork-style clone');
      assert.is(clone(THREAD_FLAGS), ALLOW, 'pthread_create clone');
      assert.is(clone(B(C.CLONE_VFORK! | C.CLONE_VM!) | SIGCHLD), ALLOW, 'vfork-style clone');
      for (const ns of ['CLONE_NEWUSER', 'CLONE_NEWNS', 'CLONE_NEWPID', 'CLONE_NEWNET', 'CLONE_NEWIPC', 'CLONE_NEWUTS', 'CLONE_NEWCGROUP']) {
        assert.is(clone(FORK_FLAGS | B(C[ns]!)), EPERM, ns);
      }
      // The kernel reads only the low 32 bits of clone's flags: high bits alone change nothing.
      assert.is(clone(FORK_FLAGS | (B(C.CLONE_NEWUSER!) << 32n)), ALLOW, 'namespace bit above bit 31 is ignored by the kernel');
    }
  });
}

test('default: the narrower denials and what stays allowed', () => {
  for (const arch of ARCHES) {
    for (const name of ['acct', 'swapon', 'swapoff', 'quotactl', 'quotactl_fd', 'syslog', 'reboot', 'settimeofday', 'clock_settime']) {
      assert.is(verdict('default', arch, name), EPERM, `${arch} ${name}`);
    }
    for (const name of ['read', 'openat', 'execve', 'ptrace', 'process_vm_readv', 'pidfd_getfd', 'wait4', 'futex', 'rseq', 'seccomp', 'prctl', 'getrandom', 'sethostname', 'chroot']) {
      assert.is(verdict('default', arch, name), ALLOW, `${arch} ${name}`);
    }
    const socket = (domain: bigint) => verdict('default', arch, 'socket', [domain, 1n, 0n]);
    for (const af of ['AF_UNIX', 'AF_INET', 'AF_INET6', 'AF_NETLINK']) assert.is(socket(B(C[af]!)), ALLOW, af);
    for (const af of ['AF_PACKET', 'AF_ALG', 'AF_VSOCK', 'AF_TIPC', 'AF_BLUETOOTH', 'AF_KEY', 'AF_UNSPEC']) assert.is(socket(B(C[af]!)), EAFNOSUPPORT, af);
    assert.is(socket(B(C.AF_INET!) | HIGH), ALLOW, 'the kernel reads the domain as int');
    assert.is(socket(B(C.AF_PACKET!) | HIGH), EAFNOSUPPORT, 'AF_PACKET with high bits set');
    assert.is(verdict('default', arch, 'socketpair', [B(C.AF_TIPC!)]), EAFNOSUPPORT, 'socketpair AF_TIPC');
    const mknodat = (mode: bigint) => verdict('default', arch, 'mknodat', [B(-100), 0n, mode, 0n]);
    assert.is(mknodat(B(C.S_IFCHR!) | 0o666n), EPERM, 'char device');
    assert.is(mknodat(B(C.S_IFBLK!) | 0o660n), EPERM, 'block device');
    assert.is(mknodat(B(C.S_IFCHR!) | HIGH), EPERM, 'char device with high bits');
    assert.is(mknodat(B(C.S_IFIFO!) | 0o644n), ALLOW, 'fifo');
    assert.is(mknodat(B(C.S_IFREG!) | 0o600n), ALLOW, 'regular file');
    assert.is(mknodat(B(C.S_IFSOCK!) | 0o600n), ALLOW, 'socket');
    if (arch === 'x86_64') {
      assert.is(verdict('default', arch, 'mknod', [0n, B(C.S_IFBLK!)]), EPERM, 'mknod block');
      assert.is(verdict('default', arch, 'mknod', [0n, B(C.S_IFIFO!)]), ALLOW, 'mknod fifo');
    }
    const personality = (p: bigint) => verdict('default', arch, 'personality', [p]);
    for (const p of [0n, 8n, 0x20000n, 0x20008n, 0x40000n, 0x40008n, 0xffffffffn]) assert.is(personality(p), ALLOW, `personality 0x${p.toString(16)}`);
    for (const p of [B(C.MMAP_PAGE_ZERO!), B(C.READ_IMPLIES_EXEC!), B(C.ADDR_COMPAT_LAYOUT!), 0x1n]) assert.is(personality(p), EPERM, `personality 0x${p.toString(16)}`);
    assert.is(personality(HIGH | B(C.MMAP_PAGE_ZERO!)), EPERM, 'personality with high bits');
  }
});

test('default: syscalls outside the allowlist get ENOSYS, and exactly the documented ones', () => {
  const omitted: Record<Arch, string[]> = { x86_64: [], aarch64: [] };
  for (const arch of ARCHES) {
    const { decisions } = compilePolicy(loadPolicy('default'), arch);
    omitted[arch] = decisions.filter((d) => !d.fallbackRule && d.conditional.length === 0).map((d) => d.name).sort();
    assert.is(verdict('default', arch, 'lookup_dcookie'), ENOSYS);
  }
  assert.equal(omitted.x86_64, ['_sysctl', 'afs_syscall', 'create_module', 'epoll_ctl_old', 'epoll_wait_old', 'get_kernel_syms', 'getpmsg', 'lookup_dcookie',
    'modify_ldt', 'nfsservctl', 'putpmsg', 'query_module', 'security', 'sysfs', 'tuxcall', 'uselib', 'ustat', 'vserver']);
  assert.equal(omitted.aarch64, ['lookup_dcookie', 'nfsservctl']);
});

test('strict: no ptrace family, only UNIX/INET/INET6 sockets, and the rest of default', () => {
  for (const arch of ARCHES) {
    for (const name of ['ptrace', 'process_vm_readv', 'process_vm_writev', 'pidfd_getfd']) assert.is(verdict('strict', arch, name), EPERM, `${arch} ${name}`);
    for (const af of ['AF_UNIX', 'AF_INET', 'AF_INET6']) assert.is(verdict('strict', arch, 'socket', [B(C[af]!), B(C.SOCK_STREAM!)]), ALLOW, af);
    assert.is(verdict('strict', arch, 'socket', [B(C.AF_NETLINK!)]), EAFNOSUPPORT, 'netlink');
    // strict does not widen with capabilities.
    const all = ['NET_RAW', 'NET_ADMIN'];
    const strictAll = (args: bigint[]) => runFilter(decode(compileSeccompPolicy('strict', arch, all)), { nr: TABLES[arch].socket!, arch: AUDIT[arch], args }).ret;
    assert.is(strictAll([B(C.AF_INET!), B(C.SOCK_RAW!), 1n]), EPERM, 'raw with NET_RAW');
    assert.is(strictAll([B(C.AF_NETLINK!), B(C.SOCK_RAW!), B(C.NETLINK_NETFILTER!)]), EAFNOSUPPORT, 'netfilter with NET_ADMIN');
    assert.is(strictAll([B(C.AF_NETLINK!), B(C.SOCK_RAW!), B(C.NETLINK_ROUTE!)]), EAFNOSUPPORT, 'route with NET_ADMIN');
    assert.is(verdict('strict', arch, 'mknodat', [0n, 0n, B(C.S_IFCHR!)]), EPERM, 'inherits the mknod rule');
    assert.is(verdict('strict', arch, 'personality', [B(C.MMAP_PAGE_ZERO!)]), EPERM, 'inherits the personality rule');
    assert.is(verdict('strict', arch, 'read'), ALLOW);
  }
});

test('default: netlink narrowed to route/diag/audit/uevent, raw sockets only with NET_RAW, all netlink with NET_ADMIN', () => {
  const SOCK_CLOEXEC = 0o2000000, SOCK_NONBLOCK = 0o4000;
  for (const arch of ARCHES) {
    const run = (caps: string[] | undefined, args: bigint[], name = 'socket') => runFilter(decode(compileSeccompPolicy('default', arch, caps)), { nr: TABLES[arch][name]!, arch: AUDIT[arch], args }).ret;
    const nl = (proto: string) => [B(C.AF_NETLINK!), B(C.SOCK_RAW! | SOCK_CLOEXEC), B(C[proto]!)];
    for (const p of ['NETLINK_ROUTE', 'NETLINK_SOCK_DIAG', 'NETLINK_AUDIT', 'NETLINK_KOBJECT_UEVENT']) assert.is(run(undefined, nl(p)), ALLOW, `${arch} ${p}`);
    for (const p of ['NETLINK_NETFILTER', 'NETLINK_XFRM', 'NETLINK_GENERIC', 'NETLINK_CRYPTO', 'NETLINK_CONNECTOR', 'NETLINK_USERSOCK', 'NETLINK_RDMA']) {
      assert.is(run(undefined, nl(p)), EAFNOSUPPORT, `${arch} ${p}`);
      assert.is(run(['NET_ADMIN'], nl(p)), ALLOW, `${arch} ${p} with NET_ADMIN`);
    }
    assert.is(run(undefined, [B(C.AF_NETLINK!), B(C.SOCK_RAW!), B(C.NETLINK_NETFILTER!) | HIGH]), EAFNOSUPPORT, 'the protocol is an int: high bits do not hide netfilter');
    assert.is(run(undefined, [B(C.AF_NETLINK!), B(C.SOCK_RAW!), B(C.NETLINK_ROUTE!) | HIGH]), ALLOW, 'route with high bits is route to the kernel');
    for (const af of ['AF_INET', 'AF_INET6']) {
      for (const t of [C.SOCK_STREAM, C.SOCK_DGRAM, C.SOCK_SEQPACKET, C.SOCK_STREAM! | SOCK_CLOEXEC | SOCK_NONBLOCK, C.SOCK_DGRAM! | SOCK_CLOEXEC]) {
        assert.is(run(undefined, [B(C[af]!), B(t!), 0n]), ALLOW, `${arch} ${af} type ${t}`);
      }
      assert.is(run(undefined, [B(C[af]!), B(C.SOCK_RAW!), 1n]), EPERM, `${arch} ${af} raw`);
      assert.is(run(undefined, [B(C[af]!), B(C.SOCK_RAW! | SOCK_CLOEXEC) | HIGH, 1n]), EPERM, `${arch} ${af} raw with flags and high bits`);
      assert.is(run(['NET_RAW'], [B(C[af]!), B(C.SOCK_RAW!), 1n]), ALLOW, `${arch} ${af} raw with NET_RAW`);
      assert.is(run(undefined, [B(C[af]!), B(C.SOCK_PACKET!), 0n]), EAFNOSUPPORT, `${arch} ${af} SOCK_PACKET`);
    }
    assert.is(run(undefined, [B(C.AF_PACKET!), B(C.SOCK_RAW!), 0x300n]), EAFNOSUPPORT, 'AF_PACKET');
    assert.is(run(['NET_RAW'], [B(C.AF_PACKET!), B(C.SOCK_RAW!), 0x300n]), ALLOW, 'AF_PACKET with NET_RAW');
    assert.is(run(['NET_RAW', 'NET_ADMIN'], [B(C.AF_ALG!), B(C.SOCK_SEQPACKET!), 0n]), EAFNOSUPPORT, 'no capability opens AF_ALG');
    assert.is(run(undefined, [B(C.AF_UNIX!), B(C.SOCK_STREAM!), 0n], 'socketpair'), ALLOW, 'socketpair AF_UNIX');
  }
});

test('ifCaps / unlessCaps: validated, and selected by the command\'s capabilities', async () => {
  const { parsePolicy } = await import('../../policies/seccomp/policy.js');
  const bad = parsePolicy({ version: 1, description: 'x', defaultAction: 'allow', rules: [{ syscalls: ['read'], action: 'allow', ifCaps: ['NET_RAWW'] }, { syscalls: ['write'], action: 'allow', unlessCaps: [] }] }, 'x.json');
  assert.is(bad.policy, undefined);
  assert.ok(bad.problems.some((p) => p.path === '$.rules[0].ifCaps[0]' && /NET_RAW\b/.test(p.hint ?? '')), JSON.stringify(bad.problems));
  assert.ok(bad.problems.some((p) => p.path === '$.rules[1].unlessCaps'));
  assert.equal(loadPolicy('default').capabilities, ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'MKNOD', 'AUDIT_WRITE', 'SETFCAP']);
  assert.not.ok(loadPolicy('default').rules.some((r) => r.ifCaps), 'no ifCaps rule for the default set');
  assert.ok(loadPolicy('default', ['NET_RAW']).rules.some((r) => r.ifCaps?.includes('NET_RAW')));
  assert.not.ok(loadPolicy('default', ['NET_RAW']).rules.some((r) => r.unlessCaps?.includes('NET_RAW')));
});

test('permissive: default allow, unusual families and obsolete syscalls pass', () => {
  for (const arch of ARCHES) {
    assert.is(verdict('permissive', arch, 'socket', [B(C.AF_PACKET!)]), ALLOW);
    assert.is(verdict('permissive', arch, 'mknodat', [0n, 0n, B(C.S_IFCHR!)]), ALLOW);
    assert.is(verdict('permissive', arch, 'lookup_dcookie'), ALLOW);
    assert.is(runFilter(decode(compileSeccompPolicy('permissive', arch)), { nr: 4000, arch: AUDIT[arch] }).ret, ALLOW, 'unknown numbers');
  }
});

test('compileSeccompPolicy defaults to the host architecture and produces what the kernel expects', () => {
  const host: Arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  const bytes = compileSeccompPolicy('default');
  assert.ok(Buffer.isBuffer(bytes));
  assert.is(bytes.length % 8, 0);
  assert.ok(bytes.length / 8 <= 4096);
  assert.equal(bytes, compileSeccompPolicy('default', host));
  // First instruction: BPF_LD|BPF_W|BPF_ABS of seccomp_data.arch (offset 4).
  assert.is(bytes.toString('hex', 0, 8), '2000000004000000');
});

test('user policies: paths, extends relative to the file, override semantics, and precise errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-policy-'));
  try {
    const base = join(dir, 'base.json');
    writeFileSync(base, JSON.stringify({ version: 1, description: 'b', defaultAction: { errno: 'EPERM' }, rules: [
      { syscalls: ['read', 'write'], action: 'allow' },
      { syscalls: ['getpid'], action: 'kill-process' },
    ] }));
    const mine = join(dir, 'mine.json');
    writeFileSync(mine, JSON.stringify({ version: 1, description: 'm', extends: './base.json', rules: [{ syscalls: ['write'], action: 'log' }] }));
    const p = loadPolicy(mine);
    assert.equal(p.chain, [mine, base]);
    assert.equal(p.defaultAction, { kind: 'errno', errno: 1 });
    const { program } = compilePolicy(p, 'x86_64');
    const at = (name: string) => runFilter(program, { nr: TABLES.x86_64[name]!, arch: AUDIT.x86_64 }).ret;
    assert.is(at('write'), 0x7ffc0000, 'the extending policy takes over write');
    assert.is(at('read'), ALLOW, 'read keeps the base rule');
    assert.is(at('getpid'), 0x80000000);
    assert.is(at('close'), EPERM);

    const loop = join(dir, 'loop.json');
    writeFileSync(loop, JSON.stringify({ version: 1, description: 'l', extends: './loop.json', rules: [] }));
    assert.throws(() => loadPolicy(loop), (e: Error) => e instanceof PolicyError && /extends itself/.test(e.message));

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ version: 1, description: 'x', defaultAction: 'allow', rules: [
      { syscalls: ['reed'], action: 'allow' },
      { syscalls: ['ioctl'], action: { errno: 'EPREM' }, args: [{ index: 1, op: 'eq', value: 'TIOCSIT', width: 32 }] },
      { syscalls: ['clone'], action: 'allow', args: [{ index: 0, op: 'masked', value: 1, mask: 1 }] },
      { syscalls: ['read'], action: 'allow', args: [{ index: 0, op: 'eq', value: 0x100000000, width: 32 }] },
    ] }));
    try {
      loadPolicy(bad);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, PolicyError);
      const err = e as PolicyError;
      assert.is(err.exitCode, 125);
      const lines = err.message.split('\n');
      assert.match(lines[0]!, `${bad}: $.rules[0].syscalls[0]: unknown syscall 'reed' (did you mean read`);
      assert.ok(lines.some((l) => l.includes("$.rules[1].action.errno: unknown errno 'EPREM' (did you mean EPERM")), err.message);
      assert.ok(lines.some((l) => l.includes("$.rules[1].args[0].value: unknown constant 'TIOCSIT' (did you mean TIOCSTI")), err.message);
      assert.ok(lines.some((l) => l.includes("$.rules[2].args[0].op: unknown operator 'masked' (did you mean masked-eq")), err.message);
      assert.ok(lines.some((l) => l.includes('$.rules[3].args[0].value: 4294967296 does not fit in 32 bits')), err.message);
    }
    assert.throws(() => loadPolicy(join(dir, 'missing.json')), /missing\.json: no such file/);
    writeFileSync(join(dir, 'broken.json'), '{\n  "version": 1,\n  "rules": [,]\n}');
    assert.throws(() => loadPolicy(join(dir, 'broken.json')), /broken\.json: invalid JSON: Unexpected token/);
    assert.throws(() => loadPolicy('strcit'), /no shipped seccomp policy called 'strcit' \(did you mean strict\?\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
