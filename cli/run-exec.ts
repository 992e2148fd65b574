// What `sbx run` does once its options are parsed: by clipanion (cli/run.ts) or, for the
// common flags, by the fast path (cli/run-fast.ts) that spares a run the parser's start-up.
import { UsageError } from './usage-error.js';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { existsSync, lstatSync, statSync } from 'node:fs';
import { isatty } from '../sandbox-core/base/light-process.js';
import { sbxFor, Store } from '../sandbox-core/store.js';
import { sbxOf } from '../sandbox-core/layers-opener.js';
import type { BindRequest } from '../sandbox-core/sandbox.js';
import { runCommand } from '../sandbox-core/run.js';
import { SbxError } from '../sandbox-core/base/errors.js';
import { currentDir } from '../sandbox-core/base/cwd.js';
import { isBelow, isWithin } from '../sandbox-core/base/within.js';
import { SPECIAL_PATHS } from '../sandbox-core/plan.js';
import { EXIT_INTERRUPTED } from '../sandbox-core/base/exit-status.js';
import { loadSeccomp } from '../sandbox-core/seccomp.js';
import { resolveCapabilities } from '../policies/capabilities/index.js';
import { rawArgs } from '../sandbox-core/rawbytes.js';
import { refuseLossyArgs } from './arg-bytes.js';
import { colors, commandEnded, info, rendered, say, setQuiet, warn } from './output.js';
import { changesHeading, discarded, noChanges } from './review-words.js';
import { wantFullCodeCache } from './code-cache-full.js';
import { changedNothing } from '../sandbox-core/changes/empty-scan.js';
import { cleanEnv } from '../sandbox-core/clean-env.js';
import { hideTargets } from '../sandbox-core/hide-targets.js';
import { display, displayText, fromUser } from '../sandbox-core/base/bpath.js';
import { parseLimitFlags, sizeFlag } from './limit-options.js';
import { checkPatterns } from '../sandbox-core/changes/glob.js';
import { openReportTarget } from './report-file.js';
import { loadConfig } from '../sandbox-core/config.js';
import type { LowerView } from '../sandbox-core/image/view.js';
import type { SandboxMeta } from '../sandbox-core/types.js';

/** The parsed options of `sbx run` (the fields of RunCommand). */
export interface RunOptions {
  discard: boolean; keep: boolean; name?: string; inRef?: string; net: boolean; keepUser: boolean; mapRoot: boolean;
  hide: string[]; bind: string[]; roBind: string[]; policy?: string; capAdd: string[]; capDrop: string[];
  noSeccomp: boolean; only: string[]; exclude: string[]; report?: string; quiet: boolean;
  memory?: string; pids?: string; cpus?: string; disk?: string; ioWeight?: string; timeout?: string;
  device: string[]; hideSecrets: boolean; allowNet: string[]; allowSecrets: boolean; cleanEnvFlag: boolean;
  keepSetuid: boolean; image?: string; rootfs?: string; envSet: string[]; workdir?: string; imageUser?: string;
  command: string[];
}

function parseBind(spec: string, readOnly: boolean, flag: string): BindRequest {
  const i = spec.indexOf(':');
  // resolve('') is the current directory: `--bind ''` (an unset variable) bound it writable.
  if (i === 0 || !spec) throw new UsageError(`${flag} '${spec}': give the host path to bind`);
  const host = resolve(i < 0 ? spec : spec.slice(0, i));
  const given = i < 0 ? host : spec.slice(i + 1);
  if (!isAbsolute(given)) throw new UsageError(`${flag} ${displayText(spec)}: the inside path must be absolute`);
  // Normalized as the host path is: `/mnt/x/` failed mid-setup (step 'bind', EINVAL), and
  // `/mnt//x` kept a --hide of /mnt/x/secret from being matched to it (boundHideOps).
  const inside = resolve(given);
  if (!existsSync(host)) throw new SbxError(`${flag} ${displayText(spec)}: ${displayText(host)} does not exist`);
  // Mounted anew in the sandbox, below the view (procfs and a read-only sysfs): a bind there
  // failed mid-setup ("step 'bind-idmap' ...: EPERM", "step 'bind-mkdir' /proc/x: ENOENT").
  if (['/proc', '/sys'].some((d) => isWithin(inside, d))) throw new UsageError(`${flag} ${displayText(spec)}: /proc and /sys inside are the sandbox's own, which sbx does not bind into; bind somewhere else`);
  return { host, inside, readOnly };
}

