// `sbx diff ID --name-only`'s fast path: recognised here, in the entry, so the list part
// (cli/entry-list.ts) is loaded instead of the whole CLI. Anything else goes to clipanion.

/** The ID of argv (after `diff`) that is exactly `ID --name-only` in either order, else null. */
export function nameOnlyRef(args: readonly string[]): string | null {
  if (args.length !== 2) return null;
  const i = args.indexOf('--name-only');
  const ref = i < 0 ? undefined : args[1 - i];
  return ref && !ref.startsWith('-') ? ref : null;
}
