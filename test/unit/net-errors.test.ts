// Which of the command's kept output lines show it reached for a network it did not have
// (net-errors.ts): the texts real programs print inside a sandbox without one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NO_NETWORK_TEXTS, noNetworkText } from '../../sandbox-core/net-errors.js';
import { SCANNED_TEXTS } from '../../sandbox-core/view-errors.js';

test('the lines curl, git, apt, wget, python/pip, ssh, npm and node print without a network are recognised', () => {
  const seen: Array<[string, string]> = [
    ['curl: (6) Could not resolve host: example.com', 'Could not resolve host'],
    ["fatal: unable to access 'https://github.com/x/y/': Could not resolve host: github.com", 'Could not resolve host'],
    ["  Temporary failure resolving 'deb.debian.org'", 'Temporary failure resolving'],
    ['Resolving example.com (example.com)... failed: Temporary failure in name resolution.', 'Temporary failure in name resolution'],
    ['urllib.error.URLError: <urlopen error [Errno -3] Temporary failure in name resolution>', 'Temporary failure in name resolution'],
    ['ssh: Could not resolve hostname github.com: Temporary failure in name resolution', 'Temporary failure in name resolution'],
    ['npm error request to https://registry.npmjs.org/semver failed, reason: getaddrinfo EAI_AGAIN registry.npmjs.org', 'EAI_AGAIN'],
    ['Error: connect ENETUNREACH 1.1.1.1:80 - Local (0.0.0.0:0)', 'ENETUNREACH'],
    ['OSError: [Errno 101] Network is unreachable', 'Network is unreachable'],
    ['dial tcp 1.1.1.1:443: connect: network is unreachable', 'network is unreachable'],
  ];
  for (const [line, text] of seen) assert.is(noNetworkText([line]), text, line);
});

test('other lines are not: a name that does not exist, a refused connection, the view\'s errors', () => {
  assert.is(noNetworkText([
    'ping: nosuch.example: Name or service not known',
    'curl: (7) Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn\'t connect to server',
    "touch: cannot touch '/data/f': Read-only file system",
  ]), null);
  assert.is(noNetworkText([]), null);
});

test('the first line that shows it names the text; the helper can look for every text', () => {
  assert.is(noNetworkText(['x: Permission denied', 'curl: (6) Could not resolve host: a', 'E: Temporary failure resolving b']), 'Could not resolve host');
  // native/config.c takes at most 16 scan_output texts.
  assert.ok(SCANNED_TEXTS.length + NO_NETWORK_TEXTS.length <= 16);
});

test.run();