/**
 * A bind of a dir onto a file (or a file onto a dir) that is there on the host: the kernel
 * refuses it in the middle of building the view, which said only "setup failed at step 'bind':
 * EINVAL". Known for this machine's view only (an image's, or a saved sandbox's, may differ
 * there: the helper's error stands). Both followed through links, as the bind is.
 */
function checkBindKinds(b: BindRequest): void {
  const kindOf = (p: string): { isDirectory(): boolean } | undefined => { try { return statSync(p, { throwIfNoEntry: false }); } catch { return undefined; } };
  const into = kindOf(b.inside);
  const from = kindOf(b.host);
  if (!into || !from || into.isDirectory() === from.isDirectory()) return;
  const kind = (dir: boolean): string => (dir ? 'a directory' : 'not a directory');
  throw new SbxError(`${b.readOnly ? '--ro-bind' : '--bind'} ${displayText(b.host)}:${displayText(b.inside)}: ${displayText(b.host)} is ${kind(from.isDirectory())} and ${displayText(b.inside)} is ${kind(into.isDirectory())}; nothing ran`, 125,
    'bind a directory onto a directory and a file onto a file, or onto a new name, which sbx makes inside');
}

/**
 * A --hide of a path that is not there is kept (it may appear during the run: the whiteout keeps
 * it out), but said: a typo in it would leave the path meant visible with no sign. Only a path
 * known missing: one that cannot be looked at is the command's to miss too. `host`: where the
 * path is on the host (a bind's source, for one below its destination, `boundFrom`).
 */
function warnHideMissing(p: string, host: string, boundFrom?: string): void {
  let code: string | undefined;
  try { lstatSync(host); return; } catch (e) { code = (e as NodeJS.ErrnoException).code; }
  if (code !== 'ENOENT' && code !== 'ENOTDIR') return;
  // Below a bind's destination: the host's dir itself, with nothing to hide one made later.
  if (boundFrom !== undefined) {
    warn(`--hide ${displayText(p)}: no such path in ${displayText(boundFrom)}, the bind's source: nothing is hidden (check for a typo: the path you meant would stay visible)`);
    return;
  }
  const parent = lstatSync(dirname(host), { throwIfNoEntry: false })?.isDirectory();
  warn(parent ? `--hide ${displayText(p)}: no such path here (check for a typo: the path you meant would stay visible); if it appears during the run it stays absent inside`
    : `--hide ${displayText(p)}: no such path here, nor its parent directory: nothing is hidden (check for a typo: the path you meant would stay visible)`);
}

/** The environment of an image's command: its Env, then --env on top (never this machine's). */
function imageEnv(base: string[], set: string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const e of [...base, ...set]) {
    const i = e.indexOf('=');
    if (i <= 0) throw new UsageError(`--env ${displayText(e)}: give NAME=VALUE`);
    env[e.slice(0, i)] = e.slice(i + 1);
  }
  if (process.env.TERM && env.TERM === undefined) env.TERM = process.env.TERM;
  return env;
}

