// A repository's config and info/exclude are flagged by what they hold: what git init and
// clone write is not flagged; any other key, an include, a risky url, anything unparsable,
// over-size, unreadable or a symlink is. Each rule flagged and not, with adversarial spellings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { sensitiveContext, sensitiveReason } from '../../sandbox-core/changes/sensitive.js';
import { parseGitConfig } from '../../sandbox-core/changes/git-config.js';
import type { Change } from '../../sandbox-core/changes/types.js';

const ctx = sensitiveContext({ PATH: '/usr/bin:/bin', HOME: '/home/u' });
let dir: string;
let n = 0;
test.before.each(() => { dir = mkdtempSync(join(tmpdir(), 'sbx-gitcfg-')); });
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

/** The reason a file at `path` holding `text` in the layer gets, or null. */
function reason(text: string | Buffer, path = '/h/r/.git/config', change: Change['change'] = 'added'): string | null {
  const upper = join(dir, `f${n++}`);
  writeFileSync(upper, text);
  return sensitiveReason({ path, change, type: 'file', upper }, ctx);
}
const flagged = (text: string | Buffer, path?: string) => assert.ok(reason(text, path) !== null, `not flagged:\n${text}`);
const plain = (text: string | Buffer, path?: string) => assert.is(reason(text, path), null, `flagged:\n${text}`);

const INIT = '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n';
const CLONE = `${INIT}[remote "origin"]\n\turl = /work/main\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n[branch "main"]\n\tremote = origin\n\tmerge = refs/heads/main\n`;
const TEMPLATE = "# git ls-files --others --exclude-from=.git/info/exclude\n# Lines that start with '#' are comments.\n# For a project mostly in C, the following would be a good set of\n# exclude patterns (uncomment them if you want to use them):\n# *.[oa]\n# *~\n";

test('what git init and clone write is not flagged', () => {
  plain(INIT);
  plain(CLONE);
  plain(`${INIT}\tignorecase = true\n\tprecomposeunicode = true\n\tsymlinks = false\n`);
  plain('[core]\n\trepositoryformatversion = 1\n[extensions]\n\tobjectformat = sha256\n');
  plain('');
  plain('[remote "origin"]\n\turl = https://example.org/x.git\n\turl = git@example.org:x.git\n');
});

test('spellings git reads the same: case, quoted and legacy subsections, comments, CRLF, BOM, continuations', () => {
  plain('[CORE]\n\tFileMode = TRUE\n\tBARE=false\n');
  plain('[Remote "Or\\"ig in"]\n\tURL = "/srv/x" ; a comment\n\tfetch = +refs/heads/*:refs/remotes/o/*  # another\n');
  plain('[remote.origin]\n\turl = /srv/x\n');
  plain(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(CLONE.replace(/\n/g, '\r\n'))]));
  plain('[core] bare = false\n');
  plain('[branch "a b"]\n\tremote = origin\n\tmerge = refs/heads/\\\nmain\n');
  plain('[core]\n\tbare\n');
});

test('any other key is flagged, in any case or spelling', () => {
  for (const t of [
    '[core]\n\thooksPath = /tmp/h\n', '[CoRe]\n\tHOOKSPATH = /tmp/h\n', '[core] hooksPath = /tmp/h\n', '[core]hooksPath=/tmp/h\n',
    '[core]\n\tfsmonitor = touch /tmp/x\n', '[core]\n\tsshCommand = sh -c x\n', '[core]\n\tpager = sh -c x\n', '[core]\n\teditor = x\n',
    '[core]\n\tworktree = /tmp\n', '[alias]\n\tst = !sh -c x\n', '[remote "o"]\n\tuploadpack = sh -c x\n', '[remote "o"]\n\treceivepack = x\n',
    '[remote "o"]\n\tpushurl = ext::sh\n', '[filter "lfs"]\n\tclean = sh -c x\n', '[diff "x"]\n\ttextconv = sh -c x\n', '[credential]\n\thelper = !sh -c x\n',
    '[url "ext::sh -c x #"]\n\tinsteadOf = https://\n', '[submodule "m"]\n\turl = /x\n', '[user]\n\tname = a\n',
    // core with a subsection, remote and branch without one are not git's keys.
    '[core "x"]\n\tbare = false\n', '[remote]\n\turl = /x\n', '[branch]\n\tmerge = x\n', '[core.x]\n\tbare = false\n',
  ]) flagged(CLONE + t);
});

