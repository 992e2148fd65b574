// The helper's version: sbx's version plus a digest of the C sources it is built from. The
// same digest is computed by sandbox-core/helper.ts (and baked into the bundle), so a helper
// left from another version or another checkout is recognised before it runs anything.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export function nativeSources(root) {
  const dir = join(root, 'native');
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => (f.endsWith('.c') || f.endsWith('.h')) && !f.split('/').includes('build'))
    .sort();
}

export function helperVersion(root) {
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  const h = createHash('sha256');
  for (const f of nativeSources(root)) h.update(f).update('\0').update(readFileSync(join(root, 'native', f))).update('\0');
  return `${version}+${h.digest('hex').slice(0, 12)}`;
}
