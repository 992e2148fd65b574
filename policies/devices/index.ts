// The device policy API sandbox-core uses: the allowlist, with --device additions, compiled
// for both cgroup versions.
import { encodeInsns } from './ebpf.js';
import { compileDeviceProgram, v1AllowLines } from './compiler.js';
import { checkProgram } from './interpreter.js';
import { readFileSync } from 'node:fs';
import { loadDevicePolicy, shippedDevicePolicyPath, type DeviceRule } from './policy.js';

export { loadDevicePolicy, parseDevicePolicy, shippedDevicePolicyPath, allowedByRules, normaliseAccess, type DeviceRule, type DevicePolicy } from './policy.js';
export { compileDeviceProgram, v1AllowLines } from './compiler.js';

export interface CompiledDevices {
  /** struct bpf_insn[] for BPF_PROG_TYPE_CGROUP_DEVICE. */
  program: Buffer;
  /** devices.allow lines for cgroup v1. */
  v1Allow: string[];
}

// Baked in by scripts/bundle.mjs: the shipped default policy's text and what it compiles to.
// The tsc output (tests) has none and compiles at run time.
declare const __SBX_DEFAULT_DEVICES__: { json: string; program: string; v1Allow: string[] } | undefined;

/**
 * The default policy compiled, with no rule added: the build's own compilation while the
 * shipped file still holds the text it compiled (one small read instead of parsing, checking
 * and compiling on every run that sets up a device cgroup), else compiled now.
 */
export function compileDefaultDevices(): CompiledDevices {
  if (typeof __SBX_DEFAULT_DEVICES__ === 'object') {
    let text: string | null = null;
    try { text = readFileSync(shippedDevicePolicyPath('default'), 'utf8'); } catch { /* compiled below, which reports it */ }
    if (text === __SBX_DEFAULT_DEVICES__.json) return { program: Buffer.from(__SBX_DEFAULT_DEVICES__.program, 'base64'), v1Allow: [...__SBX_DEFAULT_DEVICES__.v1Allow] };
  }
  return compileDevices(loadDevicePolicy('default').rules);
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
