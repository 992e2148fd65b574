// The programs the host runs on its own, by path: what cron's tables, systemd's units, udev's
// rules, logrotate's scripts, ifupdown's interfaces, PAM's pam_exec, sshd's commands and acpid's
// actions name, and what sudoers lets a user run as root.
// A script a root cron job or a service runs (`/srv/app/backup.sh`, `/opt/agent/bin/agent`)
// is code that runs later, as that job's user, whatever dir it sits in: the review listed a
// change to one plain when it was not on PATH or in a system tree. The tables and units are
// the host's (read bounded, no symlink followed, beneath the tree the review compares with),
// read once per process; their paths are resolved through the host's symlinks as the job's
// exec would be (`/sbin/agetty` is `/usr/sbin/agetty` on a merged-/usr system).
import { readWhole } from './content.js';
import { hostRootPath } from './fsat.js';
import { eachHostEntry, hostEntry } from './host-path.js';

/** Far above any real crontab or unit; a longer one is not read. */
const MAX_TABLE = 1 << 20;
/**
 * Entries looked at in all at most (a host has a few hundred files there): an image's lower
 * tree, which stands for the host in its sandbox's review, is not the host's own and could
 * hold millions.
 */
const MAX_FILES = 4096;

// A command's first word that runs the next path it is given: a shell or an interpreter, or a
// wrapper that runs the rest of its line.
const RUNS_NEXT = /^(sh|bash|dash|zsh|ksh|python[0-9.]*|perl|ruby|node|nodejs|php[0-9.]*|lua[0-9.]*|tclsh|env|nice|ionice|nohup|setsid|chronic|timeout|run-one|runuser|su|sudo|systemd-cat|stdbuf|taskset|chrt|cgexec|xargs)$/;

/** Words of a shell-like command (quotes removed, backslashes kept), split at `;`, `&&`, `||`, `|` and `&` into simple commands. */
export function simpleCommands(cmd: string): string[][] {
  const out: string[][] = [[]];
  let word: string | null = null;
  let quote = '';
  const end = (): void => { if (word !== null) out[out.length - 1]!.push(word); word = null; };
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (quote) { if (c === quote) quote = ''; else word += c; continue; }
    if (c === "'" || c === '"') { quote = c; word ??= ''; continue; }
    if (c === ' ' || c === '\t') { end(); continue; }
    if (c === ';' || c === '|' || c === '&') { end(); if (out[out.length - 1]!.length) out.push([]); continue; }
    word = (word ?? '') + c;
  }
  end();
  return out.filter((w) => w.length);
}

/**
 * The absolute paths a command line runs: each simple command's first word, and after a shell,
 * an interpreter or a wrapper, the first path among the rest (a `-c` string read as a command
 * of its own). Environment assignments before a command are skipped.
 */
export function commandPrograms(cmd: string, depth = 0): string[] {
  const out: string[] = [];
  for (const words of simpleCommands(cmd)) {
    let k = 0;
    while (k < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[k]!)) k++;
    const first = words[k];
    if (first === undefined) continue;
    if (first.startsWith('/')) out.push(first);
    if (!RUNS_NEXT.test(first.slice(first.lastIndexOf('/') + 1))) continue;
    for (let j = k + 1; j < words.length; j++) {
      const w = words[j]!;
      if (w === '-c' && j + 1 < words.length) { if (depth < 4) out.push(...commandPrograms(words[j + 1]!, depth + 1)); break; }
      if (w.startsWith('/')) { out.push(w); break; }
    }
  }
  return out;
}

/** A line of a cron or anacron table (trimmed) that is a job: not empty, a comment or a variable's setting. */
const isJobLine = (line: string): boolean => line !== '' && line[0] !== '#' && !/^[A-Za-z_][A-Za-z0-9_]*\s*=/.test(line);

/**
 * The programs a crontab runs: `system` tables (/etc/crontab, /etc/cron.d) name a user after
 * the five time fields, a user's table does not; `@reboot`-style names stand for the five.
 * Environment lines and comments name none.
 */
export function cronPrograms(text: string, system: boolean): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!isJobLine(line)) continue;
    const fields = line.split(/\s+/);
    const skip = (fields[0]!.startsWith('@') ? 1 : 5) + (system ? 1 : 0);
    // The command is the rest of the line after the fields, its own spacing kept.
    let at = 0;
    for (let f = 0; f < skip; f++) at = line.indexOf(fields[f]!, at) + fields[f]!.length;
    out.push(...commandPrograms(line.slice(at).replace(/%.*$/, '')));
  }
  return out;
}

