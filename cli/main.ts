#!/usr/bin/env node
// Entry point. `sbx --version` answers without loading the command-line parser, and so does
// `sbx run` with only its common flags (cli/run-fast.ts); everything else goes through
// clipanion in app.ts. Only what a command uses is loaded (see commands.ts); even the colour
// library waits for a message that needs it.

// A closed stdout (`sbx diff | head`) ends sbx quietly. The guard is attached when stdout is
// first used: making the stream costs milliseconds (node:stream, tty), and a run never writes
// to stdout (it belongs to the command).
const stdoutDesc = Object.getOwnPropertyDescriptor(process, 'stdout');
if (stdoutDesc?.get && stdoutDesc.configurable) {
  Object.defineProperty(process, 'stdout', {
    configurable: true,
    enumerable: stdoutDesc.enumerable,
    get() {
      Object.defineProperty(process, 'stdout', stdoutDesc);
      return guardEpipe(process.stdout);
    },
  });
} else {
  guardEpipe(process.stdout);
}

function guardEpipe(s: NodeJS.WriteStream): NodeJS.WriteStream {
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  return s;
}

const argv = process.argv.slice(2);
try {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    const { versionText } = await import('./version-text.js');
    process.stdout.write(versionText());
  } else {
    const fast = argv[0] === 'run' ? (await import('./run-fast.js')).parseRunFast(argv.slice(1)) : null;
    if (fast) {
      const { executeRun } = await import('./run-exec.js');
      const { reported } = await import('./output.js');
      const { reportError } = await import('./report-error.js');
      try {
        const code = await executeRun(fast);
        process.exitCode = code !== 0 ? code : reported.errors ? 125 : 0;
      } catch (e) {
        process.exitCode = reportError(e);
      }
    } else {
      const { main } = await import('./app.js');
      process.exitCode = await main(argv);
    }
  }
} catch (e) {
  const { error } = await import('./output.js');
  error(String(e));
  process.exitCode = 125;
}
