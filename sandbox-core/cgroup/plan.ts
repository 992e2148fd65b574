// The cgroup planner: which hierarchies exist (v1, v2 or both), which controllers this user may
// use and why not. Pure over an injectable view of the filesystem, so it is unit-tested on any
// layout. lifecycle.ts makes and removes a sandbox's cgroups; checks.ts explains the plan.
import { accessSync, constants, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parseMountInfo } from '../mountinfo.js';

export type Controller = 'memory' | 'pids' | 'cpu' | 'io';
export const CONTROLLERS: readonly Controller[] = ['memory', 'pids', 'cpu', 'io'];
/** The v1 hierarchy that carries each controller. */
const V1_NAME: Record<Controller, string> = { memory: 'memory', pids: 'pids', cpu: 'cpu', io: 'blkio' };

export interface CgroupFs {
  read(path: string): string | null;
  exists(path: string): boolean;
  writable(path: string): boolean;
  list(dir: string): string[];
}

export const realCgroupFs: CgroupFs = {
  read: (p) => { try { return readFileSync(p, 'utf8'); } catch { return null; } },
  exists: (p) => existsSync(p),
  writable: (p) => { try { accessSync(p, constants.W_OK); return true; } catch { return false; } },
  list: (d) => { try { return readdirSync(d); } catch { return []; } },
};

export interface CgroupHierarchy {
  version: 1 | 2;
  mountPoint: string;
  /** The mount's root within the hierarchy (not "/" when a container mounted a subtree). */
  mountRoot: string;
  /** v1: the controllers bound to it (and name=...); v2: cgroup.controllers of the mount's root. */
  controllers: string[];
}

export type Placement =
  | { ok: true; version: 1 | 2; parent: string }
  | { ok: false; why: string };

export interface CgroupPlan {
  uid: number;
  hierarchies: CgroupHierarchy[];
  controllers: Record<Controller, Placement>;
  /** cgroup v1 devices controller (devices.deny/devices.allow). */
  devicesV1: Placement;
  /** cgroup v2 device program (BPF_PROG_TYPE_CGROUP_DEVICE), attached to our v2 cgroup. */
  devicesBpf: Placement;
  /** Where sbx makes its v2 cgroups, when any v2 feature is usable. */
  v2Parent: string | null;
  /** v2 controllers to switch on in v2Parent's cgroup.subtree_control first. */
  v2Enable: Controller[];
}

/** "4:memory:/a/b" lines: hierarchy id, controller list, path. v2 is id 0 with an empty list. */
export function parseProcCgroup(text: string): Array<{ id: number; controllers: string[]; path: string }> {
  const out: Array<{ id: number; controllers: string[]; path: string }> = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (m) out.push({ id: Number(m[1]), controllers: m[2] ? m[2].split(',') : [], path: m[3]! });
  }
  return out;
}