/** anacron's table: period, delay and id, then the command. */
export function anacronPrograms(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!isJobLine(line)) continue;
    const m = /^\S+\s+\S+\s+\S+\s+(.*)$/.exec(line);
    if (m) out.push(...commandPrograms(m[1]!));
  }
  return out;
}

/**
 * The programs of the command each line `line` matches holds in its last group, less those
 * `specifier` matches (a path a daemon fills in at run time: systemd's and sshd's `%I`, `%u`).
 */
function linePrograms(text: string, line: RegExp, specifier?: RegExp): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const m = line.exec(raw);
    if (m) out.push(...commandPrograms(m[m.length - 1]!).filter((p) => !specifier?.test(p)));
  }
  return out;
}

/** The programs a systemd unit's Exec lines run (their `@-:+!|` prefixes taken off; specifiers like %I left out). */
export const unitPrograms = (text: string): string[] =>
  linePrograms(text, /^\s*Exec(Start|StartPre|StartPost|Stop|StopPost|Reload|Condition)\s*=\s*[@\-:+!|]*(.*)$/, /%/);

/**
 * The programs sudoers lets users run (as root unless a runas says otherwise): every absolute
 * path in a user specification's or Cmnd_Alias's command list (`deploy ALL=(root) NOPASSWD:
 * /srv/deploy.sh`); Defaults, the other aliases, includes and comments name none.
 */
export function sudoersPrograms(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
    const line = raw.trim();
    if (!line || line[0] === '#' || line[0] === '@' || /^(Defaults|User_Alias|Runas_Alias|Host_Alias)\b/.test(line)) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    for (const w of line.slice(eq + 1).split(/[\s,:()]+/)) if (w.startsWith('/')) out.push(w);
  }
  return out;
}

/** udev rules' RUN programs (`RUN+="/opt/x/hook %k"`; a builtin's `RUN{builtin}` runs none). */
export function udevPrograms(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\bRUN(\{program\})?\s*\+?=\s*"([^"]*)"/g)) out.push(...commandPrograms(m[2]!).filter((p) => !p.includes('%') && !p.includes('$')));
  return out;
}

/** logrotate's scripts (prerotate, postrotate, firstaction, lastaction, preremove up to endscript), each line a command. */
export function logrotatePrograms(text: string): string[] {
  const out: string[] = [];
  let inScript = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (/^(prerotate|postrotate|firstaction|lastaction|preremove)$/.test(line)) { inScript = true; continue; }
    if (line === 'endscript') { inScript = false; continue; }
    if (inScript) out.push(...commandPrograms(line));
  }
  return out;
}

/** ifupdown's interface commands (pre-up, up, post-up, pre-down, down, post-down). */
export const interfacesPrograms = (text: string): string[] => linePrograms(text, /^\s*(pre-up|up|post-up|pre-down|down|post-down)\s+(.*)$/);

/** PAM's pam_exec lines: the program after the module's options (`auth optional pam_exec.so quiet /opt/x/hook`), run at each login or sudo. */
export function pamExecPrograms(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const at = line.search(/(^|[\s/])pam_exec\.so(\s|$)/);
    if (at < 0) continue;
    const p = line.slice(line.indexOf('pam_exec.so', at) + 'pam_exec.so'.length).split(/\s+/).find((w) => w.startsWith('/'));
    if (p) out.push(p);
  }
  return out;
}

/** sshd's commands: ForceCommand (as the user logging in), AuthorizedKeysCommand and AuthorizedPrincipalsCommand (as their user, at each login). */
export const sshdPrograms = (text: string): string[] =>
  linePrograms(text, /^\s*(ForceCommand|AuthorizedKeysCommand|AuthorizedPrincipalsCommand)\s+(.*)$/i, /%/);

/** acpid's event rules: the action's command, run as root on the event. */
export const acpiPrograms = (text: string): string[] => linePrograms(text, /^\s*action\s*=\s*(.*)$/, /%/);

/**
 * A host dir's regular files (byte-string names) whose names `want` takes, and its `NAME.d`
 * subdirs' `.conf` files (`units`), none followed; each entry looked at takes one from
 * `budget.left`.
 */
