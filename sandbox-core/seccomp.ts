// The seccomp program for a run, compiled by our compiler in policies/. Loading and running
// the compiler costs about as much as Node's own start-up, so the programs of shipped
// policies are cached (keyed by sbx's version, the architecture, the command's capabilities,
// every shipped policy file and the compiler build): a run usually loads none of it.
import { closeSync, existsSync, fsyncSync, lstatSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync, constants as C } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Fnv64 } from './random.js';
import { cacheRoot, ensurePrivateDir } from './base/paths.js';
import { seal, unseal } from './base/crc32.js';
import { readPrivateFile } from './base/private-file.js';
import { defaultCapabilities } from '../policies/capabilities/index.js';
import { hostArch } from '../policies/seccomp/arch.js';

const VERSION = 1;
/** The mark of a sealed program file (base/crc32.ts seal): "SBXP". */
const PROGRAM_MARK = 0x50584253;
// Baked in by scripts/bundle.mjs: a digest of the compiler's sources. The tsc output (tests,
// benches) has no bundle and keys on its compiled files instead.
declare const __SBX_COMPILER_ID__: string | undefined;

function shippedDir(): string | null {
  const d = fileURLToPath(new URL('../../policies/seccomp/', import.meta.url));
  return existsSync(join(d, 'default.json')) ? d : null;
}

function cacheKey(ref: string, arch: string, capabilities: readonly string[] | undefined): string | null {
  const dir = shippedDir();
  if (!dir || ref.includes('/') || ref.endsWith('.json') || !existsSync(join(dir, `${ref}.json`))) return null;
  const h = new Fnv64().update(`v${VERSION}\0${ref}\0${arch}\0${[...(capabilities ?? defaultCapabilities())].sort().join(',')}\0`);
  // The shipped files by identity and size, not content: reading and hashing them all cost a
  // run more than the cached program saves. An edit changes mtime (or the inode, when saved
  // by rename) and so the key.
  // Plain numbers, not bigint stats: the times' fractions of a millisecond still tell edits
  // apart, and a bigint Stats costs a run more than the whole key's hashing.
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const st = statSync(dir + f);
    h.update(`${f}\0${st.ino}\0${st.size}\0${st.mtimeMs}\0${st.ctimeMs}\0`);
  }
  if (typeof __SBX_COMPILER_ID__ === 'string') h.update(__SBX_COMPILER_ID__);
  else {
    const compiled = fileURLToPath(new URL('../policies/seccomp/', import.meta.url));
    for (const f of readdirSync(compiled).filter((n) => n.endsWith('.js')).sort()) h.update(f).update(String(statSync(join(compiled, f)).mtimeMs));
  }
  return h.hex();
}

let compiled = false;

/**
 * Whether this process compiled a policy (no cached program): the first run after an install or
 * a policy change. cli/code-cache.ts then leaves the part's code cache to a later run, since a
 * cache written at exit holds every function the run compiled, and every later run would
 * deserialize the compiler too (measured: an 80 KB larger cache, ~95 more page faults per run).
 */
export function compiledPolicy(): boolean {
  return compiled;
}

/** `capabilities`: the command's set (undefined: the default set); rules with ifCaps depend on it. */
/** `connectNotify`: connect(2) becomes a user notification where the policy allows it (--allow-net's direct path). */
export async function loadSeccomp(ref: string, capabilities?: readonly string[], connectNotify = false): Promise<Buffer> {
  const arch = hostArch();
  let key: string | null = null;
  try { key = arch ? cacheKey(ref, arch, capabilities) : null; } catch { key = null; }
  const file = key ? join(cacheRoot(), `seccomp-${ref}${connectNotify ? '+notify' : ''}-${arch}-${key}.bpf`) : null;
  if (file) {
    // A program the kernel will enforce: only this user's private file (under sudo keeping
    // HOME, cacheRoot is the invoking user's, whose files root must not take as its policy),
    // and only while its CRC-32, of its name and its bytes, holds: a damaged program is still
    // valid BPF to the kernel and would allow what the policy refuses, or another policy's
    // program copied under this name would be this one.
    const b = readPrivateFile(file, cacheRoot(), 1 << 20);
    const prog = b && unseal(b, PROGRAM_MARK, basename(file));
    if (prog && prog.length > 0 && prog.length % 8 === 0) return prog;
  }
  const { compileSeccompPolicy } = await import('../policies/seccomp/index.js');
  compiled = true;
  const prog = compileSeccompPolicy(ref, undefined, capabilities, { connectNotify });
  if (file) {
    try {
      ensurePrivateDir(cacheRoot());
      const tmp = `${file}.${process.pid}`;
      const sealed = seal(prog, PROGRAM_MARK, basename(file));
      if (!sealed) return prog; // no CRC-32 in this Node: nothing could be checked when read
      const fd = openSync(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
      try { writeSync(fd, sealed); fsyncSync(fd); } finally { closeSync(fd); }
      renameSync(tmp, file);
      pruneCache(cacheRoot(), `seccomp-${ref}${connectNotify ? '+notify' : ''}-${arch}-`);
    } catch { /* a cache we cannot write only costs time */ }
  }
  return prog;
}

/** Programs kept per policy and architecture: one per capability set in use, and a few spare. */
export const CACHE_KEEP = 8;

/**
 * Every policy edit and every sbx build makes a new key, and the old program is never read
 * again; a hit does not touch its file (a run writes nothing to the cache), so the newest
 * written are kept and the rest removed. A capability set pushed out is compiled once more.
 */
function pruneCache(dir: string, prefix: string): void {
  const mine = readdirSync(dir).filter((n) => n.startsWith(prefix) && /^[0-9a-f]{16}\.bpf$/.test(n.slice(prefix.length)));
  if (mine.length <= CACHE_KEEP) return;
  const byAge = mine.map((n) => ({ n, t: lstatSync(join(dir, n), { throwIfNoEntry: false })?.mtimeMs ?? 0 })).sort((a, b) => b.t - a.t);
  for (const { n } of byAge.slice(CACHE_KEEP)) {
    try { unlinkSync(join(dir, n)); } catch { /* another run removed it */ }
  }
}
