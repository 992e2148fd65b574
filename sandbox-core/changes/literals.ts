// The plain text a regexp's every match must contain, read from its source: what lets the
// `!` rules (sensitive.ts) turn away a path that holds none of it with one small literal
// test instead of their ~30 patterns. Only what can be proved is kept: a construct this
// reader does not know (or a flag) gives up on that regexp, and the caller then keeps the
// regexp itself in the filter, so a filter made from these is never narrower than the
// patterns it stands for.

/** What every match of a regexp holds: a text it starts the string with (anchored), or contains. */
export interface Needed {
  /** The match starts at the string's start and begins with one of these. */
  prefixes?: string[];
  /** The match (anywhere) contains one of these. */
  infixes?: string[];
}

// Cross products of alternatives grow fast: past this many strings a run stops growing
// (a shorter run is still a sound, only weaker, answer).
const MAX_SET = 64;

/** One parsed element: its exact strings (finite, or null) and the texts every match holds. */
interface Part {
  /** Every string it matches, when that is a small finite set. */
  exact: string[] | null;
  /** Every match contains one of these (null: nothing known, e.g. it can match ""). */
  need: string[] | null;
}

class Unknown extends Error {}

const cross = (a: string[], b: string[]): string[] | null => {
  if (a.length * b.length > MAX_SET) return null;
  const out = new Set<string>();
  for (const x of a) for (const y of b) out.add(x + y);
  return [...out];
};

/** The shortest string of a set: how selective a `need` set is (longer is rarer). */
const weakest = (s: string[]): number => Math.min(...s.map((x) => x.length));

/** Drop the strings that contain another of the set (the shorter one is in every such path). */
function minimalInfixes(s: string[]): string[] {
  return [...new Set(s)].filter((x, i, all) => !all.some((y, j) => j !== i && x.includes(y) && (y !== x || j < i)));
}

function minimalPrefixes(s: string[]): string[] {
  return [...new Set(s)].filter((x, i, all) => !all.some((y, j) => j !== i && x.startsWith(y) && (y !== x || j < i)));
}

/** A parser of the subset the rule tables use: literals, escapes, classes, groups, `| ? * + {}`, `^ $`. */
class Reader {
  i = 0;
  constructor(private readonly s: string) {}

  alternation(): Part {
    const branches = [this.sequence()];
    while (this.s[this.i] === '|') { this.i++; branches.push(this.sequence()); }
    if (branches.length === 1) return branches[0]!;
    let exact: string[] | null = [];
    let need: string[] | null = [];
    for (const b of branches) {
      exact = exact && b.exact && exact.length + b.exact.length <= MAX_SET ? [...exact, ...b.exact] : null;
      need = need && b.need ? [...need, ...b.need] : null;
    }
    return { exact: exact && [...new Set(exact)], need: need && minimalInfixes(need) };
  }

  sequence(): Part {
    const items: Part[] = [];
    while (this.i < this.s.length && this.s[this.i] !== '|' && this.s[this.i] !== ')') items.push(this.quantified());
    return joinParts(items);
  }

  /** The parts of a top-level sequence, for the anchored reading (sensitive rules start with `^`). */
  topParts(): Part[] {
    const items: Part[] = [];
    while (this.i < this.s.length && this.s[this.i] !== '|' && this.s[this.i] !== ')') items.push(this.quantified());
    return items;
  }

  quantified(): Part {
    const atom = this.atom();
    const q = this.s[this.i];
    if (q === '?') { this.i++; this.lazy(); return { exact: atom.exact ? [...new Set(['', ...atom.exact])] : null, need: null }; }
    if (q === '*') { this.i++; this.lazy(); return { exact: null, need: null }; }
    if (q === '+') { this.i++; this.lazy(); return { exact: null, need: atom.need }; }
    if (q === '{') {
      const m = /^\{(\d+)(,\d*)?\}/.exec(this.s.slice(this.i));
      if (!m) throw new Unknown();
      this.i += m[0].length;
      this.lazy();
      return { exact: null, need: Number(m[1]) > 0 ? atom.need : null };
    }
    return atom;
  }

  lazy(): void { if (this.s[this.i] === '?') this.i++; }

