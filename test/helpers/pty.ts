// The one pty harness: runs sbx on a real terminal (python3's pty module is the driver, as
// Node has no pty of its own) and answers its questions in order.
import { spawn, spawnSync } from 'node:child_process';
import { SBX } from './sbx.js';

// The drivers need only Python's standard library: -S skips the site module, which imports
// what site-packages' .pth files name (~50 ms of every start here: a pyenv Python whose .pth
// files import certifi; ~4 ms with Debian's), at each of the suite's pty runs.
const PY = ['-S', '-c'];

// For each [expect, answer] pair: waits until `expect` appears after the previous answer's
// prompt, then types `answer` (with a third item, a path: only once that file exists; with a
// fourth, that many seconds later). Stops when the program ends or after the deadline.
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
    if steps and steps[0][0].encode() in out[seen:] and (len(steps[0]) < 3 or not steps[0][2] or os.path.exists(steps[0][2])):
        seen = out.index(steps[0][0].encode(), seen) + 1
        if len(steps[0]) > 3:
            time.sleep(steps[0][3])
        os.write(fd, steps[0][1].encode())
        steps.pop(0)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode('utf-8', 'replace'))
sys.exit(os.waitstatus_to_exitcode(status))
`;

export type PtyStep = [expect: string, answer: string, gate?: string, delaySeconds?: number];

export interface PtyResult {
  /** sbx's exit status (null if the harness itself was killed). */
  code: number | null;
  /** Everything the terminal showed (stdout and stderr together, with \r\n line ends). */
  out: string;
}

/** underPty, not waiting: the test does other things while sbx waits at a gated step. */
export function underPtyAsync(steps: PtyStep[], args: string[], opts: { store: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<PtyResult> {
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const child = spawn('python3', [...PY, DRIVER, JSON.stringify(steps), String(timeoutMs / 1000), process.execPath, SBX, ...args], {
    env: { ...process.env, SBX_HOME: opts.store, NO_COLOR: '1', TERM: 'xterm', ...opts.env }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 30_000);
  return new Promise((resolve) => child.on('close', (code) => { clearTimeout(kill); resolve({ code, out }); }));
}

/**
 * Runs `sbx ARGS` on a pty with SBX_HOME=store. `argv` replaces sbx when given (e.g. a shell
 * pipeline that ends in sbx, to run it with stdin a pipe and the terminal still /dev/tty).
 */
export function underPty(steps: PtyStep[], args: string[], opts: { store: string; argv?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number }): PtyResult {
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const argv = opts.argv ?? [process.execPath, SBX, ...args];
  const r = spawnSync('python3', [...PY, DRIVER, JSON.stringify(steps), String(timeoutMs / 1000), ...argv], {
    encoding: 'utf8', env: { ...process.env, SBX_HOME: opts.store, NO_COLOR: '1', TERM: 'xterm', ...opts.env }, timeout: timeoutMs + 30_000,
  });
  return { code: r.status, out: r.stdout };
}

// A job-control shell (bash -i) on a pty, driven by a script of actions. `tree` records the
// processes below the shell then (pid and cgroup); at the end the driver says which are alive.
const SHELL_DRIVER = `
import os, pty, sys, time, select, json
actions = json.loads(sys.argv[1])
deadline = time.time() + float(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execvp('bash', ['bash', '--norc', '--noprofile', '-i'])
out = b''
seen = 0  # where the next expect looks from: after what the last one matched
marks = {}
tree = {}
failed = None
def read_until(t, want):
    global out, seen
    end = min(time.time() + t, deadline)
    while time.time() < end:
        if want is not None and want in out[seen:]:
            seen = out.index(want, seen) + len(want)
            return True
        r, _, _ = select.select([fd], [], [], 0.05)
        if fd in r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                return False
            if not d:
                return False
            out += d
    if want is None:
        seen = len(out)
    return want is None
def descendants(root):
    kids = {}
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            st = open('/proc/%s/stat' % p).read()
        except OSError:
            continue
        ppid = int(st[st.rindex(')') + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(p))
    found, todo = [], [root]
    while todo:
        for k in kids.get(todo.pop(), []):
            found.append(k)
            todo.append(k)
    return found
def alive_in(pids):
    left = []
    for p in pids:
        try:
            st = open('/proc/%d/stat' % p).read()
            if st[st.rindex(')') + 2] != 'Z':
                left.append(p)
        except OSError:
            pass
    return left
# Set here, not inherited: bash may take its prompt from elsewhere. Typed once bash has written
# its first prompt (it reads the terminal by then), not after a fixed wait.
end = time.time() + 10
while not out and time.time() < end:
    read_until(0.05, None)
os.write(fd, b"PS1='PROMPT''$ '\\n")
read_until(10, b'PROMPT$ ')
for action in actions:
    kind, arg = action[0], action[1] if len(action) > 1 else None
    if kind == 'send':
        os.write(fd, arg.encode())
    elif kind == 'expect':
        if not read_until(60, arg.encode()):
            failed = 'never saw ' + json.dumps(arg)
            break
    elif kind == 'pause':
        read_until(float(arg), None)
    elif kind == 'mark':
        marks[arg] = seen
    elif kind == 'gone':
        # Until the processes the last 'tree' saw have ended (a zombie has): no fixed pause.
        end = min(time.time() + float(arg), deadline)
        while alive_in(tree) and time.time() < end:
            read_until(0.05, None)
    elif kind == 'tree':
        for p in descendants(pid):
            try:
                tree[p] = open('/proc/%d/cgroup' % p).read()
            except OSError:
                pass
os.write(fd, b'\\x03\\nexit\\nexit\\n')
read_until(3, None)
# A shell still there (a script that stopped early) is hung up as a closed terminal would:
# bash passes SIGHUP on to its jobs (and continues stopped ones), so no sbx is left waiting.
for sig, wait in ((1, 5), (9, 0)):
    try:
        os.kill(pid, sig)
    except OSError:
        break
    end = time.time() + wait
    while time.time() < end and os.waitpid(pid, os.WNOHANG) == (0, 0):
        read_until(0.1, None)
try:
    os.waitpid(pid, 0)
except ChildProcessError:
    pass
# Those hung up end as they clean up: given up to 10 s (not a fixed wait), then named.
end = time.time() + 10
while alive_in(tree) and time.time() < end:
    time.sleep(0.05)
alive = alive_in(tree)
text = out.decode('utf-8', 'replace')
# Offsets into the decoded text.
marks = {k: len(out[:v].decode('utf-8', 'replace')) for k, v in marks.items()}
print(json.dumps({'out': text, 'marks': marks, 'failed': failed, 'tree': tree, 'alive': alive}))
`;

export type ShellAction = ['send' | 'expect' | 'pause' | 'mark' | 'gone', string] | ['tree'];

export interface ShellResult {
  /** Everything the terminal showed. */
  out: string;
  /** Offsets into `out` of each `mark`: just after what the `expect` before matched, or after all a `pause` read. */
  marks: Record<string, number>;
  /** Why the script stopped early (an `expect` that never came), or null. */
  failed: string | null;
  /** The processes below the shell at the `tree` action: pid → its /proc cgroup text. */
  tree: Record<string, string>;
  /** Those of them still running after the shell ended. */
  alive: number[];
}

/**
 * Runs an interactive bash on a pty (prompt `PROMPT$ `, SBX_HOME=store) and plays `actions`:
 * type text, wait for text, let time pass, remember where the output is, wait (at most N s)
 * for the processes `tree` saw to end. `$SBX` in the shell
 * runs the sbx under test.
 */
export function underShell(actions: ShellAction[], opts: { store: string; timeoutMs?: number }): ShellResult {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const r = spawnSync('python3', [...PY, SHELL_DRIVER, JSON.stringify(actions), String(timeoutMs / 1000)], {
    encoding: 'utf8', timeout: timeoutMs + 30_000,
    // HISTFILE empty: the shell keeps no history file (it wrote its lines into the real ~/.bash_history).
    env: { ...process.env, SBX_HOME: opts.store, NO_COLOR: '1', TERM: 'xterm', SBX: `${process.execPath} ${SBX}`, HISTFILE: '' },
  });
  if (r.status !== 0) throw new Error(`the pty driver failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as ShellResult;
}
