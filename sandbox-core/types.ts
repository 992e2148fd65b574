// Typed shapes shared by cli/ and sandbox-core/. Everything that crosses a module boundary or
// is written to disk is described here, so the on-disk format has one definition.

/** One overlaid host directory and where its copy-on-write layer lives. */
export interface Layer {
  /** Absolute host path of the overlaid directory; the same path inside the sandbox. */
  target: string;
  /** Directory name under the sandbox's layers dir; upper is `<layersDir>/<dir>/upper`. */
  dir: string;
  /** Upper-layer format: kernel overlayfs (char 0/0 whiteouts, user.overlay.* xattrs) or fuse-overlayfs. */
  format: 'kernel' | 'fuse';
  /** The layer of a skeleton dir (one holding mount points): its lower is sbx's stand-in tree. */
  skeleton?: boolean;
  /**
   * A fuse tree served by one fuse-overlayfs daemon together with the other trees of its host
   * filesystem (`dir` is theirs too): the daemon's lower is `/` and its upper `<dir>/upper`, so
   * this tree's upper is `<dir>/upper<target>` (upperOf).
   */
  shared?: boolean;
  /**
   * A kernel overlay (`format: 'kernel'`) whose lower is this tree as a read-only
   * fuse-overlayfs daemon shows it (squash_to_root: the host's files look root's, so an ordinary
   * user's overlay can copy them up): the layer dir of the tree that holds the daemon's mount
   * (its `mnt`). One daemon serves the trees of every host filesystem; writes stay in the kernel.
   */
  fuseLower?: string;
  /**
   * The owner bits (0-7) sbx gave the upper root in place of the host dir's: an ordinary
   * user's --user run, for a host dir not the user's, gets the bits the user has there on the
   * host (as access(2) answers: its mode, and an ACL naming the user), so that the root, which overlayfs shows as the
   * user's, is no more writable inside than outside. The review compares the root's owner bits
   * with these instead of the host dir's (empty-scan.ts rootModeMoved). Absent: the host's.
   */
  rootOwnerBits?: number;
  /**
   * The host dir's device, inode and birth time (ms, as lstat gives it; 0 where the
   * filesystem keeps none) at the last run in the sandbox: a commit writes into the tree only while
   * `target` is still that dir (commit/mounts.ts), not a filesystem mounted on it since, nor a
   * dir made anew there. The birth time tells a tmpfs mounted anew from the one before: its
   * root has the inode 1 and, often, the device number the old one freed. Absent in
   * sandboxes made before 2026-12-05. On a filesystem with no birth times (birthMs 0: ext4
   * with 128-byte inodes, vfat, NFSv3) its size in blocks and inodes (statfs) stand in for
   * it: another such filesystem on the same device (a USB stick swapped for another in the
   * same slot) has the same dev and root inode.
   */
  hostDir?: { dev: number; ino: number; birthMs: number; blocks?: number; files?: number };
}

/** Whether the host's files reach this layer's tree through a fuse-overlayfs daemon (shown root's, read as the user). */
export function throughFuse(l: Pick<Layer, 'format' | 'fuseLower'>): boolean {
  return l.format === 'fuse' || l.fuseLower !== undefined;
}

/** A layer's upper dir below the sandbox's layers dir. */
export function upperOf(l: Pick<Layer, 'dir' | 'target' | 'shared'>): string {
  return l.shared ? `${l.dir}/upper${l.target}` : `${l.dir}/upper`;
}

/** Each layer dir of a sandbox once (the trees of a shared fuse daemon name the same one). */
export function layerDirs(layers: readonly Layer[]): string[] {
  return [...new Set(layers.map((l) => l.dir))];
}

export type SandboxState = 'created' | 'running' | 'saved' | 'committing' | 'committed';

