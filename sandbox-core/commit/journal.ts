// The commit journal (`commit.journal` in the sandbox dir) makes an interrupted commit
// finishable: line 1 is the plan header (fsynced before the first host write), then one line
// per step begun (`b N`) and done (`d N`, written together with the next line: one write per
// step), and `s N` for every new file about to be written
// beside its target in a batch (fsynced first, so its staging name is always found). The lines are plain appends: they survive a
// SIGKILL (the page cache outlives the process); after a power loss a lost line only makes
// the next commit more careful (a path changed without a record is a conflict, not a
// silent overwrite).
//
// The journal is store data, hostile input like meta.json: it is reached only through the
// sandbox's entry opened from the store root fd (Store.openEntry), so no component of its
// path (the store's entries, the <id> dir, the file) is ever followed if it is a symlink.
import { childProcess } from '../base/builtin.js';
import { closeSync, fchownSync, fstatSync, fsyncSync, openSync, readFileSync, unlinkSync, writeSync, constants as C, type Stats } from 'node:fs';
import { helperPath } from '../helper.js';
import { readWhole, replaceStoreFile } from '../store.js';
import { SbxError } from '../base/errors.js';
import { BOOT_ID_RE, START_RE, recordedAlive, selfStamp } from '../base/process.js';
import type { Dir } from '../beneath.js';
import type { Store } from '../store.js';

const NAME = 'commit.journal';
const LOCK = 'commit.lock';
/** A lock file with no stamp yet is one being written: live for this long after it was made. */
const LOCK_WRITE_GRACE_MS = 5000;
/**
 * The biggest journal read: ~125 bytes a step, so ~2 million steps. The store's owner can make
 * one of any apparent size (a sparse file); root read a 10 GiB one whole under `sudo sbx
 * commit`, `discard` and `prune` (16 GB resident, minutes, then an internal error).
 */
const JOURNAL_MAX_BYTES = 256 << 20;

export interface JournalHeader {
  version: 1;
  startedMs: number;
  pid: number;
  /** The boot and the start time (/proc/PID/stat) of that pid: a pid of another boot, or reused, is not the commit. */
  boot?: string;
  pidStart?: string;
  only: string[];
  exclude: string[];
  /** The paths the user picked one by one (base64), when they did: a resume commits no others. */
  pick?: string[];
  /** Host paths (base64 of the bytes) of every step, indexed by step number. */
  steps: Array<{ path: string; kind: string }>;
  /** Paths an earlier interrupted commit already wrote (base64): ours, not conflicts. */
  ours: string[];
}

export interface JournalState {
  header: JournalHeader;
  /** Steps whose new file was written beside its target (`s N`): a staging name may be left. */
  staged: Set<number>;
  begun: Set<number>;
  done: Set<number>;
  /** The step of the last `b` line when it has no `d` line: it may have written after the journal's last line. */
  inFlight: number | null;
  /** The journal's mtime: every host write of a step recorded before the last line came before it. */
  mtimeMs: number;
}

/** This process, as a journal header records it. */
export function journalStamp(): { pid: number; boot?: string; pidStart?: string } {
  const { boot, start } = selfStamp();
  return { pid: process.pid, boot, pidStart: start };
}

/**
 * Whether the commit that wrote a journal still runs (not ours: ours is one we resume). Its
 * pid alone is not enough: after a power loss (what the journal is for) or a long while,
 * another process has that pid, and the commit could never be resumed.
 */
export function journalOwnerAlive(h: { pid: number; boot?: string; pidStart?: string }): boolean {
  return h.pid !== process.pid && recordedAlive({ pid: h.pid, boot: h.boot, start: h.pidStart });
}

/**
 * The pid of the commit holding the entry's lock (`commit.lock`: its pid, boot and start
 * time, as a journal's header), or null when there is none or its owner is gone.
 */
