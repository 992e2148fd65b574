// The post-run question on a real terminal (a pty driven by python3): a failed command is said
// on the line before the question (and, as without a question, after the run), `k` with flagged changes asks once more (yes keeps all, n
// keeps all but the flagged), and with stdin a pipe the question is read from /dev/tty.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { proveIsolation, SBX, canary, sbx as runSbx, storeAndCanary } from '../helpers/sbx.js';
import { underPty as ptyRun, type PtyResult, type PtyStep } from '../helpers/pty.js';
import { flaggedQuestion, endLine } from '../../cli/review.js';
import { TERMINAL_RESTORE } from '../../cli/output.js';
import { ROOT_CASE, testUnless } from '../helpers/skip.js';

// Each test's command makes new entries in the test's own canary and nothing else: were the
// sandbox broken, they would land there, harming nothing. The one that removes the canary's
// keep.txt proves isolation first (docs/STYLE.md: before anything destructive).
const store = storeAndCanary();

// The shared harness (test/helpers/pty.ts), given the whole argv (sbx, or a pipeline ending in it).
const underPty = (steps: PtyStep[], argv: string[], timeoutMs?: number): PtyResult => ptyRun(steps, [], { store, argv, ...(timeoutMs ? { timeoutMs } : {}) });
const sbx = (...args: string[]) => [process.execPath, SBX, ...args];
// sbx on pipes: no terminal, so no question.
const plain = (...args: string[]) => runSbx(args, { store });

test('a failed command is said on the line right before the question', () => {
  const r = underPty([['Keep these changes?', 'd\n']], sbx('run', '--', 'sh', '-c', `echo x > ${canary}/new.txt; exit 3`));
  assert.is(r.code, 3, r.out);
  const lines = r.out.split(/\r?\n/);
  const q = lines.findIndex((l) => l.includes('Keep these changes?'));
  assert.is(lines[q - 1], 'the command failed with exit status 3: its changes may be partial', r.out);
  assert.not.ok(existsSync(join(canary, 'new.txt')));
});

test('without a question a failed command is said too, as a death by signal is: a discard, a save and a keep; -q silences it; a command that could not run or a limit says only its own line', () => {
  const said = 'sbx: the command failed with exit status 42\n';
  // Another test's scratch tree under the canaries' dir, made and removed as a run starts, is
  // said before everything else (a line of its own): not what this test is about.
  const own = (e: string): string => e.split('\n').filter((l) => !l.includes('vanished from the host while the sandbox started')).join('\n');
  const failing = ['--', 'sh', '-c', `echo x > ${canary}/new.txt; exit 42`];
  const n = plain('run', '-n', ...failing);
  assert.is(n.code, 42, n.stderr);
  assert.ok(own(n.stderr).startsWith(said), n.stderr);
  assert.match(n.stderr, `added:    ${canary}/new.txt`);
  const saved = plain('run', '--name', 'failed', ...failing);
  assert.is(saved.code, 42, saved.stderr);
  assert.ok(own(saved.stderr).startsWith(said), saved.stderr);
  assert.match(saved.stderr, 'sandbox failed saved');
  assert.is(plain('discard', 'failed').code, 0);
  const kept = plain('run', '-y', '--', 'sh', '-c', `echo x > ${canary}/kept.txt; exit 42`);
  assert.is(kept.code, 42, kept.stderr);
  assert.ok(own(kept.stderr).startsWith(said), kept.stderr);
  // -y keeps only a command that succeeded: this one's sandbox is saved instead (run-end.test.ts).
  assert.not.ok(existsSync(join(canary, 'kept.txt')), '-y committed a failed command\'s changes');
  const notKept = /sbx: not committed: the command failed with exit status 42; sandbox (\S+) saved\n/.exec(kept.stderr);
  assert.ok(notKept, kept.stderr);
  assert.is(plain('discard', notKept![1]!).code, 0);
  const q = plain('run', '-n', '-q', ...failing);
  assert.is(q.code, 42, q.stderr);
  assert.is(q.stderr, '');
  const killed = plain('run', '-n', '--', 'sh', '-c', 'kill -9 $$');
  assert.is(killed.code, 137, killed.stderr);
  assert.match(killed.stderr, 'sbx: the command was killed by signal 9\n');
  assert.not.match(killed.stderr, 'exit status');
  const missing = plain('run', '-n', '--', 'sbx-no-such-command');
  assert.is(missing.code, 127, missing.stderr);
  assert.not.match(missing.stderr, 'exit status');
  const timedOut = plain('run', '-n', '--timeout', '1s', '--', 'sleep', '30');
  assert.is(timedOut.code, 124, timedOut.stderr);
  assert.not.match(timedOut.stderr, 'exit status');
});

