// sbx run end to end with the real kernel. The runner executes this file as root and again as
// an unprivileged user.
// sbx-test: host-mounts (it mounts tmpfs and overlays on the host, and compares the host's mounts with the view).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statfsSync, writeFileSync, chmodSync } from 'node:fs';
import { getXattrs, setXattrs } from '../../sandbox-core/changes/xattr.js';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { IS_ROOT, SBX, awaitDetachedRemovals, hostMounts, hostMountsLeft, makeStore, proveIsolation, removeStore, sbx, sbxAsync, canary, storeAndCanary } from '../helpers/sbx.js';
import { parseMountInfo, visibleMounts, PSEUDO_FS } from '../../sandbox-core/mountinfo.js';
import { have, ROOT_CASE, testUnless } from '../helpers/skip.js';
import { underPty } from '../helpers/pty.js';

const store = storeAndCanary();

test('a canary write inside is invisible on the host', () => {
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', `echo inside > ${canary}/new.txt; cat ${canary}/new.txt`], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'inside\n');
  assert.not.ok(existsSync(join(canary, 'new.txt')));
});

test('deleting the canary tree inside leaves it intact outside', () => {
  mkdirSync(join(canary, 'sub', 'deeper'), { recursive: true });
  writeFileSync(join(canary, 'sub', 'deeper', 'f'), 'x');
  proveIsolation(canary, store);
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', `rm -rf ${canary} && test ! -e ${canary} && echo gone`], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'gone\n');
  assert.is(readFileSync(join(canary, 'keep.txt'), 'utf8'), 'precious\n');
  assert.ok(existsSync(join(canary, 'sub', 'deeper', 'f')));
});

/** As an ordinary user: a nested mount the host already has, with something in it to list. */
const readableNestedMount = IS_ROOT ? null : visibleMounts(parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')))
  .filter((m) => m.mountPoint !== '/' && !PSEUDO_FS.has(m.fsType) && !/^\/(proc|sys|dev)(\/|$)/.test(m.mountPoint))
  .find((m) => { try { return readdirSync(m.mountPoint).length > 0; } catch { return false; } });

testUnless(IS_ROOT || readableNestedMount ? null : 'no readable nested mount on this host to test with (a host without one is no missing feature)')('nested mounts are visible with their content', () => {
  if (IS_ROOT) {
    const nested = join(canary, 'nested');
    mkdirSync(nested);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'sbx-test', nested]);
    assert.is(m.status, 0, 'mount a nested tmpfs');
    try {
      writeFileSync(join(nested, 'inner.txt'), 'on a nested mount\n');
      const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', `cat ${nested}/inner.txt; echo more > ${nested}/inner.txt`], { store });
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout, 'on a nested mount\n');
      assert.is(readFileSync(join(nested, 'inner.txt'), 'utf8'), 'on a nested mount\n');
    } finally {
      spawnSync('umount', [nested]);
    }
    return;
  }
  // Unprivileged: use a nested mount the host already has.
  const readable = readableNestedMount!;
  const expected = readdirSync(readable.mountPoint).sort().join('\n');
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', `ls -A '${readable.mountPoint}' | LC_ALL=C sort`], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.trim().split('\n').sort().join('\n'), expected);
});

// Needs mounts on the host to set up.
testUnless(IS_ROOT ? null : 'needs root to mount on the host')('a mount that cannot be overlaid is read-only inside, said in one line, never empty', () => {
  // Overlays stack at most two deep: an overlay of an overlay of an overlay is refused.
  const base = join(canary, 'stack');
  for (const d of ['lower', 'u1', 'w1', 'a', 'u2', 'w2', 'b']) mkdirSync(join(base, d), { recursive: true });
  writeFileSync(join(base, 'lower', 'content.txt'), 'deep\n');
  const mounted: string[] = [];
  try {
    const m1 = spawnSync('mount', ['-t', 'overlay', 'sbx-t1', '-o', `lowerdir=${base}/lower,upperdir=${base}/u1,workdir=${base}/w1`, `${base}/a`]);
    assert.is(m1.status, 0, 'first overlay');
    mounted.push(`${base}/a`);
    const m2 = spawnSync('mount', ['-t', 'overlay', 'sbx-t2', '-o', `lowerdir=${base}/a,upperdir=${base}/u2,workdir=${base}/w2`, `${base}/b`]);
    assert.is(m2.status, 0, 'second overlay');
    mounted.push(`${base}/b`);
    const r = sbx(['run', '-n', '--', 'sh', '-c', `cat ${base}/b/content.txt; echo x > ${base}/b/new 2>/dev/null || echo refused`], { store });
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'deep\nrefused\n');
    assert.match(r.stderr, new RegExp(`${base}/b could not be overlaid .*read-only inside`));
    assert.not.ok(existsSync(join(base, 'b', 'new')));
  } finally {
    for (const m of mounted.reverse()) spawnSync('umount', [m]);
  }
});

