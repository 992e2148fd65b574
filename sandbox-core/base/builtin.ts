// Node built-in modules loaded on first use. Not `await import()`: the bundle's parts run
// through vm.Script (cli/code-cache.ts), where a dynamic import has no loader to call and
// fails with ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING; and a module a path never uses costs
// nothing at start-up.
import { createRequire } from 'node:module';

let req: NodeRequire | null = null;

export function builtin<T>(id: `node:${string}`): T {
  return (req ??= createRequire(import.meta.url))(id) as T;
}
