// What --clean-env keeps: apart from the secrets list (secrets.ts), which a run loads only when
// it hides secrets (a quiet throwaway run's part leaves that list out: scripts/bundle.mjs).

const CLEAN_KEEP = ['HOME', 'USER', 'LOGNAME', 'SHELL', 'TERM', 'COLORTERM', 'LANG', 'LANGUAGE', 'TZ', 'NO_COLOR'];

/** --clean-env: a login-like minimum, nothing inherited by accident. */
export function cleanEnv(env: NodeJS.ProcessEnv, cwd: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', PWD: cwd };
  for (const k of CLEAN_KEEP) if (env[k] !== undefined) out[k] = env[k];
  for (const k of Object.keys(env)) if (k.startsWith('LC_')) out[k] = env[k];
  return out;
}
