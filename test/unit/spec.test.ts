import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSpec, OP_ARITY, type SpecOp } from '../../sandbox-core/spec.js';
import { spawnSync } from 'node:child_process';
import { parseStatusLines } from '../../sandbox-core/launch.js';
import { helperPath } from '../../sandbox-core/helper.js';
import { entryOp } from '../../sandbox-core/layer-dirs.js';
import { REPO } from '../helpers/sbx.js';

test('netstrings: op then its arguments, binary safe', () => {
  const b = encodeSpec([{ op: 'mkdir', args: ['/a b', '755'] }, { op: 'seccomp', args: [Buffer.from([0, 1, 2, 0, 0, 0, 0, 0])] }]);
  const expected = Buffer.concat([
    Buffer.from('7:version,1:1,5:mkdir,4:/a b,3:755,7:seccomp,8:'), Buffer.from([0, 1, 2, 0, 0, 0, 0, 0]), Buffer.from(','),
  ]);
  assert.equal(b, expected);
});

test('lengths count bytes: UTF-8 text and raw bytes between texts', () => {
  const raw = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // Latin-1 'café', not UTF-8: kept as bytes
  const b = encodeSpec([{ op: 'arg', args: ['café ✓'] }, { op: 'arg', args: [raw] }, { op: 'arg', args: ['x'] }]);
  assert.equal(b, Buffer.concat([Buffer.from('7:version,1:1,3:arg,9:café ✓,3:arg,4:'), raw, Buffer.from(',3:arg,1:x,')]));
  assert.throws(() => encodeSpec([{ op: 'arg', args: [Buffer.from([0x61, 0])] }]), /NUL/);
});

test('each string is measured in UTF-8 bytes, whatever its length and characters (ASCII is written first, the rest again)', () => {
  const netstring = (v: string): Buffer => { const b = Buffer.from(v, 'utf8'); return Buffer.concat([Buffer.from(`${b.length}:`), b, Buffer.from(',')]); };
  const cases = ['', 'a', 'x'.repeat(9), 'x'.repeat(10), 'x'.repeat(99), 'x'.repeat(100), 'é', 'é'.repeat(40), 'ab✓'.repeat(33),
    '\u{1F600}', 'a\u{1F600}'.repeat(30), 'lone \ud800 high', 'lone low \udc00', '\ud800', 'x'.repeat(40000), 'é'.repeat(30000), `${'x'.repeat(20000)}é`,
    'x'.repeat(4096), `${'x'.repeat(4095)}é`, 'x'.repeat(4097), `é${'x'.repeat(4096)}`];
  const b = encodeSpec(cases.map((v) => ({ op: 'arg', args: [v] })));
  assert.equal(b, Buffer.concat([netstring('version'), netstring('1'), ...cases.flatMap((v) => [netstring('arg'), netstring(v)])]));
});

test('flag lists are typed literals on this side and comma lists on the wire', () => {
  const b = encodeSpec([{ op: 'bind', args: ['/a', '/b', ['ro', 'rec']] }, { op: 'tmpfs', args: ['/t', 'size=0', []] }]);
  assert.is(b.toString(), '7:version,1:1,4:bind,2:/a,2:/b,6:ro,rec,5:tmpfs,2:/t,6:size=0,0:,');
  // @ts-expect-error an unknown flag does not compile
  const bad: SpecOp = { op: 'bind', args: ['/a', '/b', ['bogus']] };
  // @ts-expect-error nor does a flag of another op
  const other: SpecOp = { op: 'tmpfs', args: ['/a', '', ['rec']] };
  assert.ok(bad && other);
});

test('wrong arity, unknown ops and NUL bytes are refused before the helper sees them', () => {
  // The types already refuse these; the casts stand for callers outside the type system.
  assert.throws(() => encodeSpec([{ op: 'mkdir', args: ['/a'] } as unknown as SpecOp]), /takes 2/);
  assert.throws(() => encodeSpec([{ op: 'nope', args: [] } as unknown as SpecOp]), /unknown/);
  assert.throws(() => encodeSpec([{ op: 'arg', args: ['a\0b'] }]), /NUL/);
});

