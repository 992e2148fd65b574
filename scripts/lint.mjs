#!/usr/bin/env node
// `npm run lint`: the type checker with stricter flags (tsconfig.lint.json) and a few text
// rules no compiler checks. Needs nothing beyond the dev dependencies and no network; .ci/run
// runs it before the tests. No linter package: these rules are all the house needs so far.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const problems = [];

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const t = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.lint.json')], { cwd: root, encoding: 'utf8' });
if (t.status !== 0) problems.push(...(t.stdout + t.stderr).trim().split('\n'));

// Tracked files only: build output and node_modules are not ours.
const files = execFileSync('git', ['ls-files', '-z', 'cli', 'sandbox-core', 'policies', 'test', 'scripts', 'bench', 'native', 'docs', '*.md', '*.json', '.ci'], { cwd: root, encoding: 'utf8' })
  .split('\0').filter((f) => f && !f.startsWith('test/security/c/') && /\.(ts|mjs|c|h|md|json|sh)$|^\.ci\//.test(f));

const SOURCE = /^(cli|sandbox-core|policies)\/.*\.ts$/;
const rules = [
  { test: () => true, re: /[ \t]+$/m, why: 'trailing whitespace' },
  { test: () => true, re: /\r/, why: 'a CR (files use LF line ends)' },
  { test: (f) => !f.endsWith('.md'), re: /^\t/m, why: 'indented with a tab (two spaces)' },
  { test: (f) => /\.(ts|mjs)$/.test(f), re: /@ts-(ignore|nocheck)\b/, why: 'a ts-ignore or ts-nocheck comment (fix the type, or use ts-expect-error with the reason)' },
  { test: (f) => /\.(ts|mjs)$/.test(f), re: /^\s*debugger\b/m, why: 'a debugger statement' },
  { test: (f) => f.startsWith('test/'), re: /\btest\.only\(|\bsuite\.only\(/, why: 'test.only (runs one test, silently skipping the rest)' },
  { test: (f) => SOURCE.test(f), re: /(:\s*any\s*[,;)=|>\]{]|\bas any\b|<any>)/, why: "an explicit 'any' (use unknown and narrow it)" },
];

for (const f of files) {
  let text;
  try { text = readFileSync(join(root, f), 'utf8'); } catch { continue; }
  if (text.length && !text.endsWith('\n')) problems.push(`${f}: no newline at the end`);
  for (const r of rules) {
    if (!r.test(f)) continue;
    const m = r.re.exec(text);
    if (m) problems.push(`${f}:${text.slice(0, m.index).split('\n').length}: ${r.why}`);
  }
}

if (problems.length) {
  for (const p of problems) console.error(p);
  console.error(`lint: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
  process.exit(1);
}
console.log(`lint: tsc (tsconfig.lint.json) and ${files.length} files clean`);
