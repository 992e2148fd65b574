// A store (SBX_HOME) inside a tree sbx overlays: /tmp and /var/tmp, which an ordinary user's
// sbx serves with fuse-overlayfs. That daemon reaches some of its own files by absolute path
// (the work dir for a file deleted while still open, the upper dir when it changes a fifo's
// mode); while it lived in the sandbox's mount namespace those paths resolved inside the
// sandbox after pivot_root: through its own mount when the store is in the tree it serves (a
// request it waited on forever: `apt-get install ./x.deb` hung for hours), or into the store's
// hiding tmpfs otherwise (ENOENT). Every run here is bounded and SIGKILLed at its limit (sbx
// forwards SIGTERM to the command, which a hung FUSE request does not end), so the old code
// fails these tests instead of hanging the suite.
// sbx-test: serial (it keeps a store in /var/tmp, a tree every other run of the machine overlays
// too, and compares the host's mounts before and after a run).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CI, IS_ROOT, SBX, hostMounts, hostMountsLeft, makeCanary, makeStore, proveIsolation, removeCanary, removeStore } from '../helpers/sbx.js';
import { buildDeb } from '../helpers/deb.js';
import { testUnless } from '../helpers/skip.js';
import { fuseProblem } from '../../sandbox-core/engines.js';
import { which } from '../../sandbox-core/which.js';

