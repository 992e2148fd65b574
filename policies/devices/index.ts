// The device policy API sandbox-core uses: the allowlist, with --device additions, compiled
// for both cgroup versions.
import { encodeInsns } from './ebpf.js';
import { compileDeviceProgram, v1AllowLines } from './compiler.js';
import { checkProgram } from './interpreter.js';
import type { DeviceRule } from './policy.js';

export { loadDevicePolicy, parseDevicePolicy, allowedByRules, normaliseAccess, type DeviceRule, type DevicePolicy } from './policy.js';
export { compileDeviceProgram, v1AllowLines } from './compiler.js';

export interface CompiledDevices {
  /** struct bpf_insn[] for BPF_PROG_TYPE_CGROUP_DEVICE. */
  program: Buffer;
  /** devices.allow lines for cgroup v1. */
  v1Allow: string[];
}

export function compileDevices(rules: readonly DeviceRule[]): CompiledDevices {
  const prog = compileDeviceProgram(rules);
  // The kernel would refuse what checkProgram refuses; finding it here names the cause.
  try {
    checkProgram(prog);
  } catch (e) {
    throw new Error(`internal: the compiled device program is not valid: ${(e as Error).message}`);
  }
  return { program: encodeInsns(prog), v1Allow: v1AllowLines(rules) };
}
