// One output path (issue 15): sbx's messages reach stderr only through cli/output.ts, which
// escapes every line; sandbox-core speaks through the notice sink the CLI installs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/sbx.js';
import { terminalSafe, display, displayText, fromUser } from '../../sandbox-core/base/bpath.js';

test('no sbx module writes to stderr except through cli/output.ts (one output path)', () => {
  // apply.ts: the crash-test hook 'sbx-test: paused at step N', a test interface, not a message.
  // main.ts: the entry's one line when a part of the bundle cannot be loaded (a broken install:
  // output.ts lives in the parts), escaped with terminalSafe.
  const allowed = new Set(['cli/output.ts', 'sandbox-core/notices.ts', 'sandbox-core/commit/apply.ts', 'cli/main.ts']);
  const offenders: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(REPO, rel), { withFileTypes: true })) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !allowed.has(p) && /process\.stderr\.write|console\.(log|error|warn)\(/.test(readFileSync(join(REPO, p), 'utf8'))) offenders.push(p);
    }
  };
  for (const d of ['cli', 'sandbox-core', 'policies']) walk(d);
  assert.equal(offenders, []);
});

test('characters a terminal shows as nothing are escaped, so no name reads as another; visible ones stay', () => {
  // Zero-width space, joiner, LRM/RLM marks, BOM, word joiner, a tag, line/paragraph separators, Hangul fillers.
  // Then what a probe still found drawn as nothing: the combining grapheme joiner, variation
  // selectors (and their supplement), a Mongolian free variation selector, a Khmer inherent
  // vowel, the braille blank, the Khitan filler.
  for (const cp of [0x200b, 0x200d, 0x200e, 0x200f, 0xfeff, 0x2060, 0xe0041, 0x2028, 0x2029, 0x3164, 0x115f, 0x00ad, 0x034f, 0xfe0f, 0xe0100, 0x180b, 0x17b4, 0x2800, 0x16fe4]) {
    const ch = String.fromCodePoint(cp);
    const want = `/usr/bin/sudo\\u{${cp.toString(16)}}`;
    assert.is(display(fromUser(`/usr/bin/sudo${ch}`)), want, cp.toString(16));
    assert.is(displayText(`/usr/bin/sudo${ch}`), want, cp.toString(16));
    assert.is(terminalSafe(`/usr/bin/sudo${ch}`), want, cp.toString(16));
  }
  for (const v of ['caf\u00e9', '\u65e5\u672c\u8a9e', 'na\u0308ive', '\u{1f600}']) assert.is(display(fromUser(`/x/${v}`)), `/x/${v}`, v);
});

test('blanks at the end of a path are escaped (`sudo ` would read as sudo); within it they show', () => {
  assert.is(display(fromUser('/usr/bin/sudo ')), '/usr/bin/sudo\\x20');
  assert.is(display(fromUser('/usr/bin/sudo  ')), '/usr/bin/sudo\\x20\\x20');
  assert.is(display(fromUser('/usr/bin/sudo\u00a0')), '/usr/bin/sudo\\u{a0}');
  assert.is(display(`/x/bad\xff `), '/x/bad\\xff\\x20');
  assert.is(display(fromUser('/usr/bin/sudo\u3000')), '/usr/bin/sudo\\u{3000}');
  assert.is(displayText('a diff line '), 'a diff line ');
  for (const p of ['/my dir/a file', '/a /b']) assert.is(display(fromUser(p)), p);
  assert.is(terminalSafe(display(fromUser('/usr/bin/sudo '))), '/usr/bin/sudo\\x20');
});

test('terminalSafe escapes controls and leaves escaped values as they are', () => {
  assert.is(terminalSafe('a\x1b[31mb\x07\u009bc\u202e'), 'a\\x1b[31mb\\x07\\u{9b}c\\u{202e}');
  for (const v of ['evil\x1b[31mRED', 'caf\u00e9\x1b', 'back\\slash\n']) {
    assert.is(terminalSafe(displayText(v)), displayText(v));
    assert.is(terminalSafe(display(fromUser(v))), display(fromUser(v)));
  }
});

test.run();
