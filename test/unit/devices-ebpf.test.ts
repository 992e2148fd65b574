import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Assembler, encodeInsns, decodeInsns, disassemble, type EInsn,
  BPF_W, BPF_H, BPF_DW, BPF_ALU64, BPF_MOV, BPF_ADD, BPF_RSH, BPF_AND, BPF_JNE, BPF_JEQ, BPF_JSET, BPF_JMP, BPF_CALL, BPF_STX, BPF_MEM,
  R0, R1, R2, R3, R10,
} from '../../policies/devices/ebpf.js';
import { compileDeviceProgram, v1AllowLines } from '../../policies/devices/compiler.js';
import { checkProgram, runDeviceProgram, runProgram } from '../../policies/devices/interpreter.js';
import { loadDevicePolicy, parseDevicePolicy, allowedByRules, type DeviceRule, type DeviceRequest } from '../../policies/devices/policy.js';
import { compileDevices } from '../../policies/devices/index.js';

const policy = loadDevicePolicy('default');
const prog = compileDeviceProgram(policy.rules);

const allowed = (p: readonly EInsn[], req: DeviceRequest): boolean => runDeviceProgram(p, req).ret === 1;

test('the default allowlist has the runc nodes with rwm', () => {
  const byPath = new Map(policy.rules.map((r) => [r.path, r]));
  const want: Array<[string, number, number | '*']> = [['/dev/null', 1, 3], ['/dev/zero', 1, 5], ['/dev/full', 1, 7], ['/dev/random', 1, 8], ['/dev/urandom', 1, 9], ['/dev/tty', 5, 0], ['/dev/ptmx', 5, 2], ['/dev/pts/*', 136, '*']];
  assert.is(policy.rules.length, want.length);
  for (const [path, major, minor] of want) {
    const r = byPath.get(path);
    assert.ok(r, path);
    assert.equal([r!.type, r!.major, r!.minor, r!.access], ['c', major, minor, 'rwm'], path);
  }
});

test('the compiled default program passes the checker and encodes to 8 bytes per instruction', () => {
  checkProgram(prog);
  const bytes = encodeInsns(prog);
  assert.is(bytes.length, prog.length * 8);
  assert.equal(decodeInsns(bytes), prog);
  assert.is(compileDevices(policy.rules).program.length, bytes.length);
});

test('allowlisted devices are allowed for read, write and mknod', () => {
  for (const [major, minor] of [[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 2], [136, 0], [136, 4095]] as const) {
    for (const access of ['r', 'w', 'rw', 'm', 'rwm']) {
      assert.ok(allowed(prog, { type: 'c', major, minor, access }), `c ${major}:${minor} ${access}`);
    }
  }
});

test('other devices are denied: block twins, neighbours, /dev/mem, disks, fuse, kvm', () => {
  const denied: DeviceRequest[] = [
    { type: 'b', major: 1, minor: 3, access: 'r' },    // same numbers, block
    { type: 'c', major: 1, minor: 1, access: 'r' },    // /dev/mem
    { type: 'c', major: 1, minor: 2, access: 'r' },    // /dev/kmem
    { type: 'c', major: 1, minor: 4, access: 'rw' },   // /dev/port
    { type: 'c', major: 1, minor: 11, access: 'w' },   // /dev/kmsg
    { type: 'b', major: 8, minor: 0, access: 'rw' },   // /dev/sda
    { type: 'b', major: 253, minor: 0, access: 'm' },  // /dev/vda, mknod
    { type: 'c', major: 10, minor: 229, access: 'rw' }, // /dev/fuse
    { type: 'c', major: 10, minor: 232, access: 'rw' }, // /dev/kvm
    { type: 'c', major: 5, minor: 1, access: 'rw' },   // /dev/console
    { type: 'c', major: 137, minor: 0, access: 'r' },  // a pts beyond 136:*
  ];
  for (const req of denied) assert.not.ok(allowed(prog, req), JSON.stringify(req));
});

