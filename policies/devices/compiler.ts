// Compiles a device allowlist to what the kernel enforces: a BPF_PROG_TYPE_CGROUP_DEVICE
// program for cgroup v2, and devices.allow lines for cgroup v1.
//
// The program's context is struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
// where access_type = (access << 16) | type. It returns 1 to allow, 0 to deny. Its shape is
// the one the verifier accepts on every kernel that has the hook (4.15+): word loads from the
// context at offsets 0/4/8, 32-bit ALU on scalars, forward jumps only, no helper calls, no
// stack, r0 set on every path to exit.
import {
  Assembler, type EInsn, BPF_W, BPF_AND, BPF_RSH, BPF_MOV, BPF_JNE, BPF_JSET, R0, R1, R2, R3, R4, R5,
} from './ebpf.js';
import { accessBits, DEV_BLOCK, DEV_CHAR, type DeviceRule } from './policy.js';

export function compileDeviceProgram(rules: readonly DeviceRule[]): EInsn[] {
  const a = new Assembler();
  a.ldx(BPF_W, R2, R1, 0)            // r2 = access_type
    .alu32x(BPF_MOV, R3, R2)
    .alu32(BPF_AND, R3, 0xffff)      // r3 = type
    .alu32(BPF_RSH, R2, 16)          // r2 = requested access bits
    .ldx(BPF_W, R4, R1, 4)           // r4 = major
    .ldx(BPF_W, R5, R1, 8);          // r5 = minor
  rules.forEach((r, i) => {
    const next = `next${i}`;
    if (r.type !== 'a') a.jmp(BPF_JNE, R3, r.type === 'c' ? DEV_CHAR : DEV_BLOCK, next);
    // Any requested bit outside the rule's rights: this rule does not allow it.
    const denied = ~accessBits(r.access) & 0xffff;
    if (denied !== 0) a.jmp(BPF_JSET, R2, denied, next);
    if (r.major !== '*') a.jmp(BPF_JNE, R4, r.major, next);
    if (r.minor !== '*') a.jmp(BPF_JNE, R5, r.minor, next);
    a.mov64(R0, 1).exit();
    a.label(next);
  });
  a.mov64(R0, 0).exit();
  return a.finish();
}

/**
 * cgroup v1: lines for devices.allow, written after "a" to devices.deny. A line starting with
 * "a" would reset the cgroup to allow-all whatever follows it, so type "a" becomes c and b.
 */
export function v1AllowLines(rules: readonly DeviceRule[]): string[] {
  return rules.flatMap((r) => (r.type === 'a' ? ['c', 'b'] : [r.type]).map((t) => `${t} ${r.major}:${r.minor} ${r.access}`));
}
