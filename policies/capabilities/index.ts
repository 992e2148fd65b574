// The capability set a sandboxed command runs with. The default set is data
// (policies/capabilities/default.json); this module names the kernel's capabilities, applies
// --cap-drop/--cap-add to the default the way Docker does (drops first, then adds), and turns
// the result into the bit masks the helper applies.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { didYouMean } from '../seccomp/suggest.js';

/** Capability names by number (linux/capability.h), without the CAP_ prefix. */
export const CAPABILITIES: readonly string[] = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID',
  'SETPCAP', 'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW',
  'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT',
  'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD',
  'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG',
  'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
];

export interface CapabilityEntry { name: string; why: string }

/** The JSON stays in <repo>/policies/capabilities/ whether this runs from the bundle (dist/bin/), the tsc output or source. */
function defaultFile(): string {
  for (const rel of ['../../policies/capabilities/default.json', '../../../policies/capabilities/default.json']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return fileURLToPath(new URL('./default.json', import.meta.url));
}

let cached: CapabilityEntry[] | null = null;

/** The default set with the reason for each, in the file's order. */
function defaultCapabilityEntries(): CapabilityEntry[] {
  if (cached) return cached;
  const file = defaultFile();
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`cannot read the default capability set ${file}: ${(e as Error).message}`, 125, 'reinstall sbx');
  }
  const list = (json as { capabilities?: unknown }).capabilities;
  if (!Array.isArray(list)) throw new UserError(`${file}: "capabilities" is not a list`, 125, 'reinstall sbx');
  cached = list.map((e, i) => {
    const name = (e as CapabilityEntry | null)?.name;
    if (typeof name !== 'string' || !CAPABILITIES.includes(name)) throw new UserError(`${file}: capabilities[${i}] is not a capability name`, 125, 'reinstall sbx');
    return { name, why: String((e as CapabilityEntry).why ?? '') };
  });
  return cached;
}

export function defaultCapabilities(): string[] {
  return sortCaps(defaultCapabilityEntries().map((e) => e.name));
}

const sortCaps = (names: Iterable<string>): string[] => [...new Set(names)].sort((a, b) => CAPABILITIES.indexOf(a) - CAPABILITIES.indexOf(b));

/** NET_RAW, net_raw and CAP_NET_RAW all name CAP_NET_RAW; ALL is every capability. */
function parseCapabilityName(text: string, flag: string): string[] {
  const name = text.trim().toUpperCase().replace(/^CAP_/, '');
  if (name === 'ALL') return [...CAPABILITIES];
  if (CAPABILITIES.includes(name)) return [name];
  throw new UserError(`${flag} ${text}: not a capability`, 125, didYouMean(name, CAPABILITIES) ?? `names as in capabilities(7) without CAP_, e.g. NET_RAW, or ALL; 'sbx doctor' lists the default set`);
}

/** Docker's order: the default set, minus every --cap-drop, plus every --cap-add. */
export function resolveCapabilities(add: readonly string[], drop: readonly string[]): string[] {
  const set = new Set(defaultCapabilities());
  for (const d of drop) for (const n of parseCapabilityName(d, '--cap-drop')) set.delete(n);
  for (const a of add) for (const n of parseCapabilityName(a, '--cap-add')) set.add(n);
  return sortCaps(set);
}

function capabilityMask(names: readonly string[]): bigint {
  let m = 0n;
  for (const n of names) {
    const i = CAPABILITIES.indexOf(n);
    if (i < 0) throw new Error(`internal: unknown capability ${n}`);
    m |= 1n << BigInt(i);
  }
  return m;
}

/** The four sets the helper applies to the command just before it execs. */
export interface CapabilitySets { bounding: bigint; permitted: bigint; inheritable: bigint; ambient: bigint }

/**
 * Root inside gets exactly the bounding set at exec (its file capabilities count as full, then
 * are cut to the bounding set). Inheritable and ambient stay empty, so a command running as
 * another uid, or a file with inheritable file capabilities, gains nothing: Docker learnt this
 * with CVE-2022-24769.
 */
export function capabilitySets(names: readonly string[]): CapabilitySets {
  const m = capabilityMask(names);
  return { bounding: m, permitted: m, inheritable: 0n, ambient: 0n };
}
