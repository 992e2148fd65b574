// The sensitive-change table: one test per rule, each with paths or changes issue 11 listed
// (and the ones before it), plus ordinary changes nearby that must not be marked.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SENSITIVE_RULES, sensitiveContext, sensitiveReason, sensitiveRule } from '../../sandbox-core/changes/sensitive.js';
import { CASES, ORDINARY, file, type C } from './sensitive-cases.js';

const ctx = sensitiveContext({ PATH: '/usr/local/bin:/usr/bin:/bin:/opt/tool/bin', HOME: '/home/u' });
const ruleOf = (c: C): string | undefined => sensitiveRule(c, ctx)?.id;

test('every rule in the table has cases here', () => {
  for (const r of SENSITIVE_RULES) assert.ok(CASES[r.id]?.length, `rule ${r.id} has no test case`);
  for (const id of Object.keys(CASES)) assert.ok(SENSITIVE_RULES.some((r) => r.id === id), `no rule ${id}`);
});

for (const [id, cases] of Object.entries(CASES)) {
  test(`rule ${id}`, () => {
    for (const c of cases) assert.is(ruleOf(c), id, `${c.path} (${c.change}) should be marked by ${id}`);
  });
}

test('ordinary changes next to sensitive places are not marked', () => {
  for (const c of ORDINARY) assert.is(sensitiveReason(c, ctx), null, `${c.path} (${c.change}) marked: ${sensitiveReason(c, ctx)}`);
});

test('PATH commands: added and changed say which', () => {
  assert.is(sensitiveReason(file('/usr/bin/x'), ctx), 'new command in PATH');
  assert.is(sensitiveReason(file('/usr/bin/x', 'modified'), ctx), 'command in PATH changed');
});

test.run();
