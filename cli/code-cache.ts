// Loads one of the bundle's parts (dist/bin/<name>.js, CommonJS) through V8's code cache.
// Compiling a bundle costs more than Node's own start; the cache (bytecode V8 wrote after an
// earlier run) spares it. It lives in the user's cache dir, one file per part, named after the
// part's content hash (baked in by scripts/bundle.mjs), the install's dir, Node's version and
// the architecture, so a stale file is never even opened; V8 checks the rest and rejects what
// does not fit. The install's dir is in the name because V8 keeps the file name a cache was
// made under: one install's stack traces named another's files, and two installs of different
// builds each evicted the other's cache on every run. The
// cache is code this process runs: it is used only when this user owns it and its directory
// and nobody else can write either, and it is written only below a cache dir this user owns.
// Any failure just compiles from source.
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Script, constants as vmConstants } from 'node:vm';
import { seal, unseal } from '../sandbox-core/base/crc32.js';
import { ownedPrivately, readPrivateFile } from '../sandbox-core/base/private-file.js';
import { CACHE_FULL } from './code-cache-full.js';

// scripts/bundle.mjs stores each part as this function expression, so the text is compiled as
// read: wrapping it here would copy the whole part into a second string.
const PART_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const PART_TAIL = '\n})';

/**
 * Where the cache files go: $XDG_CACHE_HOME/sbx/code (when absolute), else ~/.cache/sbx/code;
 * null without an absolute base. Inside sbx's cache dir (base/paths.ts cacheRoot), which ownDirs keeps out of
 * every sandbox's reach: hidden inside, refused by commit. Not imported from there: the entry
 * loads nothing it does not need.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): { dir: string; base: string } | null {
  const base = (env.XDG_CACHE_HOME?.startsWith('/') ? env.XDG_CACHE_HOME : '') || (env.HOME ? join(env.HOME, '.cache') : '');
  return base.startsWith('/') ? { dir: join(base, 'sbx', 'code'), base } : null;
}

/**
 * A cache file is V8's data sealed with its CRC-32 (base/crc32.ts). V8 checks a code cache's
 * header (its version and flags, the source's length), not what follows: a file damaged past
 * the header crashed every start of sbx in V8's deserializer (SIGTRAP, exit 133, a native
 * stack trace) until it was removed (tried 2026-12-05: 200 bytes flipped in quiet's cache).
 * Node's own compile cache keeps a CRC-32 for the same reason.
 */
const CODE_MARK = 0x43584253; // "SBXC"
/** The mark of a cache written by a run that reached its part's later code (code-cache-full.ts). */
const CODE_MARK_FULL = 0x46584253; // "SBXF"

/** A cache file's V8 data, and whether a run that reached its later code wrote it. */
export interface CodeCache { data: Buffer; full: boolean }

/** `data` as a cache file holds it; null when no CRC-32 can be had (then nothing is cached). */
export const sealCache = (data: Buffer, full = false): Buffer | null => seal(data, full ? CODE_MARK_FULL : CODE_MARK);

/** A cache file's V8 data (and its mark) when its mark and CRC-32 hold; else undefined. */
export function unsealCache(file: Buffer): CodeCache | undefined {
  const full = file.length >= 4 && file.readUInt32LE(file.length - 4) === CODE_MARK_FULL;
  const data = unseal(file, full ? CODE_MARK_FULL : CODE_MARK);
  return data && { data, full };
}

/**
 * The cache file's V8 data when this user owns it and its dir, nobody else can write either,
 * and its CRC-32 holds (unsealCache); else undefined. Read into `room` when it is big enough
 * (readPrivateFile).
 */
export function readCache(file: string, dir: string, room?: Buffer): CodeCache | undefined {
  const b = readPrivateFile(file, dir, 64 << 20, room);
  return b && unsealCache(b);
}

/** Writes the cache atomically, only below a cache dir this user owns; failures are ignored. */
export function writeCache(file: string, dir: string, base: string, data: Buffer, full = false): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    // Only below a cache dir of this user's: never root's files in another user's home (sudo).
    const b = lstatSync(base, { throwIfNoEntry: false });
    if (b) { if (!b.isDirectory() || b.uid !== process.geteuid?.()) return; }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const d = lstatSync(dir);
    if (!d.isDirectory() || !ownedPrivately(d)) return;
    const sealed = sealCache(data, full);
    if (!sealed) return;
    writeFileSync(tmp, sealed, { flag: 'wx', mode: 0o600 });
    renameSync(tmp, file);
    evictStale(dir, basename(file));
  } catch {
    try { unlinkSync(tmp); } catch { /* never written */ }
  }
}

/** The caches one part may keep, newest first: this install's and those of a few others. */
const KEPT_PER_PART = 4;
const CACHE_NAME = /^([a-z]+)-[0-9a-f]{16}-(?:([0-9a-f]{8})-)?v[^/]*\.v8$/;

