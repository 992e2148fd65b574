// Finding the cgroups an sbx process made (named sbx-<id>-<owner pid>), so tests can prove
// none is left behind, and removing any a failed test left.
import { readdirSync, rmdirSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { join } from 'node:path';

const NAME = /^sbx-[0-9a-f]{8}-(\d+)$/;

/** sbx cgroup directories under /sys/fs/cgroup (any version, nested up to 6 levels). */
export function sbxCgroupDirs(ownerPid?: number): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const m = NAME.exec(e.name);
      if (m) { if (ownerPid === undefined || Number(m[1]) === ownerPid) out.push(join(dir, e.name)); continue; }
      if (depth < 6) walk(join(dir, e.name), depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return out;
}

export function removeCgroupDirs(dirs: string[]): void {
  for (const d of dirs) { try { rmdirSync(d); } catch { /* busy or gone: reported by the test that made it */ } }
}

/**
 * Fails when sbx process `pid` left cgroups behind; they are added to `made`, which the file
 * removes after its tests (removeCgroupDirs).
 */
export function assertNoCgroupsOf(pid: number, made: string[]): void {
  const left = sbxCgroupDirs(pid);
  made.push(...left);
  assert.equal(left, [], `cgroups left behind by sbx pid ${pid}`);
}
