// Launching the helper for one job outside a run: removing what our subordinate uids wrote,
// as root of a user namespace with the sandbox's mapping. Beside launch.ts so that the store
// never builds a spec or starts the helper itself.
import { childProcess } from './base/builtin.js';
import { SbxError } from './base/errors.js';
import { chooseIdMapping } from './idmap.js';
import { encodeSpec } from './spec.js';
import { parseStatusLines } from './launch.js';
import { expectedHelperVersion, helperPath } from './helper.js';

/**
 * Removes a tree that may hold files owned by our subordinate uids (written by root-inside
 * programs that switched users): we cannot delete those as ourselves, but root in a user
 * namespace with the same mapping can.
 */
export function removeAsMappedRoot(path: string): void {
  const idmap = chooseIdMapping({ keepUser: false });
  const spec = encodeSpec([
    ...idmap.ops,
    { op: 'cwd', args: ['/'] },
    { op: 'arg', args: ['/bin/rm'] }, { op: 'arg', args: ['-rf'] }, { op: 'arg', args: ['--'] }, { op: 'arg', args: [path] },
    { op: 'env', args: ['PATH=/usr/bin:/bin'] },
  ]);
  const r = childProcess().spawnSync(helperPath(), ['run', '0', '2', expectedHelperVersion()], { input: spec, stdio: ['pipe', 'ignore', 'pipe'], encoding: 'latin1' });
  const { outcome } = parseStatusLines(r.stderr ?? '');
  if (!outcome || outcome.kind !== 'exited' || outcome.code !== 0) {
    throw new SbxError(`cannot remove ${path}`, 125, 'remove it by hand');
  }
}
