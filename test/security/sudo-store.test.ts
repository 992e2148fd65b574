// Root acting on an ordinary user's store (`sudo sbx discard|prune|commit`, or `sudo SBX_HOME=…`):
// every directory on the way, the entries, the claims and /dev/shm/sbx-<uid> are that user's,
// and a hostile process of theirs may swap any of them between sbx's check and its act. No
// removal may delete, chmod or write anything outside the store: here a canary tree only root
// may enter (/opt/sbx-canary-<random>, 0700), named by symlinks or bound into the store.
// The store's owner is an otherwise unused uid, so /dev/shm/sbx-<uid> is this file's alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  chmodSync, existsSync, lchownSync, linkSync, lstatSync, readFileSync, statSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statfsSync,
  symlinkSync, truncateSync, writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { Store, scratchPath } from '../../sandbox-core/store.js';
import { JournalWriter } from '../../sandbox-core/commit/journal.js';
import { IS_ROOT, SBX, awaitDetachedRemovals } from '../helpers/sbx.js';
import { startRemover } from '../../sandbox-core/commit/remover.js';
import { testUnless } from '../helpers/skip.js';
import { underPty } from '../helpers/pty.js';
import { CANARY } from '../helpers/canary-name.js';

/** No account has it (checked): its scratch dir and its processes are this test's. */
const UID = 54321;
const ID = 'abcdef01';
const accountless = !/^[^:]*:[^:]*:54321:/m.test(spawnSync('getent', ['passwd'], { encoding: 'utf8' }).stdout ?? '');
const tmpfsShm = (() => { try { return statfsSync('/dev/shm').type === 0x01021994; } catch { return false; } })();
const rootCase = testUnless(!IS_ROOT ? 'root acting on a user\'s store: the root run covers it' : !accountless ? `uid ${UID} has an account here` : null);
const scratchCase = testUnless(!IS_ROOT ? 'a root case: the root run covers it' : !accountless ? `uid ${UID} has an account here` : !tmpfsShm ? '/dev/shm is not a tmpfs' : null);
const hasPython = spawnSync('python3', ['-c', '0']).status === 0;
const raceCase = testUnless(!IS_ROOT ? 'a root case: the root run covers it' : !accountless ? `uid ${UID} has an account here` : !tmpfsShm ? '/dev/shm is not a tmpfs' : !hasPython ? 'no python3 for the swapper (renameat2)' : null);
/** A process of the user in a mount namespace of theirs (unprivileged user namespaces). */
const canUnshare = IS_ROOT && accountless
  && spawnSync('setpriv', ['--reuid', String(UID), '--regid', String(UID), '--clear-groups', 'unshare', '-Urm', 'true']).status === 0;
const nsCase = testUnless(!IS_ROOT ? 'a root case: the root run covers it' : !canUnshare ? 'setpriv/unshare -Urm as an ordinary uid do not work here' : null, { missing: IS_ROOT && accountless });

const CANARY_FILES = ['f', 'd/g'];

/** The root-only tree: /opt/sbx-canary-<random>, 0700 root, with a file and a dir in it. */
function makeCanary(): string {
  const c = `/opt/${CANARY}${randomBytes(4).toString('hex')}`;
  mkdirSync(c, { mode: 0o700 });
  mkdirSync(join(c, 'd'));
  for (const f of CANARY_FILES) writeFileSync(join(c, f), 'canary\n');
  chmodSync(join(c, 'd'), 0o755);
  return c;
}

function assertCanary(c: string, what: string): void {
  for (const f of CANARY_FILES) assert.ok(existsSync(join(c, f)), `${what}: root removed ${join(c, f)}`);
}

function meta(id: string): string {
  return JSON.stringify({
    version: 1, id, name: null, state: 'saved', uid: UID, gid: UID, createdMs: Date.now() - 3_600_000, command: ['true'], cwd: '/',
    layers: [{ target: '/', dir: 'L0', format: 'kernel' }], hidden: [], binds: [], options: {},
  });
}

/** chown -R of a tree we made, without following a symlink. */
function chownTree(p: string): void {
  lchownSync(p, UID, UID);
  try { for (const n of readdirSync(p)) chownTree(join(p, n)); } catch { /* not a directory */ }
}