/** --image / --rootfs (or the image of the sandbox --in names): its lower layers, cached. */
async function lowerViewOf(o: RunOptions, store: Store, inSandbox: SandboxMeta | null): Promise<(LowerView & { cmdUser: { uid: number; gid: number } | null }) | null> {
  const own = o.image !== undefined || o.rootfs !== undefined;
  if (o.image !== undefined && o.rootfs !== undefined) throw new UsageError('--image and --rootfs each name the root: use one');
  if (inSandbox && own) throw new UsageError('--in runs in the view the sandbox was made with: drop --image/--rootfs');
  const imageBased = own || !!inSandbox?.image || !!inSandbox?.rootfs;
  if (!imageBased && (o.envSet.length || o.workdir !== undefined || o.imageUser !== undefined)) {
    throw new UsageError('--env, --workdir and --image-user go with --image or --rootfs');
  }
  if (!imageBased) return null;
  if (o.hide.length) throw new UsageError('--hide names paths of this machine; with --image/--rootfs the root is not this machine');
  if (o.workdir !== undefined && !o.workdir.startsWith('/')) throw new UsageError('--workdir must be an absolute path inside');
  // Loaded only here: a run of this machine never pays for the image code.
  const { prepareImage, prepareRootfs, reopenLowerView, resolveUser } = await import('../sandbox-core/image/view.js');
  const view = inSandbox ? (await reopenLowerView(store, inSandbox, (l) => info(l)))!
    : o.rootfs !== undefined ? prepareRootfs(resolve(o.rootfs))
      : await prepareImage(store, o.image!, (l) => info(l));
  const ref = o.image ?? o.rootfs ?? inSandbox?.image?.ref ?? inSandbox?.rootfs ?? '';
  return { ...view, cmdUser: resolveUser(o.imageUser ?? view.process.user, view.lowerRoot, ref) };
}

