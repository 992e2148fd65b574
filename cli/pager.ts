// Long output on a TTY goes through $PAGER (default `less -R`), like git.
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';

export async function page(text: string, out: Writable): Promise<void> {
  const tty = out === process.stdout && process.stdout.isTTY;
  const rows = process.stdout.rows ?? 24;
  if (!tty || text.split('\n').length < rows || process.env.PAGER === 'cat' || process.env.PAGER === '') {
    out.write(text);
    return;
  }
  const cmd = process.env.PAGER || 'less -R';
  await new Promise<void>((resolve) => {
    const child = spawn('/bin/sh', ['-c', cmd], { stdio: ['pipe', 'inherit', 'inherit'], env: { LESS: 'FRX', ...process.env } });
    child.on('error', () => { out.write(text); resolve(); });
    child.stdin.on('error', () => { /* the user quit the pager early */ });
    child.on('close', () => resolve());
    child.stdin.end(text);
  });
}
