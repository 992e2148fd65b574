// sbx diff: what a saved sandbox changed, as a summary with unified diffs, --stat,
// --name-only or --json.
import { Command, Option } from 'clipanion';
import { UsageError } from './usage-error.js';
import { resolveAnywhere, sbxFor } from '../sandbox-core/store.js';
import { warnIfInterrupted } from './interrupted.js';
import { scanSandboxAsync, type ScanResult } from '../sandbox-core/changes/scan.js';
import { display, fromUser } from '../sandbox-core/base/bpath.js';
import { stdoutColors, warn } from './output.js';
import { rootOnlyHint } from './as-root.js';
import { changesJson, countLine, renderDiffs, renderStat, renderSummary, STAT_MAX_BYTES, DIFF_MAX_BYTES, writeDiffs } from './render-changes.js';
import { page } from './pager.js';
import { givenStdout, stdoutBytes, stdoutText, streamWriter } from './stdout-text.js';
import { isatty } from '../sandbox-core/base/light-process.js';
import { checkPathFilters, diffNameOnly } from './diff-names.js';
import { progressLine } from './progress.js';
import { countText } from '../sandbox-core/base/count-text.js';
import { diffView } from './render-diff-folds.js';
import { resolve } from 'node:path';

export class DiffCommand extends Command {
  static override paths = [['diff']];
  static override usage = Command.Usage({
    description: 'show what a saved sandbox changed',
    details: `
      Lists every change against the host (added, modified, deleted, replaced = type change, metadata = only mode/owner/times/xattrs), then unified diffs of text files (a new program's header says its mode: \`(added, mode 755)\`), and each symlink's target (\`symlink -> /etc/shadow\`: a new dir's line only counts its links). A new or deleted directory is one line with its counts and size, and caches, logs, bytecode and shell history (the fold list, policies/fold.json) and a git repository's own files are one counted line each, and get no diff (one line at the end says how many were left out; flagged \`!\` files always get theirs); \`--all\`, or a PATH or \`--only\` pattern inside the folded place (\`sbx diff ID /src/x/.git\`), shows them. Binary and large files show sizes. On a terminal long output goes through \`$PAGER\` (default \`less -R\`).

      PATH arguments and \`--only\`/\`--exclude\` globs (\`*\`, \`**\`, \`?\`; a pattern covers everything below what it names; a pattern without a leading / matches at any depth) narrow the list. \`--json\` prints \`{"id", "changes": [{"path", "change", "type", "size", "mode"?, "target"?}]}\` (\`mode\`: a new file's or dir's, \`"755"\`); a path that is not valid UTF-8 is escaped and its bytes given in base64 as \`rawPath\`, and the parts of the layers that could not be read as \`"unread"\`.

      Exit status 0; 1 when part of the layers could not be read (warned about: the list may be incomplete), or with \`--exit-code\` when there are changes among those the PATHs and globs select (as \`git diff --exit-code\` with a pathspec: 0 when nothing there changed, whatever changed elsewhere). A PATH that selects no change is warned about, and the summary then says how many changes there are in all; one that names a saved sandbox and no file is refused: diff takes one ID.
    `,
    examples: [
      ['Review a sandbox', 'sbx diff trial'],
      ['Only the names', 'sbx diff trial --name-only'],
      ['Counts per file', 'sbx diff trial --stat'],
      ['Every path, nothing grouped or folded', 'sbx diff trial --all'],
      ['Machine-readable', 'sbx diff trial --json'],
      ['Fail a script if anything changed under /etc', 'sbx diff trial --exit-code /etc'],
    ],
  });

  ref = Option.String({ name: 'ID' });
  pathArgs = Option.Rest({ name: "PATH" });
  stat = Option.Boolean('--stat', false, { description: 'Lines added and removed per file' });
  nameOnly = Option.Boolean('--name-only', false, { description: 'Only the changed paths, one per line' });
  json = Option.Boolean('--json', false, { description: 'The change list as JSON' });
  all = Option.Boolean('--all', false, { description: 'List every path: no grouped dirs, nothing folded' });
  exitCode = Option.Boolean('--exit-code', false, { description: 'Exit 1 when there are changes, 0 when none' });
  only = Option.Array('--only', [], { description: 'Only paths matching GLOB (repeatable)' });
  exclude = Option.Array('--exclude', [], { description: 'Leave out paths matching GLOB (repeatable)' });

