// Where sbx's C helper is, whether it is the one this sbx was built with, and building it on
// first use. The helper is compiled on the machine that runs it (never shipped, never
// downloaded): by the package's install script into <package>/native/build, or, when that
// holds no usable helper (install scripts blocked, a global install by root used by another
// user, a helper left from another version), by sbx itself into a per-user cache.
import { notice } from './notices.js';
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SbxError } from './base/errors.js';
import { cacheRoot, ensurePrivateDir } from './base/paths.js';
import { builtin, childProcess } from './base/builtin.js';
import { VERSION } from './version.js';
import { PACKAGE_ROOT } from './package-root.js';
import { ownedPrivately } from './base/private-file.js';

// node:crypto and node:child_process cost milliseconds to load; `sbx --version` and a run with
// the helper in place need neither, so they are required only on the paths that do.
const crypto = (): typeof import('node:crypto') => builtin('node:crypto');

// Baked in by scripts/bundle.mjs; absent when running the tsc output (tests, benches).
declare const __SBX_HELPER_VERSION__: string | undefined;

export type HelperOrigin = 'SBX_HELPER' | 'package' | 'cache';
export interface Helper { path: string; origin: HelperOrigin }

let expected: string | null = null;
/** The helper version this sbx needs: its version plus a digest of the C sources (as scripts/native-id.mjs). */
export function expectedHelperVersion(): string {
  if (expected) return expected;
  if (typeof __SBX_HELPER_VERSION__ === 'string') return (expected = __SBX_HELPER_VERSION__);
  const dir = join(PACKAGE_ROOT, 'native');
  const files = readdirSync(dir, { recursive: true }).map(String)
    .filter((f) => (f.endsWith('.c') || f.endsWith('.h')) && !f.split('/').includes('build')).sort();
  const h = crypto().createHash('sha256');
  for (const f of files) h.update(f).update('\0').update(readFileSync(join(dir, f))).update('\0');
  return (expected = `${VERSION}+${h.digest('hex').slice(0, 12)}`);
}

export function packageHelperPath(): string {
  return join(PACKAGE_ROOT, 'native', 'build', 'sbx-helper');
}

function cacheBase(): string {
  return join(cacheRoot(), 'helper');
}

function cachedHelperPath(): string {
  return join(cacheBase(), expectedHelperVersion(), 'sbx-helper');
}

/** A cached helper runs only if this user owns it and nobody else can replace it. */
function trustworthy(path: string): boolean {
  try {
    return [path, join(path, '..')].every((p) => ownedPrivately(statSync(p)));
  } catch {
    return false;
  }
}

/** The helper to use, without building anything; null when none is usable yet. */
export function findHelper(): Helper | null {
  if (process.env.SBX_HELPER) return { path: process.env.SBX_HELPER, origin: 'SBX_HELPER' };
  const pkg = packageHelperPath();
  if (existsSync(pkg) && !staleHelpers.has(pkg)) return { path: pkg, origin: 'package' };
  const cached = cachedHelperPath();
  if (existsSync(cached) && trustworthy(cached) && !staleHelpers.has(cached)) return { path: cached, origin: 'cache' };
  return null;
}

/** Helpers that reported another version: skipped for the rest of this process. */
const staleHelpers = new Set<string>();
export function markStale(h: Helper): void {
  staleHelpers.add(h.path);
}

/** Compiles the helper into the per-user cache with scripts/build-native.mjs (the one build recipe). */
export function buildCachedHelper(why: string): Helper {
  const out = join(cacheBase(), expectedHelperVersion());
  ensurePrivateDir(out);
  notice('always', `building its helper for this machine (${why}) into ${out}`);
  const script = join(PACKAGE_ROOT, 'scripts', 'build-native.mjs');
  const r = childProcess().spawnSync(process.execPath, [script, '--out', out, '--why', why], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    const lines = (r.stderr || r.error?.message || '').trim().split('\n');
    const mine = lines.filter((l) => l.startsWith('sbx: ')).pop();
    if (!mine && lines.length) notice('warn', lines.join('\n'));
    throw new SbxError(mine ? mine.slice(5) : 'building the helper failed', 125);
  }
  const path = join(out, 'sbx-helper');
  staleHelpers.delete(path);
  return { path, origin: 'cache' };
}

/** The helper to use, building it into the cache when there is none. */
export function helper(): Helper {
  const found = findHelper();
  if (found) return found;
  return buildCachedHelper(existsSync(packageHelperPath()) ? 'the installed one is from another version' : 'first use: the package holds none');
}

export function helperPath(): string {
  return helper().path;
}

/**
 * The shared object the fuse-overlayfs daemons preload (native/preload/fuse-noplus.c: their
 * listings without READDIRPLUS), built beside the helper this run uses; '' where there is none
 * (the daemons then run as they are). One in the per-user cache is used on the helper's terms.
 */
export function fusePreloadPath(): string {
  const h = helper();
  const path = join(dirname(h.path), 'sbx-fuse-noplus.so');
  try {
    if (!statSync(path).isFile()) return '';
  } catch {
    return '';
  }
  return h.origin !== 'cache' || trustworthy(path) ? path : '';
}

/**
 * Whether a helper binary is the version this sbx needs, without running it: the version
 * string is compiled into it. Reading ~100 KB costs far less than starting a process.
 */
export function helperMatches(path: string): boolean {
  const want = Buffer.from(`${expectedHelperVersion()}\0`);
  let fd: number;
  try { fd = openSync(path, 'r'); } catch { return false; }
  try {
    // Searched through one small buffer, not read whole: every page a new buffer touches is a
    // page fault (tens of us each on a VM), and `sbx --version` lives on this. The helper
    // carries its version as an ELF note in its first page (native/main.c), so the first read
    // is one page; a helper without it is searched on, its code's string ~800 KB in.
    // Consecutive chunks overlap by the string's length, so one that straddles two is found.
    const size = Math.min(statSync(path).size, 8 << 20);
    const buf = Buffer.allocUnsafe(64 << 10);
    const keep = want.length - 1;
    let have = 0; // bytes carried over from the previous chunk, at the buffer's start
    for (let off = 0; off < size;) {
      const n = readSync(fd, buf, have, Math.min(off === 0 ? 4096 : buf.length - have, size - off), off);
      if (n <= 0) break;
      off += n;
      const end = have + n;
      if (buf.subarray(0, end).indexOf(want) >= 0) return true;
      have = Math.min(keep, end);
      buf.copy(buf, 0, end - have, end);
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/** What the helper says its version is (starts it: for --version on a mismatch and doctor). */
export function helperVersionOf(path: string): string | null {
  const r = childProcess().spawnSync(path, ['version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** How the helper was built, from the record scripts/build-native.mjs leaves beside it. */
export function helperBuildRecord(path: string): { compiler: string; by: string; at: string; linked: string | null } | null {
  try {
    const [, compiler, by, at, linked] = readFileSync(`${path}.build`, 'utf8').split('\n');
    return compiler && by && at ? { compiler, by, at, linked: linked || null } : null;
  } catch {
    return null;
  }
}
