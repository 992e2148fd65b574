// The user's defaults: $XDG_CONFIG_HOME/sbx/config.json (else ~/.config/sbx/config.json). Every
// key is optional and checked on load; a mistake is one line naming the file, the key and what
// is accepted, before any command runs. Command-line flags always win over the file.
import { join } from 'node:path';
import { SbxError } from './base/errors.js';
import { configRoot } from './base/paths.js';
import { isObject, own, readJsonFile, unknownKeys } from '../policies/read-json.js';
import { loadFoldRules, parseFoldRules, type FoldRule } from '../policies/fold.js';
import { parseDuration, parseSize } from './units.js';

export interface SbxConfig {
  /** Seccomp policy for `sbx run` (a shipped name or a file). */
  policy?: string;
  /** Paths `sbx run` hides, on top of --hide. */
  hide?: string[];
  /** The fold list: the shipped rules (unless `shipped: false`) and the user's own. */
  fold?: { shipped: boolean; rules: FoldRule[] };
  /** The pager for long output (a shell command), or false for none. */
  pager?: string | false;
  color?: 'auto' | 'always' | 'never';
  /** Defaults for `sbx run`'s limit flags, in the flags' own syntax. */
  limits?: { memory?: string; pids?: string; cpus?: string; timeout?: string; disk?: string };
}

export const CONFIG_KEYS = ['policy', 'hide', 'fold', 'pager', 'color', 'limits'];

export function configPath(env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = configRoot(env);
  return dir ? join(dir, 'config.json') : null;
}

export function parseConfig(v: unknown, file: string): SbxConfig {
  const bad = (where: string, m: string): never => { throw new SbxError(`${file}: ${where}: ${m}`, 125, 'docs/config.md lists the keys'); };
  if (!isObject(v)) bad('top level', 'expected an object');
  const o = v as Record<string, unknown>;
  const extra = unknownKeys(o, ['comment', ...CONFIG_KEYS]);
  if (extra.length) bad(extra[0]!, `unknown key (known: ${CONFIG_KEYS.join(', ')})`);
  const cfg: SbxConfig = {};
  const policy = own(o, 'policy');
  if (policy !== undefined) { if (typeof policy !== 'string' || !policy) bad('policy', 'expected a policy name or file'); cfg.policy = policy as string; }
  const hide = own(o, 'hide');
  if (hide !== undefined) {
    // /proc, /sys and /dev are the sandbox's own, which its command needs (as for --hide).
    const refused = (h: string): boolean => ['/', '/proc', '/sys', '/dev'].includes(h.replace(/(.)\/+$/, '$1'));
    if (!Array.isArray(hide) || !hide.every((h) => typeof h === 'string' && h.startsWith('/') && !refused(h) && !h.includes('\0'))) bad('hide', 'expected a list of absolute paths (not /, /proc, /sys or /dev)');
    cfg.hide = hide as string[];
  }
  const fold = own(o, 'fold');
  if (fold !== undefined) {
    if (fold === false) cfg.fold = { shipped: false, rules: [] };
    else if (Array.isArray(fold)) cfg.fold = { shipped: true, rules: parseFoldRules({ fold }, `${file}: fold`) };
    else if (isObject(fold)) {
      const f = fold as Record<string, unknown>;
      const unk = unknownKeys(f, ['shipped', 'rules']);
      if (unk.length) bad(`fold.${unk[0]}`, 'unknown key (known: shipped, rules)');
      const shipped = own(f, 'shipped') ?? true;
      if (typeof shipped !== 'boolean') bad('fold.shipped', 'expected true or false');
      cfg.fold = { shipped: shipped as boolean, rules: own(f, 'rules') === undefined ? [] : parseFoldRules({ fold: own(f, 'rules') }, `${file}: fold.rules`) };
    } else bad('fold', 'expected false, a list of {"name", "paths"} rules, or {"shipped", "rules"}');
  }
  const pager = own(o, 'pager');
  if (pager !== undefined) { if (pager !== false && (typeof pager !== 'string' || !pager.trim())) bad('pager', 'expected a command such as "less -R", or false'); cfg.pager = pager as string | false; }
  const color = own(o, 'color');
  if (color !== undefined) { if (color !== 'auto' && color !== 'always' && color !== 'never') bad('color', 'expected "auto", "always" or "never"'); cfg.color = color as SbxConfig['color']; }
  const limits = own(o, 'limits');
  if (limits !== undefined) {
    if (!isObject(limits)) bad('limits', 'expected an object such as {"memory": "2G"}');
    const l = limits as Record<string, unknown>;
    const unk = unknownKeys(l, ['memory', 'pids', 'cpus', 'timeout', 'disk']);
    if (unk.length) bad(`limits.${unk[0]}`, 'unknown key (known: memory, pids, cpus, timeout, disk)');
    const out: NonNullable<SbxConfig['limits']> = {};
    for (const k of ['memory', 'pids', 'cpus', 'timeout', 'disk'] as const) {
      const x = own(l, k);
      if (x === undefined) continue;
      if (typeof x !== 'string' && typeof x !== 'number') bad(`limits.${k}`, 'expected a value as the flag takes it');
      const s = String(x);
      try {
        if (k === 'memory' || k === 'disk') {
          // `0M` would be refused in turn: a zero is told to be more than 0.
          if (/^\s*\d+(\.\d+)?\s*$/.test(s)) throw new Error(Number(s) * 2 ** 20 >= 1 ? `'${s}' has no unit (e.g. ${s.trim()}M)` : `'${s}' is not more than 0 (e.g. 512M)`);
          parseSize(s);
        } else if (k === 'timeout') parseDuration(s);
        else if (k === 'pids') { if (!/^\d+$/.test(s) || Number(s) < 2) throw new Error(`'${s}' is not a whole number of 2 or more`); }
        else if (!(Number(s) >= 0.01)) throw new Error(`'${s}' is not a number of CPUs such as 0.5`);
      } catch (e) { bad(`limits.${k}`, (e as Error).message); }
      out[k] = s;
    }
    cfg.limits = out;
  }
  return cfg;
}

let cached: SbxConfig | null = null;

/** The config file's settings ({} when there is none); throws SbxError on an invalid file. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): SbxConfig {
  if (cached) return cached;
  const file = configPath(env);
  if (!file) return (cached = {});
  const r = readJsonFile(file);
  if (!r.ok) {
    if (r.message === 'no such file') return (cached = {});
    throw new SbxError(`${file}: ${r.message}`, 125, 'docs/config.md lists the keys');
  }
  cached = parseConfig(r.value, file);
  return cached;
}

/** The fold list the review uses: the shipped rules unless turned off, then the user's. */
export function foldRules(cfg: SbxConfig = safeConfig()): FoldRule[] {
  const f = cfg.fold;
  if (!f) return loadFoldRules();
  return [...(f.shipped ? loadFoldRules() : []), ...f.rules];
}

/** The config for presentation choices (colour, folds): an invalid file counts as none here, it is reported once by the command's start. */
export function safeConfig(): SbxConfig {
  try { return loadConfig(); } catch { return {}; }
}
