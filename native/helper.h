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

/* ---- spec ---- */
struct spec_op {
  const char *name;
  int nargs;
  char **args;       /* NUL-terminated copies; binary args also have lengths */
  size_t *lens;
};

struct spec {
  struct spec_op *ops;
  size_t nops;
};

int spec_read(int fd, struct spec *out, char *err, size_t errlen);
int spec_op_arity(const char *name); /* -1: unknown op */

/* ---- device cgroup v2 (devbpf.c) ---- */
/* Loads a BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it to the cgroup directory.
 * On failure returns -1 with errno set and *step naming what failed. */
int devbpf_attach(const char *cgroup_dir, const unsigned char *insns, size_t len, const char **step);

/* ---- capabilities (caps.c) ---- */
struct cap_sets { uint64_t bounding, permitted, inheritable, ambient; };
int caps_parse_mask(const char *hex, uint64_t *out); /* -1: not a hex number */
/* Applies the sets to the calling process; -1 with errno and *step naming what failed. */
int caps_apply(const struct cap_sets *c, const char **step);

/* ---- stdio relay (relay.c) ---- */
struct pollfd;
int relay_prepare(const int *fds, size_t n); /* before the command's fork; -1 with errno */
int relay_child(void);                       /* in the command: its pipe ends become fds 0-2 */
void relay_parent(void);                     /* in init after the fork */
size_t relay_pollfds(struct pollfd *p);      /* fills up to 6 entries; returns how many */
void relay_events(const struct pollfd *p);   /* the entries relay_pollfds filled, after poll */
void relay_finish(void);                     /* the command ended: pass on what it wrote */

/* ---- subcommands ---- */
int sandbox_main(int spec_fd, int status_fd);
int xattr_main(int argc, char **argv);

/* copytree.c: copies the tree under `src` into `dst` (both open directories), iteratively and
 * fd-relative, keeping holes; -1 with errno and the failing relative path on error. */
int copy_tree(int src, int dst, char *failed_path, size_t failed_len);
/* Removes `name` below `parent` with everything under it (no symlink followed, any depth). */
int remove_tree_at(int parent, const char *name);

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
