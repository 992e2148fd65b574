// What the review says of changes that are more (or less) than their own entry, in a real
// sandbox (as root and as an ordinary user): a host dir replaced by a symlink or a file takes
// the host's tree with it, which its line, --stat, --json and the dry run count as a
// deletion's does; files rewritten with the bytes they had (dpkg) are one line per dir.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canary, IS_ROOT, proveIsolation, SBX, sbx as run, storeAndCanary } from '../helpers/sbx.js';
import { underPty } from '../helpers/pty.js';

const store = storeAndCanary();
const sbx = (...args: string[]) => run(args, { store, cwd: canary, timeoutMs: 300_000 });

test('a host dir replaced by a symlink or a file is counted in the summary, --stat, --json and the dry run; the commit removes that tree', () => {
  proveIsolation(canary, store);
  // 41 entries, 192 bytes in bigdir; 3 entries in filetarget; plaindel for the deleted line's words.
  for (let d = 0; d < 3; d++) {
    mkdirSync(join(canary, `bigdir/d${d}`), { recursive: true });
    for (let i = 0; i < 12; i++) writeFileSync(join(canary, `bigdir/d${d}/f${i}`), `${d}-${i}\n`);
  }
  writeFileSync(join(canary, 'bigdir/top'), 'top\n');
  writeFileSync(join(canary, 'bigdir/d0/longer'), 'x'.repeat(38));
  mkdirSync(join(canary, 'filetarget'));
  for (let i = 0; i < 3; i++) writeFileSync(join(canary, `filetarget/q${i}`), 'hello\n');
  mkdirSync(join(canary, 'plaindel'));
  writeFileSync(join(canary, 'plaindel/p'), 'ab\n');
  const r = sbx('run', '--name', 'H', '--', 'sh', '-c', 'rm -rf bigdir && ln -s /etc bigdir && rm -rf filetarget && echo x > filetarget && rm -rf plaindel');
  assert.is(r.code, 0, r.stderr);
  const C = canary;
  const big = `${C}/bigdir -> /etc (dir of 41 entries, 192 B → symlink)`;
  const file = `${C}/filetarget (dir of 3 entries, 18 B → file)`;
  // The run's own review says it, as `sbx diff` does; a dir made a symlink is flagged.
  const flag = ' [! directory made a symlink (what is later written into it goes where it points)]';
  assert.ok(r.stderr.includes(`! replaced: ${big}${flag}\n`), r.stderr);
  const d = sbx('diff', 'H');
  assert.is(d.code, 0, d.stderr);
  assert.ok(d.stdout.includes(`  deleted:  ${C}/plaindel/ (1 entry, 3 B)\n`), d.stdout);
  assert.ok(d.stdout.includes(`! replaced: ${big}${flag}\n`), d.stdout);
  assert.ok(d.stdout.includes(`  replaced: ${file}\n`), d.stdout);
  const stat = sbx('diff', 'H', '--stat').stdout.split('\n').map((l) => l.replace(/ +/g, ' '));
  assert.ok(stat.includes(` ${C}/bigdir | replaced (dir of 41 entries, 192 B → symlink)`), stat.join('\n'));
  assert.ok(stat.includes(` ${C}/filetarget | +1 -0 replaced (dir of 3 entries, 18 B → file)`), stat.join('\n'));
  const json = JSON.parse(sbx('diff', 'H', '--json').stdout).changes as Array<{ path: string; hostTree?: unknown }>;
  assert.equal(json.find((c) => c.path === `${C}/bigdir`)?.hostTree, { entries: 41, bytes: 192, capped: false });
  assert.equal(json.find((c) => c.path === `${C}/filetarget`)?.hostTree, { entries: 3, bytes: 18, capped: false });
  const dry = sbx('commit', 'H', '--dry-run');
  assert.is(dry.code, 0, dry.stderr);
  assert.ok(dry.stdout.includes(`put      ${C}/bigdir (dir of 41 entries, 192 B → symlink)\n`), dry.stdout);
  assert.ok(dry.stdout.includes(`put      ${C}/filetarget (dir of 3 entries, 18 B → file)\n`), dry.stdout);
  // What was counted is what goes.
  const c = sbx('commit', 'H');
  assert.is(c.code, 0, c.stderr);
  assert.ok(lstatSync(join(C, 'bigdir')).isSymbolicLink());
  assert.ok(lstatSync(join(C, 'filetarget')).isFile());
  assert.not.ok(existsSync(join(C, 'plaindel')));
});

/** 60 files with an old mtime in certs/, one to chmod in other/; what rewrites each with its own bytes and chmods the other. */
function timesFixture(): string {
  const old = new Date('2020-01-01T00:00:00Z');
  mkdirSync(join(canary, 'certs'));
  mkdirSync(join(canary, 'other'));
  for (let i = 0; i < 60; i++) writeFileSync(join(canary, `certs/c${i}.crt`), `cert ${i}\n`);
  writeFileSync(join(canary, 'other/mode'), 'm\n');
  for (const f of [...Array.from({ length: 60 }, (_, i) => `certs/c${i}.crt`), 'other/mode']) utimesSync(join(canary, f), old, old);
  return `cd ${canary} && for f in certs/*.crt; do cat "$f" > t; cat t > "$f"; done && rm t && chmod 600 other/mode`;
}