const shmIsTmpfs = ((): boolean => { try { return statfsSync('/dev/shm').type === 0x01021994; } catch { return false; } })();
testUnless(shmIsTmpfs ? null : '/dev/shm is not a tmpfs: layers are kept in the store, nothing for the helper to remove', { missing: true })('a quiet throwaway run has the helper remove whole layers and the skeleton (as root: its layers are on a tmpfs of the helper\'s namespace, only their empty dir is left to remove); a listing one the work dirs and the skeleton (the list reads the uppers); neither leaves a scratch tree', () => {
  proveIsolation(canary, store);
  const scraps = (err: string): string[] => err.split('\n').filter((l) => l.startsWith('scrap_after ')).map((l) => l.replace(/^scrap_after "[^"]*" /, ''));
  const quiet = sbx(['run', '-n', '-q', '--', 'sh', '-c', `echo x > ${canary}/quiet`], { store, env: { SBX_DEBUG_SPEC: '1' } });
  assert.is(quiet.code, 0, quiet.stderr);
  const q = scraps(quiet.stderr);
  if (IS_ROOT) {
    // The layer dirs are made on that tmpfs (entries under lt/), the overlays' uppers are there.
    assert.match(quiet.stderr, /^layers_tmpfs "lt"$/m);
    assert.match(quiet.stderr, /^overlay "[^"]*" "[^"]*" "[^"]*\/lt\/L\d{3,}\/upper"/m);
    assert.equal(q, ['"skel"', '"lt"']);
  } else {
    assert.not.match(quiet.stderr, /^layers_tmpfs /m);
    assert.ok(q.length > 1 && q.includes('"skel"') && q.every((x) => /^"(L\d{3,}|skel)"$/.test(x)), q.join(' '));
  }
  const listed = sbx(['run', '-n', '--', 'sh', '-c', `echo x > ${canary}/listed`], { store, env: { SBX_DEBUG_SPEC: '1' } });
  assert.is(listed.code, 0, listed.stderr);
  const l = scraps(listed.stderr);
  // A kernel layer's work dir itself stays for the review (walk.ts rootEntry compares the upper root with it).
  assert.ok(l.includes('"skel"') && l.every((x) => /^"(L\d{3,}\/work(\/work)?|skel)"$/.test(x)), l.join(' '));
  assert.match(listed.stderr, 'listed');
  for (const f of ['quiet', 'listed']) assert.not.ok(existsSync(join(canary, f)));
  // Other sandboxes may share the scratch dir: these two runs' trees are gone, and their entries.
  for (const r of [quiet, listed]) {
    const tree = /^scrap_after "([^"]+)"/m.exec(r.stderr)?.[1] ?? '';
    assert.ok(tree.startsWith(`/dev/shm/sbx-${process.getuid!()}/`), tree);
    assert.not.ok(existsSync(tree), tree);
  }
  assert.equal(readdirSync(store).filter((e) => /^[0-9a-f]{8}$/.test(e)), []);
});

