// A run's way to say it reached its review (cli/code-cache.ts loadPart sets the function up
// when this process may write its part's code cache). A module of its own, with no imports:
// the run part imports it, and code-cache.ts's own (node:vm, the CRC-32, the cache files)
// would grow that part for nothing.

/**
 * Where a part finds the function that marks its code cache to be written whole (a global:
 * the part is a bundle of its own, with its own copy of every module, this one included).
 */
export const CACHE_FULL = Symbol.for('sbx.codeCacheFull');

/**
 * Says that this run runs the part's later code (a run's review): its code cache is written at
 * exit with that code, unless the cache this process loaded already held it. A cache written
 * by a run that ended before its review (an empty `run -n -- true`) lacks it, and every later
 * review compiled it again. When run.js held the review, a review of two changes as root ran
 * ~7-12 ms slower from it, an ordinary user's every `run -n` ~8 ms (alternating runs,
 * 2026-12-05); the review is now review.js, a part with a cache of its own, and what it adds
 * to run.js's cache is the functions of the modules both use that it runs (408 -> 438 KB).
 * The first run that reviews writes it again, once.
 */
export function wantFullCodeCache(): void {
  (globalThis as Record<symbol, (() => void) | undefined>)[CACHE_FULL]?.();
}
