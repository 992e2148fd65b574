import { chmodSync, lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SbxError } from './errors.js';
import { display, displayText, fromUser } from './bpath.js';
import { builtin } from './builtin.js';

/** os.homedir(), loaded on first use: callers try $HOME first, and node:os costs start-up. */
function homedir(): string {
  return builtin<typeof import('node:os')>('node:os').homedir();
}

/** Where sandboxes are stored: $SBX_HOME, else $XDG_STATE_HOME/sbx, else ~/.local/state/sbx. */
export function storeRoot(env: NodeJS.ProcessEnv = process.env): string {
  // Absolute either way, so that ownDirs hides and guards the store wherever sbx was started;
  // a relative XDG_STATE_HOME is invalid (XDG spec) and ignored.
  // A relative SBX_HOME would be a different store in every directory sbx is started in
  // (and none in a removed one): refused, never resolved against the current directory.
  if (env.SBX_HOME) {
    if (!env.SBX_HOME.startsWith('/')) throw new SbxError(`SBX_HOME=${displayText(env.SBX_HOME)} is not an absolute path`, 125, 'set SBX_HOME to an absolute path, e.g. SBX_HOME="$PWD/' + displayText(env.SBX_HOME) + '"');
    return resolve(env.SBX_HOME);
  }
  const state = (env.XDG_STATE_HOME?.startsWith('/') ? env.XDG_STATE_HOME : '') || join(env.HOME || homedir(), '.local', 'state');
  return join(state, 'sbx');
}

/** sbx's cache: the helper it built, compiled seccomp programs, the unreadable-dir list. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  // A relative XDG_CACHE_HOME is invalid (XDG spec): honoured, it would put the helper and the
  // seccomp programs sbx runs below whatever dir sbx was started in, outside ownDirs.
  const xdg = env.XDG_CACHE_HOME?.startsWith('/') ? env.XDG_CACHE_HOME : '';
  return join(xdg || join(env.HOME || homedir(), '.cache'), 'sbx');
}

/** The dir of the user's config file ($XDG_CONFIG_HOME/sbx, else ~/.config/sbx); null without a home. */
export function configRoot(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.XDG_CONFIG_HOME?.startsWith('/')) return join(env.XDG_CONFIG_HOME, 'sbx');
  return env.HOME ? join(env.HOME, '.config', 'sbx') : null;
}

/** Under sudo: the home of the user who ran it, as /etc/passwd says (SUDO_USER and SUDO_UID must agree). */
export function sudoUserHome(env: NodeJS.ProcessEnv = process.env): { home: string; uid: number } | null {
  if (process.getuid?.() !== 0 || !env.SUDO_USER || !env.SUDO_UID || env.SUDO_UID === '0') return null;
  let passwd: string;
  try { passwd = readFileSync('/etc/passwd', 'utf8'); } catch { return null; }
  const entry = passwd.split('\n').map((l) => l.split(':')).find((f) => f[0] === env.SUDO_USER && f[2] === env.SUDO_UID);
  return entry?.[5] ? { home: entry[5], uid: Number(env.SUDO_UID) } : null;
}

/** /dev/shm/sbx-<uid>: where throwaway runs keep their layers, in memory. */
export function scratchPath(uid: number): string {
  return `/dev/shm/sbx-${uid}`;
}

/**
 * Every dir whose files sbx trusts: its config (which names the pager it runs), its caches (it
 * runs the helper and loads seccomp programs from there), its store, and the scratch dir that
 * holds the layers of the user's live throwaway runs (a sandbox shown it by `--bind /dev/shm`
 * wrote into another run's upper layer: that run's view and review); under sudo also those of
 * the user who ran sudo. A sandbox must never plant anything there: the view hides them and a
 * commit refuses them, or the next sbx would run what the sandboxed command wrote.
 */
export function ownDirs(env: NodeJS.ProcessEnv = process.env, store?: string, uid = process.getuid?.()): string[] {
  // `store`: the store this command uses, when it is not the one env names.
  const dirs = [store, storeRoot(env), cacheRoot(env), configRoot(env), uid === undefined ? null : scratchPath(uid)];
  const sudo = sudoUserHome(env);
  if (sudo) {
    const theirs = { HOME: sudo.home };
    dirs.push(storeRoot(theirs), cacheRoot(theirs), configRoot(theirs), scratchPath(sudo.uid));
  }
  return [...new Set(dirs.filter((d): d is string => !!d && d.startsWith('/')))];
}

/**
 * Creates (or checks) a directory only this user can enter; refuses a symlink or another
 * owner's directory. `hint`: what to do instead (the store's names SBX_HOME).
 */
export function ensurePrivateDir(path: string, hint?: string): void {
  const shown = display(fromUser(path));
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // mkdir's EEXIST names a file in the way; ENOTDIR one of its parents.
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new SbxError(`${shown} is not a directory${code === 'ENOTDIR' ? ' (one of its parents is a file)' : ''}: refusing to use it`, 125, hint);
    throw new SbxError(`cannot create ${shown}: ${(e as Error).message}`, 125, hint);
  }
  const st = lstatSync(path);
  if (!st.isDirectory()) throw new SbxError(`${shown} is not a directory (a symlink?): refusing to use it`, 125, hint);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new SbxError(`${shown} is owned by uid ${st.uid}, not by you: refusing to use it`, 125, hint);
  }
  if ((st.mode & 0o077) !== 0) chmodSync(path, 0o700);
}