/** A store of UID under a fresh dir, holding sandbox ID (meta.json and a layer with a file). */
function makeUserStore(): { top: string; store: string } {
  const top = mkdtempSync('/tmp/sbx-sudo-test-');
  chmodSync(top, 0o755);
  const store = join(top, 'sbx');
  mkdirSync(join(store, ID, 'L0', 'upper'), { recursive: true });
  writeFileSync(join(store, ID, 'meta.json'), meta(ID));
  writeFileSync(join(store, ID, 'L0', 'upper', 'a'), 'a\n');
  chmodSync(store, 0o700);
  chownTree(store);
  return { top, store };
}

function cleanup(...paths: string[]): void {
  for (const p of paths) rmSync(p, { recursive: true, force: true });
}

/** A symlink owned by the user, as theirs would be. */
function userSymlink(target: string, path: string): void {
  symlinkSync(target, path);
  lchownSync(path, UID, UID);
}

rootCase('held: the claimed entry swapped for a symlink to the canary once meta.json is read', () => {
  const c = makeCanary();
  const { top, store } = makeUserStore();
  try {
    const s = new Store(store, UID);
    // live() runs after the claim and the read of meta.json: the user's swap lands there.
    const r = s.removeId(ID, (_e, name) => {
      renameSync(join(store, name), join(top, 'moved'));
      userSymlink(c, join(store, name));
      return false;
    });
    assert.is(r, 'removed');
    assertCanary(c, 'removeId');
    assert.equal(readdirSync(store), []);
  } finally {
    cleanup(c, top);
  }
});

rootCase('held: a layer dir of the claimed entry swapped for a symlink to the canary', () => {
  const c = makeCanary();
  const { top, store } = makeUserStore();
  try {
    const s = new Store(store, UID);
    s.removeId(ID, (_e, name) => {
      renameSync(join(store, name, 'L0'), join(top, 'L0'));
      userSymlink(c, join(store, name, 'L0'));
      return false;
    });
    assertCanary(c, 'removeId');
  } finally {
    cleanup(c, top);
  }
});

for (const [what, swap] of [
  ['the claimed entry', (store: string, top: string, name: string, c: string) => { renameSync(join(store, name), join(top, 'moved')); userSymlink(c, join(store, name)); }],
  // Another layer dir stays: the entry still holds layers, so it goes to the remover.
  ['a layer dir of the claimed entry', (store: string, top: string, name: string, c: string) => { mkdirSync(join(store, name, 'L1')); lchownSync(join(store, name, 'L1'), UID, UID); renameSync(join(store, name, 'L0'), join(top, 'L0')); userSymlink(c, join(store, name, 'L0')); }],
] as const) {
  rootCase(`held with a detached remover (a big discard): ${what} swapped for a symlink to the canary once meta.json is read`, () => {
    const c = makeCanary();
    const { top, store } = makeUserStore();
    try {
      const s = new Store(store, UID);
      const launched: string[][] = [];
      const r = s.removeId(ID, (_e, name) => { swap(store, top, name, c); return false; }, [], (fd, names) => { launched.push(names); startRemover(fd, names); });
      assert.is(r, 'removed');
      assert.equal(launched, [[`.removing-${ID}`]], 'not handed to the remover');
      awaitDetachedRemovals(store);
      assertCanary(c, 'removeId with a remover');
      assert.equal(readdirSync(store), []);
    } finally {
      cleanup(c, top);
    }
  });
}

scratchCase('held: /dev/shm/sbx-<uid> swapped for a symlink to a canary holding the id', () => {
  const c = makeCanary();
  mkdirSync(join(c, ID, 'root'), { recursive: true });
  writeFileSync(join(c, ID, 'root', 'x'), 'canary\n');
  const { top, store } = makeUserStore();
  const scratch = scratchPath(UID);
  try {
    mkdirSync(scratch, { mode: 0o700 });
    mkdirSync(join(scratch, ID));
    chownTree(scratch);
    const s = new Store(store, UID);
    let swapped = false;
    try {
      s.removeId(ID, () => {
        renameSync(scratch, `${scratch}.moved`);
        userSymlink(c, scratch);
        swapped = true;
        return false;
      });
    } catch { /* refusing is fine: nothing of the canary may go */ }
    assert.ok(swapped);
    assertCanary(c, 'removeId');
    assert.ok(existsSync(join(c, ID, 'root', 'x')), 'root removed the canary\'s copy of the scratch tree');
  } finally {
    cleanup(c, top, scratch, `${scratch}.moved`);
  }
});

