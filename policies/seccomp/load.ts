// Finding, reading and flattening policies. A reference is a shipped policy name ("default")
// or a path (anything containing '/' or ending in .json). `extends` is resolved the same way,
// with paths relative to the extending file.
import { existsSync, readdirSync } from 'node:fs';
import { POLICY_LIMITS, readJsonFile } from '../read-json.js';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PolicyError, type PolicyProblem } from './errors.js';
import { parsePolicy, type Action, type PolicyFile, type Rule } from './policy.js';
import { didYouMean } from './suggest.js';
import { defaultCapabilities } from '../capabilities/index.js';

/** A policy with `extends` applied: the rules in the order they are matched. */
export interface ResolvedPolicy {
  name: string;
  description: string;
  defaultAction: Action;
  rules: Rule[];
  /** Files read, the policy itself first, then what it extends. */
  chain: string[];
  /** The command's capabilities the rules were selected for (ifCaps / unlessCaps). */
  capabilities?: string[];
}

const MAX_EXTENDS_DEPTH = 8;

/**
 * The shipped JSON stays in <repo>/policies/seccomp/ while this module runs from the bundle
 * (<repo>/dist/bin/), from the tsc output (<repo>/dist/policies/seccomp/), or from source
 * (beside the JSON).
 */
export function shippedPolicyDir(): string {
  for (const rel of ['../../policies/seccomp/', '../../../policies/seccomp/']) {
    const d = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${d}/default.json`)) return d;
  }
  return fileURLToPath(new URL('./', import.meta.url));
}

export function shippedPolicyNames(): string[] {
  const dir = shippedPolicyDir();
  return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

const isPathRef = (ref: string): boolean => ref.includes('/') || ref.endsWith('.json');

/** The file a reference names, or a PolicyError for an unknown shipped name. */
export function policyFile(ref: string, relativeTo?: string): string {
  // The current directory is read only for a relative file: a shipped name needs none (and
  // the directory sbx was started in may have been removed since).
  if (isPathRef(ref)) return isAbsolute(ref) ? ref : relativeTo === undefined ? resolve(ref) : resolve(relativeTo, ref);
  const names = shippedPolicyNames();
  if (!names.includes(ref)) {
    throw new PolicyError([{ file: ref, path: '', message: `no shipped seccomp policy called '${ref}'`, hint: didYouMean(ref, names) ?? `shipped: ${names.join(', ')}; a file path needs a '/' or .json` }]);
  }
  return resolve(shippedPolicyDir(), `${ref}.json`);
}

export function readPolicyFile(file: string): PolicyFile {
  const r = readJsonFile(file);
  if (!r.ok) throw new PolicyError([{ file, path: '', message: r.message }]);
  const { policy, problems } = parsePolicy(r.value, file);
  if (!policy) throw new PolicyError(problems);
  return policy;
}

/**
 * Reads a policy and everything it extends. The extending policy takes over every syscall it
 * names: the base's rules for those syscalls are dropped, the others are kept after the
 * extending policy's own rules. Within one file the first matching rule wins.
 */
export function loadPolicy(ref: string, capabilities: readonly string[] = defaultCapabilities()): ResolvedPolicy {
  const file = policyFile(ref);
  return forCapabilities(flatten(file, isPathRef(ref) ? file : ref, []), capabilities);
}

/**
 * Keeps the rules that exist for a command holding `capabilities`. Applied after `extends`, so
 * which syscalls a policy takes over from its base never depends on the capabilities.
 */
function forCapabilities(policy: ResolvedPolicy, capabilities: readonly string[]): ResolvedPolicy {
  const has = new Set(capabilities);
  const rules = policy.rules.filter((r) => (r.ifCaps ?? []).every((c) => has.has(c)) && !(r.unlessCaps ?? []).some((c) => has.has(c)));
  return { ...policy, rules, capabilities: [...capabilities] };
}

function flatten(file: string, name: string, seen: string[]): ResolvedPolicy {
  if (seen.includes(file)) {
    throw new PolicyError([{ file, path: '$.extends', message: `extends itself: ${[...seen, file].join(' -> ')}` }]);
  }
  if (seen.length >= MAX_EXTENDS_DEPTH) throw new PolicyError([{ file, path: '$.extends', message: `more than ${MAX_EXTENDS_DEPTH} levels of extends` }]);
  const own = readPolicyFile(file);
  if (!own.extends) {
    return { name, description: own.description, defaultAction: own.defaultAction as Action, rules: own.rules, chain: [file] };
  }
  let baseFile: string;
  try {
    baseFile = policyFile(own.extends, dirname(file));
  } catch (e) {
    if (e instanceof PolicyError) throw new PolicyError(e.problems.map((p): PolicyProblem => ({ ...p, file, path: '$.extends' })));
    throw e;
  }
  const base = flatten(baseFile, own.extends, [...seen, file]);
  if (own.rules.length + base.rules.length > POLICY_LIMITS.maxRules) {
    throw new PolicyError([{ file, path: '$.rules', message: `more than ${POLICY_LIMITS.maxRules} rules with what it extends` }]);
  }
  const taken = new Set(own.rules.flatMap((r) => r.syscalls));
  const kept = base.rules
    .map((r) => ({ ...r, syscalls: r.syscalls.filter((s) => !taken.has(s)) }))
    .filter((r) => r.syscalls.length > 0);
  return {
    name,
    description: own.description,
    defaultAction: own.defaultAction ?? base.defaultAction,
    rules: [...own.rules, ...kept],
    chain: [file, ...base.chain],
  };
}
