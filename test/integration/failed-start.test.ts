// A run that fails after its store entry was made but before the helper started leaves no
// sandbox behind (README.md, docs/architecture.md "How a run flows"): the helper it names is gone
// (SBX_HELPER pointing at a removed build), so spawn itself fails with ENOENT. A sandbox run
// --in keeps its state. The runner executes this file as root and again as an unprivileged user.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeStore, removeStore, sbx, SBX } from '../helpers/sbx.js';

const store = makeStore();
const work = mkdtempSync(join(tmpdir(), 'sbx-failed-start-'));
test.after(() => {
  removeStore(store);
  rmSync(work, { recursive: true, force: true });
});

/** The sandboxes in the store (ids). */
const sandboxes = (): string[] => readdirSync(store).filter((n) => /^[0-9a-f]{8}$/.test(n));

test('a run whose helper cannot be started leaves no sandbox in sbx ls; a sandbox run --in keeps its state', () => {
  // A helper that was there and is no more: any file once copied and then removed.
  const gone = join(work, 'sbx-helper');
  copyFileSync(SBX, gone);
  rmSync(gone);
  const env = { SBX_HELPER: gone };
  for (const args of [['run', '--name', 'never', '--', 'true'], ['run', '-n', '--', 'true']]) {
    const r = sbx(args, { store, env });
    assert.is(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
    // The one error line, last (an ordinary user's standing notices may come before it).
    assert.ok(r.stderr.endsWith(`sbx: error: cannot start the sbx helper: spawn ${gone} ENOENT\n`), r.stderr);
    assert.is(r.stderr.split('sbx: error:').length, 2, r.stderr);
    assert.equal(sandboxes(), [], `${args.join(' ')} left its store entry`);
  }
  const ls = sbx(['ls'], { store });
  assert.is(ls.code, 0, ls.stderr);
  assert.not.match(ls.stdout + ls.stderr, /never/);

  const kept = sbx(['run', '-q', '--name', 'kept', '--', 'sh', '-c', `echo x > ${work}/made`], { store });
  assert.is(kept.code, 0, kept.stderr);
  const before = sandboxes();
  const again = sbx(['run', '--in', 'kept', '--', 'true'], { store, env });
  assert.is(again.code, 125, again.stderr);
  assert.equal(sandboxes(), before, 'run --in removed the sandbox it did not make');
  const diff = sbx(['diff', 'kept', '--name-only'], { store });
  assert.is(diff.code, 0, diff.stderr);
  assert.match(diff.stdout, `${work}/made`);
  assert.is(sbx(['discard', 'kept'], { store }).code, 0);
});

test.run();
