// Builds the C helper with the system compiler. No prebuilt binaries are ever downloaded:
// a machine without a C compiler gets one clear line saying what to install.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'native');
const out = join(src, 'build');
const cc = process.env.CC || 'cc';

const probe = spawnSync(cc, ['--version'], { stdio: 'ignore' });
if (probe.error || probe.status !== 0) {
  console.error(`sbx: no C compiler found (tried '${cc}'): install one (Debian: apt-get install gcc) or set CC, then run npm install again`);
  process.exit(1);
}
mkdirSync(out, { recursive: true });
const sources = readdirSync(src).filter((f) => f.endsWith('.c')).sort().map((f) => join(src, f));
const args = ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror=implicit-function-declaration',
  '-D_FORTIFY_SOURCE=2', '-fstack-protector-strong', '-o', join(out, 'sbx-helper'), ...sources];
const r = spawnSync(cc, args, { stdio: 'inherit' });
if (r.status !== 0) {
  console.error('sbx: building the C helper failed (see the compiler output above)');
  process.exit(1);
}
