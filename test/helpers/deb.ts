// A .deb built on the spot, for the tests that install a package inside a sandbox with
// `apt-get install ./x.deb` (no repository, no network).
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Builds package NAME holding /usr/share/NAME/hello.txt and the given extra files (paths
 * relative to /usr/share/NAME) and files at paths relative to `/` (`rootFiles`), readable by
 * every user; its dir is pushed on `temps` for the caller to remove. Null when dpkg-deb or
 * apt-get is missing.
 */
export function buildDeb(name: string, temps: string[], extra: Record<string, string> = {}, rootFiles: Record<string, string> = {}): string | null {
  if (!spawnSync('sh', ['-c', 'command -v dpkg-deb && command -v apt-get']).stdout?.length) return null;
  const dir = mkdtempSync(join(tmpdir(), 'sbx-deb-'));
  temps.push(dir);
  chmodSync(dir, 0o755);
  const pkg = join(dir, 'pkg');
  const share = join(pkg, 'usr', 'share', name);
  mkdirSync(join(pkg, 'DEBIAN'), { recursive: true });
  writeFileSync(join(pkg, 'DEBIAN', 'control'), `Package: ${name}\nVersion: 1.0\nArchitecture: all\nMaintainer: sbx tests <sbx@localhost>\nDescription: a package made by the sbx tests\n`);
  const files: Array<[string, string]> = [...Object.entries({ 'hello.txt': 'hello from a package\n', ...extra }).map(([rel, c]): [string, string] => [join(share, rel), c]),
    ...Object.entries(rootFiles).map(([rel, c]): [string, string] => [join(pkg, rel), c])];
  for (const [path, content] of files) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  const deb = join(dir, `${name}.deb`);
  const r = spawnSync('dpkg-deb', ['--root-owner-group', '--build', pkg, deb], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  chmodSync(deb, 0o644);
  return deb;
}
