// The spec handed to the C helper: a sequence of netstrings, each op name followed by its
// fixed number of arguments (the table in native/spec.c). Pure data, so it can be tested and
// inspected (SBX_DEBUG_SPEC=1 prints it).

export type SpecArg = string | Buffer;

export interface SpecOp {
  op: string;
  args: SpecArg[];
}

/** Arity of every op the helper accepts; must match native/spec.c. */
export const OP_ARITY: Record<string, number> = {
  version: 1, share_net: 0, uid_map: 1, gid_map: 1, setgroups: 1, newuidmap: 2, newgidmap: 2,
  cgroup_procs: 1, cgroup_write: 2, devbpf: 2, hostname: 1, loopback_up: 0, new_cgroupns: 0, stage: 1, whiteout: 2,
  mkdir: 2, symlink: 2, overlay: 6, fuse_overlay: 6, bind: 3, tmpfs: 3, proc: 1, devpts: 1, remount_ro: 1,
  ro_recursive: 1, chmod: 2, chown: 3, build_outside: 0, setid: 2, disk_tmpfs: 2, disk_layer: 1, cwd: 1, arg: 1, env: 1, rlimit: 3, caps: 4, relay_stdio: 1, pty: 0, seccomp: 1,
};

function netstring(b: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${b.length}:`), b, Buffer.from(',')]);
}

export function encodeSpec(ops: SpecOp[]): Buffer {
  const parts: Buffer[] = [netstring(Buffer.from('version')), netstring(Buffer.from('1'))];
  for (const { op, args } of ops) {
    const arity = OP_ARITY[op];
    if (arity === undefined) throw new Error(`unknown spec op ${op}`);
    if (args.length !== arity) throw new Error(`spec op ${op} takes ${arity} arguments, got ${args.length}`);
    parts.push(netstring(Buffer.from(op)));
    for (const a of args) {
      const b = typeof a === 'string' ? Buffer.from(a) : a;
      if (op !== 'seccomp' && op !== 'devbpf' && b.includes(0)) throw new Error(`spec op ${op}: argument contains a NUL byte`);
      parts.push(netstring(b));
    }
  }
  return Buffer.concat(parts);
}

/** Readable form for debugging (binary args shown by size). */
export function describeSpec(ops: SpecOp[]): string {
  return ops.map(({ op, args }) => [op, ...args.map((a) => (typeof a === 'string' ? JSON.stringify(a) : `<${a.length} bytes>`))].join(' ')).join('\n');
}