const haveStrace = have('strace');
// As root only: strace drops the setuid bit of newuidmap, which an ordinary user's run needs.
testUnless(!haveStrace ? 'no strace here to count the writes' : ROOT_CASE)("a throwaway run writes its meta.json once, before the set-up (already running): it is removed once reviewed, so not again when the command ended, quiet or not", () => {
  const renamesOf = (args: string[]): string[] => {
    const trace = join(canary, 'trace');
    const r = sbx(['run', ...args, '--', 'true'], { store, prefix: ['strace', '-f', '-qq', '-e', 'trace=rename,renameat,renameat2', '-o', trace] });
    assert.is(r.code, 0, r.stderr);
    return readFileSync(trace, 'utf8').split('\n').filter((l) => /meta\.json"/.test(l) && !/= -1/.test(l));
  };
  const loud = renamesOf(['-n']);
  assert.is(loud.length, 1, loud.join('\n'));
  const quiet = renamesOf(['-n', '-q']);
  assert.is(quiet.length, 1, quiet.join('\n'));
  assert.equal(readdirSync(store).filter((n) => /^[0-9a-f]{8}$/.test(n)), [], 'a throwaway run left a sandbox in the store');
});

testUnless(!haveStrace ? 'no strace here to see the remover start' : ROOT_CASE)('a discarded run of thousands of new files leaves its scratch tree to a detached remover (sbx-helper rmtree), which removes it all; a small one sbx removes itself', () => {
  proveIsolation(canary, store);
  const removersOf = (files: number): string[] => {
    const trace = join(canary, `trace-${files}`);
    // strace -f follows the detached remover too, and returns once it has ended.
    const r = sbx(['run', '-n', '--', 'sh', '-c', `mkdir ${canary}/many && cd ${canary}/many && seq 1 ${files} | xargs touch`], { store, prefix: ['strace', '-f', '-qq', '-e', 'trace=execve', '-o', trace] });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /discarded: the host was not touched/);
    assert.not.ok(existsSync(join(canary, 'many')), 'the run reached the host');
    return readFileSync(trace, 'utf8').split('\n').filter((l) => /execve\(".*\/sbx-helper", \[.*, "rmtree", /.test(l));
  };
  const scratch = `/dev/shm/sbx-${process.getuid!()}`;
  const big = removersOf(2500);
  assert.is(big.length, 1, 'no remover started');
  const name = /"rmtree", "(\.removing-[0-9a-f]{8})"/.exec(big[0]!)?.[1];
  assert.ok(name, big[0]);
  assert.equal(readdirSync(scratch).filter((n) => n.startsWith(name!)), [], 'the remover left the tree');
  assert.equal(removersOf(50), [], 'a small tree went to a remover');
  assert.equal(readdirSync(store).filter((n) => /^[0-9a-f]{8}$/.test(n)), [], 'a discarded run left a sandbox in the store');
});

testUnless(!haveStrace ? 'no strace here to see the remover start' : null)('sbx discard hands a saved sandbox of thousands of new files to a detached remover (sbx-helper rmtree), which removes it all; a small one sbx removes itself', () => {
  proveIsolation(canary, store);
  const storeTrees = (): string[] => readdirSync(store).filter((n) => /^[0-9a-f]{8}$/.test(n) || n.startsWith('.removing-'));
  const removersOf = (files: number): string[] => {
    const name = `many-${files}`;
    const made = sbx(['run', '--name', name, '--', 'sh', '-c', `mkdir ${canary}/many && cd ${canary}/many && seq 1 ${files} | xargs touch`], { store });
    assert.is(made.code, 0, made.stderr);
    assert.match(made.stderr, new RegExp(`sandbox ${name} saved`));
    assert.not.ok(existsSync(join(canary, 'many')), 'the run reached the host');
    // Only the discard is traced, and the remover only up to its exec (-b execve): an ordinary
    // user's run and remover exec newuidmap, which ptrace would strip of its setuid.
    const trace = join(canary, `trace-discard-${files}`);
    const r = sbx(['discard', name], { store, prefix: ['strace', '-f', '-b', 'execve', '-qq', '-e', 'trace=execve', '-o', trace] });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`discarded ${name}`));
    return readFileSync(trace, 'utf8').split('\n').filter((l) => /execve\(".*\/sbx-helper", \[.*, "rmtree", /.test(l));
  };
  const big = removersOf(2500);
  assert.is(big.length, 1, 'no remover started');
  assert.match(big[0]!, /"rmtree", "\.removing-[0-9a-f]{8}"/);
  // An ordinary user's remover runs as mapped root (removerLeavesNothing shows why).
  if (!IS_ROOT) assert.match(big[0]!, /"as-mapped-root", .*, "rmtree"/);
  awaitDetachedRemovals(store);
  assert.equal(storeTrees(), [], 'the remover left the tree');
  assert.equal(removersOf(50), [], 'a small sandbox went to a remover');
  assert.equal(storeTrees(), [], 'a discarded sandbox stayed in the store');
});

testUnless(!haveStrace ? 'no strace here to count the scans' : null)('sbx ls scans its sandboxes with one start of the helper (scan-many) and a big one again on its own, and counts each', () => {
  proveIsolation(canary, store);
  const made = (name: string, script: string): void => {
    const r = sbx(['run', '--name', name, '--', 'sh', '-c', script], { store });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`sandbox ${name} saved`));
  };
  try {
    made('ls-one', `echo 1 > ${canary}/one`);
    made('ls-three', `mkdir ${canary}/d && echo a > ${canary}/d/a && echo b > ${canary}/d/b`);
    made('ls-big', `mkdir ${canary}/big && cd ${canary}/big && seq 1 2500 | xargs touch`);
    assert.not.ok(existsSync(join(canary, 'one')) || existsSync(join(canary, 'd')) || existsSync(join(canary, 'big')), 'a run reached the host');
    const trace = join(canary, 'trace-ls');
    const r = sbx(['ls', '--json'], { store, prefix: ['strace', '-f', '-qq', '-s', '4096', '-e', 'trace=execve', '-o', trace] });
    assert.is(r.code, 0, r.stderr);
    const starts = readFileSync(trace, 'utf8').split('\n').map((l) => /execve\(".*\/sbx-helper", \["[^"]*", (.*)\]/.exec(l)?.[1]).filter(Boolean);
    // Its answer past 256 KiB (2,500 entries), the big one's scan in the batch stops there and
    // it is scanned alone; nothing counts the layers first (no host-dirs start).
    assert.equal(starts, [`"scan-many", "--whole-max=${256 << 10}"`, '"scan"'], 'one scan-many for all three, one scan for the big one');
    // Counted without strace: a dir some other user's run left unreadable on the host (a canary
    // in /var/tmp) is shown empty inside, and its count runs newuidmap, which gets no privilege
    // under ptrace.
    const counted = sbx(['ls', '--json'], { store });
    assert.is(counted.code, 0, counted.stderr);
    const rows = JSON.parse(counted.stdout) as Array<{ name: string; changes: number | null }>;
    assert.equal(Object.fromEntries(rows.filter((x) => x.name?.startsWith('ls-')).map((x) => [x.name, x.changes])), { 'ls-one': 1, 'ls-three': 3, 'ls-big': 2501 });
  } finally {
    // Even when an assertion failed: the later tests count what the store holds.
    sbx(['discard', 'ls-one', 'ls-three', 'ls-big'], { store });
  }
});

/** A command that makes 2,500 files in the canary, and a dir of uid 1000 inside (mapped root's own for root, a subordinate uid for an ordinary user). */
const manyWithTheirs = ['sh', '-c', `mkdir ${canary}/many && cd ${canary}/many && seq 1 2500 | xargs touch && mkdir theirs && touch theirs/f && chown -R 1000:1000 theirs`];

/**
 * Once the detached remover of a tree in `dir` has ended, nothing of the tree is left: root's
 * removes everything, an ordinary user's removes as root of a namespace with the sandbox's
 * mapping (`as-mapped-root ... rmtree`), which may unlink the files of the user's subordinate
 * uids that the user may not (before, they stayed until the next run's sweep).
 */
function removerLeavesNothing(dir: string): void {
  awaitDetachedRemovals(dir);
  assert.equal(readdirSync(dir).filter((n) => n.startsWith('.removing-')), [], 'the remover left a tree');
}

test("a big discarded saved sandbox is gone from the store once its remover ended: files of another uid inside included (an ordinary user's remover unlinks them as mapped root)", () => {
  proveIsolation(canary, store);
  const made = sbx(['run', '--name', 'many-theirs', '--', ...manyWithTheirs], { store });
  assert.is(made.code, 0, made.stderr);
  assert.not.ok(existsSync(join(canary, 'many')), 'the run reached the host');
  const r = sbx(['discard', 'many-theirs'], { store });
  assert.is(r.code, 0, r.stderr);
  removerLeavesNothing(store);
  assert.equal(readdirSync(store).filter((n) => /^[0-9a-f]{8}$/.test(n)), [], 'the discarded sandbox is still listed');
});

test("a big discarded run's scratch tree is gone once its remover ended: files of another uid inside included (an ordinary user's remover unlinks them as mapped root)", () => {
  proveIsolation(canary, store);
  const r = sbx(['run', '-n', '--', ...manyWithTheirs], { store });
  assert.is(r.code, 0, r.stderr);
  assert.not.ok(existsSync(join(canary, 'many')), 'the run reached the host');
  removerLeavesNothing(`/dev/shm/sbx-${process.getuid!()}`);
});

test("sbx's own lines go to fd 2 with write(2): a run builds neither process.stdout's nor process.stderr's stream, and says the same", () => {
  // Into files, where Node's stream for either is a SyncWriteStream: a module of its own, loaded when the stream is made.
  const std = join(canary, 'std'), mods = join(canary, 'modules'), preload = join(canary, 'preload.cjs');
  writeFileSync(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(mods)}, process.moduleLoadList.join('\\n')));\n`);
  const r = sbx(['run', '-n', '--', 'true'], { store, env: { NODE_OPTIONS: `--require ${preload}` }, prefix: ['sh', '-c', 'exec "$@" >"$0.out" 2>"$0.err"', std] });
  assert.is(r.code, 0, r.stderr);
  assert.is(readFileSync(`${std}.err`, 'utf8'), 'Changes: no changes\nsbx: discarded: the host was not touched\n');
  assert.is(readFileSync(`${std}.out`, 'utf8'), '');
  const loaded = readFileSync(mods, 'utf8').split('\n');
  assert.ok(loaded.includes('Internal Binding process_wrap'), 'the preload saw no run');
  assert.not.ok(loaded.includes('NativeModule internal/fs/sync_write_stream'), 'a stdio stream was made');
  // As root nothing changed, so nothing was scanned: no process but the helper, started as a
  // quiet run's is. An ordinary user's layers hold sbx's own opaque marks (dirs shown empty),
  // so its review starts the scan helper, through node:child_process.
  if (IS_ROOT) for (const m of ['NativeModule child_process', 'NativeModule net']) assert.not.ok(loaded.includes(m), `${m} was loaded`);
});

test("a run that changed nothing ends as the review would: the same lines, no sandbox left; a name, --report and --only still get the review's answer", () => {
  const entries = () => readdirSync(store).filter((n) => /^[0-9a-f]{8}$/.test(n));
  const before = entries();
  // As root the helper's answer is its job starts alone (cli/run-exec.ts ends the run without
  // the review); an ordinary user's holds sbx's own marks and goes through the review: the same lines.
  const saved = sbx(['run', '--', 'true'], { store });
  assert.is(saved.code, 0, saved.stderr);
  assert.is(saved.stderr, 'Changes: no changes\n');
  const kept = sbx(['run', '-y', '--', 'sh', '-c', 'exit 3'], { store });
  assert.is(kept.code, 3, kept.stderr);
  assert.is(kept.stderr, 'sbx: the command failed with exit status 3\nChanges: no changes\n');
  assert.equal(entries(), before, 'a run that changed nothing left its sandbox');
  const named = sbx(['run', '--name', 'nothing-changed', '--', 'true'], { store });
  assert.is(named.code, 0, named.stderr);
  assert.match(named.stderr, /^Changes: no changes\nsbx: sandbox nothing-changed saved/);
  assert.is(sbx(['discard', 'nothing-changed'], { store }).code, 0);
  const only = sbx(['run', '-n', '--only', '/nowhere-at-all', '--', 'true'], { store });
  assert.is(only.code, 0, only.stderr);
  assert.match(only.stderr, /--only '\/nowhere-at-all' matches no change/);
  const report = join(canary, 'nothing.json');
  const reported = sbx(['run', '-n', '-q', '--report', report, '--', 'true'], { store });
  assert.is(reported.code, 0, reported.stderr);
  assert.equal(JSON.parse(readFileSync(report, 'utf8')).changes, []);
  assert.equal(entries(), before);
});

test('top-level layout of / is the same inside', () => {
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', 'cd /; for f in $(ls -A /); do f=/$f; if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; else echo "$f"; fi; done'], { store });
  assert.is(r.code, 0, r.stderr);
  const host = readdirSync('/').sort().map((n) => {
    const p = `/${n}`;
    try { return `${p} -> ${spawnSync('readlink', [p], { encoding: 'utf8' }).stdout.trim() || ''}`.replace(/ -> $/, ''); } catch { return p; }
  });
  assert.equal(r.stdout.trim().split('\n').sort(), host.sort());
});

test('pid namespace: only the sandbox is visible, pid 1 is the helper', () => {
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', 'ls /proc | grep -E "^[0-9]+$" | wc -l; cat /proc/1/comm'], { store });
  assert.is(r.code, 0, r.stderr);
  const [count, comm] = r.stdout.trim().split('\n');
  // helper (pid 1), sh, ls, grep, wc: nothing of the host.
  assert.ok(Number(count) <= 5, `saw ${count} processes`);
  assert.is(comm, 'sbx-helper');
});

test('the hostname is the host\'s and resolves as on the host; changing it stays inside', () => {
  const outside = spawnSync('getent', ['hosts', hostname()], { encoding: 'utf8' });
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', 'hostname; getent hosts "$(hostname)" >/dev/null && echo resolves; hostname sbx-inside-name 2>/dev/null; hostname'], { store });
  assert.is(r.code, 0, r.stderr);
  const [name, ...rest] = r.stdout.trim().split('\n');
  assert.is(name, hostname());
  if (outside.status === 0) assert.is(rest[0], 'resolves', r.stdout);
  assert.is.not(hostname(), 'sbx-inside-name', 'a hostname set inside reached the host');
});

test('network: only loopback without --net, the host network with it', () => {
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; echo routes; tail -n +2 /proc/net/route | wc -l'], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'lo\nroutes\n0\n');
  const host = readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).filter(Boolean).length;
  const withNet = sbx(['run', '-n', '-q', '--net', '--', 'sh', '-c', 'tail -n +3 /proc/net/dev | wc -l'], { store });
  assert.is(withNet.code, 0, withNet.stderr);
  assert.is(Number(withNet.stdout.trim()), host);
});

test('exit statuses: own code, 126, 127, 128+N', () => {
  assert.is(sbx(['run', '-n', '-q', '--', 'true'], { store }).code, 0);
  assert.is(sbx(['run', '-n', '-q', '--', 'sh', '-c', 'exit 3'], { store }).code, 3);
  const notExec = join(canary, 'not-executable');
  writeFileSync(notExec, '#!/bin/sh\necho hi\n');
  chmodSync(notExec, 0o644);
  const r126 = sbx(['run', '-n', '-q', '--', notExec], { store });
  assert.is(r126.code, 126, r126.stderr);
  const r127 = sbx(['run', '-n', '-q', '--', 'sbx-no-such-command-xyz'], { store });
  assert.is(r127.code, 127);
  assert.match(r127.stderr, /not found/);
  assert.is(sbx(['run', '-n', '-q', '--', 'sh', '-c', 'kill -9 $$'], { store }).code, 137);
});

// execve's errno alone misled: EACCES for a directory, ENOENT for a script whose #! names a
// missing interpreter, and EACCES (126) for an ordinary user's unknown command when PATH held a
// dir it cannot search, where a shell goes on and says not found (127).
test('a failed exec says what a shell would, with its status', () => {
  const script = join(canary, 'script');
  writeFileSync(script, '#!/sbx-no-such/interp -x\necho hi\n');
  chmodSync(script, 0o755);
  const notExec = join(canary, 'plain');
  writeFileSync(notExec, 'echo hi\n');
  chmodSync(notExec, 0o644);
  const cases: Array<[string[], number, string, NodeJS.ProcessEnv?]> = [
    [[canary], 126, `sbx: cannot execute ${canary}: it is a directory\n`],
    [[notExec], 126, `sbx: cannot execute ${notExec}: permission denied: it is not executable (no x bit for this user, or a noexec mount)\n`],
    [[''], 127, "sbx: the command is empty (its first argument is '')\n"],
    [[script], 127, `sbx: cannot execute ${script}: its #! interpreter /sbx-no-such/interp is not found inside the sandbox\n`],
    [['sbx-no-such-command-xyz'], 127, 'sbx: sbx-no-such-command-xyz: command not found inside the sandbox\n', { PATH: '/root/sbx-no-such-dir:/usr/bin' }],
    [['true'], 0, '', { PATH: '/root/sbx-no-such-dir:/usr/bin' }],
  ];
  for (const [cmd, code, said, env] of cases) {
    const r = sbx(['run', '-n', '-q', '--', ...cmd], { store, env });
    assert.is(r.stderr, said, cmd.join(' '));
    assert.is(r.code, code, cmd.join(' '));
  }
});

