// The spec handed to the C helper: a sequence of netstrings, each op name followed by its
// fixed number of arguments (the table in native/spec.c). Pure data, so it can be tested and
// inspected (SBX_DEBUG_SPEC=1 prints it).
//
// Each op is a member of one discriminated union with its arguments as a typed tuple, so a
// wrong arity, an unknown op or an unknown flag is a compile error here and a spec error in
// the helper (which checks the same things again: it trusts no caller).

export type SpecArg = string | Buffer;

/** Flags of `bind` (its third argument); native/spec.c turns them into bits. */
export type BindFlag = 'ro' | 'rec' | 'src-inside' | 'optional' | 'idmap' | 'parents' | 'may-vanish' | 'nosuid-nodev';
/** Flags of `tmpfs` (its third argument). */
export type TmpfsFlag = 'ro' | 'noexec' | 'optional';
/** Flags of `overlay` (its sixth argument): an idmapped lower layer; fall back to a read-only bind. */
export type OverlayFlag = 'idmap-lower' | 'ro-bind' | 'moved-check';
/** The relayed stdio fds; '1+2' is stdout and stderr relayed through one pipe. */
export type RelayList = Array<0 | 1 | 2 | '1+2'>;
export type RlimitName = 'as' | 'core' | 'cpu' | 'data' | 'fsize' | 'nofile' | 'nproc' | 'stack' | 'memlock' | 'msgqueue';

/** Octal permission bits as the helper takes them ("755"). */
type OctalMode = string;
/** `entry`'s kinds: a new directory, empty file or symlink, or the mode, owner and times of a directory (set once its entries are in it) or a regular file made before. */
export type EntryKind = 'dir' | 'file' | 'symlink' | 'dir-attrs' | 'file-attrs';
/** Flags of `entry` (its last argument): an owner the kernel cannot map is left as made. */
export type EntryFlag = 'owner-optional' | 'report' | 'opaque' | 'host-xattrs';
/** Seconds and exactly 9 digits of nanoseconds ("1700000000.123456000"); seconds may be negative. */
type Time = string;
/** `entry`'s "leave as made" for a mode, an owner or a time. */
type Unset = '-';
/** A decimal number, or "inf" for rlimits. */
type Decimal = string;
/** A hexadecimal capability mask. */
type HexMask = string;
/** Bytes that need not be UTF-8 (argv, environment, cwd: sandbox-core/rawbytes.ts). */
type Bytes = string | Buffer;

