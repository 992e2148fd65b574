// What `sbx-helper scan` is asked (native/scan.c) and the fds it is given: for the change
// list's walk (walk.ts), and for the review's scan that the run's helper makes once the
// sandbox ended (the spec's `review_scan`, sandbox.ts). A module of its own so that a run
// asks for that scan without loading the decoder and the classification behind walk.ts.
import { closeSync, openSync, constants as C } from 'node:fs';
import { upperOf, type Layer, type SandboxMeta } from '../types.js';
import { fromUser } from '../base/bpath.js';
import { O_PATH } from '../beneath.js';
import { relTo } from './xattr.js';
import { closeAll, dirAt, physicalRoot, rootPath, setHostRoot, trustRoot } from './fsat.js';
import { layersOpener } from '../layers-opener.js';

/** Bytes of new files' text one scan brings at most (the answer is held in memory whole). */
const TEXT_BUDGET = 64 * 2 ** 20;

export function upperDirOf(meta: SandboxMeta, layer: Layer): string {
  return `${meta.layersDir}/${upperOf(layer)}`;
}

/** What a walk needs to know of the sandbox, worked out once before the helper runs. */
export interface WalkPlan {
  meta: SandboxMeta;
  targets: string[];
  roots: string[];
  jobLayers: number[];
  layersRoot: string;
}

/** What changes what the helper sends (walk.ts WalkOptions). */
export interface RequestOptions {
  fewXattrs?: boolean;
  countLinesUpTo?: number;
  readNewUpTo?: number;
  namesOnly?: boolean;
}

/** `base`: the layer's work dir, made as its upper root was (scan.c 'R': what the root is compared with). */
interface ScanJob { upper: string; host: string; fuse: boolean; base: string }

/** The request (native/scan.c) and the fds the helper is given: the layers root, the host side. */
function scanRequest(jobs: ScanJob[], layersRoot: string, fewXattrs: boolean, linesUpTo: number | undefined, textUpTo: number | undefined, namesOnly: boolean): { input: Buffer; fds: number[] } {
  if (namesOnly && textUpTo !== undefined) throw new Error('internal error: a names-only scan sends no text');
  // One latin1 string (the paths are byte strings, each word four bytes little-endian), made
  // into one buffer: a run asks this before its helper starts, where three buffers a layer
  // were most of the request's ~0.6 ms.
  const word = (w: number): string => String.fromCharCode(w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24);
  // Every job reports its roots ('R', flag 32): a change to the attributes of a layer's own
  // root is in no entry below it.
  const flags = 32 | (fewXattrs || namesOnly ? 2 : 0) | (linesUpTo === undefined ? 0 : 4) | (textUpTo === undefined ? 0 : 8) | (namesOnly ? 16 : 0);
  const words = (linesUpTo !== undefined || textUpTo !== undefined ? word(Math.min(Math.max(linesUpTo ?? 0, textUpTo ?? 0), 0xffffffff)) : '')
    + (textUpTo !== undefined ? word(TEXT_BUDGET) : '');
  let text = '';
  for (const j of jobs) text += `${j.upper}\0${j.host}\0${word(flags | (j.fuse ? 1 : 0))}${words}${j.base}\0`;
  const input = Buffer.from(text, 'latin1');
  // The layers root from the fd the store opened (fsat.ts rootPath), never its path again; the
  // host side is `/`, or an image sandbox's lower root (fsat.ts: the one place that decides).
  const fds: number[] = [];
  try {
    for (const r of [rootPath(layersRoot), physicalRoot('/')]) fds.push(openSync(Buffer.from(r, 'latin1'), O_PATH | C.O_DIRECTORY));
  } catch (e) {
    for (const fd of fds) closeSync(fd);
    throw e;
  }
  return { input, fds };
}

/** Every layer to walk, none listed here; null when the sandbox has none. */
export function planLayers(meta: SandboxMeta): WalkPlan | null {
  if (!meta.layers.length) return null;
  const targets = meta.layers.map((l) => fromUser(l.target));
  const layersRoot = fromUser(meta.layersDir);
  const roots = meta.layers.map((layer) => fromUser(upperDirOf(meta, layer)));
  // Every read below the layers root starts from the fd the store opens for it: the store dir
  // and the sandbox's entry (or the scratch dir) each opened without following a symlink and
  // checked to be the store owner's (Store.openLayers). Its path is never walked again: a
  // process of that owner could swap any directory on it (under `sudo sbx commit`, for a
  // tree only root may read).
  trustRoot(layersRoot, layersOpener(meta));
  // Opened now: a store that refuses it fails the scan here, with the store's words.
  dirAt(layersRoot);
  return { meta, targets, roots, jobLayers: meta.layers.map((_, li) => li), layersRoot };
}

export function requestOf(p: WalkPlan, opts: RequestOptions): { input: Buffer; fds: number[] } {
  return scanRequest(p.jobLayers.map((li) => ({
    upper: relTo(p.layersRoot, p.roots[li]!), host: p.targets[li] === '/' ? '' : relTo('/', p.targets[li]!), fuse: p.meta.layers[li]!.format === 'fuse',
    base: `${fromUser(p.meta.layers[li]!.dir)}/work`,
  })), p.layersRoot, !!opts.fewXattrs, opts.countLinesUpTo, opts.readNewUpTo, !!opts.namesOnly);
}

/**
 * The review's scan of every layer of a run on the host's own tree, asked of the run's helper
 * before it starts (the spec's `review_scan`: it walks them once the sandbox ended, and sbx
 * starts no second helper after it): the request, and the layers root and the host root opened
 * as a scan opens them, which the caller closes. Null for a sandbox without layers, or one
 * compared with an image's tree.
 */
export function reviewScanOf(meta: SandboxMeta): { input: Buffer; layersFd: number; hostFd: number } | null {
  if (meta.image || meta.rootfs) return null;
  setHostRoot(null);
  try {
    const p = planLayers(meta);
    if (!p) return null;
    const r = requestOf(p, {});
    return { input: r.input, layersFd: r.fds[0]!, hostFd: r.fds[1]! };
  } finally {
    closeAll();
  }
}
