// How an error that ends a command is said: one line on stderr and a documented exit status.
// Shared by app.ts (clipanion's path) and main.ts (sbx run's fast path).
import { UserError } from '../sandbox-core/base/errors.js';
import { displayText } from '../sandbox-core/base/bpath.js';
import { cwdGoneError, isCwdGone } from '../sandbox-core/base/cwd.js';
import { PolicyError, formatProblem } from '../policies/seccomp/errors.js';
import { colors, error, rendered, safe } from './output.js';

/** Says `e` and returns the exit status. Usage errors are app.ts's (they need the usage). */
export function reportError(e: unknown): number {
  // Any relative path resolved in a removed current directory ends here (path.resolve reads
  // it): the user's situation, said as such, wherever the command met it.
  if (isCwdGone(e)) e = cwdGoneError();
  // A policy file's first mistake, and where to see them all (a line each, sbx policy check).
  if (e instanceof PolicyError && e.problems.length > 1) {
    const [first] = e.problems;
    error(oneLine(`${formatProblem(first!)} (and ${e.problems.length - 1} more: 'sbx policy check ${displayText(first!.file)}' lists each)`));
    return e.exitCode;
  }
  if (e instanceof UserError) {
    // An error a user can cause is one line: a line break left in it came from a value (a
    // name, a path) that missed displayText, and would start a line sbx did not write.
    const msg = e.hint ? `${e.message} (${e.hint})` : e.message;
    error(oneLine(msg));
    return e.exitCode;
  }
  const err = e as Error;
  if (err?.name === 'UsageError') {
    error(err.message);
    return 125;
  }
  error(`internal error: ${err?.message ?? String(e)}${process.env.SBX_DEBUG ? '' : ' (set SBX_DEBUG=1 for details)'}`);
  if (process.env.SBX_DEBUG) rendered(colors.dim(`${safe(String(err?.stack))}\n`));
  return 125;
}

/** `sbx policy check`'s answer for a policy it refuses: each mistake one `sbx: error:` line. */
export function reportPolicyProblems(e: PolicyError): number {
  for (const p of e.problems) error(oneLine(formatProblem(p)));
  return e.exitCode;
}

function oneLine(s: string): string {
  return s.replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}
