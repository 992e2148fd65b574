// Every op that builds the view acts on its destination as resolved in the new root: a symlink
// met on the way (one a sandbox or an image left in a layer) leads only to another place
// inside, never to the host. Here the helper is given a spec directly, with an absolute
// symlink to a host canary planted in the new root and then mkdir, symlink and chmod through
// it: before pivot_root a path string like that would have been walked from the host's root.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IS_ROOT, proveIsolation, canary, storeAndCanary } from '../helpers/sbx.js';
import { encodeSpec, type SpecOp } from '../../sandbox-core/spec.js';
import { parseStatusLines } from '../../sandbox-core/launch.js';
import { helperPath } from '../../sandbox-core/helper.js';

const store = storeAndCanary();
const work = mkdtempSync(join(tmpdir(), 'sbx-viewops-'));
test.after(() => { rmSync(work, { recursive: true, force: true }); });

/** Just enough of the host, read-only, for `sh` to run inside: /usr bound, the top-level
 * links (merged /usr) or dirs copied. */
function baseView(): SpecOp[] {
  const ops: SpecOp[] = [{ op: 'bind', args: ['/usr', '/usr', ['ro', 'rec']] }];
  for (const d of ['bin', 'sbin', 'lib', 'lib64', 'lib32']) {
    const p = `/${d}`;
    if (!existsSync(p)) continue;
    if (lstatSync(p).isSymbolicLink()) ops.push({ op: 'symlink', args: [readlinkSync(p), p] });
    else ops.push({ op: 'bind', args: [p, p, ['ro', 'rec']] });
  }
  return ops;
}

/** /a, /a/b, /a/b/c: made on the stage, so the canary's path exists inside too (empty) and
 * is where the ops must land. */
const parentsOf = (p: string): string[] => p.split('/').slice(1).map((_, i, a) => `/${a.slice(0, i + 1).join('/')}`);

function runHelper(ops: SpecOp[], script: string) {
  const uid = process.getuid!(), gid = process.getgid!();
  const ids: SpecOp[] = IS_ROOT
    ? [{ op: 'uid_map', args: ['0 0 4294967295\n'] }, { op: 'gid_map', args: ['0 0 4294967295\n'] }]
    : [{ op: 'uid_map', args: [`0 ${uid} 1\n`] }, { op: 'setgroups', args: ['deny'] }, { op: 'gid_map', args: [`0 ${gid} 1\n`] }];
  const stage = mkdtempSync(join(work, 'stage-'));
  const spec = encodeSpec([
    ...ids, { op: 'stage', args: [stage] }, ...baseView(), ...ops,
    { op: 'cwd', args: ['/'] }, { op: 'arg', args: ['/bin/sh'] }, { op: 'arg', args: ['-c'] }, { op: 'arg', args: [script] },
    { op: 'env', args: ['PATH=/usr/bin:/bin'] },
  ]);
  const r = spawnSync('sh', ['-c', `exec "$0" run 0 4 4>&3 3>&-`, helperPath()], { input: spec, encoding: 'latin1', stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  const status = parseStatusLines((r.output[3] as string | null) ?? '');
  return { outcome: status.outcome, vanished: status.vanished, stdout: r.stdout, stderr: r.stderr };
}

test('mkdir, symlink and chmod through an absolute symlink in the new root stay inside it', () => {
  proveIsolation(canary, store);
  const modeBefore = statSync(canary).mode & 0o7777;
  const r = runHelper([
    ...parentsOf(canary).map((p): SpecOp => ({ op: 'mkdir', args: [p, '755'] })),
    { op: 'symlink', args: [canary, '/evil'] },
    { op: 'mkdir', args: ['/evil/made', '755'] },
    { op: 'symlink', args: ['planted', '/evil/link'] },
    { op: 'chmod', args: ['/evil', '700'] },
  ], `cd '${canary}' && ls -A && readlink link && stat -c %a .`);
  // The host canary is as the test made it: no dir, no link, its mode unchanged.
  assert.equal(readdirSync(canary).sort(), ['keep.txt']);
  assert.is(statSync(canary).mode & 0o7777, modeBefore);
  assert.equal(r.outcome, { kind: 'exited', code: 0 }, r.stderr);
  // And inside, they were made where the path leads in the new root.
  assert.is(r.stdout, 'link\nmade\nplanted\n700\n');
});

test('mounts through an absolute symlink in the new root land inside it', () => {
  proveIsolation(canary, store);
  const data = mkdtempSync(join(work, 'data-'));
  const r = runHelper([
    ...parentsOf(canary).map((p): SpecOp => ({ op: 'mkdir', args: [p, '755'] })),
    { op: 'symlink', args: [canary, '/up'] },
    { op: 'mkdir', args: ['/up/dev', '755'] },
    { op: 'tmpfs', args: ['/up/dev', 'mode=0755,size=1m', []] },
    { op: 'mkdir', args: ['/up/dev/pts', '755'] },
    { op: 'devpts', args: ['/up/dev/pts'] },
    { op: 'bind', args: [data, '/up/data', []] },
    { op: 'ro_recursive', args: ['/up/data'] },
  ], `ls '${canary}/dev/pts' | grep -c ptmx; touch '${canary}/data/x' 2>/dev/null && echo writable || echo read-only`);
  assert.equal(readdirSync(canary).sort(), ['keep.txt']);
  assert.equal(r.outcome, { kind: 'exited', code: 0 }, r.stderr);
  assert.is(r.stdout, '1\nread-only\n');
  assert.equal(readdirSync(data), []);
});

// A file beside a mount point is bound onto its stand-in by host path; another program can
// remove it between sbx's plan and the bind (a compiler's temporary file in a busy /tmp).
test('a bound host file that vanished before the bind: its empty stand-in stays, read-only, and the run says so', () => {
  proveIsolation(canary, store);
  const dir = mkdtempSync(join(work, 'split-'));
  writeFileSync(join(dir, 'stand'), '');
  const gone = join(dir, 'was-here');
  const view: SpecOp[] = [{ op: 'mkdir', args: ['/d', '755'] }, { op: 'bind', args: [dir, '/d', ['rec']] }];
  const script = 'test -f /d/stand && ! test -s /d/stand && echo empty; (echo x > /d/stand) 2>/dev/null || echo read-only';
  const r = runHelper([...view, { op: 'bind', args: [gone, '/d/stand', ['ro', 'may-vanish']] }], script);
  assert.equal(r.outcome, { kind: 'exited', code: 0 }, r.stderr);
  assert.is(r.stdout, 'empty\nread-only\n');
  assert.equal(r.vanished, ['/d/stand']);
  assert.is(readFileSync(join(dir, 'stand'), 'utf8'), '');
  // Without the flag (a file that is itself a mount point, a --bind source) it stays an error.
  const strict = runHelper([...view, { op: 'bind', args: [gone, '/d/stand', ['ro']] }], script);
  assert.equal(strict.outcome, { kind: 'setup-failed', step: 'bind', errno: 2, path: gone, message: null });
});

test.run();
