// `sbx ls`, `sbx diff`, `sbx commit` and `sbx discard` load a part of their own (cli/command-parts.ts):
// app.ts built with that command alone. Each must answer every argv exactly as app.js does
// (help, usage errors, an unknown id), hold its own command and none of the others, and be
// the part the entry loads for it.
// sbx-test: host-free (its sbx runs use a store in its TMPDIR and list, diff or discard nothing real).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { COMMAND_PARTS, commandPart } from '../../cli/command-parts.js';
import { commandLoaders } from '../../cli/commands.js';
import { SBX, sbx } from '../helpers/sbx.js';

const work = mkdtempSync(join(tmpdir(), 'sbx-parts-'));
test.after(() => rmSync(work, { recursive: true, force: true }));
const BIN = dirname(SBX);
const store = join(work, 'store');

// Runs one part's main(argv) as the entry would, without the entry's choice: CommonJS, the
// part compiled from its text (no code cache), stdout and stderr as the part writes them.
const DRIVER = `
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { Script } = require('node:vm');
const [bin, name, ...argv] = process.argv.slice(1);
const path = join(bin, name + '.js');
const m = { exports: {} };
new Script(readFileSync(path, 'latin1'), { filename: path }).runInThisContext()(m.exports, require, m, path, bin);
m.exports.main(argv).then((code) => { process.exitCode = code; });
// The Node modules the command loaded, when asked: written to a file, stdout and stderr being the command's.
if (process.env.LOADED_TO) process.on('exit', () => require('node:fs').writeFileSync(process.env.LOADED_TO, process.moduleLoadList.join('\\n')));
`;
function viaPart(name: string, argv: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['-e', DRIVER, BIN, name, ...argv], {
    encoding: 'utf8', cwd: work, env: { ...process.env, SBX_HOME: store, NO_COLOR: '1', HOME: work, XDG_CACHE_HOME: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the entry gives a command part exactly to its own command, as argv names it', () => {
  for (const name of COMMAND_PARTS) {
    assert.ok(commandLoaders[name], `${name} is a command of cli/commands.ts`);
    assert.is(commandPart([name]), name);
    assert.is(commandPart([name, '--help']), name);
  }
  for (const argv of [[], ['run'], ['help', 'ls'], ['LS'], ['--help'], ['policy', 'ls'], ['ls2'], ['-v'], ['prune']]) assert.is(commandPart(argv), null, argv.join(' '));
});

test('each command part answers as app.js: help, usage errors, unknown ids, an empty store', () => {
  mkdirSync(store, { recursive: true });
  const cases: Record<string, string[][]> = {
    ls: [['ls', '--json'], ['ls', 'extra']],
    diff: [['diff', 'nosuch', '--stat'], ['diff', '--help']],
    commit: [['commit'], ['commit', 'nosuch', '--forse']],
    discard: [['discard', 'nosuch', 'other'], ['discard', '-x']],
  };
  assert.equal(Object.keys(cases).sort(), [...COMMAND_PARTS].sort(), 'a case list for each part');
  for (const [name, list] of Object.entries(cases)) {
    for (const argv of list) {
      const own = viaPart(name, argv), app = viaPart('app', argv);
      assert.equal(own, app, `sbx ${argv.join(' ')}`);
      assert.ok(own.stdout || own.stderr, `sbx ${argv.join(' ')} said something`);
    }
  }
});

test('each command part holds its own command and none of the others', async () => {
  const descriptions = new Map<string, string>();
  for (const [name, loaders] of Object.entries(commandLoaders)) {
    for (const load of loaders) descriptions.set(`${name} ${descriptions.size}`, (await load()).usage?.details ?? '');
  }
  for (const name of COMMAND_PARTS) {
    const text = readFileSync(join(BIN, `${name}.js`), 'latin1');
    const app = readFileSync(join(BIN, 'app.js'), 'latin1');
    for (const [key, d] of descriptions) {
      // A command's help text as the minifier keeps it: a stretch without quotes or escapes.
      const frag = /[A-Za-z][A-Za-z ,()-]{30,}/.exec(d)?.[0];
      assert.ok(frag && app.includes(frag), `${key}: app.js holds ${frag}`);
      if (key.startsWith(`${name} `)) assert.ok(text.includes(frag!), `${name}.js holds its own command (${frag})`);
      else assert.not.ok(text.includes(frag!), `${name}.js holds ${key}'s command (${frag})`);
    }
  }
});

test("a command that writes no stdout makes no stdio stream, nor loads node:tty or node:net (clipanion's default context, patched by scripts/bundle.mjs)", () => {
  mkdirSync(store, { recursive: true });
  for (const name of ['discard', 'app']) {
    const loaded = join(work, `loaded-${name}`);
    // Pipes, as the tests' and most scripts' sbx has: a pipe's stream is a net.Socket.
    const r = spawnSync(process.execPath, ['-e', DRIVER, BIN, name, 'discard', 'nosuch'], {
      encoding: 'utf8', env: { ...process.env, SBX_HOME: store, HOME: work, XDG_CACHE_HOME: '', LOADED_TO: loaded },
    });
    assert.is(r.status, 125, r.stderr);
    assert.match(r.stderr, /nosuch/);
    const list = readFileSync(loaded, 'utf8').split('\n');
    assert.equal(list.filter((m) => m === 'NativeModule tty' || m === 'NativeModule net'), [], `${name}.js`);
  }
});

test('the shipped entry loads the command part: its code cache is the one written', () => {
  for (const [name, argv] of [['ls', ['ls']], ['discard', ['discard', 'nosuch']]] as const) {
    const cache = mkdtempSync(join(work, 'cache-'));
    const r = sbx([...argv], { store, env: { XDG_CACHE_HOME: cache } });
    assert.ok(r.code === 0 || r.code === 125, r.stderr);
    const files = readdirSync(join(cache, 'sbx', 'code'));
    assert.equal(files.map((f) => f.split('-')[0]), [name], files.join(' '));
  }
});

test.run();
