// Help and usage errors as a person reads them. clipanion writes a value as `#0` and answers a
// mistake with the whole synopsis; here a value has a name (`--memory SIZE`), a synopsis too
// long for 80 columns says `[OPTIONS]` (the options are listed below it), and a usage error
// is one line plus where to read more, with a guess when a word looks like a typo.
import { editDistance, nearest } from '../policies/seccomp/suggest.js';
import { wordLines } from './wrap.js';
import { displayText } from '../sandbox-core/base/bpath.js';

/** What each option's value is, by long name; anything else is VALUE. */
const VALUE_NAMES: Record<string, string> = {
  name: 'NAME', in: 'ID', hide: 'PATH', bind: 'HOST[:INSIDE]', 'ro-bind': 'HOST[:INSIDE]',
  policy: 'POLICY', 'cap-add': 'CAP', 'cap-drop': 'CAP', only: 'GLOB', exclude: 'GLOB',
  report: 'FILE', memory: 'SIZE', pids: 'N', cpus: 'N', disk: 'SIZE', 'io-weight': 'WEIGHT',
  timeout: 'DURATION', device: 'HOST[:INSIDE][:rwm]', 'allow-net': 'HOST[:PORT]', arch: 'ARCH',
  format: 'FORMAT', output: 'FILE', tag: 'TAG', base: 'IMAGE', 'older-than': 'DURATION',
};

export function valueName(long: string): string {
  return VALUE_NAMES[long] ?? 'VALUE';
}

const WIDTH = 80;

