// The `!` rules' path filter (sensitive.ts passesFilter, from literals.ts) must never let a
// flagged path through: sensitiveRule is compared with the whole table tried in order (the
// evaluation before the filter, kept here as the reference) on the example changes, on
// strings made to match each pattern and their near misses, and on 100k random paths built
// from the patterns' words. A last test drops each text of the filter in turn and shows that
// the comparison would then fail (a path a pattern matches is turned away), so it cannot pass
// with a rule missing from the filter.
// sbx-test: host-free (it computes only).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NOT_MOVED, passesGate, passesTexts, SENSITIVE_RULES, sensitiveContext, sensitiveFilter, sensitiveGates, sensitiveRule, type PatternGate, type SensitiveFacts } from '../../sandbox-core/changes/sensitive.js';
import { filterParts, filterRegExp, literalFilter, neededText, type FilterParts } from '../../sandbox-core/changes/literals.js';
import { fromUser, toFs } from '../../sandbox-core/base/bpath.js';
import type { Change, EntryStat } from '../../sandbox-core/changes/types.js';
import { CASES, ORDINARY, type C } from './sensitive-cases.js';

const ctx = sensitiveContext({ PATH: '/usr/local/bin:/usr/bin:/bin:/opt/tool/bin:/home/u/\u00e9t\u00e9/bin', HOME: '/home/u' });
const PATTERNS = SENSITIVE_RULES.flatMap((r) => r.paths ?? []);

// A seeded generator (xorshift32): the same corpus every run, so a failure can be replayed.
let seed = 0x2545f491;
const rand = (n: number): number => {
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed % n;
};
const pick = <T>(a: readonly T[]): T => a[rand(a.length)]!;

const decoded = (raw: string): string => (/^[\x00-\x7f]*$/.test(raw) ? raw : toFs(raw).toString('utf8'));

// Patterns as one regexp (none has flags or back references: the same answer as trying them
// one by one, in a fraction of the time); each rule's, for the reference.
const oneRegExp = (res: readonly RegExp[]): RegExp => new RegExp(res.map((re) => `(?:${re.source})`).join('|'));
const ONE_REGEXP = new Map(SENSITIVE_RULES.filter((r) => r.paths).map((r) => [r, oneRegExp(r.paths!)]));

/** The table tried in order on every path, as sensitiveRule did before the filter. */
function reference(c: C): string | undefined {
  const p = decoded(c.path);
  const f: SensitiveFacts = { change: c.change, type: c.type, perm: c.up ? c.up.perm : -1, caps: !!c.xattrs?.some(([n]) => n === 'security.capability'), raw: c.path };
  const ask = (q: string): string | undefined => SENSITIVE_RULES.find((r) => (ONE_REGEXP.get(r)?.test(q) || r.test?.(f, q, ctx)) && !r.harmless?.(f, q))?.id;
  const id = ask(p);
  if (id !== undefined) return id;
  // A dir the context moves (the system's config dir) is asked again as where it stands for.
  for (const [from, to] of ctx.moved ?? []) {
    if (!p.startsWith(from) || (p.length > from.length && p[from.length] !== '/')) continue;
    const m = ask(to + p.slice(from.length));
    if (m !== undefined && !NOT_MOVED.has(m)) return m;
  }
  return undefined;
}

// Strings a pattern matches, made from its source (the subset the table uses); a string that
// does not match after all (an anchor met mid-way) is dropped by the caller.
const POOL = 'abcXYZ019._-/\u00e9 ';
function sample(src: string): string {
  let i = 0;
  const alt = (): string => {
    const branches: string[] = [seq()];
    while (src[i] === '|') { i++; branches.push(seq()); }
    return pick(branches);
  };
  const seq = (): string => {
    let out = '';
    while (i < src.length && src[i] !== '|' && src[i] !== ')') {
      const start = i;
      let s = atom();
      const q = src[i];
      const times = q === '?' ? rand(2) : q === '*' ? rand(3) : q === '+' ? 1 + rand(3) : 1;
      if (q === '?' || q === '*' || q === '+') i++;
      const after = i;
      if (!times) s = '';
      for (let k = 1; k < times; k++) { i = start; s += atom(); }
      i = after;
      out += s;
    }
    return out;
  };
  const atom = (): string => {
    const c = src[i++]!;
    if (c === '^' || c === '$') return '';
    if (c === '(') { if (src[i] === '?') i += 2; const s = alt(); i++; return s; }
    if (c === '\\') { const e = src[i++]!; return e === 'd' ? String(rand(10)) : e; }
    if (c === '[') {
      const neg = src[i] === '^';
      if (neg) i++;
      let body = '';
      while (src[i] !== ']') body += src[i++];
      i++;
      const chars: string[] = [];
      for (let k = 0; k < body.length; k++) {
        if (body[k + 1] === '-' && k + 2 < body.length) { for (let x = body.charCodeAt(k); x <= body.charCodeAt(k + 2); x++) chars.push(String.fromCharCode(x)); k += 2; } else chars.push(body[k]!);
      }
      return neg ? pick([...POOL].filter((x) => !chars.includes(x))) : pick(chars);
    }
    return c;
  };
  return alt();
}

