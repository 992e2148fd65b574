// One of Node's internal bindings, reached through process.binding: on Node's allow-list for
// it and not deprecated at run time. light-process.ts (tty_wrap, process_wrap) and dir-stat.ts
// (fs) use them where the public module costs a run milliseconds; each checks the shape it
// needs and falls back to the public API whenever this answers null.

/** The binding `name`, or null: process.binding missing, wrapped to warn, or refusing it. */
export function nodeBinding(name: string): Record<string, unknown> | null {
  const binding = (process as { binding?: ((name: string) => unknown) & { name: string } }).binding;
  // Node's deprecate() wrapper (named `deprecated`, --pending-deprecation) would print DEP0111 on the first call.
  if (typeof binding !== 'function' || binding.name !== 'binding') return null;
  try {
    const b = binding(name);
    return b && typeof b === 'object' ? (b as Record<string, unknown>) : null;
  } catch {
    return null; // not on the allow-list in this Node
  }
}
