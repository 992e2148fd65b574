// Ctrl-Z for a command on sbx's pty. The command leads no session of its own there: it is a
// process group in the session of its init (native/init.c), so the pty's SIGTSTP stops it as
// it would outside. Its init then gives the user's terminal its settings back and says so on
// JOBCTL_FD; sbx stops its own process group, so the shell sees the job stop and prints its
// prompt. When the shell continues sbx (fg, bg), sbx asks init to continue the command: with
// the terminal (raw again, the user's keys relayed) when sbx is the terminal's foreground,
// without it when not (`bg`: the command runs on and writes, the keys stay the shell's).
import type { Readable } from 'node:stream';

/** The helper's fd for "stopped SIG" lines (the `pty` spec op names it). */
export const JOBCTL_FD = 5;
/** Continue the command with / without the terminal; as SIG_RESUME_FG/BG in native/init.c. */
export const SIG_RESUME_FG = 63;
export const SIG_RESUME_BG = 62;

/** Follows the helper's reports until the returned function is called (the helper ended). */
export function followJobControl(helperPid: number, events: Readable, foreground: () => boolean): () => void {
  let job: 'running' | 'stopped' | 'background' = 'running';
  const resume = (): void => {
    if (job === 'running') return;
    const fg = foreground();
    if (!fg && job === 'background') return;
    job = fg ? 'running' : 'background';
    try { process.kill(helperPid, fg ? SIG_RESUME_FG : SIG_RESUME_BG); } catch { /* already gone */ }
  };
  let pending = '';
  events.setEncoding('latin1');
  events.on('data', (d: string) => {
    pending += d;
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line.startsWith('stopped ')) continue;
      job = 'stopped';
      // The whole group, as the terminal's SIGTSTP would have: sbx, the helper, a pipeline's
      // other programs. sbx stops inside this call until the shell continues it; in a group
      // no shell controls (orphaned) the kernel drops the signal and sbx goes on at once,
      // continuing the command: outside, the terminal's SIGTSTP would have been dropped too.
      try { process.kill(0, 'SIGTSTP'); } catch { /* no such group: nothing to stop */ }
      resume();
    }
  });
  // Also a continue that came after the command was resumed without the terminal (`bg`, then `fg`).
  process.on('SIGCONT', resume);
  return () => { process.off('SIGCONT', resume); events.destroy(); };
}
