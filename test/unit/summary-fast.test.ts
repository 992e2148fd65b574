// The review summary's shortcuts (group.ts, sensitive.ts, glob.ts) give exactly the answers of
// the plain definitions they replace: the shallowest new dir above each change whatever the
// list's order, a fold rule only where one of its patterns matches, and the first sensitive
// rule of the table. Checked against brute-force references on lists made to trip them up.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { viewKind, isGroup, type FoldSpec } from '../../sandbox-core/changes/group.js';
import { globLiteral, globRegExp } from '../../sandbox-core/changes/glob.js';
import { SENSITIVE_RULES, sensitiveContext, sensitiveRule } from '../../sandbox-core/changes/sensitive.js';
import { fromUser } from '../../sandbox-core/base/bpath.js';
import { PACKAGE_ROOT } from '../../sandbox-core/package-root.js';
import type { Change, EntryStat } from '../../sandbox-core/changes/types.js';

const added = (path: string, type: Change['type'] = 'file', size = 1): Change => ({ path, change: 'added', type, size });

type Shape = { groups: string[]; singles: string[] };

/**
 * Groups (root and counts) and single items, by the definition: the shallowest new dir above;
 * a root with nothing of its own below and everything below folded by one rule is folded too.
 */
function reference(changes: Change[], fold: FoldSpec[]): Shape {
  const res = fold.map((f) => f.paths.map(globRegExp));
  const ruleOf = (p: string) => res.findIndex((rs) => rs.some((r) => r.test(p)));
  const folded = (p: string) => ruleOf(p) >= 0;
  const rest = changes.filter((c) => !folded(c.path));
  const dirs = new Set(changes.filter((c) => c.type === 'dir').map((c) => c.path));
  const kept = new Set(rest.filter((c) => c.type === 'dir').map((c) => c.path));
  const members = new Map<string, Change[]>();
  const singles: string[] = [];
  const topOf = (path: string): string | null => {
    const parts = path.split('/');
    for (let i = 2; i < parts.length; i++) {
      const a = parts.slice(0, i).join('/');
      if (dirs.has(a)) return a;
    }
    return null;
  };
  const rulesBelow = new Map<string, Set<number>>();
  for (const c of changes) {
    const top = folded(c.path) ? topOf(c.path) : null;
    if (top !== null) rulesBelow.set(top, (rulesBelow.get(top) ?? new Set()).add(ruleOf(c.path)));
  }
  for (const c of rest) {
    const top = topOf(c.path);
    if (top === null && c.type === 'dir') { if (!members.has(c.path)) members.set(c.path, []); continue; }
    if (top === null || !kept.has(top)) { singles.push(c.path); continue; }
    if (!members.has(top)) members.set(top, []);
    members.get(top)!.push(c);
  }
  const groups: string[] = [];
  for (const [root, m] of members) {
    if (!m.length) { if (rulesBelow.get(root)?.size !== 1) singles.push(root); }
    else groups.push(`${root} ${m.length} ${m.filter((c) => c.type === 'file').length}`);
  }
  return { groups: groups.sort(), singles: singles.sort() };
}

function actual(changes: Change[], fold: FoldSpec[]): Shape {
  const v = viewKind('added', changes, fold);
  return {
    groups: v.items.filter(isGroup).map((g) => `${g.root.path} ${g.entries} ${g.files}`).sort(),
    singles: v.items.filter((x): x is Change => !isGroup(x)).map((c) => c.path).sort(),
  };
}

const NAMES = ['a', 'a-b', 'a.b', 'b', '__pycache__', 'x.pyc', '.npm', '_cacache', 'c'];

function randomList(seed: number, n: number): Change[] {
  let s = seed;
  const rnd = (k: number) => { s = (s * 1103515245 + 12345) & 0x7fffffff; return s % k; };
  const paths = new Set<string>();
  while (paths.size < n) {
    const depth = 1 + rnd(5);
    let p = '';
    for (let d = 0; d < depth; d++) p += `/${NAMES[rnd(NAMES.length)]}`;
    paths.add(p);
  }
  return [...paths].map((p) => added(p, rnd(3) === 0 ? 'dir' : 'file'));
}

test('every change lands under the shallowest new dir above it (parents listed first, in path order or not)', () => {
  const fold: FoldSpec[] = [{ name: 'py', paths: ['__pycache__', '*.pyc'] }, { name: 'npm', paths: ['.npm/_cacache'] }];
  for (let seed = 1; seed <= 40; seed++) {
    const list = randomList(seed, 60);
    const sorted = [...list].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    // The scan's order: by path, so a dir comes before everything below it.
    assert.equal(actual(sorted, fold), reference(sorted, fold), `seed ${seed}`);
    assert.equal(actual(sorted, []), reference(sorted, []), `seed ${seed}, no folds`);
    // Parents still first, but not in path order: siblings' subtrees interleaved.
    const byDepth = [...list].sort((a, b) => a.path.split('/').length - b.path.split('/').length);
    assert.equal(actual(byDepth, fold), reference(byDepth, fold), `seed ${seed}, by depth`);
  }
});

