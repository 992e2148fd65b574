import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type Insn, stmt, jump, encode, decode,
  BPF_LD, BPF_LDX, BPF_ST, BPF_ALU, BPF_JMP, BPF_RET, BPF_MISC, BPF_W, BPF_ABS, BPF_IMM, BPF_MEM, BPF_LEN,
  BPF_K, BPF_X, BPF_A, BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD,
  BPF_JA, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_TAX, BPF_TXA,
} from '../../policies/seccomp/bpf.js';
import { checkFilter, runFilter, decodeAction } from '../../policies/seccomp/interpreter.js';

const ret = (k: number): Insn => stmt(BPF_RET | BPF_K, k);
const ldAbs = (k: number): Insn => stmt(BPF_LD | BPF_W | BPF_ABS, k);
const data = { nr: 59, arch: 0xc000003e, instructionPointer: 0x1122334455667788n, args: [0x0000000100000002n, 0xffffffffffffffffn, 7n] };

test('loads every word of seccomp_data in little-endian order', () => {
  const expect: Array<[number, number]> = [[0, 59], [4, 0xc000003e], [8, 0x55667788], [12, 0x11223344], [16, 2], [20, 1], [24, 0xffffffff], [28, 0xffffffff], [32, 7], [36, 0], [60, 0]];
  for (const [off, want] of expect) {
    const prog = [ldAbs(off), stmt(BPF_RET | BPF_A, 0)];
    checkFilter(prog);
    assert.is(runFilter(prog, data).ret, want, `offset ${off}`);
  }
});

test('conditional jumps take jt or jf and count executed instructions', () => {
  const prog = [ldAbs(0), jump(BPF_JMP | BPF_JEQ | BPF_K, 59, 1, 0), ret(1), ret(2)];
  checkFilter(prog);
  assert.equal(runFilter(prog, data), { ret: 2, steps: 3 });
  assert.equal(runFilter(prog, { ...data, nr: 60 }), { ret: 1, steps: 3 });
  const ops: Array<[number, number, boolean]> = [[BPF_JGT, 58, true], [BPF_JGT, 59, false], [BPF_JGE, 59, true], [BPF_JGE, 60, false], [BPF_JSET, 0x08, true], [BPF_JSET, 0x04, false]];
  for (const [op, k, taken] of ops) {
    const p = [ldAbs(0), jump(BPF_JMP | op | BPF_K, k, 1, 0), ret(0), ret(1)];
    assert.is(runFilter(p, data).ret, taken ? 1 : 0, `op 0x${op.toString(16)} k ${k}`);
  }
  const ja = [stmt(BPF_JMP | BPF_JA, 1), ret(5), ret(6)];
  checkFilter(ja);
  assert.is(runFilter(ja, data).ret, 6);
});

test('ALU, X register, scratch memory and return A', () => {
  const prog = [
    stmt(BPF_LD | BPF_IMM, 10), stmt(BPF_LDX | BPF_IMM, 3),
    stmt(BPF_ALU | BPF_ADD | BPF_X, 0), // 13
    stmt(BPF_ALU | BPF_MUL | BPF_K, 3), // 39
    stmt(BPF_ALU | BPF_SUB | BPF_K, 4), // 35
    stmt(BPF_ALU | BPF_DIV | BPF_K, 2), // 17
    stmt(BPF_ALU | BPF_OR | BPF_K, 0x100), // 0x111
    stmt(BPF_ALU | BPF_AND | BPF_K, 0x1f0), // 0x110
    stmt(BPF_ALU | BPF_XOR | BPF_K, 0x10), // 0x100
    stmt(BPF_ALU | BPF_LSH | BPF_K, 4), // 0x1000
    stmt(BPF_ALU | BPF_RSH | BPF_K, 8), // 0x10
    stmt(BPF_ST, 3), stmt(BPF_LD | BPF_IMM, 0), stmt(BPF_LDX | BPF_MEM, 3), stmt(BPF_MISC | BPF_TXA, 0),
    stmt(BPF_ALU | BPF_NEG, 0), stmt(BPF_MISC | BPF_TAX, 0), stmt(BPF_LD | BPF_W | BPF_LEN, 0),
    stmt(BPF_ALU | BPF_ADD | BPF_X, 0), // 64 + (-16) = 48
    stmt(BPF_RET | BPF_A, 0),
  ];
  checkFilter(prog);
  assert.is(runFilter(prog, data).ret, 48);
});

