// Every canary tree a test makes is named `sbx-canary-RUN-…`, RUN being the runner's id for
// this suite (SBX_TEST_RUN): the runner then finds what a test left behind without mistaking
// another suite's live canary, running beside it on the same machine, for a leftover.
const run = process.env.SBX_TEST_RUN;

/** The prefix for mkdtempSync (and hand-made names) of a canary tree. */
export const CANARY = `sbx-canary-${run ? `${run}-` : ''}`;
