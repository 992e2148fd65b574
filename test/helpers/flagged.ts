// What the review flags, as the security tests read it: the `!` lines of sbx's output, and the
// checks every rule whose entries are counted on one line (SensitiveRule.many) must pass.
import * as assert from 'uvu/assert';
import type { SbxResult } from './sbx.js';

/** The `!` lines of `out`, runs of spaces made one (the summary pads its columns). */
export const flaggedLines = (out: string): string[] => out.split('\n').filter((l) => l.startsWith('! ')).map((l) => l.replace(/ +/g, ' '));

/**
 * Sandbox `name`, whose run printed `runOut`, shows the `paths` of reason `why` as the one
 * flagged `line` (then `trailer`) after the run and in `sbx diff`, while --all lists each,
 * --name-only names each and --json counts `sensitive` and gives each its reason. Returns the
 * output of `sbx diff NAME`.
 */
export function assertGroupedFlag(sbx: (args: string[]) => SbxResult, name: string, runOut: string,
  g: { line: string; trailer: string; why: string; paths: string[]; sensitive: number }): string {
  assert.equal(flaggedLines(runOut), [g.line, g.trailer], runOut);
  const out = sbx(['diff', name]).stdout;
  assert.equal(flaggedLines(out), [g.line, g.trailer], out);
  const all = sbx(['diff', name, '--all']).stdout;
  assert.equal(flaggedLines(all), [...g.paths.map((p) => `! added: ${p} [! ${g.why}]`), g.trailer], all);
  const names = sbx(['diff', name, '--name-only']).stdout.split('\n');
  for (const p of g.paths) assert.ok(names.includes(p), p);
  const json = JSON.parse(sbx(['diff', name, '--json']).stdout) as { sensitive: number; changes: Array<{ path: string; sensitive?: string }> };
  assert.is(json.sensitive, g.sensitive);
  assert.equal(json.changes.filter((c) => c.sensitive === g.why).map((c) => c.path).sort(), g.paths);
  return out;
}
