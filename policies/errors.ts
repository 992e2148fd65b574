// The one shape of an error a user can cause and fix, from the lowest floor up: a message,
// the exit status sbx ends with (125 refused, 126 cannot execute, 127 not found) and a hint
// saying what to do. policies/ throws it as it is; sandbox-core's SbxError is one.

export class UserError extends Error {
  constructor(message: string, readonly exitCode = 125, readonly hint?: string) {
    super(message);
    this.name = 'UserError';
  }
}