test('rights are per letter: read-only and mknod-only rules', () => {
  const rules: DeviceRule[] = [
    { type: 'c', major: 10, minor: 229, access: 'r' },
    { type: 'b', major: '*', minor: '*', access: 'm' },
    { type: 'a', major: 4, minor: '*', access: 'rw' },
  ];
  const p = compileDeviceProgram(rules);
  checkProgram(p);
  const cases: Array<[DeviceRequest, boolean]> = [
    [{ type: 'c', major: 10, minor: 229, access: 'r' }, true],
    [{ type: 'c', major: 10, minor: 229, access: 'rw' }, false],
    [{ type: 'c', major: 10, minor: 229, access: 'w' }, false],
    [{ type: 'c', major: 10, minor: 229, access: 'm' }, false],
    [{ type: 'b', major: 8, minor: 1, access: 'm' }, true],
    [{ type: 'b', major: 8, minor: 1, access: 'r' }, false],
    [{ type: 'c', major: 8, minor: 1, access: 'm' }, false],
    [{ type: 'c', major: 4, minor: 64, access: 'rw' }, true],
    [{ type: 'b', major: 4, minor: 1, access: 'w' }, true],
    [{ type: 'b', major: 4, minor: 1, access: 'rwm' }, false],
  ];
  for (const [req, want] of cases) {
    assert.is(allowed(p, req), want, JSON.stringify(req));
    assert.is(allowedByRules(rules, req), want, `reference: ${JSON.stringify(req)}`);
  }
});

test('the program agrees with the allowlist on every combination of a grid', () => {
  const rules: DeviceRule[] = [...policy.rules, { type: 'c', major: 10, minor: 229, access: 'rw' }, { type: 'b', major: 7, minor: '*', access: 'r' }];
  const p = compileDeviceProgram(rules);
  checkProgram(p);
  let n = 0;
  for (const type of ['c', 'b'] as const) {
    for (const major of [0, 1, 4, 5, 7, 10, 136, 4095]) {
      for (const minor of [0, 1, 2, 3, 5, 7, 8, 9, 229, 1048575]) {
        for (const access of ['r', 'w', 'm', 'rw', 'rm', 'wm', 'rwm']) {
          const req = { type, major, minor, access };
          assert.is(allowed(p, req), allowedByRules(rules, req), JSON.stringify(req));
          n++;
        }
      }
    }
  }
  assert.is(n, 2 * 8 * 10 * 7);
});

test('instruction counts: a denied request walks every rule, an early match stops early', () => {
  const first = runDeviceProgram(prog, { type: 'c', major: 1, minor: 3, access: 'r' });
  const none = runDeviceProgram(prog, { type: 'c', major: 250, minor: 0, access: 'r' });
  const blockDenied = runDeviceProgram(prog, { type: 'b', major: 1, minor: 3, access: 'r' });
  // 6 preamble + type, access (unknown high bits are refused too), major, minor + mov + exit
  assert.is(first.steps, 6 + 4 + 2);
  assert.ok(none.steps > first.steps);
  // A block request fails the type check of each of the 8 rules at once.
  assert.is(blockDenied.steps, 6 + 8 + 2);
  assert.ok(prog.length < 64, `${prog.length} instructions`);
});

test('an empty allowlist denies everything', () => {
  const p = compileDeviceProgram([]);
  checkProgram(p);
  assert.is(p.length, 8);
  assert.not.ok(allowed(p, { type: 'c', major: 1, minor: 3, access: 'r' }));
});

test('v1 lines: "a" rules become c and b lines, never a bare "a"', () => {
  assert.equal(v1AllowLines([{ type: 'c', major: 1, minor: 3, access: 'rwm' }, { type: 'a', major: '*', minor: '*', access: 'm' }, { type: 'c', major: 136, minor: '*', access: 'rw' }]),
    ['c 1:3 rwm', 'c *:* m', 'b *:* m', 'c 136:* rw']);
  assert.ok(v1AllowLines(policy.rules).every((l) => /^c \d+:(\d+|\*) rwm$/.test(l)));
});

test('policy parsing rejects bad entries with the entry named', () => {
  const bad: Array<[unknown, RegExp]> = [
    [{ devices: [{ type: 'x', major: 1, minor: 3, access: 'r' }] }, /devices\[0\]: type/],
    [{ devices: [{ type: 'c', major: 4096, minor: 3, access: 'r' }] }, /major must be/],
    [{ devices: [{ type: 'c', major: 1, minor: -1, access: 'r' }] }, /minor must be/],
    [{ devices: [{ type: 'c', major: 1, minor: 3, access: 'rx' }] }, /access 'rx'/],
    [{ devices: [{ type: 'c', major: 1, minor: 3, access: 'rr' }] }, /at most once/],
    [{ devices: [{ type: 'c', major: 1, minor: 3, access: 'r', path: '/etc/x' }] }, /path must start/],
    [{ devices: [], extra: 1 }, /unknown key 'extra'/],
    [{}, /'devices' must be an array/],
  ];
  for (const [json, re] of bad) assert.throws(() => parseDevicePolicy(json, 't'), re);
  assert.is(parseDevicePolicy({ devices: [{ type: 'c', major: 1, minor: 3, access: 'mwr' }] }, 't').rules[0]!.access, 'rwm');
});

