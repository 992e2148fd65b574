// The running user's name, as os.userInfo() reads it (getpwuid_r: every NSS source counts, not
// only /etc/passwd), through Node's os binding: an ordinary user's run asks it once (subuid and
// subgid are keyed by name or number), and loading node:os for it cost that run ~0.5 ms.
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
