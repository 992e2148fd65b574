// Which overlay engine serves each overlaid directory. Kernel overlayfs is fast, but as an
// ordinary user it cannot copy up anything owned by an unmapped uid (host root): writing
// /usr, /etc or /var fails. fuse-overlayfs mounted inside the user namespace with
// squash_to_root can, but each file operation is a round trip to its daemon. So: kernel overlays for the trees
// the user owns (home, working directory) and for everything when running as root;
// fuse-overlayfs for the system trees when it is available.
import { accessSync, constants, statSync } from 'node:fs';
import type { ViewUnit } from './plan.js';
import { isWithin } from './base/within.js';

export type Engine = 'kernel' | 'fuse';
export type EngineUnit = Exclude<ViewUnit, { kind: 'overlay' }> | { kind: 'overlay'; path: string; engine: Engine };

export interface EngineContext {
  uid: number;
  /** fuse-overlayfs binary, or null when it (or /dev/fuse) is missing. */
  fuseBinary: string | null;
  /** Directories the user owns and works in ($HOME, cwd): always kernel overlays. */
  userTrees: string[];
  readable: (dir: string) => boolean;
}

/** Keeps existing directories owned by `uid`, drops any nested inside another. */
export function userOwnedTrees(paths: string[], uid: number): string[] {
  const owned = [...new Set(paths)].filter((p) => {
    try { const st = statSync(p); return st.isDirectory() && st.uid === uid && p !== '/'; } catch { return false; }
  });
  return owned.filter((p) => !owned.some((q) => q !== p && isWithin(p, q))).sort();
}

export function assignEngines(units: ViewUnit[], ctx: EngineContext): EngineUnit[] {
  if (ctx.uid === 0 || !ctx.fuseBinary) {
    return units.map((u) => (u.kind === 'overlay' ? { ...u, engine: 'kernel' as const } : u));
  }
  const out: EngineUnit[] = [];
  for (const u of units) {
    if (u.kind !== 'overlay') { out.push(u); continue; }
    // fuse-overlayfs reads its lower as you: a directory you cannot read (/lost+found, /root)
    // gains nothing from it, and the kernel overlay shows it as the host does.
    if (ctx.userTrees.some((t) => isWithin(u.path, t)) || !ctx.readable(u.path)) { out.push({ ...u, engine: 'kernel' }); continue; }
    out.push({ ...u, engine: 'fuse' });
    // The user's own trees inside a system tree get a kernel overlay stacked on top.
    for (const t of ctx.userTrees) if (t !== u.path && isWithin(t, u.path)) out.push({ kind: 'overlay', path: t, engine: 'kernel' });
  }
  return out;
}

/** Why fuse-overlayfs cannot be used, or null when it can. */
export function fuseProblem(which: (cmd: string) => string | null): string | null {
  if (!which('fuse-overlayfs')) return 'fuse-overlayfs is not installed';
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? '/dev/fuse is missing' : '/dev/fuse is not readable and writable by you (Debian makes it 0666)';
  }
  return null;
}

export function readableDir(dir: string): boolean {
  try { accessSync(dir, constants.R_OK | constants.X_OK); return true; } catch { return false; }
}

/**
 * fuse-overlayfs's options. squash_to_root, allow_other, default_permissions: host files look
 * root's inside and the kernel checks permissions on that view. noacl: no ACL round trips.
 * static_nlink: a directory's link count is 1 ("unknown", as on btrfs) instead of counted:
 * without it every stat of a directory walks all its entries and every lookup of one
 * re-reads it, so writing n files into one directory costs O(n²) (measured: docs/architecture.md).
 * Measured and not passed (fuse-overlayfs 1.10; 10,000 `echo > f$i` into /opt as sbxtest,
 * alternating runs at load 5.5-6, 2026-12-01): threaded=1 was slower in 4 runs of 4 (3.6-6.7 s
 * against 2.1-3.9 s); writeback=0 gained nothing (2.1-3.5 s); fast_ino=1 was ~10% faster (5
 * runs, medians 2.8 against 3.1 s) but it changes behaviour: nodes then take the directory
 * entry's inode number with no device, so a file of the upper layer and one of the lower with
 * the same number would be taken for one inode (hard links that are not).
 */
export const FUSE_OPTIONS = 'squash_to_root,allow_other,default_permissions,noacl,static_nlink';

export function fuseAvailable(which: (cmd: string) => string | null): string | null {
  return fuseProblem(which) ? null : which('fuse-overlayfs');
}
