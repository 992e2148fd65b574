// Real sandboxes, as root and as an unprivileged user: a command sets a POSIX ACL that grants
// another user or group access (`setfacl -m u:1000:rw f`, a default ACL on a dir, an ACL on a
// new file). Either commit writes that ACL (a file's owner may name any id in it), so the
// review flags it like an entry given away, by the ids the sandbox saw (the layer holds them
// shifted): a grant to root, the reviewer or the entry's owner is not another's, nor is an
// entry that grants nothing or one the host already had; a mask of --- does not hide one.
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { IS_ROOT, proveIsolation, sbx as run, type SbxResult, canary, storeAndCanary } from '../helpers/sbx.js';
import { ROOT_CASE, USER_CASE, testUnless } from '../helpers/skip.js';
import { flaggedLines } from '../helpers/flagged.js';
import { aclEntryText, parseAcl } from '../../sandbox-core/changes/acl.js';

const store = storeAndCanary();
const sbx = (args: string[]): SbxResult => run(args, { store, timeoutMs: 300_000 });
const WHY = 'ACL grants another user or group access (which they keep after the commit)';
const TRAILER = (n: number): string => n === 1 ? '! 1 change marked ! (code that runs later, or access for others): review it before keeping' : `! ${n} changes marked ! (code that runs later, or access for others): review them before keeping`;

const U = 0xffffffff;
const ACCESS = 'system.posix_acl_access', DEFAULT = 'system.posix_acl_default';
/**
 * An ACL's value as setfacl writes it: the owner's, `named` ([tag 'u' | 'g', id, perm]), the
 * group's, the mask and other's entries, in the kernel's order.
 */
function acl(named: Array<['u' | 'g', number, number]>, mask = 7): string {
  const entries: Array<[number, number, number]> = [[1, 6, U], ...named.filter((n) => n[0] === 'u').map(([, id, p]): [number, number, number] => [2, p, id]),
    [4, 4, U], ...named.filter((n) => n[0] === 'g').map(([, id, p]): [number, number, number] => [8, p, id]), [0x10, mask, U], [0x20, 4, U]];
  const b = Buffer.alloc(4 + entries.length * 8);
  b.writeUInt32LE(2, 0);
  entries.forEach(([tag, perm, id], i) => { b.writeUInt16LE(tag, 4 + i * 8); b.writeUInt16LE(perm, 6 + i * 8); b.writeUInt32LE(id, 8 + i * 8); });
  return b.toString('hex');
}
/** A python3 program that sets each [path, xattr name, hex value] (run inside, or on the host to set up). */
const setAcls = (items: Array<[string, string, string]>): string[] =>
  ['python3', '-c', `import os\n${items.map(([p, n, h]) => `os.setxattr(${JSON.stringify(p)}, '${n}', bytes.fromhex('${h}'))`).join('\n')}`];
