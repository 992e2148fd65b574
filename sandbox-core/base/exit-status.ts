// sbx's exit statuses (Docker's convention): the command's own status passes through.

export const EXIT_SBX_FAILED = 125;
export const EXIT_CANNOT_EXECUTE = 126;
export const EXIT_NOT_FOUND = 127;

/** The shell's status for a death by signal N. */
export function signalStatus(signal: number): number {
  return 128 + signal;
}

/** The signal a status of that convention stands for, or null (an exit of its own). */
export function signalOf(status: number): number | null {
  return status > 128 && status < signalStatus(65) ? status - 128 : null;
}

/**
 * Ctrl-C at the review's question: the sandbox is saved, and the status is the shell's for
 * SIGINT, so that `sbx run -- make && deploy` stops there as after any interrupted program.
 */
export const EXIT_INTERRUPTED = signalStatus(2);