raceCase('fixed: /dev/shm/sbx-<uid> swapped for another user\'s directory between its check and the removal (a race, 2000 tries)', async () => {
  const { top, store } = makeUserStore();
  const scratch = scratchPath(UID);
  const theirs = `${scratch}.theirs`;
  let swapper: ChildProcess | null = null;
  try {
    mkdirSync(scratch, { mode: 0o700 });
    chownTree(scratch);
    // Another user's directory (uid UID+1), holding a tree of theirs under the id.
    mkdirSync(join(theirs, ID), { recursive: true, mode: 0o700 });
    writeFileSync(join(theirs, ID, 'x'), 'not the store owner\'s\n');
    for (const p of [theirs, join(theirs, ID), join(theirs, ID, 'x')]) lchownSync(p, UID + 1, UID + 1);
    // The owner's dir and theirs trade places under the name, over and over: one atomic
    // renameat2(RENAME_EXCHANGE) each, so the name always holds one of them.
    const code = `import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = sys.argv[1].encode(), sys.argv[2].encode()
while True: libc.renameat2(-100, a, -100, b, 2)`;
    swapper = spawn('python3', ['-c', code, scratch, theirs], { stdio: 'ignore' });
    // Started once theirs was seen under the name.
    for (const until = Date.now() + 20_000; Date.now() < until;) {
      try { if (lstatSync(scratch).uid === UID + 1) break; } catch { /* mid-swap */ }
      await new Promise((r) => setTimeout(r, 5));
    }
    const s = new Store(store, UID);
    const victim = (): boolean => [scratch, theirs].some((d) => existsSync(join(d, ID, 'x')));
    for (let i = 0; i < 2000 && victim(); i++) {
      mkdirSync(join(store, ID), { recursive: true });
      lchownSync(join(store, ID), UID, UID);
      try { s.removeId(ID); } catch { /* a refusal is fine */ }
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 1));
    }
    swapper.kill('SIGKILL');
    await new Promise((r) => swapper!.once('exit', r));
    assert.ok(victim(), 'root removed another user\'s files in the scratch dir\'s place');
  } finally {
    if (swapper && swapper.exitCode === null && swapper.signalCode === null) swapper.kill('SIGKILL');
    cleanup(top, scratch, theirs);
  }
});

rootCase('held: a dead claim that is a symlink to the canary (prune\'s sweep)', () => {
  const c = makeCanary();
  const { top, store } = makeUserStore();
  try {
    userSymlink(c, join(store, `.removing-${ID}.999999999`));
    assert.is(new Store(store, UID).sweepDeadClaims(), 1);
    assertCanary(c, 'sweepDeadClaims');
  } finally {
    cleanup(c, top);
  }
});

rootCase('held: the store dir itself a symlink to the canary', () => {
  const c = makeCanary();
  const top = mkdtempSync('/tmp/sbx-sudo-test-');
  try {
    mkdirSync(join(c, ID));
    userSymlink(c, join(top, 'sbx'));
    const s = new Store(join(top, 'sbx'), UID);
    assert.throws(() => s.removeId(ID));
    assert.is(s.sweepDeadClaims(), 0);
    assertCanary(c, 'store symlink');
    assert.ok(existsSync(join(c, ID)));
  } finally {
    cleanup(c, top);
  }
});

/**
 * A temporary name of root's writes in the entry (`name`) planted by the store's owner as a hard
 * link to a root-owned file they may write (protected_hardlinks lets them link a file they can
 * read and write); `write` is root's write there. The file must stay root's and as it was.
 */
function plantedLinkCase(what: string, name: string, write: (s: Store) => void): void {
  rootCase(`fixed: ${what}'s temporary name planted as a hard link to a root-owned file the user may write`, () => {
    const c = makeCanary();
    chmodSync(c, 0o711);
    const shared = join(c, 'shared');
    writeFileSync(shared, 'canary\n', { mode: 0o666 });
    chmodSync(shared, 0o666);
    const { top, store } = makeUserStore();
    try {
      const s = new Store(store, UID);
      linkSync(shared, join(store, ID, name));
      write(s);
      assert.is(statSync(shared).uid, 0, 'root gave the linked file to the store owner');
      assert.is(readFileSync(shared, 'utf8'), 'canary\n', `root wrote ${what} into the linked file`);
    } finally {
      cleanup(c, top);
    }
  });
}

