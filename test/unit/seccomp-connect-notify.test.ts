// --allow-net's direct path: connect(2) becomes a user notification where the policy lets it
// through, and nowhere else; every other syscall's answer is unchanged.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../../policies/seccomp/compiler.js';
import { loadPolicy, withConnectNotify } from '../../policies/seccomp/index.js';
import { parsePolicy } from '../../policies/seccomp/policy.js';
import type { ResolvedPolicy } from '../../policies/seccomp/load.js';
import { checkFilter, runFilter } from '../../policies/seccomp/interpreter.js';
import { AUDIT, ALLOW, errnoRet, TABLES, type Arch } from './seccomp-reference.js';

const USER_NOTIF = 0x7fc00000;
const ARCHES: Arch[] = ['x86_64', 'aarch64'];

const retOf = (p: ResolvedPolicy, arch: Arch, name: string, args: bigint[] = []) => {
  const { program } = compile(p, arch);
  checkFilter(program);
  return runFilter(program, { nr: (TABLES[arch] as Record<string, number>)[name]!, arch: AUDIT[arch], args }).ret;
};

function policyOf(json: unknown): ResolvedPolicy {
  const { policy, problems } = parsePolicy(json, 'test.json');
  if (!policy) throw new Error(problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return { name: 'test', description: policy.description, defaultAction: policy.defaultAction!, rules: policy.rules, chain: ['test.json'] };
}

test('the shipped policies: connect notifies where it was allowed, the rest is as before', () => {
  for (const name of ['default', 'strict', 'permissive']) {
    const plain = loadPolicy(name);
    const notified = withConnectNotify(plain);
    for (const arch of ARCHES) {
      const before = retOf(plain, arch, 'connect');
      assert.is(retOf(notified, arch, 'connect'), before === ALLOW ? USER_NOTIF : before, `${name} ${arch} connect`);
      for (const other of ['socket', 'sendmsg', 'recvmsg', 'bind', 'accept4', 'read', 'close', 'listen']) {
        assert.is(retOf(notified, arch, other, [2n, 1n, 0n]), retOf(plain, arch, other, [2n, 1n, 0n]), `${name} ${arch} ${other}`);
      }
    }
  }
  assert.is(retOf(withConnectNotify(loadPolicy('default')), 'x86_64', 'connect'), USER_NOTIF);
  // io_uring connects without connect(2): never allowed beside the notification.
  for (const name of ['default', 'strict', 'permissive']) {
    for (const arch of ARCHES) assert.not.equal(retOf(withConnectNotify(loadPolicy(name)), arch, 'io_uring_setup'), ALLOW, `${name} ${arch}`);
  }
  assert.is(retOf(withConnectNotify(policyOf({ version: 1, description: 't', defaultAction: 'allow', rules: [] })), 'x86_64', 'io_uring_setup'), errnoRet(38));
});

test('a policy that refuses connect keeps refusing it; a default allow gets the notification', () => {
  const refusing = policyOf({ version: 1, description: 't', defaultAction: 'allow', rules: [{ syscalls: ['connect', 'bind'], action: { errno: 'EPERM' } }] });
  assert.is(retOf(withConnectNotify(refusing), 'x86_64', 'connect'), errnoRet(1));
  const open = policyOf({ version: 1, description: 't', defaultAction: 'allow', rules: [] });
  assert.is(retOf(withConnectNotify(open), 'x86_64', 'connect'), USER_NOTIF);
  assert.is(retOf(withConnectNotify(open), 'x86_64', 'bind'), ALLOW);
  const shared = policyOf({ version: 1, description: 't', defaultAction: { errno: 'ENOSYS' }, rules: [{ syscalls: ['connect', 'bind'], action: 'allow' }] });
  assert.is(retOf(withConnectNotify(shared), 'aarch64', 'connect'), USER_NOTIF);
  assert.is(retOf(withConnectNotify(shared), 'aarch64', 'bind'), ALLOW);
});

test('a policy file cannot ask for the notification itself', () => {
  const { policy } = parsePolicy({ version: 1, description: 't', defaultAction: 'notify', rules: [] }, 'test.json');
  assert.is(policy, undefined);
});

test.run();
