import { Command, Option, UsageError } from 'clipanion';
import { isAbsolute, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { Store } from '../sandbox-core/store.js';
import type { BindRequest } from '../sandbox-core/sandbox.js';
import { runCommand } from '../sandbox-core/run.js';
import { SbxError } from '../sandbox-core/base/errors.js';
import { loadSeccomp } from '../sandbox-core/seccomp.js';
import { resolveCapabilities } from '../policies/capabilities/index.js';
import { rawArgs } from '../sandbox-core/rawbytes.js';
import { info, say, setQuiet, warn } from './output.js';
import { cleanEnv, secretPaths, withoutSecrets } from '../sandbox-core/secrets.js';
import { display, displayText } from '../sandbox-core/changes/bpath.js';
import { parseLimitFlags, sizeFlag } from './limit-options.js';
import { checkPatterns } from '../sandbox-core/changes/glob.js';
import type { LowerView } from '../sandbox-core/image/view.js';
import type { SandboxMeta } from '../sandbox-core/types.js';

function parseBind(spec: string, readOnly: boolean, flag: string): BindRequest {
  const i = spec.indexOf(':');
  const host = resolve(i < 0 ? spec : spec.slice(0, i));
  const inside = i < 0 ? host : spec.slice(i + 1);
  if (!isAbsolute(inside)) throw new UsageError(`${flag} ${spec}: the inside path must be absolute`);
  if (!existsSync(host)) throw new SbxError(`${flag} ${spec}: ${host} does not exist`);
  return { host, inside, readOnly };
}

/** The environment of an image's command: its Env, then --env on top (never this machine's). */
function imageEnv(base: string[], set: string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const e of [...base, ...set]) {
    const i = e.indexOf('=');
    if (i <= 0) throw new UsageError(`--env ${e}: give NAME=VALUE`);
    env[e.slice(0, i)] = e.slice(i + 1);
  }
  if (process.env.TERM && env.TERM === undefined) env.TERM = process.env.TERM;
  return env;
}

export class RunCommand extends Command {
  static override paths = [['run']];

  static override usage = Command.Usage({
    description: 'run a command in a throwaway copy-on-write sandbox of this machine',
    details: `
      The command sees the host's files through copy-on-write overlays, in new user, mount, pid, ipc, uts, cgroup and network namespaces, under a seccomp filter. What it writes lands in the sandbox, never on the host. Afterwards sbx shows what changed and lets you keep (commit) or discard it.

      The command's arguments are executed directly, never joined into a shell string: use \`sbx run -- sh -c '...'\` for shell syntax. stdout is the command's alone; sbx speaks on stderr.

      Exit status: the command's own; 125 if sbx failed, 126 if the command cannot be executed, 127 if it was not found, 128+N if it was killed by signal N (137: the --memory limit); 124 if --timeout expired. Limits and devices: docs/limits.md.
    `,
    examples: [
      ['Run an install script, then review and decide', 'sbx run ./install.sh'],
      ['Test a destructive command; nothing is kept', 'sbx run -n -- rm -rf /opt/old-app'],
      ['Give the sandbox a name to review later', 'sbx run --name trial -- make install'],
      ['Run a second command in a saved sandbox', 'sbx run --in trial -- make test'],
      ['Allow network access', 'sbx run --net -- npm install'],
      ['Let the command use ping with raw sockets', 'sbx run --net --cap-add NET_RAW -- ping -c1 example.com'],
      ['Try an installer against a clean image instead of this machine', 'sbx run --image ./debian-layout:12 -- sh /work/install.sh'],
    ],
  });

