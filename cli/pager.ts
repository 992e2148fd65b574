// Long output on a TTY goes through a pager (config "pager", $PAGER, else `less -R`), like git.
import { childProcess } from '../sandbox-core/base/builtin.js';
import type { Writable } from 'node:stream';
import { safeConfig } from '../sandbox-core/config.js';
import { displayText } from '../sandbox-core/base/bpath.js';
import { warn } from './output.js';

export async function page(text: string, out: Writable): Promise<void> {
  const tty = out === process.stdout && process.stdout.isTTY;
  const rows = process.stdout.rows ?? 24;
  // As git: the config file's pager, else $PAGER, else less; false (or "cat") means none.
  const configured = safeConfig().pager;
  const cmd = configured === false ? '' : configured ?? process.env.PAGER ?? 'less -R';
  if (!tty || text.split('\n').length < rows || cmd === 'cat' || cmd === '') {
    out.write(text);
    return;
  }
  const failed = await new Promise<string | null>((resolve) => {
    const child = childProcess().spawn('/bin/sh', ['-c', cmd], { stdio: ['pipe', 'inherit', 'inherit'], env: { LESS: 'FRX', ...process.env } });
    child.on('error', (e) => resolve(e.message));
    // The user quit the pager early (EPIPE): not a failure, the pager's status says how it ended.
    child.stdin.on('error', () => {});
    // A pager that shows the text exits 0, also when quit early (less, more, head). One not
    // found (sh's 127), not executable (126), or failing (`false`) exits non-zero: the review
    // would be lost with exit 0 after it. A signal (Ctrl-C in the pager) is the user's doing.
    child.on('close', (code) => resolve(code ? `exit status ${code}` : null));
    child.stdin.end(text);
  });
  if (failed === null) return;
  warn(`the pager '${displayText(cmd)}' failed (${failed}): the text follows unpaged`);
  out.write(text);
}
