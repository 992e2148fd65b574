// The one pty harness: runs sbx on a real terminal (python3's pty module is the driver, as
// Node has no pty of its own) and answers its questions in order.
import { spawnSync } from 'node:child_process';
import { SBX } from './sbx.js';

// For each [expect, answer] pair: waits until `expect` appears after the previous answer's
// prompt, then types `answer`. Stops when the program ends or after the deadline.
const DRIVER = `
import os, pty, sys, time, select, json
steps = json.loads(sys.argv[1])
deadline = time.time() + float(sys.argv[2])
argv = sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out = b''
seen = 0
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
    if steps and steps[0][0].encode() in out[seen:]:
        seen = out.index(steps[0][0].encode(), seen) + 1
        os.write(fd, steps[0][1].encode())
        steps.pop(0)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode('utf-8', 'replace'))
sys.exit(os.waitstatus_to_exitcode(status))
`;

export type PtyStep = [expect: string, answer: string];

export interface PtyResult {
  /** sbx's exit status (null if the harness itself was killed). */
  code: number | null;
  /** Everything the terminal showed (stdout and stderr together, with \r\n line ends). */
  out: string;
}

/**
 * Runs `sbx ARGS` on a pty with SBX_HOME=store. `argv` replaces sbx when given (e.g. a shell
 * pipeline that ends in sbx, to run it with stdin a pipe and the terminal still /dev/tty).
 */
export function underPty(steps: PtyStep[], args: string[], opts: { store: string; argv?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number }): PtyResult {
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const argv = opts.argv ?? [process.execPath, SBX, ...args];
  const r = spawnSync('python3', ['-c', DRIVER, JSON.stringify(steps), String(timeoutMs / 1000), ...argv], {
    encoding: 'utf8', env: { ...process.env, SBX_HOME: opts.store, NO_COLOR: '1', TERM: 'xterm', ...opts.env }, timeout: timeoutMs + 30_000,
  });
  return { code: r.status, out: r.stdout };
}
