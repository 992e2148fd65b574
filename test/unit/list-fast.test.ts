// `sbx diff ID --name-only` is recognised in the entry and served by the list part; every
// other argv (flags clipanion knows, a typo, a PATH, --json) must be left to clipanion (null),
// and whatever is accepted must be what clipanion's DiffCommand parses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Cli } from 'clipanion';
import { nameOnlyRef } from '../../cli/list-fast.js';
import { DiffCommand } from '../../cli/diff.js';

function viaClipanion(args: string[]): { ref: string; nameOnly: boolean; others: boolean } {
  const cli = new Cli({ binaryName: 'sbx' });
  cli.register(DiffCommand);
  const c = cli.process(['diff', ...args]) as DiffCommand;
  return { ref: c.ref, nameOnly: c.nameOnly, others: c.stat || c.json || c.all || c.exitCode || c.pathArgs.length > 0 || c.only.length > 0 || c.exclude.length > 0 };
}

test('ID --name-only, in either order, is the fast path, as clipanion reads it', () => {
  for (const args of [['trial', '--name-only'], ['--name-only', 'trial'], ['0123abcd', '--name-only']]) {
    const ref = nameOnlyRef(args);
    assert.ok(ref, args.join(' '));
    assert.equal(viaClipanion(args), { ref: ref!, nameOnly: true, others: false });
  }
});

test('anything more or else goes to clipanion', () => {
  for (const args of [
    ['trial'], ['--name-only'], [], ['trial', '--name-only', '/etc'], ['trial', '--name-only', '--json'],
    ['trial', '--stat'], ['--name-only', '--name-only'], ['-h', '--name-only'], ['trial', '--name-onl'],
    ['trial', '--name-only=1'], ['--exit-code', '--name-only'], ['trial', '--name-only', '--exit-code'],
  ]) assert.is(nameOnlyRef(args), null, args.join(' '));
});

test.run();
