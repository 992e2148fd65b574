// `sbx diff ID --name-only`: the changed paths, one per line. Shared by DiffCommand and by the
// bundle's list part (cli/entry-list.ts), which runs it without loading clipanion and the
// other commands: a list of 100k names is a command people pipe into others, and the whole
// CLI was ~60 ms of its time.
import { lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveAnywhere, type Store } from '../sandbox-core/store.js';
import type { ScanResult } from '../sandbox-core/changes/scan.js';
import { display, fromUser } from '../sandbox-core/base/bpath.js';
import { SbxError } from '../sandbox-core/base/errors.js';
import { warnIfInterrupted } from './interrupted.js';
import { scanSandboxAsync } from '../sandbox-core/changes/scan.js';
import { warn } from './output.js';
import { rootOnlyHint } from './as-root.js';
import { progressLine } from './progress.js';
import { writeNameOnly } from './render-changes.js';
import { stdoutBytes, streamWriter } from './stdout-text.js';

export interface NameFilters {
  paths: readonly string[];
  only: string[];
  exclude: string[];
}

/**
 * Writes the names to `out` (waiting for a slow reader), or to fd 1 itself when `out` is
 * null (the list part); the number of changes listed, and how many parts of the layers
 * could not be read (each warned about: the list lacks what they hold).
 */
export async function diffNameOnly(ref: string, f: NameFilters, out: NodeJS.WritableStream | null): Promise<{ listed: number; unread: number }> {
  const { store, meta } = resolveAnywhere(ref);
  warnIfInterrupted(meta);
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
  checkPathFilters(store, f.paths, scan);
  for (const e of scan.errors) warn(e);
  rootOnlyHint(scan.rootOnly, store, meta.name ?? meta.id);
  for (const u of scan.unmatched ?? []) warn(u);
  if (out) await writeNameOnly(scan.changes, streamWriter(out), scan.named);
  else await writeNameOnly(scan.changes, stdoutBytes, scan.named, true);
  return { listed: scan.changes.length + (scan.named?.length ?? 0), unread: scan.errors.length };
}

/**
 * Before anything is printed: a PATH that selects no change is said, as a pattern that matches
 * none is; one that names a sandbox and no file here is refused, as diff takes one id: `sbx
 * diff A B` took B for a path and said A had no changes (exit 0 with --exit-code).
 */
export function checkPathFilters(store: Store, typed: readonly string[], scan: ScanResult): void {
  const unmatched = new Set(scan.unmatchedPaths ?? []);
  if (!unmatched.size) return;
  for (const t of typed) {
    const root = fromUser(resolve(t));
    if (!unmatched.has(root)) continue;
    if (!t.includes('/') && !lstatSync(t, { throwIfNoEntry: false }) && isSandbox(store, t)) {
      const x = display(fromUser(t));
      throw new SbxError(`diff takes one sandbox id, and '${x}' is a sandbox`, 125, `'./${x}' for a path of that name`);
    }
    unmatched.delete(root);
    warn(`PATH ${display(root)} matches no change`);
  }
}

function isSandbox(store: Store, ref: string): boolean {
  try { store.resolveEntry(ref); return true; } catch { return false; }
}
