// Resource limits and device rules for one run: what the user asked for, turned into cgroups
// (when this user can write one) or rlimits (when not), spec ops for the helper, one line
// saying what is not enforced, and afterwards the reason the command died.
import { devNumbers } from './base/dev-numbers.js';
import { notice } from './notices.js';
import { lstatSync } from 'node:fs';
import { compileDefaultDevices, compileDevices, loadDevicePolicy, type DeviceRule } from '../policies/devices/index.js';
import { currentPlan, type CgroupPlan, type Controller } from './cgroup/plan.js';
import { createSandboxCgroups, cgroupName, readCgroupEvents, removeSandboxCgroups, sweepStaleCgroups, type SandboxCgroups } from './cgroup/lifecycle.js';
import { SbxError } from './base/errors.js';
import type { SpecOpOf } from './spec.js';
import { SIG_KILL_COMMAND } from './launch.js';
import { formatDuration, formatSize } from './units.js';
import { displayText } from './base/bpath.js';

export const DEFAULT_PIDS = 4096;
/** Between SIGTERM and SIGKILL when --timeout expires. */
const TIMEOUT_GRACE_MS = 2000;
/** Exit status after --timeout, as timeout(1). */
export const TIMEOUT_EXIT = 124;

/** --device HOST[:INSIDE][:rwm]: a host device node, where it appears under /dev inside, its rights. */
export interface DeviceRequest { path: string; inside: string; access: string }

export interface LimitsRequest {
  memory?: number;
  pids: number;
  /** --pids was given (the default is enforced quietly where it can be). */
  pidsExplicit: boolean;
  cpus?: number;
  ioWeight?: number;
  timeoutMs?: number;
  devices: DeviceRequest[];
}

/** The spec ops limits and devices add, by where they go in the spec. */
export interface LimitOps {
  /** Joined and written by the outer process before the sandbox is released. */
  cgroup: Array<SpecOpOf<'cgroup_procs' | 'cgroup_write' | 'devbpf'>>;
  /** --device nodes, bound into the minimal /dev. */
  devices: Array<SpecOpOf<'bind'>>;
  /** Set on the command just before exec. */
  rlimits: Array<SpecOpOf<'rlimit'>>;
}

export interface PreparedLimits {
  ops: LimitOps;
  /** At most one line: what is not enforced and why. */
  notice: string | null;
  /** The notice only restates the defaults (no flag asked for more). */
  noticeIsQuiet: boolean;
  cgroups: SandboxCgroups | null;
  /**
   * Removes the cgroups of sbx processes that died without removing theirs: nothing of this
   * run depends on it, so the caller does it while the sandbox runs, not before it starts.
   */
  sweepStale: () => void;
}

