// sbx's stdout for the text it writes itself (ls's table or JSON, a commit's --dry-run steps):
// write(2) on fd 1, as cli/output.ts writes stderr. Node's process.stdout costs a pipe's
// node:net and node:stream to make (~9 ms), and a command that may write nothing there (a
// commit, whose report goes to stdout only with --dry-run; `run -y`) made it just by passing it.
import { writeSync } from 'node:fs';
import { isatty } from '../sandbox-core/base/light-process.js';

/** Where a command writes text: stdoutText, or a stream a caller gave it. */
export interface TextOut {
  write(text: string): unknown;
  /** The terminal's width when it is one. */
  readonly columns?: number | undefined;
}

// What one call could not write (a non-blocking fd that is full: EAGAIN; any error but EPIPE)
// goes to process.stdout, as it always did, and so does everything after it, so nothing
// overtakes what the stream still holds (cli/main.ts waits for it before exiting).
let viaStream = false;
let closed = false;

export const stdoutText: TextOut = {
  write(text: string): boolean {
    if (closed) return false;
    if (viaStream) return process.stdout.write(text);
    const b = Buffer.from(text, 'utf8');
    let n = 0;
    try {
      while (n < b.length) n += writeSync(1, b, n, b.length - n);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EPIPE') {
        // As process.stdout's guard (cli/main.ts): a closed stdout (`sbx ls | head -1`) ends
        // sbx quietly once what runs now is done, as the stream's error event did.
        closed = true;
        process.nextTick(() => process.exit(process.exitCode ?? 0));
        return false;
      }
      viaStream = true;
      return process.stdout.write(b.subarray(n));
    }
  },
  get columns(): number | undefined {
    return isatty(1) ? process.stdout.columns : undefined;
  },
};

/**
 * stdoutText, unless the caller gave the command a stdout of its own: cli/app.ts's context
 * makes process.stdout only when asked (a getter), a stream given is a plain value.
 */
export function textOut(context: { stdout: NodeJS.WritableStream }): TextOut {
  return Object.getOwnPropertyDescriptor(context, 'stdout')?.get ? stdoutText : context.stdout;
}
