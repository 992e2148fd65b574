// Errors sbx can report to the user as one line. `exitCode` follows Docker's convention:
// 125 sbx failed, 126 cannot execute, 127 not found.

import { UserError } from '../../policies/errors.js';
import { EXIT_SBX_FAILED } from './exit-status.js';
import { displayText } from './bpath.js';

export { UserError };

export class SbxError extends UserError {
  constructor(message: string, exitCode = EXIT_SBX_FAILED, hint?: string) {
    super(message, exitCode, hint);
    this.name = 'SbxError';
  }
}

/** A sandbox id or name that does not exist. */
export class UnknownSandboxError extends SbxError {
  /** `sbx` as the hint names it: under sudo, `sudo sbx` (store.ts sbxFor), whose ls lists both stores. */
  constructor(readonly ref: string, sbx = 'sbx') {
    super(`no sandbox called '${displayText(ref)}'`, 125, `run '${sbx} ls' to see saved sandboxes`);
    this.name = 'UnknownSandboxError';
  }
}
