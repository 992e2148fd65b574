// Long output on a TTY goes through a pager (config "pager", $PAGER, else `less -R`), like git.
import { childProcess } from '../sandbox-core/base/builtin.js';
import type { Writable } from 'node:stream';
import { safeConfig } from '../sandbox-core/config.js';

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
  await new Promise<void>((resolve) => {
    const child = childProcess().spawn('/bin/sh', ['-c', cmd], { stdio: ['pipe', 'inherit', 'inherit'], env: { LESS: 'FRX', ...process.env } });
    child.on('error', () => { out.write(text); resolve(); });
    child.stdin.on('error', () => { /* the user quit the pager early */ });
    child.on('close', () => resolve());
    child.stdin.end(text);
  });
}
