// Every run's overlays are mounted `volatile` (a command's fsync costs no journal commit), and a
// saved run's layers are synced once when the command ended. The kernel marks a volatile
// overlay's work dir and refuses to mount that layer again while the mark is there: the mark
// must never outlive the run that made it, or keep a later `run --in` from writing. A run cut
// short by the machine stopping is told apart (meta.json's runBoot).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { awaitDetachedRemovals, makeCanary, makeStore, proveIsolation, removeCanary, removeStore, sbx as run } from '../helpers/sbx.js';

let store = '';
let canary = '';
test.before.each(() => {
  store = makeStore();
  canary = makeCanary();
  proveIsolation(canary, store);
});
test.after.each(() => {
  removeCanary(canary);
  awaitDetachedRemovals(store);
  removeStore(store);
});

const sbx = (args: string[]) => run(args, { store, cwd: '/', timeoutMs: 300_000 });

interface Meta { id: string; layers: Array<{ target: string; dir: string; format: string }> }
const metaOf = (id: string): Meta => JSON.parse(readFileSync(join(store, id, 'meta.json'), 'utf8')) as Meta;
const onlyId = (): string => readdirSync(store).filter((n) => /^[0-9a-f]{8}$/.test(n))[0]!;

/** The layer dir holding `path`: the layer whose target is its longest prefix. */
function layerOf(m: Meta, path: string): Meta['layers'][number] {
  return m.layers.filter((l) => path === l.target || path.startsWith(l.target === '/' ? '/' : `${l.target}/`)).sort((a, b) => b.target.length - a.target.length)[0]!;
}

/**
 * The kernel overlays' own work dirs left in a sandbox's layer dirs, where a volatile mount
 * leaves its mark (mode 000: only root could look inside, so any left counts).
 */
function marks(id: string): string[] {
  return metaOf(id).layers.filter((l) => l.format === 'kernel').map((l) => join(store, id, l.dir, 'work', 'work')).filter((p) => lstatSync(p, { throwIfNoEntry: false }));
}

test("a saved run's overlay over the canary is volatile, and leaves no mark: run --in writes in it again", () => {
  const r = sbx(['run', '--name', 'vol', '--', 'sh', '-c', `cat /proc/self/mountinfo; echo a > ${canary}/a && sync ${canary}/a`]);
  assert.is(r.code, 0, r.stderr);
  const id = onlyId();
  const l = layerOf(metaOf(id), canary);
  assert.is(l.format, 'kernel');
  // The overlay holding the canary (root: /opt's; a user: its home's), by its mount point.
  const line = r.stdout.split('\n').find((x) => x.split(' ')[4] === l.target && / - overlay /.test(x));
  assert.ok(line, `an overlay at ${l.target}: ${r.stdout}`);
  // Older kernels list the option as `volatile`, newer ones as `fsync=volatile`.
  assert.match(line!, /[ ,=]volatile(,|$)/, `the canary's overlay is volatile: ${line}`);
  assert.equal(marks(id), [], 'no mark left in the store');
  const again = sbx(['run', '--in', 'vol', '-q', '--', 'sh', '-c', `echo b > ${canary}/b`]);
  assert.is(again.code, 0, again.stderr);
  const names = sbx(['diff', 'vol', '--name-only']);
  assert.equal(names.stdout.split('\n').filter(Boolean).sort(), [`${canary}/a`, `${canary}/b`]);
  assert.equal(marks(id), []);
  assert.not.ok(existsSync(join(canary, 'a')) || existsSync(join(canary, 'b')), 'the host canary is untouched');
});

test('a mark a killed sbx left is removed by the next run --in, which then writes in that layer', () => {
  const r = sbx(['run', '--name', 'killed', '-q', '--', 'sh', '-c', `echo a > ${canary}/a`]);
  assert.is(r.code, 0, r.stderr);
  const id = onlyId();
  const l = layerOf(metaOf(id), canary);
  // What the kernel leaves when the helper dies before removing it: incompat/volatile/dirty, mode 0.
  const kernelWork = join(store, id, l.dir, 'work', 'work');
  const incompat = join(kernelWork, 'incompat');
  mkdirSync(join(incompat, 'volatile'), { recursive: true });
  writeFileSync(join(incompat, 'volatile', 'dirty'), '');
  for (const p of [join(incompat, 'volatile', 'dirty'), join(incompat, 'volatile'), incompat, kernelWork]) chmodSync(p, 0);
  const again = sbx(['run', '--in', 'killed', '--', 'sh', '-c', `echo b > ${canary}/b`]);
  assert.is(again.code, 0, again.stderr);
  assert.not.match(again.stderr, /read-only inside|could not be overlaid/, again.stderr);
  assert.equal(sbx(['diff', 'killed', '--name-only']).stdout.split('\n').filter(Boolean).sort(), [`${canary}/a`, `${canary}/b`]);
  assert.equal(marks(id), []);
});

test('a sandbox whose command ran when the machine stopped: run --in refused, ls, diff and commit say so', () => {
  const r = sbx(['run', '--name', 'cut', '-q', '--', 'sh', '-c', `echo a > ${canary}/a`]);
  assert.is(r.code, 0, r.stderr);
  const id = onlyId();
  // As meta.json was when the machine stopped: running, by a pid that now names another
  // process (pid 1 lives), in another boot.
  const file = join(store, id, 'meta.json');
  const m = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ ...m, state: 'running', runnerPid: 1, runBoot: '00000000-0000-4000-8000-000000000000' }));
  const again = sbx(['run', '--in', 'cut', '--', 'true']);
  assert.is(again.code, 125);
  assert.match(again.stderr, /sandbox cut was running a command when the machine stopped, so its layers may miss writes made before that/);
  const ls = sbx(['ls']);
  assert.match(ls.stdout, /\bcut\s+interrupted\b/, ls.stdout);
  const d = sbx(['diff', 'cut']);
  assert.is(d.code, 0, d.stderr);
  assert.match(d.stderr, /warning: sandbox cut was running a command when the machine stopped/);
  assert.match(d.stdout, /\+a/);
  const c = sbx(['commit', 'cut', '--dry-run']);
  assert.match(c.stderr, /warning: sandbox cut was running a command when the machine stopped/);
  // In this boot, the same file with a dead runner is an ordinary saved sandbox.
  const gone = spawnSync('true').pid!;
  writeFileSync(file, JSON.stringify({ ...m, state: 'running', runnerPid: gone, runBoot: readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim() }));
  assert.match(sbx(['ls']).stdout, /\bcut\s+saved\b/);
});

test.run();