export function cgroupHierarchies(mountinfo: string, fs: CgroupFs): CgroupHierarchy[] {
  const out: CgroupHierarchy[] = [];
  // Only the cgroup mounts are parsed: a host with containers has hundreds of others. The
  // filesystem type follows the lone `-`, and a space inside a field is escaped (\040).
  for (const m of parseMountInfo(mountinfo.split('\n').filter((l) => l.includes(' - cgroup')).join('\n'))) {
    if (m.fsType === 'cgroup') {
      const ctl = m.superOptions.filter((o) => !['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec', 'clone_children', 'noprefix', 'xattr', 'cpuset_v2_mode'].includes(o) && !o.startsWith('release_agent='));
      out.push({ version: 1, mountPoint: m.mountPoint, mountRoot: m.root, controllers: ctl });
    } else if (m.fsType === 'cgroup2') {
      const ctl = (fs.read(join(m.mountPoint, 'cgroup.controllers')) ?? '').trim().split(/\s+/).filter(Boolean);
      out.push({ version: 2, mountPoint: m.mountPoint, mountRoot: m.root, controllers: ctl });
    }
  }
  // A hierarchy mounted twice is the same hierarchy: keep the first mount point.
  const seen = new Set<string>();
  return out.filter((h) => {
    const key = `${h.version}:${[...h.controllers].sort().join(',')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Our cgroup's directory in a hierarchy mounted at mountPoint with root mountRoot. */
function ownDir(h: CgroupHierarchy, ownPath: string): string {
  const rel = h.mountRoot === '/' ? ownPath : ownPath === h.mountRoot ? '/' : ownPath.startsWith(h.mountRoot + '/') ? ownPath.slice(h.mountRoot.length) : '/';
  return rel === '/' ? h.mountPoint : posix.join(h.mountPoint, rel);
}

export function words(s: string | null): string[] {
  return (s ?? '').trim().split(/\s+/).filter(Boolean);
}

export interface PlanInput {
  mountinfo: string;
  procCgroup: string;
  uid: number;
  /** May this process load and attach BPF programs (CAP_SYS_ADMIN in the host)? */
  canBpf: boolean;
  fs?: CgroupFs;
}

export function planCgroups(input: PlanInput): CgroupPlan {
  const fs = input.fs ?? realCgroupFs;
  const { uid } = input;
  const hierarchies = cgroupHierarchies(input.mountinfo, fs);
  const own = parseProcCgroup(input.procCgroup);
  const who = uid === 0 ? 'root' : `uid ${uid}`;

  const v1Placement = (name: string): Placement | null => {
    const h = hierarchies.find((x) => x.version === 1 && x.controllers.includes(name));
    if (!h) return null;
    const mine = own.find((o) => o.id !== 0 && o.controllers.includes(name));
    const parent = ownDir(h, mine?.path ?? '/');
    // Writable first: it exists then, and a run asks one question instead of two.
    if (fs.writable(parent)) return { ok: true, version: 1, parent };
    if (!fs.exists(parent)) return { ok: false, why: `cgroup v1 ${name}: ${parent} does not exist` };
    return { ok: false, why: `cgroup v1 ${name} (${parent}) is not writable by ${who}` };
  };

  // cgroup v2: root makes its cgroups at the top of the hierarchy it sees; anyone else needs a
  // subtree delegated to them (systemd's user@UID.service): the nearest ancestor of our own
  // cgroup that we may create cgroups in and move processes into.
  const h2 = hierarchies.find((h) => h.version === 2);
  let v2Parent: string | null = null;
  let v2Why = 'no cgroup v2 hierarchy is mounted';
  if (h2) {
    const mine = own.find((o) => o.id === 0 && o.controllers.length === 0);
    const ownV2 = ownDir(h2, mine?.path ?? '/');
    if (uid === 0) {
      if (fs.writable(h2.mountPoint)) v2Parent = h2.mountPoint;
      else v2Why = `cgroup v2 (${h2.mountPoint}) is not writable by root (read-only mount?)`;
    } else {
      for (let d = posix.dirname(ownV2); d.startsWith(h2.mountPoint) && d !== posix.dirname(h2.mountPoint); d = posix.dirname(d)) {
        if (fs.writable(d) && fs.writable(join(d, 'cgroup.procs')) && fs.writable(join(d, 'cgroup.subtree_control'))) { v2Parent = d; break; }
        if (d === h2.mountPoint) break;
      }
      if (!v2Parent) v2Why = `no cgroup v2 subtree is delegated to ${who} (checked the ancestors of ${mine?.path ?? '/'})`;
    }
  }
  const v2Enabled = v2Parent ? words(fs.read(join(v2Parent, 'cgroup.subtree_control'))) : [];
  // Root's parent is the mount's root, whose cgroup.controllers cgroupHierarchies just read.
  const v2Offered = !v2Parent ? [] : v2Parent === h2?.mountPoint ? h2.controllers : words(fs.read(join(v2Parent, 'cgroup.controllers')));

  const v2Enable: Controller[] = [];
  const controllers = {} as Record<Controller, Placement>;
  for (const c of CONTROLLERS) {
    let p = v1Placement(V1_NAME[c]);
    if (p?.ok && c === 'io' && !fs.exists(join(p.parent, 'blkio.weight')) && !fs.exists(join(p.parent, 'blkio.bfq.weight'))) {
      p = { ok: false, why: 'cgroup v1 blkio has no weight file here (the I/O scheduler has no weights: use bfq)' };
    }
    if (p) { controllers[c] = p; continue; }
    if (!v2Parent) { controllers[c] = { ok: false, why: h2 ? v2Why : `no cgroup v1 ${V1_NAME[c]} hierarchy and ${v2Why}` }; continue; }
    if (v2Enabled.includes(c)) controllers[c] = { ok: true, version: 2, parent: v2Parent };
    else if (v2Offered.includes(c)) { controllers[c] = { ok: true, version: 2, parent: v2Parent }; v2Enable.push(c); }
    else controllers[c] = { ok: false, why: `cgroup v2 at ${v2Parent} does not offer ${c} (it has: ${v2Offered.join(' ') || 'none'})` };
  }
  // Writing devices.allow/deny needs CAP_SYS_ADMIN in the host, like loading a program.
  const v1Devices = v1Placement('devices') ?? { ok: false, why: 'no cgroup v1 devices hierarchy' };
  const devicesV1: Placement = v1Devices.ok && !input.canBpf
    ? { ok: false, why: `the cgroup v1 devices controller needs CAP_SYS_ADMIN in the host, which ${who} lacks` }
    : v1Devices;
  let devicesBpf: Placement;
  if (!v2Parent) devicesBpf = { ok: false, why: v2Why };
  else if (!input.canBpf) devicesBpf = { ok: false, why: `loading a cgroup device program needs CAP_SYS_ADMIN in the host, which ${who} lacks` };
  else devicesBpf = { ok: true, version: 2, parent: v2Parent };
  return { uid, hierarchies, controllers, devicesV1, devicesBpf, v2Parent, v2Enable };
}

/** CAP_SYS_ADMIN (bit 21) in this process's effective set. */
export function hasSysAdmin(status = realCgroupFs.read('/proc/self/status') ?? ''): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)/m.exec(status);
  return !!m && ((BigInt(`0x${m[1]}`) >> 21n) & 1n) === 1n;
}

function inInitialUserNamespace(): boolean {
  return /^\s*0\s+0\s+4294967295\s*$/.test(realCgroupFs.read('/proc/self/uid_map') ?? '');
}

export function currentPlan(): CgroupPlan {
  return planCgroups({
    mountinfo: realCgroupFs.read('/proc/self/mountinfo') ?? '',
    procCgroup: realCgroupFs.read('/proc/self/cgroup') ?? '',
    uid: process.getuid!(),
    // Capabilities count in the host only in its initial user namespace (root in a container
    // has them over its own namespace alone).
    canBpf: hasSysAdmin() && inInitialUserNamespace(),
  });
}
