// What the review says first and at a discard, in one place: the review (review.ts), and a
// run that changed nothing, which ends without loading it (run-exec.ts).

export const NO_CHANGES = 'no changes';

/**
 * The summary's count when it is empty. `direct`: the flags that gave the command a writable
 * host path (`--bind /srv/out`), whose writes went to the host uncaptured: "no changes" alone
 * would read as "it wrote nothing".
 */
export const noChanges = (direct: readonly string[]): string => (direct.length ? `${NO_CHANGES} outside ${direct.join(', ')}` : NO_CHANGES);

/** The line of a discard; the host was not touched unless a writable bind or device reached it. */
export const discarded = (direct: readonly string[]): string => (direct.length
  ? `discarded: nothing was written to the host except through ${direct.join(', ')}`
  : 'discarded: the host was not touched');

/** The summary's first line: `Changes: 2 added, 1 modified`. */
export const changesHeading = (bold: (s: string) => string, counted: string): string => `${bold('Changes')}: ${counted}\n`;
