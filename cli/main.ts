#!/usr/bin/env node
// Entry point (dist/bin/sbx.js, CommonJS): picks which part of the bundle a command needs and
// loads only that one file, through V8's code cache (cli/code-cache.ts). `sbx --version`
// loads the version part, `sbx run` with only its common flags the run part (parsed by hand in
// cli/run-fast.ts, no clipanion), `sbx diff ID --name-only` the list part, `sbx ls`, `diff`,
// `commit` and `discard` a part with clipanion and that command alone (cli/command-parts.ts);
// everything else loads the whole CLI (app.ts). CommonJS, not
// ES modules: Node's ES module loader alone costs a tenth of its start-up.
import { loadPart } from './code-cache.js';
import { fastPart, parseRunFast } from './run-fast.js';
import { nameOnlyRef } from './list-fast.js';
import { commandPart, type CommandPart } from './command-parts.js';
import { terminalSafe } from '../sandbox-core/base/bpath.js';
import { restoreLauncherEnv } from './launcher.js';

// Before anything reads the environment (cli/launcher.ts).
restoreLauncherEnv(process.env);

// Baked in by scripts/bundle.mjs: each part's content hash, which names its code cache.
declare const __SBX_PARTS__: Record<'version' | 'run' | 'quiet' | 'list' | 'app' | CommandPart, string>;

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

async function main(argv: string[]): Promise<void> {
  try {
    if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
      loadPart<typeof import('./entry-version.js')>(__dirname, 'version', __SBX_PARTS__.version).versionMain();
      return;
    }
    const fast = argv[0] === 'run' ? parseRunFast(argv.slice(1)) : null;
    if (fast) {
      const part = fastPart(fast);
      process.exitCode = await loadPart<typeof import('./entry-run.js')>(__dirname, part, __SBX_PARTS__[part]).runMain(fast);
      // Everything is done and said (sbx's messages are written synchronously; stdout is the
      // command's): exit now instead of when the event loop drains, which has Node dispose
      // of its heap page by page first. 'exit' handlers (the code cache) still run.
      process.exit();
    }
    const listRef = argv[0] === 'diff' ? nameOnlyRef(argv.slice(1)) : null;
    if (listRef !== null) {
      process.exitCode = await loadPart<typeof import('./entry-list.js')>(__dirname, 'list', __SBX_PARTS__.list).listMain(listRef);
      return;
    }
    const part = commandPart(argv) ?? 'app';
    process.exitCode = await loadPart<typeof import('./app.js')>(__dirname, part, __SBX_PARTS__[part]).main(argv);
  } catch (e) {
    // Only a broken install gets here (a part missing): the parts report their own errors.
    process.stderr.write(`sbx: error: ${terminalSafe(String(e))}\n`);
    process.exitCode = 125;
  }
}
void main(process.argv.slice(2));
