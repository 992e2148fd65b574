// The running user's name, as os.userInfo() reads it (getpwuid_r: every NSS source counts, not
// only /etc/passwd), through Node's os binding: an ordinary user's run asks it once (subuid and
// subgid are keyed by name or number), and loading node:os for it cost that run ~0.5 ms.
import { readFileSync } from 'node:fs';
import { builtin } from './builtin.js';
import { nodeBinding } from './node-binding.js';

/** The name of the process's uid, or null when it has no passwd entry. */
export function userName(): string | null {
  const os = nodeBinding('os');
  const getUserInfo = os?.getUserInfo;
  if (typeof getUserInfo === 'function') {
    try {
      // As os.userInfo() calls it: null options (utf8 names), a context the error is written to.
      const ctx: Record<string, unknown> = {};
      const u = getUserInfo.call(os, null, ctx) as { username?: unknown } | undefined;
      if (u === undefined && ctx.code !== undefined) return null;
      if (u && typeof u.username === 'string') return u.username;
    } catch { /* another shape in this Node: asked below */ }
  }
  try { return builtin<typeof import('node:os')>('node:os').userInfo().username; } catch { return null; }
}

/**
 * The name of `uid`: the running user's as userName() finds it, another's as /etc/passwd
 * says (root reading an ordinary user's sandbox); null when there is none.
 */
export function nameOfUid(uid: number): string | null {
  if (uid === process.getuid?.()) return userName();
  try {
    const row = readFileSync('/etc/passwd', 'latin1').split('\n').map((l) => l.split(':')).find((f) => f[2] === String(uid));
    return row?.[0] || null;
  } catch { return null; }
}
