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

/**
 * A count as `n.toLocaleString('en-US')` writes it (`1,234,567`), without Intl for a
 * non-negative whole number: the first toLocaleString of a process loads ICU's number
 * formatting (~40 ms here), which a summary of 200k changes paid after the scan.
 */
export function countText(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) return n.toLocaleString('en-US');
  let s = String(n);
  for (let i = s.length - 3; i > 0; i -= 3) s = `${s.slice(0, i)},${s.slice(i)}`;
  return s;
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}
