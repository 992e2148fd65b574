// A run's way to have its part's code cache taken before its review (cli/code-cache.ts
// loadPart sets the function up when this process writes a cache). A module of its own, with
// no imports: the run part imports it, and code-cache.ts's own (node:vm, the CRC-32, the cache
// files) would grow that part for nothing.

/**
 * Where a part finds the function that takes its code cache now rather than at exit (a global:
 * the part is a bundle of its own, with its own copy of every module, this one included).
 */
export const CACHE_NOW = Symbol.for('sbx.codeCacheNow');

/**
 * Has the code cache of the part this process runs (when one is to be written) taken now: it
 * then holds what the run compiled so far, not what comes next. A run calls it before its
 * review: a cache written at the exit of a run whose review listed changes held the review's
 * code too (615 KB against 424 for the run part), every later run read and deserialised it,
 * and an empty `run -n -- true` took ~5 ms more (alternating pairs, 2026-12-05) while a review
 * of two changes gained nothing from it. Which run came first after an install decided it.
 */
export function takeCodeCacheNow(): void {
  (globalThis as Record<symbol, (() => void) | undefined>)[CACHE_NOW]?.();
}