  discard = Option.Boolean('-n,--discard', false, { description: 'Discard the sandbox after the command (nothing is kept)' });
  keep = Option.Boolean('-y,--keep', false, { description: 'Commit every change to the host without asking' });
  name = Option.String('--name', { description: 'Name the sandbox (unique)' });
  inRef = Option.String('--in', { description: 'Run inside an existing saved sandbox, seeing its changes' });
  net = Option.Boolean('--net', false, { description: "Share the host's network (default: none, only loopback)" });
  keepUser = Option.Boolean('--user', false, { description: 'Keep your own uid/gid inside instead of root' });
  mapRoot = Option.Boolean('--map-root', false, { description: 'Under sudo: root inside is real root outside (default: an unprivileged uid range)' });
  hide = Option.Array('--hide', [], { description: 'Make PATH unreadable and empty inside (repeatable)' });
  bind = Option.Array('--bind', [], { description: 'Bind a host path writable: changes go straight to the host, uncaptured' });
  roBind = Option.Array('--ro-bind', [], { description: 'Bind a host path read-only' });
  policy = Option.String('--policy', 'default', { description: 'Seccomp policy: a shipped name (default, strict, permissive) or a JSON file' });
  capAdd = Option.Array('--cap-add', [], { description: "Give the command a capability beyond the default set (e.g. NET_RAW, NET_ADMIN, SYS_PTRACE; ALL), repeatable; 'sbx doctor' lists the default" });
  capDrop = Option.Array('--cap-drop', [], { description: 'Take a capability from the default set (or ALL), repeatable; drops apply before adds' });
  noSeccomp = Option.Boolean('--no-seccomp', false, { description: 'Run without a seccomp filter (not recommended)' });
  only = Option.Array('--only', [], { description: 'Review and keep only paths matching GLOB' });
  exclude = Option.Array('--exclude', [], { description: 'Leave paths matching GLOB out of the review and the commit' });
  report = Option.String('--report', { description: 'Write the change list, exit status and duration as JSON to FILE' });
  quiet = Option.Boolean('-q,--quiet', false, { description: "Silence sbx's own lines except errors" });
  memory = Option.String('--memory', { description: 'Memory limit, e.g. 512M or 2G (swap included); the command is OOM-killed beyond it' });
  pids = Option.String('--pids', { description: 'Most processes and threads at once (default 4096)' });
  cpus = Option.String('--cpus', { description: 'CPU time as a number of CPUs, e.g. 0.5' });
  disk = Option.String('--disk', { description: 'Cap what the sandbox may write (e.g. 100M): its layers live on a tmpfs of that size, so a runaway writer gets ENOSPC inside' });
  ioWeight = Option.String('--io-weight', { description: 'Relative disk I/O weight 1-10000 (default 100) where the controller exists' });
  timeout = Option.String('--timeout', { description: 'Stop the command after DURATION (30s, 2m): SIGTERM, then SIGKILL 2s later; exit status 124' });
  device = Option.Array('--device', [], { description: 'Add a host device node to /dev inside and to the device allowlist (repeatable)' });
  hideSecrets = Option.Boolean('--hide-secrets', false, { description: 'Hide credential stores (~/.ssh, ~/.aws, ~/.gnupg, shell histories, ...) and drop secret environment variables (default with --net; the list: sbx policy secrets)' });
  allowNet = Option.Array('--allow-net', [], { description: 'A host the command may connect to through sbx\'s proxy (repeatable; *.DOMAIN, IP, CIDR); everything else is refused and reported' });
  allowSecrets = Option.Boolean('--allow-secrets', false, { description: 'With --net: leave credential stores and token variables visible' });
  cleanEnvFlag = Option.Boolean('--clean-env', false, { description: 'Start the command with a minimal environment (PATH, HOME, USER, TERM, LANG, ...)' });
  keepSetuid = Option.Boolean('--keep-setuid', false, { description: 'When committing as root, keep setuid/setgid bits and file capabilities' });
  image = Option.String('--image', { description: "PATH[:TAG] an OCI image layout or a 'docker save' archive as the root instead of this machine (no registry pulls); its layers are cached in the store" });
  rootfs = Option.String('--rootfs', { description: 'DIR a directory tree as the root instead of this machine' });
  envSet = Option.Array('--env', [], { description: "NAME=VALUE with --image/--rootfs: set a variable on top of the image's Env (repeatable)" });
  workdir = Option.String('--workdir', { description: "DIR with --image/--rootfs: the working directory inside (default: the image's WorkingDir, else /)" });
  imageUser = Option.String('--image-user', { description: "UID[:GID] or NAME[:GROUP] with --image/--rootfs: run the command as this user (default: the image's User, else root)" });
  command = Option.Proxy({ required: 1 });

