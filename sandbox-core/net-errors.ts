// After a run without a network: whether the command's output shows it reached for one. The
// helper keeps the lines of the output it relays that contain one of these texts (the same
// `scan_output` lines as view-errors.ts, native/errlines.c); a run without --net or --allow-net
// has loopback alone, so a lookup or connection that failed on it is sbx's doing, and the user
// hears which flag gives the command what it needs. A run with a network is never told this:
// there the failure is the network's, not sbx's.

/**
 * What programs print when a name cannot be resolved or no route exists, as seen inside a
 * sandbox without a network (each seen there, but Go's): glibc's gai_strerror(EAI_AGAIN) (python,
 * pip, wget, ssh, ping), apt's own, curl's and git's (`Could not resolve host`, and ssh's
 * `Could not resolve hostname`), Node's error codes (npm, fetch), strerror(ENETUNREACH) for a
 * connect to an address, and Go's lower-case form of it. Not `Name or service not known`
 * (EAI_NONAME): that is a name that does not exist, which a network would not fix.
 */
export const NO_NETWORK_TEXTS = [
  'Temporary failure in name resolution',
  'Temporary failure resolving',
  'Could not resolve host',
  'EAI_AGAIN',
  'Network is unreachable',
  'ENETUNREACH',
  'network is unreachable',
];

/** The first of NO_NETWORK_TEXTS that the command's kept lines contain, or null. */
export function noNetworkText(lines: string[]): string | null {
  for (const line of lines) {
    const text = NO_NETWORK_TEXTS.find((t) => line.includes(t));
    if (text) return text;
  }
  return null;
}