function hostAcl(path: string, name: string): string[] {
  const r = spawnSync('python3', ['-c', 'import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2]).hex())', path, name], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return parseAcl(Buffer.from(r.stdout, 'hex'))!.map(aclEntryText);
}
interface JsonChange { path: string; sensitive?: string; details?: string[] }
const jsonOf = (name: string) => JSON.parse(sbx(['diff', name, '--json']).stdout) as { sensitive: number; changes: JsonChange[] };

testUnless(ROOT_CASE)('root: an ACL that grants another user or group access is flagged, on a host entry and a new one; a grant to root, of nothing, or one the host had is not', () => {
  proveIsolation(canary, store);
  const c = canary;
  // On the host: pre already grants uid 1000 rw-.
  mkdirSync(`${c}/d`);
  for (const f of ['f', 'pre']) writeFileSync(`${c}/${f}`, 'x\n');
  const [py, ...args] = setAcls([[`${c}/pre`, ACCESS, acl([['u', 1000, 6]])]]);
  assert.is(spawnSync(py!, args).status, 0);
  // f, d: host entries given a grant; n: a new file whose grant the mask holds back; own: root's
  // ids (the layer holds them shifted: 1000000000 is not another user); none: uid 1000 granted
  // nothing; pre: the host's grant narrowed.
  const r = sbx(['run', '--name', 'acl', '--', 'sh', '-c', `touch ${c}/n ${c}/own ${c}/none && "$@"`, 'sh', ...setAcls([
    [`${c}/f`, ACCESS, acl([['u', 1000, 6]])], [`${c}/d`, DEFAULT, acl([['u', 1000, 7]])], [`${c}/n`, ACCESS, acl([['g', 1002, 4]], 0)],
    [`${c}/own`, ACCESS, acl([['u', 0, 7], ['g', 0, 7]])], [`${c}/none`, ACCESS, acl([['u', 1000, 0]])], [`${c}/pre`, ACCESS, acl([['u', 1000, 4]])],
  ])]);
  assert.is(r.code, 0, r.stderr);
  // Two host entries of one tree are one line; the new file its own.
  const summary = [
    `! added: ${c}/n (acl +group:1002:r-- +mask::---) [! ${WHY}]`,
    `! metadata: 2 entries with ACLs for other users in ${c}/ ('sbx diff acl --all' lists each) [! ${WHY}]`,
    TRAILER(3),
  ];
  assert.equal(flaggedLines(r.stdout + r.stderr), summary, r.stdout + r.stderr);
  assert.equal(flaggedLines(sbx(['diff', 'acl']).stdout), summary);
  const all = sbx(['diff', 'acl', '--all']).stdout;
  assert.equal(flaggedLines(all), [
    `! added: ${c}/n (acl +group:1002:r-- +mask::---) [! ${WHY}]`,
    `! metadata: ${c}/d/ (default acl +user:1000:rwx +mask::rwx) [! ${WHY}]`,
    `! metadata: ${c}/f (mode 644→674, acl +user:1000:rw- +mask::rwx) [! ${WHY}]`,
    TRAILER(3),
  ], all);
  assert.match(all, new RegExp(`^  added: +${c}/own \\(acl \\+user:0:rwx \\+group:0:rwx \\+mask::rwx\\)$`, 'm'), all);
  for (const p of ['none', 'pre']) assert.match(all, new RegExp(`^  (added|metadata): +${c}/${p} \\(`, 'm'), p);
  const json = jsonOf('acl');
  assert.is(json.sensitive, 3);
  assert.equal(json.changes.filter((x) => x.sensitive !== undefined).map((x) => [x.path, x.sensitive]), [[`${c}/d`, WHY], [`${c}/f`, WHY], [`${c}/n`, WHY]]);
  assert.is(sbx(['discard', 'acl']).code, 0);
});

/** Whether /etc/subuid and /etc/subgid give this user a range: else only uid 0 is mapped inside, and no ACL can name another. */
const subordinate = !IS_ROOT && ['/etc/subuid', '/etc/subgid'].every((f) => {
  try { return readFileSync(f, 'utf8').split('\n').some((l) => l.startsWith(`${userInfo().username}:`)); } catch { return false; }
});
testUnless(USER_CASE ?? (subordinate ? null : 'no /etc/subuid and /etc/subgid range for this user: no uid but 0 inside'), { missing: !IS_ROOT })('an ordinary user: an ACL in the home that grants another user access is flagged, and the user\'s own commit writes it', () => {
  proveIsolation(canary, store);
  const c = canary;
  const me = process.getuid!(), myGid = process.getgid!();
  mkdirSync(`${c}/d`);
  writeFileSync(`${c}/f`, 'x\n');
  // f: uid 1000 inside (a subordinate uid in the layer), the host's uid 1000 once committed;
  // d: a default ACL for group 50; own: root's ids inside, i.e. the user's; mine: uid `me`
  // inside, which the layer holds as a subordinate uid and a commit gives back as `me`.
  const r = sbx(['run', '--name', 'uacl', '--', 'sh', '-c', `touch ${c}/own ${c}/mine && "$@"`, 'sh', ...setAcls([
    [`${c}/f`, ACCESS, acl([['u', 1000, 6]])], [`${c}/d`, DEFAULT, acl([['g', 50, 5]])],
    [`${c}/own`, ACCESS, acl([['u', 0, 6], ['g', 0, 4]])], [`${c}/mine`, ACCESS, acl([['u', me, 6], ['g', myGid, 4]])],
  ])]);
  assert.is(r.code, 0, r.stderr);
  const line = `! metadata: 2 entries with ACLs for other users in ${c}/ ('sbx diff uacl --all' lists each) [! ${WHY}]`;
  assert.equal(flaggedLines(r.stdout + r.stderr), [line, TRAILER(2)], r.stdout + r.stderr);
  const all = sbx(['diff', 'uacl', '--all']).stdout;
  assert.equal(flaggedLines(all), [
    `! metadata: ${c}/d/ (default acl +group:50:r-x +mask::rwx) [! ${WHY}]`,
    `! metadata: ${c}/f (mode 644→674, acl +user:1000:rw- +mask::rwx) [! ${WHY}]`,
    TRAILER(2),
  ], all);
  for (const p of ['own', 'mine']) assert.match(all, new RegExp(`^  added: +${c}/${p} \\(acl \\+user:${me}:rw- \\+group:${myGid}:r-- \\+mask::rwx\\)$`, 'm'), all);
  assert.is(jsonOf('uacl').sensitive, 2);
  // The user's own commit gives uid 1000 the access the flag spoke of.
  const k = sbx(['commit', 'uacl']);
  assert.is(k.code, 0, k.stderr);
  assert.equal(hostAcl(`${c}/f`, ACCESS), ['user::rw-', 'user:1000:rw-', 'group::r--', 'mask::rwx', 'other::r--']);
});

test.run();
