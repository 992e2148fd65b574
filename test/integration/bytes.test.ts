// Bytes are kept (issue 11, item 4): arguments, environment values and the working directory
// that are not UTF-8 reach the command unchanged, and large argument lists and environments
// work (the helper has no fixed table of 4,095 entries).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeStore, SBX, removeStore } from '../helpers/sbx.js';
import { describeFailure } from '../../sandbox-core/sandbox.js';

const store = makeStore();
const dir = mkdtempSync(join(tmpdir(), 'sbx-bytes-'));
chmodSync(dir, 0o755);
test.after(() => { removeStore(store); rmSync(dir, { recursive: true, force: true }); });

const env = { ...process.env, SBX_HOME: store, NO_COLOR: '1' };

/** A shell line runs sbx: Node cannot pass bytes that are not UTF-8 as arguments itself. */
function shell(script: string, cwd = '/'): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('sh', ['-c', script, 'sh', process.execPath, SBX], { env, cwd, encoding: 'latin1', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const hex = (s: string): string => s.replace(/\s+/g, ' ').trim();

test('an argument with bytes that are not UTF-8 reaches the command unchanged', () => {
  const r = shell(`"$1" "$2" run -n -q -- sh -c 'printf %s "$1" | od -An -tx1' sh "$(printf 'a\\377\\376b')"`);
  assert.is(r.code, 0, r.stderr);
  assert.is(hex(r.stdout), '61 ff fe 62');
});

test('an environment value with such bytes reaches the command unchanged', () => {
  const r = shell(`X="$(printf 'v\\376\\377')" "$1" "$2" run -n -q -- sh -c 'printf %s "$X" | od -An -tx1'`);
  assert.is(r.code, 0, r.stderr);
  assert.is(hex(r.stdout), '76 fe ff');
});

test('a working directory with such bytes works inside', () => {
  const name = Buffer.from([0x64, 0xff, 0x20, 0x78]).toString('latin1');
  const where = join(dir, name);
  mkdirSync(Buffer.from(where, 'latin1') as unknown as string, { mode: 0o755 });
  const r = spawnSync('sh', ['-c', `cd "$(printf '%s/d\\377 x' "$3")" && "$1" "$2" run -n -q -- sh -c 'pwd | od -An -tx1'`, 'sh', process.execPath, SBX, dir], { env, cwd: '/', encoding: 'latin1' });
  assert.is(r.status, 0, r.stderr);
  assert.ok(hex(r.stdout).endsWith('64 ff 20 78 0a'), hex(r.stdout));
});

test('more than 4,095 arguments and environment entries, and a 100 KB variable, work', () => {
  const args = shell(`"$1" "$2" run -n -q -- sh -c 'echo $#' sh $(seq 6000)`);
  assert.is(args.code, 0, args.stderr);
  assert.is(args.stdout.trim(), '6000');
  const vars = shell(`env $(seq 6000 | sed 's/^/SBXV/; s/$/=x/') "$1" "$2" run -n -q -- sh -c 'env | grep -c "^SBXV"'`);
  assert.is(vars.code, 0, vars.stderr);
  assert.is(vars.stdout.trim(), '6000');
  const big = shell(`BIG="$(head -c 100000 /dev/zero | tr '\\0' x)" "$1" "$2" run -n -q -- sh -c 'echo \${#BIG}'`);
  assert.is(big.code, 0, big.stderr);
  assert.is(big.stdout.trim(), '100000');
});

test('E2BIG from exec is one clear line with exit 126', () => {
  const e = describeFailure({ kind: 'exec-failed', errno: 7 }, ['make']);
  assert.is(e?.exitCode, 126);
  assert.match(e?.message ?? '', /^cannot execute make: its arguments and environment are larger than the kernel accepts \(E2BIG\)$/);
});

// Node reads argv as UTF-8, so `--hide /x/sec\xff` reached sbx as another path: nothing was
// hidden and the secret stayed readable. sbx's own arguments are refused unless UTF-8.
test("sbx's own options and operands that are not UTF-8 are refused in one line, never ignored", () => {
  const sec = join(dir, 'sec\xff');
  mkdirSync(Buffer.from(sec, 'latin1') as unknown as string, { mode: 0o755 });
  spawnSync('sh', ['-c', `printf TOPSECRET > "$(printf '%s/sec\\377/key' "$1")"`, 'sh', dir]);
  const D = `"$(printf '%s/sec\\377' "$3")"`;
  for (const [opt, form] of [['--hide', `--hide ${D}`], ['--hide=', `--hide=${D}`], ['--ro-bind', `--ro-bind ${D}:/mnt/x`], ['--bind', `--bind ${D}`], ['--policy', `--policy ${D}`], ['--device', `--device ${D}`]] as const) {
    const r = shell(`"$1" "$2" run -n -q ${form} -- cat ${D}/key`.replace(/"\$3"/g, `'${dir}'`));
    assert.is(r.code, 125, `${opt}: ${r.stderr}`);
    assert.not.match(r.stdout, /TOPSECRET/, opt);
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, r.stderr);
    assert.match(lines[0]!, new RegExp(`^sbx: error: ${opt}[ =]?${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/sec\\\\xff\\S*: not valid UTF-8`), opt);
  }
  const diff = shell(`"$1" "$2" diff someid "$(printf '%s/sec\\377' '${dir}')"`);
  assert.is(diff.code, 125, diff.stderr);
  assert.match(diff.stderr, /not valid UTF-8/);
  // The command's own arguments still pass as bytes; a U+FFFD typed as such is UTF-8.
  const cat = shell(`"$1" "$2" run -n -q -- cat "$(printf '%s/sec\\377/key' '${dir}')"`);
  assert.is(cat.code, 0, cat.stderr);
  assert.is(cat.stdout, 'TOPSECRET');
  const typed = shell(`"$1" "$2" run -n -q --hide '${dir}/x\u{fffd}' -- true`);
  assert.is(typed.code, 0, typed.stderr);
});

test('--hide of a path that is not there is said (a typo would leave the one meant visible)', () => {
  const absent = shell(`"$1" "$2" run -n --hide '${dir}/no-such' --hide '${dir}/no-dir/key' -- true`);
  assert.is(absent.code, 0, absent.stderr);
  assert.match(absent.stderr, new RegExp(`sbx: warning: --hide ${dir}/no-such: no such path here .*if it appears during the run it stays absent inside`));
  assert.match(absent.stderr, new RegExp(`sbx: warning: --hide ${dir}/no-dir/key: no such path here, nor its parent directory: nothing is hidden`));
  const there = shell(`"$1" "$2" run -n --hide '${dir}' -- true`);
  assert.is(there.code, 0, there.stderr);
  assert.not.match(there.stderr, /warning/);
});

// A value with a line break started a line of its own that sbx did not write.
test('a line break or escape in a name, a path or the command is escaped in the one line said', () => {
  const cases: Array<[string, RegExp]> = [
    [`commit "$(printf 'x\\033[31mred\\nline')"`, /^sbx: error: no sandbox called 'x\\x1b\[31mred\\nline' \(/],
    [`run -n -q --bind "$(printf '/tmp/x\\033[31mred\\nline')" -- true`, /^sbx: error: --bind \/tmp\/x\\x1b\[31mred\\nline: \/tmp\/x\\x1b\[31mred\\nline does not exist$/],
    [`run -q --name "$(printf 'bad\\nname')" -- true`, /^sbx: error: invalid sandbox name 'bad\\nname' \(/],
    [`run -n -q -- "$(printf '\\033[31mevil\\nline')"`, /^sbx: \\x1b\[31mevil\\nline: command not found inside the sandbox$/],
    [`run -n -q -- "$(printf '/tmp/\\377\\376')"`, /^sbx: \/tmp\/\\xff\\xfe: command not found inside the sandbox$/],
  ];
  for (const [args, want] of cases) {
    const r = shell(`"$1" "$2" ${args}`);
    assert.ok(r.code === 125 || r.code === 127, `${args}: ${r.code} ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr.trim(), want);
  }
});

test.run();
