// The policy file format (version 1) and its validation. docs/policies.md is the user-facing
// description; this module is the authority. Validation collects every problem with its JSON
// path instead of stopping at the first, so `sbx policy check` can list them all.
import { POLICY_LIMITS } from '../read-json.js';
import { ARG_CONSTANTS, ERRNO } from './constants.js';
import { X86_64_SYSCALLS } from './tables/x86_64.js';
import { AARCH64_SYSCALLS } from './tables/aarch64.js';
import { didYouMean } from './suggest.js';
import type { PolicyProblem } from './errors.js';
import { CAPABILITIES } from '../capabilities/index.js';

const POLICY_VERSION = 1;

export type Action =
  | { kind: 'allow' }
  | { kind: 'errno'; errno: number }
  | { kind: 'kill-process' }
  | { kind: 'kill-thread' }
  | { kind: 'trap' }
  | { kind: 'log' }
  /** Not writable in a policy file: sbx puts it on connect(2) for --allow-net's direct path (withConnectNotify). */
  | { kind: 'notify' };

const SIMPLE_ACTIONS = ['allow', 'kill-process', 'kill-thread', 'trap', 'log'] as const;
const OPERATORS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked-eq'] as const;
export type Operator = (typeof OPERATORS)[number];

export interface ArgCondition {
  index: number;
  op: Operator;
  /** Unsigned, already reduced to `width` bits. */
  value: bigint;
  /** Only for masked-eq; unsigned, reduced to `width` bits. */
  mask?: bigint;
  /** 32: compare the low word only (arguments the kernel reads as int/unsigned int). */
  width: 32 | 64;
  /** The value as written, for display. */
  valueText: string;
  maskText?: string;
}

export interface Rule {
  syscalls: string[];
  action: Action;
  args: ArgCondition[];
  comment?: string;
  /** The rule exists only when the command holds every one of these capabilities (e.g. NET_RAW). */
  ifCaps?: string[];
  /** The rule exists only when the command holds none of these. */
  unlessCaps?: string[];
  /** Which file and JSON path the rule came from, for messages. */
  file: string;
  path: string;
}

export interface PolicyFile {
  file: string;
  version: number;
  description: string;
  extends?: string;
  defaultAction?: Action;
  rules: Rule[];
}

/** Every syscall name sbx knows on any supported architecture. */
const ALL_SYSCALL_NAMES: ReadonlySet<string> = new Set([...Object.keys(X86_64_SYSCALLS), ...Object.keys(AARCH64_SYSCALLS)]);

const TOP_KEYS = ['version', 'description', 'extends', 'defaultAction', 'rules', '$comment'];
const RULE_KEYS = ['syscalls', 'action', 'args', 'comment', 'ifCaps', 'unlessCaps'];
const ARG_KEYS = ['index', 'op', 'value', 'mask', 'width', 'comment'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

class Collector {
  problems: PolicyProblem[] = [];
  constructor(readonly file: string) {}
  add(path: string, message: string, hint?: string): void {
    this.problems.push({ file: this.file, path, message, hint });
  }
  unknownKeys(obj: Record<string, unknown>, allowed: string[], path: string): void {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) this.add(`${path}.${k}`, `unknown field '${k}'`, didYouMean(k, allowed) ?? `allowed: ${allowed.join(', ')}`);
    }
  }
}

/** Validates parsed JSON; returns the policy and the problems found (policy is unusable if any). */
export function parsePolicy(json: unknown, file: string): { policy?: PolicyFile; problems: PolicyProblem[] } {
  const c = new Collector(file);
  if (!isObject(json)) {
    c.add('$', 'a policy is a JSON object');
    return { problems: c.problems };
  }
  c.unknownKeys(json, TOP_KEYS, '$');
  if (json.version !== POLICY_VERSION) {
    c.add('$.version', json.version === undefined ? 'missing "version"' : `unsupported version ${JSON.stringify(json.version)}`, `this sbx reads version ${POLICY_VERSION}`);
  }
  if (typeof json.description !== 'string' || !json.description.trim()) c.add('$.description', 'missing or empty "description"');
  let ext: string | undefined;
  if (json.extends !== undefined) {
    if (typeof json.extends !== 'string' || !json.extends) c.add('$.extends', '"extends" names a policy: a shipped name or a path');
    else ext = json.extends;
  }
  let defaultAction: Action | undefined;
  if (json.defaultAction === undefined) {
    if (ext === undefined) c.add('$.defaultAction', 'missing "defaultAction" (required unless the policy extends another)');
  } else defaultAction = parseAction(json.defaultAction, '$.defaultAction', c);
  const rules: Rule[] = [];
  if (!Array.isArray(json.rules)) c.add('$.rules', 'missing "rules" array');
  else if (json.rules.length > POLICY_LIMITS.maxRules) c.add('$.rules', `${json.rules.length} rules: a policy has at most ${POLICY_LIMITS.maxRules}`);
  else json.rules.forEach((r, i) => {
    const rule = parseRule(r, `$.rules[${i}]`, c);
    if (rule) rules.push(rule);
  });
  if (c.problems.length) return { problems: c.problems };
  return {
    policy: { file, version: POLICY_VERSION, description: (json.description as string).trim(), extends: ext, defaultAction, rules },
    problems: [],
  };
}