test('stdout is the command\'s alone; sbx speaks on stderr', () => {
  const r = sbx(['run', '-n', '--', 'sh', '-c', 'echo out; echo err >&2'], { store });
  assert.is(r.code, 0);
  assert.is(r.stdout, 'out\n');
  assert.match(r.stderr, /err/);
});

test('--in sees the earlier changes of a saved sandbox', () => {
  const name = `t${process.pid}`;
  const first = sbx(['run', '-q', '--name', name, '--', 'sh', '-c', `echo first > ${canary}/saved.txt`], { store });
  assert.is(first.code, 0, first.stderr);
  try {
    const second = sbx(['run', '-q', '--in', name, '--', 'cat', `${canary}/saved.txt`], { store });
    assert.is(second.code, 0, second.stderr);
    assert.is(second.stdout, 'first\n');
    assert.not.ok(existsSync(join(canary, 'saved.txt')));
  } finally {
    sbx(['discard', name], { store });
  }
});

test('--hide makes a path absent inside (not a change); --bind writes through to the host', () => {
  const secret = join(canary, 'secret');
  mkdirSync(secret);
  writeFileSync(join(secret, 'key'), 'hunter2');
  const hidden = sbx(['run', '-n', '--hide', secret, '--', 'sh', '-c', `cat ${secret}/key || echo denied; test -e ${secret} || echo absent`], { store });
  assert.is(hidden.code, 0, hidden.stderr);
  assert.not.match(hidden.stdout, /hunter2/);
  assert.match(hidden.stdout, /denied\nabsent/);
  assert.match(hidden.stderr, /no changes/);
  const out = join(canary, 'out');
  mkdirSync(out);
  const bound = sbx(['run', '-n', '-q', '--bind', out, '--', 'sh', '-c', `echo through > ${out}/x`], { store });
  assert.is(bound.code, 0, bound.stderr);
  assert.is(readFileSync(join(out, 'x'), 'utf8'), 'through\n');
});