function nameValues(s: string): string {
  return s.replace(/(--([a-z][a-z0-9-]*))((?: #\d+)+)/g, (_, flag: string, long: string) => `${flag} ${valueName(long)}`);
}

/** clipanion's help or usage text with named values and synopses that fit 80 columns. */
export function tidyUsage(text: string): string {
  const lines = text.split('\n').map((l) => {
    let s = l.replace(/ +$/, '');
    if (s.length > WIDTH && / \[-/.test(s)) s = s.replace(/( \[-[^\]]*\])+/, ' [OPTIONS]').replace(/ \[-[^\]]*\]/g, '');
    // diff's rest is PATHs, not more ids (`sbx diff A B` read as two sandboxes to compare).
    return s.replace(/ <arg> \.\.\./g, ' [--] COMMAND [ARG...]').replace(/^(\$? ?sbx diff .*<ID>) \.\.\.$/, '$1 [PATH...]');
  });
  // The option list: `  --memory #0     Memory limit…`, re-aligned after naming the values.
  const opt = /^  (-\S*(?: #\d+)*)( {2,})(\S.*)$/;
  const rows = lines.map((l) => opt.exec(l));
  const width = Math.max(0, ...rows.map((m) => (m ? nameValues(m[1]!).length : 0)));
  return lines.map((l, i) => {
    const m = rows[i];
    if (!m) return nameValues(l);
    const indent = ' '.repeat(width + 4);
    return wordLines(m[3]!, WIDTH - indent.length).map((w, k) => (k ? indent + w : `  ${nameValues(m[1]!).padEnd(width)}  ${w}`)).join('\n');
  }).join('\n');
}

export interface UsageProblem {
  /** The one line saying what is wrong. */
  message: string;
  /** The command whose help to point at (`run`, `policy show`), or '' for sbx itself. */
  command: string;
}

/** The command words of argv that name a registered command (longest match), or ''. */
export function commandOf(argv: string[], paths: string[][]): string {
  let best: string[] = [];
  for (const p of paths) if (p.length > best.length && p.every((w, i) => argv[i] === w)) best = p;
  return best.join(' ');
}

function optionNames(usage: string): string[] {
  return [...usage.matchAll(/(?:^|[\s[,])(--?[a-zA-Z][\w-]*)/g)].map((m) => m[1]!);
}

/**
 * A clipanion parse failure (UnknownSyntaxError and friends) as one line. `paths` are the
 * registered command paths, `usages` each path's synopsis (to suggest option names).
 */
export function describeSyntaxError(e: Error & { candidates?: Array<{ usage: string; reason: string | null }> }, argv: string[], paths: string[][], usages: Map<string, string>, synopses = new Map<string, string>()): UsageProblem {
  const command = commandOf(argv, paths);
  const first = (e.message ?? '').split('\n')[0]!.trim();
  const unsupported = /^Unsupported option name \("(.*)"\)/.exec(first);
  if (unsupported) {
    const opt = unsupported[1]!;
    const near = nearest(opt, optionNames(usages.get(command) ?? ''), 1);
    return { command, message: `unknown option ${opt}${near.length ? `: did you mean ${near[0]}?` : ''}` };
  }
  const missingValue = /^Not enough arguments to option (\S+?)\.?$/.exec(first);
  if (missingValue) return { command, message: `${missingValue[1]} needs a value: ${missingValue[1]} ${valueName(missingValue[1]!.replace(/^-+/, ''))}` };
  if (/^Command not found/.test(first) || !command) {
    const word = argv.find((a) => !a.startsWith('-')) ?? argv[0] ?? '';
    const tops = [...new Set(paths.map((p) => p[0]!).filter(Boolean))];
    // A close word among the commands: `rnu` is `run`, `dif` is `diff`.
    const near = tops.filter((t) => editDistance(word, t) <= (t.length <= 2 ? 1 : 2)).sort((a, b) => editDistance(word, a) - editDistance(word, b));
    if (!word) return { command: '', message: 'no command given' };
    // A group's name (`sbx policy`): its commands, not itself as the guess.
    const subs = paths.filter((p) => p.length > 1 && p[0] === word).map((p) => p.slice(1).join(' '));
    if (subs.length) {
      const i = argv.indexOf(word);
      const sub = argv.slice(i + 1).find((a) => !a.startsWith('-'));
      const close = sub === undefined ? [] : subs.filter((t) => editDistance(sub, t) <= (t.length <= 2 ? 1 : 2)).sort((a, b) => editDistance(sub, a) - editDistance(sub, b));
      return {
        command: '',
        message: sub === undefined ? `'sbx ${word}' needs a command: ${subs.sort().join(', ')}`
          : `unknown command '${word} ${displayText(sub)}': ${close.length ? `did you mean '${word} ${close[0]}'?` : `the ${word} commands are ${subs.sort().join(', ')}`}`,
      };
    }
    return { command: '', message: `unknown command '${displayText(word)}'${near.length ? `: did you mean '${near[0]}'?` : ''}` };
  }
  if (/^Extraneous positional argument/.test(first)) {
    const m = /\("(.*)"\)/.exec(first);
    return { command, message: `unexpected argument${m ? ` '${displayText(m[1]!)}'` : ''}` };
  }
  if (/^Not enough positional arguments/.test(first)) {
    // The first positional of the synopsis (`sbx diff [--stat] <ID> ...`): clipanion does not
    // say which one is missing, and `missing argument` left the user to read the help.
    const name = /<([^>]+)>/.exec(synopses.get(command) ?? '')?.[1];
    return { command, message: `missing ${name === undefined ? 'argument' : POSITIONALS[name] ?? name}` };
  }
  return { command, message: first.replace(/\.$/, '').replace(/^./, (c) => c.toLowerCase()) };
}

/** What a command's positional (as its synopsis names it) is, said when it is missing. */
const POSITIONALS: Record<string, string> = {
  ID: "sandbox id or name (see 'sbx ls')",
  file: 'policy file (a JSON file)',
  policy: "policy name or file (see 'sbx policy ls')",
};

/** The line that follows a usage error. */
export function seeHelp(command: string): string {
  return `see 'sbx ${command ? `${command} ` : ''}--help'`;
}

/**
 * `--pids -1`: clipanion reads `-1` as an option and reports a missing value. A negative number
 * after an option that takes a value is that value (`--pids=-1`), so the command can say what
 * is wrong with it. Only options before the command's own argv (`--` or the first word) count.
 */
export function bindNegativeValues(argv: string[], pathWords: number, valueOptions: Set<string>): string[] | null {
  const out = argv.slice(0, pathWords);
  let changed = false;
  let i = pathWords;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--' || !a.startsWith('-')) break;
    out.push(a);
    if (!valueOptions.has(a) || i + 1 >= argv.length) continue;
    i++;
    if (/^-\d/.test(argv[i]!)) { out[out.length - 1] = `${a}=${argv[i]}`; changed = true; } else out.push(argv[i]!);
  }
  out.push(...argv.slice(i));
  return changed ? out : null;
}
