// The shipped seccomp policies in real sandboxes: each denial is really refused by the kernel
// with the documented errno, and ordinary programs still work under `default`. Every probe is
// also run with --no-seccomp once, to show the probe itself can tell a filter from none.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, chmodSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sbx, makeStore, removeStore } from '../helpers/sbx.js';

const store = makeStore();
const dir = mkdtempSync(join(tmpdir(), 'sbx-seccomp-'));
chmodSync(dir, 0o755);
const PROBE = join(dir, 'probe.py');

// Raw syscalls through ctypes, so libc wrappers cannot hide or retry anything. Prints the errno
// of each call (0 = it succeeded). Numbers per architecture, from the kernel's tables.
writeFileSync(PROBE, `
import ctypes, os, json
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR = {'x86_64': dict(keyctl=250, add_key=248, request_key=249, bpf=321, io_uring_setup=425, perf_event_open=298, userfaultfd=323, clone=56, clone3=435,
                     setns=308, unshare=272, mount=165, open_by_handle_at=304, ioctl=16, personality=135, socket=41, mknodat=259, ptrace=101, init_module=175),
      'aarch64': dict(keyctl=219, add_key=217, request_key=218, bpf=280, io_uring_setup=425, perf_event_open=241, userfaultfd=282, clone=220, clone3=435,
                      setns=268, unshare=97, mount=40, open_by_handle_at=265, ioctl=29, personality=92, socket=198, mknodat=33, ptrace=117, init_module=105)}[os.uname().machine]
buf = ctypes.create_string_buffer(256)
ch = ctypes.c_char(b'x')
path = ctypes.create_string_buffer(b'/tmp/sbx-probe-fifo')
CALLS = {
  'keyctl': ('keyctl', 0, 0), 'add_key': ('add_key', 0, 0, 0, 0, 0), 'request_key': ('request_key', 0, 0, 0, 0),
  'bpf': ('bpf', 0, ctypes.addressof(buf), 0), 'io_uring_setup': ('io_uring_setup', 8, ctypes.addressof(buf)),
  'perf_event_open': ('perf_event_open', ctypes.addressof(buf), 0, -1, -1, 0), 'userfaultfd': ('userfaultfd', 0),
  'init_module': ('init_module', 0, 0, 0),
  'clone_newuser': ('clone', 0x10000000 | 17, 0, 0, 0, 0), 'clone_newns': ('clone', 0x00020000 | 17, 0, 0, 0, 0),
  'clone_fork': ('clone', 17, 0, 0, 0, 0), 'clone3': ('clone3', ctypes.addressof(buf), 88),
  'setns': ('setns', 0, 0), 'unshare_user': ('unshare', 0x10000000), 'mount': ('mount', 0, 0, 0, 0, 0),
  'open_by_handle_at': ('open_by_handle_at', 0, ctypes.addressof(buf), 0),
  'tiocsti': ('ioctl', 0, 0x5412, ctypes.addressof(ch)), 'tiocsti_high': ('ioctl', 0, 0x5412 | (1 << 32), ctypes.addressof(ch)),
  'tiocgwinsz': ('ioctl', 0, 0x5413, ctypes.addressof(buf)),
  'personality_page_zero': ('personality', 0x0100000), 'personality_query': ('personality', 0xffffffff),
  'socket_packet': ('socket', 17, 3, 0), 'socket_alg': ('socket', 38, 5, 0), 'socket_netlink': ('socket', 16, 3, 0), 'socket_inet': ('socket', 2, 1, 0),
  'mknod_fifo': ('mknodat', -100, ctypes.addressof(path), 0o10600, 0),
  'ptrace_bad_request': ('ptrace', 0xffff, 0, 0, 0),
}
out = {}
for key, (name, *args) in CALLS.items():
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_ulong(NR[name]), *[ctypes.c_ulong(a & 0xffffffffffffffff) for a in args])
    e = ctypes.get_errno()
    if name == 'clone' and r == 0:
        os._exit(0)
    if name == 'clone' and r > 0:
        os.waitpid(r, 0)
    out[key] = 0 if r >= 0 else e
print(json.dumps(out))
`);
chmodSync(PROBE, 0o644);

const EPERM = 1;
const ESRCH = 3;
const EIO = 5;
const ENOSYS = 38;
const EAFNOSUPPORT = 97;

