// The store commands (ls, prune, discard, export, commit) against a hostile or busy store:
// entries planted to lead sbx outside the store, a runner pid reused by an unrelated process,
// a discard under a live run or commit, two prunes at once. Nothing outside the store is
// removed, read into output or followed; each bad entry gets one escaped line; good entries
// still work.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCanary, makeStore, proveIsolation, removeCanary, removeStore, sbx, sbxAsync } from '../helpers/sbx.js';
import { snapshot } from '../helpers/snapshot.js';

const store = makeStore();
const canary = makeCanary();
test.before(() => proveIsolation(canary, store));
test.after(() => { removeStore(store); removeCanary(canary); });

const ids = (): string[] => readdirSync(store).filter((n) => /^[0-9a-f]{8}$/.test(n));
const metaOf = (id: string): Record<string, unknown> => JSON.parse(readFileSync(join(store, id, 'meta.json'), 'utf8')) as Record<string, unknown>;
const writeMeta = (id: string, m: Record<string, unknown>): void => writeFileSync(join(store, id, 'meta.json'), JSON.stringify(m));
const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
const startOf = (pid: number): string => { const s = readFileSync(`/proc/${pid}/stat`, 'latin1'); return s.slice(s.lastIndexOf(')') + 2).split(' ')[19]!; };

function saved(name: string): string {
  const before = new Set(ids());
  const r = sbx(['run', '--name', name, '-q', '--', 'sh', '-c', `echo ${name} > /tmp/${name}.txt`], { store });
  assert.is(r.code, 0, r.stderr);
  const id = ids().find((i) => !before.has(i));
  assert.ok(id, 'no new entry');
  return id!;
}

function lsState(id: string): string | undefined {
  const rows = JSON.parse(sbx(['ls', '--json'], { store }).stdout) as Array<{ id: string; state: string }>;
  return rows.find((r) => r.id === id)?.state;
}

/** A live process that is not sbx: it stands for a pid reused since the runner died. */
function unrelated(): ChildProcess {
  return spawn('sleep', ['120'], { stdio: 'ignore' });
}

test('a runner pid reused by an unrelated process (another start time) is not the run: ls, prune, discard and commit see a saved sandbox', () => {
  const id = saved('reused');
  const p = unrelated();
  try {
    const m = metaOf(id);
    // The recorded start time is not the live process's: that pid was reused.
    writeMeta(id, { ...m, state: 'running', runnerPid: p.pid, runBoot: bootId, runnerStart: String(Number(startOf(p.pid!)) + 1) });
    assert.is(lsState(id), 'saved');
    const dry = sbx(['prune', '--dry-run'], { store });
    assert.is(dry.code, 0, dry.stderr);
    assert.not.match(dry.stderr, /skipped reused/);
    const c = sbx(['commit', '--dry-run', id], { store });
    assert.is(c.code, 0, c.stderr);
    // The same pid with its own start time is the run: every command leaves it alone.
    writeMeta(id, { ...m, state: 'running', runnerPid: p.pid, runBoot: bootId, runnerStart: startOf(p.pid!) });
    assert.is(lsState(id), 'running');
    assert.match(sbx(['prune', '--dry-run'], { store }).stderr, /skipped reused: its command is still running/);
    const d = sbx(['discard', id], { store });
    assert.is(d.code, 125, d.stderr);
    assert.ok(existsSync(join(store, id, 'meta.json')));
    assert.is(sbx(['commit', id], { store }).code, 125);
    writeMeta(id, { ...m, state: 'running', runnerPid: p.pid, runBoot: bootId, runnerStart: String(Number(startOf(p.pid!)) + 1) });
    const d2 = sbx(['discard', id], { store });
    assert.is(d2.code, 0, d2.stderr);
    assert.not.ok(existsSync(join(store, id)));
  } finally {
    p.kill();
  }
});

test('a malformed runnerStart makes the entry broken, never a live run', () => {
  const id = saved('badstart');
  for (const bad of ['', '1 2', 'x', 12, '1\n']) {
    writeMeta(id, { ...metaOf(id), runnerStart: bad });
    assert.is(lsState(id), 'broken', JSON.stringify(bad));
    // Put back for the next value (metaOf reads the file).
    writeMeta(id, { ...metaOf(id), runnerStart: undefined });
  }
  assert.is(sbx(['discard', id], { store }).code, 0);
});

