// What `sbx run` says and does when the command has ended: -y commits only a command that
// succeeded (a failed or killed one's sandbox is saved, with one line saying why), a writable
// --bind or --device is named instead of "the host was not touched", a limit's kill is said
// once, -q still names a sandbox it saved, and under sudo the hints for root's store say sudo.
// The runner executes this file as root and again as an unprivileged user.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canary, proveIsolation, sbx, sbxAsync, storeAndCanary, userIds } from '../helpers/sbx.js';
import { underPty } from '../helpers/pty.js';
import { ROOT_CASE, testUnless } from '../helpers/skip.js';

const store = storeAndCanary();
const entries = (dir = store): string[] => readdirSync(dir).filter((n) => /^[0-9a-f]{8}$/.test(n)).sort();
const run = (args: string[], env?: NodeJS.ProcessEnv) => sbx(args, { store, ...(env ? { env } : {}) });

/** The id of the sandbox a `-y` run saved instead of committing, from its two lines. */
function notKept(stderr: string, why: string, sbxCmd = 'sbx'): string {
  const m = /^sbx: not committed: (.*); sandbox (\S+) saved$/m.exec(stderr);
  assert.ok(m, stderr);
  assert.is(m![1], why);
  const ref = m![2]!;
  assert.ok(stderr.includes(`\nsbx: '${sbxCmd} commit ${ref}' keeps it, '${sbxCmd} discard ${ref}' drops it\n`), stderr);
  return ref;
}

test('-y commits nothing when the command fails, is killed or times out: the sandbox is saved, the line says why and how to keep it, the status is the command\'s own', () => {
  proveIsolation(canary, store);
  const before = entries();
  const failed = run(['run', '-y', '--', 'sh', '-c', `echo half > ${canary}/f; exit 3`]);
  assert.is(failed.code, 3, failed.stderr);
  assert.not.ok(existsSync(join(canary, 'f')), '-y committed the changes of a command that failed');
  const id = notKept(failed.stderr, 'the command failed with exit status 3');
  assert.equal(entries(), [...before, id].sort());
  // Nothing is lost: the hint's command keeps them anyway.
  const kept = run(['commit', id]);
  assert.is(kept.code, 0, kept.stderr);
  assert.is(readFileSync(join(canary, 'f'), 'utf8'), 'half\n');

  const killed = run(['run', '-y', '--', 'sh', '-c', `echo half > ${canary}/k; kill -9 $$`]);
  assert.is(killed.code, 137, killed.stderr);
  assert.not.ok(existsSync(join(canary, 'k')));
  assert.is(run(['discard', notKept(killed.stderr, 'the command was killed by signal 9')]).code, 0);

  // Long enough for the write to land first on a loaded machine (a user's fuse-overlayfs start).
  const timedOut = run(['run', '-y', '--timeout', '2s', '--', 'sh', '-c', `echo half > ${canary}/t; sleep 60`]);
  assert.is(timedOut.code, 124, timedOut.stderr);
  assert.not.ok(existsSync(join(canary, 't')));
  assert.is(run(['discard', notKept(timedOut.stderr, 'the command was killed (timeout 2s)')]).code, 0);

  // -q: the two lines still, and nothing else; --name: saved under it.
  const quiet = run(['run', '-y', '-q', '--name', 'halfdone', '--', 'sh', '-c', `echo half > ${canary}/q; exit 4`]);
  assert.is(quiet.code, 4, quiet.stderr);
  assert.is(quiet.stderr, "sbx: not committed: the command failed with exit status 4; sandbox halfdone saved\nsbx: 'sbx commit halfdone' keeps it, 'sbx discard halfdone' drops it\n");
  assert.is(run(['discard', 'halfdone']).code, 0);

  // No change: nothing to save. A command that succeeded is committed as before.
  const empty = run(['run', '-y', '--', 'sh', '-c', 'exit 5']);
  assert.is(empty.code, 5, empty.stderr);
  assert.not.match(empty.stderr, /not committed|saved/);
  const ok = run(['run', '-y', '--', 'sh', '-c', `echo whole > ${canary}/ok`]);
  assert.is(ok.code, 0, ok.stderr);
  assert.is(readFileSync(join(canary, 'ok'), 'utf8'), 'whole\n');
  assert.equal(entries(), before);
});