test('Ctrl-C at a question saves the sandbox and exits 130, whatever the command exited with; end of input saves and exits as before', () => {
  const cases: Array<[name: string, script: string, steps: PtyStep[], code: number]> = [
    ['int-question', 'exit 0', [['Keep these changes?', '\x03']], 130],
    ['int-failed', 'exit 3', [['Keep these changes?', '\x03']], 130],
    ['int-pick', 'exit 0', [['Keep these changes?', 'p\n'], ['[y/n/a/q/?]', '\x03']], 130],
    ['eof-question', 'exit 0', [['Keep these changes?', '\x04']], 0],
  ];
  for (const [name, script, steps, code] of cases) {
    const r = underPty(steps, sbx('run', '--name', name, '--', 'sh', '-c', `echo x > ${canary}/${name}; ${script}`));
    try {
      assert.is(r.code, code, `${name}: ${r.out}`);
      assert.match(r.out, `sandbox ${name} saved`);
      assert.not.ok(existsSync(join(canary, name)), `${name}: the host was touched`);
      const d = plain('diff', name, '--name-only');
      assert.is(d.code, 0, d.stderr);
      assert.match(d.stdout, `${canary}/${name}`);
    } finally {
      plain('discard', name);
    }
  }
});

// The pty harness execs argv[0] as given: strace by its full path.
const strace = spawnSync('sh', ['-c', 'command -v strace'], { encoding: 'utf8' }).stdout.trim();

// Root only: an ordinary user's run execs newuidmap, which strace (ptrace) would strip of its setuid.
testUnless(!strace ? 'no strace here to see the remover start' : ROOT_CASE)("d after a run of thousands of new files hands its layers (in the store: not a -n run) to a detached remover, which removes them all", () => {
  const trace = join(canary, 'trace-d');
  // strace -f follows the detached remover too, and ends once it has.
  const r = underPty([['Keep these changes?', 'd\n']], [strace, '-f', '-qq', '-e', 'trace=execve', '-o', trace, ...sbx('run', '--', 'sh', '-c', `mkdir ${canary}/many && cd ${canary}/many && seq 1 2500 | xargs touch`)], 120_000);
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /discarded: the host was not touched/);
  assert.not.ok(existsSync(join(canary, 'many')), 'the run reached the host');
  const removers = readFileSync(trace, 'utf8').split('\n').filter((l) => /execve\(".*\/sbx-helper", \[.*, "rmtree", /.test(l));
  assert.is(removers.length, 1, 'no remover started');
  assert.match(removers[0]!, /"rmtree", "\.removing-[0-9a-f]{8}"/);
  assert.equal(readdirSync(store).filter((n) => /^[0-9a-f]{8}$/.test(n) || n.startsWith('.removing-')), [], 'the remover left the layers');
});

// Keys typed after the command ended and before the question showed (a terminal's reply to
// a query the command wrote last lands there too) answered it: a `k` typed ahead committed
// 40,000 files nobody had seen listed. Now the terminal's pending input is dropped first.
testUnless(ROOT_CASE)('keys typed ahead of the question do not answer it', () => {
  const r = underPty([['MARKER', 'k\n', '', 0.3], ['Keep these changes?', 'd\n']],
    sbx('run', '--', 'sh', '-c', `mkdir ${canary}/many && cd ${canary}/many && seq 1 40000 | xargs touch && echo MARKER`), 180_000);
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /discarded: the host was not touched/);
  assert.not.ok(existsSync(join(canary, 'many')), 'the typed-ahead k kept the changes');
});

