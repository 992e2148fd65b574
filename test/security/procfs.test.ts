// procfs and sysfs from inside: kernel tunables and triggers refuse writes, and the files
// Docker masks read as empty. Every write is checked twice: it fails inside, and the host
// value is unchanged afterwards.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { makeStore, sbx, removeStore } from '../helpers/sbx.js';

const store = makeStore();
test.after(() => { removeStore(store); });

const TUNABLES = [
  '/proc/sys/kernel/core_pattern',
  '/proc/sys/kernel/sysrq',
  '/proc/sys/vm/drop_caches',
  '/proc/sys/kernel/hostname',
  '/proc/sys/net/ipv4/ip_forward',
  '/proc/sysrq-trigger',
  '/sys/kernel/mm/transparent_hugepage/enabled',
  '/sys/class/net/lo/mtu',
  '/sys/fs/cgroup/cgroup.procs',
];

function hostValue(p: string): string | null {
  try { return readFileSync(p, 'utf8'); } catch { return null; }
}

test('writes to /proc/sys, /proc/sysrq-trigger, core_pattern and /sys are refused', () => {
  const before = TUNABLES.map(hostValue);
  const script = TUNABLES.map((p) => `if echo '|/tmp/sbx-pwned %p' > ${p} 2>/dev/null; then echo "WROTE ${p}"; else echo "refused ${p}"; fi`).join('\n');
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', script], { store });
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stdout, 'WROTE', r.stdout);
  assert.is(r.stdout.split('\n').filter((l) => l.startsWith('refused')).length, TUNABLES.length);
  assert.equal(TUNABLES.map(hostValue), before, 'a host tunable changed');
});

test('root inside cannot remount /proc/sys or /sys writable (default policy)', () => {
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c',
    'mount -o remount,rw /proc/sys 2>/dev/null && echo REMOUNTED-proc; mount -o remount,rw /sys 2>/dev/null && echo REMOUNTED-sys; umount -l /proc/sys 2>/dev/null && echo UNMOUNTED; umount -l /proc/keys 2>/dev/null && echo UNMASKED; echo done'], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'done\n', r.stdout);
});

test('without the filter, host-wide tunables still refuse root inside (the kernel checks the host namespace)', () => {
  // --no-seccomp lets root inside unmount its own read-only /proc/sys (those mounts belong to
  // the sandbox's user namespace, so they are not locked): documented in docs/security.md.
  // What protects the host then is that these tunables need capabilities in the host's user
  // namespace.
  const global = ['/proc/sys/kernel/core_pattern', '/proc/sys/kernel/sysrq', '/proc/sys/vm/drop_caches', '/proc/sys/kernel/modprobe'];
  const before = global.map(hostValue);
  const r = sbx(['run', '-n', '-q', '--no-seccomp', '--', 'sh', '-c',
    `umount -l /proc/sys 2>/dev/null; ${global.map((p) => `echo '|/tmp/sbx-pwned' > ${p} 2>/dev/null && echo "WROTE ${p}"`).join('; ')}; echo done`], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'done\n', r.stdout);
  assert.equal(global.map(hostValue), before);
});

test('kernel internals are masked: kcore, keys, timer_list, sched_debug, sysrq-trigger, /sys/firmware', () => {
  const files = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/sysrq-trigger'].filter((p) => existsSync(p));
  assert.ok(files.length >= 2, `control: the host has some of them (${files})`);
  const script = files.map((p) => `printf '%s %s\\n' ${p} "$(head -c 64 ${p} 2>/dev/null | wc -c)"`).join('; ') +
    '; printf "firmware %s\\n" "$(ls -A /sys/firmware 2>/dev/null | wc -l)"';
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', script], { store });
  assert.is(r.code, 0, r.stderr);
  for (const f of files) assert.match(r.stdout, `${f} 0\n`, `${f} is readable inside:\n${r.stdout}`);
  if (existsSync('/sys/firmware')) {
    assert.ok(readdirSync('/sys/firmware').length > 0, 'control: /sys/firmware has entries on the host');
    assert.match(r.stdout, 'firmware 0\n');
  }
});

test('/proc shows the sandbox, not the host: no host mountinfo or environ', () => {
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', `grep -c . /proc/1/mountinfo >/dev/null && echo has-mountinfo; grep -l SBX_HOME /proc/[0-9]*/environ 2>/dev/null | head -1; cat /proc/1/cmdline | tr '\\0' ' '`], { store });
  assert.is(r.code, 0, r.stderr);
  // pid 1 inside is sbx's init; nothing of the test's environment (SBX_HOME) is visible.
  assert.not.match(r.stdout, 'environ');
  assert.not.match(r.stdout, store);
});

test.run();