test('discard while a command runs in the sandbox is refused with one line; the run ends normally', async () => {
  const before = new Set(ids());
  // The command waits for a line on its stdin: the test lets it go on once discard was tried.
  const run = sbxAsync(['run', '--name', 'busy', '-q', '--', 'sh', '-c', 'echo a > /tmp/a; read x; echo b > /tmp/b'], { store, stdio: ['pipe', 'ignore', 'ignore'] });
  const done = new Promise<number | null>((res) => run.on('exit', (code) => res(code)));
  let id: string | undefined;
  for (let i = 0; i < 600 && !id; i++) {
    await new Promise((r) => setTimeout(r, 100));
    id = ids().find((x) => !before.has(x) && existsSync(join(store, x, 'meta.json')) && lsState(x) === 'running');
  }
  assert.ok(id, 'the run never showed as running');
  const d = sbx(['discard', 'busy'], { store });
  assert.is(d.code, 125, d.stderr);
  assert.is(d.stderr.trim().split('\n').length, 1, d.stderr);
  assert.match(d.stderr, /is running a command/);
  const p = sbx(['prune', '-f'], { store });
  assert.match(p.stderr, /skipped busy: its command is still running/);
  run.stdin!.end('go\n');
  assert.is(await done, 0);
  const diff = sbx(['diff', 'busy'], { store });
  assert.is(diff.code, 0, diff.stderr);
  assert.match(diff.stdout, /\/tmp\/b/);
  assert.is(sbx(['discard', 'busy'], { store }).code, 0);
});

test('discard while a commit of the sandbox runs (its journal\'s owner alive) is refused; with that owner gone it goes', () => {
  const id = saved('committing');
  const p = unrelated();
  try {
    writeMeta(id, { ...metaOf(id), state: 'committing' });
    const head = { version: 1, startedMs: Date.now(), pid: p.pid, boot: bootId, pidStart: startOf(p.pid!), only: [], exclude: [], steps: [], ours: [] };
    writeFileSync(join(store, id, 'commit.journal'), JSON.stringify(head) + '\n');
    const d = sbx(['discard', id], { store });
    assert.is(d.code, 125, d.stderr);
    assert.match(d.stderr, /is being committed/);
    assert.ok(existsSync(join(store, id, 'meta.json')));
    // The journal's pid reused by an unrelated process: that commit is over.
    writeFileSync(join(store, id, 'commit.journal'), JSON.stringify({ ...head, pidStart: String(Number(head.pidStart) + 1) }) + '\n');
    const d2 = sbx(['discard', id], { store });
    assert.is(d2.code, 0, d2.stderr);
    assert.not.ok(existsSync(join(store, id)));
  } finally {
    p.kill();
  }
});

test('a commit journal of other types (planted, not sbx\'s) is one line and exit 125, never an internal error; discard removes the sandbox', () => {
  const id = saved('badjournal');
  writeMeta(id, { ...metaOf(id), state: 'committing' });
  const ok = { version: 1, startedMs: Date.now(), pid: 2 ** 22 + 1, only: [], exclude: [], steps: [], ours: [] };
  for (const h of [{ ...ok, ours: 5 }, { ...ok, pid: 'x' }, { ...ok, steps: { length: 3 } }, [1, 2], null, 7, { ...ok, steps: [{ path: 5, kind: 'put' }] }, { ...ok, pidStart: '1\n' }, { ...ok, only: [1] }]) {
    writeFileSync(join(store, id, 'commit.journal'), `${JSON.stringify(h)}\nb 0\n`);
    for (const args of [['commit', '--dry-run', id], ['commit', id]]) {
      const r = sbx(args, { store });
      assert.is(r.code, 125, `${JSON.stringify(h)}: ${r.stderr}`);
      assert.not.match(r.stderr, /internal error/);
      assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /is not a journal sbx wrote/);
    }
  }
  const d = sbx(['discard', id], { store });
  assert.is(d.code, 0, d.stderr);
  assert.not.ok(existsSync(join(store, id)));
});

