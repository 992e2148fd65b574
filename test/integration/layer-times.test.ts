// What sbx puts into a sandbox's layers before the command runs (a layer's upper root, the
// parents of a copy or of a whiteout, a dir shown empty, a package manager's lock copied in)
// shows the host's times inside to the nanosecond, before 1970 too, whether the helper makes it
// (a new sandbox) or sbx does (--disk, `run --in`): Node's utimes kept microseconds and took a
// time before 1970 for the current one, and a dir's times were set before its entries went in.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IS_ROOT, makeCanary, provenStore, removeCanary, sbx } from '../helpers/sbx.js';
import { ROOT_CASE, USER_CASE, testUnless } from '../helpers/skip.js';
import { CANARY } from '../helpers/canary-name.js';

const store = provenStore();

const T1960 = '1960-01-01 00:00:00.123456789 UTC';
const T1961 = '1961-06-01 12:00:00.000000001 UTC';

function touch(p: string, t: string, ...only: string[]): void {
  execFileSync('touch', ['-h', ...only, '-d', t, p]);
}

/** `stat`'s atime and mtime of each path, in ns, as the host shows them. */
function hostTimes(paths: string[]): string[] {
  return paths.map((p) => { const st = lstatSync(p, { bigint: true }); return `${p} ${st.atimeNs} ${st.mtimeNs}`; });
}

/** The same, as the command sees them (the sandbox's stat, in ns: %X.%x would be rounded by the shell). */
function insideTimes(args: string[], paths: string[]): string[] {
  const script = `for p in "$@"; do printf '%s ' "$p"; stat -c '%x|%y' "$p"; done`;
  const r = sbx(['run', ...args, '-q', '--', 'sh', '-c', script, 'sh', ...paths], { store });
  assert.is(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => {
    const [p, rest] = [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)];
    const [a, m] = rest.split('|').map(toNs);
    return `${p} ${a} ${m}`;
  });
}

/** `stat -c %x`'s text (UTC: the runner's TZ is the sandbox's) as ns since 1970. */
function toNs(s: string): bigint {
  const m = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{9}) ([+-]\d{4})$/.exec(s.trim());
  if (!m) throw new Error(`not a stat time: ${s}`);
  const whole = BigInt(Date.parse(`${m[1]!.replace(' ', 'T')}${m[3]!.slice(0, 3)}:${m[3]!.slice(3)}`)) / 1000n;
  return whole * 1_000_000_000n + BigInt(m[2]!);
}

/**
 * insideTimes and the host's, the run tried again (three times at most) while the host's moved
 * meanwhile (others make and remove entries in `/`); `/`'s atime is left out: the host's moves
 * as it runs, its mtime is the one asked for (ext4 keeps every ns).
 */
function steady(args: string[], paths: string[]): [string[], string[]] {
  const strip = (l: string): string => (l.startsWith('/ ') ? l.replace(/ -?\d+ /, ' A ') : l);
  let inside: string[] = [], before: string[] = [];
  for (let i = 0; i < 3; i++) {
    before = hostTimes(paths).map(strip);
    inside = insideTimes(args, paths).map(strip);
    if (hostTimes(paths).map(strip).join() === before.join()) break;
  }
  return [inside, before];
}

const mountsNow = (): string => readFileSync('/proc/self/mountinfo', 'utf8');
const mountedAt = (p: string): boolean => mountsNow().split('\n').some((l) => l.split(' ')[4] === p);

testUnless(ROOT_CASE)('root: a layer\'s upper root takes its mount\'s times exactly, made by the helper or by sbx (--disk); a whiteout\'s parent its times, made by the helper or by `run --in`', () => {
  const c = makeCanary();
  const mnt = join(c, 'mnt');
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'sbx-canary', mnt]);
  try {
    mkdirSync(join(mnt, 'd'));
    writeFileSync(join(mnt, 'd', 'x'), 'x\n');
    touch(join(mnt, 'd'), T1961);
    touch(mnt, T1960);
    assert.equal(...steady(['-n'], ['/', mnt]), 'a new sandbox (the helper makes the layers)');
    assert.equal(...steady(['-n', '--disk', '64M'], ['/', mnt]), '--disk (sbx makes the layers)');
    // A --hide whiteout is sbx's: its parent keeps the host's times (it showed the launch's
    // moment as its mtime), made by the helper (a new sandbox) or by sbx (`run --in`).
    const hidden = ['--hide', join(mnt, 'd', 'x')];
    assert.equal(...steady(['-n', ...hidden], [mnt, join(mnt, 'd')]), 'the parent of a whiteout, made by the helper');
    assert.ok(sbx(['run', '--name', 'lt-in', '-q', '--', 'true'], { store }).code === 0);
    assert.equal(insideTimes(['--in', 'lt-in', ...hidden], [join(mnt, 'd')]), hostTimes([join(mnt, 'd')]), 'the parent of a whiteout, made by sbx');
    sbx(['discard', 'lt-in'], { store });
  } finally {
    execFileSync('umount', [mnt]);
    removeCanary(c);
  }
});

