// sbx commit: apply a saved sandbox's changes to the host (see docs/changes.md).
import { Command, Option } from 'clipanion';
import { resolveAnywhere } from '../sandbox-core/store.js';
import { warnIfInterrupted } from './interrupted.js';
import { commitWithReport, warnPackageSplits } from './commit-report.js';
import { textOut } from './stdout-text.js';

export class CommitCommand extends Command {
  static override paths = [['commit']];
  static override usage = Command.Usage({
    description: "apply a saved sandbox's changes to the host",
    details: `
      Writes every change (or those selected with \`--only\`/\`--exclude\`) to the host: files are written beside their target, fsynced and renamed over it; symlinks are never followed; a hard link the sandbox made to a file the host already had is committed as a copy (\`--link-host-files\` keeps it a link); setuid/setgid bits and device nodes are never committed. A host path changed since the sandbox started is a conflict: it is listed and left alone, the rest is committed, and the exit status is 1 (\`--force\` overwrites). Paths you may not write are listed with the command to commit them as root. An interrupted commit is finished by the next \`sbx commit\`. The sandbox is removed once everything is committed.
    `,
    examples: [
      ['Keep everything', 'sbx commit trial'],
      ['Keep only what landed in /usr/local', "sbx commit trial --only '/usr/local/**'"],
      ['Everything but caches', "sbx commit trial --exclude '/home/*/.cache'"],
      ['See what would be done', 'sbx commit trial --dry-run'],
    ],
  });

  ref = Option.String({ name: 'ID' });
  only = Option.Array('--only', [], { description: 'Commit only paths matching GLOB (repeatable)' });
  exclude = Option.Array('--exclude', [], { description: 'Do not commit paths matching GLOB (repeatable)' });
  force = Option.Boolean('--force', false, { description: 'Overwrite host paths changed since the sandbox started' });
  dryRun = Option.Boolean('--dry-run', false, { description: 'Print the steps, change nothing' });
  keepSetuid = Option.Boolean('--keep-setuid', false, { description: 'As root: keep setuid/setgid bits and file capabilities (security.capability)' });
  linkHostFiles = Option.Boolean('--link-host-files', false, { description: 'Commit a hard link the sandbox made to a file the host already had as a link to that file (default: a copy)' });

  override async execute(): Promise<number> {
    const { store, meta } = resolveAnywhere(this.ref);
    warnIfInterrupted(meta);
    if (this.only.length || this.exclude.length) warnPackageSplits(meta, this.only, this.exclude);
    return commitWithReport(store, meta, { only: this.only, exclude: this.exclude, force: this.force, dryRun: this.dryRun, keepSetuid: this.keepSetuid, linkHostFiles: this.linkHostFiles }, textOut(this.context));
  }
}