/** Every op's arguments, in wire order. Destinations are in-sandbox absolute paths. */
interface OpArgs {
  share_net: [];
  uid_map: [map: string];
  gid_map: [map: string];
  setgroups: ['deny' | 'allow'];
  newuidmap: [tool: string, ranges: string];
  newgidmap: [tool: string, ranges: string];
  cgroup_procs: [procsFile: string];
  cgroup_write: [file: string, value: string];
  devbpf: [cgroupDir: string, program: Buffer];
  /** The run's layers dir: `entry` paths are below it. */
  layers_dir: [dir: string];
  /**
   * A fresh run's layer dir or stand-in entry, made by the helper's outer process before
   * anything uses it, in spec order: REL is resolved beneath layers_dir with no symlink
   * followed; mode, owner and times are set on the entry itself. TARGET only for a symlink.
   */
  entry: [kind: EntryKind, rel: string, mode: OctalMode | Unset, uid: Decimal | Unset, gid: Decimal | Unset, atime: Time | Unset, mtime: Time | Unset, target: string, flags: EntryFlag[]];
  hostname: [name: string];
  loopback_up: [];
  new_cgroupns: [];
  stage: [dir: string];
  /** An overlay whiteout at `rel` below the trusted layers root (resolved there with openat2). */
  whiteout: [layersRoot: string, rel: string];
  mkdir: [dest: string, mode: OctalMode];
  symlink: [target: string, dest: string];
  /** A lower layer below the next overlay's own lower (an image's layers, top first). */
  lower: [dir: string];
  overlay: [dest: string, lower: string, upper: string, work: string, options: string, flags: OverlayFlag[]];
  /** preload: a shared object the daemon loads (LD_PRELOAD), '' for none. */
  fuse_overlay: [binary: string, dest: string, lower: string, upper: string, work: string, options: string, preload: string];
  /**
   * One daemon for several trees: its mount (of LOWER, `/`) attached at STAGE, resolved below
   * the trusted ROOT with no symlink, outside the view; `fuse_tree` ops bind its trees from there.
   */
  fuse_shared: [binary: string, root: string, stage: string, lower: string, upper: string, work: string, options: string, preload: string];
  /** REL (below the mount of the `fuse_shared` op of that STAGE, no symlink) bound at DEST. */
  fuse_tree: [dest: string, stage: string, rel: string];
  /**
   * A kernel overlay at DEST whose lower is REL below the mount of the `fuse_shared` op of that
   * STAGE (no symlink; that daemon has no upper: read-only, the host shown root's).
   */
  fuse_lower: [dest: string, stage: string, rel: string, upper: string, work: string, options: string];
  bind: [src: string, dest: string, flags: BindFlag[]];
  tmpfs: [dest: string, data: string, flags: TmpfsFlag[]];
  proc: [dest: string];
  devpts: [dest: string];
  remount_ro: [dest: string];
  ro_recursive: [dest: string];
  chmod: [dest: string, mode: OctalMode];
  chown: [dest: string, uid: Decimal, gid: Decimal];
  build_outside: [];
  /** The outer helper mounts a tmpfs on NAME (made beneath layers_dir) in a mount namespace of its own, before the entries. */
  layers_tmpfs: [name: string];
  setid: [uid: Decimal, gid: Decimal];
  disk_tmpfs: [dir: string, bytes: Decimal];
  disk_layer: [dir: string];
  /** Removed by the helper once the sandbox ended (a throwaway run's work dirs): REL beneath BASE, no symlink followed. */
  scrap_after: [base: string, rel: string];
  /**
   * Once the sandbox ended, the helper writes the review's scan (a `sbx-helper scan` REQUEST,
   * walk.ts) into the file OUT_FD, from the layers root LAYERS_FD and the host root HOST_FD:
   * fds sbx gave it (launch.ts reviewScanFds).
   */
  review_scan: [layersFd: Decimal, hostFd: Decimal, outFd: Decimal, request: Buffer];
  /** Once the sandbox ended, the helper syncs DIR's filesystem (a saved run's volatile layers) and says `synced`. */
  syncfs_after: [dir: string];
  cwd: [dir: Bytes];
  /** The command's own uid and gid inside (an image's User), taken after its capabilities. */
  cmd_user: [uid: Decimal, gid: Decimal];
  arg: [arg: Bytes];
  env: [entry: Bytes];
  rlimit: [resource: RlimitName, soft: Decimal, hard: Decimal];
  caps: [bounding: HexMask, permitted: HexMask, inheritable: HexMask, ambient: HexMask];
  /** '1+2': stdout and stderr through one pipe (they are one object on the host). */
  relay_stdio: [fds: RelayList];
  /** --allow-net: pid 1 copies 127.0.0.1/::1:PORT inside to the unix socket NAME in host DIR, through BUFFER bytes per direction. */
  net_relay: [dir: string, name: string, port: Decimal, buffer: Decimal];
  net_direct: [name: string];
  /** Lines of the output the helper relays (pty, relayed fds) containing TEXT come back as `seen` (at most 16 texts). */
  scan_output: [text: string];
  /**
   * The command gets a pty on the fds 0-2 of MASK (bits 1, 2, 4: the host's terminals); pid 1
   * reports the command stopping on fd JOBCTL_FD (job-control.ts).
   */
  pty: [jobctlFd: Decimal, mask: Decimal];
  /** With pty: OSC strings of number N never reach the user's terminal (terminal-drops.ts). */
  osc_drop: [num: Decimal];
  /** With pty: nor DCS strings that start with TEXT (1 to 38 bytes). */
  dcs_drop: [text: string];
  seccomp: [program: Buffer];
}

export type SpecOpName = keyof OpArgs;
export type SpecOp = { [K in SpecOpName]: { op: K; args: OpArgs[K] } }[SpecOpName];
export type SpecOpOf<K extends SpecOpName> = Extract<SpecOp, { op: K }>;

/** Arity of every op the helper accepts; must match native/spec.c (a test compares them). */
export const OP_ARITY: { readonly [K in SpecOpName | 'version']: K extends SpecOpName ? OpArgs[K]['length'] : 1 } = {
  version: 1, share_net: 0, uid_map: 1, gid_map: 1, setgroups: 1, newuidmap: 2, newgidmap: 2,
  cgroup_procs: 1, cgroup_write: 2, devbpf: 2, layers_dir: 1, entry: 9, hostname: 1, loopback_up: 0, new_cgroupns: 0, stage: 1, whiteout: 2,
  mkdir: 2, symlink: 2, lower: 1, overlay: 6, fuse_overlay: 7, fuse_shared: 8, fuse_tree: 3, fuse_lower: 6, bind: 3, tmpfs: 3, proc: 1, devpts: 1, remount_ro: 1,
  ro_recursive: 1, chmod: 2, chown: 3, build_outside: 0, layers_tmpfs: 1, setid: 2, disk_tmpfs: 2, disk_layer: 1, scrap_after: 2, review_scan: 4, syncfs_after: 1, cwd: 1, cmd_user: 2, arg: 1, env: 1, rlimit: 3, caps: 4, relay_stdio: 1, net_relay: 4, net_direct: 1, scan_output: 1, pty: 2, osc_drop: 1, dcs_drop: 1, seccomp: 1,
};

/** Buffer's own UTF-8 writer (what write() calls after its checks): its bounds are checked in C++. */
type Utf8Buffer = Buffer & { utf8Write(s: string, at: number, max: number): number };

