// Issue 10's tamper matrix: every store file and layer entry a sandbox (or anyone who can write
// the store) can influence, against every command that reads or removes a sandbox. Whatever
// the command answers (it may refuse with one line), no host path outside the store changes:
// a victim tree is snapshotted before and after, and so is the overlaid target tree except
// where the command is `commit` (whose job is to change it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { SBX, makeCanary, makeStore, proveIsolation, removeCanary, sbx } from '../helpers/sbx.js';
import { ROOT_CASE, testUnless } from '../helpers/skip.js';
import { snapshot } from '../helpers/snapshot.js';
import { opaque, whiteout } from '../unit/changes-fixture.js';

const probeStore = makeStore();
const canary = makeCanary();
const victim = join(canary, 'victim');
const target = join(canary, 'target');
const stores: string[] = [probeStore];
/** A name only the victim has: found anywhere else, the victim's content was applied there. */
const MARKER = `victim-marker-${process.pid}`;
let layerTarget = '';
const ID_PREFIX = randomBytes(3).toString('hex');

test.before(() => {
  proveIsolation(canary, probeStore);
  mkdirSync(join(victim, 'sub'), { recursive: true });
  writeFileSync(join(victim, 'sub', 'data'), 'precious\n');
  writeFileSync(join(victim, 'meta.json'), '{}');
  writeFileSync(join(victim, MARKER), 'only in the victim\n');
  mkdirSync(join(target, 'd'), { recursive: true });
  writeFileSync(join(target, 'keep.txt'), 'host\n');
  writeFileSync(join(target, 'gone.txt'), 'host\n');
  writeFileSync(join(target, 'd', 'old'), 'host\n');
  // Which overlay holds the canary here (it depends on the machine's mounts and on the user).
  const r = sbx(['run', '--name', 'probe', '-q', '--', 'true'], { store: probeStore });
  assert.is(r.code, 0, r.stderr);
  const rows = JSON.parse(sbx(['ls', '--json'], { store: probeStore }).stdout) as Array<{ id: string }>;
  const meta = JSON.parse(readFileSync(join(probeStore, rows[0]!.id, 'meta.json'), 'utf8')) as { layers: Array<{ target: string }> };
  layerTarget = meta.layers.map((l) => l.target).filter((t) => t === '/' || canary.startsWith(`${t}/`)).sort((a, b) => b.length - a.length)[0] ?? '';
  assert.ok(layerTarget, 'no overlay holds the canary');
});
test.after(() => {
  for (const s of stores) rmSync(s, { recursive: true, force: true });
  removeCanary(canary);
});

/** A saved sandbox as sbx writes it, made by hand so each case starts from the same layers. */
function makeEntry(store: string, id: string): Entry {
  const dir = join(store, id);
  mkdirSync(join(dir, 'L000', 'work'), { recursive: true, mode: 0o700 });
  const upper = join(dir, 'L000', 'upper');
  mkdirSync(upper, { mode: 0o755 });
  // The layer's view of the target: parents as on the host, then the changes.
  const up = (p: string): string => join(upper, relative(layerTarget, p));
  mkdirSync(up(join(target, 'd')), { recursive: true });
  writeFileSync(up(join(target, 'new.txt')), 'made inside\n');
  writeFileSync(up(join(target, 'keep.txt')), 'changed inside\n');
  whiteout(up(join(target, 'gone.txt')));
  opaque(up(join(target, 'd')));
  writeFileSync(up(join(target, 'd', 'x')), 'x\n');
  spawnSync('mkfifo', [up(join(target, 'fifo'))]);
  symlinkSync(victim, up(join(target, 'lnk')));
  mkdirSync(up(join(target, 'deep', 'a', 'b')), { recursive: true });
  writeFileSync(up(join(target, 'deep', 'a', 'b', 'f')), 'deep\n');
  const now = Date.now();
  const meta: Record<string, unknown> = {
    version: 1, id, name: null, command: ['true'], cwd: '/', uid: process.getuid!(), gid: process.getgid!(),
    created: new Date(now - 60_000).toISOString(), createdMs: now - 60_000, finished: null, exitStatus: 0, state: 'saved',
    layersDir: dir, layers: [{ target: layerTarget, dir: 'L000', format: 'kernel' }], hidden: [], binds: [],
    options: { net: false, keepUser: false, policy: 'default', hide: [], bind: [] }, idShift: null,
  };
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
  return { id, dir, upper, meta };
}

