import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SbxError } from './errors.js';

/** Where sandboxes are stored: $SBX_HOME, else $XDG_STATE_HOME/sbx, else ~/.local/state/sbx. */
export function storeRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SBX_HOME) return env.SBX_HOME;
  const state = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(state, 'sbx');
}

/** Creates (or checks) a directory only this user can enter; refuses a symlink or another owner's directory. */
export function ensurePrivateDir(path: string): void {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new SbxError(`cannot create ${path}: ${(e as Error).message}`);
  }
  const st = lstatSync(path);
  if (!st.isDirectory()) throw new SbxError(`${path} is not a directory (a symlink?): refusing to use it`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new SbxError(`${path} is owned by uid ${st.uid}, not by you: refusing to use it`);
  }
  if ((st.mode & 0o077) !== 0) chmodSync(path, 0o700);
}
