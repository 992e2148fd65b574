// The current directory, for the commands that need it. A shell can stay in a directory that
// was removed since (`rmdir` from another terminal, a test's temporary dir): Node's
// process.cwd() then throws ENOENT from `uv_cwd`, and so does path.resolve() of any relative
// path. That is the user's situation to fix, not sbx's failure: one line says what to do.
import { SbxError } from './errors.js';

export const CWD_GONE = 'the current directory no longer exists';
export const CWD_GONE_HINT = 'cd somewhere else first';

/** Whether `e` is Node's failure to read a current directory that was removed. */
export function isCwdGone(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException | null;
  return err?.code === 'ENOENT' && err.syscall === 'uv_cwd';
}

/** The error a command that needs the current directory gives when it is gone. */
export function cwdGoneError(): SbxError {
  return new SbxError(CWD_GONE, 125, CWD_GONE_HINT);
}

/** process.cwd(), or the one clear error when the directory was removed. */
export function currentDir(): string {
  try {
    return process.cwd();
  } catch (e) {
    if (isCwdGone(e)) throw cwdGoneError();
    throw e;
  }
}

/** process.cwd(), or null when the directory was removed (for a caller that can do without it). */
export function currentDirOrNull(): string | null {
  try {
    return process.cwd();
  } catch (e) {
    if (isCwdGone(e)) return null;
    throw e;
  }
}