  /** --image / --rootfs (or the image of the sandbox --in names): its lower layers, cached. */
  private async lowerView(store: Store, inSandbox: SandboxMeta | null): Promise<(LowerView & { cmdUser: { uid: number; gid: number } | null }) | null> {
    const own = this.image !== undefined || this.rootfs !== undefined;
    if (this.image !== undefined && this.rootfs !== undefined) throw new UsageError('--image and --rootfs each name the root: use one');
    if (inSandbox && own) throw new UsageError('--in runs in the view the sandbox was made with: drop --image/--rootfs');
    const imageBased = own || !!inSandbox?.image || !!inSandbox?.rootfs;
    if (!imageBased && (this.envSet.length || this.workdir !== undefined || this.imageUser !== undefined)) {
      throw new UsageError('--env, --workdir and --image-user go with --image or --rootfs');
    }
    if (!imageBased) return null;
    if (this.hide.length) throw new UsageError('--hide names paths of this machine; with --image/--rootfs the root is not this machine');
    if (this.workdir !== undefined && !this.workdir.startsWith('/')) throw new UsageError('--workdir must be an absolute path inside');
    // Loaded only here: a run of this machine never pays for the image code.
    const { prepareImage, prepareRootfs, reopenLowerView, resolveUser } = await import('../sandbox-core/image/view.js');
    const view = inSandbox ? (await reopenLowerView(store.root, inSandbox, (l) => info(l)))!
      : this.rootfs !== undefined ? prepareRootfs(resolve(this.rootfs))
        : await prepareImage(store.root, this.image!, (l) => info(l));
    const ref = this.image ?? this.rootfs ?? inSandbox?.image?.ref ?? inSandbox?.rootfs ?? '';
    return { ...view, cmdUser: resolveUser(this.imageUser ?? view.process.user, view.lowerRoot, ref) };
  }

