// apt's auto-installed marks and dpkg's selections as the review reads them
// (sandbox-core/changes/apt-state.ts): an entry that acts on a package the host has installed
// is marked, what an install writes for the packages it brings is not.
// sbx-test: host-free
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { autoMarksHarmless, entries, installedOf, selectionsHarmless } from '../../sandbox-core/changes/apt-state.js';

const b = (t: string): Buffer => Buffer.from(t, 'latin1');
const STATUS = b(['Package: openssh-server', 'Status: install ok installed', 'Architecture: amd64', 'Description: x', ' more', '',
  'Package: libc6', 'Status: install ok installed', 'Architecture: i386', '',
  'Package: tzdata', 'Status: install ok installed', 'Architecture: all', '',
  'Package: gone', 'Status: deinstall ok config-files', 'Architecture: amd64', '', ''].join('\n'));
const HOST = installedOf(STATUS);
const host = () => HOST;
const EXT = b('Package: libfoo\nArchitecture: amd64\nAuto-Installed: 1\n\n');

test('stanzas: field names without case, continuation lines and CRLF', () => {
  assert.equal(entries(b('package: A\r\nARCHITECTURE: amd64\r\n Package: no\r\nauto-installed:  1 \r\n\r\nPackage: b\n')),
    [{ name: 'a', arch: 'amd64', status: '', auto: '1' }, { name: 'b', arch: '', status: '', auto: '' }]);
  assert.equal([...HOST.keys()], ['openssh-server', 'libc6', 'tzdata']);
});

test('an auto-installed mark on a package the host has is marked, in any spelling apt reads', () => {
  for (const add of ['Package: openssh-server\nArchitecture: amd64\nAuto-Installed: 1\n', 'Package: openssh-server\nauto-installed: 1\n',
    'PACKAGE: OpenSSH-Server\nAuto-Installed: 01\n', 'Package: libc6\nArchitecture: i386\nAuto-Installed: 1\n',
    // An `Architecture: all` package, which apt names by the native architecture.
    'Package: tzdata\nArchitecture: amd64\nAuto-Installed: 1\n']) {
    assert.is(autoMarksHarmless(Buffer.concat([EXT, b(add)]), EXT, host), false, add);
  }
  // The host had none: every entry is new.
  assert.is(autoMarksHarmless(b('Package: openssh-server\nAuto-Installed: 1\n'), null, host), false);
});

test('marks an install writes, marks the host had, and manual ones are not', () => {
  // New dependencies (the host lacks them), another architecture, one removed but for its config.
  for (const add of ['Package: libnew\nArchitecture: amd64\nAuto-Installed: 1\n', 'Package: libc6\nArchitecture: amd64\nAuto-Installed: 1\n',
    'Package: gone\nAuto-Installed: 1\n', 'Package: openssh-server\nAuto-Installed: 0\n', 'Package: openssh-server\nAuto-Installed: x\n']) {
    assert.is(autoMarksHarmless(Buffer.concat([EXT, b(add)]), EXT, host), true, add);
  }
  const had = b('Package: openssh-server\nArchitecture: amd64\nAuto-Installed: 1\n\n');
  assert.is(autoMarksHarmless(b('Package: openssh-server\nArchitecture: amd64\nAuto-Installed: 1\n\nPackage: libnew\nAuto-Installed: 1\n'), had, host), true);
  assert.is(autoMarksHarmless(b('Package: openssh-server\nAuto-Installed: 1\n'), had, host), true);
  // Nothing asked of the host's packages when nothing new is marked.
  assert.is(autoMarksHarmless(EXT, EXT, () => { throw new Error('asked'); }), true);
});

test("a host package's selection changed to hold, deinstall or purge is marked", () => {
  for (const w of ['hold', 'deinstall', 'purge']) {
    const now = b(STATUS.toString('latin1').replace('Status: install ok installed\nArchitecture: amd64', `Status: ${w} ok installed\nArchitecture: amd64`));
    assert.is(selectionsHarmless(now, STATUS), false, w);
  }
  // Spelled otherwise.
  assert.is(selectionsHarmless(b('package: openssh-server\nstatus:  HOLD  ok   installed\narchitecture: amd64\n'), STATUS), false);
});

test('selections an install or a removal writes are not', () => {
  const s = STATUS.toString('latin1');
  for (const now of [
    s, // unchanged
    `${s}Package: new\nStatus: hold ok installed\nArchitecture: amd64\n\n`, // a new package held
    s.replace('Status: install ok installed\nArchitecture: amd64', 'Status: deinstall ok config-files\nArchitecture: amd64'), // removed (its files' deletion is in the review)
    s.replace('Status: install ok installed\nArchitecture: i386', 'Status: install ok installed\nArchitecture: i386\n\nPackage: libc6\nStatus: hold ok installed\nArchitecture: amd64'), // another arch, new
  ]) assert.is(selectionsHarmless(b(now), STATUS), true, now);
  const held = b(s.replace('Status: install ok installed\nArchitecture: amd64', 'Status: hold ok installed\nArchitecture: amd64'));
  // The host held it already.
  assert.is(selectionsHarmless(held, held), true);
});

test.run();
