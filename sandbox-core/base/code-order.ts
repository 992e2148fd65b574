// Strings in code-unit order (JavaScript's `<`): the order the review and the commit list
// paths in, the same in every locale, and no ICU collator loaded (localeCompare's first call
// is ~12 ms). policies/ sits below sandbox-core and spells the same comparison itself.

/** -1, 0 or 1 as `a` sorts before, with or after `b` by UTF-16 code units. */
export function codeUnitOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
