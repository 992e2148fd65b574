import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where sandboxes are stored: $SBX_HOME, else $XDG_STATE_HOME/sbx, else ~/.local/state/sbx. */
export function storeRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SBX_HOME) return env.SBX_HOME;
  const state = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(state, 'sbx');
}