plantedLinkCase('meta.json', `.meta.json.${process.pid}`, (s) => {
  s.markSaved(s.resolve(ID));
  assert.is(s.resolve(ID).state, 'saved');
});

plantedLinkCase('the commit journal', 'commit.journal.new', (s) => {
  const entry = s.openEntry(ID);
  try {
    new JournalWriter(entry, { version: 1, startedMs: Date.now(), pid: process.pid, only: [], exclude: [], steps: [], ours: [] }).close();
  } finally {
    entry.close();
  }
});

/**
 * The user's own mount namespace: the canary bound onto the store's layer dir there (over a
 * file, so the layer dir is not empty below it), and the store reached by root through
 * /proc/<pid>/root, as a symlink on the path to it (~/.local/state, or SBX_HOME) can lead.
 */
async function withForeignMount(fn: (c: string, storeVia: string, real: string) => void | Promise<void>): Promise<void> {
  const c = makeCanary();
  const { top, store } = makeUserStore();
  let holder: ChildProcess | null = null;
  try {
    lchownSync(top, UID, UID); // the user's home, say
    const ready = join(top, 'ready');
    holder = spawn('setpriv', ['--reuid', String(UID), '--regid', String(UID), '--clear-groups', 'unshare', '-Urm', 'sh', '-c',
      `mount --bind '${c}' '${join(store, ID, 'L0')}' && : > '${ready}' && exec sleep 600`], { stdio: 'ignore' });
    const until = Date.now() + 10_000;
    while (!existsSync(ready) && holder.exitCode === null && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.ok(existsSync(ready), 'the user\'s bind mount was not made');
    const via = join(top, 'via');
    userSymlink(`/proc/${holder.pid}/root${top}`, via);
    // Isolation: root sees the canary only through the user's namespace, never in its own.
    assert.ok(existsSync(join(via, 'sbx', ID, 'L0', 'f')));
    assert.not.ok(existsSync(join(store, ID, 'L0', 'f')));
    await fn(c, join(via, 'sbx'), store);
  } finally {
    if (holder?.pid && holder.exitCode === null) holder.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
    cleanup(c, top);
  }
}

nsCase('fixed: a store reached into the user\'s mount namespace is refused by discard, the sweep and a commit\'s removal', async () => {
  await withForeignMount((c, via) => {
    const s = new Store(via, UID);
    assert.throws(() => s.removeId(ID), /another mount namespace/);
    assertCanary(c, 'removeId');
    renameSync(join(via, ID), join(via, `.removing-${ID}.999999999`));
    assert.is(s.sweepDeadClaims(), 0);
    assertCanary(c, 'sweepDeadClaims');
    renameSync(join(via, `.removing-${ID}.999999999`), join(via, ID));
    const launched: string[][] = [];
    assert.throws(() => s.removeInBackground(JSON.parse(meta(ID)), (_fd, names) => { launched.push(names); }));
    assert.equal(launched, []);
    assertCanary(c, 'removeInBackground');
  });
});

nsCase('fixed: sbx discard and sbx prune -f as root with SBX_HOME into the user\'s mount namespace', async () => {
  await withForeignMount((c, via) => {
    const env = { ...process.env, SBX_HOME: via, NO_COLOR: '1', SUDO_USER: '', SUDO_UID: '' };
    for (const args of [['discard', ID], ['prune', '-f']]) {
      const r = spawnSync(process.execPath, [SBX, ...args], { env, encoding: 'utf8', timeout: 60_000 });
      assertCanary(c, `sbx ${args.join(' ')} (${r.stderr.trim()})`);
    }
  });
});

/** `sbx ARGS` as root with SBX_HOME naming `store` (not under sudo). */
function rootSbx(store: string, args: string[]): SpawnSyncReturns<string> {
  const env = { ...process.env, SBX_HOME: store, NO_COLOR: '1', SUDO_USER: '', SUDO_UID: '' };
  return spawnSync(process.execPath, [SBX, ...args], { env, encoding: 'utf8', timeout: 120_000 });
}

rootCase("fixed: root's run --in a sandbox of a user's store (SBX_HOME) is refused, the command never started", () => {
  // Before, root ran it: every program the command ran could come from the user's layers, with
  // root's view of the host, and what it read landed in a tree the user may read.
  const { top, store } = makeUserStore();
  try {
    const r = rootSbx(store, ['run', '--in', ID, '--', 'sh', '-c', 'echo RAN-IN-USER-SANDBOX']);
    assert.not.match(r.stdout, 'RAN-IN-USER-SANDBOX', 'root ran a command in the user\'s sandbox');
    assert.is(r.status, 125, r.stderr);
    assert.match(r.stderr, `sandbox ${ID} is in the store of uid ${UID} (${store}): only its owner runs commands in it`);
    assert.ok(existsSync(join(store, ID, 'L0', 'upper', 'a')), 'the user\'s sandbox was changed');
  } finally {
    cleanup(top);
  }
});

rootCase("fixed: a 1 GiB sparse commit journal planted by the store's owner is refused unread by root's commit; discard removes it", () => {
  // Before, root read it whole (a 10 GiB one: 16 GB resident for minutes), then ended in an
  // internal error; discard and prune read it too.
  const c = makeCanary();
  const { top, store } = makeUserStore();
  try {
    // The layer's changes belong in the canary: were the journal passed over, they would land there, not in /.
    writeFileSync(join(store, ID, 'meta.json'), JSON.stringify({ ...JSON.parse(meta(ID)), layers: [{ target: c, dir: 'L0', format: 'kernel' }] }));
    const journal = join(store, ID, 'commit.journal');
    writeFileSync(journal, '');
    truncateSync(journal, 1 << 30);
    chownTree(store);
    const r = rootSbx(store, ['commit', ID]);
    assert.is(r.status, 125, r.stderr);
    assert.match(r.stderr, `${journal} is too big to be a journal sbx wrote (${1 << 30} bytes)`);
    assert.not.match(r.stderr, 'internal error');
    assert.not.ok(existsSync(join(c, 'a')), 'root committed past the planted journal');
    assertCanary(c, 'commit');
    const d = rootSbx(store, ['discard', ID]);
    assert.is(d.status, 0, d.stderr);
    assert.equal(readdirSync(store), []);
  } finally {
    cleanup(c, top);
  }
});

rootCase("fixed: root's export --format patch of a user's sandbox holding a 5 GiB sparse file names it at the end, unread", () => {
  // Before: read whole ('size' out of range: an internal error; a 4 GiB one was 4 GiB of root's memory).
  const { top, store } = makeUserStore();
  try {
    const big = join(store, ID, 'L0', 'upper', 'big');
    writeFileSync(big, '');
    truncateSync(big, 5 * 2 ** 30);
    chownTree(store);
    const r = rootSbx(store, ['export', ID, '--format', 'patch']);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, '\n+a\n');
    assert.match(r.stdout, '#   /big: added file over 128 MiB\n');
  } finally {
    cleanup(top);
  }
});

