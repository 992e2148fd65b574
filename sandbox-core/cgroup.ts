// Cgroups for sandboxes: which hierarchies exist (v1, v2 or both), which controllers this user
// may use and why not, one sub-cgroup per sandbox with its limits and device rules, what the
// kernel recorded when the command died, and removal (also of cgroups left by an sbx that was
// SIGKILLed). Planning is pure (an injectable view of the filesystem) so it is unit-tested on
// any layout; creating and removing touch /sys/fs/cgroup.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parseMountInfo } from './mountinfo.js';

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
  for (const m of parseMountInfo(mountinfo)) {
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

function words(s: string | null): string[] {
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
    if (!fs.exists(parent)) return { ok: false, why: `cgroup v1 ${name}: ${parent} does not exist` };
    if (!fs.writable(parent)) return { ok: false, why: `cgroup v1 ${name} (${parent}) is not writable by ${who}` };
    return { ok: true, version: 1, parent };
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
  const v2Offered = v2Parent ? words(fs.read(join(v2Parent, 'cgroup.controllers'))) : [];

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

// ------------------------------------------------------------------ per-sandbox cgroups

/** sbx-<sandbox id>-<pid of the sbx that owns it>: a sweep can tell whose it is and whether they are gone. */
export const CGROUP_NAME_RE = /^sbx-([0-9a-f]{8})-(\d+)$/;
export function cgroupName(sandboxId: string, ownerPid = process.pid): string {
  return `sbx-${sandboxId}-${ownerPid}`;
}

export interface CgroupLimits {
  memory?: number;
  pids?: number;
  cpus?: number;
  /** 1-10000 (cgroup v2's scale); v1's blkio.weight takes 10-1000. */
  ioWeight?: number;
}

export const CPU_PERIOD_US = 100_000;

/** The files to write for each limit, in order (memsw after the memory limit it must exceed). */
export function limitWrites(c: Controller, version: 1 | 2, limits: CgroupLimits, dirFiles: (f: string) => boolean): Array<[string, string]> {
  switch (c) {
    case 'memory':
      if (limits.memory === undefined) return [];
      if (version === 2) return [['memory.max', String(limits.memory)], ...(dirFiles('memory.swap.max') ? [['memory.swap.max', '0'] as [string, string]] : [])];
      return [['memory.limit_in_bytes', String(limits.memory)], ...(dirFiles('memory.memsw.limit_in_bytes') ? [['memory.memsw.limit_in_bytes', String(limits.memory)] as [string, string]] : [])];
    case 'pids':
      return limits.pids === undefined ? [] : [['pids.max', String(limits.pids)]];
    case 'cpu': {
      if (limits.cpus === undefined) return [];
      const quota = Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US));
      return version === 2 ? [['cpu.max', `${quota} ${CPU_PERIOD_US}`]] : [['cpu.cfs_period_us', String(CPU_PERIOD_US)], ['cpu.cfs_quota_us', String(quota)]];
    }
    case 'io': {
      if (limits.ioWeight === undefined) return [];
      if (version === 2) return [['io.weight', `default ${limits.ioWeight}`]];
      const w = Math.min(1000, Math.max(10, Math.round(limits.ioWeight / 10)));
      return [[dirFiles('blkio.weight') ? 'blkio.weight' : 'blkio.bfq.weight', String(w)]];
    }
  }
}

function wanted(c: Controller, l: CgroupLimits): boolean {
  return c === 'memory' ? l.memory !== undefined : c === 'pids' ? l.pids !== undefined : c === 'cpu' ? l.cpus !== undefined : l.ioWeight !== undefined;
}

