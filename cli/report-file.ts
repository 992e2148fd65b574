// Where `sbx run --report FILE` writes, fixed before the command runs. The report is written
// after it, by sbx (root under sudo): a command given a host dir with --bind could put a
// symlink at FILE, or in place of a dir on its way, and sbx then wrote its JSON wherever that
// led (tried 2026-12-05: `--bind DIR --report DIR/r.json` with the command's `ln -s VICTIM
// DIR/r.json` overwrote VICTIM). So the file's dir is opened at the start, resolved as the user
// named it then, and the report is written beside the name and renamed onto it: a rename
// replaces whatever is at the name and follows no link.
import { closeSync, constants as C, lstatSync, openSync, readlinkSync, realpathSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { Dir } from '../sandbox-core/beneath.js';
import { basename, dirname, resolve } from 'node:path';
import { SbxError } from '../sandbox-core/base/errors.js';
import { UsageError } from './usage-error.js';
import { displayText, fromUser } from '../sandbox-core/base/bpath.js';

export interface ReportTarget {
  /** The report's dir, opened before the command ran (closed on exec: the helper never has it); null once written. */
  dir: Dir | null;
  /** The file's name in it, a byte string. */
  name: string;
  /** The path as the user gave it, for messages. */
  given: string;
}

/**
 * Opens where the report goes: FILE's dir, with the links in the path the user gave resolved
 * now (FILE itself too when it is a link of theirs to a file), before anything runs.
 */
export function openReportTarget(given: string): ReportTarget {
  // resolve('') is the current directory, as for --bind ''.
  if (!given) throw new UsageError("--report '': give the file to write");
  const fail = (why: string): SbxError => new SbxError(`--report ${displayText(given)}: ${why}; nothing ran`, 125, 'name a file in an existing directory you can write');
  let path = resolve(given);
  // A link of the user's own at FILE is followed now, as a write would follow it, also to a
  // file it would create; the kernel's limit on a chain of links is 40.
  for (let hops = 0; lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink(); hops++) {
    if (hops === 40) throw fail('too many levels of symbolic links');
    path = resolve(dirname(path), readlinkSync(path));
  }
  const name = basename(path);
  if (!name || name === '.' || name === '..' || lstatSync(path, { throwIfNoEntry: false })?.isDirectory()) throw fail('a directory, not a file');
  let dir: string;
  try { dir = realpathSync(dirname(path)); } catch (e) { throw fail(`its directory cannot be opened (${(e as NodeJS.ErrnoException).code ?? 'error'})`); }
  try {
    return { dir: Dir.open(fromUser(dir)), name: fromUser(name), given };
  } catch (e) {
    throw fail(`its directory cannot be opened (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Writes `text` as the report: a new file in the dir opened at the start, renamed onto the name. */
export function writeReport(t: ReportTarget, text: string): void {
  const dir = t.dir;
  if (!dir) throw new SbxError(`cannot write the report ${displayText(t.given)}: written already`);
  const tmp = `.${t.name}.sbx-${process.pid}`;
  let made = false;
  try {
    const fd = openSync(dir.at(tmp), C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o666);
    made = true;
    try { writeFileSync(fd, text); } finally { closeSync(fd); }
    renameSync(dir.at(tmp), dir.at(t.name));
    made = false;
  } catch (e) {
    throw new SbxError(`cannot write the report ${displayText(t.given)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    if (made) try { unlinkSync(dir.at(tmp)); } catch { /* gone */ }
    dir.close();
    t.dir = null;
  }
}