test('the TypeScript op table matches the C one', () => {
  const c = readFileSync(join(REPO, 'native', 'spec.c'), 'utf8');
  const table = new Map([...c.matchAll(/\{"([a-z_]+)", (\d+)\}/g)].map((m) => [m[1]!, Number(m[2])]));
  assert.equal(Object.fromEntries(table), OP_ARITY);
});

function helperWith(spec: Buffer) {
  const r = spawnSync(helperPath(), ['run', '0', '2'], { input: spec, encoding: 'latin1' });
  return { status: r.status, parsed: parseStatusLines(r.stderr) };
}

test('the helper rejects malformed specs with a clear error and exit 125', () => {
  const cases: Array<[Buffer, RegExp]> = [
    [Buffer.from(''), /version 1/],
    [Buffer.from('7:version,1:2,'), /version 1/],
    [Buffer.from('7:version,1:1,99:arg,'), /truncated/],
    [Buffer.from('7:version,1:1,4:nope,'), /unknown op/],
    [Buffer.from('7:version,1:1,3:arg,1:x'), /unterminated|truncated/],
    [Buffer.from('7:version,1:1,x'), /expected/],
    [Buffer.from('7:version,1:1,3:cwd,1:/,'), /no command/],
    [Buffer.from('7:version,1:1,7:seccomp,3:abc,3:cwd,1:/,3:arg,4:true,'), /multiple of 8/],
    [Buffer.from('7:version,1:1,99999999999999:x,'), /length too long|truncated/],
  ];
  for (const [spec, re] of cases) {
    const { status, parsed } = helperWith(spec);
    assert.is(status, 125, spec.toString());
    assert.is(parsed.outcome?.kind, 'setup-failed');
    assert.match((parsed.outcome as { message: string }).message ?? '', re);
  }
});

function netstrings(...fields: string[]): Buffer {
  return Buffer.from(fields.map((f) => `${Buffer.byteLength(f)}:${f},`).join(''));
}

test('the helper checks flags and numbers once, strictly, before applying anything', () => {
  const tail = ['cwd', '/', 'arg', 'true'];
  const cases: Array<[string[], RegExp]> = [
    [['mkdir', '/a', '9ab'], /'mkdir': bad mode/],
    [['mkdir', '/a', '10000'], /'mkdir': bad mode/],
    [['chmod', '/a', ' 755'], /'chmod': bad mode/],
    [['chown', '/a', '-1', '0'], /'chown': bad uid or gid/],
    [['chown', '/a', '0', '4294967295'], /'chown': bad uid or gid/],
    [['setid', '0x1', '0'], /'setid': bad setid/],
    [['rlimit', 'cpu', '-1', 'inf'], /'rlimit': bad rlimit/],
    [['rlimit', 'nosuch', '1', '1'], /'rlimit': bad rlimit/],
    [['disk_tmpfs', '/tmp/d', '1,nr_inodes=1'], /'disk_tmpfs': bad disk size/],
    [['bind', '/a', '/b', 'ro,bogus'], /'bind': unknown flag 'bogus'/],
    [['bind', '/a', '/b', 'noexec'], /'bind': unknown flag 'noexec'/],
    [['tmpfs', '/a', 'size=0', 'rec'], /'tmpfs': unknown flag 'rec'/],
    [['overlay', '/a', '/a', '/u', '/w', '', 'ro'], /'overlay': unknown flag 'ro'/],
    [['setgroups', 'maybe'], /setgroups must be deny or allow/],
    [['caps', 'ff', '0', '0', ' 1'], /'caps': bad capability mask/],
    [['caps', 'ff', '0', '0', '-1'], /'caps': bad capability mask/],
    [['relay_stdio', '1,1'], /'relay_stdio': relay_stdio takes distinct fds/],
    [['relay_stdio', '12'], /'relay_stdio': relay_stdio takes distinct fds/],
    [['relay_stdio', '2+1'], /'relay_stdio': relay_stdio takes distinct fds/],
    [['relay_stdio', '0+1'], /'relay_stdio': relay_stdio takes distinct fds/],
    [['relay_stdio', '1+2,2'], /'relay_stdio': relay_stdio takes distinct fds/],
    [['relay_stdio', '1+'], /'relay_stdio': relay_stdio takes distinct fds/],
    [['relay_stdio', '1+2+'], /'relay_stdio': relay_stdio takes distinct fds/],
    [['net_relay', '/tmp', 's', '3128', '4095'], /'net_relay': net_relay takes DIR NAME PORT BUFFER/],
    [['net_relay', '/tmp', 's', '3128', String((64 << 20) + 1)], /'net_relay': net_relay takes DIR NAME PORT BUFFER/],
    [['net_relay', '/tmp', 's', '3128', ''], /'net_relay': net_relay takes DIR NAME PORT BUFFER/],
    [['version', '1'], /version may only come first/],
  ];
  for (const [op, re] of cases) {
    const { status, parsed } = helperWith(netstrings('version', '1', ...op, ...tail));
    assert.is(status, 125, op.join(' '));
    assert.match((parsed.outcome as { message: string }).message ?? '', re, op.join(' '));
  }
});

