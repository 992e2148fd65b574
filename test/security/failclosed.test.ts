// Fail closed: when a layer cannot be set up, sbx says why in one line, exits 125, and the
// command never runs. Every case checks that a marker the command would create is absent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SBX, makeStore, sbx, removeStore } from '../helpers/sbx.js';

const store = makeStore();
const work = mkdtempSync(join(tmpdir(), 'sbx-test-failclosed-'));
chmodSync(work, 0o755);
test.after(() => { rmSync(work, { recursive: true, force: true }); removeStore(store); });

function attempt(args: string[], env: NodeJS.ProcessEnv = {}, storeDir = store): { code: number; stderr: string; ran: boolean } {
  const r = sbx(['run', '-n', '-q', ...args, '--', 'echo', 'COMMAND-RAN'], { store: storeDir, env });
  return { code: r.code, stderr: r.stderr, ran: r.stdout.includes('COMMAND-RAN') };
}

function oneLine(stderr: string): void {
  const lines = stderr.trim().split('\n').filter((l) => l.startsWith('sbx:'));
  assert.ok(lines.length >= 1 && lines.length <= 2, `expected one error line (and a hint):\n${stderr}`);
}

test('control: the marker command runs when nothing is wrong', () => {
  const r = attempt([]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.ran);
});

test('a seccomp policy that cannot be loaded stops the run', () => {
  const bad = join(work, 'bad.json');
  writeFileSync(bad, '{"version": 1, "defaultAction": "allow", "rules": [{"syscalls": ["no_such_syscall"], "action": "kill"}]}');
  for (const p of [join(work, 'missing.json'), bad]) {
    const r = attempt(['--policy', p]);
    assert.is(r.code, 125, r.stderr);
    assert.not.ok(r.ran, `the command ran without its filter (${p})`);
    oneLine(r.stderr);
  }
});

test('a store that is a symlink is refused, and nothing is written through it', () => {
  const target = join(work, 'elsewhere');
  mkdirSync(target, { mode: 0o700 });
  const link = join(work, 'store-link');
  symlinkSync(target, link);
  const r = attempt([], {}, link);
  assert.is(r.code, 125, r.stderr);
  assert.match(r.stderr, 'refusing');
  assert.not.ok(r.ran);
  assert.equal(readdirSync(target), []);
});

test('the store and every sandbox dir are 0700, even when the store was made too open', () => {
  const s = join(work, 'open-store');
  mkdirSync(s, { mode: 0o755 });
  chmodSync(s, 0o755);
  const r = sbx(['run', '--name', 'perm', '-q', '--', 'true'], { store: s });
  assert.is(r.code, 0, r.stderr);
  assert.is(lstatSync(s).mode & 0o777, 0o700);
  const dirs = readdirSync(s).filter((d) => /^[0-9a-f]{8}$/.test(d));
  assert.is(dirs.length, 1);
  for (const d of dirs) assert.is(lstatSync(join(s, d)).mode & 0o777, 0o700);
});

test('user namespaces refused: exit 125 and the command never runs', () => {
  // The limit is per user namespace: set it to 0 in one of our own and run sbx in there, so
  // the rest of the machine is not affected. (This container's /proc/sys is read-only even
  // for root, so the machine-wide sysctl cannot be used.)
  const r = spawnSync('unshare', ['-Ur', 'sh', '-c', 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$0" "$@"',
    process.execPath, SBX, 'run', '-q', '--', 'echo', 'COMMAND-RAN'], { encoding: 'utf8', cwd: '/', env: { ...process.env, SBX_HOME: join(work, 'nested-store'), NO_COLOR: '1' } });
  assert.is(r.status, 125, r.stderr);
  assert.not.match(r.stdout, 'COMMAND-RAN');
  oneLine(r.stderr);
  // The line names the cause and the fix.
  assert.match(r.stderr, /cannot create a user namespace .*sysctl/);
});

test.run();
