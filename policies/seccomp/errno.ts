// Errno numbers by name and back, from the generated table (tables/errno.ts): the same numbers
// on x86_64 and aarch64. sandbox-core's messages read them from here too.
import { ERRNO } from './tables/errno.js';

export { ERRNO };

// Aliases (EWOULDBLOCK = EAGAIN) share a number; the table lists the canonical name first.
const byNumber = new Map<number, string>();
for (const [name, n] of Object.entries(ERRNO)) if (!byNumber.has(n)) byNumber.set(n, name);

/** "ENOENT" for 2; undefined for a number Linux has no name for. */
export function knownErrnoName(n: number): string | undefined {
  return byNumber.get(n);
}