test('two prunes at once both end with exit 0 and remove everything once', async () => {
  for (let i = 0; i < 4; i++) {
    const r = sbx(['run', '-q', '--', 'sh', '-c', `mkdir -p /tmp/p${i} && for j in $(seq 300); do echo $j > /tmp/p${i}/f$j; done`], { store });
    assert.is(r.code, 0, r.stderr);
  }
  const one = (): Promise<{ code: number | null; err: string }> => new Promise((res) => {
    const c = sbxAsync(['prune', '-f'], { store, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
    c.on('exit', (code) => res({ code, err }));
  });
  const [a, b] = await Promise.all([one(), one()]);
  assert.is(a.code, 0, a.err);
  assert.is(b.code, 0, b.err);
  assert.not.match(a.err + b.err, /internal error/);
  assert.equal(ids(), []);
  assert.equal(readdirSync(store).filter((n) => n.startsWith('.removing-')), []);
});

test('a hostile store zoo: ls, ls --json, prune (--dry-run, --older-than, -f) and export give one escaped line per bad entry, follow nothing, and the good entry still works', () => {
  const good = saved('good');
  const gm = metaOf(good);
  const layer = (gm.layers as Array<{ dir: string }>)[0]!.dir;
  const c = makeCanary();
  try {
    mkdirSync(join(c, 'sub'));
    writeFileSync(join(c, 'sub', 'secret'), 'CANARY-SECRET\n');
    writeFileSync(join(c, 'meta.json'), JSON.stringify({ ...gm, id: 'aaaaaaa1' }));
    const plant = (id: string, meta?: unknown): string => {
      mkdirSync(join(store, id), { mode: 0o700 });
      if (meta !== undefined) writeFileSync(join(store, id, 'meta.json'), typeof meta === 'string' ? meta : JSON.stringify(meta));
      return join(store, id);
    };
    symlinkSync(c, join(store, 'aaaaaaa1'));
    plant('bbbbbbb1'); symlinkSync(join(c, 'meta.json'), join(store, 'bbbbbbb1', 'meta.json'));
    plant('bbbbbbb2'); spawnSync('mkfifo', [join(store, 'bbbbbbb2', 'meta.json')]);
    plant('bbbbbbb3', ''); truncateSync(join(store, 'bbbbbbb3', 'meta.json'), 100 * 1024 * 1024);
    plant('bbbbbbb4', '['.repeat(100_000) + ']'.repeat(100_000));
    plant('bbbbbbb5', '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000));
    plant('bbbbbbb6', { ...gm, id: 'bbbbbbb6', version: '1' });
    plant('bbbbbbb7', { ...gm, id: 'bbbbbbb7', name: 'evil\n\x1b[31mRED\x1b]0;title\x07' });
    plant('bbbbbbb8', { ...gm, id: 'bbbbbbb8', layers: [{ ...(gm.layers as object[])[0], dir: '../../..' }] });
    plant('bbbbbbb9', { ...gm, id: 'bbbbbbb9', uid: '0', createdMs: -1 });
    // A valid meta.json whose command holds escapes and '..': displayed, escaped, never a path.
    plant('cccccc00', { ...gm, id: 'cccccc00', name: null, command: ['x\n\x1b[2J', '..'], cwd: '\x1b]0;t\x07' });
    // Layers: the layer dir a symlink to the canary; its upper a symlink; an upper holding a hard
    // link to a canary file and a symlink to a canary dir.
    symlinkSync(c, join(plant('ccccccc1', { ...gm, id: 'ccccccc1', name: null }), layer));
    mkdirSync(join(plant('ccccccc2', { ...gm, id: 'ccccccc2', name: null }), layer));
    symlinkSync(c, join(store, 'ccccccc2', layer, 'upper'));
    mkdirSync(join(plant('ccccccc3', { ...gm, id: 'ccccccc3', name: null }), layer, 'upper', 'etc'), { recursive: true });
    try { linkSync(join(c, 'sub', 'secret'), join(store, 'ccccccc3', layer, 'upper', 'etc', 'hl')); } catch { /* another filesystem: the symlink is still tried */ }
    symlinkSync(join(c, 'sub'), join(store, 'ccccccc3', layer, 'upper', 'etc', 'sl'));
    const before = snapshot(c);
    const noRaw = (s: string, what: string): void => {
      assert.not.ok(s.includes('\x1b'), `${what}: a raw escape reached the terminal`);
      assert.not.ok(s.includes('CANARY-SECRET'), `${what}: the canary's content was read into output`);
    };

    const ls = sbx(['ls'], { store, timeoutMs: 60_000 });
    assert.is(ls.code, 0, ls.stderr);
    noRaw(ls.stdout + ls.stderr, 'ls');
    const lines = ls.stdout.trim().split('\n');
    // Unreadable layers leave the change count unknown, never a confident 0.
    for (const id of ['ccccccc1', 'ccccccc2', 'cccccc00']) assert.ok(lines.some((l) => l.startsWith(id) && /\s\?\s/.test(l)), `${id}: ${ls.stdout}`);
    // The header, the good one, cccccc00, the three with tampered layers, ten broken: one line each.
    assert.is(lines.length, 1 + 1 + 1 + 3 + 10, ls.stdout);
    for (const id of ['aaaaaaa1', 'bbbbbbb1', 'bbbbbbb2', 'bbbbbbb3', 'bbbbbbb4', 'bbbbbbb5', 'bbbbbbb6', 'bbbbbbb7', 'bbbbbbb8', 'bbbbbbb9']) {
      assert.ok(lines.some((l) => l.startsWith(id) && /\bbroken\b/.test(l)), `${id} not one broken line: ${ls.stdout}`);
    }
    assert.ok(lines.some((l) => l.startsWith(good) && /\bgood\b/.test(l) && /\bsaved\b/.test(l)));
    const json = sbx(['ls', '--json'], { store });
    assert.is(json.code, 0, json.stderr);
    noRaw(json.stdout, 'ls --json');
    assert.is((JSON.parse(json.stdout) as unknown[]).length, 15);

    const dry = sbx(['prune', '--dry-run'], { store });
    assert.is(dry.code, 0, dry.stderr);
    noRaw(dry.stderr, 'prune --dry-run');
    assert.match(dry.stderr, /would remove 15 sandboxes/);
    const older = sbx(['prune', '--older-than', '1d', '-f'], { store });
    assert.is(older.code, 0, older.stderr);
    assert.match(older.stderr, /nothing to prune; 15 newer than 1d kept/);

    // Tampered layers: warnings (escaped), nothing read through the symlinks. A hard link in a
    // layer is the layer's own file (the kernel lets its owner link only files they may use).
    for (const id of ['ccccccc1', 'ccccccc2', 'ccccccc3', 'cccccc00']) {
      const e = sbx(['export', id, '--format', 'tar', '-o', join(store, `${id}.tar`)], { store });
      noRaw(e.stderr, `export ${id}`);
      // Their layers (the good one's, which these entries do not hold) cannot be read: the
      // artifact lacks them, and the exit status says so.
      assert.is(e.code, 1, `export ${id}: ${e.stderr}`);
      assert.match(e.stderr, /the export is incomplete/);
      const t = existsSync(join(store, `${id}.tar`)) ? readFileSync(join(store, `${id}.tar`), 'latin1') : '';
      if (id !== 'ccccccc3') assert.not.ok(t.includes('CANARY-SECRET'), `export ${id} read through a symlink`);
      assert.not.ok(t.includes('sl/secret'), `export ${id} went down a symlinked dir`);
    }
    // sbx diff of a sandbox whose layer dir is a symlink: never a confident 'no changes' with
    // exit 0 (a script's --exit-code check would read it as nothing changed).
    for (const args of [[], ['--stat'], ['--name-only'], ['--json'], ['--exit-code']]) {
      const d = sbx(['diff', 'ccccccc1', ...args], { store });
      noRaw(d.stdout + d.stderr, `diff ${args.join(' ')}`);
      assert.is(d.code, 1, `diff ${args.join(' ')}: ${d.stdout}${d.stderr}`);
      assert.match(d.stderr, /cannot read the sandbox's copy/);
      if (!args.length) assert.match(d.stdout, /^sandbox ccccccc1: no changes; \d+ parts? could not be read \(see the warnings\): the list may be incomplete$/m);
      if (args[0] === '--json') assert.ok(((JSON.parse(d.stdout) as { unread?: string[] }).unread?.length ?? 0) >= 1, d.stdout);
    }
    const gd = sbx(['diff', good], { store });
    assert.is(gd.code, 0, gd.stderr);
    assert.not.match(gd.stdout, /could not be read/);
    for (const id of ['aaaaaaa1', 'bbbbbbb2', 'bbbbbbb3']) {
      const e = sbx(['export', id, '--format', 'tar', '-o', join(store, `${id}.tar`)], { store });
      assert.is(e.code, 125, e.stderr);
      assert.is(e.stderr.trim().split('\n').length, 1, e.stderr);
      assert.match(e.stderr, /is broken/);
    }
    const ge = sbx(['export', good, '--format', 'tar', '-o', join(store, 'good.tar')], { store });
    assert.is(ge.code, 0, ge.stderr);
    assert.match(readFileSync(join(store, 'good.tar'), 'latin1'), /tmp\/good\.txt/);

    const all = sbx(['prune', '-f'], { store });
    assert.is(all.code, 0, all.stderr);
    noRaw(all.stderr, 'prune -f');
    assert.equal(ids(), []);
    assert.equal(snapshot(c), before, 'the canary changed');
    assert.is(readFileSync(join(c, 'sub', 'secret'), 'utf8'), 'CANARY-SECRET\n');
  } finally {
    removeCanary(c);
  }
});

test.run();