// Made by the test (mode 0700): one under /tmp (the runner's TMPDIR), one under /var/tmp.
const stores = [makeStore(), mkdtempSync('/var/tmp/sbx-test-store-')];
chmodSync(stores[1]!, 0o700);
const temps: string[] = [];
test.before(() => {
  const canary = makeCanary();
  try { proveIsolation(canary, stores[0]!); } finally { removeCanary(canary); }
});
test.after(() => {
  for (const s of stores) removeStore(s);
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** sbx, SIGKILLed after `ms`: a hang is a failure with the name of what hung. */
function bounded(args: string[], store: string, ms: number) {
  const r = spawnSync(process.execPath, [SBX, ...args], {
    input: '', encoding: 'utf8', cwd: '/', timeout: ms, killSignal: 'SIGKILL',
    env: { ...process.env, SBX_HOME: store, NO_COLOR: '1', PATH: '/usr/bin:/bin' },
  });
  assert.not.ok(r.signal === 'SIGKILL', `sbx ${args.join(' ')} hung (killed after ${ms / 1000} s) with SBX_HOME=${store}`);
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

// Without fuse-overlayfs an ordinary user's /tmp is read-only inside (one line says so): nothing
// here could run.
const noFuse = IS_ROOT ? null : fuseProblem(which);
const tag = `sbx-ovst-${process.pid}`;

// What dpkg and apt do to their files, in /tmp and /var/tmp: write, fsync and rename (also over
// an existing file), a hard link, many files made and many deleted, a file written after it
// was deleted while open (apt's temporary files), a fifo whose mode changes.
const workload = (store: string): string => `set -e
for d in /tmp/${tag} /var/tmp/${tag}; do
  mkdir $d
  echo one > $d/new && sync $d/new && mv $d/new $d/final
  echo two > $d/final.new && sync $d/final.new && mv $d/final.new $d/final
  ln $d/final $d/hardlink
  i=0; while [ $i -lt 300 ]; do echo $i > $d/many$i; i=$((i+1)); done
  rm $d/many1*
  exec 3>$d/open; rm $d/open; echo gone >&3; exec 3>&-
  mkfifo $d/fifo; chmod 600 $d/fifo
  stat -c %a $d/fifo; stat -c %h $d/hardlink
done
[ -z "$(ls -A '${store}' 2>/dev/null)" ] && echo store-hidden`;

function expectedNames(): string[] {
  const names: string[] = [];
  for (const d of [`/tmp/${tag}`, `/var/tmp/${tag}`]) {
    names.push(d, `${d}/final`, `${d}/hardlink`, `${d}/fifo`);
    for (let i = 0; i < 300; i++) if (!String(i).startsWith('1')) names.push(`${d}/many${i}`);
  }
  return names.sort();
}

for (const [i, where] of [[0, '/tmp'], [1, '/var/tmp']] as const) {
  testUnless(noFuse, { missing: true })(`a store under ${where}: dpkg's file pattern completes, is listed exactly, the store stays hidden, the host untouched`, () => {
    const store = stores[i]!;
    const before = hostMounts();
    const name = `w${i}`;
    const r = bounded(['run', '-q', '--name', name, '--', 'sh', '-c', workload(store)], store, 120_000);
    assert.is(r.code, 0, r.stderr + r.stdout);
    assert.is(r.stdout, '600\n2\n600\n2\nstore-hidden\n');
    const diff = bounded(['diff', name, '--name-only'], store, 60_000);
    assert.is(diff.code, 0, diff.stderr);
    assert.equal(diff.stdout.trim().split('\n').sort(), expectedNames());
    for (const d of [`/tmp/${tag}`, `/var/tmp/${tag}`]) assert.not.ok(existsSync(d), `${d} reached the host`);
    assert.equal(hostMountsLeft(before, store), []);
    const gone = bounded(['discard', name], store, 60_000);
    assert.is(gone.code, 0, gone.stderr);
  });
}

testUnless(noFuse, { missing: true })('a store under /dev/shm (the host\'s, not the sandbox\'s /dev): a kept run works and lists its changes', () => {
  const store = mkdtempSync('/dev/shm/sbx-test-store-');
  chmodSync(store, 0o700);
  try {
    const r = bounded(['run', '-q', '--name', 'shm', '--', 'sh', '-c', `echo hi > /tmp/${tag}-shm; ls -A /dev/shm`], store, 60_000);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, '');
    const diff = bounded(['diff', 'shm', '--name-only'], store, 60_000);
    assert.is(diff.stdout, `/tmp/${tag}-shm\n`, diff.stderr);
    assert.not.ok(existsSync(`/tmp/${tag}-shm`));
  } finally {
    removeStore(store);
  }
});

test('a --bind of the dir holding the store shows the store empty and read-only, at its path and at another destination', () => {
  const store = stores[0]!;
  const parent = dirname(store);
  const other = `/mnt/${tag}-b`;
  const moved = join(other, basename(store));
  const r = bounded(['run', '-n', '-q', '--bind', `${parent}:${parent}`, '--bind', `${parent}:${other}`, '--', 'sh', '-c',
    `ls -A '${store}' '${moved}' 2>&1; touch '${store}/planted' 2>/dev/null || echo refused; touch '${moved}/planted' 2>/dev/null || echo refused`], store, 60_000);
  assert.is(r.code, 0, r.stderr);
  // Empty (an ordinary user: root of the tmpfs inside) or unreadable (root's remapped run).
  assert.is(r.stdout.split('\n').filter((l) => l && !l.endsWith(':') && !/^ls: cannot open directory .*: Permission denied$/.test(l)).join('\n'), 'refused\nrefused', r.stdout);
  assert.not.ok(existsSync(join(store, 'planted')));
});

const debName = tag;
const deb = buildDeb(debName, temps);
if (!deb) assert.not.ok(CI, 'dpkg-deb or apt-get missing');

testUnless(noFuse ?? (deb ? null : 'dpkg-deb or apt-get missing'), { missing: true })('a store under /tmp: apt-get install ./x.deb in a kept sandbox completes and lists the package', () => {
  const store = stores[0]!;
  const r = bounded(['run', '-q', '--name', 'apt', '--', 'apt-get', 'install', '-y', deb!], store, 180_000);
  assert.is(r.code, 0, r.stderr + r.stdout);
  const diff = bounded(['diff', 'apt', '--name-only'], store, 60_000);
  const names = diff.stdout.trim().split('\n');
  for (const p of [`/usr/share/${debName}/hello.txt`, `/var/lib/dpkg/info/${debName}.list`, '/var/lib/dpkg/status']) assert.ok(names.includes(p), diff.stdout);
  assert.not.ok(existsSync(`/usr/share/${debName}`));
  assert.is(bounded(['discard', 'apt'], store, 60_000).code, 0);
});

test.run();
