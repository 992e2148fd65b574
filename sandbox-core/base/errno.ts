// The one errno-number-to-name table for messages, built from the host's own (Node's
// os.constants.errno is complete for the platform it runs on).
import { constants } from 'node:os';

// Where two names share a number, the one the man pages lead with.
const PREFERRED = new Set(['EAGAIN', 'EDEADLK', 'EOPNOTSUPP']);

const byNumber = new Map<number, string>();
for (const [name, n] of Object.entries(constants.errno)) {
  if (!byNumber.has(n) || PREFERRED.has(name)) byNumber.set(n, name);
}

/** "ENOENT" for 2; "errno N" for a number this platform has no name for. */
export function errnoName(n: number): string {
  return byNumber.get(n) ?? `errno ${n}`;
}
