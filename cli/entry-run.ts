// The part of the bundle `sbx run` loads (see cli/main.ts): what a
// run does, without clipanion (cli/run-fast.ts parsed the flags).
import { executeRun, type RunOptions } from './run-exec.js';
import { reported } from './output.js';
import { reportError } from './report-error.js';
import { compiledPolicy } from '../sandbox-core/seccomp.js';

export async function runMain(fast: RunOptions): Promise<number> {
  try {
    const code = await executeRun(fast);
    return code !== 0 ? code : reported.errors ? 125 : 0;
  } catch (e) {
    return reportError(e);
  }
}

/** Whether this run's compiled code is the one to cache for later runs (cli/code-cache.ts). */
export function worthCaching(): boolean {
  return !compiledPolicy();
}
