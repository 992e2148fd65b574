// The loader-cache rule's reader (sandbox-core/changes/ld-cache.ts): which caches name only
// libraries in the dirs the loader searches anyway, checked on caches made here in glibc's
// formats and on this machine's own /etc/ld.so.cache (what ldconfig writes after an install).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostLoaderConfDirs, ldCacheHarmless, ldCachePaths } from '../../sandbox-core/changes/ld-cache.js';
import { ldCache } from './sensitive-cases.js';
import { testUnless } from '../helpers/skip.js';

const LIB = /^\/(usr\/)?(local\/)?lib(32|64|x32)?(\/[a-z0-9_]+-linux-gnu[a-z0-9_]*)?$/;
const standard = (d: string): boolean => LIB.test(d);
const none = new Set<string>();

test('a new-format cache: its paths read, harmless only when each is in a loader dir', () => {
  const ok = ldCache([['libc.so.6', '/lib/x86_64-linux-gnu/libc.so.6'], ['libz.so.1', '/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libz.so.1'], ['libx.so', '/usr/local/lib/libx.so']]);
  assert.equal(ldCachePaths(ok), ['/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libz.so.1', '/usr/local/lib/libx.so']);
  assert.ok(ldCacheHarmless(ok, false, standard, none));
  assert.not.ok(ldCacheHarmless(ok, true, standard, none), 'a cache cut short');
  const evil = ldCache([['libc.so.6', '/lib/x86_64-linux-gnu/libc.so.6'], ['libpam.so.0', '/opt/x/libpam.so.0']]);
  assert.not.ok(ldCacheHarmless(evil, false, standard, none), '/opt/x is no loader dir');
  assert.ok(ldCacheHarmless(evil, false, standard, new Set(['/opt/x'])), 'unless the host ld.so.conf names it');
  for (const p of ['/usr/lib/x86_64-linux-gnu/sub/libc.so.6', '/lib/../tmp/libc.so.6', 'libc.so.6', '/tmp/glibc-hwcaps/x/libc.so.6'])
    assert.not.ok(ldCacheHarmless(ldCache([['libc.so.6', p]]), false, standard, none), p);
});

test('a cache of both formats is read from its new part; a file of neither, or one whose offsets run off its end, is not harmless', () => {
  const both = ldCache([['libc.so.6', '/lib/libc.so.6'], ['libm.so.6', '/opt/m/libm.so.6']], 3);
  assert.equal(ldCachePaths(both), ['/lib/libc.so.6', '/opt/m/libm.so.6']);
  assert.not.ok(ldCacheHarmless(both, false, standard, none));
  assert.is(ldCachePaths(Buffer.from('not a cache at all, but long enough to hold a header of 48 bytes')), null);
  const short = ldCache([['libc.so.6', '/lib/libc.so.6']]);
  assert.is(ldCachePaths(short.subarray(0, short.length - 4)), null, 'a string with no end');
  const many = Buffer.from(short);
  many.writeUInt32LE(1000, 20);
  assert.is(ldCachePaths(many), null, 'more entries than the file holds');
  assert.not.ok(ldCacheHarmless(Buffer.alloc(0), false, standard, none));
});

test("the host's ld.so.conf: its dirs and the files its include patterns match", () => {
  const d = mkdtempSync(join(tmpdir(), 'sbx-ldconf-'));
  try {
    mkdirSync(join(d, 'conf.d'));
    writeFileSync(join(d, 'ld.so.conf'), `include ${d}/conf.d/*.conf\n/opt/one/  # a comment\n\n`);
    writeFileSync(join(d, 'conf.d', 'a.conf'), '# libc default\n/usr/local/lib\n/opt/two\n');
    writeFileSync(join(d, 'conf.d', 'b.txt'), '/opt/not-a-conf\n');
    assert.equal([...hostLoaderConfDirs(join(d, 'ld.so.conf'))].sort(), ['/opt/one', '/opt/two', '/usr/local/lib']);
    assert.equal([...hostLoaderConfDirs(join(d, 'missing.conf'))], []);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

const HOST_CACHE = '/etc/ld.so.cache';
testUnless(existsSync(HOST_CACHE) ? null : `no ${HOST_CACHE} here (not a glibc system)`)("this machine's cache, as ldconfig wrote it, is harmless (an install's ldconfig is no finding)", () => {
  const data = readFileSync(HOST_CACHE);
  assert.ok((ldCachePaths(data)?.length ?? 0) > 0, 'read as a cache');
  assert.ok(ldCacheHarmless(data, false, standard, hostLoaderConfDirs()));
});

test.run();
