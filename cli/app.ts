// Parses argv with clipanion, runs the command, and turns errors into one line on stderr with
// a documented exit status (125 sbx failed, 126 cannot execute, 127 not found).
import { Builtins, Cli, UsageError, type BaseContext } from 'clipanion';
import { loadCommands } from './commands.js';
import { error, reported, say } from './output.js';
import { bindNegativeValues, commandOf, describeSyntaxError, seeHelp, tidyUsage } from './usage-text.js';
import { parseOption } from './definitions.js';
import { reportError } from './report-error.js';
import { loadConfig } from '../sandbox-core/config.js';
import { VERSION } from './version.js';
import { refuseLossyArgs } from './arg-bytes.js';

export async function main(argv: string[]): Promise<number> {
  // `sbx run` checks in executeRun, where the command (whose arguments may be any bytes) is known.
  if (argv[0] !== 'run') {
    try { refuseLossyArgs(argv, 0); } catch (e) { return reportError(e); }
  }
  // `sbx help [COMMAND...]` as git's: the help of that command, or sbx's own.
  if (argv[0] === 'help') argv = [...argv.slice(1).filter((a) => !a.startsWith('-')), '--help'];
  const cli = new Cli({ binaryName: 'sbx', binaryLabel: 'sbx', binaryVersion: VERSION, enableColors: false });
  for (const c of await loadCommands(argv)) cli.register(c);
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  const context = lazyContext();
  let command;
  try {
    command = cli.process(argv, context);
  } catch (e) {
    const defs = cli.definitions();
    const paths = defs.map((d) => d.path.split(' ').slice(1));
    // `--pids -1`: the negative number is the option's value; let the command judge it.
    const valueOptions = new Set(defs.flatMap((d) => d.options.map((o) => parseOption(o.definition)).filter((o) => o.takesValue).flatMap((o) => [...o.long.map((l) => `--${l}`), ...o.short.map((x) => `-${x}`)])));
    const retry = bindNegativeValues(argv, commandOf(argv, paths).split(' ').filter(Boolean).length, valueOptions);
    try {
      if (!retry) throw e;
      command = cli.process(retry, context);
    } catch {
      const p = describeSyntaxError(e as Error, argv, paths, new Map(defs.map((d) => [d.path.split(' ').slice(1).join(' '), d.options.map((o) => o.definition).join(' ')])),
        new Map(defs.map((d) => [d.path.split(' ').slice(1).join(' '), d.usage])));
      error(p.message);
      say(seeHelp(p.command));
      return 125;
    }
  }
  // clipanion's copy of the context (a spread) left the streams out.
  command.context = context;
  // What Cli.run would attach; we run the command ourselves so that errors go to stderr.
  command.cli = {
    binaryLabel: cli.binaryLabel,
    binaryName: cli.binaryName,
    binaryVersion: cli.binaryVersion,
    enableCapture: cli.enableCapture,
    enableColors: cli.enableColors,
    definitions: () => cli.definitions(),
    error: (error, opts) => cli.error(error, opts),
    format: (colored) => cli.format(colored),
    process: (input, sub) => { const c = lazyContext(sub); return Object.assign(cli.process(input, c), { context: c }); },
    run: (input, sub) => cli.run(input, { ...lazyContext(), stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, ...sub }),
    usage: (cmd, opts) => tidyUsage(cli.usage(cmd, opts)),
  };
  try {
    // An invalid config file is one clear line before any command does anything (help and
    // --version still answer: they are how one finds out what the file may hold).
    if (argv.length && !argv.some((a) => a === '-h' || a === '--help' || a === '-v' || a === '--version')) loadConfig();
    const code = await command.validateAndExecute();
    // An error reported on the way must not end in success (the reporter's count decides).
    return typeof code === 'number' && code !== 0 ? code : reported.errors ? 125 : 0;
  } catch (e) {
    return report(e, command);
  }
}

/**
 * The context sbx gives clipanion: stdin, stdout and stderr are made when a command first asks
 * for them (a pipe's stream loads node:net and node:stream: ~6 ms of `sbx discard`, which
 * writes only through cli/output.ts; made at the start instead, 1.11x its time). Not
 * enumerable, so the spreads clipanion copies a context with do not ask them
 * (scripts/bundle.mjs makes its default context so too): the command gets this object back
 * once parsed. Colours are cli/output.ts's.
 */
function lazyContext(own: Partial<BaseContext> = {}): BaseContext {
  const c: Partial<BaseContext> = { env: process.env, colorDepth: 1, ...own };
  for (const k of ['stdin', 'stdout', 'stderr'] as const) {
    if (!(k in c)) Object.defineProperty(c, k, { get: () => process[k], configurable: true });
  }
  return c as BaseContext;
}

function report(e: unknown, command: { path?: string[] } | undefined): number {
  if (e instanceof UsageError || (e as Error)?.name === 'UsageError') {
    // One line saying what is wrong and where to read more, not the whole synopsis.
    error((e as Error).message.split('\n')[0]!);
    say(seeHelp((command?.path ?? []).join(' ')));
    return 125;
  }
  return reportError(e);
}
