// What an ordinary user's command asks of the fuse-overlayfs daemon under `/`, counted with the
// kernel's fuse:fuse_request_send tracepoint: in a tracing instance of this file's own, with
// tracefs mounted (when the host has not) in a mount namespace of its own, so the host's
// mounts do not move for the runs beside it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { IS_ROOT, USER_SBX, testUserCanRunSbx } from '../helpers/sbx.js';
import { makeUserStore } from '../helpers/host-moves.js';
import { ROOT_CASE, testUnless } from '../helpers/skip.js';
import { CANARY } from '../helpers/canary-name.js';

const TRACING = '/sys/kernel/tracing';
const userCanRunSbx = testUserCanRunSbx();
const why = ROOT_CASE ?? (!userCanRunSbx ? 'the test user sbxtest cannot run this build'
  : !existsSync('/sys/kernel') ? 'no /sys/kernel here' : null);
const shq = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

/** The fuse requests, by opcode, that processes named `comm` sent while `inner` (a shell command) ran. */
function requestsOf(comm: string, inner: string): Map<string, number> {
  const inst = `${TRACING}/instances/sbx-test-${process.pid}`;
  const script = `set -e; [ -d ${TRACING}/events ] || mount -t tracefs nodev ${TRACING}; `
    + `mkdir ${inst}; trap 'rmdir ${inst}' EXIT; echo 4096 > ${inst}/buffer_size_kb; `
    + `echo 1 > ${inst}/events/fuse/fuse_request_send/enable; ${inner} >&2; `
    + `echo 0 > ${inst}/events/fuse/fuse_request_send/enable; cat ${inst}/trace`;
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
  assert.is(r.status, 0, r.stderr);
  const ops = new Map<string, number>();
  // A trace line: the task (comm-pid), its CPU, flags, time, then the event.
  for (const m of r.stdout.matchAll(/^\s*(\S+)-\d+\s.*fuse_request_send: connection \d+ req \d+ opcode \d+ \(FUSE_(\w+)\)/gm)) {
    if (m[1] === comm) ops.set(m[2]!, (ops.get(m[2]!) ?? 0) + 1);
  }
  return ops;
}

// The kernel asks a FUSE daemon for a link's target at every path walk through the link unless
// the daemon asked it to keep them at start (FUSE_CAP_CACHE_SYMLINKS), which fuse-overlayfs
// 1.10 does not; sbx's preload does (native/preload/fuse-noplus.c).
testUnless(why, { missing: IS_ROOT })('root: an ordinary user\'s 200 readlinks of one host link are not 200 requests to the daemon: the kernel keeps the target', () => {
  const dir = mkdtempSync(`/opt/${CANARY}`);
  const userStore = makeUserStore();
  try {
    symlinkSync('target-a', join(dir, 'link'));
    chmodSync(dir, 0o755);
    // Named so its requests are told from those of the runs beside this file (prctl PR_SET_NAME;
    // the trace names a task by its last name, so its earlier requests are counted too).
    const comm = `sbxrl${process.pid}`;
    const py = `import ctypes, os\nctypes.CDLL(None).prctl(15, b"${comm}", 0, 0, 0)\nfor i in range(200): assert os.readlink(${JSON.stringify(join(dir, 'link'))}) == "target-a"`;
    const inner = ['setpriv', '--reuid', 'sbxtest', '--regid', 'sbxtest', '--init-groups', '--reset-env', 'env', `SBX_HOME=${userStore}`, 'HOME=/home/sbxtest', 'PATH=/usr/bin:/bin',
      process.execPath, USER_SBX, 'run', '-n', '-q', '--', 'python3', '-S', '-c', py].map(shq).join(' ');
    const ops = requestsOf(comm, `cd / && ${inner}`);
    // Its LOOKUPs show its requests were seen (python's start among them: its own links, ~10,
    // each read once); a READLINK per readlink would be 200 more.
    assert.ok((ops.get('LOOKUP') ?? 0) > 0, `no request of ${comm} traced: ${JSON.stringify([...ops])}`);
    assert.ok((ops.get('READLINK') ?? 0) < 50, `${comm} sent ${ops.get('READLINK')} READLINK requests: ${JSON.stringify([...ops])}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(userStore, { recursive: true, force: true });
  }
});

test.run();
