import { ERRNO } from './tables/errno.js';

// Aliases (EWOULDBLOCK = EAGAIN) share a number; the table lists the canonical name first.
const byNumber = new Map<number, string>();
for (const [name, n] of Object.entries(ERRNO)) if (!byNumber.has(n)) byNumber.set(n, name);

export const errnoName = (n: number): string | undefined => byNumber.get(n);