const ptyCase = testUnless(!IS_ROOT ? 'a root case: the root run covers it' : !accountless ? `uid ${UID} has an account here` : !hasPython ? 'no python3 for the pty' : null);

ptyCase("fixed: root's export --format patch of a user's sandbox to a terminal escapes what the files hold", () => {
  // Before: a file of the sandbox's with a terminal escape reached root's terminal as it was.
  const { top, store } = makeUserStore();
  try {
    writeFileSync(join(store, ID, 'L0', 'upper', 'a'), 'x\x1b]0;PWNED\x07y\n\x1b[2Jz\n');
    chownTree(store);
    const r = underPty([], ['export', ID, '--format', 'patch'], { store, env: { SUDO_USER: '', SUDO_UID: '' } });
    assert.is(r.code, 0, r.out);
    assert.not.ok(r.out.includes('\x1b'), `a raw escape reached the terminal: ${JSON.stringify(r.out)}`);
    assert.match(r.out, '+x\\x1b]0;PWNED\\x07y');
    // Into a pipe the patch is exact bytes, for git apply.
    const piped = rootSbx(store, ['export', ID, '--format', 'patch']);
    assert.match(piped.stdout, '+x\x1b]0;PWNED\x07y\n+\x1b[2Jz\n');
  } finally {
    cleanup(top);
  }
});

