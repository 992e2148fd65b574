// A crash inside must not start the host's crash handler. When core_pattern is a pipe
// (`|/usr/lib/systemd/systemd-coredump …`, apport, abrt), the kernel runs that program as root
// in the host's namespaces for a crash anywhere, the sandbox's too, and hands it the crashed
// process's memory: sandbox-made data written to the host (/var/lib/systemd/coredump, the
// journal, /var/crash), by programs with a history of container escapes. A core limit of 1 is
// the kernel's own "no piped dump" value (fs/coredump.c), and with the hard limit at 1 the
// command cannot raise it (that needs CAP_SYS_RESOURCE in the host's user namespace). A core
// file pattern writes inside the sandbox's view, so it is left alone.
import { readProcText } from './base/process.js';
import type { SpecOpOf } from './spec.js';

export const CORE_PATTERN = '/proc/sys/kernel/core_pattern';

/** The rlimit ops that keep a crash inside from reaching a piped core handler (none for a file pattern). */
export function coreDumpOps(pattern: string | null = readPattern()): Array<SpecOpOf<'rlimit'>> {
  // Unreadable: assume a pipe, the case that matters.
  return pattern === null || pattern.trimStart().startsWith('|') ? [{ op: 'rlimit', args: ['core', '1', '1'] }] : [];
}

function readPattern(): string | null {
  try { return readProcText(CORE_PATTERN); } catch { return null; }
}