test('k with flagged changes asks again: n keeps all but the flagged', () => {
  const r = underPty([['Keep these changes?', 'k\n'], ['n skips it', 'n\n']],
    sbx('run', '--', 'sh', '-c', `mkdir -p ${canary}/.ssh && echo key > ${canary}/.ssh/authorized_keys && echo ok > ${canary}/plain.txt`));
  assert.is(r.code, 0, r.out);
  // The new .ssh dir is no mark of its own (its file is): n keeps it, empty.
  assert.match(r.out, /1 flagged change \(ssh keys or configuration\): yes keeps it, n skips it:/);
  assert.is(readFileSync(join(canary, 'plain.txt'), 'utf8'), 'ok\n');
  assert.not.ok(existsSync(join(canary, '.ssh/authorized_keys')), r.out);
  assert.ok(existsSync(join(canary, '.ssh')), r.out);
});

test('k with flagged changes: yes keeps them too; anything else keeps nothing yet', () => {
  const r = underPty([['Keep these changes?', 'k\n'], ['n skips it', 'y\n'], ['nothing kept yet', 'k\n'], ['n skips it', 'yes\n']],
    sbx('run', '--', 'sh', '-c', `mkdir -p ${canary}/.ssh && echo key > ${canary}/.ssh/authorized_keys`));
  assert.is(r.code, 0, r.out);
  assert.is(readFileSync(join(canary, '.ssh/authorized_keys'), 'utf8'), 'key\n');
});

test('with stdin a pipe the question is read from /dev/tty', () => {
  const script = `echo piped > ${canary}/piped.txt`;
  const r = underPty([['Keep these changes?', 'k\n']],
    ['/bin/sh', '-c', `printf '%s\\n' "$0" | exec "$@"`, script, ...sbx('run', '--', 'sh')]);
  assert.is(r.code, 0, r.out);
  assert.is(readFileSync(join(canary, 'piped.txt'), 'utf8'), 'piped\n');
});

test('the end line and the flagged question fit 80 columns', () => {
  assert.is(endLine(0), null);
  assert.match(endLine(137)!, /killed by signal 9/);
  assert.match(endLine(124, ['killed: timeout 5s'])!, /did not finish: killed: timeout 5s/);
  const q = flaggedQuestion(['cron job', 'ssh keys or configuration', 'cron job', 'systemd unit', 'sudoers', 'git hook', 'init script', 'PAM configuration', 'x']);
  assert.ok(q.length <= 80, q);
  assert.match(q, /^9 flagged changes \(cron job, .*…\): yes keeps them, n skips them: $/);
});

test('pick mode: a directory line keeps its whole tree; the final line counts what was asked', () => {
  const r = underPty([['Keep these changes?', 'p\n'], ['newdir/ (2 files, 1 dir, 4 B)? [y/n/a/q/?]', 'y\n'], ['other.txt? [y/n/a/q/?]', 'n\n'], ['commit 4 picked changes (of 5)? [y/N]', 'y\n']],
    sbx('run', '--', 'sh', '-c', `mkdir -p ${canary}/newdir/sub && echo a > ${canary}/newdir/a && echo b > ${canary}/newdir/sub/b && echo o > ${canary}/other.txt`));
  assert.is(r.code, 0, r.out);
  assert.match(r.out, new RegExp(`apply addition of ${canary}/newdir/ \\(2 files, 1 dir, 4 B\\)\\? \\[y/n/a/q/\\?\\]`));
  assert.is(readFileSync(join(canary, 'newdir/sub/b'), 'utf8'), 'b\n');
  assert.not.ok(existsSync(join(canary, 'other.txt')), r.out);
  assert.match(r.out, /sbx: 4 changes committed \(4 B\), 1 not picked; sandbox \w+ kept/);
  assert.not.match(r.out, /--only\/--exclude/);
});

