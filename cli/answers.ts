// The answers to the review's questions, read from one readline interface. readline gives a
// line to a question only while one is pending: answers typed ahead (pasted together, or typed
// before the next question showed) were dropped and the review then waited forever. Here every
// line waits in a queue until a question takes it; end of input answers every later question
// with null.
import type { Interface } from 'node:readline';
import { safe } from './output.js';

export type Ask = (question: string) => Promise<string | null>;

export function queuedAsk(rl: Interface, out: NodeJS.WritableStream): Ask {
  const queued: string[] = [];
  let waiting: ((line: string | null) => void) | null = null;
  let closed = false;
  const hand = (l: string | null): void => {
    const w = waiting;
    waiting = null;
    w?.(l);
  };
  rl.on('line', (l: string) => (waiting ? hand(l) : queued.push(l)));
  rl.once('close', () => { closed = true; hand(null); });
  return (question) => {
    const next = queued.shift();
    if (next !== undefined) {
      // Shown as if typed after the question, so the transcript reads in order.
      out.write(`${question}${safe(next)}\n`);
      return Promise.resolve(next);
    }
    if (closed) return Promise.resolve(null);
    rl.setPrompt(question);
    rl.prompt();
    return new Promise((resolve) => { waiting = resolve; });
  };
}
