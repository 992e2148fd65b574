// sbx's own messages. stdout belongs to the sandboxed command (and to data output such as
// --json), so everything sbx says goes to stderr. Colour only when stderr is a TTY and
// NO_COLOR is unset.
import pc from 'picocolors';

const useColor = !!process.stderr.isTTY && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
export const colors = pc.createColors(useColor);
export const stdoutColors = pc.createColors(!!process.stdout.isTTY && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb');

let quiet = false;
export function setQuiet(q: boolean): void {
  quiet = q;
}

/** An informational line (silenced by -q). */
export function info(msg: string): void {
  if (!quiet) process.stderr.write(`${colors.dim('sbx:')} ${msg}\n`);
}

/** A warning: something is weaker than asked for (silenced by -q). */
export function warn(msg: string): void {
  if (!quiet) process.stderr.write(`${colors.yellow('sbx: warning:')} ${msg}\n`);
}

/** An error: always printed. */
export function error(msg: string): void {
  process.stderr.write(`${colors.red('sbx: error:')} ${msg}\n`);
}