/** meta.json of a sandbox. Version bumps when the shape changes incompatibly. */
export interface SandboxMeta {
  version: 1;
  id: string;
  name: string | null;
  command: string[];
  cwd: string;
  /** Host uid/gid that created the sandbox. */
  uid: number;
  gid: number;
  /** ISO time the sandbox was created (used for conflict detection at commit). */
  created: string;
  /** ms since the epoch, same instant as `created`, for cheap comparisons with ctimeMs. */
  createdMs: number;
  finished: string | null;
  exitStatus: number | null;
  state: SandboxState;
  /** The sbx process running a command in it (state 'running'): commit waits until it is gone. */
  runnerPid?: number;
  /** The machine's boot id when that run started (state 'running'; base/process.ts bootId). */
  runBoot?: string;
  /** That process's start time (/proc/PID/stat): a live pid that started at another time was reused. */
  runnerStart?: string;
  /**
   * Derived when the meta is read (never trusted from the file): the machine stopped while a
   * command ran in it, so its layers may miss writes made before that (overlays are mounted
   * `volatile`: sbx syncs them once the command ended).
   */
  interrupted?: boolean;
  /** Made by `run -n`: nothing of it is ever kept, so if its sbx was killed it is swept away. */
  throwaway?: boolean;
  /** Absolute directory holding the layer dirs (the sandbox dir, or a tmpfs dir for throwaway runs). */
  layersDir: string;
  layers: Layer[];
  /** Host paths hidden inside (their absence is not a change). */
  hidden: string[];
  /**
   * A run in it had the user's credential stores and secret variables in sight (no
   * --hide-secrets: it had no network): copies of them may be in it, and a run with a network
   * is refused unless --allow-secrets (cli/run-exec.ts). Written false when the sandbox is
   * made; absent in sandboxes made before 2026-12-05, whose runs were not recorded: unknown,
   * and refused the same way.
   */
  secretsSeen?: boolean;
  /** Host dirs the user cannot read, shown empty and writable inside (fuse layers): never "emptied". */
  shownEmpty?: string[];
  /** Host paths bind-mounted writable: changes there went straight to the host. */
  binds: string[];
  /** Every --bind/--ro-bind destination: what the layer holds there is the mount point sbx made, not a change. */
  bindPoints?: string[];
  /** The package managers' lock files sbx copied into a fuse layer before a run (precopy.ts): no change while untouched. */
  precopied?: PrecopiedFile[];
  /**
   * Host dirs the sandbox moved whose deletion a commit held while it wrote part of the new
   * tree, each [old dir, new dir] (byte strings): the next review no longer sees the new dir
   * as new, so it pairs them from here (moves.ts heldMovesAgain) and no later commit deletes
   * the old dir without the rest of its new tree.
   */
  heldMoves?: Array<[string, string]>;
  options: RunOptionsRecord;
  /** `run --image`: the image its lower layers come from (there is no host to commit to). */
  image?: ImageRecord;
  /** `run --rootfs`: the directory tree that is its lower layer. */
  rootfs?: string;
  /**
   * Derived when the meta is read (never trusted from the file): what the change list compares
   * with instead of the host's `/` (the image's merged lower layers, or the --rootfs tree).
   */
  lowerRoot?: string;
  /** Root's remapped sandboxes: where the layers hold each id (absent: ids are host ids). */
  idShift?: IdShift | null;
}

/**
 * Root's remapped sandboxes (idmap.ts chooses it): inside ids 0..count-1 are `uid`.. (`gid`..)
 * outside, and in the layers; `extraUids[i]`, an id above that range (the sudo user's, the
 * working directory's owner's), is `uid + count + i` outside; `extraGids` likewise.
 */
export interface IdShift { uid: number; gid: number; count: number; extraUids?: number[]; extraGids?: number[] }

/** The most ids above its range a root sandbox maps (idShift's extras; idmap.ts chooses them). */
export const EXTRA_IDS_MAX = 2;

/** A file precopy.ts made in a layer: its host path, and its inode and ctime (ms) in the layer then. */
export type PrecopiedFile = [path: string, ino: number, ctimeMs: number];

/** What meta.json records of a sandbox's image (validated when read: store.ts). */
export interface ImageRecord {
  /** What the user typed (shown only, through the escaping function). */
  ref: string;
  manifest: string;
  config: string;
  diffIds: string[];
  chainId: string;
}

/** The options of `sbx run` that are recorded so `--in` can reproduce the same view. */
export interface RunOptionsRecord {
  net: boolean;
  keepUser: boolean;
  /** Root only: identity mapping (root inside is root outside). */
  mapRoot?: boolean;
  policy: string;
  /** The command's capabilities (absent in sandboxes made before sbx bounded them: the default set). */
  capabilities?: string[];
  hide: string[];
  bind: Array<{ host: string; inside: string; readOnly: boolean }>;
}
