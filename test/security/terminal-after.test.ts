// The terminal after the command (docs/security.md): a command that writes on the terminal sbx
// then reviews on can leave it hiding or garbling the review. An OSC string left open swallows
// everything after it into a window title, so the user saw only the command's own "no
// changes" line and a question they could not read. sbx's first write after the command ends
// such a string and resets what else would hide text, before the summary and the question.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { canary, sbx, storeAndCanary } from '../helpers/sbx.js';
import { underPty } from '../helpers/pty.js';
import { TERMINAL_RESTORE } from '../../cli/output.js';

const store = storeAndCanary();

// Concealed text, the line-drawing set, a scrolling region of rows 2-3, then a window title
// left open: what a terminal shows of the review depends on each.
const LEFT_OPEN = '\\033[8m\\033(0\\033[2;3r\\033]0;';
const hostile = (file: string): string[] => ['--', 'sh', '-c', `echo x > ${file}; printf 'FAKE: no changes\\n${LEFT_OPEN}'`];

test('the summary after a command that left the terminal hiding text comes after the restore', () => {
  const file = join(canary, 'new.txt');
  const r = underPty([], ['run', '-n', ...hostile(file)], { store });
  assert.is(r.code, 0, r.out);
  const left = '\x1b[8m\x1b(0\x1b[2;3r\x1b]0;';
  // Right after the command's last byte: nothing of sbx's before it.
  assert.ok(r.out.includes(left + TERMINAL_RESTORE), JSON.stringify(r.out));
  assert.ok(r.out.indexOf(TERMINAL_RESTORE) < r.out.indexOf('Changes'), JSON.stringify(r.out));
  assert.is(r.out.split(TERMINAL_RESTORE).length, 2, 'restored once');
  assert.match(r.out, `added:    ${file}`);
  assert.not.ok(existsSync(file));
});

test('the question comes after the restore too; the answer is read as typed', () => {
  const file = join(canary, 'asked.txt');
  const r = underPty([['Keep these changes?', 'd\n']], ['run', ...hostile(file)], { store });
  assert.is(r.code, 0, r.out);
  const at = r.out.indexOf(TERMINAL_RESTORE);
  assert.ok(at >= 0 && at < r.out.indexOf('Keep these changes?'), JSON.stringify(r.out));
  assert.match(r.out, 'discarded');
  assert.not.ok(existsSync(file));
});

test('nothing is written when sbx says nothing after the command, nor on a dumb terminal or into a pipe', () => {
  const quiet = underPty([], ['run', '-n', '-q', ...hostile(join(canary, 'q.txt'))], { store });
  assert.is(quiet.code, 0, quiet.out);
  assert.not.ok(quiet.out.includes('\x18'), JSON.stringify(quiet.out));
  const dumb = underPty([], ['run', '-n', ...hostile(join(canary, 'd.txt'))], { store, env: { TERM: 'dumb' } });
  assert.is(dumb.code, 0, dumb.out);
  assert.match(dumb.out, 'Changes');
  assert.not.ok(dumb.out.includes('\x18'), JSON.stringify(dumb.out));
  const piped = sbx(['run', '-n', ...hostile(join(canary, 'p.txt'))], { store });
  assert.is(piped.code, 0, piped.stderr);
  assert.match(piped.stderr, 'Changes');
  assert.not.ok(piped.stderr.includes('\x18'), JSON.stringify(piped.stderr));
});

test.run();