  override async execute(): Promise<number> {
    // Each is a whole output of its own: one silently won (--json over --stat and --name-only).
    const outputs = [this.stat && '--stat', this.nameOnly && '--name-only', this.json && '--json'].filter((f): f is string => !!f);
    if (outputs.length > 1) throw new UsageError(`${outputs.join(' and ')} are different outputs: give one`);
    if (this.nameOnly) {
      const { listed, unread } = await diffNameOnly(this.ref, { paths: this.pathArgs, only: this.only, exclude: this.exclude }, givenStdout(this.context));
      return exitStatus(this.exitCode, listed, unread);
    }
    const { store, meta } = resolveAnywhere(this.ref);
    warnIfInterrupted(meta);
    const progress = progressLine();
    const full = !this.stat && !this.json;
    // The summary's rules asked of each plain new file while the helper walks, not after it;
    // what the diffs leave out (--all: nothing).
    const paths = this.pathArgs.map((p) => resolve(p));
    const view = full ? diffView({ ref: meta.name ?? meta.id, sbx: sbxFor(store), all: this.all, paths, only: this.only }) : undefined;
    const col = stdoutColors;
    const scan = await scanSandboxAsync(meta, {
      only: this.only, exclude: this.exclude, paths, copies: true,
      progress: (phase, n) => progress.update(`${phase}: ${n} entries`),
      // Line counts do not show a new file's xattrs: the helper need not read them.
      fewXattrs: this.stat,
      // A list of line counts needs no stat of a file the host lacks: the helper reports it by
      // name, lines and size (--name-only: cli/diff-names.ts).
      namesOnly: this.stat && !this.json,
      // --stat of a new file is its line count: the helper counts as it walks.
      ...(this.stat && !this.json ? { countLinesUpTo: STAT_MAX_BYTES } : {}),
      // The full view diffs every new file: the helper brings their text as it walks, and
      // the plain new files stay columns, each made a change only to be printed, their texts
      // copied out of the answer as it comes (a few bytes each) so its pieces can go.
      ...(full ? { readNewUpTo: DIFF_MAX_BYTES, columns: true, markColumn: view!.marker.mark, keepTexts: true } : {}),
    });
    progress.end();
    checkPathFilters(store, this.pathArgs, scan);
    for (const e of scan.errors) warn(e);
    rootOnlyHint(scan.rootOnly, store, meta.name ?? meta.id);
    for (const u of scan.unmatched ?? []) warn(u);
    // A stream the caller gave, else fd 1 (cli/stdout-text.ts); on a terminal, the pager's
    // check and its fallback want Node's stream.
    const given = givenStdout(this.context);
    const terminal = given ? given === process.stdout && process.stdout.isTTY : isatty(1);
    const out = given ?? stdoutText;
    const unread = scan.errors.length;
    if (this.json) out.write(changesJson(meta.id, scan.changes, unread ? { unread: scan.errors } : {}));
    else if (this.stat) {
      const text = await renderStat(scan.changes, col, scan.named);
      if (terminal) await page(text, given ?? process.stdout); else out.write(text);
    } else {
      const head = `${col.bold(`sandbox ${meta.name ?? meta.id}`)}: ${countLine(scan.changes, scan.named)}${filteredNote(scan, paths, !!(this.only.length || this.exclude.length))}${unread ? `; ${unreadNote(unread)}` : ''}\n`;
      const summary = head + renderSummary(scan.changes, col, view!.summary, scan.named) + (scan.changes.length || scan.named?.length ? '\n' : '');
      // Not a terminal: nothing to page, so the diffs are written as they are made.
      // What the summary folds gets no diff either (--all: nothing is folded).
      if (terminal) await page(summary + await renderDiffs(scan.changes, col, scan.named, view!.folds), given ?? process.stdout);
      // A pipe's reader may be slower than the diffs are made: wait for it rather than queue
      // them. Once a piece is written out whole (fd 1, or Node's stdout for a pipe or a file:
      // it holds nothing back), its buffer takes the next; any other stream may keep the
      // chunks it is given.
      else {
        out.write(summary);
        const free = !given ? () => true : given === process.stdout ? () => given.writableLength === 0 : undefined;
        await writeDiffs(scan.changes, col, given ? streamWriter(given) : stdoutBytes, scan.named, view!.folds, free);
      }
    }
    return exitStatus(this.exitCode, scan.changes.length + (scan.named?.length ?? 0), unread);
  }
}

/**
 * "no changes" of a filtered list is about the filters: says which, and how many changes the
 * sandbox has in all (`no changes under /etc (3 changes in all)`), so a mistyped PATH does not
 * read as an unchanged sandbox.
 */
function filteredNote(scan: ScanResult, paths: string[], globs: boolean): string {
  if (!scan.total || scan.changes.length || scan.named?.length) return '';
  const under = paths.length ? ` under ${paths.map((p) => display(fromUser(p))).join(', ')}` : '';
  const matching = globs ? `${under ? ' and' : ''} matching --only/--exclude` : '';
  return `${under}${matching} (${countText(scan.total)} change${scan.total === 1 ? '' : 's'} in all)`;
}

/** The head line's word on parts of the layers the scan could not read (each warned about above). */
function unreadNote(n: number): string {
  return `${countText(n)} part${n === 1 ? '' : 's'} could not be read (see the warnings): the list may be incomplete`;
}

/**
 * 0, or 1 when the list may be incomplete (a part of the layers could not be read: a tampered
 * store, a dir only root may read) or, with --exit-code, when it holds changes: "no changes"
 * is an answer only when everything was read.
 */
function exitStatus(exitCode: boolean, listed: number, unread: number): number {
  return unread || (exitCode && listed) ? 1 : 0;
}