/** An ordinary user's view of /var: fuse-overlayfs, which shows a dir the user cannot read empty. */
testUnless(USER_CASE ?? (mountedAt('/var/tmp') ? "/var/tmp is a mount of its own here: not below /var's layer" : null))('an ordinary user: a dir shown empty and its parent, made by the helper or by sbx (--disk), show the host times exactly, before 1970', () => {
  const c = mkdtempSync(`/var/tmp/${CANARY}`);
  try {
    chmodSync(c, 0o755);
    const secret = join(c, 'secret');
    mkdirSync(secret);
    touch(secret, T1960);
    touch(secret, '2001-02-03 04:05:06.987654321 UTC', '-a');
    chmodSync(secret, 0);
    touch(c, T1961);
    // Read after the run: sbx's walk for unreadable dirs lists `c` as the user (its atime then
    // moves: relatime, and no O_NOATIME for a listing from Node), before its copy is made.
    const inside = insideTimes(['-n'], [c, secret]);
    assert.equal(inside, hostTimes([c, secret]), 'a new sandbox (the helper makes them)');
    assert.equal(inside[1], `${secret} 981173106987654321 -315619199876543211`);
    assert.ok(inside[0]!.endsWith(' -270907199999999999'), '1961-06-01 12:00:00.000000001');
    assert.equal(insideTimes(['-n', '--disk', '64M'], [c, secret]), hostTimes([c, secret]), '--disk (sbx makes them)');
    const r = sbx(['run', '--name', 'lt-u', '-q', '--', 'true'], { store });
    assert.is(r.code, 0, r.stderr);
    const d = sbx(['diff', 'lt-u'], { store });
    assert.match(d.stdout + d.stderr, /no changes/);
    sbx(['discard', 'lt-u'], { store });
  } finally {
    // Not forced: a canary that vanished before its clean-up is a failure to look into.
    if (existsSync(join(c, 'secret'))) chmodSync(join(c, 'secret'), 0o700);
    rmSync(c, { recursive: true });
  }
});

/** dpkg's lock (0640 root): copied into an ordinary user's layer empty, with the host's times. */
const lock = '/var/lib/dpkg/lock';
const lockCopied = !IS_ROOT && existsSync(lock) && lstatSync(lock).size === 0 && (() => { try { readFileSync(lock); return false; } catch { return true; } })();

testUnless(USER_CASE ?? (lockCopied ? null : `${lock} is not an empty file this user cannot read here`))('an ordinary user: a package manager\'s lock copied in shows the host times exactly, made by the helper or by sbx (--disk)', () => {
  // The host's own file, only read: its times move whenever dpkg runs (steady).
  for (const args of [['-n'], ['-n', '--disk', '64M']]) assert.equal(...steady(args, [lock]), args.join(' '));
});

/** Small regular files right below `/` that this user can read: an ordinary user's `/` is a stand-in tree, and these are copied into it. */
const rootFiles = IS_ROOT ? [] : readdirSync('/').map((n) => `/${n}`).filter((p) => {
  const st = lstatSync(p, { throwIfNoEntry: false });
  if (!st?.isFile() || st.size > 1 << 20 || mountedAt(p)) return false;
  try { closeSync(openSync(p, 'r')); return true; } catch { return false; }
});

testUnless(USER_CASE ?? (rootFiles.length ? null : 'no small readable file right below / here'))('an ordinary user: a file copied into the stand-in tree of `/`, and `/` itself, show the host mode and times exactly', () => {
  const paths = ['/', ...rootFiles.slice(0, 5)];
  const mode = (p: string): string => (lstatSync(p).mode & 0o7777).toString(8);
  for (const args of [['-n'], ['-n', '--disk', '64M']]) {
    assert.equal(...steady(args, paths), args.join(' '));
    const r = sbx(['run', ...args, '-q', '--', 'stat', '-c', '%a', ...paths.slice(1)], { store });
    assert.equal(r.stdout.trim().split('\n'), paths.slice(1).map(mode), `${args.join(' ')}: modes`);
  }
});

testUnless(USER_CASE)('an ordinary user: a review of a dir in the layers the user cannot read (a subordinate uid\'s) leaves its atime as the command left it', () => {
  const home = process.env.HOME ?? '';
  const d = `${home}/${CANARY}lt${process.pid}/d`;
  // Its atime before its mtime: listing it then moves the atime (relatime).
  const r = sbx(['run', '--name', 'lt-mapped', '-q', '--', 'sh', '-c', `mkdir -p ${d} && touch -a -d '2000-01-01 UTC' ${d} && echo s > ${d}/s && chown 5:5 ${d} && chmod 700 ${d}`], { store });
  assert.is(r.code, 0, r.stderr);
  const id = readdirSync(store).find((n) => /^[0-9a-f]{8}$/.test(n) && readFileSync(join(store, n, 'meta.json'), 'utf8').includes('"lt-mapped"'))!;
  const layer = readdirSync(join(store, id)).map((l) => join(store, id, l, 'upper', d.slice(home.length + 1))).find((p) => existsSync(p));
  if (!layer) { console.log('  (the home dir is not a layer of its own here)'); sbx(['discard', 'lt-mapped'], { store }); return; }
  const atime = (): bigint => lstatSync(layer, { bigint: true }).atimeNs;
  assert.is(atime(), 946684800n * 1_000_000_000n, 'as the command left it');
  // It says it cannot read the copy's content (exit 1): it counts what the dir holds.
  assert.match(sbx(['diff', 'lt-mapped'], { store }).stderr, /only root can read/);
  assert.is(atime(), 946684800n * 1_000_000_000n, 'after sbx diff');
  sbx(['discard', 'lt-mapped'], { store });
});

test.run();