/** The device rule a --device PATH[:rwm] adds; throws for a path that is not a device node. */
function deviceRule(req: DeviceRequest): { rule: DeviceRule; path: string; inside: string } {
  let st;
  try {
    st = lstatSync(req.path, { bigint: false });
  } catch (e) {
    throw new SbxError(`--device ${displayText(req.path)}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (!st.isCharacterDevice() && !st.isBlockDevice()) {
    throw new SbxError(`--device ${displayText(req.path)}: not a device node (${st.isSymbolicLink() ? 'a symlink: give the node it points to' : st.isDirectory() ? 'a directory' : 'a regular file or other'})`);
  }
  const { major, minor } = devNumbers(st.rdev);
  return { rule: { type: st.isCharacterDevice() ? 'c' : 'b', major, minor, access: req.access, path: req.inside }, path: req.path, inside: req.inside };
}

function cgroupEnforces(cg: SandboxCgroups | null, c: Controller): boolean {
  return !!cg?.enforced[c];
}

export function prepareLimits(req: LimitsRequest, sandboxId: string, plan: CgroupPlan = currentPlan()): PreparedLimits {
  const devs = req.devices.map(deviceRule);
  // Read and compiled only when a device cgroup will enforce it: most runs have none, and a
  // run's start-up parses no policy it does not use.
  let compiledDevices: ReturnType<typeof compileDevices> | null = null;
  const compiled = (): ReturnType<typeof compileDevices> => (compiledDevices ??= devs.length ? compileDevices([...loadDevicePolicy('default').rules, ...devs.map((d) => d.rule)]) : compileDefaultDevices());
  // Read-only binds, as /dev's own nodes (sandbox.ts DEV_NODES): the device is read and written
  // as ever, its host node's mode, owner and times are not the command's to change.
  const ops: LimitOps = { cgroup: [], devices: devs.map((d) => ({ op: 'bind', args: [d.path, d.inside, ['ro']] })), rlimits: [] };

  const wantV1Dev = plan.devicesV1.ok, wantBpf = plan.devicesBpf.ok;
  const anyController = plan.controllers.memory.ok || plan.controllers.pids.ok || plan.controllers.cpu.ok || plan.controllers.io.ok;
  let cg: SandboxCgroups | null = null;
  if (anyController || wantV1Dev || wantBpf) {
    try {
      cg = createSandboxCgroups(plan, cgroupName(sandboxId), { memory: req.memory, pids: req.pids, cpus: req.cpus, ioWeight: req.ioWeight }, { v1: wantV1Dev, bpf: wantBpf });
    } catch (e) {
      throw new SbxError(`cannot create the sandbox's cgroup: ${(e as Error).message}`);
    }
  }
  const unenforced: string[] = [];
  const fallbacks: string[] = [];
  let loud = false;
  // The defaults (pids cap, device cgroup) are weaker here; said once, not on every run.
  let defaultsWeaker = false;
  const missingWhy = (c: Controller): string => cg?.missing[c] ?? (plan.controllers[c].ok ? 'not created' : (plan.controllers[c] as { why: string }).why);

  if (req.memory !== undefined) {
    if (!cgroupEnforces(cg, 'memory')) {
      // A per-process cap on private writable memory: allocations beyond it fail with ENOMEM.
      ops.rlimits.push({ op: 'rlimit', args: ['data', String(req.memory), String(req.memory)] });
      // Short, to fit 80 columns: docs/limits.md and 'sbx doctor' say what that means.
      fallbacks.push('--memory is RLIMIT_DATA');
      loud = true;
    }
  }
  {
    if (cgroupEnforces(cg, 'pids')) {
      // Enforced by the pids controller.
    } else if (plan.uid !== 0) {
      // Counted per user in the sandbox's own user namespace: the sandbox's processes only.
      ops.rlimits.push({ op: 'rlimit', args: ['nproc', String(req.pids), String(req.pids)] });
      if (req.pidsExplicit) fallbacks.push('--pids is RLIMIT_NPROC');
      else defaultsWeaker = true;
      if (req.pidsExplicit) loud = true;
    } else {
      // Host root is exempt from RLIMIT_NPROC: without the pids controller nothing caps it.
      if (req.pidsExplicit) { unenforced.push(`--pids (${missingWhy('pids')})`); loud = true; }
    }
  }
  for (const [c, flag, asked] of [['cpu', '--cpus', req.cpus !== undefined], ['io', '--io-weight', req.ioWeight !== undefined]] as const) {
    if (!asked) continue;
    if (!cgroupEnforces(cg, c)) { unenforced.push(`${flag} (${missingWhy(c)})`); loud = true; }
  }
  if (cg?.v1Devices) {
    ops.cgroup.push({ op: 'cgroup_write', args: [`${cg.v1Devices}/devices.deny`, 'a'] });
    for (const line of compiled().v1Allow) ops.cgroup.push({ op: 'cgroup_write', args: [`${cg.v1Devices}/devices.allow`, line] });
  }
  if (cg?.v2Dir && wantBpf) ops.cgroup.push({ op: 'devbpf', args: [cg.v2Dir, compiled().program] });
  const noDeviceCgroup = !cg?.v1Devices && !(cg?.v2Dir && wantBpf);
  if (noDeviceCgroup) {
    const why = !plan.devicesBpf.ok ? plan.devicesBpf.why : plan.devicesV1.ok ? '' : plan.devicesV1.why;
    if (devs.length) { unenforced.push(`device cgroup rules (${why}; the minimal /dev and nodev mounts still apply)`); loud = true; } else defaultsWeaker = true;
  }
  if (req.timeoutMs !== undefined && plan.uid !== 0 && !cg) {
    // A backstop only: sbx's own timer ends the run first (CPU time never exceeds wall time).
    const s = Math.ceil((req.timeoutMs + TIMEOUT_GRACE_MS) / 1000) + 1;
    ops.rlimits.push({ op: 'rlimit', args: ['cpu', String(s), String(s + 1)] });
  }
  if (cg) for (const d of cg.dirs) ops.cgroup.push({ op: 'cgroup_procs', args: [`${d}/cgroup.procs`] });

  let notice: string | null = null;
  // Only what was asked for is named; the defaults' weaker enforcement is one short line the
  // caller says once ('sbx doctor' has the details).
  if (unenforced.length || fallbacks.length) {
    const head = cg ? 'some limits have no cgroup' : `no writable cgroup for ${plan.uid === 0 ? 'root' : `uid ${plan.uid}`}`;
    notice = `${head}: ${[...fallbacks, ...(unenforced.length ? [`not enforced: ${unenforced.join(', ')}`] : [])].join('; ')}`;
  } else if (defaultsWeaker) {
    notice = `no ${cg ? 'full ' : ''}cgroup here: default limits are rlimits ('sbx doctor' explains)`;
  }
  return { ops, notice, noticeIsQuiet: !loud, cgroups: cg, sweepStale: () => { sweepStaleCgroups(plan); } };
}

