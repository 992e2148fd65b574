import type { SandboxMeta } from '../sandbox-core/types.js';
import { warn } from './output.js';

/**
 * Said by whatever reads a sandbox's layers for the user (diff, commit, export): a run cut
 * short by the machine stopping may have left them half-written (store.ts `interrupted`).
 */
export function warnIfInterrupted(meta: SandboxMeta): void {
  if (meta.interrupted) warn(`sandbox ${meta.name ?? meta.id} was running a command when the machine stopped: its layers may miss writes made before that`);
}
