import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseMountInfo, unescapeMountPath, visibleMounts } from '../../sandbox-core/mountinfo.js';

const SAMPLE = [
  '22 27 0:21 / /proc rw,relatime - proc proc rw',
  '24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,mode=755',
  '26 24 0:24 / /dev/pts rw,relatime - devpts devpts rw,mode=600',
  '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
  '29 26 0:26 / /dev/pts rw,relatime - devpts devpts rw,mode=600',
  '40 27 8:1 / /home rw shared:5 - ext4 /dev/sda1 rw',
  '41 40 8:2 /sub /home/my\\040docs/bind rw - ext4 /dev/sda2 rw',
  '50 27 0:40 / /mnt/hidden rw - tmpfs tmpfs rw',
  '51 27 0:41 / /mnt rw - tmpfs tmpfs rw',
].join('\n');

test('parses fields, optional fields and octal escapes', () => {
  const m = parseMountInfo(SAMPLE);
  assert.is(m.length, 9);
  const home = m.find((x) => x.id === 40)!;
  assert.is(home.mountPoint, '/home');
  assert.is(home.fsType, 'ext4');
  assert.is(home.source, '/dev/sda1');
  const bind = m.find((x) => x.id === 41)!;
  assert.is(bind.mountPoint, '/home/my docs/bind');
  assert.is(bind.root, '/sub');
  assert.is(unescapeMountPath('a\\011b\\012c\\134d'), 'a\tb\nc\\d');
});

test('rejects a malformed line', () => {
  assert.throws(() => parseMountInfo('1 2 3'));
});

test('visible mounts: topmost at a path, and nothing under a later mount on an ancestor', () => {
  const v = visibleMounts(parseMountInfo(SAMPLE));
  const ids = v.map((x) => x.id).sort((a, b) => a - b);
  // 26 is covered by 29 at /dev/pts; 50 (/mnt/hidden) hangs off /, but /mnt (51) was mounted over it later.
  assert.equal(ids, [22, 24, 27, 29, 40, 41, 51]);
});

test('this machine\'s mountinfo parses and has a visible root', () => {
  const v = visibleMounts(parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')));
  assert.ok(v.some((m) => m.mountPoint === '/'));
});

test.run();
