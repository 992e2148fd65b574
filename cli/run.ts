// `sbx run`'s options as clipanion declares them (help, the man page, completion and every
// unusual flag); what the command does is cli/run-exec.ts.
import { Command, Option } from 'clipanion';
import { executeRun } from './run-exec.js';

export class RunCommand extends Command {
  static override paths = [['run']];

  static override usage = Command.Usage({
    description: 'run a command in a throwaway copy-on-write sandbox of this machine',
    details: `
      The command sees the host's files through copy-on-write overlays, in new user, mount, pid, ipc, uts, cgroup and network namespaces, under a seccomp filter. What it writes lands in the sandbox, never on the host. Afterwards sbx shows what changed and lets you keep (commit) or discard it.

      The command's arguments are executed directly, never joined into a shell string: use \`sbx run -- sh -c '...'\` for shell syntax. stdout is the command's alone; sbx speaks on stderr.

      Exit status: the command's own; 125 if sbx failed, 126 if the command cannot be executed, 127 if it was not found, 128+N if it was killed by signal N (137: the --memory limit); 124 if --timeout expired; 130 if Ctrl-C interrupted the question after it (the sandbox is saved). With -y a command that did not exit 0 commits nothing: its sandbox is saved, and the status is the command's. Limits and devices: docs/limits.md.
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
  keep = Option.Boolean('-y,--keep', false, { description: 'Commit every change to the host without asking, when the command exits 0 (else the sandbox is saved)' });
  name = Option.String('--name', { description: 'Name the sandbox (unique)' });
  inRef = Option.String('--in', { description: 'Run inside an existing saved sandbox, seeing its changes' });
  net = Option.Boolean('--net', false, { description: "Share the host's network (default: none, only loopback)" });
  keepUser = Option.Boolean('--user', false, { description: 'Keep your own uid/gid inside instead of root' });
  mapRoot = Option.Boolean('--map-root', false, { description: 'Under sudo: root inside is real root outside (default: an unprivileged uid range)' });
  hide = Option.Array('--hide', [], { description: 'Make PATH absent inside, also if made during the run (repeatable)' });
  bind = Option.Array('--bind', [], { description: 'Bind a host path writable: changes go straight to the host, uncaptured' });
  roBind = Option.Array('--ro-bind', [], { description: 'Bind a host path read-only' });
  policy = Option.String('--policy', { description: "Seccomp policy: a shipped name (default, strict, permissive) or a JSON file (default: the config file's, else default)" });
  capAdd = Option.Array('--cap-add', [], { description: "Give the command a capability beyond the default set (e.g. NET_RAW, NET_ADMIN, SYS_PTRACE; ALL), repeatable; 'sbx doctor' lists the default" });
  capDrop = Option.Array('--cap-drop', [], { description: 'Take a capability from the default set (or ALL), repeatable; drops apply before adds' });
  noSeccomp = Option.Boolean('--no-seccomp', false, { description: 'Run without a seccomp filter (not recommended)' });
  only = Option.Array('--only', [], { description: 'Review and keep only paths matching GLOB' });
  exclude = Option.Array('--exclude', [], { description: 'Leave paths matching GLOB out of the review and the commit' });
  report = Option.String('--report', { description: 'Write the change list, exit status and duration as JSON to FILE' });
  quiet = Option.Boolean('-q,--quiet', false, { description: "Silence sbx's own lines except errors and the one naming a saved sandbox" });
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

  override async execute(): Promise<number> {
    return executeRun(this);
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
