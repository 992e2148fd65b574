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
import { closeSync, fstatSync, fsyncSync, unlinkSync, writeSync, constants as C } from 'node:fs';
import { lockHolder, type LockHolder } from '../sandbox-lock.js';
import { readWhole, replaceStoreFile } from '../store.js';
import { SbxError } from '../base/errors.js';
import { hasPidStamp, otherStampAlive, type PidStamp } from '../base/process.js';
import type { Dir } from '../beneath.js';
import type { Store } from '../store.js';

const NAME = 'commit.journal';
/**
 * The biggest journal read: ~125 bytes a step, so ~2 million steps. The store's owner can make
 * one of any apparent size (a sparse file); root read a 10 GiB one whole under `sudo sbx
 * commit`, `discard` and `prune` (16 GB resident, minutes, then an internal error).
 */
const JOURNAL_MAX_BYTES = 256 << 20;

/** Its PidStamp is the commit's: a pid of another boot, or reused, is not the commit. */
export interface JournalHeader extends PidStamp {
  version: 1;
  startedMs: number;
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
  /** The journal's mtime: every host write of a step recorded before the last line came before it. */
  mtimeMs: number;
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
  for (const l of lines.slice(1)) {
    const m = /^([sbd]) (\d+)$/.exec(l);
    if (!m) continue;
    const i = Number(m[2]);
    (m[1] === 's' ? staged : m[1] === 'b' ? begun : done).add(i);
  }
  return { header, staged, begun, done, mtimeMs };
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function isHeader(h: unknown): h is JournalHeader {
  if (!h || typeof h !== 'object' || Array.isArray(h)) return false;
  const x = h as Record<string, unknown>;
  return x.version === 1 && typeof x.startedMs === 'number' && Number.isFinite(x.startedMs)
    && hasPidStamp(x)
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
 * The live sbx working on this sandbox: the holder of its lock (a commit, or a run in it until
 * its review's answer; pid 0 for one writing its lock now), or the owner of its journal; or
 * null. Removing the sandbox under a commit would cut it short halfway through the host's
 * files, or, while it still scans and plans (its lock taken, no journal yet), leave it staging
 * from layers that are gone; under a run's review, lose what the user is about to keep.
 * `name`: the entry's name in the store (Store.removeId's claim while it decides).
 */
export function liveHolder(store: Store, id: string, name = id): LockHolder | null {
  let entry: Dir;
  try { entry = store.openEntry(id, name); } catch { return null; }
  try {
    const locked = lockHolder(entry);
    if (locked !== null) return locked;
    const j = readJournal(entry, store.dirOf(id));
    return j && otherStampAlive(j.header) ? { pid: j.header.pid, use: 'commit' } : null;
  } catch {
    return null;
  } finally {
    entry.close();
  }
}