export interface SandboxCgroups {
  /** Every directory made, deepest last; each gets the sandbox's init pid. */
  dirs: string[];
  /** Where each limit is enforced. */
  enforced: Partial<Record<Controller, { version: 1 | 2; dir: string }>>;
  /** Limits asked for that no cgroup enforces, with why. */
  missing: Partial<Record<Controller, string>>;
  v1Devices: string | null;
  v2Dir: string | null;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Makes the sandbox's cgroups and writes its limits. Device rules are the helper's (spec ops). */
export function createSandboxCgroups(plan: CgroupPlan, name: string, limits: CgroupLimits, devices: { v1: boolean; bpf: boolean }): SandboxCgroups {
  const out: SandboxCgroups = { dirs: [], enforced: {}, missing: {}, v1Devices: null, v2Dir: null };
  const made = new Map<string, string>();
  const dirIn = (parent: string): string => {
    let d = made.get(parent);
    if (d) return d;
    d = join(parent, name);
    mkdirSync(d);
    made.set(parent, d);
    out.dirs.push(d);
    return d;
  };
  try {
    const needV2 = CONTROLLERS.some((c) => wanted(c, limits) && plan.controllers[c].ok && (plan.controllers[c] as { version: number }).version === 2) || (devices.bpf && plan.devicesBpf.ok);
    const v2Usable = new Set<Controller>();
    if (needV2 && plan.v2Parent) {
      for (const c of plan.v2Enable) {
        if (!wanted(c, limits)) continue;
        // Fails (EBUSY) where the parent holds processes itself: that controller is then missing.
        try { writeFileSync(join(plan.v2Parent, 'cgroup.subtree_control'), `+${c}`); v2Usable.add(c); } catch (e) {
          out.missing[c] = `cannot enable ${c} in ${plan.v2Parent}/cgroup.subtree_control (${(e as NodeJS.ErrnoException).code})`;
        }
      }
      out.v2Dir = dirIn(plan.v2Parent);
    }
    for (const c of CONTROLLERS) {
      if (!wanted(c, limits) || out.missing[c]) continue;
      const p = plan.controllers[c];
      if (!p.ok) { out.missing[c] = p.why; continue; }
      if (p.version === 2 && plan.v2Enable.includes(c) && !v2Usable.has(c)) continue;
      const dir = dirIn(p.parent);
      for (const [file, value] of limitWrites(c, p.version, limits, (f) => existsSync(join(dir, f)))) {
        try {
          writeFileSync(join(dir, file), value);
        } catch (e) {
          out.missing[c] = `writing ${value} to ${join(dir, file)} failed (${(e as NodeJS.ErrnoException).code})`;
          break;
        }
      }
      if (!out.missing[c]) out.enforced[c] = { version: p.version, dir };
    }
    if (devices.v1 && plan.devicesV1.ok) out.v1Devices = dirIn(plan.devicesV1.parent);
    return out;
  } catch (e) {
    removeSandboxCgroups(out);
    throw e;
  }
}

function pidsIn(dir: string): number[] {
  return words(realCgroupFs.read(join(dir, 'cgroup.procs'))).map(Number).filter((n) => n > 0);
}

/**
 * Removes the cgroups once their processes are gone. The sandbox's init dying takes the whole
 * pid namespace with it, but the last exits can trail the helper's by a moment, and a cgroup
 * cannot be removed while a process (even a zombie) is charged to it.
 */
export function removeSandboxCgroups(cg: Pick<SandboxCgroups, 'dirs'>, timeoutMs = 3000): string[] {
  const left: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (const dir of [...cg.dirs].reverse()) {
    for (let attempt = 0; ; attempt++) {
      try { rmdirSync(dir); break; } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || Date.now() > deadline) { left.push(dir); break; }
        // Stragglers: cgroup.kill (v2, 5.14+) or SIGKILL each one we can see.
        if (attempt === 2) {
          try { writeFileSync(join(dir, 'cgroup.kill'), '1'); } catch { for (const pid of pidsIn(dir)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } }
        }
        sleepMs(Math.min(50, 5 * (attempt + 1)));
      }
    }
  }
  return left;
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/**
 * Removes sbx cgroups whose owning sbx process is gone (it was SIGKILLed, its helper died with
 * it, and nobody was left to rmdir). Returns the directories removed.
 */
export function sweepStaleCgroups(plan: CgroupPlan, fs: CgroupFs = realCgroupFs): string[] {
  const parents = new Set<string>();
  for (const c of CONTROLLERS) { const p = plan.controllers[c]; if (p.ok) parents.add(p.parent); }
  if (plan.devicesV1.ok) parents.add(plan.devicesV1.parent);
  if (plan.v2Parent) parents.add(plan.v2Parent);
  const removed: string[] = [];
  for (const parent of parents) {
    for (const n of fs.list(parent)) {
      const m = CGROUP_NAME_RE.exec(n);
      if (!m || alive(Number(m[2]))) continue;
      const dir = join(parent, n);
      if (removeSandboxCgroups({ dirs: [dir] }, 1000).length === 0) removed.push(dir);
    }
  }
  return removed;
}