test('division by zero in X ends the program with 0, like the kernel', () => {
  const prog = [stmt(BPF_LD | BPF_IMM, 5), stmt(BPF_LDX | BPF_IMM, 0), stmt(BPF_ALU | BPF_DIV | BPF_X, 0), ret(0x7fff0000)];
  checkFilter(prog);
  assert.is(runFilter(prog, data).ret, 0);
});

test('checkFilter refuses what the kernel refuses', () => {
  const bad: Array<[string, Insn[], RegExp]> = [
    ['empty', [], /empty/],
    ['no final return', [ldAbs(0)], /not a return/],
    ['jump past the end', [ldAbs(0), jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 5, 0), ret(0)], /past the end/],
    ['ja past the end', [stmt(BPF_JMP | BPF_JA, 3), ret(0)], /past the end/],
    ['unaligned load', [ldAbs(2), ret(0)], /aligned/],
    ['load past seccomp_data', [ldAbs(64), ret(0)], /aligned/],
    ['byte load', [stmt(BPF_LD | 0x10 | BPF_ABS, 0), ret(0)], /load mode/],
    ['memory read before write', [stmt(BPF_LD | BPF_MEM, 2), ret(0)], /before it is written/],
    ['memory slot out of range', [stmt(BPF_ST, 16), ret(0)], /out of range/],
    ['division by constant zero', [stmt(BPF_ALU | BPF_DIV | BPF_K, 0), ret(0)], /division/],
    ['modulo (not allowed in seccomp)', [stmt(BPF_ALU | BPF_MOD | BPF_K, 3), ret(0)], /not allow/],
    ['too long', [...Array.from({ length: 4096 }, () => stmt(BPF_LD | BPF_IMM, 0)), ret(0)], /at most 4096/],
  ];
  for (const [what, prog, re] of bad) {
    assert.throws(() => checkFilter(prog), re, what);
  }
  // A slot written on only one of two paths may not be read after they join.
  const onePath = [ldAbs(0), jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1), stmt(BPF_ST, 0), stmt(BPF_LD | BPF_MEM, 0), ret(0)];
  assert.throws(() => checkFilter(onePath), /before it is written/);
  const bothPaths = [stmt(BPF_ST, 0), ldAbs(0), jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0), stmt(BPF_LD | BPF_MEM, 0), ret(0)];
  checkFilter(bothPaths);
});

test('encode writes struct sock_filter little-endian and decode reads it back', () => {
  const prog = [jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0x12, 0x34), ret(0x7fff0000)];
  const bytes = encode(prog);
  assert.is(bytes.toString('hex'), '3500123400000040' + '0600000000007f7f'.replace('7f7f', 'ff7f'));
  assert.equal(decode(bytes), prog);
  assert.throws(() => decode(Buffer.alloc(7)), /multiple of 8/);
});

test('decodeAction names every seccomp action', () => {
  assert.equal(decodeAction(0x7fff0000), { kind: 'allow', data: 0 });
  assert.equal(decodeAction(0x00050001), { kind: 'errno', data: 1 });
  assert.equal(decodeAction(0x80000000), { kind: 'kill-process', data: 0 });
  assert.equal(decodeAction(0), { kind: 'kill-thread', data: 0 });
  assert.equal(decodeAction(0x00030000), { kind: 'trap', data: 0 });
  assert.equal(decodeAction(0x7ffc0000), { kind: 'log', data: 0 });
  assert.equal(decodeAction(0x12340000).kind, 'kill-process');
});

test.run();
