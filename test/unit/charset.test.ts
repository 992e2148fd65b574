// sbx's own decorations and the escaping of names follow the locale's codeset, decided once
// (sandbox-core/base/charset.ts): in a locale that is not UTF-8 the terminal gets ASCII only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { localeIsUtf8 } from '../../sandbox-core/base/charset.js';

test('the codeset is found as the C library finds LC_CTYPE: LC_ALL, then LC_CTYPE, then LANG', () => {
  const cases: Array<[NodeJS.ProcessEnv, boolean]> = [
    [{}, false],
    [{ LANG: 'C.UTF-8' }, true],
    [{ LANG: 'C.utf8' }, true],
    [{ LANG: 'en_US.UTF8' }, true],
    [{ LANG: 'de_DE.UTF-8@euro' }, true],
    [{ LANG: 'C' }, false],
    [{ LANG: 'POSIX' }, false],
    [{ LANG: 'en_US' }, false],
    [{ LANG: 'en_US.ISO-8859-1' }, false],
    [{ LANG: 'ja_JP.eucJP' }, false],
    [{ LANG: 'xx.UTF-16' }, false],
    [{ LC_ALL: 'C', LC_CTYPE: 'C.UTF-8', LANG: 'C.UTF-8' }, false],
    [{ LC_CTYPE: 'C', LANG: 'C.UTF-8' }, false],
    [{ LC_CTYPE: 'C.UTF-8', LANG: 'C' }, true],
    // An empty value is unset.
    [{ LC_ALL: '', LC_CTYPE: '', LANG: 'C.UTF-8' }, true],
    [{ LC_ALL: 'C.UTF-8', LANG: 'C' }, true],
  ];
  for (const [env, want] of cases) assert.is(localeIsUtf8(env), want, JSON.stringify(env));
});

/** What a fresh process, in the locale `env` names, makes of names and decorations. */
function rendered(env: NodeJS.ProcessEnv): Record<string, string> {
  const base = new URL('../../', import.meta.url).pathname;
  const script = `
    const { display, displayText, terminalSafe } = await import(${JSON.stringify(`${base}sandbox-core/base/bpath.js`)});
    const { ARROW, ELLIPSIS, TIMES } = await import(${JSON.stringify(`${base}sandbox-core/base/charset.js`)});
    const { flaggedQuestion } = await import(${JSON.stringify(`${base}cli/review.js`)});
    const { detailsText, replacedText } = await import(${JSON.stringify(`${base}cli/render-changes.js`)});
    process.stdout.write(JSON.stringify({
      // A UTF-8 name as a byte string (one char per byte), and one with a byte UTF-8 lacks.
      name: display(Buffer.from('/tmp/caf\\u00e9/\\u2192x', 'utf8').toString('latin1')),
      bad: display('/tmp/a\\xff'),
      text: displayText('na\\u00efve'),
      line: terminalSafe('kept \\u2026 and \\u00d7'),
      decorations: ARROW + ' ' + ELLIPSIS + ' ' + TIMES,
      question: flaggedQuestion(Array.from({ length: 12 }, (_, i) => 'reason number ' + i)),
      replaced: replacedText({ path: '/x', change: 'replaced', type: 'dir', oldType: 'file' }),
      // The change list's detail, as classify.ts words it (and --json keeps it).
      details: detailsText(['mode 644\u2192600', 'owner 0:0\u21921:1', 'mtime']),
    }));`;
  const clean = { ...process.env };
  delete clean.LC_ALL; delete clean.LC_CTYPE; delete clean.LANG;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...clean, ...env }, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, string>;
}

test('in the C locale sbx writes ASCII: its decorations as ASCII, other characters as escapes', () => {
  for (const env of [{ LANG: 'C' }, {}, { LC_ALL: 'POSIX', LANG: 'C.UTF-8' }]) {
    const r = rendered(env);
    assert.is(r.name, '/tmp/caf\\u{e9}/\\u{2192}x', JSON.stringify(env));
    assert.is(r.bad, '/tmp/a\\xff');
    assert.is(r.text, 'na\\u{ef}ve');
    assert.is(r.line, 'kept \\u{2026} and \\u{d7}');
    assert.is(r.decorations, '-> ... x');
    assert.ok(r.question!.includes(', ...): yes keeps them'), r.question);
    assert.is(r.replaced, 'file -> dir');
    assert.is(r.details, 'mode 644->600, owner 0:0->1:1, mtime');
    for (const v of Object.values(r)) assert.ok(/^[\x20-\x7e]*$/.test(v), v);
  }
});

test('in a UTF-8 locale names and decorations are shown as they are', () => {
  const r = rendered({ LANG: 'C.UTF-8' });
  assert.is(r.name, '/tmp/caf\u00e9/\u2192x');
  assert.is(r.bad, '/tmp/a\\xff');
  assert.is(r.text, 'na\u00efve');
  assert.is(r.line, 'kept \u2026 and \u00d7');
  assert.is(r.decorations, '\u2192 \u2026 \u00d7');
  assert.ok(r.question!.includes(', \u2026): yes keeps them'), r.question);
  assert.is(r.replaced, 'file \u2192 dir');
  assert.is(r.details, 'mode 644\u2192600, owner 0:0\u21921:1, mtime');
});

test.run();