test('pick mode: a new dir declined takes the repository line below it along, unasked; the count asked is the count committed', () => {
  const repo = join(canary, 'pickrepo');
  // `n` to the dir, then answers enough for a repository question too: it used to be asked,
  // and `y` to it made pickrepo/ with .git and without README (git status: ' D README').
  const r = underPty([['Keep these changes?', 'p\n'], ['pickf? [y/n/a/q/?]', 'y\n'], ['pickrepo/ (1 file, 6 B)? [y/n/a/q/?]', 'n\ny\ny\n']],
    // --only: a change other tests make meanwhile (a dir in /var/tmp) must not take an answer.
    sbx('run', '--only', `${canary}/**`, '--', 'sh', '-c', `cd ${canary} && git init -q pickrepo && cd pickrepo && echo hello > README && git add . && git -c user.name=a -c user.email=a@b commit -qm init && echo x > ${canary}/pickf`));
  try {
    assert.is(r.code, 0, r.out);
    assert.not.match(r.out, /new git repository.*\? \[y\/n/, 'the repository line below the declined dir is not asked');
    assert.not.ok(existsSync(repo), r.out);
    assert.is(readFileSync(join(canary, 'pickf'), 'utf8'), 'x\n');
    const asked = /commit (\d+) picked changes? \(of (\d+)\)\?/.exec(r.out);
    const told = /sbx: (\d+) changes? committed \([^)]*\), (\d+) not picked/.exec(r.out);
    assert.ok(asked && told, r.out);
    assert.is(asked![1], '1', r.out);
    assert.is(told![1], asked![1], 'committed what was asked about');
    assert.is(Number(told![2]), Number(asked![2]) - 1, r.out);
  } finally {
    rmSync(repo, { recursive: true, force: true });
    rmSync(join(canary, 'pickf'), { force: true });
  }
});

test("pick mode: a moved file's old name is not asked once its new name is declined, and a glob's pick of it alone is left out; the count asked is the count committed", () => {
  const old = join(canary, 'pick-moved.log'), old2 = join(canary, 'pick-moved2.log');
  writeFileSync(old, 'kept by the host\n');
  writeFileSync(old2, 'kept too\n');
  try {
    // n to the new name: the old one's deletion is not asked. The second pair: +GLOB picks
    // the old name alone (then n to its new name): left out before the final question.
    const r = underPty([['Keep these changes?', 'p\n'], ['pick-moved.log.1 (moved from pick-moved.log)? [y/n/a/q/?]', 'n\n'], ['pick-moved2.log.1 (moved from pick-moved2.log)? [y/n/a/q/?]', '+*/pick-moved2.log\n'], ['pick-moved2.log.1 (moved from pick-moved2.log)? [y/n/a/q/?]', 'n\n'], ['pick-other? [y/n/a/q/?]', 'y\n'], ['commit 1 picked change (of 5)? [y/N]', 'y\n']],
      // --only: a change other tests make meanwhile must not take an answer.
      sbx('run', '--only', `${canary}/**`, '--', 'sh', '-c', `cd ${canary} && mv pick-moved.log pick-moved.log.1 && mv pick-moved2.log pick-moved2.log.1 && echo o > pick-other`));
    assert.is(r.code, 0, r.out);
    assert.match(r.out, `keeping ${old}: it was moved to ${old}.1, which is not picked`);
    assert.not.match(r.out, /apply deletion of \S*pick-moved\.log /, r.out);
    assert.match(r.out, `leaving out the deletion of ${old2}: it was moved to ${old2}.1, which is not picked, and deleting it alone would lose its content`);
    assert.is(readFileSync(old, 'utf8'), 'kept by the host\n');
    assert.is(readFileSync(old2, 'utf8'), 'kept too\n');
    assert.not.ok(existsSync(`${old}.1`) || existsSync(`${old2}.1`), r.out);
    assert.is(readFileSync(join(canary, 'pick-other'), 'utf8'), 'o\n');
    assert.match(r.out, /sbx: 1 change committed \(2 B\), 4 not picked; sandbox \w+ kept/);
  } finally {
    for (const f of [old, old2, `${old}.1`, `${old2}.1`, join(canary, 'pick-other')]) rmSync(f, { force: true });
  }
});

