// The house's shape, checked on the code itself (issue 15): imports only run down
// (cli -> sandbox-core -> policies -> sandbox-core/base), and one owner for each job that
// used to have several.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO } from '../helpers/sbx.js';

function files(root: string, rel: string, ext: string): string[] {
  const out: string[] = [];
  const stack = [rel];
  while (stack.length) {
    const d = stack.pop()!;
    for (const e of readdirSync(join(root, d), { withFileTypes: true })) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory()) stack.push(p);
      else if (p.endsWith(ext)) out.push(p);
    }
  }
  return out.sort();
}

/** Lower is further down: a module may import its own layer or a lower one. */
function layer(p: string): number {
  if (p.startsWith('sandbox-core/base/')) return 0;
  if (p.startsWith('policies/')) return 1;
  if (p.startsWith('sandbox-core/')) return 2;
  if (p.startsWith('cli/')) return 3;
  return -1;
}

/** The compiled modules' relative imports (static and import()), as repo-relative paths. */
function importGraph(): Map<string, string[]> {
  const dist = join(REPO, 'dist');
  const graph = new Map<string, string[]>();
  for (const top of ['cli', 'sandbox-core', 'policies']) {
    for (const f of files(dist, top, '.js')) {
      const text = readFileSync(join(dist, f), 'utf8');
      const targets: string[] = [];
      for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
        targets.push(relative(dist, resolve(dist, dirname(f), m[1]!)));
      }
      graph.set(f, targets);
    }
  }
  return graph;
}

test('the compiled import graph has no upward edge (cli -> sandbox-core -> policies -> sandbox-core/base)', () => {
  const graph = importGraph();
  assert.ok(graph.size > 50, `read ${graph.size} compiled modules: is dist/ built?`);
  const upward: string[] = [];
  for (const [from, tos] of graph) {
    for (const to of tos) {
      if (!graph.has(to)) { upward.push(`${from} -> ${to} (not a module of sbx)`); continue; }
      if (layer(to) > layer(from)) upward.push(`${from} -> ${to}`);
    }
  }
  assert.equal(upward, []);
});

test('the layer check itself sees an upward edge', () => {
  // Guards the test above against a regex that matches nothing.
  const graph = importGraph();
  const edges = [...graph.values()].flat();
  assert.ok(edges.includes('sandbox-core/base/errors.js'));
  assert.ok(layer('sandbox-core/base/errors.js') < layer('policies/fold.js'));
  assert.ok(layer('cli/run.js') > layer('sandbox-core/run.js'));
});

test('meta.state is written only by the store (markCreated, markRunning, markSaved, ...)', () => {
  const writers: string[] = [];
  for (const top of ['cli', 'sandbox-core', 'policies']) {
    for (const f of files(REPO, top, '.ts')) {
      if (f === 'sandbox-core/store.ts') continue;
      const text = readFileSync(join(REPO, f), 'utf8');
      if (/\.state\s*=[^=]/.test(text) || /\bstate:\s*'(created|running|saved|committing|committed)'/.test(text)) writers.push(f);
    }
  }
  assert.equal(writers, []);
});

test('the run is owned by sandbox-core: cli/ parses and renders only', () => {
  // cli/run.ts parses (cli/run-fast.ts too) and cli/run-exec.ts renders; none runs the lifecycle.
  for (const f of files(REPO, 'cli', '.ts')) {
    const text = readFileSync(join(REPO, f), 'utf8');
    for (const word of ['prepareLimits', 'releaseLimits', 'explainEnd', 'armTimeout', 'runSandbox', 'writeMeta']) {
      assert.not.ok(text.includes(word), `${f} uses ${word}: the run belongs to sandbox-core/run.ts`);
    }
  }
  // The store never launches the helper itself.
  const store = readFileSync(join(REPO, 'sandbox-core/store.ts'), 'utf8');
  for (const mod of ['./launch.js', './spec.js', './idmap.js', './helper.js']) assert.not.ok(store.includes(`'${mod}'`), `store.ts imports ${mod}`);
  assert.ok(existsSync(join(REPO, 'sandbox-core/mapped-root.ts')));
});

test('no test returns early to skip itself (a skip is test.skip or testUnless, counted and named)', () => {
  const silent: string[] = [];
  for (const top of ['test/unit', 'test/integration', 'test/security']) {
    for (const f of files(REPO, top, '.ts')) {
      if (f === 'test/unit/structure.test.ts') continue;
      const text = readFileSync(join(REPO, f), 'utf8');
      // `if (!IS_ROOT) return;`, `if (process.getuid() !== 0) return;`, `assert.not.ok(CI, …); return;`
      if (/if \(.*(IS_ROOT|getuid).*\) return;|assert\.not\.ok\(CI\b[^;]*;\s*return;/.test(text)) silent.push(f);
    }
  }
  assert.equal(silent, []);
});

test.run();