test('/dev holds only the safe nodes, a working pty and shm', () => {
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', 'ls -A /dev | LC_ALL=C sort | tr "\\n" " "; echo; python3 -c "import os,pty; m,s=pty.openpty(); print(os.ttyname(s))"'], { store });
  assert.is(r.code, 0, r.stderr);
  const [list, tty] = r.stdout.trim().split('\n');
  assert.is(list!.trim(), 'fd full null ptmx pts random shm stderr stdin stdout tty urandom zero');
  assert.match(tty!, /^\/dev\/pts\/\d+$/);
});

test('bash process substitution works (/dev/fd)', () => {
  const r = sbx(['run', '-n', '-q', '--', 'bash', '-c', 'cat <(echo hi)'], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'hi\n');
});

test('only fds 0, 1, 2 are open inside', () => {
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', 'ls /proc/self/fd'], { store });
  assert.is(r.code, 0, r.stderr);
  // ls itself opens the directory it lists (fd 3).
  assert.equal(r.stdout.trim().split('\n').map(Number).sort(), [0, 1, 2, 3]);
});

test('SIGKILL of sbx mid-run leaves no process and no mount behind', async () => {
  const before = hostMounts();
  const marker = `${canary}/running`;
  // A sleep no other test on this machine runs.
  const sleeper = `sleep ${700000 + process.pid}`;
  const child = sbxAsync(['run', '-n', '-q', '--', 'sh', '-c', `touch ${marker}.inside; exec ${sleeper}`], { store, stdio: 'ignore' });
  try {
  // Wait for the sandbox to be up: its sleep shows in the host's process list.
  const deadline = Date.now() + 15_000;
  let up = false;
  while (Date.now() < deadline) {
    if (spawnSync('pgrep', ['-f', `^${sleeper}$`]).status === 0) { up = true; break; }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(up, 'the sandboxed command started');
  // The helper sbx started (other sandboxes may be running on this machine at the same time).
  const helpers = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  assert.ok(helpers.length > 0, 'found the helper process');
  child.kill('SIGKILL');
  const gone = Date.now() + 5_000;
  let left = true;
  while (Date.now() < gone) {
    const alive = helpers.filter((p) => { try { process.kill(Number(p), 0); return true; } catch { return false; } });
    if (spawnSync('pgrep', ['-f', `^${sleeper}$`]).status !== 0 && alive.length === 0) { left = false; break; }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.not.ok(left, 'sandbox processes survived');
  assert.equal(hostMountsLeft(before, store), []);
  assert.not.ok(existsSync(`${marker}.inside`));
  // The killed throwaway sandbox (layers in memory) is swept by the next run.
  assert.is(sbx(['run', '-n', '-q', '--', 'true'], { store }).code, 0);
  assert.equal(JSON.parse(sbx(['ls', '--json'], { store }).stdout), []);
  } finally {
    child.kill('SIGKILL');
  }
});

test('sbx doctor says sbx can run here, one line per check', () => {
  const r = sbx(['doctor'], { store });
  assert.is(r.code, 0, r.stdout + r.stderr);
  for (const name of ['helper', 'user namespaces', 'overlayfs', 'seccomp', 'uid mapping', 'fuse-overlayfs', 'store']) {
    assert.match(r.stdout, new RegExp(`^(ok|limited|missing)\\s+${name}: `, 'm'));
  }
  assert.match(r.stdout, /^ok\s+user namespaces: /m);
  assert.match(r.stdout, /^ok\s+seccomp: /m);
  // How the helper was linked (static-pie spares every run the dynamic loader's page faults).
  assert.match(r.stdout, /^ok\s+helper: .*, linked (static-pie|dynamic) at /m);
  // An ordinary user with fuse-overlayfs is told how system trees take writes (6.x here).
  if (!IS_ROOT && /^ok\s+fuse-overlayfs: /m.test(r.stdout)) assert.match(r.stdout, /^ok\s+fuse-overlayfs: .*: system paths are writable inside, `\/` one kernel overlay over a read-only daemon$/m);
});

test("a run that compiled its seccomp policy leaves the run part's code cache to the next run", () => {
  // The cache a run writes at exit holds every function it compiled: the first run after an
  // install compiles the policy, and a cache written then made every later run deserialize
  // the compiler too (cli/code-cache.ts, sandbox-core/seccomp.ts compiledPolicy).
  const cache = mkdtempSync(join(tmpdir(), 'sbx-run-cache-'));
  try {
    const code = join(cache, 'sbx', 'code');
    const runCaches = () => (existsSync(code) ? readdirSync(code).filter((f) => /^(run|quiet)-/.test(f)) : []);
    const first = sbx(['run', '-n', '-q', '--', 'true'], { store, env: { XDG_CACHE_HOME: cache } });
    assert.is(first.code, 0, first.stderr);
    assert.ok(readdirSync(join(cache, 'sbx')).some((f) => f.startsWith('seccomp-default-')), 'the policy was compiled and cached');
    assert.equal(runCaches(), []);
    const second = sbx(['run', '-n', '-q', '--', 'true'], { store, env: { XDG_CACHE_HOME: cache } });
    assert.is(second.code, 0, second.stderr);
    assert.is(runCaches().length, 1);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test("a quiet throwaway run loads the quiet part (no review code in it); a run that reviews loads the run part and the review's", () => {
  const cache = mkdtempSync(join(tmpdir(), 'sbx-run-parts-'));
  try {
    const code = join(cache, 'sbx', 'code');
    const parts = () => (existsSync(code) ? readdirSync(code).map((f) => f.replace(/-.*$/, '')).sort() : []);
    const env = { XDG_CACHE_HOME: cache };
    // The first run compiles the policy and writes no code cache (the test above).
    assert.is(sbx(['run', '-n', '-q', '--', 'true'], { store, env }).code, 0);
    const quiet = sbx(['run', '-n', '-q', '--', 'sh', '-c', 'echo out; echo x > /tmp/sbx-parts-test'], { store, env });
    assert.is(quiet.code, 0, quiet.stderr);
    assert.is(quiet.stdout, 'out\n');
    assert.is(quiet.stderr, '');
    assert.equal(parts(), ['quiet']);
    const loud = sbx(['run', '-n', '--', 'sh', '-c', 'echo x > /tmp/sbx-parts-test'], { store, env });
    assert.is(loud.code, 0, loud.stderr);
    assert.match(loud.stderr, /sbx-parts-test/);
    assert.equal(parts(), ['quiet', 'review', 'run']);
    assert.not.ok(existsSync('/tmp/sbx-parts-test'));
    assert.equal(readdirSync(store).filter((n) => /^[0-9a-f]{8}$/.test(n)), [], 'both runs left no sandbox in the store');
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

// overlayfs reads a '\\' in upperdir and workdir as an escape (not in lowerdir+): a store path
// with one named dirs that did not exist, and every overlay of a saved run fell back to a
// read-only bind, each said as "vanished from the host". fuse-overlayfs's option string
// cannot take it at all: an ordinary user's run says so in one line before anything runs.
const userHasFuse = !IS_ROOT && spawnSync('sh', ['-c', 'command -v fuse-overlayfs && test -r /dev/fuse -a -w /dev/fuse']).status === 0;
test('a store whose path holds a backslash: root\'s saved run gets its overlays; an ordinary user with fuse-overlayfs gets one line', () => {
  const outer = makeStore();
  const odd = join(outer, 'a\\b');
  mkdirSync(odd, { mode: 0o700 });
  try {
    const r = sbx(['run', '-q', '--name', 'bs', '--', 'sh', '-c', `cat /etc/hostname; echo new > ${canary}/new.txt`], { store: odd });
    if (userHasFuse) {
      assert.is(r.code, 125, r.stderr);
      assert.match(r.stderr, /^sbx: error: the sandbox's layers would be in .*a\\\\b.*fuse-overlayfs cannot take \(set SBX_HOME to a directory whose path has none of them\)\n$/);
      assert.equal(readdirSync(odd).filter((n) => /^[0-9a-f]{8}$/.test(n)), [], 'no sandbox left');
      return;
    }
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, readFileSync('/etc/hostname', 'utf8'));
    assert.not.match(r.stderr, /vanished/);
    const d = sbx(['diff', 'bs', '--name-only'], { store: odd });
    assert.is(d.code, 0, d.stderr);
    assert.match(d.stdout, `${canary}/new.txt`);
    assert.not.ok(existsSync(join(canary, 'new.txt')));
  } finally {
    removeStore(odd);
    removeStore(outer);
  }
});

test('a quiet throwaway run loads neither node:child_process nor node:tty: both load node:net and the streams, which it never uses', () => {
  const mods = join(canary, 'modules'), preload = join(canary, 'preload.cjs');
  writeFileSync(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(mods)}, process.moduleLoadList.join('\\n')));\n`);
  const r = sbx(['run', '-n', '-q', '--', 'sh', '-c', 'exit 3'], { store, env: { NODE_OPTIONS: `--require ${preload}` } });
  assert.is(r.code, 3, r.stderr);
  const loaded = readFileSync(mods, 'utf8').split('\n');
  assert.ok(loaded.includes('Internal Binding process_wrap'), 'the preload saw no run');
  for (const m of ['NativeModule child_process', 'NativeModule tty', 'NativeModule net']) assert.not.ok(loaded.includes(m), `${m} was loaded`);
});

test('a run whose changes are saved without a question (no terminal) makes no stderr stream to find that out: node:tty and node:stream not loaded, node:net neither as root', () => {
  const mods = join(canary, 'modules'), preload = join(canary, 'preload.cjs');
  writeFileSync(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(mods)}, process.moduleLoadList.join('\\n')));\n`);
  const r = sbx(['run', '--', 'sh', '-c', `echo x > ${canary}/saved-quietly`], { store, env: { NODE_OPTIONS: `--require ${preload}` } });
  const id = /sbx: sandbox ([0-9a-f]{8}) saved/.exec(r.stderr)?.[1];
  if (id) assert.is(sbx(['discard', id], { store }).code, 0);
  assert.is(r.code, 0, r.stderr);
  assert.ok(id, r.stderr);
  assert.not.ok(existsSync(join(canary, 'saved-quietly')), 'the run reached the host');
  const loaded = readFileSync(mods, 'utf8').split('\n');
  assert.ok(loaded.includes('Internal Binding process_wrap'), 'the preload saw no run');
  // An ordinary user's review starts the scan helper through node:child_process, which loads node:net.
  for (const m of ['NativeModule tty', 'NativeModule stream', ...(IS_ROOT ? ['NativeModule net'] : [])]) assert.not.ok(loaded.includes(m), `${m} was loaded`);
});

testUnless(ROOT_CASE)("a root run has no process between its pid 1 and the command: with no daemon to hide, pid 1 is the command's init", async () => {
  // A sleep no other process on the host runs: its argument names it.
  const secs = `29.${Date.now() % 1000000}`;
  const child = sbxAsync(['run', '-n', '-q', '--', 'sh', '-c', `exec sleep ${secs}`], { store, stdio: 'ignore' });
  try {
    let sleeper = 0;
    for (const end = Date.now() + 30_000; !sleeper && Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      sleeper = Number(spawnSync('pgrep', ['-xf', `sleep ${secs}`], { encoding: 'utf8' }).stdout.trim().split('\n')[0]) || 0;
    }
    assert.ok(sleeper, 'the command did not start');
    const status = (p: number) => readFileSync(`/proc/${p}/status`, 'utf8');
    const nspid = (p: number) => /^NSpid:\s+(.*)$/m.exec(status(p))?.[1]?.trim().split(/\s+/) ?? [];
    const parent = Number(/^PPid:\s+(\d+)$/m.exec(status(sleeper))?.[1]);
    // The host's pid and the sandbox's: one pid namespace below the host's (a nested one for
    // the command would be a third), and its parent is that namespace's pid 1.
    assert.is(nspid(sleeper).length, 2, nspid(sleeper).join(' '));
    assert.equal(nspid(parent).slice(1), ['1']);
  } finally {
    child.kill('SIGKILL');
  }
});

test('a layer\'s own root shows the host dir\'s xattrs; a change to its attributes is reviewed and committed, the host\'s other xattrs there stay', () => {
  proveIsolation(canary, store);
  // Root's layers are the host's mounts (a tmpfs on the canary is one); an ordinary user's
  // $HOME is a layer of its own (the canary stands in for it).
  const root = IS_ROOT ? join(canary, 'mnt') : canary;
  if (IS_ROOT) {
    mkdirSync(root);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'mode=0755,size=1m', 'sbx-canary', root], { encoding: 'utf8' });
    assert.is(m.status, 0, m.stderr);
  }
  try {
    chmodSync(root, 0o755);
    writeFileSync(join(root, 'kept'), 'k\n');
    const env = IS_ROOT ? {} : { HOME: canary };
    assert.equal(getXattrs([root])[0]!.errno, 0);
    assert.equal(setXattrs([{ path: root, attrs: [['user.sbx-host', Buffer.from('h')]] }]), [0]);
    // The root shows the host dir's xattrs inside (entries.c copy_host_xattrs), unchanged.
    const seen = sbx(['run', '-n', '--', 'python3', '-c', `import os; print(os.getxattr('${root}', 'user.sbx-host').decode())`], { store, env, cwd: root });
    assert.is(seen.stdout, 'h\n', seen.stderr);
    assert.match(seen.stderr, 'no changes');
    // So it does in a layer sbx makes itself (--disk: fillLayer, its xattrs copied by the helper).
    const onDisk = sbx(['run', '-n', '--disk', '64M', '--', 'python3', '-c', `import os; print(os.getxattr('${root}', 'user.sbx-host').decode())`], { store, env, cwd: root });
    assert.is(onDisk.stdout, 'h\n', onDisk.stderr);
    assert.match(onDisk.stderr, 'no changes');
    const listed = sbx(['run', '-n', '--', 'chmod', '750', root], { store, env, cwd: root });
    assert.is(listed.code, 0, listed.stderr);
    assert.match(listed.stderr, `metadata: ${root}/ (mode 755→750)`);
    assert.is(lstatSync(root).mode & 0o7777, 0o755, 'the host\'s, after a discard');
    const py = `import os; os.setxattr('${root}', 'user.sbx-new', b'n', follow_symlinks=False)`;
    const kept = sbx(['run', '-y', '--', 'sh', '-c', `chmod 750 '${root}' && python3 -c "${py}"${IS_ROOT ? ` && chown 5:6 '${root}'` : ''}`], { store, env, cwd: root });
    assert.is(kept.code, 0, kept.stderr);
    assert.match(kept.stderr, IS_ROOT ? `metadata: ${root}/ (mode 755→750, owner 0:0→5:6, xattrs)` : `metadata: ${root}/ (mode 755→750, xattrs)`);
    const st = lstatSync(root);
    assert.is(st.mode & 0o7777, 0o750);
    if (IS_ROOT) assert.equal([st.uid, st.gid], [5, 6]);
    // The sandbox set one xattr and never saw the host's: the host has both.
    assert.equal(getXattrs([root])[0]!.attrs.filter(([n]) => n.startsWith('user.sbx-')).map(([n, v]) => [n, v.toString()]).sort(), [['user.sbx-host', 'h'], ['user.sbx-new', 'n']]);
    // One the command removed goes from the host too, and only that one.
    const gone = sbx(['run', '-y', '--', 'python3', '-c', `import os; os.removexattr('${root}', 'user.sbx-host')`], { store, env, cwd: root });
    assert.is(gone.code, 0, gone.stderr);
    assert.match(gone.stderr, `metadata: ${root}/ (xattrs)`);
    assert.equal(getXattrs([root])[0]!.attrs.filter(([n]) => n.startsWith('user.sbx-')).map(([n]) => n), ['user.sbx-new']);
    assert.is(readFileSync(join(root, 'kept'), 'utf8'), 'k\n');
    // Nothing changed there: no change listed, the sandbox gone.
    const none = sbx(['run', '--', 'true'], { store, env, cwd: root });
    assert.is(none.code, 0, none.stderr);
    assert.match(none.stderr, 'no changes');
    assert.equal(readdirSync(store).filter((e) => /^[0-9a-f]{8}$/.test(e)), []);
  } finally {
    if (IS_ROOT) spawnSync('umount', [root]);
  }
});

testUnless(ROOT_CASE)('root\'s layer roots look as the host dir does: a mount point of another user\'s is that user\'s inside, a change of its owner is listed, and a later run --in keeps it', () => {
  proveIsolation(canary, store);
  const root = join(canary, 'theirs');
  mkdirSync(root);
  // Searchable by others (0751): one they may not search is a dir shown empty in an ordinary
  // user's view, and that user's runs beside this file would be told of it.
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'mode=0751,uid=1234,gid=1235,size=1m', 'sbx-canary', root], { encoding: 'utf8' });
  assert.is(m.status, 0, m.stderr);
  try {
    const seen = sbx(['run', '-n', '--', 'stat', '-c', '%u:%g %a', root], { store });
    assert.is(seen.code, 0, seen.stderr);
    assert.is(seen.stdout, '1234:1235 751\n');
    assert.match(seen.stderr, 'no changes');
    const saved = sbx(['run', '--name', 'theirs', '--', 'chown', '5:6', root], { store });
    assert.match(saved.stderr, `metadata: ${root}/ (owner 1234:1235→5:6)`);
    const again = sbx(['run', '--in', 'theirs', '--', 'stat', '-c', '%u:%g', root], { store });
    assert.is(again.stdout, '5:6\n', again.stderr);
    assert.match(again.stderr, `metadata: ${root}/ (owner 1234:1235→5:6)`);
    assert.equal([lstatSync(root).uid, lstatSync(root).gid], [1234, 1235]);
  } finally {
    sbx(['discard', 'theirs'], { store });
    spawnSync('umount', [root]);
  }
});

test('without a network, a failed name lookup in the command\'s output gets one hint after the run (pty; relayed stdio under sudo), silenced by -q; never with --net; --in offers --allow-net alone', () => {
  // A real lookup, failing as it does in any sandbox without a network: no traffic is needed.
  const lookup = [process.execPath, '-e', "require('dns').lookup('sbx-test.invalid', (e) => { console.error(String(e)); process.exit(e ? 1 : 0); })"];
  const hint = 'sbx: warning: the command had no network (sbx\'s default) and said "EAI_AGAIN": use --allow-net HOST:PORT for what it needs, or --net';
  // On a terminal sbx wraps its own lines at 80 columns, next lines indented by two: unwrapped here.
  const unwrap = (out: string) => out.replace(/\r?\n  /g, ' ');
  const t = underPty([], ['run', '-n', '--', ...lookup], { store });
  assert.is(t.code, 1, t.out);
  assert.match(t.out, 'getaddrinfo EAI_AGAIN sbx-test.invalid');
  assert.ok(unwrap(t.out).includes(hint), t.out);
  const q = underPty([], ['run', '-n', '-q', '--', ...lookup], { store });
  assert.is(q.code, 1, q.out);
  assert.not.match(q.out, 'had no network');
  // The text alone, with the host's network: not sbx's doing.
  const n = underPty([], ['run', '-n', '--net', '--', 'sh', '-c', 'echo "curl: (6) Could not resolve host: x" >&2'], { store });
  assert.is(n.code, 0, n.out);
  assert.match(n.out, 'Could not resolve host: x');
  assert.not.match(n.out, 'had no network');
  assert.is(sbx(['run', '--name', 'nonet', '--', 'true'], { store }).code, 0);
  try {
    const i = underPty([], ['run', '--in', 'nonet', '--', ...lookup], { store });
    assert.ok(unwrap(i.out).includes('sbx: warning: the command had no network (sandbox nonet was made without one) and said "EAI_AGAIN": use --allow-net HOST:PORT for what it needs\r\n'), i.out);
  } finally {
    sbx(['discard', 'nonet'], { store });
  }
  if (IS_ROOT) {
    // A pipe of host root's is relayed, so seen (Node gives a child sockets: hence the shell's pipe).
    const shq = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const r = spawnSync('sh', ['-c', `${[process.execPath, SBX, 'run', '-n', '--', ...lookup].map(shq).join(' ')} 2>&1 | cat`], { encoding: 'utf8', env: { ...process.env, SBX_HOME: store, NO_COLOR: '1' }, input: '' });
    assert.is(r.stdout.split('\n').filter((l) => l === hint).length, 1, r.stdout);
  }
});

test('run -y --only FILE in a new dir commits its dir too (named), as sbx commit --only does; not a flagged one', () => {
  const d = join(canary, 'only-new');
  const ww = join(canary, 'only-ww');
  const r = sbx(['run', '-y', '--name', 'only-new', '--only', `${d}/f`, '--only', `${ww}/g`, '--', 'sh', '-c',
    `mkdir ${d} ${ww} && chmod 777 ${ww} && echo f > ${d}/f && echo g > ${ww}/g`], { store });
  // Until 2026-12-05: `create: ENOENT`, nothing committed, the sandbox kept.
  assert.is(readFileSync(join(d, 'f'), 'utf8'), 'f\n', r.stderr);
  assert.match(r.stderr, `also committed: new dir ${d} (needed for ${d}/f)`);
  assert.not.ok(existsSync(ww), 'the world-writable new dir did not come along unnamed');
  assert.match(r.stderr, `${ww}/g: below the new dir ${ww}, which is flagged [! world-writable`);
  assert.is(r.code, 1, r.stderr);
  // The cause leads the last line, then what it left; no byte count for nothing.
  assert.match(r.stderr, /\nsbx: 1 change not committed \(listed above\): 2 changes committed \(2 B\); sandbox only-new kept\n/);
  const again = sbx(['commit', 'only-new', '--only', `${ww}/g`], { store });
  assert.is(again.code, 1, again.stderr);
  assert.match(again.stderr, /\nsbx: 1 change not committed \(listed above\): nothing committed, 1 left out by --only\/--exclude; sandbox only-new kept\n/);
  assert.is(sbx(['discard', 'only-new'], { store }).code, 0, 'kept for what it did not commit');
  rmSync(d, { recursive: true });
  // What --only kept out of the run's review goes with the sandbox, and that is said.
  const rest = sbx(['run', '-y', '--only', `${canary}/only-kept`, '--', 'sh', '-c', `echo k > ${canary}/only-kept && echo x > ${canary}/only-other`], { store });
  assert.is(rest.code, 0, rest.stderr);
  assert.match(rest.stderr, /\nsbx: 1 change committed \(2 B\); sandbox [0-9a-f]{8} removed with 1 change outside --only\/--exclude \(never reviewed\)\n/);
  assert.ok(existsSync(`${canary}/only-kept`) && !existsSync(`${canary}/only-other`));
  rmSync(`${canary}/only-kept`);
});

test.run();
