// sbx's stdout for what it writes there itself (ls's table or JSON, a commit's --dry-run
// steps, diff's text and JSON, `diff --name-only`): write(2) on fd 1, as cli/output.ts writes
// stderr. Node's process.stdout costs a pipe's node:net and node:stream to make (~9 ms), and
// a command that may write nothing there (a commit, whose report goes to stdout only with
// --dry-run; `run -y`) made it just by passing it.
import { writeSync } from 'node:fs';
import { isatty } from '../sandbox-core/base/light-process.js';

/** Writes to a stream, waiting for a slow reader: the stream keeps each piece until written. */
export function streamWriter(out: NodeJS.WritableStream): (b: Buffer) => Promise<void> | undefined {
  return (b) => (out.write(b) ? undefined : new Promise<void>((r) => out.once('drain', () => r())));
}

// Set once a write met a descriptor another process left non-blocking and full (EAGAIN, a slow
// reader): the rest goes through process.stdout, which waits for the reader, each piece
// copied; everything after it too, so nothing overtakes what the stream still holds (cli/main.ts
// waits for it before exiting).
let viaStream: ((b: Buffer) => Promise<void> | undefined) | null = null;

/**
 * Writes `b` to fd 1, written before it returns (the caller may reuse `b`) unless it went to
 * the stream: then a promise while the stream waits for its reader. A closed pipe (EPIPE:
 * `sbx ls | head -1`) ends sbx quietly, as process.stdout's guard does (cli/main.ts).
 */
export function stdoutBytes(b: Buffer): Promise<void> | undefined {
  if (viaStream) return viaStream(Buffer.from(b));
  for (let o = 0; o < b.length;) {
    try {
      o += writeSync(1, b, o);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') process.exit(process.exitCode ?? 0);
      if (code !== 'EAGAIN') throw e;
      viaStream = streamWriter(process.stdout);
      return viaStream(Buffer.from(b.subarray(o)));
    }
  }
  return undefined;
}

/** Where a command writes text: stdoutText, or a stream a caller gave it. */
export interface TextOut {
  write(text: string): unknown;
  /** The terminal's width when it is one. */
  readonly columns?: number | undefined;
}

export const stdoutText: TextOut = {
  write: (text: string): boolean => stdoutBytes(Buffer.from(text, 'utf8')) === undefined,
  get columns(): number | undefined {
    return isatty(1) ? process.stdout.columns : undefined;
  },
};

/**
 * The stream the caller gave the command as its stdout, or null when it gave none:
 * cli/app.ts's context makes process.stdout only when asked (a getter), a stream given is a
 * plain value.
 */
export function givenStdout<S extends NodeJS.WritableStream>(context: { stdout: S }): S | null {
  return Object.getOwnPropertyDescriptor(context, 'stdout')?.get ? null : context.stdout;
}

/** stdoutText, unless the caller gave the command a stdout of its own. */
export function textOut(context: { stdout: NodeJS.WritableStream }): TextOut {
  return givenStdout(context) ?? stdoutText;
}