test('newuidmap and newgidmap run side by side; a failure of either is said as its own step', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-spec-'));
  try {
    // The uid tool waits (5 s at most) for the gid tool to have started: run one after the
    // other, it would wait in vain and fail.
    const mark = join(dir, 'gid-started');
    const uidTool = (code: number): string => {
      const f = join(dir, `uid-${code}`);
      writeFileSync(f, `#!/bin/sh\ni=0\nwhile [ ! -e '${mark}' ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done\n[ -e '${mark}' ] || exit 9\nexit ${code}\n`, { mode: 0o755 });
      return f;
    };
    const gidTool = (code: number): string => {
      const f = join(dir, `gid-${code}`);
      writeFileSync(f, `#!/bin/sh\n: > '${mark}'\nexit ${code}\n`, { mode: 0o755 });
      return f;
    };
    const run = (u: string, g: string) => {
      rmSync(mark, { force: true });
      const spec = netstrings('version', '1', 'newuidmap', u, '0 0 1', 'newgidmap', g, '0 0 1', 'cwd', '/', 'arg', '/bin/true');
      const r = spawnSync(helperPath(), ['run', '0', '4'], { input: spec, stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'], encoding: 'latin1' });
      return parseStatusLines(String(r.output[4] ?? '')).outcome;
    };
    assert.equal(run(uidTool(0), gidTool(0)), { kind: 'exited', code: 0 });
    assert.equal(run(uidTool(1), gidTool(0)), { kind: 'setup-failed', step: 'uid-map', errno: 1, path: join(dir, 'uid-1'), message: null });
    assert.equal(run(uidTool(0), gidTool(1)), { kind: 'setup-failed', step: 'gid-map', errno: 1, path: join(dir, 'gid-1'), message: null });
    assert.equal(run(uidTool(1), gidTool(1)), { kind: 'setup-failed', step: 'uid-map', errno: 1, path: join(dir, 'uid-1'), message: null });
    // A tool that cannot be run is said with the exec's own errno (posix_spawn reports it).
    const plain = join(dir, 'not-executable'), ok = join(dir, 'ok');
    writeFileSync(plain, '#!/bin/sh\n', { mode: 0o644 });
    writeFileSync(ok, '#!/bin/sh\n', { mode: 0o755 });
    assert.equal(run(join(dir, 'missing'), gidTool(0)), { kind: 'setup-failed', step: 'uid-map', errno: 2, path: join(dir, 'missing'), message: null });
    assert.equal(run(ok, plain), { kind: 'setup-failed', step: 'gid-map', errno: 13, path: plain, message: null });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with newuidmap and newgidmap the layer dirs are made while they run; a failure there still stops the sandbox before its command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-spec-'));
  try {
    const layers = join(dir, 'layers');
    mkdirSync(layers);
    const started = join(dir, 'uid-started'), ran = join(dir, 'command-ran');
    const uidTool = join(dir, 'uid'), gidTool = join(dir, 'gid');
    // The uid tool waits (5 s at most) for the layer dir: the helper makes it while the tools run.
    writeFileSync(uidTool, `#!/bin/sh\n: > '${started}'\ni=0\nwhile [ ! -d '${layers}/L0' ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done\n[ -d '${layers}/L0' ]\n`, { mode: 0o755 });
    writeFileSync(gidTool, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const run = (entries: SpecOp[]) => {
      rmSync(started, { force: true });
      const spec = encodeSpec([
        { op: 'newuidmap', args: [uidTool, '0 0 1'] }, { op: 'newgidmap', args: [gidTool, '0 0 1'] },
        { op: 'layers_dir', args: [layers] }, ...entries,
        { op: 'cwd', args: ['/'] }, { op: 'arg', args: ['/bin/sh'] }, { op: 'arg', args: ['-c'] }, { op: 'arg', args: [`: > '${ran}'`] },
      ]);
      const r = spawnSync(helperPath(), ['run', '0', '4'], { input: spec, stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'], encoding: 'latin1' });
      return parseStatusLines(String(r.output[4] ?? '')).outcome;
    };
    assert.equal(run([entryOp('dir', 'L0')]), { kind: 'exited', code: 0 });
    assert.ok(existsSync(ran), 'the command ran');
    rmSync(ran);
    // An entry that cannot be made (a symlink planted on its way): the tools had been started
    // (the sandbox's pid 1 existed), the step is the entry's, and pid 1 never ran the command.
    symlinkSync(dir, join(layers, 'P'));
    const o = run([entryOp('dir', 'P/upper')]);
    assert.equal(o, { kind: 'setup-failed', step: 'entry-parent', errno: 40, path: `${layers}/P/upper`, message: null });
    assert.ok(existsSync(started), 'the uid tool was started before the entries');
    assert.not.ok(existsSync(ran), 'the command did not run');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the status channel is not inherited by programs the helper runs (newuidmap)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-spec-'));
  try {
    // Stands in for newuidmap: fails when it can see the helper's status fd (4).
    const tool = join(dir, 'fake-newuidmap');
    writeFileSync(tool, '#!/bin/sh\n[ -e /proc/$$/fd/4 ] && exit 3\nexit 0\n', { mode: 0o755 });
    const spec = netstrings('version', '1', 'newuidmap', tool, '0 0 1', 'cwd', '/', 'arg', '/bin/true');
    const r = spawnSync(helperPath(), ['run', '0', '4'], { input: spec, stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'], encoding: 'latin1' });
    const parsed = parseStatusLines(String(r.output[4] ?? ''));
    assert.equal(parsed.outcome, { kind: 'exited', code: 0 }, String(r.output[4]));
    assert.is(r.status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('status lines: escapes decoded, last outcome wins, fallbacks collected', () => {
  const p = parseStatusLines('warn overlay 22 /mnt/a\\x20b\nwarn bind 2 /tmp/cc\\x0a.o\nstarted 2\nexit 3\n');
  assert.equal(p.outcome, { kind: 'exited', code: 3 });
  assert.equal(p.fallbacks, [{ errno: 22, path: '/mnt/a b' }]);
  assert.equal(p.vanished, ['/tmp/cc\n.o']);
  assert.ok(p.started);
  assert.equal(parseStatusLines('error overlay 13 /usr\n').outcome, { kind: 'setup-failed', step: 'overlay', errno: 13, path: '/usr', message: null });
});

test('status lines: the copies the helper made and reported, with their inode and ctime as Stats computes it', () => {
  // A UTF-8 name (é) comes escaped byte by byte; the ctime is seconds and nanoseconds.
  const p = parseStatusLines('entry-made 4242 1796200259 348169000 L020/upper/lib/dpkg/lock\nentry-made 7 5 1 L002/upper/caf\\xc3\\xa9 x\nstarted 2\nexit 0\n');
  assert.equal(p.entriesMade, [
    { rel: 'L020/upper/lib/dpkg/lock', ino: 4242, ctimeMs: 1796200259 * 1e3 + 348169000 / 1e6 },
    { rel: 'L002/upper/café x', ino: 7, ctimeMs: 5 * 1e3 + 1 / 1e6 },
  ]);
  assert.equal(parseStatusLines('started 2\nexit 0\n').entriesMade, []);
});

test('status lines: a --disk copy-back is complete only when the helper says so', () => {
  const ok = parseStatusLines('started 2\nsignal 9\ndisk-copied 3\n');
  assert.ok(ok.diskCopied);
  assert.equal(ok.outcome, { kind: 'signaled', signal: 9 });
  const failed = parseStatusLines('started 2\nexit 0\ndisk-copy-failed 28 L003/upper/a\\x0ab\n');
  assert.not.ok(failed.diskCopied);
  assert.equal(failed.diskCopyFailures, [{ errno: 28, path: 'L003/upper/a\nb' }]);
  assert.not.ok(parseStatusLines('started 2\nexit 0\n').diskCopied);
});


test('launch: the spec and status files are unnamed at once, a stale name of this pid is replaced, and the status is read from its start', async () => {
  const { unnamedFile, readStatus } = await import('../../sandbox-core/launch.js');
  const { Dir } = await import('../../sandbox-core/beneath.js');
  const { closeSync, readdirSync, writeSync, readSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'sbx-launch-files-'));
  try {
    // A crashed sbx of the same pid left its name behind.
    writeFileSync(join(dir, `.status.${process.pid}`), 'stale\n');
    const d = Dir.open(dir);
    let spec = -1, status = -1;
    try {
      spec = unnamedFile(d, 'spec', false);
      status = unnamedFile(d, 'status', true);
    } finally {
      d.close();
    }
    try {
      assert.equal(readdirSync(dir), [], 'no name is left for anyone to find');
      // The spec is written at offset 0 without moving the offset the helper reads from.
      writeSync(spec, Buffer.from('7:version,1:1,'), 0, 14, 0);
      const b = Buffer.alloc(14);
      assert.is(readSync(spec, b, 0, 14, null), 14, 'read from the shared offset: the whole spec');
      // Appends (the helper's writes) leave our offset at the end; the status is still read whole.
      writeSync(status, 'started 5\n');
      writeSync(status, 'exit 0\n');
      assert.is(readStatus(status), 'started 5\nexit 0\n');
      assert.equal(parseStatusLines(readStatus(status)).outcome, { kind: 'exited', code: 0 });
    } finally {
      if (spec >= 0) closeSync(spec);
      if (status >= 0) closeSync(status);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('status lines: the processes a command left running, counted and named as the helper escaped them', () => {
  const p = parseStatusLines('started 2\nbackground 4\nbackground-name sleep\nbackground-name ev\\x1b[31m\\xc3\\xa9\nbackground-name a b\nexit 0\n');
  assert.equal(p.background, { count: 4, names: ['sleep', 'ev\x1b[31m\u00e9', 'a b'] });
  assert.equal(p.outcome, { kind: 'exited', code: 0 });
  assert.is(parseStatusLines('exit 0\n').background, null);
  // A count that is no count says nothing.
  assert.is(parseStatusLines('background x\nbackground-name sleep\nexit 0\n').background, null);
});

test.run();