/** Removes the run's cgroups (once; later calls do nothing). */
export function releaseLimits(p: PreparedLimits): void {
  if (!p.cgroups) return;
  const left = removeSandboxCgroups(p.cgroups);
  p.cgroups = null;
  if (left.length) notice('warn', `could not remove cgroup ${left.join(', ')} (the next sbx run removes it)`);
}

/** Why the command died, from the kernel's counters and our timer, one line each. Read before release. */
export function explainEnd(p: PreparedLimits, req: LimitsRequest, timedOut: boolean): string[] {
  const lines: string[] = [];
  if (timedOut && req.timeoutMs !== undefined) lines.push(`killed: timeout ${formatDuration(req.timeoutMs)}`);
  if (p.cgroups) {
    const ev = readCgroupEvents(p.cgroups);
    if (ev.oomKills > 0 && req.memory !== undefined) lines.push(`killed: memory limit ${formatSize(req.memory)} reached`);
    // Hitting pids.max kills nothing: forks fail with EAGAIN, and the command decides what next.
    if (ev.pidsMaxHits > 0) lines.push(`pids limit ${req.pids} reached (${ev.pidsMaxHits} fork${ev.pidsMaxHits === 1 ? '' : 's'} refused)`);
  }
  return lines;
}

/**
 * --timeout: SIGTERM to the helper (which passes it to the command), then after a grace period
 * SIG_KILL_COMMAND, on which the helper SIGKILLs the command's whole pid namespace and lives on
 * to copy --disk layers back. Returns a function that disarms the timer and tells whether it
 * fired.
 */
export function armTimeout(pid: number, ms: number): () => boolean {
  let fired = false;
  let kill: NodeJS.Timeout | undefined;
  const term = setTimeout(() => {
    fired = true;
    try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ }
    // The helper SIGKILLs the command on this signal and stays alive to copy --disk layers back.
    kill = setTimeout(() => { try { process.kill(pid, SIG_KILL_COMMAND); } catch { /* already gone */ } }, TIMEOUT_GRACE_MS);
  }, ms);
  return () => { clearTimeout(term); if (kill) clearTimeout(kill); return fired; };
}
