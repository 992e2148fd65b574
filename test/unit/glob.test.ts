import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkPatterns, globMatch, pathFilter, unmatchedPatterns } from '../../sandbox-core/changes/glob.js';

test('* stays within a name, ** crosses names, ? is one char', () => {
  assert.ok(globMatch('/usr/local/*', '/usr/local/bin'));
  assert.ok(globMatch('/usr/local/*', '/usr/local/bin/x')); // below a match
  assert.not.ok(globMatch('/usr/*/bin', '/usr/a/b/bin'));
  assert.ok(globMatch('/usr/**/bin', '/usr/a/b/bin'));
  assert.ok(globMatch('/usr/**/bin', '/usr/bin'));
  assert.ok(globMatch('/a/?.txt', '/a/b.txt'));
  assert.not.ok(globMatch('/a/?.txt', '/a/bc.txt'));
  assert.ok(globMatch('/a/[bc].txt', '/a/c.txt'));
  assert.not.ok(globMatch('/a/[!bc].txt', '/a/c.txt'));
});

test('a dir pattern covers its tree; /x/** covers /x itself', () => {
  assert.ok(globMatch('/home/u/.cache', '/home/u/.cache/a/b'));
  assert.not.ok(globMatch('/home/u/.cache', '/home/u/.cachex'));
  assert.ok(globMatch('/usr/local/**', '/usr/local'));
  assert.ok(globMatch('/**', '/anything/at/all'));
});

test('relative patterns match at any depth; regex characters are literal', () => {
  assert.ok(globMatch('*.log', '/var/log/a.log'));
  assert.not.ok(globMatch('*.log', '/var/log/a.logx'));
  assert.ok(globMatch('node_modules', '/p/node_modules/x/y'));
  assert.ok(globMatch('/a+b/(c)', '/a+b/(c)'));
  assert.not.ok(globMatch('/a.b', '/axb'));
  assert.ok(globMatch('/x/*', '/x/new\nline'));
});

test('only and exclude combine', () => {
  const f = pathFilter(['/usr/**'], ['*.pyc'])!;
  assert.ok(f('/usr/lib/a.py'));
  assert.not.ok(f('/usr/lib/a.pyc'));
  assert.not.ok(f('/etc/x'));
  assert.is(pathFilter([], []), null);
});

test('{a,b} alternatives; a malformed pattern is one clear error, never a literal', () => {
  assert.ok(globMatch('/etc/{apt,dpkg}/**', '/etc/dpkg/x'));
  assert.not.ok(globMatch('/etc/{apt,dpkg}/**', '/etc/ssh/x'));
  assert.ok(globMatch('/a,b', '/a,b'));
  assert.ok(globMatch('/x/[[]', '/x/['));
  assert.throws(() => checkPatterns(['{a'], []), /^--only '\{a': a '\{' without '\}'$/);
  assert.throws(() => checkPatterns([], ['[']), /^--exclude '\[': a '\[' without '\]'/);
  assert.throws(() => checkPatterns(['a}'], []), /a '\}' without '\{'/);
  assert.throws(() => pathFilter(['/ok', '/x/[ab'], []), /--only '\/x\/\[ab'/);
});

test('a pattern that matches no change is named', () => {
  const paths = ['/usr/local/bin/x', '/etc/hosts'];
  assert.equal(unmatchedPatterns(paths, ['/usr/local/**', '/usr/lcoal/**'], ['*.pyc']), ["--only '/usr/lcoal/**' matches no change", "--exclude '*.pyc' matches no change"]);
  assert.equal(unmatchedPatterns(paths, [], []), []);
});

test.run();