test('a pager that cannot start or fails before reading: the text follows unpaged after one warning naming it; a working pager, one quit early or one that exits non-zero after reading is no failure', () => {
  const big = (f: string) => `seq 0 999 | sed s/^/pager-line-/ > ${canary}/${f}`;
  assert.is(plain('run', '--name', 'pg', '--', 'sh', '-c', big('pg.txt')).code, 0);
  // A warning wraps at 80 columns on a terminal.
  const flat = (out: string) => out.replace(/\r?\n +/g, ' ');
  try {
    const diff = (pager: string) => ptyRun([], ['diff', 'pg'], { store, env: { PAGER: pager }, timeoutMs: 60_000 });
    // Before: sh's "not found" line alone, exit 0; PAGER=false printed nothing.
    for (const [pager, why] of [['/nonexistent/pager', 'exit status 127'], ['false', 'exit status 1']] as const) {
      const r = diff(pager);
      assert.is(r.code, 0, r.out);
      assert.ok(flat(r.out).includes(`sbx: warning: the pager '${pager}' failed (${why}): the text follows unpaged`), r.out.slice(0, 2000));
      assert.ok(r.out.includes('+pager-line-999'), 'the review reached the terminal');
    }
    const upper = diff('tr a-z A-Z');
    assert.is(upper.code, 0, upper.out);
    assert.ok(upper.out.includes('+PAGER-LINE-999'), upper.out.slice(-500));
    assert.not.ok(upper.out.includes('+pager-line-'), 'written once, through the pager');
    // A reader that stops early (the user's q in less): no warning.
    const quit = diff('head -c 10');
    assert.is(quit.code, 0, quit.out);
    assert.not.match(quit.out, /warning|failed|pager-line-999/);
    // One that shows the text and then exits non-zero (some pagers' quit key): shown once.
    // Before: a warning, and the whole text again after the pager's.
    const shown = diff('tr a-z A-Z; exit 3');
    assert.is(shown.code, 0, shown.out);
    assert.ok(shown.out.includes('+PAGER-LINE-999'), shown.out.slice(-500));
    assert.not.match(shown.out, /warning|failed|\+pager-line-/);
    // The review's r goes through the same pager.
    const r = ptyRun([['Keep these changes?', 'r\n'], ['Keep these changes?', 'd\n']], ['run', '--', 'sh', '-c', big('pg2.txt')], { store, env: { PAGER: '/nonexistent/pager' } });
    assert.is(r.code, 0, r.out.slice(-2000));
    assert.ok(flat(r.out).includes("sbx: warning: the pager '/nonexistent/pager' failed (exit status 127)"), r.out.slice(0, 2000));
    assert.ok(r.out.includes('+pager-line-999'));
    assert.not.ok(existsSync(join(canary, 'pg2.txt')));
  } finally {
    plain('discard', 'pg');
  }
});

test('answers typed ahead all at once are taken in order, none dropped', () => {
  // One write holds every answer: readline hands out lines only to a pending question, so the
  // old prompt dropped all but the first and then waited for ever.
  const r = underPty([['Keep these changes?', 'p\ny\nn\ny\n']],
    sbx('run', '--', 'sh', '-c', `echo a > ${canary}/a.txt && echo b > ${canary}/b.txt`), 60_000);
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /b\.txt\? \[y\/n\/a\/q\/\?\] n/, 'a queued answer is shown after its question');
  assert.is(readFileSync(join(canary, 'a.txt'), 'utf8'), 'a\n');
  assert.not.ok(existsSync(join(canary, 'b.txt')), r.out);
  assert.match(r.out, /1 not picked/);
});