// Near misses of a string: cut, one character dropped, changed or case-flipped, moved below a dir or given a tail.
function variants(s: string): string[] {
  const k = rand(Math.max(1, s.length));
  const flip = (ch: string): string => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase());
  return [s, `/home/u${s}`, `/home/u/${s}`, `${s}/x`, `${s}.bak`, `x${s}`, s.slice(0, -1), s.slice(1), s.slice(0, k) + s.slice(k + 1),
    s.slice(0, k) + pick([...POOL]) + s.slice(k + 1), s.slice(0, k) + flip(s[k] ?? '') + s.slice(k + 1), s.toUpperCase(), `${s}\u00e9`, `/\u00e9${s}`];
}

const WORDS = [...new Set(PATTERNS.flatMap((re) => re.source.replace(/\\(.)/g, '$1').split(/[^A-Za-z0-9_.-]+/)).filter(Boolean)),
  'home', 'u', 'root', 'bin', 'sbin', 'opt', 'tool', 'x', '.bashrc', '.profile', 'libx.so', 'libx.so.1.2', 'x86_64-linux-gnu', 'lib64', 'local', 'tmp', 'dev', 'shm'];
// Raw bytes as a byte string may be any latin1 character: invalid UTF-8 included.
const ODD = ['\u00e9', '\u00c3\u00a9', '\u00ff', '\u0080', '\u00e2\u0080', 'A', '-', '.', '..', ''];

function randomPath(): string {
  const n = 1 + rand(6);
  let p = rand(20) ? '' : pick(WORDS);
  for (let k = 0; k < n; k++) {
    let w = rand(4) ? pick(WORDS) : pick(ODD) + pick(WORDS) + pick(ODD);
    if (!rand(8)) w = w.toUpperCase();
    if (!rand(10)) w = w.slice(0, rand(w.length + 1));
    p += (rand(30) ? '/' : '') + w;
  }
  return p;
}

const st = (type: EntryStat['type'], perm: number): EntryStat => ({ type, perm, uid: 0, gid: 0, size: 1, mtimeMs: 0, atimeMs: 0, ctimeMs: 0, ino: 1, dev: 1, nlink: 1, rdev: 0 });
const KINDS: Change['change'][] = ['added', 'modified', 'deleted', 'metadata'];
const TYPES: Change['type'][] = ['file', 'dir', 'symlink'];
const PERMS = [0o644, 0o755, 0o4755, 0o2711, 0o777, 0o1777];
/** A change at byte path `raw` with a random kind, type, mode and capability. */
function changeAt(raw: string): C {
  const type = pick(TYPES);
  const c: C = { path: raw, change: pick(KINDS), type };
  if (rand(6)) c.up = st(type, pick(PERMS));
  if (!rand(20)) c.xattrs = [['security.capability', Buffer.from([1])]];
  return c;
}

/**
 * Host paths (text): the examples, each pattern's samples and their near misses, each once (a
 * pattern with few spellings gives the same sample many times: asking it again proves nothing).
 * Made once: every test that reads it is given the same paths.
 */
const CORPUS: readonly string[] = (() => {
  const out = new Set<string>();
  const add = (s: string): void => { for (const v of variants(s)) out.add(v); };
  for (const cs of [...Object.values(CASES), ORDINARY]) for (const c of cs) add(decoded(c.path));
  for (const re of PATTERNS) {
    for (let k = 0; k < 40; k++) {
      const s = sample(re.source);
      if (re.test(s)) add(s);
    }
  }
  return [...out];
})();

const PATH_RULES = new Set(SENSITIVE_RULES.filter((r) => r.paths).map((r) => r.id));

/** The changes at `paths` whose rule differs from the reference's, and how many a pattern flagged. */
function compare(paths: string[]): { bad: string[]; byPattern: number } {
  const bad: string[] = [];
  let byPattern = 0;
  for (const raw of paths) {
    const c = changeAt(raw);
    const got = sensitiveRule(c, ctx)?.id;
    const want = reference(c);
    if (got !== want) bad.push(`${JSON.stringify(decoded(raw))} ${c.change} ${c.type} ${c.up?.perm.toString(8)}: ${got} against ${want}`);
    if (want !== undefined && PATH_RULES.has(want)) byPattern++;
  }
  return { bad, byPattern };
}

