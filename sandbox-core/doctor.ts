// `sbx doctor`: what this machine and user allow. The decisive check is a real throwaway
// sandbox running `true`; the other lines explain the parts.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { errnoName } from './base/errno.js';
import { expectedHelperVersion, findHelper, fusePreloadPath, helper, helperBuildRecord, helperMatches, helperVersionOf, markStale, packageHelperPath } from './helper.js';
import { SbxError } from './base/errors.js';
import { currentDirOrNull } from './base/cwd.js';
import { chooseIdMapping, dirOwner, invokingIds } from './idmap.js';
import { describeFailure, runSandbox } from './sandbox.js';
import { Store } from './store.js';
import type { SandboxMeta } from './types.js';
import { loadSeccomp } from './seccomp.js';
import { storeRoot } from './base/paths.js';
import { cgroupChecks } from './cgroup/checks.js';
import { which } from './which.js';
import { fuseProblem, upperTakesUserXattrs } from './engines.js';
import { displayText } from './base/bpath.js';
import { defaultCapabilities } from '../policies/capabilities/index.js';

export interface Check {
  name: string;
  status: 'ok' | 'limited' | 'missing';
  detail: string;
  hint?: string;
  /** sbx cannot run without it. */
  required: boolean;
}

function read(p: string): string | null {
  try { return readFileSync(p, 'utf8').trim(); } catch { return null; }
}

/**
 * `run` is runSandbox; a test passes one that fails midway. The probe's sandbox is removed
 * however the probe ends: doctor is what one runs when something is wrong, and a failure after
 * the store entry was made (until 2026-12-04 a removed current directory made one) left a
 * saved, empty sandbox in `sbx ls`.
 */
export async function probeSandbox(seccomp: Buffer | null, run: typeof runSandbox = runSandbox): Promise<{ ok: boolean; detail: string; fallbacks: string[]; readOnly?: string[]; shownEmpty?: string[]; emptyInside?: string[] }> {
  const store = new Store();
  let made: SandboxMeta | null = null;
  try {
    const r = await run(store, {
      command: ['true'], cwd: '/', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, name: null, throwaway: true,
      net: false, keepUser: false, hide: [], bind: [], seccomp, policyName: 'probe', capabilities: defaultCapabilities(), inSandbox: null, pty: 0,
      onCreated: (meta) => { made = meta; },
    });
    made = r.meta;
    const fail = describeFailure(r.outcome, ['true']);
    const fallbacks = r.launch.readOnlyFallbacks.map((f) => `${f.path} (${errnoName(f.errno)})`);
    if (fail) return { ok: false, detail: fail.hint ? `${fail.message} (${fail.hint})` : fail.message, fallbacks };
    return { ok: r.exitStatus === 0, detail: r.exitStatus === 0 ? 'a throwaway sandbox ran `true`' : `\`true\` exited ${r.exitStatus}`, fallbacks, readOnly: r.view.readOnly, shownEmpty: r.view.shownEmpty, emptyInside: r.view.emptyInside };
  } catch (e) {
    return { ok: false, detail: (e as Error).message, fallbacks: [] };
  } finally {
    if (made) {
      try { store.remove(made); } catch { /* the next sbx ls lists it as broken; nothing more to do here */ }
    }
  }
}

/** Which helper is used, how it was built, and whether it is this sbx's version (building it if there is none). */
function helperCheck(): Check {
  const want = expectedHelperVersion();
  let found = findHelper();
  if (found && found.origin === 'package' && !helperMatches(found.path)) {
    markStale(found);
    found = findHelper();
  }
  try {
    const h = found ?? helper();
    const version = helperVersionOf(h.path);
    if (version !== want) {
      return { name: 'helper', status: 'missing', detail: `${h.path} is version ${version ?? 'unknown'}, sbx needs ${want}`, hint: 'remove it and run sbx doctor again to rebuild it', required: true };
    }
    const rec = helperBuildRecord(h.path);
    const how = rec ? `built by ${rec.by} with ${rec.compiler}${rec.linked ? `, linked ${rec.linked}` : ''} at ${rec.at}` : 'no build record';
    const where = h.origin === 'package' ? 'in the package' : h.origin === 'cache' ? 'in your cache' : 'from $SBX_HELPER';
    const stale = h.origin === 'cache' ? ` (${packageHelperPath()} is missing or another version)` : '';
    return { name: 'helper', status: 'ok', detail: `${h.path} ${where}, version ${version}, ${how}${stale}`, required: true };
  } catch (e) {
    const msg = e instanceof SbxError ? e.message : String(e);
    return { name: 'helper', status: 'missing', detail: msg, hint: 'install a C compiler, then run sbx doctor again', required: true };
  }
}