/**
 * Removes what `kept`'s part will never read again: the caches of its earlier builds or Node
 * versions in the same install (and those named before install keys), and of other installs
 * beyond the newest few (a removed checkout's stay otherwise).
 */
function evictStale(dir: string, kept: string): void {
  const [, part, key] = CACHE_NAME.exec(kept) ?? [];
  if (!part) return;
  const others: { name: string; mtime: number }[] = [];
  for (const f of readdirSync(dir)) {
    const m = CACHE_NAME.exec(f);
    if (f === kept || !m || m[1] !== part) continue;
    if (!m[2] || m[2] === key) { removeIfThere(join(dir, f)); continue; }
    // Another sbx may be evicting the same files at this moment.
    const st = lstatSync(join(dir, f), { throwIfNoEntry: false });
    if (st) others.push({ name: f, mtime: st.mtimeMs });
  }
  others.sort((a, b) => b.mtime - a.mtime);
  for (const o of others.slice(KEPT_PER_PART - 1)) removeIfThere(join(dir, o.name));
}

function removeIfThere(path: string): void {
  try { unlinkSync(path); } catch { /* gone already */ }
}

/** A short key for the install's dir (FNV-1a): no crypto module is loaded for it at start-up. */
export function installKey(binDir: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < binDir.length; i++) h = Math.imul(h ^ binDir.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * A part's bytes, in a buffer with room for `cacheSize` bytes after them (untouched: memory
 * costs a page fault only when first written), so the code cache can be read over them once
 * they are in the source string.
 */
function readPart(path: string, cacheSize: number): { bytes: Buffer; room: Buffer } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    // Slow: its own memory, never a slice of Node's shared pool that the cache would overwrite.
    const room = Buffer.allocUnsafeSlow(Math.max(size, Math.min(cacheSize, 64 << 20)));
    let n = 0;
    while (n < size) { const r = readSync(fd, room, n, size - n, n); if (r <= 0) break; n += r; }
    return { bytes: room.subarray(0, n), room };
  } finally {
    closeSync(fd);
  }
}

/**
 * The size of a part's code cache, 0 when there is none or it cannot be looked at: the cache
 * only saves compiling, so a cache dir sbx may not search (an XDG_CACHE_HOME of another user's,
 * a file in its way) is no cache, as readCache and writeCache take it; it ended every command,
 * `sbx --version` too, with "Error: EACCES" (or ENOTDIR).
 */
function cacheSize(file: string): number {
  try { return statSync(file, { throwIfNoEntry: false })?.size ?? 0; } catch { return 0; }
}

/** Runs dist/bin/<name>.js (a CommonJS bundle) and returns its exports. */
export function loadPart<T>(binDir: string, name: string, hash: string): T {
  const path = join(binDir, `${name}.js`);
  // The part's bytes are copied into the source string, then the code cache is read over them:
  // one buffer's pages touched instead of two (~80 fewer page faults for a run).
  const where = cacheDir();
  const file = where ? join(where.dir, `${name}-${hash}-${installKey(binDir)}-${process.version}-${process.arch}.v8`) : null;
  const { bytes, room } = readPart(path, file ? cacheSize(file) : 0);
  // latin1: a part is ASCII (scripts/bundle.mjs refuses anything else), and this decodes without UTF-8 checks.
  const source = bytes.toString('latin1');
  // A part of another build (or no part at all) is refused rather than run as something else.
  if (!source.startsWith(PART_HEAD) || !source.endsWith(PART_TAIL)) throw new Error(`${path} is not a part of this sbx build: reinstall sbx`);
  const cached = file ? readCache(file, where!.dir, room) : undefined;
  // A dynamic import() in a part then resolves as in the main program (Node >= 20.12 has the
  // constant; sbx's own code does not use import(), base/builtin.ts, and a test checks that).
  const dynamic = (vmConstants as unknown as { USE_MAIN_CONTEXT_DEFAULT_LOADER?: symbol } | undefined)?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  const script = new Script(source, { filename: path, cachedData: cached?.data, ...(dynamic ? { importModuleDynamically: dynamic as never } : {}) });
  const none = !cached || script.cachedDataRejected;
  if (file && (none || !cached.full)) {
    // At exit the cache holds every function this run compiled, not only the top level. A
    // cache this run loaded is written again only when it lacks what this run reached
    // (wantFullCodeCache); a part's worthCaching() says when this run compiled more than later
    // runs need (a policy).
    let full = false;
    (globalThis as Record<symbol, () => void>)[CACHE_FULL] = () => { full = true; };
    process.once('exit', () => {
      if (!none && !full) return;
      if ((module.exports as { worthCaching?: () => boolean }).worthCaching?.() === false) return;
      writeCache(file, where!.dir, where!.base, script.createCachedData(), full);
    });
  }
  const module = { exports: {} as T };
  (script.runInThisContext() as (...a: unknown[]) => void)(module.exports, require, module, path, binDir);
  return module.exports;
}
