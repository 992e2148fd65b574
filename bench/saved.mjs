// A saved run of a command that syncs every file it writes (as dpkg does when it unpacks a
// package), next to the same command in a throwaway run: every run mounts its overlays
// `volatile`, so the command's fsyncs cost no journal commit, and a saved run syncs its layers
// once when the command ended (sandbox-core/sandbox.ts). The throwaway run, whose layers are on
// tmpfs and never synced, is the floor. The files go to a tree of the sandbox's own: nothing
// reaches the host.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SBX, row, runAlone, time } from './_lib.mjs';

const FILES = 300;
const SCRIPT = `import os\nd = '/opt/sbx-bench-saved'\nos.makedirs(d, exist_ok=True)\nfor i in range(${FILES}):\n    fd = os.open(f'{d}/f{i}', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)\n    os.write(fd, b'x' * 100)\n    os.fsync(fd)\n    os.close(fd)\n`;

export async function rows() {
  // Saved sandboxes pile up in a store of the bench's own, removed at the end.
  const store = mkdtempSync(join(tmpdir(), 'sbx-bench-saved-'));
  try {
    const env = { SBX_HOME: store, NO_COLOR: '1' };
    const saved = time(process.execPath, [SBX, 'run', '-q', '--', 'python3', '-c', SCRIPT], { env, runs: 7 });
    const thrown = time(process.execPath, [SBX, 'run', '-n', '-q', '--', 'python3', '-c', SCRIPT], { env, runs: 7 });
    return [row(`saved \`sbx run\` of ${FILES} files written and fsynced`, saved, '`sbx run -n` of the same', thrown, { note: 'both skip the command\'s fsyncs (volatile overlays); the saved run adds the review\'s scan of what it wrote, its meta.json writes and one sync of its layers' })];
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
}

await runAlone(import.meta.url, rows);
