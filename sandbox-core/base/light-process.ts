// isatty and starting a child without node:tty and node:child_process. Both load node:net and
// Node's streams (~35 built-in modules, 7-10 ms of CPU at start-up on the VM measured) for a
// run that never makes a socket nor a stream: a run asks isatty of fds 0-2 and starts the
// helper with inherited fds. Node's own bindings do the same work under both modules
// (tty_wrap's isTTY, process_wrap's Process, which ChildProcess wraps). They are reached
// through process.binding, on Node's allow-list for it and not deprecated at run time; when it
// is missing, or wrapped to warn (--pending-deprecation), the public modules are used instead.
import { builtin, childProcess } from './builtin.js';
import { nodeBinding } from './node-binding.js';

interface ProcessHandle {
  pid?: number;
  onexit: (code: number, signal: string) => void;
  spawn(o: { file: string; args: string[]; envPairs: string[]; stdio: Array<{ type: 'fd'; fd: number }>; detached: boolean }): number;
  close(): void;
  unref(): void;
}
interface Bindings {
  isTTY: (fd: number) => boolean;
  Process: new () => ProcessHandle;
}

let bindings: Bindings | null | undefined;

function nodeBindings(): Bindings | null {
  if (bindings !== undefined) return bindings;
  bindings = null;
  const tty = nodeBinding('tty_wrap');
  const proc = nodeBinding('process_wrap');
  if (typeof tty?.isTTY === 'function' && typeof proc?.Process === 'function') {
    bindings = { isTTY: tty.isTTY as Bindings['isTTY'], Process: proc.Process as Bindings['Process'] };
  }
  return bindings;
}

/** tty.isatty(fd). */
export function isatty(fd: number): boolean {
  const b = nodeBindings();
  return b ? Number.isInteger(fd) && fd >= 0 && fd <= 2147483647 && b.isTTY(fd) : builtin<typeof import('node:tty')>('node:tty').isatty(fd);
}

export interface LightChild {
  pid: number;
  /** Signals the child until it is reaped, then nothing (its pid may be another's by then). */
  kill(signal: NodeJS.Signals): void;
}

/**
 * Starts `file` with `args`, each of the child's fds the parent's fd at that index of `fds`,
 * and `env` as its whole environment; `exited` gets its exit code, or the signal's name that
 * ended it. A failed start throws Node's error (`spawn FILE ENOENT`). Null where the bindings
 * are not there: the caller uses node:child_process. `detached`: in a session of its own, and
 * not waited for (child_process's `detached` and `unref()`).
 */
export function spawnInherited(file: string, args: readonly string[], fds: readonly number[], env: NodeJS.ProcessEnv, exited: (code: number | null, signal: NodeJS.Signals | null) => void, { detached = false } = {}): LightChild | null {
  const b = nodeBindings();
  if (!b) return null;
  const h = new b.Process();
  let reaped = false;
  h.onexit = (code, signal) => {
    reaped = true;
    h.close();
    exited(signal ? null : code, signal ? signal as NodeJS.Signals : null);
  };
  const err = h.spawn({
    file,
    args: [file, ...args],
    envPairs: envPairs(env),
    stdio: fds.map((fd) => ({ type: 'fd', fd })),
    detached,
  });
  if (err !== 0 || h.pid === undefined) {
    h.close();
    throw startError('spawn', file, err);
  }
  if (detached) h.unref();
  const pid = h.pid;
  return { pid, kill: (signal) => { if (!reaped) process.kill(pid, signal); } };
}

/** `K=V` for each variable set: the environment as the process bindings take it. */
function envPairs(env: NodeJS.ProcessEnv): string[] {
  const pairs: string[] = [];
  for (const [k, v] of Object.entries(env)) if (v !== undefined) pairs.push(`${k}=${v}`);
  return pairs;
}

/** Node's error for a start that failed with libuv's `errno` (`spawn FILE ENOENT`), as child_process makes it. */
function startError(verb: string, file: string, errno: number): Error {
  const code = builtin<typeof import('node:util')>('node:util').getSystemErrorName(errno);
  return Object.assign(new Error(`${verb} ${file} ${code}`), { code, errno, syscall: `${verb} ${file}`, path: file });
}

/** What spawn_sync's spawn answers (node's internal/child_process.js reads the same fields). */
interface SyncOutcome { status: number | null; signal: string | null; output: Array<Buffer | null> | null; error?: number }
type SpawnSync = (options: object) => SyncOutcome;

let spawnSyncBinding: SpawnSync | null | undefined;

function syncBinding(): SpawnSync | null {
  if (spawnSyncBinding !== undefined) return spawnSyncBinding;
  const b = nodeBinding('spawn_sync');
  spawnSyncBinding = typeof b?.spawn === 'function' ? (b.spawn as SpawnSync).bind(b) : null;
  return spawnSyncBinding;
}

export interface PipedResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
  error?: Error;
}

/**
 * child_process.spawnSync(file, args, { input, maxBuffer, stdio: ['pipe', 'pipe', 'pipe', ...fds] })
 * (sbx's own environment, as its default), through the spawn_sync binding that function ends
 * in, given the options as it gives them: a review whose sandbox changed starts the helper's
 * `scan` this way, and loading node:child_process cost it 5.5 ms and ~185 page faults here.
 * child_process itself where the binding is not there.
 */
export function spawnSyncPiped(file: string, args: readonly string[], input: Buffer, fds: readonly number[], maxBuffer: number): PipedResult {
  const run = syncBinding();
  if (!run) {
    const r = childProcess().spawnSync(file, [...args], { input, maxBuffer, stdio: ['pipe', 'pipe', 'pipe', ...fds] });
    return { status: r.status, signal: r.signal, stdout: r.stdout ?? Buffer.alloc(0), stderr: r.stderr ?? Buffer.alloc(0), ...(r.error ? { error: r.error } : {}) };
  }
  const r = run({
    file,
    args: [file, ...args],
    envPairs: envPairs(process.env),
    detached: false,
    windowsHide: false,
    windowsVerbatimArguments: false,
    maxBuffer,
    stdio: [
      { type: 'pipe', readable: true, writable: false, input },
      { type: 'pipe', readable: false, writable: true },
      { type: 'pipe', readable: false, writable: true },
      ...fds.map((fd) => ({ type: 'fd', fd })),
    ],
  });
  const out = r.output;
  return { status: r.status, signal: r.signal as NodeJS.Signals | null, stdout: out?.[1] ?? Buffer.alloc(0), stderr: out?.[2] ?? Buffer.alloc(0), ...(r.error ? { error: startError('spawnSync', file, r.error) } : {}) };
}

/** Whether spawnSyncPiped runs through the binding here (for the tests). */
export function spawnSyncFromBinding(): boolean {
  return syncBinding() !== null;
}
