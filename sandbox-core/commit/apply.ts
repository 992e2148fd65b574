// Carries out a plan on the host, step by step, recording progress in the journal.
import {
  closeSync, copyFileSync, fstatSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, renameSync, symlinkSync,
  unlinkSync, chmodSync, constants as C,
} from 'node:fs';
import type { Change } from '../changes/types.js';
import { isWithin, parentB, toFs } from '../changes/bpath.js';
import { lstatB } from '../changes/stat.js';
import { mknodBatch, setXattrs, errnoName } from '../changes/xattr.js';
import type { Plan, Refusal, Step } from './plan.js';
import { conflictOf } from './plan.js';
import {
  ancestorsAreDirs, applyMetaFd, applyMetaSymlink, errorText, fsyncPath, mayKeepPrivileges, openNoFollow, removeEntry,
  UnsafePathError, validatePath, type MetaResult,
} from './safe-fs.js';
import type { JournalWriter } from './journal.js';

export interface ApplyOptions {
  sandboxId: string;
  createdMs: number;
  force: boolean;
  journal: JournalWriter | null;
  /** Upper inode → every host name it has, to keep hard links linked. */
  links: Map<string, string[]>;
  ours: Set<string>;
  /** --keep-setuid: keep setuid/setgid bits and security.capability (honoured for root only). */
  keepSetuid?: boolean;
  progress?: (done: number, total: number, bytes: number) => void;
}

export interface ApplyResult {
  applied: number;
  bytes: number;
  conflicts: Refusal[];
  failed: Refusal[];
  ownerNotKept: string[];
  setidStripped: string[];
  xattrsNotKept: string[];
}

/** Deterministic, so an interrupted commit's leftovers are found and removed on resume. */
export function stagingPath(path: string, sandboxId: string, step: number): string {
  return `${parentB(path)}/.sbx-${sandboxId}-${step}`;
}

