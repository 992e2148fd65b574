// Node 20 reads the file NODE_EXTRA_CA_CERTS names, and builds its whole root certificate
// store, before it runs any JavaScript: ~90 ms of every start on the VM measured (`node -e 0`
// 47 ms without the variable, 133 ms with it), for TLS that sbx never makes. So the installed
// entry (dist/bin/sbx.js) is read by /bin/sh first and by Node next: the shell moves the
// variable aside and execs Node on the same file (to Node, that line is a string and a
// comment), and the entry puts the variable back before anything reads the environment, so
// the sandboxed command, and every program sbx starts, gets it exactly as it was.

/** Holds NODE_EXTRA_CA_CERTS while sbx's own Node starts. */
export const KEPT_CA_VAR = 'SBX_NODE_EXTRA_CA_CERTS';

/**
 * The entry's first two lines (scripts/bundle.mjs writes them). `unset` first: started as a
 * program, a value of the holder that the launcher did not put there is never taken for
 * NODE_EXTRA_CA_CERTS (started as `node sbx.js`, the holder is whatever the caller set).
 */
export const LAUNCHER_LINES = [
  '#!/bin/sh',
  `":" //; unset ${KEPT_CA_VAR}; if [ "\${NODE_EXTRA_CA_CERTS+set}" ]; then export ${KEPT_CA_VAR}="$NODE_EXTRA_CA_CERTS"; unset NODE_EXTRA_CA_CERTS; fi; exec node "$0" "$@"`,
] as const;

/** Undoes the launcher's move: NODE_EXTRA_CA_CERTS as the user had it (set, even empty, or not). */
export function restoreLauncherEnv(env: NodeJS.ProcessEnv): void {
  const kept = env[KEPT_CA_VAR];
  if (kept === undefined) return;
  env.NODE_EXTRA_CA_CERTS = kept;
  delete env[KEPT_CA_VAR];
}
