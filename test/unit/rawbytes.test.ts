// sandbox-core/rawbytes.ts: the original bytes replace Node's lossy strings, and only where
// they line up exactly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rawArgs, rawCwd, rawEnv } from '../../sandbox-core/rawbytes.js';

const nul = (...parts: Buffer[]): Buffer => Buffer.concat(parts.flatMap((p) => [p, Buffer.from([0])]));
const bad = Buffer.from([0x61, 0xff, 0x62]);

test('arguments: lossy ones come from /proc/self/cmdline, the others stay strings', () => {
  const cmdline = () => nul(Buffer.from('node'), Buffer.from('/x/sbx.js'), Buffer.from('run'), Buffer.from('--'), Buffer.from('echo'), bad);
  const got = rawArgs(['echo', bad.toString('utf8')], cmdline);
  assert.equal(got, ['echo', bad]);
  assert.equal(rawArgs(['echo', 'plain'], () => { throw new Error('not read'); }), ['echo', 'plain'], 'nothing lossy: /proc not read');
  assert.equal(rawArgs(['other', bad.toString('utf8')], cmdline), ['other', bad.toString('utf8')], 'no exact match: unchanged');
});

test('environment and working directory', () => {
  const entry = Buffer.concat([Buffer.from('X='), bad]);
  assert.equal(rawEnv(['A=1', entry.toString('utf8')], () => nul(Buffer.from('A=1'), entry)), ['A=1', entry]);
  assert.equal(rawEnv(['A=1'], () => { throw new Error('not read'); }), ['A=1']);
  const cwd = Buffer.concat([Buffer.from('/tmp/'), bad]);
  assert.equal(rawCwd(cwd.toString('utf8'), () => cwd), cwd);
  assert.is(rawCwd('/tmp/plain', () => { throw new Error('not read'); }), '/tmp/plain');
});

test.run();
