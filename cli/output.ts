// sbx's own messages: the one path from sbx to the terminal. stdout belongs to the sandboxed
// command (and to data output such as --json), so everything sbx says goes to stderr. Colour
// only when stderr is a TTY and NO_COLOR is unset. Every line written here passes through
// terminalSafe (the escaping of bpath.ts): a name, id, argv word or error text with escape
// bytes in it cannot recolour or move the cursor even if the caller forgot display().
import pc from 'picocolors';
import { writeSync } from 'node:fs';
import { isatty } from '../sandbox-core/base/light-process.js';
import { terminalSafe } from '../sandbox-core/base/bpath.js';
import { setNoticeSink } from '../sandbox-core/notices.js';
import { safeConfig } from '../sandbox-core/config.js';
import { wordLines } from './wrap.js';

// The config file's "color": "never" and "always" beat the terminal check; NO_COLOR beats both.
const colorSetting = safeConfig().color ?? 'auto';
const colorOn = (tty: boolean | undefined) => !('NO_COLOR' in process.env) && colorSetting !== 'never' && (colorSetting === 'always' || (!!tty && process.env.TERM !== 'dumb'));

// isatty, not process.stdout/stderr.isTTY: making those streams costs milliseconds, and a run
// never writes to stdout (the command's) nor, with -q, to stderr.
export const colors = pc.createColors(colorOn(isatty(2)));
export const stdoutColors = pc.createColors(colorOn(isatty(1)));

// A command that wrote on the terminal sbx then writes to may have left it in a state that
// hides or garbles what sbx says next (docs/security.md, "The terminal after the command"): an
// escape string left open swallows it (into a window title, a DCS), concealed or
// background-coloured text, a line-drawing character set, a one-line scrolling region, text
// drawn below the cursor that would read as part of the summary's lines. sbx's first write
// after such a command ends each of those. The command's own output stays on the screen as it
// drew it, and so does what only looks different (the alternate screen, the window title).
export const TERMINAL_RESTORE = [
  '\x18\x1b\\', // CAN then ST: an escape sequence or string left open ends here, without effect
  '\x1b7\x1b[r\x1b8', // the scrolling region the whole screen again; DECSTBM homes the cursor: saved and restored around it
  '\x1b[J', // nothing below the cursor
  '\x1b[0m\x1b(B\x0f', // plain attributes and ASCII, after the restore (which brings back the saved ones)
  '\x1b[?25h\x1b[?7h', // the cursor shown, long lines wrapped, not cut at the last column
  '\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1004l', // no mouse or focus reports typed into the question
].join('');
let restoreOwed = false;

/** The sandboxed command has ended: if stderr is a terminal it may have written there, and sbx's next write restores it first. */
export function commandEnded(): void {
  const term = process.env.TERM;
  restoreOwed = isatty(2) && !!term && term !== 'dumb';
}

// write(2) on fd 2, not process.stderr: Node builds that stream on first use (a tty's
// WriteStream, a pipe's socket), which cost a run that says two lines (`run -n`) 1.3-5 ms here
// (in-process, fresh node, pty, pipe or /dev/null, load ~8). What one call could not write (a
// non-blocking fd that is full: EAGAIN; EPIPE; any error) goes to the stream, as it always
// did, and so does everything after it, so nothing overtakes what the stream still holds.
// Node's own writes to a tty, a pipe or a file are synchronous: readline's prompt, the pager's
// and this interleave in the order made.
let viaStream = false;
function toStderr(text: string): void {
  if (restoreOwed) {
    restoreOwed = false;
    text = TERMINAL_RESTORE + text;
  }
  if (!viaStream) {
    const b = Buffer.from(text, 'utf8');
    let n = 0;
    try {
      while (n < b.length) n += writeSync(2, b, n, b.length - n);
      return;
    } catch {
      viaStream = true;
      process.stderr.write(b.subarray(n));
      return;
    }
  }
  process.stderr.write(text);
}

let quiet = false;
export function setQuiet(q: boolean): void {
  quiet = q;
}

/** Escapes each line of a message, keeping the line breaks. */
export function safe(msg: string): string {
  return msg.split('\n').map(terminalSafe).join('\n');
}

// On a terminal a message longer than a line wraps between words, its next lines indented, so
// a long path in a warning does not run past 80 columns mid-word. Into a pipe or a file each
// message stays one line, as a log reader or grep wants it.
const WIDTH = 80;
const wrapping = isatty(2);

/**
 * The escaped message, each line fitted to the terminal: the first after a prefix `lead`
 * columns wide (`sbx: warning: `), the lines it wraps into indented by two.
 */
export function fit(lead: number, msg: string, wrap = wrapping): string {
  return safe(msg).split('\n').map((l, i) => {
    const room = WIDTH - (i ? 0 : lead);
    if (!wrap || l.length <= room) return l;
    const indent = /^ */.exec(l)![0];
    return indent + wordLines(l, room - indent.length, WIDTH - indent.length - 2).join(`\n${indent}  `);
  }).join('\n');
}

/** Counts what was reported, so a command's exit status can say that something went wrong. */
export const reported = { errors: 0, warnings: 0 };

/** An informational line (silenced by -q). */
export function info(msg: string): void {
  if (!quiet) toStderr(`${colors.dim('sbx:')} ${fit(5, msg)}\n`);
}

/** A warning: something is weaker than asked for (silenced by -q). */
export function warn(msg: string): void {
  reported.warnings++;
  if (!quiet) toStderr(`${colors.yellow('sbx: warning:')} ${fit(14, msg)}\n`);
}

/** An error: always printed. */
export function error(msg: string): void {
  reported.errors++;
  toStderr(`${colors.red('sbx: error:')} ${fit(12, msg)}\n`);
}

/** A line without the `sbx:` prefix (list items, prompts), escaped, then painted. */
export function line(msg: string, paint: (s: string) => string = (s) => s): void {
  toStderr(`${paint(safe(msg))}\n`);
}

/**
 * Text a renderer built from escaped parts and sbx's own colours (the change summary, usage
 * text): written as is, because escaping it again would show the colours as `\x1b[31m`.
 * Callers must have passed every name through display()/displayText().
 */
export function rendered(text: string): void {
  toStderr(text);
}

/** A line with the `sbx:` prefix that -q does not silence. */
export function say(msg: string): void {
  toStderr(`${colors.dim('sbx:')} ${fit(5, msg)}\n`);
}

setNoticeSink((level, msg) => (level === 'warn' ? warn : level === 'always' ? say : info)(msg));