test('every pattern\'s samples are matched by it (the sampler works); none has a flag or group the reference\'s one regexp a rule would change', () => {
  assert.equal(PATTERNS.filter((re) => re.flags || /\\[1-9k]|\(\?</.test(re.source)).map(String), []);
  for (const re of PATTERNS) {
    let hits = 0;
    for (let k = 0; k < 40; k++) if (re.test(sample(re.source))) hits++;
    assert.ok(hits >= 20, `${re.source}: ${hits} of 40 samples match`);
  }
});

test('the filtered rules decide as the whole table on the examples, samples and near misses', () => {
  const { bad } = compare(CORPUS.map(fromUser));
  assert.ok(CORPUS.length > 20_000, `${CORPUS.length} corpus paths`);
  assert.equal(bad.slice(0, 5), [], `${bad.length} of ${CORPUS.length} differ`);
});

test('narrowed to the first one, two and three components of a path, the rules still decide as the whole table', () => {
  // A stem's rules are narrowed once 64 paths came under it (256 for three components:
  // sensitive.ts candidatesFor): the stems the texts share are each given more than that
  // first, shallow ones first, with and without a dot dir, so the comparison asks the narrowed
  // lists of every depth. Exactly as many would not do: a stem's first paths count for the
  // stem above it until that one is narrowed.
  const texts: string[] = [];
  for (const cs of [...Object.values(CASES), ORDINARY]) for (const c of cs) texts.push(...variants(decoded(c.path)));
  // And the patterns' samples with a home or multiarch dir, spelled as on a host: many then
  // fall under one stem deeper than the text their pattern starts with (pam's `/usr/lib/` for
  // `/usr/lib/x86_64-linux-gnu/security/`).
  const HOST_DIR = /^\/home\/[^/]+\/|^\/(usr\/(local\/)?)?lib\/[^/]*-linux-gnu[^/]*\//;
  for (const re of PATTERNS) {
    for (let k = 0; k < 20; k++) {
      const raw = sample(re.source);
      const s = raw.replace(HOST_DIR, (m) => (m.startsWith('/home/') ? '/home/u/' : `${m.slice(0, m.indexOf('lib/') + 4)}x86_64-linux-gnu/`));
      if (s !== raw && re.test(s)) texts.push(s);
    }
  }
  // The stems two texts or more share, the most shared first: a rare one (a random sample's)
  // could fill the stems sbx keeps (STEMS_MAX) before the shared ones.
  const counts: Array<Map<string, number>> = [new Map(), new Map(), new Map()];
  for (const t of texts) {
    for (let i = 0, depth = 0; depth < 3; depth++) {
      i = t.indexOf('/', i + 1);
      if (i < 0) break;
      const stem = t.slice(0, i + 1);
      counts[depth]!.set(stem, (counts[depth]!.get(stem) ?? 0) + 1);
    }
  }
  const stems = counts.map((m) => [...m].filter(([, n]) => n > 1).sort((a, b) => b[1] - a[1]).map(([stem]) => stem));
  stems.forEach((level, depth) => {
    for (const stem of level) for (let k = 0; k < (depth === 2 ? 260 : 70); k++) for (const name of [`w${k}`, `.w${k}`]) sensitiveRule({ path: fromUser(stem + name), change: 'added', type: 'file' }, ctx);
  });
  const { bad } = compare(texts.map(fromUser));
  assert.equal(bad.slice(0, 5), [], `${bad.length} of ${texts.length} differ`);
});

test('the filtered rules decide as the whole table on 100k random paths', () => {
  const paths: string[] = [];
  for (let k = 0; k < 100_000; k++) paths.push(randomPath());
  // Random paths are byte strings already (latin1 characters for any byte).
  const { bad, byPattern } = compare(paths);
  assert.equal(bad.slice(0, 5), [], `${bad.length} of ${paths.length} differ`);
  // They reach the rules: many are flagged by a pattern's rule, not all turned away (~1,000 of
  // them with the table of 2026-12-06; each word a new pattern brings to WORDS thins the
  // draws that spell a whole pattern, so the bound leaves room for more).
  assert.ok(byPattern > 500, `${byPattern} random paths flagged by a pattern's rule`);
});

test('a filter without any one of its texts fails the comparison (the corpus has a path only that text lets through)', () => {
  // Every pattern as one regexp (the first test shows none has a flag or back reference): the
  // same paths as trying the 542 one by one, ~10x sooner.
  const any = oneRegExp(PATTERNS);
  const matched = CORPUS.filter((p) => any.test(p));
  const parts = filterParts(PATTERNS);
  assert.ok(parts.prefixes.length + parts.infixes.length > 10 && !parts.whole.length, 'the table is read as texts');
  // A pattern anchored at a home (`^/(root|home/[^/]+)/...`) reads as the text "/", which lets
  // every path through (the rules then ran on all 200k paths of a review: 140 -> 830 ms).
  for (const x of [...parts.prefixes, ...parts.infixes]) assert.ok(x.length >= 4, `filter text ${JSON.stringify(x)} turns away almost nothing`);
  const drops: FilterParts[] = [
    ...parts.prefixes.map((x) => ({ ...parts, prefixes: parts.prefixes.filter((y) => y !== x) })),
    ...parts.infixes.map((x) => ({ ...parts, infixes: parts.infixes.filter((y) => y !== x) })),
  ];
  for (const d of drops) {
    const without = filterRegExp(d);
    const missed = matched.find((p) => !without.test(p));
    assert.ok(missed !== undefined, `no corpus path shows ${without.source} missing a text`);
  }
});

test('each pattern\'s own texts let through every corpus path it matches, and each text is needed by one', () => {
  const gates = sensitiveGates();
  assert.is(gates.length, PATTERNS.length);
  // A pattern without texts is tried on every path the filter lets through: none in the table.
  assert.equal(PATTERNS.filter((_re, i) => gates[i] === null).map((re) => re.source), []);
  PATTERNS.forEach((re, i) => {
    const gate = gates[i]!;
    const matched = CORPUS.filter((p) => re.test(p));
    assert.ok(matched.length > 0, `${re.source}: no corpus path matches it`);
    const missed = matched.find((p) => !passesGate(gate, p));
    assert.is(missed, undefined, `${re.source}: its texts ${JSON.stringify(gate)} turn away ${JSON.stringify(missed)}`);
    // Without any one of its texts, the gate would turn away a path the pattern matches.
    const list = 'starts' in gate! ? gate.starts : gate!.holds;
    for (const x of list) {
      const without: PatternGate = 'starts' in gate! ? { starts: list.filter((y) => y !== x) } : { holds: list.filter((y) => y !== x) };
      assert.ok(matched.some((p) => !passesGate(without, p)), `${re.source}: no corpus path needs its text ${JSON.stringify(x)}`);
    }
    // And it turns away what it should: a path holding none of its texts.
    assert.not.ok(passesGate(gate, '/zz/zz'), `${re.source}: its texts let /zz/zz through`);
  });
});

test('the filter\'s texts (a review\'s first paths) answer as its regexp on the corpus and 100k random paths', () => {
  const f = sensitiveFilter();
  assert.ok(f.texts, 'the filter is all texts');
  const re = new RegExp(f.source);
  const paths = [...CORPUS];
  for (let k = 0; k < 100_000; k++) paths.push(randomPath());
  const differ = paths.filter((p) => passesTexts(f.texts!, p) !== re.test(p));
  assert.equal(differ.slice(0, 5), [], `${differ.length} of ${paths.length} differ`);
  const through = paths.filter((p) => re.test(p)).length;
  assert.ok(through > 1000 && through < paths.length - 1000, `${through} of ${paths.length} let through: both answers are asked`);
});

test('what a pattern needs, read from its source', () => {
  assert.equal(neededText(/^\/etc\/(a|bc)\.d(\/|$)/), { prefixes: ['/etc/a.d', '/etc/bc.d'] });
  assert.equal(neededText(/^\/(usr\/)?lib\/x/), { prefixes: ['/lib/x', '/usr/lib/x'] });
  assert.equal(neededText(/(^|\/)\.ssh(\/|$)/), { infixes: ['.ssh'] });
  assert.equal(neededText(/\/(site|dist)-packages\/[^/]+\.pth$/), { infixes: ['/site-packages/', '/dist-packages/'] });
  assert.equal(neededText(/^[a-z]+\/x/), { infixes: ['/x'] });
  assert.equal(neededText(/a|b\/c/), { infixes: ['a', 'b/c'] });
  // Nothing every match holds, a flag or an unread construct: no answer (the filter keeps the pattern whole).
  for (const re of [/x?/, /[ab]+/, /\/x/i, /(?=a)b/, /\n/, /a{0,2}/]) assert.is(neededText(re), null, re.source);
  const f = literalFilter([/x?y*/, /^\/etc\/a/]);
  assert.ok(f.test('anything'), 'a pattern kept whole still matches');
});

test.run();