test('the checker refuses what the verifier refuses', () => {
  const ok = new Assembler().ldx(BPF_W, R2, R1, 0).mov64(R0, 0).exit().finish();
  checkProgram(ok);
  const cases: Array<[EInsn[], RegExp]> = [
    [new Assembler().exit().finish(), /r0 is read before it is set/],
    [new Assembler().ldx(BPF_W, R2, R1, 12).mov64(R0, 0).exit().finish(), /outside or misaligned/],
    [new Assembler().ldx(BPF_W, R2, R1, 2).mov64(R0, 0).exit().finish(), /misaligned/],
    [new Assembler().ldx(BPF_DW, R2, R1, 0).mov64(R0, 0).exit().finish(), /8-byte load/],
    [new Assembler().ldx(BPF_W, R2, R3, 0).mov64(R0, 0).exit().finish(), /r3 is read before/],
    [new Assembler().ldx(BPF_W, R2, R1, 0).ldx(BPF_W, R3, R2, 0).mov64(R0, 0).exit().finish(), /not the context pointer/],
    [new Assembler().alu64(BPF_ADD, R1, 4).mov64(R0, 0).exit().finish(), /arithmetic on a pointer/],
    [new Assembler().label('top').mov64(R0, 0).jmp(BPF_JEQ, R0, 0, 'top').exit().finish(), /backwards/],
    [new Assembler().mov64(R0, 0).finish(), /falls off the end/],
    [new Assembler().raw({ code: BPF_JMP | BPF_CALL, dst: 0, src: 0, off: 0, imm: 1 }).mov64(R0, 0).exit().finish(), /helper calls/],
    [new Assembler().raw({ code: BPF_STX | BPF_MEM | BPF_W, dst: R10, src: R1, off: -4, imm: 0 }).mov64(R0, 0).exit().finish(), /stores/],
    [new Assembler().mov64(R10, 0).mov64(R0, 0).exit().finish(), /r10 is read-only/],
    [new Assembler().alu64(BPF_MOV, R0, 1).alu64x(BPF_MOV, R0, R1).exit().finish(), /r0 is not a number/],
    // r0 is set on one path only.
    [new Assembler().ldx(BPF_W, R2, R1, 0).jmp(BPF_JEQ, R2, 0, 'out').mov64(R0, 1).label('out').exit().finish(), /r0 is read before/],
  ];
  for (const [p, re] of cases) assert.throws(() => checkProgram(p), re, disassemble(p));
});

test('interpreter semantics: narrow loads, 32-bit ALU zero-extends, jset', () => {
  const ctx = Buffer.from([0x02, 0x00, 0x06, 0x00, 0x34, 0x12, 0, 0, 0xff, 0xff, 0x0f, 0]);
  const p = new Assembler()
    .ldx(BPF_H, R2, R1, 4)            // 0x1234
    .ldx(BPF_W, R3, R1, 0)            // 0x00060002
    .alu64(BPF_RSH, R3, 16)           // 6
    .jmp(BPF_JSET, R3, 4, 'w')
    .mov64(R0, 99).exit()
    .label('w')
    .alu64x(BPF_MOV, R0, R2)
    .raw({ code: 0x04 | BPF_ADD, dst: R0, src: 0, off: 0, imm: -0x1234 }) // 32-bit add wraps to 0
    .alu64(BPF_AND, R0, 0xff)
    .jmp(BPF_JNE, R0, 0, 'bad')
    .mov64(R0, 7).exit()
    .label('bad').mov64(R0, 1).exit()
    .finish();
  checkProgram(p);
  assert.equal(runProgram(p, ctx), { ret: 7, steps: 10 });
  assert.match(disassemble(p), /r2 = \*\(u16 \*\)\(r1 \+ 4\)/);
  assert.ok(BPF_ALU64 === 7);
});

test.run();