function parseRule(r: unknown, path: string, c: Collector): Rule | undefined {
  if (!isObject(r)) {
    c.add(path, 'a rule is an object with "syscalls", "action" and optional "args" and "comment"');
    return undefined;
  }
  const before = c.problems.length;
  c.unknownKeys(r, RULE_KEYS, path);
  const syscalls: string[] = [];
  if (!Array.isArray(r.syscalls) || r.syscalls.length === 0) c.add(`${path}.syscalls`, '"syscalls" is a non-empty array of syscall names');
  else r.syscalls.forEach((s, i) => {
    const p = `${path}.syscalls[${i}]`;
    if (typeof s !== 'string') c.add(p, 'a syscall name is a string');
    else if (!ALL_SYSCALL_NAMES.has(s)) c.add(p, `unknown syscall '${s}'`, didYouMean(s, ALL_SYSCALL_NAMES));
    else if (syscalls.includes(s)) c.add(p, `'${s}' is listed twice in this rule`);
    else syscalls.push(s);
  });
  const action = r.action === undefined ? (c.add(`${path}.action`, 'missing "action"'), undefined) : parseAction(r.action, `${path}.action`, c);
  const args: ArgCondition[] = [];
  if (r.args !== undefined) {
    if (!Array.isArray(r.args)) c.add(`${path}.args`, '"args" is an array of conditions');
    else r.args.forEach((a, i) => {
      const cond = parseCondition(a, `${path}.args[${i}]`, c);
      if (cond) args.push(cond);
    });
  }
  if (r.comment !== undefined && typeof r.comment !== 'string') c.add(`${path}.comment`, '"comment" is a string');
  const ifCaps = parseCapList(r.ifCaps, `${path}.ifCaps`, c);
  const unlessCaps = parseCapList(r.unlessCaps, `${path}.unlessCaps`, c);
  if (c.problems.length > before || !action) return undefined;
  return { syscalls, action, args, comment: r.comment as string | undefined, ...(ifCaps && { ifCaps }), ...(unlessCaps && { unlessCaps }), file: c.file, path };
}

function parseCapList(v: unknown, path: string, c: Collector): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0) {
    c.add(path, 'a non-empty array of capability names such as "NET_RAW"');
    return undefined;
  }
  const out: string[] = [];
  v.forEach((n, i) => {
    if (typeof n !== 'string' || !CAPABILITIES.includes(n)) c.add(`${path}[${i}]`, `unknown capability ${JSON.stringify(n)}`, typeof n === 'string' ? didYouMean(n.replace(/^CAP_/, ''), CAPABILITIES) : undefined);
    else out.push(n);
  });
  return out;
}

function parseAction(a: unknown, path: string, c: { add(path: string, message: string, hint?: string): void }): Action | undefined {
  if (typeof a === 'string') {
    if ((SIMPLE_ACTIONS as readonly string[]).includes(a)) return { kind: a as (typeof SIMPLE_ACTIONS)[number] };
    if (a === 'errno') {
      c.add(path, 'an errno action names the errno', 'write {"errno": "EPERM"}');
      return undefined;
    }
    c.add(path, `unknown action '${a}'`, didYouMean(a, SIMPLE_ACTIONS) ?? `actions: ${SIMPLE_ACTIONS.join(', ')}, {"errno": NAME}`);
    return undefined;
  }
  if (isObject(a) && Object.keys(a).length === 1 && Object.hasOwn(a, 'errno')) {
    const e = a.errno;
    if (typeof e === 'string') {
      // Own keys only: "constructor" or "__proto__" must not find Object.prototype's members.
      if (Object.hasOwn(ERRNO, e)) return { kind: 'errno', errno: ERRNO[e]! };
      c.add(`${path}.errno`, `unknown errno '${e}'`, didYouMean(e, Object.keys(ERRNO)));
      return undefined;
    }
    if (typeof e === 'number' && Number.isInteger(e) && e >= 1 && e <= 4095) return { kind: 'errno', errno: e };
    c.add(`${path}.errno`, 'an errno is a name such as "EPERM" or a number from 1 to 4095', e === 0 ? 'errno 0 would report success without running the syscall' : undefined);
    return undefined;
  }
  c.add(path, 'an action is "allow", "kill-process", "kill-thread", "trap", "log" or {"errno": NAME}');
  return undefined;
}

