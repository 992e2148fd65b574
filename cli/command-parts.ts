// The commands whose own part of the bundle the entry loads (cli/main.ts): app.ts built with
// only that command (scripts/bundle.mjs), so `sbx ls`, `sbx diff ID`, `sbx commit ID` and `sbx
// discard ID` read and deserialize a third of app.js. The same code runs: app.ts, with
// clipanion, loads only the command argv names (cli/commands.ts loadCommands), help and
// usage errors included. Names are the parts' file names too: lower-case letters only (the
// code cache's file names, cli/code-cache.ts).
export const COMMAND_PARTS = ['commit', 'diff', 'discard', 'ls'] as const;
export type CommandPart = (typeof COMMAND_PARTS)[number];

/** The command part argv's first word names, or null (then app.js). */
export function commandPart(argv: readonly string[]): CommandPart | null {
  return (COMMAND_PARTS as readonly string[]).includes(argv[0] ?? '') ? (argv[0] as CommandPart) : null;
}