test('Ctrl-C (SIGINT to sbx) during a -y run commits nothing and saves the sandbox', async () => {
  proveIsolation(canary, store);
  const before = entries();
  // Not `echo ready; sleep 30`: a SIGINT that came while sh was between forking sleep and its
  // exec reached the fork (which took it as sh's deferred interrupt and then exec'd), not
  // sleep, and sh died of it only after sleep's 30 s (dash and bash wait for their child):
  // under load the fresh-clone suites lost those 30 s twice. Short sleeps and a trap that dies
  // of the signal end it within one of them, wherever it lands.
  const script = `echo half > ${canary}/c; trap 'trap - INT; kill -INT $$' INT; echo ready; while :; do sleep 0.1; done`;
  const child = sbxAsync(['run', '-y', '--', 'sh', '-c', script], { store, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  let sent = 0;
  const code = await new Promise<number | null>((resolve) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { if (d.includes('ready') && !sent) { sent = Date.now(); child.kill('SIGINT'); } });
    child.on('close', (c) => resolve(c));
  });
  assert.is(code, 130, err);
  // Generous (no timing test): a SIGINT sbx sat on would leave the loop to run until killed.
  assert.ok(Date.now() - sent < 20_000, `the run ended ${Date.now() - sent} ms after SIGINT`);
  assert.not.ok(existsSync(join(canary, 'c')), '-y committed a run cut short by Ctrl-C');
  const id = notKept(err, 'the command was killed by signal 2');
  assert.equal(entries(), [...before, id].sort());
  assert.is(run(['discard', id]).code, 0);
});

test('a writable --bind (or --device) is named at the end instead of "the host was not touched": the quick end, the review\'s and the prompt\'s discard', () => {
  const out = join(canary, 'out');
  mkdirSync(out);
  const r = run(['run', '-n', '--bind', `${out}:/mnt/b`, '--', 'sh', '-c', 'echo direct > /mnt/b/w']);
  assert.is(r.code, 0, r.stderr);
  assert.is(readFileSync(join(out, 'w'), 'utf8'), 'direct\n');
  // The lines end it (a warning about the host may come first: another test's tree gone meanwhile).
  assert.ok(r.stderr.endsWith(`Changes: no changes outside --bind ${out}\nsbx: discarded: nothing was written to the host except through --bind ${out}\n`), r.stderr);
  // A captured change too: the review's discard.
  const both = run(['run', '-n', '--bind', out, '--', 'sh', '-c', `echo x > ${out}/y; echo z > ${canary}/z`]);
  assert.is(both.code, 0, both.stderr);
  // As above, a warning about the host may come first.
  assert.match(both.stderr, /(?:^|\n)Changes: 1 added\n/, both.stderr);
  assert.ok(both.stderr.endsWith(`sbx: discarded: nothing was written to the host except through --bind ${out}\n`), both.stderr);
  // Read-only, the host stays untouched.
  const ro = run(['run', '-n', '--ro-bind', `${out}:/mnt/b`, '--', 'cat', '/mnt/b/w']);
  assert.is(ro.code, 0, ro.stderr);
  assert.ok(ro.stderr.endsWith('Changes: no changes\nsbx: discarded: the host was not touched\n'), ro.stderr);
  // A writable device is a host path the command writes itself; a read-only one is not.
  const dev = run(['run', '-n', '--device', '/dev/zero:/dev/sbxzero', '--', 'true']);
  assert.is(dev.code, 0, dev.stderr);
  assert.ok(dev.stderr.endsWith('sbx: discarded: nothing was written to the host except through --device /dev/zero\n'), dev.stderr);
  const devRo = run(['run', '-n', '--device', '/dev/zero:/dev/sbxzero:r', '--', 'true']);
  assert.ok(devRo.stderr.endsWith('sbx: discarded: the host was not touched\n'), devRo.stderr);
  // d at the question.
  const p = underPty([['Keep these changes?', 'd\n']], ['run', '--bind', out, '--', 'sh', '-c', `echo x > ${canary}/p`], { store });
  assert.is(p.code, 0, p.out);
  // On a terminal a long line wraps between words, its next lines indented by two.
  assert.ok(p.out.replace(/\r\n {2}/g, ' ').includes(`sbx: discarded: nothing was written to the host except through --bind ${out}\r\n`), p.out);
  assert.not.ok(existsSync(join(canary, 'p')));
});

test('-q still names a sandbox it saved, in one line: off a terminal and answered s on one', () => {
  const before = entries();
  const r = run(['run', '-q', '--', 'sh', '-c', `echo x > ${canary}/g`]);
  assert.is(r.code, 0, r.stderr);
  const [id] = entries().filter((e) => !before.includes(e));
  assert.ok(id, 'the run saved nothing');
  assert.is(r.stderr, `sbx: sandbox ${id} saved: 'sbx diff ${id}' to review it\n`);
  assert.is(run(['discard', id!]).code, 0);
  const p = underPty([['Keep these changes?', 's\n']], ['run', '-q', '--', 'sh', '-c', `echo x > ${canary}/g`], { store });
  assert.is(p.code, 0, p.out);
  const [id2] = entries().filter((e) => !before.includes(e));
  assert.ok(id2, 'the answer s saved nothing');
  assert.ok(p.out.includes(`sbx: sandbox ${id2} saved: 'sbx diff ${id2}' to review it\r\n`), p.out);
  assert.is(run(['discard', id2!]).code, 0);
});

