// sbx's own messages on a terminal fit 80 columns however long they are: they wrap between
// words (a word longer than a line stands alone, never cut), escaped first, so an escape
// sequence in a name can neither hide from the count nor be split.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { wordLines } from '../../cli/wrap.js';
import { fit } from '../../cli/output.js';

test('wordLines: first line narrower, words kept whole, a long word alone', () => {
  assert.equal(wordLines('aaa bbb ccc ddd', 7, 11), ['aaa bbb', 'ccc ddd']);
  assert.equal(wordLines('a ' + 'x'.repeat(20) + ' b', 10), ['a', 'x'.repeat(20), 'b']);
  assert.equal(wordLines('', 10), ['']);
});

test('fit: a long warning wraps to 80 columns on a terminal, stays one line into a pipe', () => {
  const path = `/opt/${'deep/'.repeat(8)}dir`;
  const msg = `${path} does not support idmapped mounts (EINVAL): root inside is root outside for this run (as with --map-root)`;
  assert.is(fit(14, msg, false), msg);
  const lines = fit(14, msg, true).split('\n');
  assert.ok(lines.length > 1);
  assert.ok(14 + lines[0]!.length <= 80, lines[0]);
  for (const l of lines.slice(1)) {
    assert.ok(l.length <= 80, l);
    assert.ok(l.startsWith('  ') && !l.startsWith('   '), l);
  }
  assert.is(lines.map((l) => l.trim()).join(' '), msg);
});

test('fit: escapes before it counts; a short line and its indentation are left alone', () => {
  const name = `evil\x1b[2J${'n'.repeat(70)}`;
  const out = fit(5, `kept ${name} here`, true);
  assert.not.ok(out.includes('\x1b'));
  assert.ok(out.split('\n').some((l) => l.trim() === `evil\\x1b[2J${'n'.repeat(70)}`), out);
  assert.is(fit(5, 'short\n  indented line', true), 'short\n  indented line');
  const long = `  ${'word '.repeat(20)}end`;
  for (const l of fit(5, `head\n${long}`, true).split('\n').slice(1)) assert.ok(l.startsWith('  ') && l.length <= 80, l);
});

test.run();
