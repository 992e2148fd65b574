// What the review says first and at a discard, in one place: the review (review.ts), and a
// run that changed nothing, which ends without loading it (run-exec.ts).

export const NO_CHANGES = 'no changes';
export const DISCARDED = 'discarded: the host was not touched';

/** The summary's first line: `Changes: 2 added, 1 modified`. */
export const changesHeading = (bold: (s: string) => string, counted: string): string => `${bold('Changes')}: ${counted}\n`;