/** The test user the runner makes (scripts/run-tests.mjs): uid, gid and home, from the account database. */
const testUser = ((): { uid: number; gid: number; home: string } | null => {
  const f = (spawnSync('getent', ['passwd', 'sbxtest'], { encoding: 'utf8' }).stdout ?? '').trim().split(':');
  return f.length >= 6 && f[5] ? { uid: Number(f[2]), gid: Number(f[3]), home: f[5] } : null;
})();
const sudoCase = testUnless(!IS_ROOT ? 'a root case: the root run covers it' : !testUser ? 'no sbxtest account here (scripts/run-tests.mjs makes it)' : null);

sudoCase("fixed: sudo sbx ls and prune act on the invoking user's store as discard, commit and diff do, each store named, its entries checked to be that user's", () => {
  const u = testUser!;
  // The store sudo finds is the one in the account's home: the entries planted there are this test's (random ids).
  const userStore = join(u.home, '.local', 'state', 'sbx');
  for (const d of [join(u.home, '.local'), join(u.home, '.local', 'state'), userStore]) {
    if (!existsSync(d)) { mkdirSync(d, { mode: 0o700 }); lchownSync(d, u.uid, u.gid); }
  }
  const id = randomBytes(4).toString('hex');
  const foreign = randomBytes(4).toString('hex');
  const rootHome = mkdtempSync('/tmp/sbx-sudo-home-');
  const rootStore = join(rootHome, '.local', 'state', 'sbx');
  const rootId = randomBytes(4).toString('hex');
  const planted = [join(userStore, id), join(userStore, foreign)];
  try {
    // Theirs, started in 1970 (older than any --older-than below); one dir in it that is root's.
    const m = JSON.parse(meta(id)) as Record<string, unknown>;
    Object.assign(m, { uid: u.uid, gid: u.gid, createdMs: 1000, command: ['sudo-ls-case'] });
    mkdirSync(join(userStore, id, 'L0', 'upper'), { recursive: true, mode: 0o700 });
    writeFileSync(join(userStore, id, 'meta.json'), JSON.stringify(m));
    for (const p of [join(userStore, id), join(userStore, id, 'L0'), join(userStore, id, 'L0', 'upper'), join(userStore, id, 'meta.json')]) lchownSync(p, u.uid, u.gid);
    mkdirSync(join(userStore, foreign), { mode: 0o700 });
    // Root's own (what `sudo sbx run` saved), made now.
    mkdirSync(join(rootStore, rootId, 'L0', 'upper'), { recursive: true, mode: 0o700 });
    writeFileSync(join(rootStore, rootId, 'meta.json'), JSON.stringify({ ...JSON.parse(meta(rootId)), uid: 0, gid: 0, createdMs: Date.now() }));

    const env = { ...process.env, SBX_HOME: '', HOME: rootHome, XDG_STATE_HOME: '', SUDO_USER: 'sbxtest', SUDO_UID: String(u.uid), NO_COLOR: '1' };
    const sbx = (args: string[]) => spawnSync(process.execPath, [SBX, ...args], { env, encoding: 'utf8', timeout: 60_000 });
    const json = sbx(['ls', '--json']);
    assert.is(json.status, 0, json.stderr);
    const rows = JSON.parse(json.stdout) as Array<{ id: string; state: string; store: string; problem: string | null }>;
    assert.equal(rows.find((r) => r.id === id)?.store, userStore, json.stdout);
    assert.match(rows.find((r) => r.id === foreign)?.problem ?? '', `owned by uid 0, not ${u.uid}`);
    assert.equal(rows.find((r) => r.id === rootId)?.store, rootStore, json.stdout);
    const text = sbx(['ls']);
    assert.is(text.status, 0, text.stderr);
    assert.match(text.stdout, `sandboxes of sbxtest (${userStore}):\nID `);
    assert.match(text.stdout, new RegExp(`\\n${id} .* sudo-ls-case\\n`));
    assert.match(text.stdout, `sandboxes of root (${rootStore}):\nID `);

    const dry = sbx(['prune', '--older-than', '3650d', '--dry-run']);
    assert.is(dry.status, 0, dry.stderr);
    assert.match(dry.stderr, `sandboxes of sbxtest (${userStore}):\n  ${id}, `);
    // Other files plant entries in the same store: only the count of this test's is certain.
    assert.match(dry.stderr, /would remove 1 sandbox .*; \d+ newer than 3650d kept/);
    const r = sbx(['prune', '--older-than', '3650d', '-f']);
    assert.is(r.status, 0, r.stderr);
    assert.not.ok(existsSync(join(userStore, id)), `sudo sbx prune left the user's sandbox: ${r.stderr}`);
    assert.ok(existsSync(join(userStore, foreign)) && existsSync(join(rootStore, rootId)));
    const none = sbx(['prune', '--older-than', '3650d', '-f']);
    assert.match(none.stderr, `nothing to prune in the store of sbxtest (${userStore}) nor of root (${rootStore}); `);
  } finally {
    cleanup(...planted, rootHome);
  }
});

