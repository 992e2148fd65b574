// A new or gone file's diff is built without running jsdiff: it must be line for line what
// jsdiff's structuredPatch gives for the same texts (hunk header, CRs, a last line without a
// newline), and cut at the same line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { structuredPatch } from 'diff';
import { fileDiff } from '../../cli/render-changes.js';
import { toEntryStat } from '../../sandbox-core/changes/stat.js';
import { closeAll } from '../../sandbox-core/changes/fsat.js';
import type { Change } from '../../sandbox-core/changes/types.js';

let dir: string;
test.before.each(() => { dir = mkdtempSync(join(tmpdir(), 'sbx-onesided-')); });
test.after.each(() => { closeAll(); rmSync(dir, { recursive: true, force: true }); });

/** What fileDiff printed before the shortcut: jsdiff's hunks, an empty side written as 0. */
function viaJsdiff(oldText: string, newText: string, maxLines: number): { lines: string[]; added: number; removed: number; cut: boolean } {
  const p = structuredPatch('n', 'n', oldText, newText, '', '', { context: 3 });
  const lines: string[] = [];
  let added = 0;
  let removed = 0;
  for (const h of p.hunks) {
    lines.push(`@@ -${h.oldLines ? h.oldStart : 0},${h.oldLines} +${h.newLines ? h.newStart : 0},${h.newLines} @@`);
    for (const l of h.lines) { if (l[0] === '+') added++; else if (l[0] === '-') removed++; lines.push(l); }
  }
  const cut = lines.length > maxLines;
  return { lines: cut ? lines.slice(0, maxLines) : lines, added, removed, cut };
}

const TEXTS = ['', 'a', 'a\n', 'a\nb', '\n', '\n\n', 'a\r\nb\r\n', 'a\r', 'x\ny\n\n', ' \t\n\\ No newline\n', 'caf\u00e9\n\u{1f600}', 'l\n'.repeat(30), 'l\n'.repeat(30) + 'end'];

test('new and gone files: the same lines, counts and cut as jsdiff', async () => {
  let k = 0;
  for (const text of TEXTS) {
    const p = join(dir, `f${k++}`);
    writeFileSync(p, text);
    const st = toEntryStat(lstatSync(p));
    for (const maxLines of [2000, 5, 1]) {
      const add: Change = { path: p, change: 'added', type: 'file', size: st.size, upper: p, up: st };
      const gone: Change = { path: p, change: 'deleted', type: 'file', size: st.size, host: st };
      const a = (await fileDiff(add, { maxBytes: 1 << 20, maxLines }))!;
      const g = (await fileDiff(gone, { maxBytes: 1 << 20, maxLines }))!;
      const wantA = viaJsdiff('', text, maxLines);
      const wantG = viaJsdiff(text, '', maxLines);
      assert.equal({ lines: a.lines, added: a.added, removed: a.removed, cut: a.cut }, wantA, `added ${JSON.stringify(text)} max ${maxLines}`);
      assert.equal({ lines: g.lines, added: g.added, removed: g.removed, cut: g.cut }, wantG, `deleted ${JSON.stringify(text)} max ${maxLines}`);
    }
  }
});

test('a file emptied in place is all removals, as jsdiff says', async () => {
  const host = join(dir, 'host');
  const upper = join(dir, 'upper');
  writeFileSync(host, 'one\ntwo\n');
  writeFileSync(upper, '');
  const c: Change = { path: host, change: 'modified', type: 'file', size: 0, upper, up: toEntryStat(lstatSync(upper)), host: toEntryStat(lstatSync(host)) };
  const d = (await fileDiff(c))!;
  assert.equal(d.lines, viaJsdiff('one\ntwo\n', '', 2000).lines);
  assert.is(d.removed, 2);
});

test.run();
