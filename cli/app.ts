// Parses argv with clipanion, runs the command, and turns errors into one line on stderr with
// a documented exit status (125 sbx failed, 126 cannot execute, 127 not found).
import { Builtins, Cli, UsageError } from 'clipanion';
import { loadCommands } from './commands.js';
import { rendered, reported, safe } from './output.js';
import { reportError } from './report-error.js';
import { VERSION } from './version.js';

export async function main(argv: string[]): Promise<number> {
  const cli = new Cli({ binaryName: 'sbx', binaryLabel: 'sbx', binaryVersion: VERSION, enableColors: false });
  for (const c of await loadCommands(argv)) cli.register(c);
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  const context = { ...Cli.defaultContext, colorDepth: 1 };
  let command;
  try {
    command = cli.process(argv, context);
  } catch (e) {
    rendered(safe(cli.error(e as Error, { colored: false })));
    return 125;
  }
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
    process: (input, sub) => cli.process(input, { ...context, ...sub }),
    run: (input, sub) => cli.run(input, { ...context, ...sub }),
    usage: (cmd, opts) => cli.usage(cmd, opts),
  };
  try {
    const code = await command.validateAndExecute();
    // An error reported on the way must not end in success (the reporter's count decides).
    return typeof code === 'number' && code !== 0 ? code : reported.errors ? 125 : 0;
  } catch (e) {
    return report(e, cli, command);
  }
}

function report(e: unknown, cli: Cli, command: any): number {
  if (e instanceof UsageError || (e as Error)?.name === 'UsageError') {
    rendered(safe(cli.error(e as Error, { colored: false, command })));
    return 125;
  }
  return reportError(e);
}
