// Errno numbers by name and back, from the generated table (tables/errno.ts): the same numbers
// on x86_64 and aarch64. sandbox-core's messages read them from here too.
import { ERRNO } from './tables/errno.js';

export { ERRNO };

// Aliases (EWOULDBLOCK = EAGAIN) share a number; the table lists the canonical name first.
// Made on first use: most runs name no errno, and building it at load is garbage every run.
let byNumber: Map<number, string> | null = null;

/** "ENOENT" for 2; undefined for a number Linux has no name for. */
export function knownErrnoName(n: number): string | undefined {
  if (!byNumber) {
    byNumber = new Map<number, string>();
    for (const [name, v] of Object.entries(ERRNO)) if (!byNumber.has(v)) byNumber.set(v, name);
  }
  return byNumber.get(n);
}
