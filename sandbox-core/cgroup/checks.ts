// sbx doctor's lines about cgroups: the hierarchies, the controllers this user can use (and why
// not), and device enforcement.
import { CONTROLLERS, currentPlan, type CgroupPlan } from './plan.js';

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
