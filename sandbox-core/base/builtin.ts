// Node built-in modules loaded on first use. Not `await import()`: the bundle's parts run
// through vm.Script (cli/code-cache.ts), where a dynamic import has no loader to call and
// fails with ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING; and a module a path never uses costs
// nothing at start-up.
//
// Not `createRequire` from node:module either: loading node:module loads Node's ES module
// loader and source-map code with it, which a run never uses (measured: ~60 KB of young
// allocations, and their pages, in every `sbx run`). process.getBuiltinModule is Node >=
// 20.16; before it, the shipped bundle's entry is the CommonJS main module, whose require
// loads built-ins too.
type Load = (id: string) => unknown;
let load: Load | null = null;

export function builtin<T>(id: `node:${string}`): T {
  load ??= loader();
  return load(id) as T;
}

function loader(): Load {
  const p = process as { getBuiltinModule?: Load; mainModule?: { require: Load } };
  if (p.getBuiltinModule) return p.getBuiltinModule.bind(process);
  const main = p.mainModule;
  if (main) return (id) => main.require(id);
  throw new Error('sbx run from its ES modules (dist/) needs Node >= 20.16 (process.getBuiltinModule)');
}

/**
 * node:child_process, loaded when a path first starts a process: with node:net and Node's
 * streams it is ~30 built-in modules that a run whose sandbox changed nothing never uses.
 */
export const childProcess = (): typeof import('node:child_process') => builtin('node:child_process');