test('files rewritten with their own bytes are one line per dir in the review and sbx diff; --all lists each; a commit keeps their times', () => {
  proveIsolation(canary, store);
  const r = sbx('run', '--name', 'T', '--', 'sh', '-c', timesFixture());
  assert.is(r.code, 0, r.stderr);
  const C = canary;
  const folded = `  metadata: ${C}/certs/: 60 files, times only, folded\n`;
  // The run's own review (cut at its limit) and sbx diff: the one line, the chmod still its own.
  for (const out of [r.stderr, sbx('diff', 'T').stdout]) {
    assert.ok(out.includes(folded), out);
    assert.ok(out.includes(`  metadata: ${C}/other/mode (mode 644→600)\n`), out);
    assert.ok(out.includes("60 folded: kept too unless excluded ('sbx diff T --all' lists each)\n"), out);
    assert.not.ok(out.includes('c7.crt'), out);
  }
  // In the C locale sbx's arrows are ASCII (sandbox-core/base/charset.ts).
  const ascii = run(['diff', 'T'], { store, cwd: canary, env: { LANG: 'C' } }).stdout;
  assert.ok(ascii.includes(`  metadata: ${C}/other/mode (mode 644->600)\n`), ascii);
  assert.ok(/^[\x00-\x7f]*$/.test(ascii), ascii);
  // Under sudo (root told so by SUDO_USER/SUDO_UID of a real user) a store the user does not
  // own is named in the hint, as every other hint names it; the unprivileged run cannot be sudo.
  const sudoUser = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')).find((e) => e[0] === 'sbxtest');
  if (IS_ROOT && sudoUser) {
    const d = run(['diff', 'T'], { store, cwd: canary, env: { SUDO_USER: 'sbxtest', SUDO_UID: sudoUser[2]! } }).stdout;
    assert.ok(d.includes(`60 folded: kept too unless excluded ('sudo SBX_HOME=${store} sbx diff T --all' lists each)\n`), d);
  }
  const all = sbx('diff', 'T', '--all').stdout;
  for (let i = 0; i < 60; i++) assert.ok(all.includes(`  metadata: ${C}/certs/c${i}.crt (mtime)\n`), all);
  const c = sbx('commit', 'T');
  assert.is(c.code, 0, c.stderr);
  assert.ok(statSync(join(C, 'certs/c7.crt')).mtimeMs > Date.parse('2021-01-01'), 'a folded change is committed');
});

test('pick mode asks once for a dir of times-only changes and keeps exactly those', () => {
  proveIsolation(canary, store);
  const C = canary;
  const r = underPty([['Keep these changes?', 'p\n'], ['(mode 644→600)? [y/n/a/q/?]', 'n\n'], ['times only, folded? [y/n/a/q/?]', 'y\n'], ['commit 60 picked changes (of 61)? [y/N]', 'y\n']],
    [], { store, argv: [process.execPath, SBX, 'run', '--', 'sh', '-c', timesFixture()], timeoutMs: 60_000 });
  assert.is(r.code, 0, r.out);
  assert.ok(r.out.includes(`metadata: ${C}/certs/: 60 files, times only, folded`), r.out);
  assert.ok(r.out.includes(`apply metadata change of ${C}/certs/: 60 files, times only, folded? [y/n/a/q/?]`), r.out);
  assert.ok(statSync(join(C, 'certs/c59.crt')).mtimeMs > Date.parse('2021-01-01'), r.out);
  assert.is(statSync(join(C, 'other/mode')).mode & 0o777, 0o644, r.out);
});

test('a cleanup of one dir past the summary\'s limit is one line; pick mode, which has no limit, asks for each; keep commits each', () => {
  proveIsolation(canary, store);
  const C = canary;
  mkdirSync(join(C, 'logs'), { recursive: true });
  for (let i = 0; i < 60; i++) writeFileSync(join(C, `logs/l${i}`), 'x\n');
  writeFileSync(join(C, 'gone'), 'g\n');
  const argv = [process.execPath, SBX, 'run', '--', 'sh', '-c', `rm -f ${C}/logs/* ${C}/gone`];
  const p = underPty([['Keep these changes?', 'p\n'], [`apply deletion of ${C}/gone? [y/n/a/q/?]`, 'n\n'], [`apply deletion of ${C}/logs/l0? [y/n/a/q/?]`, 'q\n'],
    ['nothing picked', ''], ['Keep these changes?', 'd\n']],
    [], { store, argv, timeoutMs: 60_000 });
  assert.ok(p.out.includes(`  deleted:  60 entries in ${C}/logs/ (120 B)\r\n`), p.out);
  assert.ok(existsSync(join(C, 'gone')) && existsSync(join(C, 'logs/l0')), p.out);
  const r = underPty([['Keep these changes?', 'k\n']], [], { store, argv, timeoutMs: 60_000 });
  assert.is(r.code, 0, r.out);
  for (let i = 0; i < 60; i++) assert.not.ok(existsSync(join(C, `logs/l${i}`)), `logs/l${i}: ${r.out}`);
  assert.not.ok(existsSync(join(C, 'gone')), r.out);
});

test.run();
