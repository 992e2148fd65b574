// The secrets rules (policies/secrets.json): which environment variables and which files under
// $HOME --hide-secrets keeps from a command that has the network. Data, so that `sbx policy
// secrets`, the docs and the run all read one list.
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { UserError } from './errors.js';
import { POLICY_LIMITS, isObject, own, shippedLoader, unknownKeys, type BakedFile } from './read-json.js';

export interface NameRule { name: string; why: string }
export interface ValueRule { match: ValueMatcher; why: string }
export interface FileRule { path: string; why: string }
export type ValueMatcher = 'url-userinfo' | 'known-token' | 'auth-header';

export interface SecretsRules {
  description: string;
  /** Variables dropped by name: glob over the whole name, case-insensitive, `*` any run. */
  env: NameRule[];
  /** Exceptions to `env` (not to `envValues`): names that look secret but are not (GIT_AUTHOR_NAME). */
  envKeep: NameRule[];
  /** Variables dropped by what their value looks like. */
  envValues: ValueRule[];
  /** Paths relative to $HOME covered by an empty, unreadable stand-in. */
  files: FileRule[];
}

const VALUE_MATCHERS: Record<ValueMatcher, RegExp> = {
  // scheme://user:password@host, or scheme://<token>@host with a token-length user part.
  'url-userinfo': /^[a-z][a-z0-9+.-]*:\/\/(?:[^\s/@:]*:[^\s/@]+|[^\s/@:]{20,})@/i,
  // Whole values in formats only secrets have, long enough not to be a word (STRIPE_SK=sk_live_…
  // passed every name rule).
  'known-token': /^(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}|glpat-[A-Za-z0-9_-]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|(?:AKIA|ASIA)[0-9A-Z]{16}|npm_[A-Za-z0-9]{36}|pypi-[A-Za-z0-9_-]{50,}|sk-ant-[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{35}|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.|-----BEGIN [A-Z ]*PRIVATE KEY-----)/,
  // A header's credential anywhere in the value: git's `-c http.extraHeader=…` passes into
  // GIT_CONFIG_PARAMETERS, and a curl or proxy setting may quote one.
  'auth-header': /(?:authorization\s*:\s*(?:basic|bearer|token|digest)\s+|\bbearer\s+)[A-Za-z0-9._~+/=-]{12,}/i,
};

export function shippedSecretsPath(): string {
  const fromDist = fileURLToPath(new URL('../../policies/secrets.json', import.meta.url));
  return existsSync(fromDist) ? fromDist : fileURLToPath(new URL('./secrets.json', import.meta.url));
}

function fail(file: string, where: string, message: string): never {
  throw new UserError(`${file}: ${where}: ${message}`);
}

function list<T>(file: string, o: Record<string, unknown>, key: string, item: (x: Record<string, unknown>, where: string) => T): T[] {
  const v = own(o, key);
  if (!Array.isArray(v)) fail(file, `$.${key}`, 'must be an array');
  if (v.length > POLICY_LIMITS.maxRules) fail(file, `$.${key}`, `more than ${POLICY_LIMITS.maxRules} entries`);
  return v.map((x, i) => {
    const where = `$.${key}[${i}]`;
    if (!isObject(x)) fail(file, where, 'must be an object');
    return item(x, where);
  });
}

function text(file: string, x: Record<string, unknown>, key: string, where: string): string {
  const v = own(x, key);
  if (typeof v !== 'string' || v === '') fail(file, `${where}.${key}`, 'must be a non-empty string');
  return v;
}

function fields(file: string, x: Record<string, unknown>, allowed: string[], where: string): void {
  const extra = unknownKeys(x, allowed);
  if (extra.length) fail(file, `${where}.${extra[0]}`, `unknown field (allowed: ${allowed.join(', ')})`);
}

export function parseSecretsRules(json: unknown, file: string): SecretsRules {
  if (!isObject(json)) fail(file, '$', 'must be an object');
  fields(file, json, ['version', 'description', 'env', 'envKeep', 'envValues', 'files', '$comment'], '$');
  if (own(json, 'version') !== 1) fail(file, '$.version', 'must be 1');
  const name = (x: Record<string, unknown>, where: string): NameRule => {
    fields(file, x, ['name', 'why'], where);
    const n = text(file, x, 'name', where);
    if (!/^[A-Za-z0-9_*]+$/.test(n)) fail(file, `${where}.name`, 'letters, digits, _ and * only');
    return { name: n, why: text(file, x, 'why', where) };
  };
  return {
    description: typeof own(json, 'description') === 'string' ? own(json, 'description') as string : '',
    env: list(file, json, 'env', name),
    envKeep: list(file, json, 'envKeep', name),
    envValues: list(file, json, 'envValues', (x, where) => {
      fields(file, x, ['match', 'why'], where);
      const m = text(file, x, 'match', where);
      if (!Object.hasOwn(VALUE_MATCHERS, m)) fail(file, `${where}.match`, `unknown matcher (known: ${Object.keys(VALUE_MATCHERS).join(', ')})`);
      return { match: m as ValueMatcher, why: text(file, x, 'why', where) };
    }),
    files: list(file, json, 'files', (x, where) => {
      fields(file, x, ['path', 'why'], where);
      const p = text(file, x, 'path', where);
      if (p.startsWith('/') || p.split('/').some((c) => c === '' || c === '.' || c === '..')) fail(file, `${where}.path`, 'a plain path relative to $HOME');
      return { path: p, why: text(file, x, 'why', where) };
    }),
  };
}

// Baked in by scripts/bundle.mjs: the shipped file's text and its rules. The tsc output (tests) has none.
declare const __SBX_SHIPPED_SECRETS__: string | undefined;
const bakedSecrets = (): BakedFile<SecretsRules> | null => (typeof __SBX_SHIPPED_SECRETS__ === 'string' ? JSON.parse(__SBX_SHIPPED_SECRETS__) : null);
export const loadSecretsRules: () => SecretsRules = shippedLoader(shippedSecretsPath, parseSecretsRules, bakedSecrets);

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
}

/** Decides per variable; built once per rules object. */
export class SecretMatcher {
  private readonly drop: Array<[RegExp, NameRule]>;
  private readonly keep: RegExp[];
  private readonly values: Array<[RegExp, ValueRule]>;

  constructor(readonly rules: SecretsRules) {
    this.drop = rules.env.map((r) => [globToRegExp(r.name), r]);
    this.keep = rules.envKeep.map((r) => globToRegExp(r.name));
    this.values = rules.envValues.map((r) => [VALUE_MATCHERS[r.match], r]);
  }

  /** The rule that makes this variable a secret, or null. */
  envRule(name: string, value: string | undefined): NameRule | ValueRule | null {
    if (!this.keep.some((re) => re.test(name))) for (const [re, r] of this.drop) if (re.test(name)) return r;
    if (value !== undefined) for (const [re, r] of this.values) if (re.test(value)) return r;
    return null;
  }
}
