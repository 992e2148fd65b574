// The part of the bundle `sbx diff ID --name-only` loads (see cli/main.ts): the name list
// alone, without clipanion and the other commands.
import { diffNameOnly } from './diff-names.js';
import { reported } from './output.js';
import { reportError } from './report-error.js';

export async function listMain(ref: string): Promise<number> {
  try {
    const { unread } = await diffNameOnly(ref, { paths: [], only: [], exclude: [] }, null);
    return reported.errors ? 125 : unread ? 1 : 0;
  } catch (e) {
    return reportError(e);
  }
}