test('includes are flagged', () => {
  for (const t of ['[include]\n\tpath = /tmp/x\n', '[INCLUDE]\n\tPath = /tmp/x\n', '[includeIf "gitdir:/"]\n\tpath = /tmp/x\n', '[IncludeIf "onbranch:main"]\n\tpath = x\n']) flagged(INIT + t);
});

test('a url that runs a program or reads as an option is flagged', () => {
  for (const u of ['ext::sh -c touch% /tmp/x', 'EXT::sh', 'fd::3', 'x-helper::y', '-oProxyCommand=x', '"  -x"', '"ext::sh"']) {
    flagged(`${INIT}[remote "origin"]\n\turl = ${u}\n`);
    flagged(`${INIT}[branch "main"]\n\tremote = ${u}\n`);
  }
});

test('what a line reader would miss: a key after a comment that ends in a backslash, after a section on its line', () => {
  // git ends a comment at the newline (a backslash there continues nothing): hooksPath is a key.
  flagged('[core]\n\tbare = false ; x \\\n\thooksPath = /tmp/h\n');
  flagged('[remote "o"]\n\turl = /a\n[core] hooksPath = /tmp/h\n');
  flagged('[remote "o] [core"]\n\turl = /a\n[core]\n\tfsmonitor = x\n');
  // A continued value stays the value of its key.
  plain('[remote "o"]\n\turl = /a\\\n\tfsmonitor = x\n');
  assert.equal(parseGitConfig('[remote "o"]\n\turl = /a\\\n\tb  c\n')![0]!.value, '/a b  c');
});

test('unparsable, over-size, unreadable, a symlink, deleted or no layer file: flagged', () => {
  for (const t of ['[core\n', '[core]\n\t=x\n', 'bare = false\n', '[core]\n\tbare = "open\n', '[core]\n\tbare = \\q\n', '[core]\n\t1x = 2\n',
    '[core]\n\tbare = false\0\n', '[remote "a\nb"]\n\turl = x\n', '[]\n']) flagged(t);
  flagged(`${INIT}${'# padding\n'.repeat(7000)}`);
  // A symlink to a harmless file is not followed.
  const real = join(dir, 'real');
  writeFileSync(real, INIT);
  const link = join(dir, 'link');
  symlinkSync(real, link);
  assert.ok(sensitiveReason({ path: '/h/r/.git/config', change: 'added', type: 'file', upper: link }, ctx));
  assert.ok(sensitiveReason({ path: '/h/r/.git/config', change: 'deleted', type: 'file' }, ctx));
  assert.ok(sensitiveReason({ path: '/h/r/.git/config', change: 'modified', type: 'file' }, ctx));
  assert.ok(reason(INIT, '/h/r/.git/config', 'metadata'));
  // Not a repository's own config: a submodule's, a worktree's, the user's.
  for (const p of ['/h/r/.git/modules/m/config', '/h/r/.git/worktrees/w/config.worktree', '/home/u/.gitconfig']) flagged(INIT, p);
});

test('modified to what git writes: not flagged', () => {
  assert.is(reason(CLONE, '/h/r/.git/config', 'modified'), null);
});

test('info/exclude: comments only (the template) is not flagged; any pattern is', () => {
  const X = '/h/r/.git/info/exclude';
  plain(TEMPLATE, X);
  plain('', X);
  plain('#\n\n#x\n', X);
  for (const t of [`${TEMPLATE}*.o\n`, ' #x\n', '\\#x\n', '!x\n', '   \n', 'a\0']) flagged(t, X);
  flagged(`${'#'.repeat(100)}\n`.repeat(700), X);
  flagged(TEMPLATE, '/h/r/.git/info/attributes');
  flagged(TEMPLATE, '/h/r/.git/modules/m/info/exclude');
});

test.run();
