// A commit keeps each entry's times exactly as the sandbox left them: to the nanosecond and of
// any sign. Node's utimes takes seconds as a double (microseconds kept, a time before 1970
// taken for the current one), and the stage request once wrote seconds unsigned: a new file
// of 1965 stopped the commit half way, every later try the same.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { linkSync, lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canary, sbx, sbxAsync, storeAndCanary } from '../helpers/sbx.js';

const store = storeAndCanary({ prove: true });

const NS = 1_000_000_000n;
/** Each time as the kernel keeps it, in ns since 1970 (UTC). */
const T = {
  y1965: -157766400n * NS,
  y1950: -631152000n * NS,
  dec31: -86400n * NS, // 1969-12-31 00:00:00
  half: -NS / 2n, // @-0.5: second -1, 500000000 ns
  ns2001: 978307200n * NS + 123456789n,
  link: -333_000_000n * NS + 987654321n,
  atime: -250_000_000n * NS + 111111111n,
  linked: -100_000_000n * NS + 1n,
};
/** touch's spelling of a time in ns: `@-1.5` is -1.5 s, the sign is the whole number's. */
const at = (ns: bigint): string => {
  const abs = ns < 0n ? -ns : ns;
  return `@${ns < 0n ? '-' : ''}${abs / NS}.${String(abs % NS).padStart(9, '0')}`;
};

const times = (p: string) => {
  const st = lstatSync(p, { bigint: true });
  return { atime: st.atimeNs, mtime: st.mtimeNs };
};

/** The sandbox `name`'s changes: new entries of every kind with times before 1970, one ns-exact, and existing files touched. */
function makeSandbox(name: string): void {
  writeFileSync(join(canary, 'old'), 'host\n');
  writeFileSync(join(canary, 'linked'), 'linked\n');
  // A file with another name: its new times go on a new inode, through the stage op.
  linkSync(join(canary, 'linked'), join(canary, 'linked.other'));
  const c = canary;
  const script = [
    `echo 65 > ${c}/new65 && touch -d ${at(T.y1965)} ${c}/new65`,
    `mkdir ${c}/nd && echo in > ${c}/nd/inside && touch -d ${at(T.y1950)} ${c}/nd/inside ${c}/nd`,
    `touch -d ${at(T.dec31)} ${c}/old`,
    `echo half > ${c}/half && touch -d @-0.5 ${c}/half`,
    `echo ns > ${c}/ns && touch -d '2001-01-01 00:00:00.123456789 UTC' ${c}/ns`,
    `touch -a -d ${at(T.atime)} ${c}/ns`,
    `ln -s target ${c}/sl && touch -h -m -d ${at(T.link)} ${c}/sl`,
    `mkfifo ${c}/ff && touch -d ${at(T.y1965)} ${c}/ff`,
    `touch -d ${at(T.linked)} ${c}/linked`,
  ].join(' && ');
  const r = sbx(['run', '--name', name, '-q', '--', 'sh', '-c', script], { store });
  assert.is(r.code, 0, r.stderr);
  assert.is(readFileSync(join(canary, 'old'), 'utf8'), 'host\n');
  assert.not.ok(readdirSync(canary).includes('new65'), 'nothing reached the host before the commit');
}

function assertTimes(): void {
  assert.equal(times(join(canary, 'new65')), { atime: T.y1965, mtime: T.y1965 }, 'new file, 1965');
  assert.equal(times(join(canary, 'nd')), { atime: T.y1950, mtime: T.y1950 }, 'new dir, 1950, set after its contents');
  assert.equal(times(join(canary, 'nd', 'inside')), { atime: T.y1950, mtime: T.y1950 }, 'new file in a new dir');
  assert.is((lstatSync(join(canary, 'nd')).mode & 0o777), 0o755, 'the new dir\'s mode');
  assert.equal(times(join(canary, 'old')), { atime: T.dec31, mtime: T.dec31 }, 'existing file, 1969-12-31: not the commit\'s time');
  assert.equal(times(join(canary, 'half')), { atime: T.half, mtime: T.half }, '@-0.5');
  assert.equal(times(join(canary, 'ns')), { atime: T.atime, mtime: T.ns2001 }, 'every nanosecond, atime apart from mtime');
  // A symlink's atime is the review's: reading its target moves it, and no flag prevents that.
  assert.is(times(join(canary, 'sl')).mtime, T.link, 'a symlink\'s own mtime');
  assert.is(readlinkSync(join(canary, 'sl')), 'target');
  assert.equal(times(join(canary, 'ff')), { atime: T.y1965, mtime: T.y1965 }, 'a fifo');
  assert.equal(times(join(canary, 'linked')), { atime: T.linked, mtime: T.linked }, 'a hard-linked host file, given a new inode');
}

test('a commit keeps times before 1970 and every nanosecond, on new files, dirs, symlinks and host files', () => {
  makeSandbox('times');
  const c = sbx(['commit', 'times'], { store });
  assert.is(c.code, 0, c.stderr);
  assert.match(c.stderr, /committed/);
  assertTimes();
  // The host now holds what the sandbox held: nothing is left to review.
  assert.is(sbx(['ls', '--json'], { store }).stdout.trim(), '[]');
});

test('a commit killed after staging is finished by the next with the same times', async () => {
  makeSandbox('resume');
  const child = sbxAsync(['commit', 'resume'], { store, env: { SBX_TEST_COMMIT_PAUSE_AFTER: 'staged' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d) => { err += d; if (err.includes('paused at step staged')) resolve(); });
    child.on('exit', () => reject(new Error(`the commit ended before pausing: ${err}`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.on('close', r));
  const c = sbx(['commit', 'resume'], { store });
  assert.is(c.code, 0, c.stderr);
  assert.match(c.stderr, /finishing an interrupted commit/);
  assertTimes();
});

test.run();
