// A change list as a patch that `git apply` and `patch -p1` take: git-style headers, every line
// of every text change (no review caps), and a trailer naming what a patch cannot carry.
import type { Change } from '../sandbox-core/changes/types.js';
import { display } from '../sandbox-core/base/bpath.js';
import { detailsText, fileDiff } from './render-changes.js';
import { ARROW } from '../sandbox-core/base/charset.js';

/**
 * Every line, but not every size: each file is read whole, and the patch is one string (V8
 * caps one at ~512 MiB). A layer's file of any apparent size costs its maker nothing (a sparse
 * one): a 5 GiB one ended `sudo sbx export ID --format patch` in an internal error, a 4 GiB
 * one cost root 4 GiB of memory. A bigger text file is named at the end, as a binary one is.
 */
const PATCH_LIMITS = { maxBytes: 128 << 20, maxLines: Number.MAX_SAFE_INTEGER };

/** git's quoting of a path in a patch header: C escapes inside quotes when a byte needs it. */
export function gitQuote(bytes: string): string {
  if (!/[\x00-\x1f\x7f-\xff"\\]/.test(bytes)) return bytes;
  let s = '"';
  for (const ch of bytes) {
    const b = ch.charCodeAt(0);
    if (ch === '"' || ch === '\\') s += `\\${ch}`;
    else if (ch === '\t') s += '\\t';
    else if (ch === '\n') s += '\\n';
    else if (b < 0x20 || b >= 0x7f) s += `\\${b.toString(8).padStart(3, '0')}`;
    else s += ch;
  }
  return s + '"';
}

const gitMode = (perm: number) => (perm & 0o111 ? '100755' : '100644');

export interface PatchResult {
  /** The patch as bytes (latin1 byte string: file contents are written as they are). */
  text: string;
  files: number;
  /** What the patch leaves out, one reason per path. */
  left: Array<{ path: string; reason: string }>;
}

export async function renderPatch(changes: Change[]): Promise<PatchResult> {
  let text = '';
  let files = 0;
  const left: PatchResult['left'] = [];
  // Below a type change (a file that became a directory) nothing applies as a patch.
  const typeChanged: string[] = [];
  for (const c of changes) {
    const under = typeChanged.find((t) => c.path.startsWith(`${t}/`));
    if (under !== undefined) { left.push({ path: c.path, reason: `${c.change} ${c.type} below a type change` }); continue; }
    if (c.change === 'replaced' && !c.opaque) typeChanged.push(c.path);
    if (c.type !== 'file' || c.change === 'metadata' || c.change === 'replaced') {
      if (c.change === 'replaced') left.push({ path: c.path, reason: `type change (${c.oldType ?? '?'} ${ARROW} ${c.type})` });
      else if (c.change === 'metadata') left.push({ path: c.path, reason: `metadata (${detailsText(c.details ?? [])})` });
      else if (c.change !== 'deleted' || c.type !== 'dir') left.push({ path: c.path, reason: `${c.change} ${c.type}` });
      else left.push({ path: c.path, reason: 'deleted dir' });
      continue;
    }
    const d = await fileDiff(c, PATCH_LIMITS);
    if (!d || !d.lines) { left.push({ path: c.path, reason: `${c.change} ${d?.why === 'unreadable' ? 'unreadable file' : d?.why === 'large' ? 'file over 128 MiB' : 'binary file'}` }); continue; }
    const a = gitQuote(`a${c.path}`);
    const b = gitQuote(`b${c.path}`);
    text += `diff --git ${a} ${b}\n`;
    if (c.change === 'added') text += `new file mode ${gitMode(c.up?.perm ?? 0o644)}\n`;
    if (c.change === 'deleted') text += `deleted file mode ${gitMode(c.host?.perm ?? 0o644)}\n`;
    if (c.change === 'modified' && c.host && c.up && gitMode(c.host.perm) !== gitMode(c.up.perm)) {
      text += `old mode ${gitMode(c.host.perm)}\nnew mode ${gitMode(c.up.perm)}\n`;
    }
    files++;
    if (!d.lines.length) continue; // an empty file added or deleted: the header says it all
    // A name with a space ends with a tab on the ---/+++ lines, as git writes it, so that
    // patch(1) does not stop the name at the space.
    const end = (q: string) => (q.includes(' ') ? `${q}\t` : q);
    text += `--- ${c.change === 'added' ? '/dev/null' : end(a)}\n+++ ${c.change === 'deleted' ? '/dev/null' : end(b)}\n`;
    // Diff lines hold decoded UTF-8 text (fileDiff only diffs valid UTF-8); as bytes again:
    for (const l of d.lines) text += Buffer.from(l + '\n', 'utf8').toString('latin1');
  }
  if (left.length) {
    text += '# sbx: not in this patch (binary and large files, type changes, metadata, special files):\n';
    // The patch is a byte string; the trailer is text for people, so its UTF-8 becomes bytes here.
    for (const x of left) text += Buffer.from(`#   ${display(x.path)}: ${x.reason}\n`, 'utf8').toString('latin1');
  }
  return { text, files, left };
}
