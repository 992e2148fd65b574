// Policy errors carry where the problem is (file and JSON path) so a user can fix a policy
// without guessing. Exit status 125: sbx refused before anything ran.
import { UserError } from '../errors.js';

export interface PolicyProblem {
  file: string;
  /** JSON path of the offending value, e.g. `$.rules[3].args[0].value`; empty for whole-file problems. */
  path: string;
  message: string;
  hint?: string;
}

export function formatProblem(p: PolicyProblem): string {
  const where = p.path ? `${p.file}: ${p.path}` : p.file;
  return `${where}: ${p.message}${p.hint ? ` (${p.hint})` : ''}`;
}

export class PolicyError extends UserError {
  constructor(readonly problems: PolicyProblem[]) {
    // The first problem is the message; the rest follow on their own lines so `sbx run` and
    // `sbx policy check` show every one of them.
    super(problems.map(formatProblem).join('\n'), 125);
    this.name = 'PolicyError';
  }
}
