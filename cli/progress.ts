// A live progress line on stderr for work that takes more than about a second, on a TTY only.
import { isatty } from '../sandbox-core/base/light-process.js';
import { colors, rendered, safe } from './output.js';

export interface Progress {
  update(text: string): void;
  /** Clears the live line (the caller prints its one summary line). */
  end(): void;
}

export function progressLine(enabled = isatty(2)): Progress {
  const start = Date.now();
  let shown = false;
  let last = 0;
  return {
    update(text) {
      if (!enabled) return;
      const now = Date.now();
      if (now - start < 1000 || now - last < 100) return;
      last = now;
      shown = true;
      rendered(`\r\x1b[K${colors.dim('sbx:')} ${safe(text)}`);
    },
    end() {
      if (shown) rendered('\r\x1b[K');
      shown = false;
    },
  };
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}
