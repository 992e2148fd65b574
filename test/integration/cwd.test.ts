// sbx started in a working directory it cannot use: removed since the shell entered it, or
// hidden from the sandbox. One clear line (125) and no sandbox left behind, as root and as an
// ordinary user alike; commands that need no current directory just work. The runner executes
// this file as root and again as an unprivileged user.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IS_ROOT, makeStore, removeStore, sbx, type SbxResult } from '../helpers/sbx.js';

const store = makeStore();
const work = mkdtempSync(join(tmpdir(), 'sbx-cwd-'));
test.after(() => {
  removeStore(store);
  rmSync(work, { recursive: true, force: true });
});

const GONE = 'sbx: error: the current directory no longer exists (cd somewhere else first)\n';

/** The sandboxes in the store (ids). */
const sandboxes = (): string[] => readdirSync(store).filter((n) => /^[0-9a-f]{8}$/.test(n));

let n = 0;
/** `sbx ARGS` started in a directory that a shell entered and then removed. */
function inRemovedDir(args: string[]): SbxResult {
  const dir = join(work, `gone-${n++}`);
  mkdirSync(dir);
  return sbx(args, { store, prefix: ['sh', '-c', 'cd "$1" && rmdir "$1" && shift && exec "$@"', 'sh', dir] });
}

/** A saved sandbox with one new file, made from `work`. */
function savedSandbox(name: string): void {
  const r = sbx(['run', '-q', '--name', name, '--', 'sh', '-c', `echo x > ${work}/made-in-${name}`], { store, cwd: work });
  assert.is(r.code, 0, r.stderr);
}

test('a removed working directory: run, policy check, --rootfs and export -o say so in one line and leave no sandbox', () => {
  savedSandbox('kept');
  const before = sandboxes();
  for (const args of [['run', '-n', '--', 'true'], ['run', '-n', '-q', '--', 'true'], ['run', '--memory', '1G', '--', 'true'],
    ['policy', 'check', './p.json'], ['run', '--rootfs', '.', '--', 'true'], ['export', 'kept', '-o', 'x.tgz']]) {
    const r = inRemovedDir(args);
    assert.is(r.code, 125, args.join(' '));
    assert.is(r.stderr, GONE, `${args.join(' ')}: ${r.stderr}`);
  }
  assert.equal(sandboxes(), before);
});

test('a removed working directory: ls, diff ID and discard work, they need none', () => {
  savedSandbox('other');
  const ls = inRemovedDir(['ls']);
  assert.is(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /\bother\b/);
  const diff = inRemovedDir(['diff', 'other', '--name-only']);
  assert.is(diff.code, 0, diff.stderr);
  assert.match(diff.stdout, /made-in-other/);
  const stat = inRemovedDir(['diff', 'other', '--stat']);
  assert.is(stat.code, 0, stat.stderr);
  const gone = inRemovedDir(['discard', 'other']);
  assert.is(gone.code, 0, gone.stderr);
  assert.not.match(sbx(['ls'], { store }).stdout, /\bother\b/);
});

test('sbx doctor in a removed working directory says what it says elsewhere and leaves no sandbox', () => {
  const before = sandboxes();
  // The checks the probe sandbox answers. overlayfs's is left out: it reads `limited` when a
  // mount of another program came or went during that probe (a read-only fallback).
  const status = (r: SbxResult): string[] => `${r.stdout}${r.stderr}`.split('\n')
    .filter((l) => /^\S+\s+(user namespaces|seccomp):/.test(l)).map((l) => l.split(/\s+/).slice(0, 3).join(' '));
  const here = sbx(['doctor'], { store, cwd: work });
  const there = inRemovedDir(['doctor']);
  assert.is(there.code, here.code, there.stderr);
  assert.not.match(there.stdout + there.stderr, /uv_cwd|not tested/);
  assert.is(status(here).length, 2, here.stdout + here.stderr);
  assert.equal(status(there), status(here), there.stdout + there.stderr);
  assert.equal(sandboxes(), before);
});

