import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSpec, OP_ARITY } from '../../sandbox-core/spec.js';
import { spawnSync } from 'node:child_process';
import { parseStatusLines } from '../../sandbox-core/launch.js';
import { helperPath } from '../../sandbox-core/helper.js';
import { REPO } from '../helpers/sbx.js';

test('netstrings: op then its arguments, binary safe', () => {
  const b = encodeSpec([{ op: 'mkdir', args: ['/a b', '755'] }, { op: 'seccomp', args: [Buffer.from([0, 1, 2, 0, 0, 0, 0, 0])] }]);
  const expected = Buffer.concat([
    Buffer.from('7:version,1:1,5:mkdir,4:/a b,3:755,7:seccomp,8:'), Buffer.from([0, 1, 2, 0, 0, 0, 0, 0]), Buffer.from(','),
  ]);
  assert.equal(b, expected);
});

test('wrong arity, unknown ops and NUL bytes are refused before the helper sees them', () => {
  assert.throws(() => encodeSpec([{ op: 'mkdir', args: ['/a'] }]), /takes 2/);
  assert.throws(() => encodeSpec([{ op: 'nope', args: [] }]), /unknown/);
  assert.throws(() => encodeSpec([{ op: 'arg', args: ['a\0b'] }]), /NUL/);
});

test('the TypeScript op table matches the C one', () => {
  const c = readFileSync(join(REPO, 'native', 'spec.c'), 'utf8');
  const table = new Map([...c.matchAll(/\{"([a-z_]+)", (\d+)\}/g)].map((m) => [m[1]!, Number(m[2])]));
  assert.equal(Object.fromEntries(table), OP_ARITY);
});

function helperWith(spec: Buffer) {
  const r = spawnSync(helperPath(), ['run', '0', '2'], { input: spec, encoding: 'latin1' });
  return { status: r.status, parsed: parseStatusLines(r.stderr) };
}

test('the helper rejects malformed specs with a clear error and exit 125', () => {
  const cases: Array<[Buffer, RegExp]> = [
    [Buffer.from(''), /version 1/],
    [Buffer.from('7:version,1:2,'), /version 1/],
    [Buffer.from('7:version,1:1,99:arg,'), /truncated/],
    [Buffer.from('7:version,1:1,4:nope,'), /unknown op/],
    [Buffer.from('7:version,1:1,3:arg,1:x'), /unterminated|truncated/],
    [Buffer.from('7:version,1:1,x'), /expected/],
    [Buffer.from('7:version,1:1,3:cwd,1:/,'), /no command/],
    [Buffer.from('7:version,1:1,7:seccomp,3:abc,3:cwd,1:/,3:arg,4:true,'), /multiple of 8/],
    [Buffer.from('7:version,1:1,99999999999999:x,'), /length too long|truncated/],
  ];
  for (const [spec, re] of cases) {
    const { status, parsed } = helperWith(spec);
    assert.is(status, 125, spec.toString());
    assert.is(parsed.outcome?.kind, 'setup-failed');
    assert.match((parsed.outcome as { message: string }).message ?? '', re);
  }
});

test('status lines: escapes decoded, last outcome wins, fallbacks collected', () => {
  const p = parseStatusLines('warn overlay 22 /mnt/a\\x20b\nstarted 2\nexit 3\n');
  assert.equal(p.outcome, { kind: 'exited', code: 3 });
  assert.equal(p.fallbacks, [{ errno: 22, path: '/mnt/a b' }]);
  assert.ok(p.started);
  assert.equal(parseStatusLines('error overlay 13 /usr\n').outcome, { kind: 'setup-failed', step: 'overlay', errno: 13, path: '/usr', message: null });
});

test('status lines: a --disk copy-back is complete only when the helper says so', () => {
  const ok = parseStatusLines('started 2\nsignal 9\ndisk-copied 3\n');
  assert.ok(ok.diskCopied);
  assert.equal(ok.outcome, { kind: 'signaled', signal: 9 });
  const failed = parseStatusLines('started 2\nexit 0\ndisk-copy-failed 28 L003/upper/a\\x0ab\n');
  assert.not.ok(failed.diskCopied);
  assert.equal(failed.diskCopyFailures, [{ errno: 28, path: 'L003/upper/a\nb' }]);
  assert.not.ok(parseStatusLines('started 2\nexit 0\n').diskCopied);
});

test.run();
