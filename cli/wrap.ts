// Word wrapping for what sbx writes to a terminal: help text, policy listings and its own
// messages, so each fits 80 columns however long the message (a word longer than a line, such
// as a long path, stands alone and is never cut).

/** Words of `text` in lines of at most `first` columns, then `rest` columns. */
export function wordLines(text: string, first: number, rest = first): string[] {
  const out: string[] = [];
  let cur = '';
  for (const w of text.split(/\s+/).filter(Boolean)) {
    const width = out.length ? rest : first;
    if (cur && cur.length + 1 + w.length > width) { out.push(cur); cur = w; } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur || !out.length) out.push(cur);
  return out;
}
