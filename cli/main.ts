#!/usr/bin/env node
// Entry point. `sbx --version` answers without loading the command-line parser; everything
// else goes through clipanion in app.ts. Only what a command uses is loaded (see commands.ts);
// even the colour library waits for a message that needs it.

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

const argv = process.argv.slice(2);
try {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    const { versionText } = await import('./version-text.js');
    process.stdout.write(versionText());
  } else {
    const { main } = await import('./app.js');
    process.exitCode = await main(argv);
  }
} catch (e) {
  const { error } = await import('./output.js');
  error(String(e));
  process.exitCode = 125;
}
