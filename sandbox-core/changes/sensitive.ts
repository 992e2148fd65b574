// Paths where a change makes code run later, outside the sandbox: shell startup files, ssh
// keys, autostart entries, git hooks, cron, systemd units, sudoers, the dynamic loader's
// preload list, and new programs in PATH directories. The review marks them so that a
// harmless-looking change list cannot hide a persistence foothold among hundreds of files.
import type { Change } from './types.js';
import { toFs } from './bpath.js';

const RC_FILES = new Set([
  '.bashrc', '.bash_profile', '.bash_login', '.bash_logout', '.profile', '.zshrc', '.zshenv', '.zprofile', '.zlogin',
  '.zlogout', '.cshrc', '.tcshrc', '.login', '.kshrc', '.mkshrc', '.xprofile', '.xinitrc', '.xsessionrc', '.pam_environment',
  '.inputrc', '.npmrc', '.pythonrc', '.gitconfig',
]);

const SYSTEM: Array<[RegExp, string]> = [
  [/^\/etc\/(profile|bash\.bashrc|bashrc|environment|zshrc|zshenv|zprofile|zlogin|csh\.cshrc|csh\.login)$/, 'shell startup file'],
  [/^\/etc\/(profile\.d|zsh|fish)\//, 'shell startup file'],
  [/^\/etc\/sudoers(\.d(\/|$)|$)/, 'sudoers'],
  [/^\/etc\/ld\.so\.(preload|conf)(\.d(\/|$)|$)/, 'dynamic loader configuration'],
  [/^\/etc\/(crontab|anacrontab)$|^\/etc\/cron\.[^/]+(\/|$)|^\/var\/spool\/(cron|anacron)(\/|$)/, 'cron job'],
  [/^\/(etc|usr\/lib|lib|usr\/local\/lib|run)\/systemd\/(system|user)(\.[^/]+)?(\/|$)/, 'systemd unit'],
  [/^\/etc\/(init\.d|rc\.local|rc\d\.d)(\/|$)/, 'init script'],
  [/^\/etc\/xdg\/autostart(\/|$)/, 'autostart entry'],
  [/^\/etc\/(passwd|shadow|group|gshadow)$/, 'account database'],
  [/^\/etc\/pam\.d(\/|$)|^\/etc\/security\//, 'PAM configuration'],
  [/^\/etc\/ssh\//, 'ssh configuration'],
  [/^\/etc\/apt\/(sources\.list|sources\.list\.d|apt\.conf\.d|trusted\.gpg)/, 'package source'],
];

const STANDARD_PATH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export interface SensitiveContext {
  /** Directories searched for commands: $PATH plus the standard ones. */
  pathDirs: Set<string>;
}

export function sensitiveContext(env: NodeJS.ProcessEnv = process.env): SensitiveContext {
  const dirs = new Set(STANDARD_PATH_DIRS);
  for (const d of (env.PATH ?? '').split(':')) if (d.startsWith('/')) dirs.add(d.replace(/\/+$/, '') || '/');
  if (env.HOME) for (const d of ['.local/bin', 'bin']) dirs.add(`${env.HOME.replace(/\/+$/, '')}/${d}`);
  return { pathDirs: dirs };
}

/** Why a change lands somewhere that runs code later, or null. `path` is a byte string. */
export function sensitiveReason(c: Pick<Change, 'path' | 'change' | 'type'>, ctx: SensitiveContext): string | null {
  const p = toFs(c.path).toString('utf8');
  const parts = p.split('/');
  const base = parts[parts.length - 1] ?? '';
  for (const [re, why] of SYSTEM) if (re.test(p)) return why;
  if (/(^|\/)\.ssh(\/|$)/.test(p)) return 'ssh keys or configuration';
  if (/\/\.config\/autostart(\/|$)/.test(p)) return 'autostart entry';
  if (/\/\.config\/systemd\/user(\/|$)/.test(p)) return 'systemd unit';
  if (/\/\.config\/fish\/(config\.fish|conf\.d(\/|$))/.test(p)) return 'shell startup file';
  if (/\/\.git\/hooks(\/|$)/.test(p)) return 'git hook';
  if (/\/\.git\/config$/.test(p)) return 'git configuration (can run commands)';
  if (parts.length >= 3 && parts[1] !== 'etc' && RC_FILES.has(base)) return 'shell or tool startup file';
  if (c.change !== 'deleted' && c.change !== 'metadata' && c.type !== 'dir') {
    const dir = parts.slice(0, -1).join('/') || '/';
    if (ctx.pathDirs.has(dir)) return c.change === 'added' ? 'new command in PATH' : 'command in PATH changed';
  }
  return null;
}
