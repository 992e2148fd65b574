import { readFileSync } from 'node:fs';

/**
 * A procfs file's text. Such a file reports size 0, and Node's latin1 read of one takes the
 * generic path (a 64 KiB buffer a chunk, then a copy): ~130 us a read here against ~25 for the
 * utf8 read, one call into Node's C++. The files read so are ASCII where sbx looks (numbers,
 * state letters, flags, a leading `|`); bytes of a name that are not UTF-8 become U+FFFD, never
 * an ASCII byte, so a field after them stays where it was.
 */
export function readProcText(path: string): string {
  return readFileSync(path, 'utf8');
}

/**
 * The fields of /proc/PID/stat from the state on (field 3 is [0]), split after the command
 * name's closing parenthesis (the name may hold spaces and parentheses); null when unreadable.
 */
export function procStatFields(pid: number | 'self'): string[] | null {
  try {
    const st = readProcText(`/proc/${pid}/stat`);
    return st.slice(st.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

// Whether a pid names a live process (EPERM: it lives, under another user).
export function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/**
 * Whether a pid names a process that still runs: alive, and not a zombie. A killed sbx whose
 * parent has not waited for it yet still answers kill(pid, 0), but does nothing more; where
 * /proc does not say, alive is the answer. (A leader that left its other threads running reads
 * as a zombie too: the cgroup sweep is safe with that, a cgroup with a task left is not removed.)
 */
export function pidRunning(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  const f = procStatFields(pid);
  return !f || (f[0] !== 'Z' && f[0] !== 'X');
}

/** The kernel's boot id: a random UUID made at every start of the machine. */
export const BOOT_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A process start time as recorded beside its pid (pidStart: clock ticks since boot). */
export const START_RE = /^[0-9]{1,20}$/;

let boot: string | null | undefined;

/**
 * This boot's id, or null where /proc does not say. A run records it: a sandbox whose run
 * was cut short by the machine stopping is then told apart from one whose sbx was killed
 * (its writes are all in the page cache), and a pid of the old boot is never taken for alive.
 */
export function bootId(): string | null {
  if (boot === undefined) {
    try {
      const s = readProcText('/proc/sys/kernel/random/boot_id').trim();
      boot = BOOT_ID_RE.test(s) ? s : null;
    } catch {
      boot = null;
    }
  }
  return boot;
}

/** A process's start time (clock ticks since boot, /proc/PID/stat), or null for none or a zombie. */
export function pidStart(pid: number): string | null {
  const f = procStatFields(pid);
  return !f || f[0] === 'Z' || f[0] === 'X' ? null : f[19] ?? null;
}

/** Which process this is, as recorded beside its pid: this boot and this pid's start time. */
export function selfStamp(): { boot?: string; start?: string } {
  return { boot: bootId() ?? undefined, start: pidStart(process.pid) ?? undefined };
}

/** A process as sbx records it beside its pid: a commit journal's header, a sandbox's lock. */
export interface PidStamp {
  pid: number;
  /** The boot and the start time (/proc/PID/stat) of that pid. */
  boot?: string;
  pidStart?: string;
}

/** This process as a PidStamp. */
export function ownPidStamp(): PidStamp {
  const { boot, start } = selfStamp();
  return { pid: process.pid, boot, pidStart: start };
}

/** Whether `x`'s pid, boot and pidStart are a PidStamp as sbx writes one (store data is hostile input). */
export function hasPidStamp(x: Record<string, unknown>): boolean {
  return Number.isSafeInteger(x.pid) && (x.pid as number) > 0
    && (x.boot === undefined || (typeof x.boot === 'string' && BOOT_ID_RE.test(x.boot)))
    && (x.pidStart === undefined || (typeof x.pidStart === 'string' && START_RE.test(x.pidStart)));
}

/**
 * Whether another process a stamp names still runs (this one's is a commit we resume, or a
 * lock we hold). Its pid alone is not enough: after a power loss or a long while, another
 * process has that pid, and what it stamped could never be resumed or taken over.
 */
export function otherStampAlive(s: PidStamp): boolean {
  return s.pid !== process.pid && recordedAlive({ pid: s.pid, boot: s.boot, start: s.pidStart });
}

/**
 * Whether the process recorded as `pid` (with its boot and start time where known) still
 * runs. The one answer for every record in the store (a run's runnerPid, a commit journal's
 * pid): a pid of another boot, or a live pid that started at another time (reused since), is
 * not that process. Where /proc does not give start times, the pid alone answers.
 */
export function recordedAlive(r: { pid: number; boot?: string; start?: string }): boolean {
  const boot = bootId();
  if (r.boot !== undefined && boot && r.boot !== boot) return false;
  if (!pidAlive(r.pid)) return false;
  if (r.start === undefined) return true;
  const now = pidStart(r.pid);
  return now === null ? pidStart(process.pid) === null : now === r.start;
}
