/* sbx-helper: shared declarations. The helper does no policy: it applies a complete spec
 * produced by the TypeScript side, in a fixed order, and reports each failure with the step,
 * the path and errno. */
#ifndef SBX_HELPER_H
#define SBX_HELPER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SBX_EXIT_FAILED 125

/* ---- status channel (fd given by the launcher) ---- */
void status_init(int fd);
void status_send(const char *kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report a failed setup step and exit 125. `path` may be NULL. */
void die_step(const char *step, const char *path, int err) __attribute__((noreturn));
void die_msg(const char *step, const char *msg) __attribute__((noreturn));
/* A check die_step and die_msg run first (once, in the process that set it; NULL: none). */
void set_before_die(void (*fn)(void));
/* In a helper's background child: dies with `parent` (SIGKILL), or exits with `status` now if
 * it is already gone. Quiet: such a child has nobody to report to. */
void exit_with_parent(pid_t parent, int status);

/* times.c: SBX_DEBUG_TIMES=1 prints each marked step of a run with its time (off otherwise). */
void times_init(void);
void times_mark(const char *step);

/* netrelay.c: `sbx-helper net-pass` (the proxy hands a connected host socket to the relay) */
int net_pass_main(void);

/* ---- spec (spec.c) ---- */
/* Every op the helper knows. The order groups them by who applies them; the wire names and
 * arities are the table in spec.c. */
enum op_type {
  OP_VERSION,
  /* namespaces and identity (applied by the outer process) */
  OP_SHARE_NET, OP_UID_MAP, OP_GID_MAP, OP_SETGROUPS, OP_NEWUIDMAP, OP_NEWGIDMAP,
  OP_CGROUP_PROCS, OP_CGROUP_WRITE, OP_DEVBPF,
  /* a fresh run's layer dirs and stand-in tree, made by the outer process first (entries.c) */
  OP_LAYERS_DIR, OP_ENTRY, OP_LAYERS_TMPFS,
  /* inside, before the filesystem */
  OP_HOSTNAME, OP_LOOPBACK_UP, OP_NEW_CGROUPNS,
  /* filesystem, in order, destinations relative to the new root */
  OP_STAGE, OP_WHITEOUT, OP_MKDIR, OP_SYMLINK, OP_LOWER, OP_OVERLAY, OP_FUSE_OVERLAY, OP_FUSE_SHARED, OP_FUSE_TREE, OP_FUSE_LOWER, OP_BIND, OP_TMPFS,
  OP_PROC, OP_DEVPTS, OP_REMOUNT_RO, OP_RO_RECURSIVE, OP_CHMOD, OP_CHOWN,
  OP_BUILD_OUTSIDE, OP_SETID, OP_DISK_TMPFS, OP_DISK_LAYER, OP_SCRAP_AFTER, OP_REVIEW_SCAN, OP_SYNCFS_AFTER,
  /* the process */
  OP_CWD, OP_CMD_USER, OP_ARG, OP_ENV, OP_RLIMIT, OP_CAPS, OP_RELAY_STDIO, OP_NET_RELAY, OP_NET_DIRECT, OP_SCAN_OUTPUT, OP_PTY, OP_OSC_DROP, OP_DCS_DROP, OP_SECCOMP,
  OP_COUNT
};

/* Flag bits of bind (3rd argument), tmpfs (3rd) and overlay (6th), parsed once from their
 * comma lists; an unknown flag is a spec error, not silently ignored. */
enum op_flag {
  FLAG_RO = 1u << 0,          /* bind, tmpfs: read-only */
  FLAG_REC = 1u << 1,         /* bind: with the mounts below */
  FLAG_SRC_INSIDE = 1u << 2,  /* bind: source is a path in the new root */
  FLAG_OPTIONAL = 1u << 3,    /* bind: skip when source or destination is absent */
  FLAG_IDMAP = 1u << 4,       /* bind: idmapped to the sandbox's range */
  FLAG_NOEXEC = 1u << 5,      /* tmpfs */
  FLAG_IDMAP_LOWER = 1u << 6, /* overlay: idmapped lower layer */
  FLAG_RO_BIND = 1u << 7,     /* overlay: fall back to a read-only bind */
  FLAG_PARENTS = 1u << 8,     /* bind: make the destination's missing parent dirs (0755) */
  FLAG_MAY_VANISH = 1u << 9,  /* bind: a host source gone since planning keeps its stand-in, read-only */
  FLAG_OWNER_OPTIONAL = 1u << 10, /* entry: an owner the kernel cannot map (EINVAL, EPERM) is left as made */
  FLAG_REPORT = 1u << 11,     /* entry (a file): its inode and ctime, once made, as an `entry-made` status line */
  FLAG_MOVED_CHECK = 1u << 12, /* overlay: EINVAL with a mount below the lower is the step overlay-moved, not a fallback */
  FLAG_OPAQUE = 1u << 13,     /* entry (a dir): marked opaque for kernel overlayfs (user.overlay.opaque) */
  FLAG_HOST_XATTRS = 1u << 14, /* entry (a dir): the host dir's user.* xattrs and ACLs copied onto it (entries.c) */
  FLAG_NOSUID_NODEV = 1u << 15, /* bind: no setuid and no device access through it (a user's --bind/--ro-bind) */
};

/* entry's kinds (its first argument). */
enum entry_kind { ENTRY_DIR, ENTRY_FILE, ENTRY_SYMLINK, ENTRY_DIR_ATTRS, ENTRY_FILE_ATTRS };
/* entry's "-" (leave as made) for a mode, an owner or a time. */
#define ENTRY_UNSET (~0ull)

struct spec_op {
  enum op_type type;
  const char *name;  /* static wire name, for messages */
  int nargs;
  char **args;       /* NUL-terminated copies; binary args also have lengths */
  size_t *lens;
  unsigned flags;    /* enum op_flag bits */
  /* Numeric arguments, validated at parse time: mkdir/chmod mode; chown and setid uid, gid;
   * rlimit resource, soft, hard; disk_tmpfs size; caps bounding, permitted, inheritable,
   * ambient; relay_stdio's fds as bits (1 << fd); entry kind, mode, uid, gid, atime seconds
   * and nanoseconds, mtime seconds and nanoseconds (ENTRY_UNSET: "-"; seconds as a signed
   * value's bits). */
  unsigned long long num[8];
};

struct spec {
  struct spec_op *ops;
  size_t nops;
};

int spec_read(int fd, struct spec *out, char *err, size_t errlen);

/* ---- device cgroup v2 (devbpf.c) ---- */
/* Loads a BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it to the cgroup directory.
 * On failure returns -1 with errno set and *step naming what failed. */
int devbpf_attach(const char *cgroup_dir, const unsigned char *insns, size_t len, const char **step);

/* ---- capabilities (caps.c) ---- */
struct cap_sets { uint64_t bounding, permitted, inheritable, ambient; };
/* Applies the sets to the calling process; -1 with errno and *step naming what failed. */
int caps_apply(const struct cap_sets *c, const char **step);

/* ---- stdio relay (relay.c) ---- */
struct pollfd;
int relay_prepare(const int *fds, size_t n, int shared); /* before the command's fork; -1 with errno */
int relay_child(void);                       /* in the command: its pipe ends become fds 0-2 */
void relay_parent(void);                     /* in init after the fork */
size_t relay_pollfds(struct pollfd *p, int *timeout_ms); /* fills up to 6 entries; returns how many; may lower *timeout_ms */
void relay_events(const struct pollfd *p);   /* the entries relay_pollfds filled, after poll */
void relay_finish(void);                     /* the command ended: pass on what it wrote */

/* mapped.c: runs newuidmap/newgidmap for pid (0 or an errno: ENOENT when the tool is missing,
 * EPERM when it refused); enter_mapped_root(UIDTOOL UIDMAP GIDTOOL GIDMAP): this process
 * becomes root of a new user namespace with those maps (0, or -1 after a message);
 * count_entries_main: the `count-entries` subcommand run in it (copytree.c's rmtree_main, given
 * the maps, enters it itself once it has claimed its trees). */
int run_idmap_tool(const char *tool, pid_t pid, const char *args);
/* run_idmap_tool in two halves, so that two tools can run side by side: the tool started
 * (its pid in *started), then its end waited for; each returns 0 or an errno. */
int start_idmap_tool(const char *tool, pid_t pid, const char *args, pid_t *started);
int wait_idmap_tool(pid_t p);
int enter_mapped_root(char **maps);
int count_entries_main(void);

/* ---- subcommands ---- */
int sandbox_main(int spec_fd, int status_fd);
int xattr_main(int argc, char **argv);
/* place.c: commit's renames of staged files over their targets (see place.c) */
int place_main(int argc, char **argv);
/* scan.c: the change walker's records (see scan.c) */
int scan_main(const char *opt);
int scan_many_main(const char *opt);
int scan_answer(const char *req, size_t len, int lfd, int hfd, int ofd, int say);
/* hostdirs.c: a review's listings of host directories, O_NOATIME (see hostdirs.c) */
int host_dirs_main(void);

/* buf.c: a growable byte buffer ({0} is empty); -1 when memory runs out. */
struct buf { char *p; size_t len, cap; };
int buf_reserve(struct buf *b, size_t extra);
int buf_put(struct buf *b, const void *data, size_t n);
int buf_put32(struct buf *b, uint32_t v); /* little-endian */
int buf_put64(struct buf *b, uint64_t v); /* little-endian */
int buf_read_fd(struct buf *b, int fd);      /* appends everything up to EOF */
uint32_t le32(const void *p);               /* a little-endian u32 */
/* Request readers: the next NUL-terminated string (NULL when malformed) or little-endian
 * integer (-1 when short) at *off, which they advance. */
const char *next_str(const struct buf *in, size_t *off);
int next_u32(const struct buf *in, size_t *off, uint32_t *v);
int next_u64(const struct buf *in, size_t *off, uint64_t *v);
int next_i64(const struct buf *in, size_t *off, int64_t *v);
/* Writes all n bytes: 0, or -1 with errno (EINTR retried). */
int write_all(int fd, const void *p, size_t n);

/* copytree.c: copies the tree under `src` into `dst` (both open directories), iteratively and
 * fd-relative, keeping holes; -1 with errno and the failing relative path on error. */
int copy_tree(int src, int dst, char *failed_path, size_t failed_len);
/* Removes `name` below `parent` with everything under it (no symlink followed, any depth). */
int remove_tree_at(int parent, const char *name);
/* `sbx-helper rmtree NAME...`: a committed sandbox's store entry removed in the background. */
int rmtree_main(int argc, char **argv, char **maps);

/* lock.c: `sbx-helper lock`, an exclusive flock on fd 3 without waiting (exit 0 taken, 1 held elsewhere). */
int lock_main(void);
int flush_input_main(void);

/* resolve.c: openat2 from a directory fd. open_beneath: no symlink in any component, never
 * above dirfd (layers, the store). open_in_root: symlinks resolved as if dirfd were / (the new
 * root being built). split_last: "a/b/c" -> "a/b" and "c". */
int open_beneath(int dirfd, const char *rel, int flags);
int open_in_root(int rootfd, const char *path, int flags);
int split_last(const char *path, char *parent, size_t plen, const char **name);
/* Makes an overlay whiteout (char 0/0) at ROOT/REL, REL resolved beneath ROOT; -1 with errno
 * and *step naming what failed. */
int make_whiteout_beneath(const char *root, const char *rel, const char **step);

/* Free-on-scope-exit helpers in bubblewrap's style. */
static inline void cleanup_freep(void *p) { void **pp = (void **)p; extern void free(void *); free(*pp); }
static inline void cleanup_closep(int *fd) { extern int close(int); if (*fd >= 0) close(*fd); }
#define autofree __attribute__((cleanup(cleanup_freep)))
#define autoclose __attribute__((cleanup(cleanup_closep)))

#endif