function probe(policyArgs: string[]): Record<string, number> {
  // stdin is /dev/null-like in the sandbox, so an allowed TIOCSTI would fail with ENOTTY, not EPERM.
  const r = sbx(['run', '-n', '-q', ...policyArgs, '--', '/usr/bin/python3', PROBE], { store });
  assert.is(r.code, 0, `probe exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

function run(cmd: string[], extra: string[] = []) {
  return sbx(['run', '-n', '-q', ...extra, '--', ...cmd], { store, timeoutMs: 120_000 });
}

test('the probe tells a filter from none: without seccomp the namespace and io_uring calls are not EPERM/ENOSYS', () => {
  const none = probe(['--no-seccomp']);
  assert.is.not(none.tiocsti, EPERM, 'TIOCSTI on a non-terminal is ENOTTY without a filter');
  assert.is.not(none.io_uring_setup, ENOSYS);
  assert.is(none.clone_fork, 0);
  assert.is.not(none.personality_page_zero, EPERM);
});

test('default: every escape-class syscall is refused with the documented errno', () => {
  const r = probe([]);
  const want: Record<string, number> = {
    keyctl: EPERM, add_key: EPERM, request_key: EPERM, bpf: EPERM, perf_event_open: EPERM, userfaultfd: EPERM, init_module: EPERM,
    io_uring_setup: ENOSYS, clone3: ENOSYS,
    clone_newuser: EPERM, clone_newns: EPERM, setns: EPERM, unshare_user: EPERM, mount: EPERM, open_by_handle_at: EPERM,
    tiocsti: EPERM, tiocsti_high: EPERM, personality_page_zero: EPERM,
    socket_packet: EAFNOSUPPORT, socket_alg: EAFNOSUPPORT,
  };
  for (const [k, v] of Object.entries(want)) assert.is(r[k], v, k);
  // Allowed: plain fork, the personality query, ordinary sockets, FIFOs, ptrace (which then
  // fails on its own terms: a bad request is EIO or ESRCH, never EPERM).
  assert.is(r.clone_fork, 0, 'clone without namespace flags');
  assert.is(r.personality_query, 0);
  assert.is(r.socket_inet, 0);
  assert.is(r.socket_netlink, 0);
  assert.is(r.mknod_fifo, 0);
  assert.ok([ESRCH, EIO].includes(r.ptrace_bad_request!), `ptrace: ${r.ptrace_bad_request}`);
});

test('strict: ptrace and netlink are refused too', () => {
  const r = probe(['--policy', 'strict']);
  assert.is(r.ptrace_bad_request, EPERM);
  assert.is(r.socket_netlink, EAFNOSUPPORT);
  assert.is(r.socket_inet, 0);
  assert.is(r.clone_newuser, EPERM);
});

test('permissive: unusual families pass, escapes stay refused', () => {
  const r = probe(['--policy', 'permissive']);
  assert.is.not(r.socket_packet, EAFNOSUPPORT);
  assert.is(r.clone_newuser, EPERM);
  assert.is(r.mount, EPERM);
  assert.is(r.tiocsti_high, EPERM);
});

test('a user policy file is loaded, and a bad one stops sbx with 125 before anything runs', () => {
  const mine = join(dir, 'mine.json');
  writeFileSync(mine, JSON.stringify({ version: 1, description: 'no uname', extends: 'default', rules: [{ syscalls: ['uname'], action: { errno: 'EACCES' } }] }));
  chmodSync(mine, 0o644);
  const r = run(['/usr/bin/python3', '-c', 'import os\ntry:\n  os.uname()\nexcept OSError as e:\n  print(e.errno)'], ['--policy', mine]);
  assert.is(r.stdout.trim(), '13', r.stderr);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ version: 1, description: 'x', defaultAction: 'allow', rules: [{ syscalls: ['unmae'], action: 'allow' }] }));
  chmodSync(bad, 0o644);
  const marker = join(dir, 'ran');
  const b = run(['touch', marker], ['--policy', bad]);
  assert.is(b.code, 125);
  assert.match(b.stderr, "$.rules[0].syscalls[0]: unknown syscall 'unmae' (did you mean uname");
  assert.not.ok(existsSync(marker));
});

test('default: unshare and mount(8) fail inside the sandbox', () => {
  const u = run(['unshare', '-U', 'true']);
  assert.is.not(u.code, 0);
  assert.match(u.stdout + u.stderr, /Operation not permitted/, JSON.stringify(u));
  const m = run(['mount', '-t', 'tmpfs', 'x', '/mnt']);
  assert.is.not(m.code, 0);
});

const WORKS: Array<[string, string[]]> = [
  ['bash', ['bash', '-c', 'x=$(echo ok); [ "$x" = ok ] && echo ok']],
  ['coreutils', ['sh', '-c', 'cd /tmp && mkdir -p d && cp /etc/hostname d/h && ls d | sort | head -1 && stat -c %s d/h >/dev/null && rm -r d && echo ok']],
  ['python3', ['/usr/bin/python3', '-c', 'import subprocess, threading, socket; t = threading.Thread(target=print, args=("ok",)); t.start(); t.join()']],
  ['node (io_uring refused, libuv falls back)', [process.execPath, '-e', 'require("fs").promises.readFile("/etc/hostname").then(() => require("child_process").execFileSync("true")).then(() => console.log("ok"))']],
  ['git', ['sh', '-c', 'cd /tmp && git --version >/dev/null && git init -q r && cd r && git -c user.email=a@b -c user.name=a commit -q --allow-empty -m x && echo ok']],
  ['tar', ['sh', '-c', 'cd /tmp && mkdir t && echo x > t/f && tar czf t.tgz t && rm -r t && tar xzf t.tgz && cat t/f >/dev/null && echo ok']],
  ['gcc and make', ['sh', '-c', 'cd /tmp && printf "#include <stdio.h>\\nint main(void){puts(\\"ok\\");return 0;}\\n" > h.c && printf "h: h.c\\n\\tgcc -O1 -o h h.c\\n" > Makefile && make -s && ./h']],
  ['strace', ['sh', '-c', 'strace -f -o /dev/null true && echo ok']],
  ['apt-get (simulate)', ['sh', '-c', 'apt-get -s -qq check && echo ok']],
];

for (const [name, cmd] of WORKS) {
  test(`default: ${name} works`, () => {
    if (cmd[0] === 'strace' || cmd[2]?.startsWith('strace')) {
      if (!existsSync('/usr/bin/strace')) return console.log('  (strace not installed)');
    }
    const r = run(cmd);
    assert.is(r.code, 0, `${name}: exit ${r.code}\n${r.stderr}`);
    assert.is(r.stdout.trim().split('\n').pop(), 'ok', r.stdout + r.stderr);
  });
}

test.after(() => {
  rmSync(dir, { recursive: true, force: true });
  removeStore(store);
});

test.run();
