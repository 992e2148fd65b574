// sbx export: a sandbox's changes as an OCI layer or image, a plain tar, or a patch.
import { Command, Option } from 'clipanion';
import { UsageError } from './usage-error.js';
import { closeSync, constants as C, createWriteStream, openSync, statSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { resolveAnywhere, sbxFor, type Store } from '../sandbox-core/store.js';
import { assertNotRunning } from '../sandbox-core/commit/index.js';
import type { SandboxMeta } from '../sandbox-core/types.js';
import { warnIfInterrupted } from './interrupted.js';
import { scanSandbox } from '../sandbox-core/changes/scan.js';
import { display, fromUser } from '../sandbox-core/base/bpath.js';
import { currentDir } from '../sandbox-core/base/cwd.js';
import { errnoName } from '../sandbox-core/base/errno.js';
import { readImage, streamLayer, writeImageLayout } from '../sandbox-core/export/oci.js';
import { SbxError } from '../sandbox-core/base/errors.js';
import { ImageCache } from '../sandbox-core/image/cache.js';
import { info, safe, warn } from './output.js';
import { renderPatch } from './render-patch.js';

const FORMATS = ['oci-layer', 'oci-image', 'tar', 'patch'] as const;
type Format = typeof FORMATS[number];

export class ExportCommand extends Command {
  static override paths = [['export']];
  static override usage = Command.Usage({
    description: "write a sandbox's changes as an OCI layer or image, a tar, or a patch",
    details: `
      Ships only the diff, of a sandbox in which no command runs (as for commit; 125 otherwise). The same selection (\`--only\`/\`--exclude\`) and the same safety as \`sbx commit\`: contents are read from the sandbox's layer without following any symlink, owners are the host's ids, setuid/setgid bits and file capabilities are dropped unless \`--keep-setuid\`.

      - \`oci-layer\` (default): one gzip tar in the OCI layer format: deletions as \`.wh.NAME\`, replaced directories as \`.wh..wh..opq\`, modes, owners, times, symlinks, hard links, xattrs. Its diff-id and digest are printed on stderr.
      - \`oci-image\`: an OCI image layout directory (\`-o DIR\`, new or empty) holding a one-layer image tagged \`--tag\` (default \`latest\`), for \`skopeo\`, \`umoci\`, \`podman\`; with \`--base LAYOUT[:TAG]\` the layer goes on top of that image's layers (copied and verified), as \`docker commit\` does; a sandbox made with \`run --image\` gets its own image's layers by default.
      - \`tar\`: the new and changed entries as a plain tar rooted at /, for \`tar -C / -xpf\`; what to delete is written to \`FILE.deleted\` (one escaped path per line; empty, not left as it was, when nothing was deleted) and listed on stderr.
      - \`patch\`: unified diffs of text files for \`git apply\` or \`patch -p1\` (run from /); binary files, type changes and metadata are named in a trailer.
    `,
    examples: [
      ['An OCI layer', 'sbx export trial -o trial.tar.gz'],
      ['An image for skopeo/podman', 'sbx export trial --format oci-image -o ./trial-image'],
      ['Only /usr/local, as a plain tar', "sbx export trial --format tar --only '/usr/local/**' -o local.tar"],
      ['A patch of config edits', "sbx export trial --format patch --only '/etc/**' > etc.patch"],
    ],
  });

  ref = Option.String({ name: 'ID' });
  format = Option.String('--format', 'oci-layer', { description: 'oci-layer, oci-image, tar or patch' });
  output = Option.String('-o,--output', '-', { description: 'Write to FILE (a directory for oci-image); - for stdout' });
  only = Option.Array('--only', [], { description: 'Export only paths matching GLOB (repeatable)' });
  exclude = Option.Array('--exclude', [], { description: 'Leave out paths matching GLOB (repeatable)' });
  keepSetuid = Option.Boolean('--keep-setuid', false, { description: 'Keep setuid/setgid bits and file capabilities' });
  tag = Option.String('--tag', { description: 'oci-image: the reference name of the image in the layout' });
  base = Option.String('--base', { description: 'oci-image: put the layer on top of the image LAYOUT[:TAG] (like docker commit)' });

  override async execute(): Promise<number> {
    const format = this.format as Format;
    if (!FORMATS.includes(format)) throw new SbxError(`unknown export format '${display(this.format)}'`, 125, `use one of ${FORMATS.join(', ')}`);
    // Only an image has a tag or a base: said, not silently dropped from a layer or a tar.
    const imageOnly = [this.tag !== undefined && '--tag', this.base !== undefined && '--base'].filter((f): f is string => !!f);
    if (imageOnly.length && format !== 'oci-image') throw new UsageError(`${imageOnly.join(' and ')} go${imageOnly.length === 1 ? 'es' : ''} with --format oci-image (the format is ${format})`);
    const toStdout = this.output === '-';
    if (format === 'oci-image' && toStdout) throw new SbxError('--format oci-image writes a directory', 125, 'give it with -o DIR');
    if (toStdout && format !== 'patch' && process.stdout.isTTY) throw new SbxError('refusing to write an archive to a terminal', 125, 'redirect stdout or give -o FILE');
    // Before the sandbox is read, which can take long: a file that cannot go there is said now.
    if (!toStdout && format !== 'oci-image') checkOutputDir(this.output);
    const { meta: resolved, store } = resolveAnywhere(this.ref);
    const meta = idle(store, resolved);
    warnIfInterrupted(meta);
    const scan = scanSandbox(meta, { only: this.only, exclude: this.exclude });
    for (const e of scan.errors) warn(e);
    for (const u of scan.unmatched ?? []) warn(u);
    const layerOpts = { format: format === 'tar' ? 'tar' as const : 'oci-layer' as const, keepSetuid: this.keepSetuid };

    if (format === 'patch') {
      const p = await renderPatch(scan.changes);
      unchangedSince(store, meta);
      // On a terminal the patch is for reading: the files' own bytes go through the escaping
      // function there, as in sbx diff (a file the command wrote may hold escapes meant for the
      // terminal of whoever looks, root's under sudo). Into a file or a pipe: exact bytes.
      const onTerminal = toStdout && process.stdout.isTTY;
      await this.write(onTerminal ? Buffer.from(safe(Buffer.from(p.text, 'latin1').toString('utf8'))) : Buffer.from(p.text, 'latin1'), toStdout);
      info(`patch of ${p.files} text file${p.files === 1 ? '' : 's'}${p.left.length ? `; ${p.left.length} change${p.left.length === 1 ? '' : 's'} not in it (listed at its end)` : ''}`);
      return this.status(scan.errors.length);
    }
    if (format === 'oci-image') {
      const r = await writeImageLayout(this.output, scan, layerOpts, {
        createdBy: meta.command.join(' '), comment: `sbx sandbox ${meta.id}`, tag: this.tag ?? 'latest', arch: process.arch,
        // An image sandbox's layer goes on its own image, read back (and verified) from the cache.
        base: this.base ? readImage(this.base) : meta.image ? new ImageCache(store).image(meta.image) : undefined,
      });
      unchangedSince(store, meta);
      this.reportSkipped(r.skipped);
      info(`image layout ${display(this.output)}: ${r.entries} entries; layer ${r.digest} (diff-id ${r.diffId}); manifest ${r.manifest}`);
      return this.status(scan.errors.length);
    }
    // Written beside FILE and renamed into place: an export that fails leaves no half tar
    // there. The temp files are always new (O_EXCL, which also refuses a symlink planted under
    // their name), and a rename replaces a symlink at FILE or FILE.deleted, never follows it.
    const tmp = toStdout ? null : `${this.output}.sbx-${process.pid}`;
    const listTmp = tmp && format === 'tar' ? `${this.output}.deleted.sbx-${process.pid}` : null;
    const sink: Writable = tmp ? createWriteStream(tmp, { fd: openNew(tmp, this.output) }) : process.stdout;
    try {
      const r = await streamLayer(scan, sink, { ...layerOpts, gzip: format === 'oci-layer' });
      // Before anything is put in place: a run that began meanwhile changed what was read.
      unchangedSince(store, meta);
      // FILE.deleted always lists this export's deletions, empty when it has none, and is in
      // place before the tar: the user deletes what it names, then untars, and a list left by an
      // earlier export to the same FILE (of another sandbox) would delete host files this
      // sandbox never touched. A crash between the renames leaves the old tar beside the new
      // list, never a new tar beside an old list.
      if (listTmp) putInPlace(`${this.output}.deleted`, listTmp, r.deletions.map((d) => `${display(d)}\n`).join(''));
      if (tmp) renameSync(tmp, this.output);
      this.reportSkipped(r.skipped);
      if (format === 'oci-layer') info(`layer: ${r.entries} entries, ${r.size} bytes; digest ${r.digest}, diff-id ${r.diffId}`);
      else {
        info(`tar: ${r.entries} entries${r.deletions.length ? `; ${r.deletions.length} paths to delete on the target` : ''}`);
        for (const d of r.deletions) info(`  delete: ${display(d)}`);
      }
      return this.status(scan.errors.length);
    } catch (e) {
      if (tmp) rmSync(tmp, { force: true });
      if (listTmp) rmSync(listTmp, { force: true });
      throw e;
    }
  }

  private async write(data: Buffer, toStdout: boolean): Promise<void> {
    if (!toStdout) { putInPlace(this.output, `${this.output}.sbx-${process.pid}`, data); return; }
    if (!process.stdout.write(data)) await once(process.stdout, 'drain');
  }

  /**
   * Exit 1 when part of the sandbox could not be read (each part warned about above): the
   * artifact is written but lacks those changes, and a script shipping it must be told.
   */
  private status(unread: number): number {
    if (!unread) return 0;
    warn(`the export is incomplete: ${unread} part${unread === 1 ? '' : 's'} of the sandbox could not be read (above)`);
    return 1;
  }

  private reportSkipped(list: Array<{ path: string; reason: string }>): void {
    for (const s of list) warn(`not exported: ${display(s.path)}: ${s.reason}`);
  }
}

/**
 * -o FILE's directory, checked before anything is read: a missing one was an internal error
 * naming the export's temporary file. A relative FILE needs the current directory.
 */
function checkOutputDir(output: string): void {
  if (!isAbsolute(output)) currentDir();
  const dir = dirname(output);
  let st;
  try { st = statSync(dir); } catch (e) { throw outputError(e, output); }
  if (!st.isDirectory()) throw new SbxError(`cannot write ${display(fromUser(output))}: ${display(fromUser(dir))} is not a directory`, 125, 'give -o a file in an existing directory');
}

/** A failure to make the output file (or its temporary one), as one line naming FILE and its directory. */
function outputError(e: unknown, output: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  const dir = display(fromUser(dirname(output)));
  if (code === 'ENOENT' && !statSync(dirname(output), { throwIfNoEntry: false })) return new SbxError(`cannot write ${display(fromUser(output))}: the directory ${dir} does not exist`, 125, 'create it first, or give -o a file in an existing directory');
  if (code === 'ENOTDIR') return new SbxError(`cannot write ${display(fromUser(output))}: ${dir} is not a directory`, 125, 'give -o a file in an existing directory');
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOENT') return new SbxError(`cannot write ${display(fromUser(output))}: ${code} in ${dir}`, 125, 'give -o a file in a directory you may write');
  const errno = (e as NodeJS.ErrnoException)?.errno;
  if (typeof errno === 'number') return new SbxError(`cannot write ${display(fromUser(output))}: ${errnoName(-errno)}`, 125);
  return e;
}

/** A temp file of this export's, made afresh: one left by a killed export goes first; a symlink under its name is refused, never followed. */
function openNew(tmp: string, output: string): number {
  try {
    rmSync(tmp, { force: true });
    return openSync(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o644);
  } catch (e) {
    throw outputError(e, output);
  }
}

/**
 * `data` as the file `target`: written to `tmp` beside it, always a new file (O_EXCL, which
 * also refuses a symlink planted under that name), and renamed over `target`, which replaces
 * a symlink there instead of writing through it; an export that fails leaves no half file.
 */
function putInPlace(target: string, tmp: string, data: string | Buffer): void {
  const fd = openNew(tmp, target);
  try {
    try { writeFileSync(fd, data); } finally { closeSync(fd); }
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * The sandbox as it is now, refused while a command runs in it: the export reads its layer,
 * which that command changes under it (a file that shrinks meanwhile comes out padded with
 * zeros). Read afresh: the meta the name was resolved with may be older than a run begun since.
 */
function idle(store: Store, resolved: SandboxMeta): SandboxMeta {
  const now = store.readMeta(resolved.id);
  if (!now) throw new SbxError(`sandbox ${resolved.name ?? resolved.id} was removed meanwhile`, 125, `see '${sbxFor(store)} ls'`);
  assertNotRunning(now, 'export');
  return now;
}

/** After reading the layer: refused when a run began in the sandbox meanwhile (it may have changed what was read). */
function unchangedSince(store: Store, before: SandboxMeta): void {
  const now = store.readMeta(before.id);
  if (now && now.state !== 'running' && now.finished === before.finished && now.runnerPid === before.runnerPid) return;
  throw new SbxError(`sandbox ${before.name ?? before.id} ${now ? 'ran a command while it was exported' : 'was removed while it was exported'}: nothing written`, 125, 'export it again once no command runs in it');
}