export async function runChecks(): Promise<Check[]> {
  const checks: Check[] = [];
  const h = helperCheck();
  checks.push(h);
  const helperOk = h.status === 'ok';

  const userns = [
    ['/proc/sys/kernel/unprivileged_userns_clone', '0', 'sysctl -w kernel.unprivileged_userns_clone=1'],
    ['/proc/sys/kernel/apparmor_restrict_unprivileged_userns', '1', 'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0'],
    ['/proc/sys/user/max_user_namespaces', '0', 'sysctl -w user.max_user_namespaces=15000'],
  ] as const;
  const blockers = userns.filter(([p, bad]) => read(p) === bad);
  const probe = helperOk ? await probeSandbox(null) : { ok: false, detail: 'helper not built', fallbacks: [] };
  const isRoot = process.getuid?.() === 0;
  checks.push({
    name: 'user namespaces',
    status: probe.ok ? 'ok' : 'missing',
    detail: probe.ok ? probe.detail : blockers.length ? `blocked by ${blockers.map(([p]) => p).join(', ')}` : probe.detail,
    hint: !probe.ok && blockers.length && !isRoot ? blockers.map(([, , fix]) => fix).join('; ') : undefined,
    required: true,
  });
  checks.push({
    name: 'overlayfs',
    status: !probe.ok ? 'missing' : probe.fallbacks.length ? 'limited' : 'ok',
    detail: !probe.ok ? 'not tested (the sandbox did not start)' : probe.fallbacks.length ? `read-only instead of copy-on-write: ${probe.fallbacks.join(', ')}` : 'every host mount is overlaid (userxattr)',
    required: true,
  });
  if (probe.ok && (probe.readOnly?.length || probe.shownEmpty?.length || probe.emptyInside?.length)) {
    const parts: string[] = [];
    if (probe.readOnly?.length) parts.push(`read-only files beside mounts (too big to copy, or unreadable): ${probe.readOnly.map(displayText).join(', ')}`);
    if (probe.shownEmpty?.length) parts.push(`shown empty and writable (unreadable to you on the host): ${probe.shownEmpty.map(displayText).join(', ')}`);
    if (probe.emptyInside?.length) parts.push(`empty and read-only (mounts sbx cannot show): ${probe.emptyInside.map(displayText).join(', ')}`);
    checks.push({ name: 'view', status: 'limited', detail: parts.join('; '), required: false });
  }
  let seccompOk = false, seccompDetail = '';
  const statusSeccomp = /^Seccomp:\s+\d/m.test(read('/proc/self/status') ?? '');
  if (!statusSeccomp) seccompDetail = 'the kernel has no seccomp support';
  else if (probe.ok) {
    try {
      const p = await probeSandbox(await loadSeccomp('default'));
      seccompOk = p.ok;
      seccompDetail = p.ok ? "the 'default' policy loads and `true` runs under it" : p.detail;
    } catch (e) {
      seccompDetail = (e as Error).message;
    }
  } else seccompDetail = 'not tested (the sandbox did not start)';
  checks.push({ name: 'seccomp', status: seccompOk ? 'ok' : 'missing', detail: seccompDetail, hint: seccompOk ? undefined : 'sbx run --no-seccomp runs without a filter', required: true });

  const { directPathSupported } = await import('./net/session.js');
  const direct = directPathSupported();
  checks.push({
    name: 'allow-net direct path',
    status: direct && seccompOk ? 'ok' : 'limited',
    detail: direct && seccompOk ? `Linux ${release()}: an IP or CIDR entry of --allow-net gets a socket connected on the host (seccomp user notification, ADDFD)`
      : direct ? 'needs the seccomp filter: --allow-net goes through the proxy and the relay only'
      : `Linux ${release()} lacks pidfd_open's PIDFD_THREAD (6.9): --allow-net goes through the proxy and the relay only (about half the speed)`,
    required: false,
  });

  checks.push({
    name: 'capabilities',
    status: probe.ok ? 'ok' : 'missing',
    detail: `the command keeps ${defaultCapabilities().join(' ')} (bounding set; inheritable and ambient empty)`,
    hint: probe.ok ? undefined : 'not tested (the sandbox did not start)',
    required: false,
  });

  const cwd = currentDirOrNull();
  const idmap = chooseIdMapping({ keepUser: false, extraIds: invokingIds(process.env, cwd === null ? null : dirOwner(cwd)) });
  // Root's /etc/subuid entry of exactly 65536 leaves no room for the sudo user's high id.
  const unmapped = idmap.unmappedUids ?? [];
  checks.push({
    name: 'uid mapping',
    status: idmap.kind === 'single' || unmapped.length ? 'limited' : 'ok',
    detail: idmap.description,
    hint: idmap.kind === 'single' ? 'apt-get install uidmap and give your user a range in /etc/subuid and /etc/subgid'
      : unmapped.length ? `uid ${unmapped.join(', ')} (yours or the working directory's owner's) is above the ids root's sandboxes map, and root's /etc/subuid and /etc/subgid ranges have no room after them: give root 65538 ids there, or those files are nobody's inside` : undefined,
    required: false,
  });
  const fuseWhy = fuseProblem(which);
  checks.push({
    name: 'fuse-overlayfs',
    status: fuseWhy ? 'limited' : 'ok',
    detail: fuseWhy ?? (isRoot ? `${which('fuse-overlayfs')} (not needed as root)` : `${which('fuse-overlayfs')}: system paths are writable inside, ${fuseLayout()}`),
    hint: fuseWhy && !isRoot ? 'without it, system paths owned by root are read-only inside: apt-get install fuse-overlayfs' : undefined,
    required: false,
  });
  for (const c of cgroupChecks()) checks.push({ ...c, required: false });
  const store = storeRoot();
  checks.push({ name: 'store', status: 'ok', detail: store, required: false });
  return checks;
}

/** How a throwaway run's system trees take writes (sandbox.ts prepareLayers): its layers are on tmpfs. */
function fuseLayout(): string {
  if (!fusePreloadPath()) return 'every write through the daemon (its preload, sbx-fuse-noplus.so, was not built)';
  if (!upperTakesUserXattrs(release(), true)) return `a throwaway run's writes through the daemon (tmpfs takes user xattrs from Linux 6.6; this is ${release()})`;
  return '`/` one kernel overlay over a read-only daemon';
}