function lockOwner(entry: Dir): number | null {
  let fd: number;
  try { fd = entry.openFile(LOCK); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try { return lockOwnerOf(fd); } finally { closeSync(fd); }
}

/** lockOwner of the lock file open on `fd` (0: one being written now). */
function lockOwnerOf(fd: number): number | null {
  const st = fstatSync(fd);
  if (!st.isFile() || st.size > 4096) return null; // not ours: taken over (unlinked, never followed)
  let h: unknown;
  try { h = JSON.parse(readFileSync(fd, 'utf8')); } catch { h = null; }
  const x = h as Record<string, unknown> | null;
  if (!x || !Number.isSafeInteger(x.pid) || (x.pid as number) <= 0 || (x.boot !== undefined && (typeof x.boot !== 'string' || !BOOT_ID_RE.test(x.boot)))
    || (x.pidStart !== undefined && (typeof x.pidStart !== 'string' || !START_RE.test(x.pidStart)))) {
    // Made with O_EXCL and written right after: an empty one may be a commit starting now.
    return Date.now() - st.mtimeMs < LOCK_WRITE_GRACE_MS ? 0 : null;
  }
  const owner = { pid: x.pid as number, boot: x.boot as string | undefined, pidStart: x.pidStart as string | undefined };
  return journalOwnerAlive(owner) ? owner.pid : null;
}

/**
 * An exclusive flock on `fd`'s open file description, taken by `sbx-helper lock` (Node has
 * no flock): true when taken, false when another description holds it. The lock lives as long
 * as the description: our fd keeps it after the helper exits, and closing it (or our death)
 * ends it.
 */
function flockNow(fd: number): boolean {
  const r = childProcess().spawnSync(helperPath(), ['lock'], { stdio: ['ignore', 'ignore', 'pipe', fd], encoding: 'utf8' });
  if (r.status === 0) return true;
  if (r.status === 1) return false;
  throw new SbxError(`cannot lock the sandbox's commit.lock: ${(r.stderr || r.error?.message || `sbx-helper exited with ${r.status}`).trim()}`, 125);
}

const sameFile = (a: Stats, b: Stats | null): boolean => b !== null && a.ino === b.ino && a.dev === b.dev;

const busy = (pid: number): SbxError => new SbxError(`another commit of this sandbox is running${pid ? ` (pid ${pid})` : ''}`, undefined, 'wait for it to finish; a commit that was killed is finished by the next \'sbx commit\'');

/**
 * Takes the sandbox's commit lock for the whole commit, from before its journal is read;
 * returns its release. Two `sbx commit X` at once both planned from the same scan, the second
 * replaced the first's journal under it (a kill then resumed from the wrong one), each took
 * the other's writes for host conflicts, and one ended in an internal error on the journal the
 * other had removed.
 *
 * The lock is `commit.lock`, made O_EXCL and stamped with its commit's pid, boot and start
 * time. One whose commit is gone (killed: the journal says what to resume) is taken over:
 * removed, then made afresh. Two commits taking over one dead lock at once could both hold a
 * lock (each unlinked the dead file, the slower one unlinking the other's fresh lock), so the
 * takeover is a kernel lock's: only the holder of the dead file's flock removes it, and only
 * while its name still names that file. A commit that lost the race finds the name gone or
 * another file under it, and tries again. No flock is needed while the lock is live: nobody
 * takes over a lock whose stamp names a live commit.
 */
export function takeCommitLock(entry: Dir): () => void {
  for (let tries = 0; tries < 8; tries++) {
    let fd: number;
    try {
      fd = openSync(entry.at(LOCK), C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      takeOver(entry);
      continue;
    }
    try {
      if (process.geteuid?.() === 0) { const st = entry.stat(); if (st.uid !== 0) fchownSync(fd, st.uid, st.gid); }
      writeSync(fd, JSON.stringify(journalStamp()));
    } finally {
      closeSync(fd);
    }
    const mine = entry.lstat(LOCK);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      try { if (mine && sameFile(mine, entry.lstat(LOCK))) unlinkSync(entry.at(LOCK)); } catch { /* the entry went with a complete commit */ }
    };
  }
  throw new SbxError('another commit of this sandbox keeps taking its lock', undefined, 'try again');
}

/**
 * Removes the lock file that is there when its commit is gone; throws when it is live (or
 * another commit is taking it over). An existing file is only opened to read and lock it,
 * never written: it may be a hard link the store's owner made to a file of root's they may
 * write.
 */
function takeOver(entry: Dir): void {
  let fd: number;
  try { fd = entry.openFile(LOCK); } catch (o) {
    const code = (o as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return; // released or taken over as we looked
    throw new SbxError(`the sandbox's commit.lock is not a lock sbx made (${code})`, 125, 'remove it if no commit of this sandbox runs');
  }
  try {
    const pid = lockOwnerOf(fd);
    if (pid !== null) throw busy(pid);
    if (!flockNow(fd)) throw busy(0);
    // Ours now, unless its name was removed (taken over) between our open and the flock.
    if (!sameFile(fstatSync(fd), entry.lstat(LOCK))) return;
    try { unlinkSync(entry.at(LOCK)); } catch (u) {
      throw new SbxError(`the sandbox's commit.lock cannot be taken over (${(u as NodeJS.ErrnoException).code})`, 125, 'remove it if no commit of this sandbox runs');
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The journal in a sandbox's store entry (`entry`, from Store.openEntry; `where` names it in
 * messages), or null when there is none. A journal that is not a plain file (a symlink to
 * elsewhere, a FIFO) is refused, never followed or waited on.
 */
export function readJournal(entry: Dir, where: string): JournalState | null {
  const p = `${where}/${NAME}`;
  let fd: number;
  try {
    fd = entry.openFile(NAME);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new SbxError(`${p} cannot be read (${code})`, 125, 'discard the sandbox if you did not put it there');
  }
  let mtimeMs: number, text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new SbxError(`${p} is not a plain file`, 125, 'discard the sandbox if you did not put it there');
    if (st.size > JOURNAL_MAX_BYTES) throw new SbxError(`${p} is too big to be a journal sbx wrote (${st.size} bytes)`, 125, 'discard the sandbox if you did not put it there');
    mtimeMs = st.mtimeMs;
    // No more than fstat said: a file still growing is not read past the bound.
    text = readWhole(fd, st.size).toString('utf8');
  } finally {
    closeSync(fd);
  }
  const lines = text.split('\n');
  let parsed: unknown;
  try { parsed = JSON.parse(lines[0]!); } catch { return null; /* killed before the header was complete: nothing was written */ }
  // What a resume turns into host paths, pids and filters is checked once here, as meta.json's
  // fields are: a header of other types was not written by sbx.
  if (!isHeader(parsed)) throw new SbxError(`${p} is not a journal sbx wrote`, 125, 'discard the sandbox if you did not put it there');
  const header = parsed;
  const staged = new Set<number>();
  const begun = new Set<number>();
  const done = new Set<number>();
  let last: number | null = null;
  for (const l of lines.slice(1)) {
    const m = /^([sbd]) (\d+)$/.exec(l);
    if (!m) continue;
    const i = Number(m[2]);
    (m[1] === 's' ? staged : m[1] === 'b' ? begun : done).add(i);
    if (m[1] === 'b') last = i;
  }
  return { header, staged, begun, done, inFlight: last !== null && !done.has(last) ? last : null, mtimeMs };
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function isHeader(h: unknown): h is JournalHeader {
  if (!h || typeof h !== 'object' || Array.isArray(h)) return false;
  const x = h as Record<string, unknown>;
  return x.version === 1 && typeof x.startedMs === 'number' && Number.isFinite(x.startedMs)
    && Number.isSafeInteger(x.pid) && (x.pid as number) > 0
    && (x.boot === undefined || (typeof x.boot === 'string' && BOOT_ID_RE.test(x.boot)))
    && (x.pidStart === undefined || (typeof x.pidStart === 'string' && START_RE.test(x.pidStart)))
    && isStrings(x.only) && isStrings(x.exclude) && (x.pick === undefined || isStrings(x.pick)) && isStrings(x.ours)
    && Array.isArray(x.steps) && x.steps.every((st: unknown) => !!st && typeof st === 'object' && typeof (st as Record<string, unknown>).path === 'string' && typeof (st as Record<string, unknown>).kind === 'string');
}

/** Paths (byte strings) a journal shows as touched: every step begun. */
export function touchedPaths(j: JournalState): string[] {
  const out = j.header.ours.map((b) => Buffer.from(b, 'base64').toString('latin1'));
  for (const i of j.begun) {
    const s = j.header.steps[i];
    if (s) out.push(Buffer.from(s.path, 'base64').toString('latin1'));
  }
  return out;
}

export class JournalWriter {
  private fd: number;
  private since = 0;
  /**
   * `d N` lines not yet written: they go out with the next line (one write per step, not
   * two). A step done but not yet recorded when we die is resumed like one in flight.
   */
  private pendingDone = '';
  /** `entry`: the sandbox's store entry (Store.openEntry), used until remove() or close(); the caller closes it. */
  constructor(private readonly entry: Dir, header: JournalHeader) {
    // Replacing the old journal only once the new header is durable keeps what it knew if we die before.
    replaceStoreFile(entry, NAME, `${NAME}.new`, JSON.stringify(header) + '\n', true);
    this.fd = entry.openFile(NAME, C.O_WRONLY | C.O_APPEND);
  }
  /** Before a batch is written beside its targets: each of these may leave a staging name. */
  staged(steps: number[]): void { if (steps.length) this.write(steps.map((i) => `s ${i}\n`).join('')); }
  begin(i: number): void { this.write(`b ${i}\n`); }
  done(i: number): void {
    this.pendingDone += `d ${i}\n`;
    if (++this.since >= 1000) this.sync();
  }
  /**
   * The fd for the helper's place op, which writes its own `b N`/`d N` lines (native/place.c);
   * what we still held back goes out first, so the lines stay in order.
   */
  handOff(): number {
    this.write('');
    return this.fd;
  }
  sync(): void {
    this.write('');
    fsyncSync(this.fd);
    this.since = 0;
  }
  close(): void {
    this.write('');
    closeSync(this.fd);
  }
  private write(line: string): void {
    const s = this.pendingDone + line;
    this.pendingDone = '';
    if (s) writeSync(this.fd, s);
  }
  remove(): void {
    this.close();
    unlinkSync(this.entry.at(NAME));
  }
}

/**
 * The pid of a commit of this sandbox that still runs (the holder of its lock, 0 for one
 * writing its lock now; or its journal's owner), or null: removing the sandbox under it would
 * cut a commit short halfway through the host's files, or, while it still scans and plans
 * (its lock taken, no journal yet), leave it staging from layers that are gone. `name`: the
 * entry's name in the store (Store.removeId's claim while it decides).
 */
export function liveCommitPid(store: Store, id: string, name = id): number | null {
  let entry: Dir;
  try { entry = store.openEntry(id, name); } catch { return null; }
  try {
    const locked = lockOwner(entry);
    if (locked !== null) return locked;
    const j = readJournal(entry, store.dirOf(id));
    return j && journalOwnerAlive(j.header) ? j.header.pid : null;
  } catch {
    return null;
  } finally {
    entry.close();
  }
}
