// The seccomp API the rest of sbx uses. sandbox-core calls compileSeccompPolicy() and hands
// the bytes to the native helper, which installs them unchanged.
import { encode } from './bpf.js';
import { compile, hostArch, ARCH_INFO, type Arch, type CompiledProgram } from './compiler.js';
import { loadPolicy, shippedPolicyNames, readPolicyFile, policyFile, type ResolvedPolicy } from './load.js';
import { checkFilter } from './interpreter.js';
import { ARCHES } from './compiler.js';
import { UserError } from '../errors.js';
import type { Action, Rule } from './policy.js';

export { PolicyError } from './errors.js';
export { hostArch, ARCHES, type Arch } from './compiler.js';
export { loadPolicy, shippedPolicyNames, type ResolvedPolicy } from './load.js';

/**
 * Compiles a shipped policy name ("default", "strict", "permissive") or a JSON file path
 * (anything containing '/' or ending in .json) to the raw `struct sock_filter` array for
 * `arch` (default: this machine), for a command holding `capabilities` (default: sbx's default
 * set; rules with ifCaps/unlessCaps depend on it). Throws PolicyError (an UserError, exit 125) on bad input.
 */
export function compileSeccompPolicy(ref: string, arch: Arch = hostArch(), capabilities?: readonly string[], opts: { connectNotify?: boolean } = {}): Buffer {
  const policy = loadPolicy(ref, capabilities);
  return encode(compilePolicy(opts.connectNotify ? withConnectNotify(policy) : policy, arch).program);
}

/** Syscalls that connect sockets without connect(2): io_uring's IORING_OP_CONNECT. */
const IO_URING = ['io_uring_setup', 'io_uring_enter', 'io_uring_register'];

/**
 * --allow-net's direct path: wherever the policy lets connect(2) through (allow or log), it
 * becomes a user notification, answered by the sandbox's supervisor (native/netdirect.c) on
 * the proxy's decision; where the policy refuses connect, the refusal stands. io_uring, which
 * connects sockets without the syscall (and so without the decision), gets ENOSYS where the
 * policy allowed it, as the default policy already does (libuv and liburing fall back).
 */
export function withConnectNotify(policy: ResolvedPolicy): ResolvedPolicy {
  const changed: Array<[string[], Action]> = [[['connect'], { kind: 'notify' }], [IO_URING, { kind: 'errno', errno: 38 }]];
  const lets = (a: Action) => a.kind === 'allow' || a.kind === 'log';
  const rules: Rule[] = [];
  for (const r of policy.rules) {
    if (!lets(r.action)) { rules.push(r); continue; }
    let rest = r.syscalls;
    for (const [names, action] of changed) {
      const hit = rest.filter((n) => names.includes(n));
      if (hit.length) rules.push({ ...r, syscalls: hit, action });
      rest = rest.filter((n) => !names.includes(n));
    }
    if (rest.length) rules.push({ ...r, syscalls: rest });
  }
  if (lets(policy.defaultAction)) {
    for (const [names, action] of changed) rules.push({ syscalls: names, action, args: [], comment: '--allow-net: connect(2) is decided by sbx', file: 'sbx --allow-net', path: '$' });
  }
  return { ...policy, rules };
}

export function compilePolicy(policy: ResolvedPolicy, arch: Arch): CompiledProgram {
  const compiled = compile(policy, arch);
  // The kernel would refuse what checkFilter refuses; finding it here names the policy.
  try {
    checkFilter(compiled.program);
  } catch (e) {
    throw new Error(`internal: compiled ${policy.name} for ${arch} is not a valid filter: ${(e as Error).message}`);
  }
  return compiled;
}

export interface PolicySummary {
  name: string;
  description: string;
  file: string;
  extends?: string;
}

export function listShippedPolicies(): PolicySummary[] {
  return shippedPolicyNames().map((name) => {
    const file = policyFile(name);
    const p = readPolicyFile(file);
    return { name, description: p.description, file, extends: p.extends };
  });
}

/** Syscall names by number for an architecture, for listings. */
export function syscallNames(arch: Arch): Map<number, string> {
  return new Map(Object.entries(ARCH_INFO[arch].syscalls).map(([n, nr]) => [nr, n]));
}

/** An --arch option's value; undefined means this machine. */
export function parseArch(arch: string | undefined): Arch {
  if (arch === undefined) return hostArch();
  if ((ARCHES as readonly string[]).includes(arch)) return arch as Arch;
  throw new UserError(`unknown architecture '${arch}'`, 125, `use ${ARCHES.join(' or ')}`);
}
