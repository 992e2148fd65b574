// One sandbox's cgroups: made with its limits before the run, read for why the command died,
// removed after it (and swept when an sbx that was SIGKILLed left them behind).
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pidRunning } from '../base/process.js';
import { CONTROLLERS, realCgroupFs, words, type CgroupFs, type CgroupPlan, type Controller } from './plan.js';

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

const CPU_PERIOD_US = 100_000;

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
  // A run's cgroups sit under each controller's parent: each pid is asked once (this run's own,
  // found under every parent, never: it runs).
  const running = new Map<number, boolean>([[process.pid, true]]);
  for (const parent of parents) {
    for (const n of fs.list(parent)) {
      const m = CGROUP_NAME_RE.exec(n);
      if (!m) continue;
      const pid = Number(m[2]);
      let live = running.get(pid);
      // A zombie sbx (killed, its parent not yet waiting for it) runs nothing in its cgroup.
      if (live === undefined) running.set(pid, (live = pidRunning(pid)));
      if (live) continue;
      const dir = join(parent, n);
      if (removeSandboxCgroups({ dirs: [dir] }, 1000).length === 0) removed.push(dir);
    }
  }
  return removed;
}

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