function parseCondition(a: unknown, path: string, c: Collector): ArgCondition | undefined {
  if (!isObject(a)) {
    c.add(path, 'a condition is an object with "index", "op" and "value"');
    return undefined;
  }
  const before = c.problems.length;
  c.unknownKeys(a, ARG_KEYS, path);
  const index = a.index;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 5) c.add(`${path}.index`, '"index" is the argument number, 0 to 5');
  const op = a.op;
  if (typeof op !== 'string' || !(OPERATORS as readonly string[]).includes(op)) {
    c.add(`${path}.op`, typeof op === 'string' ? `unknown operator '${op}'` : 'missing "op"', didYouMean(String(op), OPERATORS) ?? `operators: ${OPERATORS.join(', ')}`);
  }
  let width: 32 | 64 = 64;
  if (a.width !== undefined) {
    if (a.width === 32 || a.width === 64) width = a.width;
    else c.add(`${path}.width`, '"width" is 32 (compare the low 32 bits) or 64');
  }
  const value = a.value === undefined ? (c.add(`${path}.value`, 'missing "value"'), undefined) : parseValue(a.value, width, `${path}.value`, c);
  let mask: bigint | undefined;
  if (op === 'masked-eq') {
    if (a.mask === undefined) c.add(`${path}.mask`, 'masked-eq needs a "mask"');
    else mask = parseValue(a.mask, width, `${path}.mask`, c);
    if (mask !== undefined && value !== undefined && (value & ~mask) !== 0n) {
      c.add(`${path}.value`, `value 0x${value.toString(16)} has bits outside mask 0x${mask.toString(16)}, so the condition can never match`);
    }
  } else if (a.mask !== undefined) c.add(`${path}.mask`, '"mask" only applies to op "masked-eq"');
  if (c.problems.length > before || value === undefined) return undefined;
  return {
    index: index as number,
    op: op as Operator,
    value,
    mask,
    width,
    valueText: typeof a.value === 'string' ? a.value : String(a.value),
    maskText: a.mask === undefined ? undefined : typeof a.mask === 'string' ? a.mask : String(a.mask),
  };
}

/**
 * A value is an integer (negative ones are two's complement in `width` bits, as C would pass
 * them) or a string: constants and numbers joined by `|`, e.g. "CLONE_NEWUSER|CLONE_NEWNS",
 * "0x5412", "AF_INET".
 */
function parseValue(v: unknown, width: 32 | 64, path: string, c: Collector): bigint | undefined {
  const bits = BigInt(width);
  const toWidth = (n: bigint, what: string): bigint | undefined => {
    const min = -(1n << (bits - 1n));
    const max = (1n << bits) - 1n;
    if (n < min || n > max) {
      c.add(path, `${what} does not fit in ${width} bits`);
      return undefined;
    }
    return BigInt.asUintN(width, n);
  };
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) {
      c.add(path, `${v} is not an exact integer`, 'write values above 2^53 as a hex string, e.g. "0xffffffffffffffff"');
      return undefined;
    }
    return toWidth(BigInt(v), String(v));
  }
  if (typeof v !== 'string' || !v.trim()) {
    c.add(path, 'a value is an integer or a string of constants and numbers joined by "|"');
    return undefined;
  }
  let acc = 0n;
  for (const raw of v.split('|')) {
    const part = raw.trim();
    let n: bigint | undefined;
    if (/^-?(0x[0-9a-f]+|0o[0-7]+|0b[01]+|\d+)$/i.test(part)) {
      n = part.startsWith('-') ? -BigInt(part.slice(1)) : BigInt(part);
    } else if (Object.hasOwn(ARG_CONSTANTS, part)) {
      n = BigInt(ARG_CONSTANTS[part]!);
    } else {
      c.add(path, `unknown constant '${part}'`, didYouMean(part, Object.keys(ARG_CONSTANTS)));
      return undefined;
    }
    const w = toWidth(n, part);
    if (w === undefined) return undefined;
    acc |= w;
  }
  return acc;
}

export function actionToString(a: Action, errnoName?: (n: number) => string | undefined): string {
  return a.kind === 'errno' ? `errno ${errnoName?.(a.errno) ?? a.errno}` : a.kind;
}

export function conditionToString(c: ArgCondition): string {
  const arg = c.width === 32 ? `(u32)arg${c.index}` : `arg${c.index}`;
  const sym: Record<Operator, string> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=', 'masked-eq': '==' };
  const hex = (n: bigint) => `0x${n.toString(16)}`;
  const named = (text: string, n: bigint) => (/^-?\d+$/.test(text) || /^0x/i.test(text) ? hex(n) : `${text} (${hex(n)})`);
  if (c.op === 'masked-eq') return `${arg} & ${named(c.maskText ?? '', c.mask ?? 0n)} == ${named(c.valueText, c.value)}`;
  return `${arg} ${sym[c.op]} ${named(c.valueText, c.value)}`;
}
