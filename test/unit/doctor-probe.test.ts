// sbx doctor's throwaway sandbox never outlives doctor, however its probe ends, and a
// setup failure's line shows a path with any byte in it escaped, on one line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeSandbox } from '../../sandbox-core/doctor.js';
import { describeFailure, runSandbox } from '../../sandbox-core/sandbox.js';
import { parseStatusLines } from '../../sandbox-core/launch.js';
import { scratchPath } from '../../sandbox-core/base/paths.js';

const home = mkdtempSync(join(tmpdir(), 'sbx-doctor-probe-'));
const saved = process.env.SBX_HOME;
test.before(() => { process.env.SBX_HOME = home; });
test.after(() => {
  if (saved === undefined) delete process.env.SBX_HOME; else process.env.SBX_HOME = saved;
  rmSync(home, { recursive: true, force: true });
});

test("a probe that fails once its sandbox exists removes it (store entry and scratch tree)", async () => {
  let id = '';
  const failing: typeof runSandbox = (store, req) => runSandbox(store, {
    ...req,
    onCreated: (meta) => {
      req.onCreated?.(meta);
      id = meta.id;
      throw new Error('a check failing midway');
    },
  });
  const r = await probeSandbox(null, failing);
  assert.is(r.ok, false);
  assert.is(r.detail, 'a check failing midway');
  assert.ok(id, 'the sandbox was made before the failure');
  assert.equal(readdirSync(home).filter((n) => /^[0-9a-f]{8}$/.test(n)), []);
  assert.not.ok(existsSync(join(scratchPath(process.getuid!()), id)));
});

test("the helper's escaped path keeps its newline: the cwd step's clear line, escaped", () => {
  const { outcome } = parseStatusLines('error cwd 2 /tmp/a\\x0ab\\x5cc\n');
  assert.equal(outcome, { kind: 'setup-failed', step: 'cwd', errno: 2, path: '/tmp/a\nb\\c', message: null });
  const e = describeFailure(outcome!, ['true'])!;
  assert.is(e.message, 'the working directory /tmp/a\\nb\\\\c does not exist inside the sandbox (ENOENT)');
  assert.is(e.hint, 'cd somewhere else first');
  const other = describeFailure({ kind: 'setup-failed', step: 'overlay-fallback', errno: 2, path: '/tmp/p\nq', message: null }, ['true'])!;
  assert.is(other.message, "sandbox setup failed at step 'overlay-fallback' /tmp/p\\nq: ENOENT");
});

test.run();