testUnless(ROOT_CASE ?? (userIds('sbxtest') ? null : 'no user sbxtest to have run sudo'))('under sudo, the hints for a sandbox in root\'s store say sudo (with SBX_HOME when it is not the default place), and so does the one for a name in no store', () => {
  const sudo = { SUDO_USER: 'sbxtest', SUDO_UID: String(userIds('sbxtest')!.uid), SUDO_GID: String(userIds('sbxtest')!.uid) };
  const saved = run(['run', '--', 'sh', '-c', `echo x > ${canary}/s`], sudo);
  assert.is(saved.code, 0, saved.stderr);
  const m = /^sbx: sandbox (\S+) saved: '(.*) diff \1' to review it$/m.exec(saved.stderr);
  assert.ok(m, saved.stderr);
  assert.is(m![2], `sudo SBX_HOME=${store} sbx`);
  assert.ok(saved.stderr.includes(`sbx: 'sudo SBX_HOME=${store} sbx commit ${m![1]}' keeps it, 'sudo SBX_HOME=${store} sbx discard ${m![1]}' drops it\n`), saved.stderr);
  assert.is(run(['discard', m![1]!]).code, 0);
  const failed = run(['run', '-y', '--', 'sh', '-c', `echo x > ${canary}/s; exit 1`], sudo);
  assert.is(failed.code, 1, failed.stderr);
  assert.is(run(['discard', notKept(failed.stderr, 'the command failed with exit status 1', `sudo SBX_HOME=${store} sbx`)]).code, 0);
  // A name in no store: the hint's ls is the one that lists root's store too.
  const unknown = run(['diff', 'no-such-sandbox'], sudo);
  assert.is(unknown.code, 125, unknown.stderr);
  assert.ok(unknown.stderr.includes(`run 'sudo SBX_HOME=${store} sbx ls' to see saved sandboxes`), unknown.stderr);
  // Root's store in its default place (HOME's): plain sudo finds it.
  const home = mkdtempSync(join(tmpdir(), 'sbx-root-home-'));
  const env = { ...sudo, SBX_HOME: '', XDG_STATE_HOME: '', HOME: home };
  try {
    const r = run(['run', '--', 'sh', '-c', `echo x > ${canary}/s`], env);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /^sbx: sandbox (\S+) saved: 'sudo sbx diff \1' to review it$/m);
    // Neither root's store nor the invoking user's has it: `sudo sbx ls` lists both.
    const unknown = run(['commit', 'no-such-sandbox'], env);
    assert.is(unknown.code, 125, unknown.stderr);
    assert.ok(unknown.stderr.includes("run 'sudo sbx ls' to see saved sandboxes"), unknown.stderr);
    // Not under sudo: the plain command.
    const plain = run(['run', '--', 'sh', '-c', `echo x > ${canary}/s`]);
    assert.match(plain.stderr, /^sbx: sandbox (\S+) saved: 'sbx diff \1' to review it$/m);
    assert.ok(run(['diff', 'no-such-sandbox']).stderr.includes("run 'sbx ls' to see saved sandboxes"));
  } finally {
    const own = join(home, '.local', 'state', 'sbx');
    const ids = existsSync(own) ? entries(own) : [];
    if (ids.length) run(['discard', ...ids], env);
    rmSync(home, { recursive: true, force: true });
  }
});

test('background processes left running are named in one line and stopped with the sandbox: a late write lands nowhere, the layers the review saw are the ones committed', async () => {
  proveIsolation(canary, store);
  // Three processes outlive the shell: a sleep, a subshell that writes after 0.5 s, and its
  // sleep. The shell ends only once each exists under its name (forked and exec'd), so
  // the count and names are exact; `read` is a builtin, no process of its own.
  const script = `sleep 100 & a=$!; (sleep 0.5; echo late > ${canary}/late) & l=$!; echo early > ${canary}/early
until read c < /proc/$a/comm; [ "$c" = sleep ] && { read k < /proc/$l/task/$l/children || :; [ -n "$k" ] && read d < /proc/$k/comm && [ "$d" = sleep ]; }; do :; done`;
  const r = run(['run', '--name', 'bg', '--', 'sh', '-c', script]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stderr.includes('sbx: warning: 3 background processes were still running when the command ended (sleep, sh, sleep); they were stopped\n'), r.stderr);
  // Then the review, as for any run.
  assert.match(r.stderr, /^Changes: 1 added$/m);
  const listed = (): string => { const d = run(['diff', '--name-only', 'bg']); assert.is(d.code, 0, d.stderr); return d.stdout; };
  const reviewed = listed();
  assert.is(reviewed, `${canary}/early\n`);
  // Past the subshell's 0.5 s: had it lived on, its file would be in the layers now.
  await new Promise((done) => setTimeout(done, 800));
  assert.is(listed(), reviewed, 'the layers changed after the review');
  assert.is(run(['commit', 'bg']).code, 0);
  assert.is(readFileSync(join(canary, 'early'), 'utf8'), 'early\n');
  assert.not.ok(existsSync(join(canary, 'late')), 'a background process of the sandbox wrote after the command ended');
  // Nothing left behind: no line.
  const plain = run(['run', '-n', '--', 'sh', '-c', 'sleep 0 & wait']);
  assert.is(plain.code, 0, plain.stderr);
  assert.not.match(plain.stderr, /background/);
});

test.run();
