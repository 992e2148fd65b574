// What --hide-secrets hides and drops (--clean-env's minimum: clean-env.ts). A sandbox with --net can
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
