// `sbx run`'s fast path: argv that uses only the common flags is parsed here, so a run does not
// load clipanion and build its parser (tens of milliseconds, a third of a short run). Anything
// else (help, an unknown or unusual flag, a contradiction to explain with the usage) returns
// null and goes through clipanion in app.ts, which knows every flag.
import type { RunOptions } from './run-exec.js';

const BOOLEANS: Record<string, keyof RunOptions> = {
  '-n': 'discard', '--discard': 'discard', '-y': 'keep', '--keep': 'keep', '-q': 'quiet', '--quiet': 'quiet',
  '--net': 'net', '--user': 'keepUser', '--clean-env': 'cleanEnvFlag', '--hide-secrets': 'hideSecrets',
  '--allow-secrets': 'allowSecrets', '--keep-setuid': 'keepSetuid', '--no-seccomp': 'noSeccomp',
};
const STRINGS: Record<string, 'name' | 'policy'> = { '--name': 'name', '--policy': 'policy' };

/** The options of `sbx run ARGS…` (argv without `run`), or null: let clipanion parse it. */
export function parseRunFast(args: readonly string[]): RunOptions | null {
  const o: RunOptions = {
    discard: false, keep: false, net: false, keepUser: false, mapRoot: false, hide: [], bind: [], roBind: [],
    capAdd: [], capDrop: [], noSeccomp: false, only: [], exclude: [], quiet: false, device: [],
    hideSecrets: false, allowNet: [], allowSecrets: false, cleanEnvFlag: false, keepSetuid: false, envSet: [], command: [],
  };
  const set = o as unknown as Record<string, unknown>;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { i++; break; }
    if (!a.startsWith('-') || a === '-') break;
    const eq = a.indexOf('=');
    const flag = eq > 0 ? a.slice(0, eq) : a;
    if (eq < 0 && BOOLEANS[a]) { set[BOOLEANS[a]] = true; continue; }
    if (STRINGS[flag]) {
      const v = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined || v === '' || (eq < 0 && v.startsWith('-'))) return null;
      set[STRINGS[flag]] = v;
      continue;
    }
    // A batch of short booleans, e.g. -nq.
    if (/^-[nyq]{2,}$/.test(a)) { for (const c of a.slice(1)) set[BOOLEANS[`-${c}`]!] = true; continue; }
    return null;
  }
  o.command = args.slice(i);
  // Contradictions and a missing command are explained by clipanion, with the usage.
  if (!o.command.length || (o.discard && o.keep) || (o.discard && o.name !== undefined) || (o.hideSecrets && o.allowSecrets)) return null;
  return o;
}

/**
 * The part a fast run loads (scripts/bundle.mjs): quiet.js for a quiet throwaway run that hides
 * no secrets (it leaves out the review, and the secrets list with its rules), else run.js. A run
 * hides secrets with --hide-secrets, or with --net unless --allow-secrets (cli/run-exec.ts).
 */
export function fastPart(o: RunOptions): 'quiet' | 'run' {
  return o.discard && o.quiet && !o.net && !o.hideSecrets ? 'quiet' : 'run';
}
