// isatty and starting a child without node:tty and node:child_process. Both load node:net and
// Node's streams (~35 built-in modules, 7-10 ms of CPU at start-up on the VM measured) for a
// run that never makes a socket nor a stream: a run asks isatty of fds 0-2 and starts the
// helper with inherited fds. Node's own bindings do the same work under both modules
// (tty_wrap's isTTY, process_wrap's Process, which ChildProcess wraps). They are reached
// through process.binding, on Node's allow-list for it and not deprecated at run time; when it
// is missing, or wrapped to warn (--pending-deprecation), the public modules are used instead.
import { builtin } from './builtin.js';
import { nodeBinding } from './node-binding.js';

interface ProcessHandle {
  pid?: number;
  onexit: (code: number, signal: string) => void;
  spawn(o: { file: string; args: string[]; envPairs: string[]; stdio: Array<{ type: 'fd'; fd: number }>; detached: boolean }): number;
  close(): void;
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
 * are not there: the caller uses node:child_process.
 */
export function spawnInherited(file: string, args: readonly string[], fds: readonly number[], env: Record<string, string>, exited: (code: number | null, signal: NodeJS.Signals | null) => void): LightChild | null {
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
    envPairs: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    stdio: fds.map((fd) => ({ type: 'fd', fd })),
    detached: false,
  });
  if (err !== 0 || h.pid === undefined) {
    h.close();
    const code = builtin<typeof import('node:util')>('node:util').getSystemErrorName(err);
    throw Object.assign(new Error(`spawn ${file} ${code}`), { code, errno: err, syscall: `spawn ${file}`, path: file });
  }
  const pid = h.pid;
  return { pid, kill: (signal) => { if (!reaped) process.kill(pid, signal); } };
}
