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
declare const __SBX_PARTS__: Record<'version' | 'run' | 'review' | 'quiet' | 'list' | 'app' | CommandPart, string>;

// The stdio streams this process made, each when first used: making one costs milliseconds
// (node:stream, node:net for a pipe, tty), a run never writes to stdout (it belongs to the
// command), and sbx writes its own messages with writeSync. A closed stdout (`sbx diff | head`)
// ends sbx quietly: its guard is attached as it is made.
const made: NodeJS.WriteStream[] = [];
for (const name of ['stdout', 'stderr'] as const) {
  const desc = Object.getOwnPropertyDescriptor(process, name);
  if (desc?.get && desc.configurable) {
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: desc.enumerable,
      get() {
        Object.defineProperty(process, name, desc);
        return madeNow(process[name], name);
      },
    });
  } else {
    madeNow(process[name], name);
  }
}

function madeNow(s: NodeJS.WriteStream, name: 'stdout' | 'stderr'): NodeJS.WriteStream {
  made.push(s);
  if (name === 'stdout') {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  return s;
}

/**
 * Ends sbx once a command is done, rather than when the event loop drains: Node then disposes
 * of its heap page by page first (~3-8 ms of `sbx ls` or `discard`). 'exit' handlers (the code
 * cache) still run. Not before each stream has written what it holds: a pipe takes what does
 * not fit in it as its reader reads, and exiting would cut that off (an empty write's callback
 * comes once every write before it is done).
 */
async function exitNow(): Promise<void> {
  for (const s of made) if (s.writableLength) await new Promise<void>((r) => s.write('', () => r()));
  process.exit();
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
      // run.js loads the review's part when a run gets there (scripts/bundle.mjs), once.
      let review: unknown;
      (globalThis as Record<symbol, unknown>)[Symbol.for('sbx.reviewPart')] = () => (review ??= loadPart(__dirname, 'review', __SBX_PARTS__.review));
      process.exitCode = await loadPart<typeof import('./entry-run.js')>(__dirname, part, __SBX_PARTS__[part]).runMain(fast);
      await exitNow();
      return;
    }
    const listRef = argv[0] === 'diff' ? nameOnlyRef(argv.slice(1)) : null;
    if (listRef !== null) {
      process.exitCode = await loadPart<typeof import('./entry-list.js')>(__dirname, 'list', __SBX_PARTS__.list).listMain(listRef);
      await exitNow();
      return;
    }
    const part = commandPart(argv) ?? 'app';
    process.exitCode = await loadPart<typeof import('./app.js')>(__dirname, part, __SBX_PARTS__[part]).main(argv);
    await exitNow();
  } catch (e) {
    // Only a broken install gets here (a part missing): the parts report their own errors.
    process.stderr.write(`sbx: error: ${terminalSafe(String(e))}\n`);
    process.exitCode = 125;
  }
}
void main(process.argv.slice(2));