  atom(): Part {
    const c = this.s[this.i++];
    if (c === undefined) throw new Unknown();
    // Anchors inside a pattern only narrow what it matches: read as the empty string.
    if (c === '^' || c === '$') return { exact: [''], need: null };
    if (c === '(') {
      if (this.s[this.i] === '?') {
        if (this.s[this.i + 1] !== ':') throw new Unknown(); // lookarounds, named groups
        this.i += 2;
      }
      const inner = this.alternation();
      if (this.s[this.i++] !== ')') throw new Unknown();
      return inner;
    }
    if (c === '[') {
      // A class matches one character of a set this reader does not enumerate.
      let j = this.i;
      if (this.s[j] === '^') j++;
      if (this.s[j] === ']') j++;
      for (; j < this.s.length && this.s[j] !== ']'; j++) if (this.s[j] === '\\') j++;
      if (j >= this.s.length) throw new Unknown();
      this.i = j + 1;
      return { exact: null, need: null };
    }
    if (c === '.') return { exact: null, need: null };
    if (c === '\\') {
      const e = this.s[this.i++];
      if (e === undefined) throw new Unknown();
      if ('dDwWsSbB'.includes(e)) return { exact: e === 'b' || e === 'B' ? [''] : null, need: null };
      // Only punctuation escapes stand for themselves; \n, \x41, \1 and the rest are not read.
      if (!/[\\/.^$|?*+()[\]{}-]/.test(e)) throw new Unknown();
      return { exact: [e], need: [e] };
    }
    if ('?*+{}])|'.includes(c)) throw new Unknown();
    return { exact: [c], need: [c] };
  }
}

/** A sequence's parts as one: runs of exact parts joined, and the most selective `need` kept. */
function joinParts(items: Part[]): Part {
  let exact: string[] | null = [''];
  let best: string[] | null = null;
  const offer = (s: string[] | null): void => {
    if (s && s.length && (!best || weakest(s) > weakest(best))) best = minimalInfixes(s);
  };
  let run: string[] = [''];
  for (const it of items) {
    exact = exact && it.exact ? cross(exact, it.exact) : null;
    offer(it.need);
    const joined = it.exact ? cross(run, it.exact) : null;
    if (joined) { run = joined; } else { offer(run.some((x) => x === '') ? null : run); run = it.exact ?? ['']; }
  }
  offer(run.some((x) => x === '') ? null : run);
  return { exact, need: exact && !exact.includes('') ? minimalInfixes(exact) : best };
}

/** What every match of `re` holds, or null when its source uses what this reader does not know. */
export function neededText(re: RegExp): Needed | null {
  if (re.flags.replace(/[gdy]/g, '')) return null; // i, m, s, u, v change what text means
  const r = new Reader(re.source);
  try {
    if (re.source.startsWith('^') && !hasTopLevelBar(re.source)) {
      r.i = 1;
      const items = r.topParts();
      if (r.i !== re.source.length) return null;
      // The leading run of exact parts: the match starts the string with one of their joins.
      let run: string[] = [''];
      for (const it of items) {
        const joined = it.exact ? cross(run, it.exact) : null;
        if (!joined) break;
        run = joined;
      }
      if (!run.includes('')) return { prefixes: minimalPrefixes(run) };
      const need = joinParts(items).need;
      return need ? { infixes: need } : null;
    }
    const top = r.alternation();
    if (r.i !== re.source.length) return null;
    return top.need ? { infixes: top.need } : null;
  } catch (e) {
    if (e instanceof Unknown) return null;
    throw e;
  }
}

/** Whether a `|` splits the source at its top level (then a leading `^` binds only the first branch). */
function hasTopLevelBar(s: string): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '[') { i++; if (s[i] === '^') i++; if (s[i] === ']') i++; while (i < s.length && s[i] !== ']') { if (s[i] === '\\') i++; i++; } }
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}

const escapeText = (s: string): string => s.replace(/[\\/.^$|?*+()[\]{}-]/g, '\\$&');

/** A filter's parts: the texts a string may start with or contain, and the patterns kept whole. */
export interface FilterParts {
  prefixes: string[];
  infixes: string[];
  whole: RegExp[];
}

/** What a string any of `res` matches holds: the prefixes and infixes each needs, or the regexp itself where its needs are not known. */
export function filterParts(res: readonly RegExp[]): FilterParts {
  const prefixes: string[] = [];
  const infixes: string[] = [];
  const whole: RegExp[] = [];
  for (const re of res) {
    const n = neededText(re);
    if (n?.prefixes) prefixes.push(...n.prefixes);
    else if (n?.infixes) infixes.push(...n.infixes);
    else whole.push(re);
  }
  return { prefixes: minimalPrefixes(prefixes), infixes: minimalInfixes(infixes), whole };
}

/** One regexp of a filter's parts: it matches a string that starts with a prefix, or contains an infix, or matches a whole one. */
export function filterRegExp(parts: FilterParts): RegExp {
  const alts: string[] = [];
  if (parts.prefixes.length) alts.push(`^(?:${parts.prefixes.map(escapeText).join('|')})`);
  for (const x of parts.infixes) alts.push(escapeText(x));
  for (const re of parts.whole) alts.push(`(?:${re.source})`);
  return alts.length ? new RegExp(alts.join('|')) : /(?!)/;
}

/** One regexp that matches every string any of `res` matches (and more). */
export function literalFilter(res: readonly RegExp[]): RegExp {
  return filterRegExp(filterParts(res));
}
