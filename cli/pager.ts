// Long output on a TTY goes through a pager (config "pager", $PAGER, else `less -R`), like git.
import { childProcess } from '../sandbox-core/base/builtin.js';
import type { Writable } from 'node:stream';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { safeConfig } from '../sandbox-core/config.js';
import { displayText } from '../sandbox-core/base/bpath.js';
import { fdinfoField } from '../sandbox-core/base/fdinfo.js';
import { warn } from './output.js';

/**
 * `text` in a file of sbx's own (0600, unlinked at once), open for reading at offset 0: the
 * review shows the sandbox's files, which need not be readable by others in a shared TMPDIR.
 */
function textFile(text: string): number {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-page-'));
  try {
    const p = join(dir, 'text');
    writeFileSync(p, text, { mode: 0o600, flag: 'wx' });
    return openSync(p, 'r');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

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
  // The text goes in as a file, not a pipe: the offset of its open description, shared with
  // the pager, says afterwards whether the pager read any of it. A pager that exits non-zero
  // after showing the text (quit with a key some pagers end on with status 1) must not have it
  // printed again; one that never read it (not found, not executable, `false`, a bad option)
  // must not lose it. A pipe cannot tell the two apart: the kernel buffers 64 KiB unread.
  let fd: number;
  try {
    fd = textFile(text);
  } catch (e) {
    warn(`the pager was not used (${(e as Error).message}): the text follows unpaged`);
    out.write(text);
    return;
  }
  let failed: string | null;
  let read = 0;
  try {
    failed = await new Promise<string | null>((resolve) => {
      const child = childProcess().spawn('/bin/sh', ['-c', cmd], { stdio: [fd, 'inherit', 'inherit'], env: { LESS: 'FRX', ...process.env } });
      child.on('error', (e) => resolve(e.message));
      // A signal (Ctrl-C in the pager) is the user's doing.
      child.on('close', (code) => resolve(code ? `exit status ${code}` : null));
    });
    read = fdinfoField(fd, 'pos');
  } finally {
    closeSync(fd);
  }
  if (failed === null) return;
  // It read the text: the user saw it in the pager, whatever status the pager ended with.
  if (read > 0) return;
  warn(`the pager '${displayText(cmd)}' failed (${failed}): the text follows unpaged`);
  out.write(text);
}
