// Terminal injection under a real pty: TIOCSTI and TIOCLINUX (also with bit 32 of the ioctl
// command set, which the kernel drops) must push nothing into the input of the terminal sbx
// runs in. A control run of the same probe outside sbx shows the harness does see injection.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';

import { SBX, makeStore, removeStore } from '../helpers/sbx.js';
import { compileC, probeResults, removeCompiled } from '../helpers/native.js';

const store = makeStore();
let probe = '';
test.before(() => { probe = compileC('probe'); });
test.after(() => { removeCompiled(); removeStore(store); });

// Runs argv with the slave of a fresh pty as its controlling terminal and stdin (and stdout in
// 'pty' mode), then reports what is left unread in that terminal's input queue.
const HARNESS = `
import fcntl, json, os, pty, select, subprocess, sys, termios
mode, argv = sys.argv[1], sys.argv[2:]
master, slave = pty.openpty()
def pre():
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
p = subprocess.Popen(argv, stdin=slave, stdout=slave if mode == 'pty' else subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=pre)
out = b''
import threading
pipe_out = []
if mode != 'pty':
    t = threading.Thread(target=lambda: pipe_out.append(p.stdout.read())); t.start()
err = []
te = threading.Thread(target=lambda: err.append(p.stderr.read())); te.start()
while p.poll() is None:
    r, _, _ = select.select([master], [], [], 0.2)
    if r:
        try: out += os.read(master, 65536)
        except OSError: break
p.wait()
te.join()
if mode != 'pty': t.join(); out = pipe_out[0]
while select.select([master], [], [], 0)[0]:
    try:
        b = os.read(master, 65536)
    except OSError: break
    if not b: break
    if mode == 'pty': out += b
attrs = termios.tcgetattr(slave)
attrs[3] &= ~(termios.ICANON | termios.ECHO)
attrs[6][termios.VMIN] = 0; attrs[6][termios.VTIME] = 0
termios.tcsetattr(slave, termios.TCSANOW, attrs)
pending = b''
while True:
    b = os.read(slave, 4096)
    if not b: break
    pending += b
print(json.dumps({'code': p.returncode, 'out': out.decode('latin1'), 'err': err[0].decode('latin1'), 'pending': pending.decode('latin1')}))
`;

const PROBES = ['tiocsti-fd0', 'tiocsti-hi-fd0', 'tiocsti-fd1', 'tiocsti-fd2', 'tiocsti-devtty', 'tioclinux-fd0', 'tioclinux-hi-fd0'];

function underPty(mode: 'pty' | 'half', argv: string[]): { code: number; out: string; err: string; pending: string } {
  const r = spawnSync('/usr/bin/python3', ['-c', HARNESS, mode, ...argv], { encoding: 'utf8', env: { ...process.env, SBX_HOME: store, NO_COLOR: '1' } });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('control: outside sbx the harness sees TIOCSTI land in the terminal input', () => {
  const r = underPty('half', [probe, 'tiocsti-fd0']);
  assert.is(probeResults(r.out).get('tiocsti-fd0'), 'ok');
  assert.match(r.pending, 'SBX-INJECTED');
});

for (const mode of ['pty', 'half'] as const) {
  for (const policy of [['--policy', 'default'], ['--no-seccomp']]) {
    test(`nothing reaches the host terminal (${mode === 'pty' ? 'stdin and stdout a tty' : 'stdin a tty, stdout a pipe'}, ${policy.join(' ')})`, () => {
      const r = underPty(mode, [process.execPath, SBX, 'run', '-n', '-q', ...policy, '--', probe, ...PROBES]);
      assert.is(r.code, 0, r.err);
      assert.not.match(r.pending, 'SBX-INJECTED', `injected: ${JSON.stringify(r.pending)}`);
      const got = probeResults(r.out.replace(/\r/g, ''));
      for (const p of PROBES) assert.ok(got.has(p), `${p} did not run: ${r.out}`);
      if (policy[0] === '--policy') {
        // The filter refuses both ioctls on every fd, high bits or not.
        for (const p of PROBES.filter((x) => x !== 'tiocsti-devtty' || mode === 'pty')) assert.is(got.get(p), 'EPERM', `${p}: ${got.get(p)}`);
      }
    });
  }
}

test.run();
