// What a command could change that the review showed without a `!` (docs/security.md, "What
// the review can hide"): a command on PATH made executable, writable by others or given away
// without a byte of it changed; another user's ~/bin; a sitecustomize.pyc, which Python runs
// at every start, folded as bytecode; a sourceless module.pyc folded with the cache; dpkg's
// invoke hooks and maintainer scripts and /etc/apt/apt.conf, which run as root at a later install.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeFixture, markStarted, write, type Fixture } from './changes-fixture.js';
import { scanSandbox } from '../../sandbox-core/changes/scan.js';
import { sensitiveContext, sensitiveReason } from '../../sandbox-core/changes/sensitive.js';
import { renderSummary } from '../../cli/render-changes.js';
import type { Change, EntryStat } from '../../sandbox-core/changes/types.js';
import { file } from './sensitive-cases.js';

const plain = { green: (s: string) => s, red: (s: string) => s, yellow: (s: string) => s, cyan: (s: string) => s, magenta: (s: string) => s, dim: (s: string) => s, bold: (s: string) => s };
const ctx = sensitiveContext({ PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/root' });
const st = (perm: number, uid = 0): EntryStat => ({ type: 'file', perm, uid, gid: 0, size: 1, mtimeMs: 0, atimeMs: 0, ctimeMs: 0, ino: 1, dev: 1, nlink: 1, rdev: 0 });
const meta = (path: string, host: EntryStat, up: EntryStat, details: string[]): Change => ({ path, change: 'metadata', type: 'file', size: 1, host, up, details });

test('a command on PATH whose mode, owner, ACL or xattrs changed is flagged; a touch is not', () => {
  const why = 'command in PATH: who may run or write it changed';
  assert.is(sensitiveReason(meta('/usr/local/bin/tool', st(0o644), st(0o755), ['mode 644→755']), ctx), why);
  assert.is(sensitiveReason(meta('/usr/bin/true', st(0o755), st(0o757), ['mode 755→757']), ctx), why);
  assert.is(sensitiveReason(meta('/usr/bin/true', st(0o755), st(0o755, 65534), ['owner 0:0→65534:0']), ctx), why);
  assert.is(sensitiveReason(meta('/usr/bin/true', st(0o755), st(0o775), ['mode 755→775', 'acl +user:65534:rwx +mask::rwx']), ctx), why);
  assert.is(sensitiveReason(meta('/bin/ls', st(0o755), st(0o755), ['xattrs']), ctx), why);
  assert.is(sensitiveReason(meta('/usr/bin/true', st(0o755), st(0o755), ['mtime']), ctx), null);
  assert.is(sensitiveReason({ path: '/usr/bin/true', change: 'deleted', type: 'file' }, ctx), null);
  // A shared library on the loader path, likewise.
  assert.is(sensitiveReason(meta('/usr/lib/x86_64-linux-gnu/libc.so.6', st(0o644), st(0o666), ['mode 644→666']), ctx), 'shared library on the loader path: who may write it changed');
  assert.is(sensitiveReason(meta('/usr/lib/x86_64-linux-gnu/libc.so.6', st(0o644), st(0o644), ['mtime']), ctx), null);
});

test('a directory on PATH, or above one, given to another owner or group is flagged; a mode change alone is not', () => {
  const dir = (perm: number, uid = 0, gid = 0): EntryStat => ({ ...st(perm, uid), type: 'dir', gid });
  const why = 'directory on PATH given to another owner or group (who can then plant commands)';
  const d = (path: string, host: EntryStat, up: EntryStat, details: string[]): Change => ({ path, change: 'metadata', type: 'dir', size: 0, host, up, details });
  assert.is(sensitiveReason(d('/usr/local/bin', dir(0o755), dir(0o755, 1000), ['owner 0:0→1000:0']), ctx), why);
  assert.is(sensitiveReason(d('/usr/local/bin', dir(0o755), dir(0o775, 0, 100), ['mode 755→775', 'owner 0:0→0:100']), ctx), why);
  assert.is(sensitiveReason(d('/usr', dir(0o755), dir(0o755, 1000), ['owner 0:0→1000:0']), ctx), why);
  assert.is(sensitiveReason(d('/usr/share', dir(0o755), dir(0o755, 1000), ['owner 0:0→1000:0']), ctx), null);
  // Debian's /usr/local dirs are group staff and group-writable.
  assert.is(sensitiveReason(d('/usr/local/bin', dir(0o755), dir(0o775), ['mode 755→775']), ctx), null);
});

test("another user's ~/bin and ~/.local/bin are on their PATH: a command there is flagged", () => {
  // Names no host has elsewhere on PATH (one that has is path-shadow's: unit/sensitive).
  for (const p of ['/home/alice/.local/bin/sbx-no-such-tool', '/home/alice/bin/sbx-no-such-x', '/root/bin/x']) assert.is(sensitiveReason(file(p), ctx), 'new command in PATH', p);
  for (const p of ['/home/alice/.local/bin2/ls', '/home/alice/src/bin/x', '/home/alice/.local/bin/sub/x']) assert.is(sensitiveReason(file(p), ctx), null, p);
});

test('a sitecustomize or usercustomize bytecode file is Python startup code', () => {
  for (const p of ['/usr/lib/python3/dist-packages/sitecustomize.pyc', '/usr/lib/python3.11/__pycache__/sitecustomize.cpython-311.pyc',
    '/root/.local/lib/python3.11/site-packages/__pycache__/usercustomize.cpython-311.opt-1.pyc', '/srv/app/venv/lib/python3.11/site-packages/usercustomize.pyc']) {
    assert.is(sensitiveReason(file(p), ctx), 'Python startup code (runs at every start of a Python that uses this site-packages)', p);
  }
  // Only where Python looks for it as it starts: not a project's dir or a package's own.
  for (const p of ['/srv/app/usercustomize.pyc', '/srv/app/venv/lib/python3.11/site-packages/debugpy/x/sitecustomize.py']) assert.is(sensitiveReason(file(p), ctx), null, p);
  // Not startup code (with no upper path to look at, a host site.py makes it python-bytecode's).
  assert.is.not(sensitiveReason(file('/usr/lib/python3.11/__pycache__/site.cpython-311.pyc'), ctx), 'Python startup code (runs at every start of a Python that uses this site-packages)');
});

test("what dpkg and apt run as root later: dpkg.cfg's invoke hooks, maintainer scripts, apt.conf", () => {
  const why = 'dpkg hook or maintainer script (runs as root at a later install)';
  for (const p of ['/etc/dpkg/dpkg.cfg.d/hook', '/var/lib/dpkg/info/coreutils.prerm', '/var/lib/dpkg/info/bash.postinst']) assert.is(sensitiveReason(file(p, 'modified'), ctx), why, p);
  assert.is(sensitiveReason(file('/etc/apt/apt.conf'), ctx), 'package source');
  // Removed with its package: runs nothing. The file list is no script (what it names is
  // dpkg-file-list's to read: unit/dpkg-list).
  assert.is(sensitiveReason({ path: '/var/lib/dpkg/info/sl.postinst', change: 'deleted', type: 'file' }, ctx), null);
  assert.is.not(sensitiveReason(file('/var/lib/dpkg/info/sl.list'), ctx), why);
});

let f: Fixture;
test.before.each(() => { f = makeFixture(); });
test.after.each(() => f.cleanup());

test('the summary: a sitecustomize.pyc is listed flagged, a module.pyc beside no __pycache__ is listed, only __pycache__ folds', () => {
  const U = (p: string) => join(f.upper(), p);
  mkdirSync(join(f.host, 'site-packages/__pycache__'), { recursive: true });
  markStarted(f);
  write(U('site-packages/sitecustomize.pyc'), 'bytecode');
  write(U('site-packages/json.pyc'), 'bytecode');
  write(U('site-packages/__pycache__/a.cpython-311.pyc'), 'cache');
  write(U('site-packages/__pycache__/b.cpython-311.pyc'), 'cache');
  const out = renderSummary(scanSandbox(f.meta).changes, plain);
  assert.ok(out.includes(`! added:    ${f.host}/site-packages/sitecustomize.pyc [! Python startup code (runs at every start of a Python that uses this site-packages)]\n`), out);
  assert.ok(out.includes(`  added:    ${f.host}/site-packages/json.pyc\n`), out);
  assert.match(out, /  added: {4}2 in python bytecode \(10 B\), folded\n/);
});

test('the scan of a chmod +x of a file on PATH is flagged', () => {
  const bin = join(f.host, 'bin');
  mkdirSync(bin);
  write(join(bin, 'tool'), 'echo hi\n');
  chmodSync(join(bin, 'tool'), 0o644);
  markStarted(f);
  // What overlayfs leaves after a chmod: the file copied up with its new mode.
  write(join(f.upper(), 'bin/tool'), 'echo hi\n');
  chmodSync(join(f.upper(), 'bin/tool'), 0o755);
  const changes = scanSandbox(f.meta).changes;
  assert.equal(changes.map((x) => [x.path, x.change, sensitiveReason(x, sensitiveContext({ PATH: bin }))]), [[join(bin, 'tool'), 'metadata', 'command in PATH: who may run or write it changed']]);
});

test.run();