// ------------------------------------------------------------------ why the command died

export interface CgroupEvents {
  /** Processes the kernel's OOM killer killed for the memory limit. */
  oomKills: number;
  /** Forks refused because of pids.max. */
  pidsMaxHits: number;
}

function keyed(text: string | null, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text ?? '');
  return m ? Number(m[1]) : 0;
}

export function readCgroupEvents(cg: SandboxCgroups): CgroupEvents {
  let oomKills = 0, pidsMaxHits = 0;
  const mem = cg.enforced.memory;
  if (mem) {
    // v2: memory.events; v1: memory.oom_control has oom_kill since 4.13.
    oomKills = mem.version === 2 ? keyed(realCgroupFs.read(join(mem.dir, 'memory.events')), 'oom_kill') : keyed(realCgroupFs.read(join(mem.dir, 'memory.oom_control')), 'oom_kill');
  }
  const pids = cg.enforced.pids;
  if (pids) pidsMaxHits = keyed(realCgroupFs.read(join(pids.dir, 'pids.events')), 'max');
  return { oomKills, pidsMaxHits };
}

// ------------------------------------------------------------------ sbx doctor

export interface CgroupCheck { name: string; status: 'ok' | 'limited' | 'missing'; detail: string; hint?: string }

/** sbx doctor's lines: the hierarchies, the controllers this user can use (and why not), devices. */
export function cgroupChecks(plan: CgroupPlan = currentPlan()): CgroupCheck[] {
  const who = plan.uid === 0 ? 'root' : `uid ${plan.uid}`;
  const v1 = plan.hierarchies.filter((h) => h.version === 1).map((h) => h.controllers.join(','));
  const v2 = plan.hierarchies.find((h) => h.version === 2);
  const versions = [
    ...(v1.length ? [`v1 (${v1.join(' ')})`] : []),
    ...(v2 ? [`v2 at ${v2.mountPoint} (${v2.controllers.join(' ') || 'no controllers'})`] : []),
  ];
  const checks: CgroupCheck[] = [{
    name: 'cgroups',
    status: versions.length ? 'ok' : 'missing',
    detail: versions.length ? `${v1.length && v2 ? 'hybrid: ' : ''}${versions.join(' + ')}` : 'no cgroup hierarchy is mounted',
  }];
  const usable = CONTROLLERS.filter((c) => plan.controllers[c].ok);
  const unusable = CONTROLLERS.filter((c) => !plan.controllers[c].ok);
  const fallback = plan.uid === 0 ? 'memory falls back to RLIMIT_DATA' : 'memory and pids fall back to RLIMIT_DATA and RLIMIT_NPROC';
  checks.push({
    name: 'resource limits',
    status: unusable.length === 0 ? 'ok' : usable.length ? 'limited' : 'missing',
    detail: [
      ...usable.map((c) => `${c} (cgroup v${(plan.controllers[c] as { version: number }).version})`),
      ...unusable.map((c) => `no ${c}: ${(plan.controllers[c] as { why: string }).why}`),
    ].join('; ') + (unusable.length ? `; without a cgroup ${fallback}` : ''),
    hint: usable.length || plan.uid === 0 ? undefined : `run sbx with sudo, or from a shell with a delegated cgroup (systemd-run --user --scope -p Delegate=yes ${'$SHELL'})`,
  });
  const ways = [
    ...(plan.devicesV1.ok ? ['cgroup v1 devices.allow'] : []),
    ...(plan.devicesBpf.ok ? ['cgroup v2 device program'] : []),
  ];
  const whyNot = [plan.devicesV1, plan.devicesBpf].filter((p) => !p.ok).map((p) => (p as { why: string }).why);
  checks.push({
    name: 'device cgroup',
    status: ways.length ? 'ok' : 'limited',
    detail: ways.length ? `${ways.join(' + ')}, on top of the minimal /dev and nodev mounts` : `not usable by ${who} (${whyNot.join('; ')}): only the minimal /dev and nodev mounts keep devices out`,
  });
  return checks;
}
