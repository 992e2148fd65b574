// The fold list (policies/fold.json): changes the review counts on one line instead of listing
// them (package-manager caches, logs, bytecode, shell history). Folding only shortens the
// summary: a folded change is committed like any other unless excluded.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserError } from './errors.js';
import { isObject, own, shippedLoader, unknownKeys, type BakedFile } from './read-json.js';

export interface FoldRule {
  name: string;
  paths: string[];
}

export function shippedFoldPath(): string {
  const fromDist = fileURLToPath(new URL('../../policies/fold.json', import.meta.url));
  return existsSync(fromDist) ? fromDist : fileURLToPath(new URL('./fold.json', import.meta.url));
}

export function parseFoldRules(v: unknown, file: string): FoldRule[] {
  const bad = (where: string, m: string): never => { throw new UserError(`${file}: ${where}: ${m}`); };
  if (!isObject(v)) bad('top level', 'expected an object with a "fold" list');
  const o = v as Record<string, unknown>;
  const extra = unknownKeys(o, ['comment', 'fold']);
  if (extra.length) bad('top level', `unknown key "${extra[0]}"`);
  const list = own(o, 'fold');
  if (!Array.isArray(list)) return bad('fold', 'expected a list');
  return list.map((r, i) => {
    const where = `fold[${i}]`;
    if (!isObject(r)) bad(where, 'expected {"name", "paths"}');
    const x = r as Record<string, unknown>;
    const unk = unknownKeys(x, ['name', 'paths']);
    if (unk.length) bad(where, `unknown key "${unk[0]}"`);
    const name = own(x, 'name');
    const paths = own(x, 'paths');
    if (typeof name !== 'string' || !name) bad(where, '"name" must be a non-empty string');
    if (!Array.isArray(paths) || !paths.length || !paths.every((p) => typeof p === 'string' && p.length > 0)) bad(where, '"paths" must be a non-empty list of glob strings');
    return { name: name as string, paths: paths as string[] };
  });
}

// Baked in by scripts/bundle.mjs: the shipped file's text and its rules. The tsc output (tests) has none.
declare const __SBX_SHIPPED_FOLD__: string | undefined;
const bakedFold = (): BakedFile<FoldRule[]> | null => (typeof __SBX_SHIPPED_FOLD__ === 'string' ? JSON.parse(__SBX_SHIPPED_FOLD__) : null);
export const loadFoldRules: () => FoldRule[] = shippedLoader(shippedFoldPath, parseFoldRules, bakedFold);