function filesIn(dir: string, budget: { left: number }, want: RegExp | null, units = false): string[] {
  const out: string[] = [];
  eachHostEntry(dir, budget, (name, kind) => {
    const p = `${dir}/${name}`;
    if (kind === 'file' && (want === null || want.test(name))) out.push(p);
    else if (units && kind === 'dir' && UNIT_NAME.test(name.slice(0, -2))) out.push(...filesIn(p, budget, /\.conf$/));
  });
  return out;
}
// The unit kinds with Exec lines (a mount, target or timer has none); an alias is a symlink.
const UNIT_NAME = /\.(service|socket)$/;

function read(p: string): string | null {
  try { return readWhole(p, MAX_TABLE)?.toString('latin1') ?? null; } catch { return null; }
}

// The admin's own units and local packages' (where a job pointing into /srv, /opt or a home is
// made), not the distribution's in /usr/lib/systemd: those run programs in the system trees,
// which the path and system-program rules mark, and reading their ~120 units cost a review
// ~10 ms.
const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/etc/systemd/user', '/usr/local/lib/systemd/user'];

/** Every program path the host's cron tables and systemd units name, as found (not yet resolved). */
function namedPrograms(home: string | undefined): string[] {
  const out: string[] = [];
  const budget = { left: MAX_FILES };
  const files = (d: string, want: RegExp | null, units = false): string[] => filesIn(d, budget, want, units);
  const add = (p: string, f: (t: string) => string[]): void => { const t = read(p); if (t !== null) out.push(...f(t)); };
  add('/etc/crontab', (t) => cronPrograms(t, true));
  for (const p of files('/etc/cron.d', null)) add(p, (t) => cronPrograms(t, true));
  add('/etc/anacrontab', anacronPrograms);
  // Users' own tables: root's review reads them all; another user's, none (cron's spool is root's).
  for (const p of files('/var/spool/cron/crontabs', null)) add(p, (t) => cronPrograms(t, false));
  // What udev runs on device events (the admin's rules), logrotate's scripts, ifupdown's lines.
  for (const d of ['/etc/udev/rules.d', '/run/udev/rules.d']) for (const p of files(d, /\.rules$/)) add(p, udevPrograms);
  add('/etc/logrotate.conf', logrotatePrograms);
  for (const p of files('/etc/logrotate.d', null)) add(p, logrotatePrograms);
  add('/etc/network/interfaces', interfacesPrograms);
  for (const p of files('/etc/network/interfaces.d', null)) add(p, interfacesPrograms);
  // What a login runs: PAM's pam_exec, sshd's commands; acpid's actions.
  for (const p of files('/etc/pam.d', null)) add(p, pamExecPrograms);
  add('/etc/ssh/sshd_config', sshdPrograms);
  for (const p of files('/etc/ssh/sshd_config.d', /\.conf$/)) add(p, sshdPrograms);
  for (const p of files('/etc/acpi/events', null)) add(p, acpiPrograms);
  // sudo's rules: root's review reads them (0440 root).
  add('/etc/sudoers', sudoersPrograms);
  for (const p of files('/etc/sudoers.d', null)) add(p, sudoersPrograms);
  const units = [...UNIT_DIRS, ...(home && home.startsWith('/') ? [`${home.replace(/\/+$/, '')}/.config/systemd/user`] : [])];
  for (const d of units) for (const p of files(d, UNIT_NAME, true)) add(p, unitPrograms);
  return out;
}

let cached: { root: string | null; home: string | undefined; set: Set<string> } | null = null;
/**
 * The host paths (byte strings) of every program its cron tables and systemd units run,
 * resolved through the host's symlinks; read once for each tree the review compares with.
 */
export function hostJobPrograms(home = process.env.HOME): Set<string> {
  const root = hostRootPath();
  if (cached && cached.root === root && cached.home === home) return cached.set;
  const memo = new Map<string, string | null>();
  const set = new Set<string>();
  for (const p of namedPrograms(home)) {
    // A dir on the way this reviewer cannot search (root's, for an ordinary user): as written.
    let q: string | null;
    try { q = hostEntry(p, memo); } catch { q = p; }
    if (q !== null) set.add(q);
  }
  cached = { root, home, set };
  return set;
}
