// A usage error that clipanion renders as its own (the message, then the command's usage),
// without loading clipanion: `sbx run`'s fast path (cli/run-fast.ts) parses argv by hand and
// must not pay for the parser just to be able to throw this.
export class UsageError extends Error {
  readonly clipanion = { type: 'usage' as const };
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
