// The core limit a run sets: 1 (the kernel's "no piped dump") when core_pattern is a pipe to a
// host program, or when it cannot be read; nothing for a file pattern (the file is written
// inside the sandbox's view).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { coreDumpOps } from '../../sandbox-core/core-dumps.js';

const ONE = [{ op: 'rlimit', args: ['core', '1', '1'] }];

test('a piped core_pattern (systemd-coredump, apport) or an unreadable one: core limit 1, hard', () => {
  assert.equal(coreDumpOps('|/usr/lib/systemd/systemd-coredump %P %u %g %s %t %c %h\n'), ONE);
  assert.equal(coreDumpOps('|/usr/share/apport/apport -p%p -s%s -c%c -d%d -P%P -u%u -g%g -- %E\n'), ONE);
  assert.equal(coreDumpOps(null), ONE);
});

test('a file pattern: no limit from sbx', () => {
  assert.equal(coreDumpOps('core\n'), []);
  assert.equal(coreDumpOps('/var/crash/core.%e.%p\n'), []);
});

test.run();
