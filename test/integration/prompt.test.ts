// The post-run prompt on a real terminal (a pty driven by python3): nothing is committed
// without an explicit answer, "k" keeps, "d" discards, "s" saves.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeCanary, makeStore, proveIsolation, removeCanary, SBX } from '../helpers/sbx.js';

const store = makeStore();
let canary = '';
test.before.each(() => { canary = makeCanary(); });
test.after.each(() => removeCanary(canary));
test.after(() => rmSync(store, { recursive: true, force: true }));

// Runs argv under a pty, waits for `expect` in the output, then types `answer`.
const DRIVER = `
import os, pty, sys, time, select
argv = sys.argv[3:]
expect, answer = sys.argv[1].encode(), sys.argv[2].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out = b''
sent = False
deadline = time.time() + 60
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if fd in r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    if not sent and expect in out:
        os.write(fd, answer)
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode('utf-8', 'replace'))
sys.exit(os.waitstatus_to_exitcode(status))
`;

function underPty(expect: string, answer: string, args: string[]) {
  const r = spawnSync('python3', ['-c', DRIVER, expect, answer, process.execPath, SBX, ...args], {
    encoding: 'utf8', env: { ...process.env, SBX_HOME: store, NO_COLOR: '1', TERM: 'xterm' }, timeout: 90_000,
  });
  return { code: r.status, out: r.stdout };
}

test('k keeps the changes on the host', () => {
  proveIsolation(canary, store);
  const r = underPty('Keep these changes?', 'k\n', ['run', '--', 'sh', '-c', `echo kept > ${canary}/new.txt`]);
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /added:\s+.*new\.txt/);
  assert.is(readFileSync(join(canary, 'new.txt'), 'utf8'), 'kept\n');
});

test('d discards: the host is untouched and the sandbox is gone', () => {
  const r = underPty('Keep these changes?', 'd\n', ['run', '--', 'sh', '-c', `echo nope > ${canary}/new.txt; exit 4`]);
  assert.is(r.code, 4, r.out);
  assert.not.ok(existsSync(join(canary, 'new.txt')));
  const ls = spawnSync(process.execPath, [SBX, 'ls', '--json'], { encoding: 'utf8', env: { ...process.env, SBX_HOME: store } });
  assert.equal(JSON.parse(ls.stdout), []);
});

test('s saves for later; the change is still only in the sandbox', () => {
  const r = underPty('Keep these changes?', 's\n', ['run', '--name', 'later', '--', 'sh', '-c', `echo later > ${canary}/new.txt`]);
  assert.is(r.code, 0, r.out);
  assert.not.ok(existsSync(join(canary, 'new.txt')));
  const diff = spawnSync(process.execPath, [SBX, 'diff', 'later', '--name-only'], { encoding: 'utf8', env: { ...process.env, SBX_HOME: store } });
  assert.match(diff.stdout, /new\.txt/);
  spawnSync(process.execPath, [SBX, 'discard', 'later'], { env: { ...process.env, SBX_HOME: store } });
});

test.run();