test('a hidden working directory (or a hidden parent of it) is refused alike as root and as a user, naming what hides it', () => {
  // The user's own private dir, a tree of its own that an ordinary user's view overlays apart.
  const priv = join(work, 'priv');
  mkdirSync(join(priv, 'sub'), { recursive: true });
  chmodSync(priv, 0o700);
  const before = sandboxes();
  for (const [cwd, hide] of [[priv, priv], [join(priv, 'sub'), priv], [priv, `${priv}/`]] as const) {
    const r = sbx(['run', '-n', '--hide', hide, '--', 'pwd'], { store, cwd });
    assert.is(r.code, 125, r.stderr);
    assert.is(r.stdout, '');
    assert.is(r.stderr, `sbx: error: the working directory ${cwd} would be hidden inside (--hide ${priv}) (cd somewhere else first)\n`);
  }
  // A hidden sibling is no reason to refuse.
  const ok = sbx(['run', '-n', '-q', '--hide', join(work, 'elsewhere'), '--', 'pwd'], { store, cwd: priv });
  assert.is(ok.code, 0, ok.stderr);
  assert.is(ok.stdout, `${priv}\n`);
  assert.equal(sandboxes(), before);
});

test('a working directory whose name holds a newline is shown escaped, on one line', () => {
  const nl = join(work, 'nl\nx');
  mkdirSync(nl);
  const r = sbx(['run', '-n', '--hide', nl, '--', 'true'], { store, cwd: nl });
  assert.is(r.code, 125);
  assert.is(r.stderr, `sbx: error: the working directory ${work}/nl\\nx would be hidden inside (--hide ${work}/nl\\nx) (cd somewhere else first)\n`);
});

test('export -o into a directory that does not exist, or below a file, is one line naming it', () => {
  savedSandbox('exp');
  const missing = join(work, 'no-such-dir');
  for (const format of ['patch', 'tar', 'oci-layer']) {
    const r = sbx(['export', 'exp', '--format', format, '-o', join(missing, 'x.out')], { store, cwd: work });
    assert.is(r.code, 125, r.stderr);
    assert.is(r.stderr, `sbx: error: cannot write ${missing}/x.out: the directory ${missing} does not exist (create it first, or give -o a file in an existing directory)\n`);
  }
  const file = join(work, 'a-file');
  writeFileSync(file, '');
  const below = sbx(['export', 'exp', '--format', 'patch', '-o', join(file, 'x.patch')], { store, cwd: work });
  assert.is(below.code, 125);
  assert.is(below.stderr, `sbx: error: cannot write ${file}/x.patch: ${file} is not a directory (give -o a file in an existing directory)\n`);
  assert.not.ok(existsSync(missing));
});

test('discard of one sandbox named twice discards it once, without a false report', () => {
  savedSandbox('twice');
  const id = sbx(['ls', '--json'], { store }).stdout;
  const meta = (JSON.parse(id) as Array<{ id: string; name: string | null }>).find((m) => m.name === 'twice')!;
  const r = sbx(['discard', 'twice', 'twice', meta.id], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, 'sbx: discarded twice\n');
});

if (!IS_ROOT) {
  test("an ordinary user pointed at root's store is told what to do, in one line", () => {
    // Root's own dir: refused on its owner before anything is written (or chmodded) there.
    const rootOwned = '/usr';
    assert.is(lstatSync(rootOwned).uid, 0);
    const run = sbx(['run', '-n', '--', 'true'], { store: rootOwned });
    assert.is(run.code, 125);
    assert.is(run.stderr, `sbx: error: ${rootOwned} is owned by uid 0, not by you: refusing to use it (give SBX_HOME a directory of your own, or unset it for the default store)\n`);
    const ls = sbx(['ls'], { store: rootOwned });
    assert.is(ls.code, 125);
    assert.match(ls.stderr, /^sbx: error: the store \/usr is owned by uid 0, not by uid \d+: refusing to use it \(give SBX_HOME a directory of your own, or unset it for the default store\)\n$/);
  });
}

test.run();
