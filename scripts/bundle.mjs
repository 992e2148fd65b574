// Bundles the CLI into dist/bin/: one minified entry (sbx.js) plus chunks that only the
// commands needing them load (the diff renderer, the policy compiler, commit). Node then
// reads a handful of files instead of ~80 modules, which is most of sbx's start-up.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { helperVersion } from './native-id.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'bin');

/** Identifies the seccomp compiler's code, so cached programs of an older compiler are not reused. */
function compilerId() {
  const h = createHash('sha256');
  const dir = join(root, 'policies', 'seccomp');
  for (const f of readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.ts')).sort()) {
    h.update(String(f)).update('\0').update(readFileSync(join(dir, String(f)))).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: { sbx: join(root, 'cli', 'main.ts') },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  chunkNames: 'c-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
  define: {
    __SBX_HELPER_VERSION__: JSON.stringify(helperVersion(root)),
    __SBX_COMPILER_ID__: JSON.stringify(compilerId()),
  },
  // clipanion is CommonJS: its require() of Node built-ins needs a real require in ESM.
  banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
});
