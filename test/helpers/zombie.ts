// A real zombie for tests of what sbx takes for a gone process: a child that ends once its
// parent has exec'd `sleep`, which never waits for it. (A child that ended while its parent was
// still the shell could be waited for by the shell: 3 runs in 12 had no zombie.)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The one-letter state of /proc/PID/stat, '' for a pid that is gone. */
export function procState(pid: number): string {
  try { const st = readFileSync(`/proc/${pid}/stat`, 'latin1'); return st[st.lastIndexOf(')') + 2] ?? ''; } catch { return ''; }
}

export interface Zombie { pid: number; parentPid: number; end: () => Promise<void> }

/** Resolves once the zombie is one (10 s at most, else it throws); `end` kills its parent, after which init reaps it. */
export async function makeZombie(): Promise<Zombie> {
  const child = 'while [ "$(cat /proc/$PPID/comm)" != sleep ]; do sleep 0.01; done';
  const parent = spawn('sh', ['-c', `sh -c '${child}' & echo $!; exec sleep 60`], { stdio: ['ignore', 'pipe', 'ignore'] });
  const end = async (): Promise<void> => {
    parent.kill('SIGKILL');
    if (parent.exitCode === null && parent.signalCode === null) await new Promise((r) => parent.once('exit', r));
  };
  let out = '';
  parent.stdout!.on('data', (d) => { out += d; });
  const until = Date.now() + 10_000;
  while (!out.includes('\n') && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  const pid = Number(out.trim());
  while (pid > 0 && procState(pid) !== 'Z' && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  if (!(pid > 0) || procState(pid) !== 'Z') { await end(); throw new Error(`no zombie made (pid ${out.trim() || 'none'})`); }
  return { pid, parentPid: parent.pid!, end };
}