test('pick mode: +GLOB decides every match at once; ? explains the answers', () => {
  const r = underPty([['Keep these changes?', 'p\n'], ['a.log? [y/n/a/q/?]', '?\n'], ['+GLOB', '+*.log\n'], ['c.txt? [y/n/a/q/?]', 'n\n'], ['commit 2 picked changes (of 3)?', 'y\n']],
    sbx('run', '--', 'sh', '-c', `echo a > ${canary}/a.log && echo b > ${canary}/b.log && echo c > ${canary}/c.txt`));
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /applying 2 changes matching \*\.log/);
  assert.not.match(r.out, /b\.log\? \[y/, 'b.log was decided by the glob and not asked about');
  assert.ok(existsSync(join(canary, 'a.log')) && existsSync(join(canary, 'b.log')));
  assert.not.ok(existsSync(join(canary, 'c.txt')));
});

test('a --disk limit that was hit is said on the line before the question', () => {
  const r = underPty([['Keep these changes?', 'd\n']], sbx('run', '--disk', '8M', '--', 'sh', '-c', `dd if=/dev/zero of=${canary}/big bs=1M count=20 2>/dev/null; exit 1`));
  assert.is(r.code, 1, r.out);
  const lines = r.out.split(/\r?\n/);
  const q = lines.findIndex((l) => l.includes('Keep these changes?'));
  assert.is(lines[q - 1], 'the command failed with exit status 1: disk limit 8M reached (writes failed: no space)', r.out);
  assert.not.ok(existsSync(join(canary, 'big')));
});

test("[r] shows what sbx diff shows: a fold's diffs left out with a line saying how to see them, a flagged one kept", () => {
  const cache = `${canary}/proj/__pycache__`;
  const script = [`mkdir -p ${cache} ${canary}/.ssh/__pycache__`, `echo bytecode > ${cache}/m.cpython-311.pyc`, `echo more > ${cache}/n.cpython-311.pyc`,
    `echo key > ${canary}/.ssh/__pycache__/k.pyc`, `echo work > ${canary}/proj/m.py`].join(' && ');
  // No pager: less would wrap the long lines.
  const r = ptyRun([['Keep these changes?', 'r\n'], ['Keep these changes?', 'd\n']], [], { store, argv: sbx('run', '--name', 'rv', '--', 'sh', '-c', script), env: { PAGER: 'cat' } });
  assert.is(r.code, 0, r.out);
  const view = r.out.slice(r.out.indexOf('Keep these changes?') + 1);
  // The summary as sbx diff has it (the bytecode files and their dirs one line: .ssh/ and its
  // __pycache__/ hold nothing else but the flagged file, which has its own line), then the diffs.
  assert.match(view, /5 in python bytecode \(14 B\), folded/);
  assert.ok(view.includes(`diff ${canary}/proj/m.py (added)`), view);
  assert.not.ok(view.includes(`diff ${cache}/`), view);
  assert.match(view, /python bytecode: 2 diffs left out \(to see them: sbx diff rv --all\)/);
  // Flagged: listed and diffed though it lies in the fold.
  assert.ok(view.includes(`diff ${canary}/.ssh/__pycache__/k.pyc (added)`), view);
  assert.not.ok(existsSync(join(canary, 'proj')));
});

test('every line a default run prints fits 80 columns', () => {
  proveIsolation(canary, store);
  for (let i = 0; i < 2; i++) {
    // The answer waits for the question asked again after the help ('[s]ave' is on the first
    // prompt line too: answering on it could type ahead of the help).
    const r = underPty([['Keep these changes?', '?\n'], ['save: keep the sandbox', ''], ['Keep these changes?', 'd\n']], sbx('run', '--', 'sh', '-c', `mkdir -p ${canary}/d && echo x > ${canary}/d/x && rm ${canary}/keep.txt`));
    assert.is(r.code, 0, r.out);
    // Columns as the terminal counts them: escape sequences (readline's cursor moves, the
    // restore after the command) take none.
    for (const l of r.out.split(TERMINAL_RESTORE).join('').replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split(/\r?\n/)) assert.ok(l.length <= 80, `${l.length} columns: ${l}`);
    assert.ok(existsSync(join(canary, 'keep.txt')));
  }
});

test.run();
