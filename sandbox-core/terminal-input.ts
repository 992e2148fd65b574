// What waits unread on the terminal sbx is about to ask a question on. Typed-ahead keys, or a
// terminal's reply to a query the command wrote as it ended (a cursor or title report), would
// otherwise answer "Keep these changes?" before the user saw it.
import { childProcess } from './base/builtin.js';
import { helperPath } from './helper.js';

/**
 * Drops the input waiting on the terminal open on `fd` (tcflush, by `sbx-helper flush-input`:
 * Node has none). False when it could not be: the question is asked all the same.
 */
export function dropPendingInput(fd: number): boolean {
  const r = childProcess().spawnSync(helperPath(), ['flush-input'], { stdio: [fd, 'ignore', 'ignore'] });
  return r.status === 0;
}
