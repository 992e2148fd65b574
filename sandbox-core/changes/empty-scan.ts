// The helper's answer to a scan that found nothing in any layer: per layer, its job start
// ('J' u32 job, native/scan.c) and the 'R' record of its roots showing the upper root as sbx
// made it, and no other record. A module of its own: a run whose answer is this ends without
// loading the review's decoder (cli/run-exec.ts).
import { isDataXattr } from './overlay-xattrs.js';

/** Bytes of a STAT (native/scan.c). */
const STAT_BYTES = 92;

/**
 * One ROOT of an 'R' record read from `at`: its mode, owner and non-overlay xattrs (null: not
 * read), and where it ends; null when it could not be stat'ed or runs past the answer.
 */
interface Root { mode: number; uid: number; gid: number; xattrs: string | null; end: number }

function rootAt(b: Buffer, at: number): Root | null {
  if (at + 4 > b.length || b.readUInt32LE(at) !== 0) return null;
  const st = at + 4;
  let o = st + STAT_BYTES;
  if (o + 4 > b.length) return null;
  const stat = { mode: b.readUInt32LE(st) & 0o7777, uid: b.readUInt32LE(st + 4), gid: b.readUInt32LE(st + 8) };
  if (b.readUInt32LE(o) !== 0) return { ...stat, xattrs: null, end: o + 4 };
  if (o + 8 > b.length) return null;
  const count = b.readUInt32LE(o + 4);
  o += 8;
  const kept: string[] = [];
  for (let k = 0; k < count; k++) {
    if (o + 4 > b.length) return null;
    const nl = b.readUInt32LE(o);
    if (o + 4 + nl + 4 > b.length) return null;
    const name = b.toString('latin1', o + 4, o + 4 + nl);
    const vl = b.readUInt32LE(o + 4 + nl);
    const v = o + 8 + nl;
    if (v + vl > b.length) return null;
    if (isDataXattr(name)) kept.push(`${name}\0${b.toString('latin1', v, v + vl)}`);
    o = v + vl;
  }
  return { ...stat, xattrs: kept.sort().join('\0\0'), end: o };
}

/**
 * Whether a layer's upper root (`up`, permission bits) has another mode than the one it was
 * made with. sbx keeps that mode on the layer's work dir (`base`; its owner bits always rwx:
 * sandbox.ts workMode), so the rest is compared with the base, the owner bits with the host
 * dir's; a base of 0700 (made before, or for a 0700 dir) or none: all with the host dir's.
 * With `ownerBits` (Layer's rootOwnerBits: a --user run gave the root the bits the user has
 * on the host, not the owner's) the owner bits are compared with those, the rest with the
 * base (a base of 0700 is then that dir's own mode: recorded only since the work dir keeps it).
 */
export function rootModeMoved(up: number, host: number, base: number | null, ownerBits?: number): boolean {
  if (ownerBits !== undefined) return (up & 0o7077) !== ((base ?? host) & 0o7077) || (up & 0o700) !== (ownerBits & 7) << 6;
  if (base === null || base === 0o700) return up !== host;
  return (up & 0o7077) !== (base & 0o7077) || (up & 0o700) !== (host & 0o700);
}

/**
 * Whether `answer` is, for jobs 0 to n-1 (`layers`, in the sandbox's order), a 'J' record and an 'R' record whose upper root
 * has the mode, owner and xattrs (overlayfs's aside) of the dir sbx made beside it
 * (rootModeMoved), and nothing else: the sandbox changed nothing. Stricter than the decoder
 * (walk.ts rootEntry), never looser: a root it doubts is decoded.
 */
export function changedNothing(answer: Buffer, layers: ReadonlyArray<{ rootOwnerBits?: number }>): boolean {
  let o = 0;
  for (let j = 0; j < layers.length; j++) {
    if (o + 6 > answer.length || answer[o] !== 0x4a || answer.readUInt32LE(o + 1) !== j || answer[o + 5] !== 0x52) return false;
    const up = rootAt(answer, o + 6);
    const host = up && rootAt(answer, up.end);
    const base = host && rootAt(answer, host.end);
    if (!base || rootModeMoved(up!.mode, host!.mode, base.mode, layers[j]!.rootOwnerBits) || up!.uid !== base.uid || up!.gid !== base.gid || up!.xattrs === null || up!.xattrs !== base.xattrs) return false;
    o = base.end;
  }
  return o === answer.length;
}