  override async execute(): Promise<number> {
    setQuiet(this.quiet);
    let argv = this.command[0] === '--' ? this.command.slice(1) : this.command;
    const store = new Store();
    const inSandbox = this.inRef ? store.resolve(this.inRef) : null;
    const lowerView = await this.lowerView(store, inSandbox);
    if (lowerView && this.keep) throw new UsageError('-y/--keep: with --image or --rootfs there is no host to commit to (save, then sbx export)');
    if (lowerView && argv.length === 0) argv = [...lowerView.process.entrypoint, ...lowerView.process.cmd];
    if (argv.length === 0) throw new UsageError(`no command given${lowerView ? ' (and the image names none)' : ''}: sbx run [OPTIONS] [--] COMMAND [ARG...]${lowerView ? " ('sbx run --image IMAGE' alone runs the image's own command)" : ''}`);
    if (this.discard && this.keep) throw new UsageError('-n/--discard and -y/--keep contradict each other');
    if (this.inRef && this.name) throw new UsageError('--in and --name cannot be combined');
    if (this.mapRoot && process.getuid?.() !== 0) throw new UsageError('--map-root only means something under sudo (as root)');
    if (this.inRef && this.discard) throw new UsageError('--in with -n would discard the saved sandbox: use sbx discard afterwards instead');
    for (const h of this.hide) if (resolve(h) === '/') throw new UsageError('--hide /: refusing to hide the whole filesystem');
    // A malformed pattern is refused before the command runs, not after.
    checkPatterns(this.only, this.exclude);
    const bind = [...this.bind.map((b) => parseBind(b, false, '--bind')), ...this.roBind.map((b) => parseBind(b, true, '--ro-bind'))];
    // With --in and no capability flag, the sandbox's command keeps the set it was made with.
    const recordedCaps = inSandbox && !this.capAdd.length && !this.capDrop.length ? inSandbox.options.capabilities : undefined;
    const capabilities = recordedCaps ?? resolveCapabilities(this.capAdd, this.capDrop);
    let seccomp: Buffer | null = null;
    if (this.noSeccomp) warn('--no-seccomp: the command runs without a syscall filter');
    else seccomp = await loadSeccomp(this.policy, capabilities);

    const pty = !!process.stdin.isTTY && !!process.stdout.isTTY;
    if (this.hideSecrets && this.allowSecrets) throw new UsageError('--hide-secrets and --allow-secrets contradict each other');
    const net = inSandbox ? inSandbox.options.net : this.net;
    if (net && this.allowNet.length) throw new UsageError('--net shares the whole network; --allow-net gives only the hosts named: use one of them');
    // Checked before any sandbox exists, so a typo leaves nothing behind.
    if (this.allowNet.length) (await import('../sandbox-core/net/allowlist.js')).AllowList.parse(this.allowNet);
    // With any network, whatever the command can read it can send: secrets hidden unless asked.
    const hideSecrets = this.hideSecrets || ((net || this.allowNet.length > 0) && !this.allowSecrets);
    let env: NodeJS.ProcessEnv = lowerView ? imageEnv(lowerView.process.env, this.envSet) : this.cleanEnvFlag ? cleanEnv(process.env, process.cwd()) : process.env;
    // An image holds none of this machine's credential stores: there is nothing to hide.
    const secretHide = hideSecrets && !lowerView ? secretPaths(process.env.HOME) : [];
    if (hideSecrets) {
      const w = withoutSecrets(env);
      env = w.env;
      const what = [secretHide.length ? `${secretHide.length} credential paths hidden` : '', w.dropped.length ? `${w.dropped.length} secret variables dropped (${w.dropped.map(displayText).join(', ')})` : ''].filter(Boolean).join(', ');
      if (what) info(`secrets: ${what}${this.hideSecrets ? '' : '; --allow-secrets keeps them'}`);
    }
    let diskBytes: number | null = null;
    if (this.disk !== undefined) {
      diskBytes = sizeFlag('--disk', this.disk);
    }
    const limits = parseLimitFlags({ memory: this.memory, pids: this.pids, cpus: this.cpus, ioWeight: this.ioWeight, timeout: this.timeout, device: this.device });
    const result = await runCommand(store, {
      command: argv,
      rawCommand: lowerView ? argv : rawArgs(argv),
      cwd: lowerView ? this.workdir ?? lowerView.process.cwd : process.cwd(),
      lower: lowerView,
      cmdUser: lowerView?.cmdUser ?? null,
      env,
      name: this.name ?? null,
      throwaway: this.discard,
      net,
      keepUser: this.keepUser,
      mapRoot: inSandbox ? !!inSandbox.options.mapRoot : this.mapRoot,
      hide: [...this.hide.map((h) => resolve(h)), ...secretHide],
      bind,
      seccomp,
      policyName: this.noSeccomp ? 'none' : this.policy,
      capabilities,
      inSandbox,
      pty,
      diskBytes,
      allowNet: this.allowNet,
      limits,
    });
    // Said even with -q: the command's end is not its own doing.
    for (const l of result.endReasons) say(l);
    if (result.error) throw result.error;
    if (result.failure) say(result.failure);
    if (result.signal !== null) info(`the command was killed by signal ${result.signal}`);
    if (result.net) {
      const { netSummaryLines } = await import('../sandbox-core/net/session.js');
      for (const line of netSummaryLines(result.net, display)) info(`network: ${line}`);
      if (!result.net.length) info('network: no connection was attempted');
    }
    // Loaded only now: the change list and diff machinery cost nothing before the command starts.
    const { reviewAfterRun } = await import('./review.js');
    const reviewStatus = await reviewAfterRun(store, result.meta, {
      keep: this.keep,
      keepSetuid: this.keepSetuid,
      discard: this.discard,
      quiet: this.quiet,
      only: this.only,
      exclude: this.exclude,
      report: this.report ?? null,
      exitStatus: result.exitStatus,
      durationMs: result.durationMs,
      endReasons: result.endReasons,
      net: result.net,
    });
    // --keep whose commit refused something (conflicts, denied paths) must not look like success.
    return result.exitStatus === 0 && reviewStatus !== 0 ? reviewStatus : result.exitStatus;
  }
}

/**
 * `sbx run --image IMAGE` with no command at all: the image's own Entrypoint and Cmd. A class of
 * its own because the main one needs a first positional to know where sbx's options end (the
 * rest is the command's, `-c` included). No usage of its own: `sbx run --help` describes both.
 */
export class RunImageDefaultCommand extends RunCommand {
  static override usage = undefined as unknown as typeof RunCommand.usage;
  override command: string[] = [];
}
