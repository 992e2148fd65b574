// What --hide-secrets hides and drops, and what --clean-env keeps. A sandbox with --net can
// send whatever it reads anywhere, so the usual credential stores are replaced by empty,
// unreadable mounts and token-like variables never reach the command.
import { lstatSync } from 'node:fs';
import { join } from 'node:path';

/** Credential stores under $HOME (files and dirs), by the tools that write them. */
const HOME_SECRETS = [
  '.ssh', '.gnupg', '.aws', '.azure', '.config/gcloud', '.config/gh', '.config/hub', '.netrc', '.git-credentials',
  '.config/git/credentials', '.docker/config.json', '.kube', '.npmrc', '.yarnrc.yml', '.pypirc', '.gem/credentials',
  '.cargo/credentials', '.cargo/credentials.toml', '.m2/settings.xml', '.gradle/gradle.properties', '.terraform.d/credentials.tfrc.json',
  '.vault-token', '.pgpass', '.my.cnf', '.config/rclone', '.config/op', '.password-store', '.local/share/keyrings',
  '.mozilla', '.thunderbird', '.config/google-chrome', '.config/chromium', '.config/BraveSoftware', '.config/microsoft-edge',
  '.config/vivaldi', '.config/opera', '.var/app/org.mozilla.firefox', '.var/app/com.google.Chrome',
];

/** Existing credential paths for this home directory (only existing ones can be covered). */
export function secretPaths(home: string | undefined): string[] {
  if (!home || !home.startsWith('/') || home === '/') return [];
  const out: string[] = [];
  for (const rel of HOME_SECRETS) {
    const p = join(home, rel);
    try { lstatSync(p); out.push(p); } catch { /* absent: nothing to hide */ }
  }
  return out;
}

const SECRET_NAME = /(^|_)(TOKENS?|SECRETS?|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|ACCESS_?KEY(_ID)?|PRIVATE_?KEY|CREDENTIALS?|AUTH)(_|$)|SECRET/i;
const SECRET_PREFIX = /^(AWS|AZURE|ARM|GCP|GOOGLE_CLOUD|DIGITALOCEAN|HCLOUD|OP_|VAULT)_?/;
const SECRET_EXACT = new Set([
  'SSH_AUTH_SOCK', 'SSH_AGENT_PID', 'GPG_AGENT_INFO', 'GOOGLE_APPLICATION_CREDENTIALS', 'DOCKER_AUTH_CONFIG', 'KRB5CCNAME',
  'GH_TOKEN', 'GITHUB_TOKEN', 'NPM_TOKEN', 'KUBECONFIG', 'DBUS_SESSION_BUS_ADDRESS', 'GIT_ASKPASS', 'SSH_ASKPASS',
]);

export function isSecretEnvName(name: string): boolean {
  return SECRET_EXACT.has(name) || SECRET_PREFIX.test(name) || SECRET_NAME.test(name);
}

/** The environment without token-like variables, and the names dropped. */
export function withoutSecrets(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; dropped: string[] } {
  const out: NodeJS.ProcessEnv = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (isSecretEnvName(k)) dropped.push(k); else out[k] = v;
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