export function encodeSpec(ops: readonly SpecOp[]): Buffer {
  // Written straight into one buffer (a spec has hundreds of arguments): building it as one
  // string first, then encoding it, made ~100 KB of garbage per run, most of a scavenge.
  let buf = Buffer.allocUnsafeSlow(16384) as Utf8Buffer;
  let pos = 0;
  const room = (n: number): void => {
    if (pos + n <= buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(buf.length * 2, pos + n)) as Utf8Buffer;
    buf.copy(bigger, 0, 0, pos);
    buf = bigger;
  };
  const head = (n: number): void => {
    room(24 + n);
    // Most arguments are shorter than 100 bytes: their length without the loops below, whose
    // bytecode run for each of a spec's ~1500 arguments was enough for V8 to compile `head`
    // with TurboFan mid-run (--trace-opt: ~10-16 ms on a background thread, and its pages).
    if (n < 10) { buf[pos++] = 0x30 + n; buf[pos++] = 0x3a; return; }
    if (n < 100) { buf[pos++] = 0x30 + ((n / 10) | 0); buf[pos++] = 0x30 + (n % 10); buf[pos++] = 0x3a; return; }
    // The decimal length, digit by digit (no string made).
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    for (let i = digits - 1, x = n; i >= 0; i--, x = Math.floor(x / 10)) buf[pos + i] = 0x30 + (x % 10);
    pos += digits;
    buf[pos++] = 0x3a; // ':'
  };
  const str = (v: string): void => {
    // Measured and copied by Buffer's native code: a loop over the characters here ran the
    // interpreter over every byte of a spec (hundreds of arguments, the whole environment),
    // enough for V8 to optimize it with TurboFan on a background thread, ~20-30 ms of
    // compiling and ~400 page faults in every run, around the helper's start. utf8Write, not
    // write(): write() checks its offset and length through Node's validators, and those
    // calls (with the fs calls' own) were enough for TurboFan to compile Node's wrapper of
    // every validator (--trace-opt: wrappedFn), ~100 more page faults. It checks its bounds
    // in C++ (room() has made the space).
    // Written first as if it were ASCII (its length in bytes is then v.length, and most
    // arguments are): UTF-8 takes at least a byte per UTF-16 unit, so exactly v.length bytes
    // written means it was. Buffer.byteLength runs three of Node's functions in the
    // interpreter for each argument: asking it only for the others took the spec of an
    // ordinary user's run (~300 ops) from ~2.4 ms and ~50 page faults to ~1.3 ms and ~14.
    // A long one (an environment variable of up to 128 KB) is measured first: room for three
    // bytes a unit would be three times its size.
    const at = pos;
    let n = -1;
    if (v.length <= 4096) {
      head(v.length);
      room(v.length * 3 + 1); // at most 3 bytes per unit (a lone surrogate's U+FFFD; a pair is 4 for 2)
      n = buf.utf8Write(v, pos, v.length * 3);
    }
    if (n !== v.length) {
      pos = at;
      n = Buffer.byteLength(v, 'utf8');
      head(n);
      buf.utf8Write(v, pos, n);
    }
    pos += n;
    buf[pos++] = 0x2c; // ','
  };
  str('version');
  str('1');
  // Indexed loops, not for-of: run once per start, in V8's interpreter, each step of an array
  // iterator made a result object: ~64 KB of the run's ~1 MB of young allocations (the heap
  // profiler's allocation sampling, collected objects counted) for a spec's ~1500 arguments.
  for (let i = 0; i < ops.length; i++) {
    const { op, args } = ops[i]!;
    // Checked again at run time: callers outside the type system (tests, casts) exist.
    const arity = (OP_ARITY as Record<string, number>)[op];
    if (arity === undefined || (op as string) === 'version') throw new Error(`unknown spec op ${op}`);
    if (args.length !== arity) throw new Error(`spec op ${op} takes ${arity} arguments, got ${args.length}`);
    str(op);
    const binaryOk = op === 'seccomp' || op === 'devbpf' || op === 'review_scan';
    const list = args as ReadonlyArray<SpecArg | ReadonlyArray<string | number>>;
    for (let j = 0; j < list.length; j++) {
      const a = list[j]!;
      if (Buffer.isBuffer(a)) {
        if (!binaryOk && a.includes(0)) throw new Error(`spec op ${op}: argument contains a NUL byte`);
        head(a.length);
        pos += a.copy(buf, pos);
        buf[pos++] = 0x2c;
        continue;
      }
      const v = Array.isArray(a) ? a.join(',') : (a as string);
      if (!binaryOk && v.includes('\0')) throw new Error(`spec op ${op}: argument contains a NUL byte`);
      str(v);
    }
  }
  return buf.subarray(0, pos);
}

/** Readable form for debugging (binary args shown by size). */
export function describeSpec(ops: readonly SpecOp[]): string {
  return ops.map(({ op, args }) => [op, ...(args as ReadonlyArray<SpecArg | ReadonlyArray<string | number>>).map((a) =>
    Buffer.isBuffer(a) ? `<${a.length} bytes>` : JSON.stringify(Array.isArray(a) ? a.join(',') : a))].join(' ')).join('\n');
}
