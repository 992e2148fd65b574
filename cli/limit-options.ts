// Parsing of sbx run's limit flags (--memory, --pids, --cpus, --io-weight, --timeout,
// --device) into a LimitsRequest. Bad values are UsageErrors that
// name the flag and say what is accepted.
import { UsageError } from './usage-error.js';
import { basename, posix } from 'node:path';
import { DEFAULT_PIDS, type LimitsRequest } from '../sandbox-core/limits.js';
import { parseDuration, parseSize } from '../sandbox-core/units.js';
import { normaliseAccess } from '../policies/devices/index.js';
import { displayText } from '../sandbox-core/base/bpath.js';

export interface LimitFlags {
  memory?: string;
  pids?: string;
  cpus?: string;
  ioWeight?: string;
  timeout?: string;
  device: string[];
}

function wrap<T>(flag: string, f: () => T): T {
  try { return f(); } catch (e) { throw new UsageError(`${flag}: ${(e as Error).message}`); }
}

function integer(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min || Number(text) > max) throw new UsageError(`${flag} ${displayText(text)}: ${/^\s*-/.test(text) ? 'a negative number is not a count: ' : ''}expected a whole number from ${min} to ${max}`);
  return Number(text);
}

/**
 * A size flag's value. A bare number would be bytes, which nobody means for a memory or disk
 * cap (`--memory 10`): the missing unit is the mistake to name.
 */
export function sizeFlag(flag: string, text: string): number {
  if (/^\s*\d+(?:\.\d+)?\s*$/.test(text)) {
    // The number with a unit is the suggestion only when that is a size sbx takes: `--memory
    // 0` suggested `0M`, which was then refused as not a positive size.
    const n = text.trim();
    const valid = ((): boolean => { try { parseSize(`${n}M`); return true; } catch { return false; } })();
    const what = Number(n) * 2 ** 20 >= 1 ? 'the size has no unit' : 'the size must be more than 0, with a unit';
    throw new UsageError(`${flag} ${displayText(text)}: ${what}: write e.g. ${valid ? `${n}M or ${n}G` : '512M or 2G'} (K, M, G or T)`);
  }
  return wrap(flag, () => parseSize(text));
}

export function parseLimitFlags(f: LimitFlags): LimitsRequest {
  const req: LimitsRequest = { pids: DEFAULT_PIDS, pidsExplicit: false, devices: [] };
  if (f.memory !== undefined) {
    req.memory = sizeFlag('--memory', f.memory);
    // Below this the sandbox's own init and a shell cannot start.
    if (req.memory < 4 * 2 ** 20) throw new UsageError(`--memory ${f.memory}: at least 4M`);
  }
  if (f.pids !== undefined) {
    req.pids = integer('--pids', f.pids, 2, 4_194_304);
    req.pidsExplicit = true;
  }
  if (f.cpus !== undefined) {
    const n = Number(f.cpus);
    if (!/^\d*\.?\d+$/.test(f.cpus.trim()) || !(n >= 0.01) || n > 1024) throw new UsageError(`--cpus ${displayText(f.cpus)}: expected a number of CPUs such as 0.5 or 2 (0.01 to 1024)`);
    req.cpus = n;
  }
  if (f.ioWeight !== undefined) req.ioWeight = integer('--io-weight', f.ioWeight, 1, 10000);
  if (f.timeout !== undefined) req.timeoutMs = wrap('--timeout', () => parseDuration(f.timeout!));
  for (const d of f.device) {
    // HOST[:INSIDE][:RIGHTS], as docker run --device.
    const parts = d.split(':');
    if (parts.length > 3) throw new UsageError(`--device ${displayText(d)}: expected HOST[:INSIDE][:rwm]`);
    const last = parts.length > 1 && !parts[parts.length - 1]!.startsWith('/') ? parts.pop()! : null;
    const access = last === null ? 'rwm' : wrap(`--device ${d}`, () => normaliseAccess(last, 'rights'));
    const [path, insideArg] = parts as [string, string | undefined];
    if (!path.startsWith('/')) throw new UsageError(`--device ${displayText(d)}: give the absolute path of a device node, e.g. /dev/fuse`);
    // `..` refused as written; `//` and `/./` folded, so that `/dev//pts/x` is seen as in pts.
    const given = insideArg ?? (path.startsWith('/dev/') ? path : `/dev/${basename(path)}`);
    const inside = posix.normalize(given).replace(/(.)\/+$/, '$1');
    if (given.split('/').includes('..') || !/^\/dev\/[^\0]+$/.test(inside) || /^\/dev\/(pts|shm)(\/|$)/.test(inside)) {
      throw new UsageError(`--device ${displayText(d)}: the inside path must be a new name under /dev (not in pts or shm)`);
    }
    req.devices.push({ path, inside, access });
  }
  return req;
}
