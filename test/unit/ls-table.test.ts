// sbx ls's table: a command is cut to the terminal's width, a broken entry's reason is not.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeTable, type Row } from '../../cli/ls.js';

function table(rows: Row[], columns = 80): string[] {
  let text = '';
  const out = { columns, write: (s: string) => { text += s; return true; } } as unknown as NodeJS.WritableStream;
  writeTable(out, rows, 'sudo sbx');
  return text.split('\n').slice(1, -1);
}

const row = (over: Partial<Row>): Row => ({ id: '1a2b3c4d', name: null, state: 'saved', created: null, command: [], size: 0, changes: 0, exitStatus: 0, problem: null, store: '/s', ...over });

test('a broken entry\'s reason is shown whole and escaped; a long command is cut', () => {
  const why = `meta.json is invalid: ${'x'.repeat(150)} at the end\n`;
  const [broken, ok] = table([row({ id: 'abcdef12', state: 'broken', changes: null, problem: why }), row({ command: ['sh', '-c', 'y'.repeat(200)] })]);
  assert.ok(broken!.endsWith(`(meta.json is invalid: ${'x'.repeat(150)} at the end\\n; sudo sbx discard abcdef12 removes it)`), broken);
  assert.ok(ok!.length <= 80, ok);
  assert.ok(ok!.endsWith('y\u2026') || ok!.endsWith('y...'), ok);
});

test.run();
