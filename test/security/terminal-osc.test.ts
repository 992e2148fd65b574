// What a command writes on the user's terminal that the terminal emulator acts on outside every
// sandbox (docs/security.md): the clipboard (OSC 52, kitty's 5522), iTerm2's commands (1337:
// File= saves a file on the user's machine), kitty's file transfer (5113) and remote control
// (a DCS starting @kitty-cmd) are dropped on the way through the command's pty; everything else
// reaches the terminal byte for byte. A control run of the same output outside sbx shows the
// harness does see them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeStore, removeStore, sbx } from '../helpers/sbx.js';
import { underPty } from '../helpers/pty.js';

const store = makeStore();
test.after(() => removeStore(store));

// In three writes, so the second string arrives over reads: A, 52 (BEL), B, a title (kept),
// C, 52 split across the writes (ended by ESC \), D, 52 as C1 OSC in UTF-8 (ended by C1 ST),
// E, 1337 File=, F, 052 cut short by the ESC of a colour, G; then kitty's 5522 and 5113.
const PARTS = [
  'A\\033]52;c;ZXZpbA==\\007B\\033]0;title\\007C\\033]5',
  '2;c;eA==\\033',
  '\\\\D\\302\\23552;c;eA==\\302\\234E\\033]1337;File=name=eA==:eA==\\007F\\033]052;c;eA\\033[31mG\\033]5522;type=write\\007H\\033]5113;ac=send\\033\\\\I\\n',
];
const SCRIPT = PARTS.map((p) => `printf '${p}'`).join('; sleep 0.2; ');
const SHOWN = 'AB\x1b]0;title\x07CDEF\x1b[31mGHI\r\n';

test('control: outside sbx the terminal gets every string', () => {
  const r = underPty([], [], { store, argv: ['/bin/sh', '-c', SCRIPT] });
  assert.is(r.code, 0, r.out);
  for (const s of [']52;c;ZXZpbA==', ']1337;File=', ']5522;', ']5113;', '\u009d52;']) assert.ok(r.out.includes(s), `${s}: ${JSON.stringify(r.out)}`);
});

test('through sbx the clipboard and file-transfer strings are dropped, the rest passes in order', () => {
  const r = underPty([], ['run', '-n', '-q', '--', 'sh', '-c', SCRIPT], { store });
  assert.is(r.code, 0, r.out);
  assert.ok(r.out.endsWith(SHOWN), JSON.stringify(r.out));
  for (const s of ['52;', '1337', '5522', '5113', 'ZXZpbA']) assert.not.ok(r.out.includes(s), `${s}: ${JSON.stringify(r.out)}`);
});

test('other bytes pass unchanged: controls, CSI sequences, two-byte characters led by C2, a continuation byte 0x9d', () => {
  const controls = Array.from({ length: 0x7f }, (_, i) => i).filter((c) => c !== 0x1b && c !== 0x0a && c !== 0x0d && c !== 0);
  const text = `${String.fromCharCode(...controls)}\x1b[1mbold\x1b[0m \u00a3\u00a9\u0080\u201d\u00e9 \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ end`;
  const hex = [...Buffer.from(text)].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
  const r = underPty([], ['run', '-n', '-q', '--', 'sh', '-c', `printf '${hex}\\n'`], { store });
  assert.is(r.code, 0, r.out);
  assert.ok(r.out.endsWith(`${text}\r\n`), JSON.stringify(r.out));
});

// kitty's remote control (a DCS starting @kitty-cmd, a BEL inside it: only ST ends a DCS) in two
// writes, between a DCS that passes (a sixel image's start, kept whole) and letters; C1 DCS
// (C2 90) too.
const DCS_PARTS = [
  'J\\033P@kitty-',
  'cmd{\"cmd\":\"launch\\007\",\"payload\":{\"args\":[\"id\"]}}\\033\\\\K\\033Pq#0;2;0;0;0\\033\\\\L\\302\\220@kitty-cmd{}\\302\\234M\\n',
];
const DCS_SCRIPT = DCS_PARTS.map((p) => `printf '${p}'`).join('; sleep 0.2; ');

test("kitty's remote control is dropped whole, over two writes and as C1 DCS; another DCS passes", () => {
  const control = underPty([], [], { store, argv: ['/bin/sh', '-c', DCS_SCRIPT] });
  assert.ok(control.out.includes('@kitty-cmd{"cmd"'), JSON.stringify(control.out));
  const r = underPty([], ['run', '-n', '-q', '--', 'sh', '-c', DCS_SCRIPT], { store });
  assert.is(r.code, 0, r.out);
  assert.ok(r.out.endsWith('JK\x1bPq#0;2;0;0;0\x1b\\LM\r\n'), JSON.stringify(r.out));
  for (const t of ['kitty', 'payload', 'launch']) assert.not.ok(r.out.includes(t), JSON.stringify(r.out));
});

test('output that is not a terminal is data: passed as written', () => {
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', "printf 'a\\033]52;c;eA==\\007b'"], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'a\x1b]52;c;eA==\x07b');
});

test.run();
