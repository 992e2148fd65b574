// dpkg file lists as the review reads them (sandbox-core/changes/dpkg-list.ts): which lines a
// record gained, and whether one names a host file, found the way dpkg's unlink finds it
// (through the host's symlinks, `..` and `.`), in a tree this test makes.
// sbx-test: host-free
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addedLines, dpkgListHarmless, listLinesHarmless } from '../../sandbox-core/changes/dpkg-list.js';
import { setHostRoot } from '../../sandbox-core/changes/fsat.js';

const T = mkdtempSync(join(tmpdir(), 'sbx-dpkg-list-'));
test.after(() => rmSync(T, { recursive: true, force: true }));
mkdirSync(join(T, 'usr/bin'), { recursive: true });
writeFileSync(join(T, 'usr/bin/prog'), 'x');
symlinkSync('usr/bin', join(T, 'bin'));
symlinkSync(join(T, 'usr'), join(T, 'abs'));
symlinkSync('loop', join(T, 'loop'));
symlinkSync('prog', join(T, 'usr/bin/link'));

test('the lines a record gained: none of the old ones, no empty ones', () => {
  assert.equal(addedLines(Buffer.from('/.\n/usr\n/usr/x\n\n/usr/y\n'), Buffer.from('/.\n/usr\n/usr/x\n')), ['/usr/y']);
  assert.equal(addedLines(Buffer.from('/a\n/b'), null), ['/a', '/b']);
  // Bytes that are not UTF-8 stay the bytes they are.
  assert.equal(addedLines(Buffer.from([0x2f, 0xff, 0x0a]), null), ['/\xff']);
});

test('a host file is found by its name and through symlinks, ., .. and a missing leading /', () => {
  for (const l of [`${T}/usr/bin/prog`, `${T}/bin/prog`, `${T}/abs/bin/prog`, `${T}/bin/../bin/./prog`, `${T.slice(1)}/usr/bin/prog`, `${T}/usr/bin/link`, `${T}/usr/bin/prog/`]) {
    assert.is(listLinesHarmless([l]), false, l);
  }
  // One such line among ordinary ones is enough.
  assert.is(listLinesHarmless([`${T}/usr`, `${T}/usr/bin/new`, `${T}/bin/prog`]), false);
});

test('dirs, missing paths and loops are no deletion', () => {
  const lines = [T, `${T}/usr`, `${T}/usr/bin`, `${T}/usr/bin/new`, `${T}/bin/new`, `${T}/none/prog`, `${T}/loop/prog`, `${T}/usr/bin/prog/x`, '/.', `${T}/bin/..`];
  assert.is(listLinesHarmless(lines), true);
});

test('a line of a million names stops at the first the host lacks', () => {
  assert.is(listLinesHarmless([`${T}/none${'/x'.repeat(1_000_000)}`, `${T}${'/.'.repeat(100_000)}/usr/bin/prog`]), false);
});

test('a record compared with the host record it replaces', () => {
  const host = join(T, 'host.list');
  const layer = join(T, 'layer.list');
  writeFileSync(host, `/.\n${T}/usr/bin/prog\n`);
  // The host already listed it: no line gained names a host file.
  writeFileSync(layer, `/.\n${T}/usr/bin/prog\n${T}/usr/bin/new\n`);
  assert.is(dpkgListHarmless(layer, host), true);
  writeFileSync(layer, `/.\n${T}/usr/bin/new\n${T}/usr/bin/link\n`);
  assert.is(dpkgListHarmless(layer, host), false);
  // No record on the host: every line is new.
  assert.is(dpkgListHarmless(layer, join(T, 'none.list')), false);
  // One that cannot be read as a file is marked.
  assert.is(dpkgListHarmless(join(T, 'bin'), host), false);
  assert.is(dpkgListHarmless(join(T, 'missing.list'), host), false);
});

test('a symlink to a dir is no deletion only when another package lists it (dpkg keeps such a link, else unlinks it)', () => {
  // A tree standing for the host: a merged-/usr /lib, symlinks to a dir and to a file, and
  // dpkg's records naming some of them.
  const H = mkdtempSync(join(tmpdir(), 'sbx-dpkg-host-'));
  try {
    for (const d of ['usr/lib/systemd', 'srv/data', 'var/lib/dpkg/info']) mkdirSync(join(H, d), { recursive: true });
    writeFileSync(join(H, 'usr/lib/f'), 'x');
    symlinkSync('usr/lib', join(H, 'lib'));
    for (const n of ['data', 'data2', 'data3', 'data4']) symlinkSync('/srv/data', join(H, n));
    symlinkSync('usr/lib/f', join(H, 'flink'));
    const info = join(H, 'var/lib/dpkg/info');
    writeFileSync(join(info, 'libc6:amd64.list'), '/.\n/lib\n/lib/x86_64-linux-gnu\n');
    // Not the same line: a longer name, a path below, another kind of record; the first line
    // of a record without a newline after it counts.
    writeFileSync(join(info, 'other.list'), '/data2\n/datax\n/data/sub\n/data3x');
    writeFileSync(join(info, 'other.md5sums'), 'abc  data3\n/data3\n');
    // A record that is a symlink is not read (nor what it points at).
    writeFileSync(join(H, 'srv/names'), '/data4\n');
    symlinkSync(join(H, 'srv/names'), join(info, 'evil.list'));
    setHostRoot(H);
    try {
      assert.is(listLinesHarmless(['/lib', '/lib/systemd', '/lib/systemd/system/x.service']), true);
      assert.is(listLinesHarmless(['data2']), true);
      for (const l of ['/data', '/data3', '/data4', '/flink', '/lib/f']) assert.is(listLinesHarmless(['/lib', l]), false, l);
    } finally { setHostRoot(null); }
  } finally { rmSync(H, { recursive: true, force: true }); }
});

test.run();
