// The post-run prompt on a real terminal (a pty driven by python3): nothing is committed
// without an explicit answer, "k" keeps, "d" discards, "s" saves.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { proveIsolation, sbx, canary, storeAndCanary } from '../helpers/sbx.js';
import { underPty, type PtyResult } from '../helpers/pty.js';

const store = storeAndCanary();

const ask = (expect: string, answer: string, args: string[]): PtyResult => underPty([[expect, answer]], args, { store });

test('k keeps the changes on the host', () => {
  proveIsolation(canary, store);
  const r = ask('Keep these changes?', 'k\n', ['run', '--', 'sh', '-c', `echo kept > ${canary}/new.txt`]);
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /added:\s+.*new\.txt/);
  assert.is(readFileSync(join(canary, 'new.txt'), 'utf8'), 'kept\n');
});

test('d discards: the host is untouched and the sandbox is gone', () => {
  const r = ask('Keep these changes?', 'd\n', ['run', '--', 'sh', '-c', `echo nope > ${canary}/new.txt; exit 4`]);
  assert.is(r.code, 4, r.out);
  assert.not.ok(existsSync(join(canary, 'new.txt')));
  const ls = sbx(['ls', '--json'], { store });
  assert.equal(JSON.parse(ls.stdout), []);
});

test('s saves for later; the change is still only in the sandbox', () => {
  const r = ask('Keep these changes?', 's\n', ['run', '--name', 'later', '--', 'sh', '-c', `echo later > ${canary}/new.txt`]);
  assert.is(r.code, 0, r.out);
  assert.not.ok(existsSync(join(canary, 'new.txt')));
  const diff = sbx(['diff', 'later', '--name-only'], { store });
  assert.match(diff.stdout, /new\.txt/);
  sbx(['discard', 'later'], { store });
});

test.run();