function pauseForTest(i: number): void {
  const at = process.env.SBX_TEST_COMMIT_PAUSE_AFTER;
  if (at === undefined || Number(at) !== i) return;
  // Lets a test SIGKILL a commit at a known point, with a staged file and a half journal.
  process.stderr.write(`sbx-test: paused at step ${i}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

const linkKey = (c: Change) => `${c.up!.dev}:${c.up!.ino}`;

export function applyPlan(plan: Plan, opts: ApplyOptions): ApplyResult {
  const res: ApplyResult = { applied: 0, bytes: 0, conflicts: [], failed: [], ownerNotKept: [], setidStripped: [], xattrsNotKept: [] };
  const touched = new Set<string>();
  const failedDirs: string[] = [];
  const committedInode = new Map<string, string>();
  const syncDirs = new Set<string>();
  const total = plan.steps.length;

  const note = (c: Change, m: MetaResult) => {
    if (!m.ownerKept) res.ownerNotKept.push(c.path);
    if (m.setidStripped) res.setidStripped.push(c.path);
  };
  const keepPriv = mayKeepPrivileges(!!opts.keepSetuid);
  const xattrs = (c: Change, at: string) => {
    if (!c.xattrs?.length) return;
    // File capabilities are setuid by another name: a sandboxed command must not leave one behind.
    const attrs = keepPriv ? c.xattrs : c.xattrs.filter(([n]) => n !== 'security.capability');
    if (attrs.length !== c.xattrs.length && !res.setidStripped.includes(c.path)) res.setidStripped.push(c.path);
    if (!attrs.length) return;
    const [e] = setXattrs([{ path: at, attrs }]);
    if (e) res.xattrsNotKept.push(`${Buffer.from(c.path, 'latin1').toString()} (${errnoName(e)})`);
  };

  /** Where an existing host name of the same upper inode can be linked from, if any. */
  const linkSource = (c: Change): string | null => {
    if (c.up!.nlink < 2) return null;
    const key = linkKey(c);
    const done = committedInode.get(key);
    if (done) return done;
    for (const other of opts.links.get(key) ?? []) {
      if (other === c.path) continue;
      const h = lstatB(other);
      // An unchanged partner: the host file already equals the upper one.
      if (h && h.type === 'file' && h.size === c.up!.size && Math.abs(h.mtimeMs - c.up!.mtimeMs) < 0.001 && !plan.steps.some((s) => s.change.path === other)) return other;
    }
    return null;
  };

  const stage = (c: Change, tmp: string) => {
    removeEntry(tmp);
    const up = c.up!;
    const src = linkSource(c);
    if (c.type === 'file' && src) {
      linkSync(toFs(src), toFs(tmp));
      return;
    }
    if (c.type === 'file') {
      // The sandbox's copy is opened without following links and must still be the inode the
      // review saw: a symlink or another file there now would make us copy something else.
      const src = openSync(toFs(c.upper!), C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY);
      try {
        const sst = fstatSync(src);
        if (!sst.isFile() || sst.ino !== up.ino || sst.dev !== up.dev) throw new UnsafePathError(`the sandbox's copy of ${Buffer.from(c.path, 'latin1').toString()} changed since the review`);
        // COPYFILE_EXCL creates with O_EXCL: an existing name, even a dangling symlink, fails.
        copyFileSync(`/proc/self/fd/${src}`, toFs(tmp), C.COPYFILE_EXCL);
      } finally { closeSync(src); }
      res.bytes += up.size;
      const fd = openSync(toFs(tmp), C.O_RDWR | C.O_NOFOLLOW);
      try {
        const st = lstatSync(toFs(tmp));
        note(c, applyMetaFd(fd, up, st, false, opts.keepSetuid));
        xattrs(c, tmp);
        applyMetaFd(fd, up, up, true, opts.keepSetuid);
        fsyncSync(fd);
      } finally { closeSync(fd); }
      return;
    }
    if (c.type === 'symlink') {
      symlinkSync(toFs(c.target!), toFs(tmp));
      note(c, applyMetaSymlink(tmp, up, lstatSync(toFs(tmp))));
      return;
    }
    if (c.type === 'fifo' || c.type === 'socket') {
      const [e] = mknodBatch(c.type, [tmp]);
      if (e) throw Object.assign(new Error(errnoName(e)), { code: errnoName(e) });
      if (c.type === 'fifo') {
        const fd = openNoFollow(tmp);
        try { note(c, applyMetaFd(fd, up, lstatSync(toFs(tmp)))); } finally { closeSync(fd); }
      } else {
        // A socket cannot be opened; the name was just created by us with O_EXCL semantics.
        const st = lstatSync(toFs(tmp));
        if (!st.isSocket()) throw new Error(`${tmp} changed under us`);
        note(c, applyMetaSymlink(tmp, up, st));
        chmodSync(toFs(tmp), up.perm & 0o777);
      }
      return;
    }
    throw new Error(`cannot commit a ${c.type}`);
  };

  const meta = (c: Change, dir: boolean) => {
    const up = c.up!;
    const now = lstatB(c.path);
    if (!now) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    if (now.type === 'symlink') { note(c, applyMetaSymlink(c.path, up, now)); return; }
    if (now.type === 'socket') {
      note(c, applyMetaSymlink(c.path, up, now));
      chmodSync(toFs(c.path), up.perm & 0o777);
      return;
    }
    xattrs(c, c.path);
    const fd = openNoFollow(c.path, dir);
    try { note(c, applyMetaFd(fd, up, now, true, opts.keepSetuid)); } finally { closeSync(fd); }
  };

  for (let i = 0; i < total; i++) {
    const step: Step = plan.steps[i]!;
    const c = step.change;
    const p = c.path;
    const fd = failedDirs.find((d) => isWithin(p, d) && p !== d);
    if (fd) { res.failed.push({ path: p, reason: `not committed: ${Buffer.from(fd, 'latin1').toString()} failed` }); continue; }
    try {
      validatePath(p);
      if (!ancestorsAreDirs(p)) throw new Error('its parent dir does not exist on the host');
      if (!opts.force && !touched.has(p) && step.kind !== 'dirmeta') {
        const why = conflictOf(c, { createdMs: opts.createdMs, force: false, ours: opts.ours });
        if (why) { res.conflicts.push({ path: p, reason: why }); if (step.kind === 'mkdir') failedDirs.push(p); continue; }
      }
      opts.journal?.begin(i);
      switch (step.kind) {
        case 'delete':
          removeEntry(p);
          break;
        case 'put': {
          const tmp = stagingPath(p, opts.sandboxId, i);
          stage(c, tmp);
          pauseForTest(i);
          // A dir being replaced by a non-dir cannot be renamed over: remove it first.
          if (lstatB(p)?.type === 'dir') removeEntry(p);
          renameSync(toFs(tmp), toFs(p));
          if (c.type === 'file' && c.up!.nlink > 1 && !committedInode.has(linkKey(c))) committedInode.set(linkKey(c), p);
          break;
        }
        case 'mkdir': {
          pauseForTest(i);
          const now = lstatB(p);
          if (now && now.type !== 'dir') unlinkSync(toFs(p));
          if (now?.type !== 'dir') mkdirSync(toFs(p), { mode: 0o700 });
          break;
        }
        case 'meta':
          pauseForTest(i);
          meta(c, false);
          break;
        case 'dirmeta':
          pauseForTest(i);
          meta(c, true);
          break;
      }
      opts.journal?.done(i);
      touched.add(p);
      syncDirs.add(parentB(p));
      res.applied++;
    } catch (e) {
      res.failed.push({ path: p, reason: errorText(e) });
      if (step.kind === 'mkdir') failedDirs.push(p);
      try { if (step.kind === 'put') removeEntry(stagingPath(p, opts.sandboxId, i)); } catch { /* reported with the step */ }
    }
    if (opts.progress && (i & 0xff) === 0) opts.progress(i, total, res.bytes);
  }
  for (const d of syncDirs) fsyncPath(d, true);
  opts.progress?.(total, total, res.bytes);
  return res;
}
