// A small tmpfs of a test's own in its TMPDIR, for the limits a filesystem sets (its size, its
// inodes); mounting needs root. It and the dir that holds it are readable by all: an ordinary
// user's run beside the test plans its view from the host's mounts, and a mount it may not look
// into is shown empty there, with a notice on that run's stderr.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';

/** Mounts a tmpfs with `opts` (size=..., nr_inodes=...) at `work`/mnt; `release` unmounts it and removes `work`. */
export function smallTmpfs(prefix: string, opts: string): { work: string; mnt: string; release: () => void } {
  const work = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(work, 0o755);
  const mnt = join(work, 'mnt');
  mkdirSync(mnt);
  assert.is(spawnSync('mount', ['-t', 'tmpfs', '-o', `${opts},mode=0755`, 'sbx-test', mnt]).status, 0, 'mount a tmpfs');
  return {
    work,
    mnt,
    release: () => {
      spawnSync('umount', [mnt]);
      rmSync(work, { recursive: true, force: true });
    },
  };
}
