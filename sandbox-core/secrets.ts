// What --hide-secrets hides and drops, and what --clean-env keeps. A sandbox with --net can
// send whatever it reads anywhere, so the credential stores named in policies/secrets.json are
// replaced by empty, unreadable mounts and secret variables never reach the command.
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { SecretMatcher, loadSecretsRules, type SecretsRules } from '../policies/secrets.js';

/** Existing credential paths for this home directory (only existing ones can be covered). */
export function secretPaths(home: string | undefined, rules: SecretsRules = loadSecretsRules()): string[] {
  if (!home || !home.startsWith('/') || home === '/') return [];
  const out: string[] = [];
  for (const { path: rel } of rules.files) {
    const p = join(home, rel);
    try { lstatSync(p); out.push(p); } catch { /* absent: nothing to hide */ }
  }
  return out;
}

/** The environment without secret variables (by name or by value), and the names dropped. */
export function withoutSecrets(env: NodeJS.ProcessEnv, rules: SecretsRules = loadSecretsRules()): { env: NodeJS.ProcessEnv; dropped: string[] } {
  const m = new SecretMatcher(rules);
  const out: NodeJS.ProcessEnv = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (m.envRule(k, v)) dropped.push(k); else out[k] = v;
  }
  return { env: out, dropped };
}

const CLEAN_KEEP = ['HOME', 'USER', 'LOGNAME', 'SHELL', 'TERM', 'COLORTERM', 'LANG', 'LANGUAGE', 'TZ', 'NO_COLOR'];

/** --clean-env: a login-like minimum, nothing inherited by accident. */
export function cleanEnv(env: NodeJS.ProcessEnv, cwd: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', PWD: cwd };
  for (const k of CLEAN_KEEP) if (env[k] !== undefined) out[k] = env[k];
  for (const k of Object.keys(env)) if (k.startsWith('LC_')) out[k] = env[k];
  return out;
}