test('"/a-b" sorting between "/a" and "/a/c" does not split the /a group', () => {
  const list = ['/a', '/a-b', '/a-b/x', '/a/c', '/a/c/d'].map((p) => added(p, p === '/a' || p === '/a-b' || p === '/a/c' ? 'dir' : 'file'));
  const v = viewKind('added', list, []);
  const groups = v.items.filter(isGroup).map((g) => [g.root.path, g.entries]);
  assert.equal(groups.sort(), [['/a', 2], ['/a-b', 1]]);
});

test('a pattern\'s plain run is in every path it matches; [..] and {..} have none', () => {
  assert.is(globLiteral('*.pyc'), '.pyc');
  assert.is(globLiteral('.npm/_cacache'), '.npm/_cacache');
  assert.is(globLiteral('/var/*/apt'), '/var/');
  assert.is(globLiteral('/x/{a,b}'), null);
  assert.is(globLiteral('/x/[ab]'), null);
  assert.is(globLiteral('**'), null);
  for (const g of ['*.pyc', '__pycache__', '/var/cache/apt', '.npm/_logs', 'a?c', 'x*y*zz']) {
    const re = globRegExp(g);
    const lit = globLiteral(g)!;
    for (const p of ['/a/b.pyc', '/x/__pycache__/y', '/var/cache/apt/z', '/h/.npm/_logs', '/abc', '/xyzz', '/q/xaybzz/r', '/nothing']) {
      if (re.test(p)) assert.ok(p.includes(lit), `${g} matched ${p} without ${lit}`);
    }
  }
});

test('folding with a pattern that has no plain run still counts it', () => {
  const list = [added('/x/a'), added('/x/b'), added('/x/c')];
  const v = viewKind('added', list, [{ name: 'ab', paths: ['/x/[ab]'] }]);
  assert.equal(v.folds.map((f) => [f.name, f.count]), [['ab', 2]]);
  assert.equal(v.items.map((x) => (isGroup(x) ? x.root.path : x.path)), ['/x/c']);
});

test('the first sensitive rule is the table\'s first match, for paths near every rule', () => {
  const ctx = sensitiveContext({ PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/home/u' });
  const st = (perm: number): EntryStat => ({ type: 'file', perm, uid: 0, gid: 0, size: 1, mtimeMs: 0, atimeMs: 0, ctimeMs: 0, ino: 1, dev: 1, nlink: 1, rdev: 0 });
  const paths = ['/etc/profile', '/etc/profile.d/x', '/home/u/.bashrc', '/usr/bin/tool', '/usr/lib/libx.so.1', '/etc/ssh/x', '/home/u/.ssh/k',
    '/srv/app/.git/hooks/pre-commit', '/usr/lib/python3/site-packages/x.pth', '/tmp/plain', '/home/u/notes.txt', '/etc/cron.d/j',
    '/usr/local/bin/x', '/home/u/\u00e9t\u00e9/.bashrc', '/etc/passwd', '/opt/x/y', '/etc/sudo.conf', '/etc/tmpfiles.d/x.conf', '/etc/kernel/postinst.d/x',
    '/home/u/.local/lib/python3.11/site-packages/m.py', '/home/u/.local/lib/python3.11/site-packages/x.pth', '/etc/perl/x.pm', '/home/u/.config/tmux/tmux.conf', '/home/u/.gdbinit',
    '/usr/share/bash-completion/completions/x', `${PACKAGE_ROOT}/policies/fold.json`, `${PACKAGE_ROOT}/cli/main.ts`];
  for (const raw of paths) {
    for (const perm of [0o644, 0o4755, 0o666]) {
      for (const change of ['added', 'deleted', 'modified'] as const) {
        const c = { path: fromUser(raw), change, type: 'file' as const, up: st(perm) };
        const p = Buffer.from(c.path, 'latin1').toString('utf8');
        const facts = { change, type: 'file' as const, perm, caps: false };
        const want = SENSITIVE_RULES.find((r) => (r.paths?.some((re) => re.test(p)) || r.test?.(facts, p, ctx)) && !r.harmless?.(facts, p)) ?? null;
        assert.is(sensitiveRule(c, ctx)?.id, want?.id, `${raw} ${change} ${perm.toString(8)}`);
      }
    }
  }
});

test.run();
