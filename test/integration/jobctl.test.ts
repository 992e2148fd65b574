// Job control of `sbx run` from the user's shell, on a real terminal: Ctrl-Z stops the command
// and gives the prompt back, `fg` resumes it, `bg` lets it run on, `kill %1` ends it and sbx
// cleans up as for any end (sandbox-core/job-control.ts, native/init.c).
// sbx-test: host-mounts (it compares the host's mounts before and after a run).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { IS_ROOT, hostMounts, hostMountsLeft, makeStore, removeStore } from '../helpers/sbx.js';
import { underShell, type ShellResult } from '../helpers/pty.js';
import { testUnless } from '../helpers/skip.js';
import { which } from '../../sandbox-core/which.js';
import { sbxCgroupDirs } from '../helpers/cgroups.js';

const store = makeStore();
test.after(() => removeStore(store));
const noShell = which('bash') && which('python3') ? null : 'bash or python3 is missing: no job-control shell on a pty';

const COUNTER = `$SBX run -n -- sh -c 'i=0; while [ $i -lt 15 ]; do i=$((i+1)); echo tick$i; sleep 0.2; done'\n`;

// Ctrl-Z is typed a moment after a line, not at once: right after its echo, dash vforks the
// next `sleep`, and a child stopped between vfork and exec leaves its parent waiting in the
// kernel, unstoppable, outside sbx as well (the job then never reports stopped).
const ticks = (s: string): number[] => [...s.matchAll(/tick(\d+)/g)].map((m) => Number(m[1]));
const between = (r: ShellResult, from: string, to?: string): string => r.out.slice(r.marks[from], to === undefined ? undefined : r.marks[to]);

testUnless(noShell)('Ctrl-Z stops the command and gives the prompt back; fg resumes it where it stopped', () => {
  const r = underShell([
    ['send', COUNTER], ['expect', 'tick3'], ['pause', '0.1'], ['send', '\x1a'], ['expect', 'Stopped'], ['expect', 'PROMPT$ '],
    // The terminal is the shell's again: its settings (echo, canonical input) are back.
    ['mark', 'stty'], ['send', 'stty -a\n'], ['expect', 'PROMPT$ '], ['mark', 'stopped'], ['pause', '1.5'], ['mark', 'fg'],
    ['send', 'fg\n'], ['expect', 'tick15'], ['expect', 'PROMPT$ '], ['send', 'echo "r""c=$?"\n'], ['expect', 'rc='], ['mark', 'end'],
  ], { store });
  assert.is(r.failed, null, r.out);
  const before = ticks(r.out.slice(0, r.marks.stopped));
  const stty = between(r, 'stty', 'stopped');
  assert.ok(/(^|\s)icanon/.test(stty) && /(^|\s)echo\s/.test(stty), `the shell's terminal settings are not back: ${stty}`);
  assert.equal(ticks(between(r, 'stopped', 'fg')), [], `the command ran on while stopped: ${r.out}`);
  // Nothing was lost or run meanwhile: the count goes on from where it stopped.
  const after = ticks(between(r, 'fg'));
  assert.is(after[0], before[before.length - 1]! + 1, r.out);
  assert.match(between(r, 'fg'), 'discarded: the host was not touched');
  assert.match(between(r, 'fg'), 'rc=0');
});

testUnless(noShell)('bg lets the stopped command run on while the shell keeps the terminal, fg takes it back', () => {
  const r = underShell([
    ['send', COUNTER], ['expect', 'tick3'], ['pause', '0.1'], ['send', '\x1a'], ['expect', 'PROMPT$ '], ['send', 'bg\n'], ['expect', 'tick6'],
    // The shell reads what is typed now, not the sandbox.
    ['send', 'echo "typed-$((6*7))"\n'], ['expect', 'typed-42'], ['send', 'fg\n'], ['expect', 'tick15'], ['expect', 'PROMPT$ '],
    ['send', 'echo "r""c=$?"\n'], ['expect', 'rc='],
  ], { store });
  assert.is(r.failed, null, r.out);
  assert.match(r.out, 'rc=0');
  assert.equal(ticks(r.out).filter((n, i, a) => i > 0 && n !== a[i - 1]! + 1), [], `ticks skipped or repeated: ${r.out}`);
});

testUnless(noShell)('kill %1 of a stopped run ends it: no process, mount, cgroup or sandbox is left', () => {
  const mountsBefore = hostMounts();
  const r = underShell([
    ['send', `$SBX run -n -- sh -c 'echo "rea""dy"; sleep 3600'\n`], ['expect', 'ready'], ['pause', '0.3'], ['send', '\x1a'], ['expect', 'PROMPT$ '], ['tree'],
    ['send', 'kill %1\n'], ['expect', 'PROMPT$ '], ['gone', '30'],
    // Not `kill %1; wait`: bash's wait returns at once on a job it still has as stopped. Its
    // processes are gone, but bash may not have reaped the job yet (seen once as sbxtest under
    // load: `jobs` said Running): up to 5 s for that, as a loop of commands lets it.
    ['send', 'for i in $(seq 50); do kill -0 %1 2>/dev/null || break; sleep 0.1; done; jobs; echo "do""ne"\n'], ['expect', 'done'], ['expect', 'PROMPT$ '],
  ], { store });
  assert.is(r.failed, null, r.out);
  assert.match(r.out, /Exit 143/, r.out);
  assert.match(r.out, 'the command was killed by signal 15');
  const pids = Object.keys(r.tree);
  assert.ok(pids.length >= 4, `expected sbx, the helper, init and the command below the shell: ${pids}`);
  assert.equal(r.alive, [], 'processes left running');
  assert.equal(hostMountsLeft(mountsBefore, store), [], 'mounts left on the host');
  // Only the notices said once (.said-*) stay: they are the store's, not the run's.
  assert.equal(readdirSync(store).filter((n) => !n.startsWith('.said-')), [], 'the sandbox was left in the store');
  const names = new Set(Object.values(r.tree).join('\n').match(/sbx-[0-9a-f]{8}-\d+/g) ?? []);
  if (IS_ROOT) {
    assert.ok(names.size > 0, 'control: as root the sandbox runs in its own cgroup');
    const left = sbxCgroupDirs().filter((d) => [...names].some((n) => d.endsWith(`/${n}`)));
    assert.equal(left, [], `cgroups left behind: ${left}`);
  }
});

testUnless(noShell)('a program that handles SIGTSTP itself is stopped by it, as outside (bash\'s suspend inside)', () => {
  // The inner shell's own job control works as before: Ctrl-Z stops its job, not sbx.
  const r = underShell([
    ['send', `$SBX run -n -- env PS1='IN''NER# ' bash --norc --noprofile -i\n`], ['expect', 'INNER# '], ['send', 'sleep 60\n'], ['pause', '0.5'],
    ['send', '\x1a'], ['expect', 'INNER# '], ['mark', 'inner'], ['send', 'suspend\n'], ['expect', 'PROMPT$ '], ['mark', 'outer'],
    ['send', 'fg\n'], ['pause', '0.5'], ['send', 'kill -KILL %1; sleep 1; echo "inner-$((6*7))"; exit\n'], ['expect', 'inner-42'], ['expect', 'PROMPT$ '],
  ], { store });
  assert.is(r.failed, null, r.out);
  assert.match(between(r, 'inner', 'outer'), /Stopped\s+\$SBX run/);
  assert.match(r.out.slice(0, r.marks.inner), /Stopped\s+sleep 60/);
});

test.run();
