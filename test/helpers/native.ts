// Small C programs the security tests compile at run time with the system's cc, into a temp
// dir that the unprivileged test user (and so the sandbox) can read and execute.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './sbx.js';

const dirs: string[] = [];

export function compileC(name: string, extra: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-sec-bin-'));
  chmodSync(dir, 0o755);
  dirs.push(dir);
  const out = join(dir, name);
  const r = spawnSync('cc', ['-O1', '-o', out, join(REPO, 'test', 'security', 'c', `${name}.c`), ...extra], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc ${name}.c failed: ${r.stderr || r.error}`);
  chmodSync(out, 0o755);
  return out;
}

export function removeCompiled(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Parses the probe program's "NAME RESULT" lines. */
export function probeResults(stdout: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const i = line.indexOf(' ');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}