interface Entry { id: string; dir: string; upper: string; meta: Record<string, unknown> }

function writeMeta(e: Entry, meta: Record<string, unknown>): void {
  writeFileSync(join(e.dir, 'meta.json'), JSON.stringify(meta));
}

/** Replaces a directory of the entry with a symlink to the victim. */
function symlinkAt(e: Entry, rel: string): void {
  const path = join(e.dir, rel);
  assert.ok(path.startsWith(`${e.dir}/`) && !rel.split('/').includes('..'), rel);
  rmSync(path, { recursive: true, force: true });
  symlinkSync(victim, path);
}

interface Tamper { name: string; apply: (e: Entry) => void; commitMayWrite?: boolean }

function tampers(): Tamper[] {
  // Every directory from the entry down to the opaque dir inside the layer.
  const rel = relative(layerTarget, join(target, 'd')).split('/');
  assert.ok(!rel.includes('..'), 'the canary is not below the layer target');
  const inUpper = rel.map((_, i) => `L000/upper/${rel.slice(0, i + 1).join('/')}`);
  return [
    { name: 'nothing (the control case)', apply: () => {} },
    { name: 'the entry dir is a symlink', apply: (e) => { renameSync(e.dir, `${e.dir}.real`); symlinkSync(victim, e.dir); } },
    ...['L000', 'L000/upper', 'L000/work', ...inUpper].map((c): Tamper => ({
      name: `${c.replace(/sbx-canary-[^/]+/, 'CANARY')} is a symlink`, apply: (e) => symlinkAt(e, c),
    })),
    { name: 'upper is a fifo', apply: (e) => { rmSync(join(e.dir, 'L000', 'upper'), { recursive: true }); spawnSync('mkfifo', [join(e.dir, 'L000', 'upper')]); } },
    { name: 'meta.layersDir names the victim', apply: (e) => writeMeta(e, { ...e.meta, layersDir: victim }) },
    { name: 'meta.layers[].dir climbs out', apply: (e) => writeMeta(e, { ...e.meta, layers: [{ target: layerTarget, dir: '../../victim', format: 'kernel' }] }) },
    { name: 'meta.layers[].target names the victim', commitMayWrite: true, apply: (e) => writeMeta(e, { ...e.meta, layers: [{ target: victim, dir: 'L000', format: 'kernel' }] }) },
    { name: 'meta.hidden and meta.binds name the victim', apply: (e) => writeMeta(e, { ...e.meta, hidden: [victim], binds: [victim] }) },
    // An extra inside the range would take the layers' ids for root's (uid + count is 0 after the review).
    { name: 'meta.idShift maps an extra id inside its range', apply: (e) => writeMeta(e, { ...e.meta, idShift: { uid: 1_000_000_000, gid: 1_000_000_000, count: 65536, extraUids: [0], extraGids: [] } }) },
    { name: 'meta.idShift has more extras than sbx maps', apply: (e) => writeMeta(e, { ...e.meta, idShift: { uid: 1_000_000_000, gid: 1_000_000_000, count: 65536, extraUids: [70000, 70001, 70002] } }) },
    { name: 'meta.id and name are paths', apply: (e) => writeMeta(e, { ...e.meta, id: '../victim', name: '../../victim' }) },
    { name: 'meta.json is a symlink', apply: (e) => { rmSync(join(e.dir, 'meta.json')); symlinkSync(join(victim, 'meta.json'), join(e.dir, 'meta.json')); } },
    { name: 'meta.json is a fifo', apply: (e) => { rmSync(join(e.dir, 'meta.json')); spawnSync('mkfifo', [join(e.dir, 'meta.json')]); } },
  ];
}

