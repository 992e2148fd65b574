// How sandbox-core says something to the user without importing cli/ (arrows only run down):
// the CLI installs its reporter (cli/output.ts) as the sink; without one (tests, library use)
// lines go to stderr, escaped all the same.
import { terminalSafe } from './base/bpath.js';

/** info and warn are silenced by -q; always is not (e.g. sbx compiling its helper). */
export type NoticeLevel = 'info' | 'warn' | 'always';
type Sink = (level: NoticeLevel, message: string) => void;

let sink: Sink = (level, message) => {
  process.stderr.write(`sbx: ${level === 'warn' ? 'warning: ' : ''}${message.split('\n').map(terminalSafe).join('\n')}\n`);
};

export function setNoticeSink(s: Sink): void {
  sink = s;
}

export function notice(level: NoticeLevel, message: string): void {
  sink(level, message);
}