const canUseradd = IS_ROOT && spawnSync('useradd', ['--help']).status === 0;
const refusedCase = testUnless(!IS_ROOT ? 'a root case: the root run covers it' : !canUseradd ? 'no useradd here' : null, { missing: IS_ROOT });

refusedCase("fixed: a refused user store under sudo is said, and root's own is still listed and pruned (exit 125)", () => {
  // An account of this test's own (sudo finds the store through the passwd entry), whose store
  // dir is root's: sbx refuses it. Before, that refusal ended ls and prune: root's own store,
  // listed second, was never shown nor pruned.
  const user = `sbxr${randomBytes(3).toString('hex')}`;
  const home = mkdtempSync('/tmp/sbx-sudo-refused-');
  const rootHome = mkdtempSync('/tmp/sbx-sudo-home-');
  let added = false;
  try {
    const add = spawnSync('useradd', ['-M', '-N', '-d', home, '-s', '/usr/sbin/nologin', user], { encoding: 'utf8' });
    assert.is(add.status, 0, add.stderr);
    added = true;
    const uid = Number((spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout ?? '').trim());
    const userStore = join(home, '.local', 'state', 'sbx');
    mkdirSync(userStore, { recursive: true, mode: 0o700 });
    for (const d of [home, join(home, '.local'), join(home, '.local', 'state')]) lchownSync(d, uid, uid);
    const rootStore = join(rootHome, '.local', 'state', 'sbx');
    const rootId = randomBytes(4).toString('hex');
    mkdirSync(join(rootStore, rootId, 'L0', 'upper'), { recursive: true, mode: 0o700 });
    writeFileSync(join(rootStore, rootId, 'meta.json'), JSON.stringify({ ...JSON.parse(meta(rootId)), uid: 0, gid: 0, createdMs: 1000, command: ['root-own-case'] }));
    const env = { ...process.env, SBX_HOME: '', HOME: rootHome, XDG_STATE_HOME: '', SUDO_USER: user, SUDO_UID: String(uid), NO_COLOR: '1' };
    const sbx = (args: string[]) => spawnSync(process.execPath, [SBX, ...args], { env, encoding: 'utf8', timeout: 60_000 });
    const refusal = `the store ${userStore} is owned by uid 0, not by uid ${uid}: refusing to use it`;
    const text = sbx(['ls']);
    assert.is(text.status, 125, text.stderr);
    assert.match(text.stdout, new RegExp(`\\n${rootId} .* root-own-case\\n`));
    assert.match(text.stderr, refusal);
    const json = sbx(['ls', '--json']);
    assert.is(json.status, 125, json.stderr);
    assert.ok((JSON.parse(json.stdout) as Array<{ id: string }>).some((r) => r.id === rootId), json.stdout);
    const r = sbx(['prune', '--older-than', '3650d', '-f']);
    assert.is(r.status, 125, r.stderr);
    assert.match(r.stderr, refusal);
    assert.not.ok(existsSync(join(rootStore, rootId)), `root's own old sandbox was not pruned: ${r.stderr}`);
  } finally {
    if (added) spawnSync('userdel', [user]);
    cleanup(home, rootHome);
  }
});

/**
 * A sandbox of the user's whose one layer (`layer`: its meta.json entry, dir L0) belongs in the
 * canary, with more of meta.json in `extra`: as the user left it after editing meta.json.
 */
