// The device allowlist format (policies/devices/*.json):
//
//   { "description": "...",
//     "devices": [ { "path": "/dev/null", "type": "c", "major": 1, "minor": 3, "access": "rwm" }, ... ] }
//
// type: "c" (char), "b" (block) or "a" (both); major/minor: a number or "*" (any);
// access: letters from "r" (open for reading), "w" (open for writing), "m" (mknod).
// path: where the node appears inside (documentation, and the name `sbx run` lists in /dev);
// a trailing "/*" covers a directory of nodes (pts). Everything not allowed is denied.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { POLICY_LIMITS, readJsonFile } from '../read-json.js';

export type DeviceType = 'c' | 'b' | 'a';

export interface DeviceRule {
  type: DeviceType;
  major: number | '*';
  minor: number | '*';
  /** Normalised to the order r, w, m. */
  access: string;
  path?: string;
}

export interface DevicePolicy {
  name: string;
  description: string;
  rules: DeviceRule[];
}

// Linux device numbers: 12-bit major, 20-bit minor (MINORBITS).
const MAX_MAJOR = 0xfff, MAX_MINOR = 0xfffff;

export function normaliseAccess(access: string, where: string): string {
  if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length) {
    throw new UserError(`${where}: access '${access}' must be letters from r, w, m, each at most once`);
  }
  return ['r', 'w', 'm'].filter((c) => access.includes(c)).join('');
}

function number(v: unknown, max: number, what: string, where: string): number | '*' {
  if (v === '*') return '*';
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new UserError(`${where}: ${what} must be an integer 0-${max} or "*"`);
  }
  return v;
}

export function parseDevicePolicy(json: unknown, name: string): DevicePolicy {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new UserError(`${name}: a device policy is a JSON object`);
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'description' && k !== 'devices') throw new UserError(`${name}: unknown key '${k}' (expected description, devices)`);
  if (!Array.isArray(o.devices)) throw new UserError(`${name}: 'devices' must be an array`);
  if (o.devices.length > POLICY_LIMITS.maxRules) throw new UserError(`${name}: more than ${POLICY_LIMITS.maxRules} device rules`);
  const rules = o.devices.map((d: unknown, i): DeviceRule => {
    const where = `${name}: devices[${i}]`;
    if (!d || typeof d !== 'object') throw new UserError(`${where}: must be an object`);
    const r = d as Record<string, unknown>;
    for (const k of Object.keys(r)) if (!['path', 'type', 'major', 'minor', 'access'].includes(k)) throw new UserError(`${where}: unknown key '${k}'`);
    if (r.type !== 'c' && r.type !== 'b' && r.type !== 'a') throw new UserError(`${where}: type must be "c", "b" or "a"`);
    if (typeof r.access !== 'string') throw new UserError(`${where}: access must be a string such as "rwm"`);
    if (r.path !== undefined && (typeof r.path !== 'string' || !r.path.startsWith('/dev/'))) throw new UserError(`${where}: path must start with /dev/`);
    return {
      type: r.type,
      major: number(r.major, MAX_MAJOR, 'major', where),
      minor: number(r.minor, MAX_MINOR, 'minor', where),
      access: normaliseAccess(r.access, where),
      ...(r.path !== undefined ? { path: r.path as string } : {}),
    };
  });
  return { name, description: typeof o.description === 'string' ? o.description : '', rules };
}

/** The shipped JSON stays in <repo>/policies/devices/ whether this runs from the bundle (dist/bin/), the tsc output or source. */
export function shippedDevicePolicyPath(name = 'default'): string {
  for (const rel of [`../../policies/devices/${name}.json`, `../../../policies/devices/${name}.json`]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return fileURLToPath(new URL(`./${name}.json`, import.meta.url));
}

export function loadDevicePolicy(name = 'default'): DevicePolicy {
  const file = shippedDevicePolicyPath(name);
  const r = readJsonFile(file);
  if (!r.ok) throw new UserError(`cannot read the device policy ${file}: ${r.message}`);
  return parseDevicePolicy(r.value, name);
}

/** Access bits as the kernel passes them (BPF_DEVCG_ACC_*). */
const ACC_MKNOD = 1, ACC_READ = 2, ACC_WRITE = 4;
/** Device types as the kernel passes them (BPF_DEVCG_DEV_*). */
export const DEV_BLOCK = 1, DEV_CHAR = 2;

export function accessBits(access: string): number {
  return (access.includes('m') ? ACC_MKNOD : 0) | (access.includes('r') ? ACC_READ : 0) | (access.includes('w') ? ACC_WRITE : 0);
}

export interface DeviceRequest { type: 'c' | 'b'; major: number; minor: number; access: string }

/** The allowlist's meaning, stated directly: compiled programs are tested against this. */
export function allowedByRules(rules: readonly DeviceRule[], req: DeviceRequest): boolean {
  const want = accessBits(req.access);
  return rules.some((r) => (r.type === 'a' || r.type === req.type)
    && (r.major === '*' || r.major === req.major)
    && (r.minor === '*' || r.minor === req.minor)
    && (want & ~accessBits(r.access)) === 0);
}
