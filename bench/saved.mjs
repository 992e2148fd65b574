// A saved run of a command that syncs every file it writes (as dpkg does when it unpacks a
// package), next to the same command in a throwaway run: every run mounts its overlays
// `volatile`, so the command's fsyncs cost no journal commit, and a saved run syncs its layers
// once when the command ended (sandbox-core/sandbox.ts). The throwaway run, whose layers are on
// tmpfs and never synced, is the floor. The files go to a tree of the sandbox's own: nothing
// reaches the host.
// Then `sbx ls` of the sandboxes those runs saved (listRow), and `sbx discard` of a big saved
// sandbox beside `rm -rf` of as many files (discardRow).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SBX, median, row, runAlone, time } from './_lib.mjs';

const FILES = 300;
const SCRIPT = `import os\nd = '/opt/sbx-bench-saved'\nos.makedirs(d, exist_ok=True)\nfor i in range(${FILES}):\n    fd = os.open(f'{d}/f{i}', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)\n    os.write(fd, b'x' * 100)\n    os.fsync(fd)\n    os.close(fd)\n`;

export async function rows() {
  // Saved sandboxes pile up in a store of the bench's own, removed at the end.
  const store = mkdtempSync(join(tmpdir(), 'sbx-bench-saved-'));
  try {
    const env = { SBX_HOME: store, NO_COLOR: '1' };
    const saved = time(process.execPath, [SBX, 'run', '-q', '--', 'python3', '-c', SCRIPT], { env, runs: 7 });
    const thrown = time(process.execPath, [SBX, 'run', '-n', '-q', '--', 'python3', '-c', SCRIPT], { env, runs: 7 });
    return [
      row(`saved \`sbx run\` of ${FILES} files written and fsynced`, saved, '`sbx run -n` of the same', thrown, { note: 'both skip the command\'s fsyncs (volatile overlays); the saved run adds the review\'s scan of what it wrote, its meta.json writes and one sync of its layers' }),
      listRow(store, env),
      discardRow(store, env),
    ];
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
}

/** `sbx ls` of the sandboxes the saved runs left (each scanned for its count), beside `sbx ls` of an empty store. */
function listRow(store, env) {
  const saved = readdirSync(store).filter((n) => /^[0-9a-f]{8}$/.test(n)).length;
  const empty = mkdtempSync(join(tmpdir(), 'sbx-bench-empty-'));
  try {
    const listed = time(process.execPath, [SBX, 'ls'], { env });
    const none = time(process.execPath, [SBX, 'ls'], { env: { ...env, SBX_HOME: empty } });
    return row(`\`sbx ls\` of ${saved} saved sandboxes of ${FILES} new files`, listed, '`sbx ls` of an empty store', none, { note: 'each sandbox scanned for its size and change count: all in one start of the helper (`sbx-helper scan-many`), one whose answer passes 256 KiB (~2,000 entries) scanned again alone' });
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
}

const DISCARDED = 20000;

/** ms of one spawnSync of `argv`, or null when it failed. */
function wallMs(argv, env) {
  const t = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: 'ignore', env: { ...process.env, ...env } });
  return r.status === 0 ? Number(process.hrtime.bigint() - t) / 1e6 : null;
}

/**
 * `sbx discard` of a saved sandbox of DISCARDED new files, beside `rm -rf` of a tree of as many
 * files on the store's filesystem: what a user waits for. sbx hands a tree that big to a
 * detached remover (Store.removeId); each run waits for it to end before the next, untimed.
 */
function discardRow(store, env) {
  const sbxMs = [], rmMs = [];
  for (let i = 0; i < 5; i++) {
    const made = spawnSync(process.execPath, [SBX, 'run', '-q', '--name', `big${i}`, '--', 'sh', '-c', `mkdir -p /opt/sbx-bench-discard && cd /opt/sbx-bench-discard && seq 1 ${DISCARDED} | xargs touch`], { stdio: 'ignore', env: { ...process.env, ...env } });
    if (made.status !== 0) return row(`\`sbx discard\` of a saved sandbox of ${DISCARDED} new files`, null, '`rm -rf` of as many files', null, { note: 'n/a: the saved run failed' });
    sbxMs.push(wallMs([process.execPath, SBX, 'discard', `big${i}`], env));
    for (const until = Date.now() + 60_000; readdirSync(store).some((n) => n.startsWith('.removing-')) && Date.now() < until;) spawnSync('sleep', ['0.05']);
    const tree = join(store, `rm-${i}`);
    mkdirSync(tree);
    for (let f = 1; f <= DISCARDED; f++) writeFileSync(join(tree, String(f)), '');
    spawnSync('sync');
    rmMs.push(wallMs(['rm', '-rf', tree]));
    if (existsSync(tree)) rmSync(tree, { recursive: true, force: true });
  }
  const m = (xs) => (xs.includes(null) ? null : median(xs));
  return row(`\`sbx discard\` of a saved sandbox of ${DISCARDED} new files`, m(sbxMs), '`rm -rf` of as many files', m(rmMs), { note: `median of 5 each; a sandbox of 2,000 entries or more goes to a detached remover, so this is Node's start, the count of the first 2,000 entries, the claim and the remover's start (${sbxMs.map((x) => x?.toFixed(0)).join(', ')} ms); rm: ${rmMs.map((x) => x?.toFixed(0)).join(', ')} ms` });
}

await runAlone(import.meta.url, rows);