function tamperedStore(layer: Record<string, unknown>, extra: Record<string, unknown> = {}): { top: string; store: string } {
  const s = makeUserStore();
  writeFileSync(join(s.store, ID, 'meta.json'), JSON.stringify({ ...JSON.parse(meta(ID)), layers: [{ dir: 'L0', ...layer }], ...extra }));
  chownTree(s.store);
  return s;
}

rootCase("fixed: root's commit of a user's sandbox whose meta.json has an idShift (only root's sandboxes have one), or names another uid, is refused", () => {
  // Before: the idShift mapped the ids of the user's files to any uid (here the layer's file,
  // the user's, went into the canary as uid 1000's), and a uid of 0 switched off the mapping
  // of the user's own ids.
  const c = makeCanary();
  for (const [extra, why] of [
    [{ idShift: { uid: UID - 1000, gid: UID - 1000, count: 65536 } }, 'meta.json has an idShift, which only root\'s sandboxes have'],
    [{ uid: 0, gid: 0 }, `meta.json names uid 0, not the store's owner ${UID}`],
  ] as const) {
    const { top, store } = tamperedStore({ target: c, format: 'kernel' }, extra);
    try {
      const r = rootSbx(store, ['commit', ID]);
      assert.is(r.status, 125, r.stderr);
      assert.match(r.stderr, why);
      assert.not.ok(existsSync(join(c, 'a')), `root committed the tampered sandbox (a is uid ${existsSync(join(c, 'a')) ? lstatSync(join(c, 'a')).uid : '-'}'s)`);
    } finally {
      cleanup(top);
    }
  }
  cleanup(c);
});

rootCase("fixed: root's commit of a user's fuse-overlayfs layer called a kernel one in meta.json: its copy of root's dir, under a subordinate uid, is left out", () => {
  // fuse-overlayfs keeps its copy of a dir of root's under the user's subordinate uid for
  // nobody (165533 for a range from 100000); read as a kernel layer's (owners as they are),
  // the commit gave the canary's dir d to that uid. Kernel overlayfs cannot copy up root's dir
  // for an ordinary user.
  const c = makeCanary();
  const { top, store } = tamperedStore({ target: c, format: 'kernel' });
  try {
    mkdirSync(join(store, ID, 'L0', 'upper', 'd'), { mode: 0o755 });
    lchownSync(join(store, ID, 'L0', 'upper', 'd'), 165533, 165533);
    const r = rootSbx(store, ['commit', ID]);
    assert.is(statSync(join(c, 'd')).uid, 0, 'root gave the canary\'s dir away');
    assert.match(r.stderr, `${c}/d: left out: meta.json says kernel overlayfs made this layer, and this entry says otherwise`);
    assert.ok(existsSync(join(c, 'a')), `the rest was not committed: ${r.stderr}`);
    assert.match(r.stderr, /1 part left out \(named above\); sandbox [0-9a-f]{8} kept/);
    assertCanary(c, 'commit');
  } finally {
    cleanup(c, top);
  }
});

rootCase("fixed: root's commit of a user's kernel layer called a fuse-overlayfs one in meta.json: a file the command named .wh.f is no deletion", () => {
  // Before: the command's `touch .wh.f` (an ordinary file in a kernel layer) read as
  // fuse-overlayfs's whiteout deleted the canary's f. A whiteout fuse-overlayfs made (empty,
  // 0700) still is one: d/g goes.
  const c = makeCanary();
  // Made after the canary: the host's d/g is no conflict.
  const { top, store } = tamperedStore({ target: c, format: 'fuse' }, { createdMs: Date.now() + 60_000 });
  try {
    const upper = join(store, ID, 'L0', 'upper');
    writeFileSync(join(upper, '.wh.f'), '', { mode: 0o644 });
    mkdirSync(join(upper, 'd'));
    writeFileSync(join(upper, 'd', '.wh.g'), '', { mode: 0o700 });
    chownTree(store);
    const r = rootSbx(store, ['commit', ID]);
    assert.ok(existsSync(join(c, 'f')), 'root deleted the canary\'s file');
    assert.match(r.stderr, `${c}/.wh.f: left out: meta.json says fuse-overlayfs made this layer, and this is no whiteout it made`);
    assert.not.ok(existsSync(join(c, 'd', 'g')), `fuse-overlayfs's own whiteout was not committed: ${r.stderr}`);
  } finally {
    cleanup(c, top);
  }
});

test.run();
