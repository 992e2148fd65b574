// A count as sbx writes it, grouped as `n.toLocaleString('en-US')` writes it (`1,234,567`).
// Not through Intl: the first toLocaleString of a process loads ICU's number formatting
// (~24-40 ms here, more than the rest of a small commit's report), which a summary of 200k
// changes paid after its scan, and every commit for its "N changes committed" line.

/** `n` grouped in threes with commas; Intl only for what is not a non-negative whole number. */
export function countText(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) return n.toLocaleString('en-US');
  let s = String(n);
  for (let i = s.length - 3; i > 0; i -= 3) s = `${s.slice(0, i)},${s.slice(i)}`;
  return s;
}