function deadPid(): number {
  return Number(spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim());
}

function check(r: { code: number; stderr: string }, what: string): void {
  assert.not.match(r.stderr, /\n\s+at .+:\d+:\d+\)?\n/, `${what}: a stack trace:\n${r.stderr}`);
  assert.ok(r.code === 0 || r.code === 1 || r.code === 125, `${what}: exit ${r.code}: ${r.stderr}`);
}

/** A commit that went through changed the target: each case starts from the host's state. */
function restoreTarget(): void {
  rmSync(target, { recursive: true, force: true });
  mkdirSync(join(target, 'd'), { recursive: true });
  writeFileSync(join(target, 'keep.txt'), 'host\n');
  writeFileSync(join(target, 'gone.txt'), 'host\n');
  writeFileSync(join(target, 'd', 'old'), 'host\n');
}

/**
 * All cases in one store, one entry each. The ids share a random prefix: a throwaway entry's
 * scratch dir in /dev/shm is named by its id alone, and the sudo matrix uses the test user's
 * real store: fixed ids would meet those of a run of this file in another checkout.
 */
function makeCases(store: string, throwaway = false): Array<{ t: Tamper; e: Entry }> {
  return tampers().map((t, i) => {
    const e = makeEntry(store, `${ID_PREFIX}${i.toString(16).padStart(2, '0')}`);
    if (throwaway) { e.meta.throwaway = true; e.meta.state = 'running'; e.meta.runnerPid = deadPid(); writeMeta(e, e.meta); }
    t.apply(e);
    return { t, e };
  });
}

type Runner = (args: string[]) => { code: number; stderr: string };

/** One command over every case; `perCase` runs it once per entry, else once for all. */
function matrix(store: string, run: Runner, cmd: { name: string; args: (ids: string[]) => string[]; perCase: boolean; commit?: boolean; throwaway?: boolean }): void {
  const cases = makeCases(store, cmd.throwaway);
  const groups = cmd.perCase ? cases.map((c) => [c]) : [cases];
  for (const group of groups) {
    const what = `${cmd.name} / ${group.length === 1 ? group[0]!.t.name : 'all cases at once'}`;
    const beforeVictim = snapshot(victim);
    const beforeTarget = snapshot(target);
    try {
      check(run(cmd.args(group.map((c) => c.e.id))), what);
      // A tampered layer target is where commit is told to write: the one field it has to
      // take from meta.json (docs/security.md). Everything else holds for it too.
      if (!(cmd.commit && group.some((c) => c.t.commitMayWrite))) assert.equal(snapshot(victim), beforeVictim, `${what}: the victim tree changed`);
      if (!cmd.commit) assert.equal(snapshot(target), beforeTarget, `${what}: the target tree changed`);
      for (const d of [layerTarget, canary, target, join(target, 'd')]) assert.not.ok(existsSync(join(d, MARKER)), `${what}: the victim's content was written to ${d}`);
    } finally {
      restoreTarget();
    }
  }
}

const COMMANDS = [
  { name: 'run --in', perCase: true, args: (ids: string[]) => ['run', '--in', ids[0]!, '-q', '--hide', join(target, 'keep.txt'), '--', 'true'] },
  { name: 'diff', perCase: true, args: (ids: string[]) => ['diff', ids[0]!] },
  { name: 'commit', perCase: true, commit: true, args: (ids: string[]) => ['commit', ids[0]!] },
  { name: 'discard', perCase: false, args: (ids: string[]) => ['discard', ...ids] },
  { name: 'ls', perCase: false, args: () => ['ls'] },
  { name: 'sweep', perCase: false, throwaway: true, args: () => ['run', '-n', '-q', '--', 'true'] },
];