export async function executeRun(o: RunOptions): Promise<number> {
  setQuiet(o.quiet);
  // Both parsers leave the command as the tail of argv: everything before it is sbx's.
  refuseLossyArgs(process.argv.slice(2), o.command.length);
  let argv = o.command[0] === '--' ? o.command.slice(1) : o.command;
  const store = new Store();
  const inSandbox = o.inRef ? store.resolve(o.inRef) : null;
  const lowerView = await lowerViewOf(o, store, inSandbox);
  if (lowerView && o.keep) throw new UsageError(`-y/--keep: with --image or --rootfs there is no host to commit to (save, then ${inSandbox ? sbxOf(inSandbox) : sbxFor(store)} export)`);
  if (lowerView && argv.length === 0) argv = [...lowerView.process.entrypoint, ...lowerView.process.cmd];
  // The command starts where sbx was started: a removed directory is said here, before any
  // sandbox exists (an image's run starts in its own WorkingDir and needs none of ours).
  const cwd = lowerView ? o.workdir ?? lowerView.process.cwd : currentDir();
  if (argv.length === 0) throw new UsageError(`no command given${lowerView ? ' (and the image names none)' : ''}: sbx run [OPTIONS] [--] COMMAND [ARG...]${lowerView ? " ('sbx run --image IMAGE' alone runs the image's own command)" : ''}`);
  if (o.discard && o.keep) throw new UsageError('-n/--discard and -y/--keep contradict each other');
  if (o.inRef && o.name) throw new UsageError('--in and --name cannot be combined');
  if (o.discard && o.name !== undefined) throw new UsageError('-n/--discard keeps nothing for --name to name: drop one');
  if (o.mapRoot && process.getuid?.() !== 0) throw new UsageError('--map-root only means something under sudo (as root)');
  if (o.inRef && o.discard) throw new UsageError('--in with -n would discard the saved sandbox: use sbx discard afterwards instead');
  // resolve('') is the current directory: `--hide ''` (an unset variable) hid it.
  if (o.hide.includes('')) throw new UsageError("--hide '': give the path to hide");
  for (const h of o.hide) if (resolve(h) === '/') throw new UsageError('--hide /: refusing to hide the whole filesystem');
  // The command's own, which its init needs: sbx mounts them anew (a /proc of its processes only).
  for (const h of o.hide) if ((SPECIAL_PATHS as readonly string[]).includes(resolve(h))) throw new UsageError(`--hide ${resolve(h)}: the sandbox has a ${resolve(h)} of its own, which the command needs; hide a path in it instead`);
  // A malformed pattern is refused before the command runs, not after.
  checkPatterns(o.only, o.exclude);
  // The config file's defaults (docs/config.md); a flag given here wins. The fast path skips
  // app.ts, so an invalid file is reported from here too.
  const cfg = loadConfig();
  const policy = o.policy ?? cfg.policy ?? 'default';
  const bind = [...o.bind.map((b) => parseBind(b, false, '--bind')), ...o.roBind.map((b) => parseBind(b, true, '--ro-bind'))];
  if (!lowerView && !inSandbox) bind.forEach(checkBindKinds);
  // A path named below a bind's destination is the source's entry there (sandbox.ts boundHideOps).
  if (!lowerView) {
    for (const h of o.hide.map((x) => resolve(x))) {
      const b = bind.find((x) => x.inside !== x.host && isBelow(h, x.inside));
      warnHideMissing(h, b ? join(b.host, relative(b.inside, h)) : h, b?.host);
    }
  }
  // With --in and no capability flag, the sandbox's command keeps the set it was made with.
  const recordedCaps = inSandbox && !o.capAdd.length && !o.capDrop.length ? inSandbox.options.capabilities : undefined;
  const capabilities = recordedCaps ?? resolveCapabilities(o.capAdd, o.capDrop);
  // isatty, not process.stdin/stdout: making those streams costs milliseconds a run does not need.
  // Each terminal among them is the command's own pty, never the host's (docs/security.md),
  // except a terminal on stdin alone (`cmd | less`, `cmd > log`): a pty there would read the
  // keys while the command runs, a pager's too; it goes in as itself.
  const t0 = isatty(0), t1 = isatty(1);
  const pty = t0 && !t1 ? 0 : (t0 ? 1 : 0) | (t1 ? 2 : 0) | (isatty(2) ? 4 : 0);
  if (o.hideSecrets && o.allowSecrets) throw new UsageError('--hide-secrets and --allow-secrets contradict each other');
  // --in keeps the network the sandbox was made with; --net cannot widen it (it was ignored).
  if (inSandbox && o.net && !inSandbox.options.net) throw new UsageError(`--net: sandbox ${displayText(inSandbox.name ?? inSandbox.id)} was made without the host's network, which --in keeps; --allow-net HOST:PORT opens hosts for one run`);
  const net = inSandbox ? inSandbox.options.net : o.net;
  if (net && o.allowNet.length) throw new UsageError('--net shares the whole network; --allow-net gives only the hosts named: use one of them');
  // The entries are checked here, before any sandbox exists, so a typo leaves nothing behind.
  // The direct path needs the filter to notify connect(2); not with --keep-user: the
  // supervisor then has no capabilities to take the command's view of a unix socket's path
  // (native/netdirect.c).
  const allowNetDirect = o.allowNet.length > 0 && (await import('../sandbox-core/net/session.js')).wantsDirectPath(o.allowNet)
    && !o.noSeccomp && !o.keepUser;
  let seccomp: Buffer | null = null;
  if (o.noSeccomp) warn('--no-seccomp: the command runs without a syscall filter');
  else seccomp = await loadSeccomp(policy, capabilities, allowNetDirect);
  // With any network, whatever the command can read it can send: secrets hidden unless asked.
  const hideSecrets = o.hideSecrets || ((net || o.allowNet.length > 0) && !o.allowSecrets);
  // What an earlier run without a network saw (~/.ssh, tokens) it may have copied into the
  // sandbox, out of reach of this run's hiding: with a network now, the copy could leave.
  // A sandbox made before sbx recorded this has no record: it may have, so it is refused too.
  if (inSandbox && inSandbox.secretsSeen !== false && (net || o.allowNet.length > 0) && !o.allowSecrets) {
    const ref = displayText(inSandbox.name ?? inSandbox.id);
    const saw = inSandbox.secretsSeen ? 'an earlier run in it had your credentials in sight (it had no network then)'
      : 'it was made by an older sbx that did not record whether a run in it had your credentials in sight';
    throw new SbxError(`sandbox ${ref}: ${saw}, and what it copied is out of reach of --hide-secrets; with a network now a copy could leave; nothing ran`, 125,
      `check what it holds with '${sbxOf(inSandbox)} diff ${ref}' and add --allow-secrets if none of it is a secret, or run the networked step in a new sandbox`);
  }
  let env: NodeJS.ProcessEnv = lowerView ? imageEnv(lowerView.process.env, o.envSet) : o.cleanEnvFlag ? cleanEnv(process.env, cwd) : process.env;
  let secretHide: string[] = [];
  if (hideSecrets) {
    // Loaded only here: quiet.js, the part of a run that cannot hide secrets, leaves the list out.
    const { secretPaths, withoutSecrets } = await import('../sandbox-core/secrets.js');
    // An image holds none of this machine's credential stores: there is nothing to hide but
    // where a --bind shows them (sandbox.ts boundHideOps).
    if (!lowerView || o.bind.length || o.roBind.length) secretHide = hideTargets(secretPaths(process.env.HOME));
    const w = withoutSecrets(env);
    env = w.env;
    const n = (k: number, what: string): string => `${k} ${what}${k === 1 ? '' : 's'}`;
    const shownHidden = lowerView ? 0 : secretHide.length;
    const what = [shownHidden ? `${n(shownHidden, 'credential path')} hidden` : '', w.dropped.length ? `${n(w.dropped.length, 'secret variable')} dropped (${w.dropped.map(displayText).join(', ')})` : ''].filter(Boolean).join(', ');
    if (what) info(`secrets: ${what}${o.hideSecrets ? '' : '; --allow-secrets keeps them'}`);
  }
  let diskBytes: number | null = null;
  const disk = o.disk ?? cfg.limits?.disk;
  if (disk !== undefined) {
    diskBytes = sizeFlag('--disk', disk);
  }
  const dl = cfg.limits ?? {};
  const limits = parseLimitFlags({ memory: o.memory ?? dl.memory, pids: o.pids ?? dl.pids, cpus: o.cpus ?? dl.cpus, ioWeight: o.ioWeight, timeout: o.timeout ?? dl.timeout, device: o.device });
  // Each where it is on the host, its dirs' symlinks resolved (sandbox-core/hide-targets.ts).
  const ownHide = hideTargets(o.hide.map((h) => resolve(h)));
  const cfgHide = lowerView ? [] : hideTargets(cfg.hide ?? []);
  const hide = [...new Set([...cfgHide, ...ownHide, ...(lowerView ? [] : secretHide)])];
  const hideBound = lowerView ? secretHide : [];
  // A hidden working directory is absent inside, so the command could not start there: root's
  // helper failed at its `cwd` step, an ordinary user's ran in the empty cover of a tree of
  // its own. Refused alike, before any sandbox exists, naming what hides it.
  const hiddenBy = lowerView ? undefined : hide.find((h) => isWithin(cwd, h));
  if (hiddenBy !== undefined) {
    const by = display(fromUser(hiddenBy));
    const why = ownHide.includes(hiddenBy) ? `--hide ${by}` : secretHide.includes(hiddenBy) ? `hiding secrets hides ${by}` : `the config's hide lists ${by}`;
    throw new SbxError(`the working directory ${display(fromUser(cwd))} would be hidden inside (${why})`, 125, 'cd somewhere else first');
  }
  // What the command could write on the host itself, past the overlays: the end of the run
  // names these rather than say the host was not touched.
  const direct = [...bind.filter((b) => !b.readOnly).map((b) => `--bind ${display(b.host)}`), ...limits.devices.filter((d) => d.access.includes('w')).map((d) => `--device ${display(d.path)}`)];
  // Fixed now, before the command can touch the host through a --bind (cli/report-file.ts).
  const report = o.report !== undefined ? openReportTarget(o.report) : null;
  const result = await runCommand(store, {
    command: argv,
    rawCommand: lowerView ? argv : rawArgs(argv),
    cwd,
    lower: lowerView,
    cmdUser: lowerView?.cmdUser ?? null,
    env,
    name: o.name ?? null,
    throwaway: o.discard,
    // As reviewAfterRun decides: a quiet discard with no report scans nothing.
    layersUnread: o.discard && o.quiet && !o.report,
    // Every other run is reviewed with reviewAfterRun's plain scan: the helper makes it.
    reviewScan: !(o.discard && o.quiet && !o.report),
    net,
    keepUser: o.keepUser,
    mapRoot: inSandbox ? !!inSandbox.options.mapRoot : o.mapRoot,
    hide,
    hideBound,
    secretsVisible: !hideSecrets,
    bind,
    seccomp,
    policyName: o.noSeccomp ? 'none' : policy,
    capabilities,
    inSandbox,
    pty,
    diskBytes,
    allowNet: o.allowNet,
    allowNetDirect,
    limits,
    // Whatever the command left set on the terminal is ended before sbx says anything more.
    onEnded: commandEnded,
  });
  // The sandbox stays this run's (no other run in it, commit, discard or prune) until the
  // review has its answer and has acted on it.
  try {
    // Said even with -q: the command's end is not its own doing.
    for (const l of result.endReasons) say(l);
    if (result.error) throw result.error;
    if (result.failure) say(result.failure);
    // A limit that killed it (`killed: memory limit 32M reached`) was said above, and says more
    // than the SIGKILL it sent.
    if (result.signal !== null) { if (!result.endReasons.some((r) => r.startsWith('killed:'))) info(`the command was killed by signal ${result.signal}`); }
    // As a death by signal is: a review without a prompt lists the changes with nothing else
    // to say that they may be partial. A failure to execute and a limit said their own line.
    else if (result.exitStatus !== 0 && !result.failure && !result.endReasons.length) info(`the command failed with exit status ${result.exitStatus}`);
    // A warning, as the view's explanations of the command's EROFS/EACCES lines are (silenced
    // by -q). --in keeps the sandbox's network: --net is refused there, so it is not offered.
    if (result.noNetwork) {
      warn(inSandbox
        ? `the command had no network (sandbox ${displayText(inSandbox.name ?? inSandbox.id)} was made without one) and said "${result.noNetwork}": use --allow-net HOST:PORT for what it needs`
        : `the command had no network (sbx's default) and said "${result.noNetwork}": use --allow-net HOST:PORT for what it needs, or --net`);
    }
    if (result.net) {
      const { netSummaryLines } = await import('../sandbox-core/net/session.js');
      for (const line of netSummaryLines(result.net, display)) info(`network: ${line}`);
      if (!result.net.length) info('network: no connection was attempted');
    }
    // A quiet discard with no report (-n -q) scans and says nothing: reviewAfterRun would only
    // remove the sandbox, so its code (review, change lists, rendering) is not even loaded.
    if (o.discard && o.quiet && !o.report) {
      store.remove(result.meta);
      return result.exitStatus;
    }
    // A run whose helper found nothing in any layer ends as the review would (the summary's
    // first line, the sandbox removed), without loading it: its modules' start was ~3 ms of a
    // `run -n -- true`. The review still takes what it does more with an empty list: a report,
    // --only/--exclude that match nothing (it warns), a named sandbox (it is saved).
    if (result.reviewAnswer && changedNothing(result.reviewAnswer, result.meta.layers) && !o.report && !o.only.length && !o.exclude.length && (o.discard || !result.meta.name)) {
      if (!o.quiet) rendered(changesHeading(colors.bold, noChanges(direct)));
      store.remove(result.meta);
      if (o.discard && !o.quiet) info(discarded(direct));
      return result.exitStatus;
    }
    // The run part's code cache holds what the review runs of it once a run got here (code-cache-full.ts).
    wantFullCodeCache();
    // Loaded only now, a part of its own in the bundle (review.js, scripts/bundle.mjs): the
    // change list and diff machinery cost nothing before the command starts, nor a run that
    // changed nothing.
    const { reviewAfterRun } = await import('./review.js');
    const reviewStatus = await reviewAfterRun(store, result.meta, {
      keep: o.keep,
      keepSetuid: o.keepSetuid,
      discard: o.discard,
      quiet: o.quiet,
      only: o.only,
      exclude: o.exclude,
      report,
      exitStatus: result.exitStatus,
      durationMs: result.durationMs,
      endReasons: result.endReasons,
      net: result.net,
      answer: result.reviewAnswer,
      direct,
    });
    // An interrupted review wins over the command's own status: what comes next in a script
    // must stop, and the sandbox it saved waits for an answer.
    if (reviewStatus === EXIT_INTERRUPTED) return reviewStatus;
    // --keep whose commit refused something (conflicts, denied paths) must not look like success;
    // a --keep that committed nothing because the command failed exits with the command's status.
    return result.exitStatus === 0 && reviewStatus !== 0 ? reviewStatus : result.exitStatus;
  } finally {
    result.release();
  }
}
