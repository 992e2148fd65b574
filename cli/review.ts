// What happens after the command: keep (commit), discard, or save for later.
// (Minimal version; the change list, diff and commit land with the changes module.)
import type { Store } from '../sandbox-core/store.js';
import type { SandboxMeta } from '../sandbox-core/types.js';
import { info, warn } from './output.js';

export interface ReviewOptions {
  keep: boolean;
  discard: boolean;
  quiet: boolean;
  only: string[];
  exclude: string[];
  report: string | null;
  exitStatus: number;
  durationMs: number;
}

export async function reviewAfterRun(store: Store, meta: SandboxMeta, opts: ReviewOptions): Promise<void> {
  if (opts.discard) {
    store.remove(meta);
    return;
  }
  if (opts.keep) warn('keep (-y) is not available yet: the sandbox was saved instead');
  const ref = meta.name ?? meta.id;
  info(`sandbox ${ref} saved: 'sbx discard ${ref}' removes it`);
}
