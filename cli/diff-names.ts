// `sbx diff ID --name-only`: the changed paths, one per line. Shared by DiffCommand and by the
// bundle's list part (cli/entry-list.ts), which runs it without loading clipanion and the
// other commands: a list of 100k names is a command people pipe into others, and the whole
// CLI was ~60 ms of its time.
import { resolve } from 'node:path';
import { resolveAnywhere } from '../sandbox-core/store.js';
import { scanSandboxAsync } from '../sandbox-core/changes/scan.js';
import { warn } from './output.js';
import { progressLine } from './progress.js';
import { writeNameOnly } from './render-changes.js';

export interface NameFilters {
  paths: readonly string[];
  only: string[];
  exclude: string[];
}

/** Writes the names to `out` (waiting for a slow reader); the number of changes listed. */
export async function diffNameOnly(ref: string, f: NameFilters, out: NodeJS.WritableStream): Promise<number> {
  const { meta } = resolveAnywhere(ref);
  const progress = progressLine();
  const scan = await scanSandboxAsync(meta, {
    only: f.only, exclude: f.exclude, paths: f.paths.map((p) => resolve(p)),
    progress: (phase, n) => progress.update(`${phase}: ${n} entries`),
    // A name shows no xattrs, and a new file the host lacks needs no stat: the helper reports
    // it by name and kind.
    fewXattrs: true,
    namesOnly: true,
  });
  progress.end();
  for (const e of scan.errors) warn(e);
  for (const u of scan.unmatched ?? []) warn(u);
  const drained = (s: string | Buffer): Promise<void> | undefined => (out.write(s) ? undefined : new Promise<void>((r) => out.once('drain', () => r())));
  await writeNameOnly(scan.changes, drained, scan.named);
  return scan.changes.length + (scan.named?.length ?? 0);
}

