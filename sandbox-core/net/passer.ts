// The proxy's way to hand a connected host socket to a relay inside: one `sbx-helper net-pass`
// per proxy, fed descriptors over Node's IPC channel (`child.send(msg, socket)`), because Node
// cannot attach a descriptor to a socket write itself, and starting a process per hand-off
// blocks the event loop for 10-200 ms on a busy machine — as long as a 100 MB download takes.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

export class Passer {
  private child: ChildProcess | null = null;
  /** The helper ended on its own (a helper of another build, say): no more hand-offs, and no retry per connection. */
  private broken = false;
  /** One entry per pass in flight; the helper answers in order. */
  private readonly waiting: Array<(ok: boolean | null) => void> = [];

  constructor(private readonly helper: string) {}

  /** Starts the helper if it is not running (the proxy does so while the sandbox starts). */
  start(): void {
    if (this.child || this.broken) return;
    const child = spawn(this.helper, ['net-pass'], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'json' });
    this.child = child;
    child.on('message', (m: { passed?: number }) => this.waiting.shift()?.(m.passed === 0));
    const gone = () => {
      if (this.child !== child) return;
      this.child = null;
      this.broken = true;
      for (const w of this.waiting.splice(0)) w(null); // sent or not: nobody knows
    };
    child.on('error', gone);
    child.on('exit', gone);
    child.on('disconnect', gone);
    // Neither the process nor its channel keeps sbx alive; it exits when the channel closes.
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
  }

  /**
   * Sends `host` to the relay at the other end of `relay`. Resolves true when it did; false
   * when it did not (the relay's socket was full, or no helper runs): both sockets are then
   * still only ours; null when the helper went away meanwhile and whether it did is unknown
   * (the connection cannot go on safely).
   */
  pass(relay: Socket, host: Socket): Promise<boolean | null> {
    this.start();
    const child = this.child;
    if (!child?.connected) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      const failed = (e: Error | null) => { if (e) child.kill('SIGKILL'); };
      child.send('relay', relay, { keepOpen: true }, failed);
      child.send('host', host, { keepOpen: true }, failed);
    });
  }

  /** Ends the helper; its channel must be gone before the proxy's server closes (see NetProxy.close). */
  stop(): void {
    const child = this.child;
    if (!child) return;
    this.child = null;
    for (const w of this.waiting.splice(0)) w(null);
    if (child.connected) child.disconnect();
    child.kill('SIGKILL');
  }
}