test("meta.json's idShift extras are checked: inside the range, too many or repeated, the sandbox is broken; root's valid ones are not", () => {
  const store = makeStore();
  stores.push(store);
  const shift = { uid: 1_000_000_000, gid: 1_000_000_000, count: 65536 };
  const cases: Array<[Record<string, unknown>, boolean]> = [
    [{ ...shift, extraUids: [0] }, false],
    [{ ...shift, extraGids: [65535] }, false],
    [{ ...shift, extraUids: [70000, 70001, 70002] }, false],
    [{ ...shift, extraUids: [70000, 70000] }, false],
    [{ ...shift, extraUids: ['70000'] }, false],
    [{ ...shift, extraUids: [1828800001], extraGids: [1828800002] }, process.getuid!() === 0],
  ];
  cases.forEach(([idShift, valid], i) => {
    const e = makeEntry(store, `${ID_PREFIX}e${i}`);
    writeMeta(e, { ...e.meta, idShift });
    const r = sbx(['diff', e.id], { store });
    const what = JSON.stringify(idShift);
    if (valid) {
      assert.is(r.code, 0, `${what}: ${r.stderr}`);
    } else {
      assert.is(r.code, 125, `${what}: ${r.stderr}`);
      // The last case is well formed: only another owner than root may not carry it.
      assert.match(r.stderr, i < cases.length - 1 ? /is broken: meta\.json has an invalid idShift/ : /is broken: meta\.json has an idShift, which only root's sandboxes have/, what);
    }
  });
});

for (const cmd of COMMANDS) {
  test(`tamper matrix: ${cmd.name}`, () => {
    const store = makeStore();
    stores.push(store);
    matrix(store, (args) => sbx(args, { store, timeoutMs: 60_000 }), cmd);
  });
}

// ---- the sudo forms: root on the invoking user's store, with that user as the owner

function testUser(): { uid: number; home: string } | null {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('sbxtest:'));
  if (!line) return null;
  const f = line.split(':');
  return { uid: Number(f[2]), home: f[5]! };
}

testUnless(ROOT_CASE ?? (testUser() ? null : 'no test user sbxtest'))('tamper matrix: sudo sbx diff / commit / discard on the invoking user\'s store', () => {
  const u = testUser()!;
  const userStore = join(u.home, '.local', 'state', 'sbx');
  // Shared with other test files that use the test user's store: made if missing, never removed.
  for (const d of [join(u.home, '.local'), join(u.home, '.local', 'state'), userStore]) {
    try { mkdirSync(d, { mode: 0o700 }); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; }
    chownSync(d, u.uid, u.uid);
  }
  const home = mkdtempSync(join(tmpdir(), 'sbx-test-roothome-'));
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', SUDO_USER: 'sbxtest', SUDO_UID: String(u.uid), HOME: home };
  delete env.SBX_HOME;
  const run: Runner = (args) => {
    // Everything of this test in the store is the user's, as if they had made (or tampered
    // with) it. Only its own entries: store.test.ts plants one of root's there, which a chown of
    // the whole store running beside it gave to the user (its refusal then did not come).
    const ours = readdirSync(userStore).filter((n) => n.startsWith(ID_PREFIX)).map((n) => join(userStore, n));
    if (ours.length) spawnSync('chown', ['-R', '-h', `${u.uid}:${u.uid}`, ...ours]);
    const r = spawnSync(process.execPath, [SBX, ...args], { encoding: 'utf8', input: '', env, timeout: 60_000 });
    return { code: r.status ?? -1, stderr: r.stderr };
  };
  try {
    for (const cmd of COMMANDS.filter((c) => ['diff', 'commit', 'discard'].includes(c.name))) {
      try {
        matrix(userStore, run, cmd);
      } finally {
        for (const n of readdirSync(userStore)) if (n.startsWith(ID_PREFIX)) rmSync(join(userStore, n), { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test.run();
