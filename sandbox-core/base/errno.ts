// The one errno-number-to-name table, for messages and for policies: generated from the
// kernel's asm-generic/errno.h (errno-table.ts), the same numbers on x86_64 and aarch64.
import { ERRNO } from './errno-table.js';

export { ERRNO };

// Aliases (EWOULDBLOCK = EAGAIN) share a number; the table lists the canonical name first.
const byNumber = new Map<number, string>();
for (const [name, n] of Object.entries(ERRNO)) if (!byNumber.has(n)) byNumber.set(n, name);

/** "ENOENT" for 2; undefined for a number Linux has no name for. */
export function knownErrnoName(n: number): string | undefined {
  return byNumber.get(n);
}

/** "ENOENT" for 2; "errno N" for a number Linux has no name for. */
export function errnoName(n: number): string {
  return byNumber.get(n) ?? `errno ${n}`;
}
