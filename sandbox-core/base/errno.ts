// Errno names for messages, from the one generated table the seccomp policies use.
import { ERRNO, knownErrnoName } from '../../policies/seccomp/errno.js';

export { ERRNO, knownErrnoName };

/** "ENOENT" for 2; "errno N" for a number Linux has no name for. */
export function errnoName(n: number): string {
  return knownErrnoName(n) ?? `errno ${n}`;
}
