/* beneath.c: relative paths resolved below a root fd with no symlink in any component. */
#ifndef SBX_BENEATH_H
#define SBX_BENEATH_H

#include <stddef.h>

/* A layer's host tree during a commit: every directory opened at or below `path` (relative to
 * the root, "" for the root itself) must be on mount `mnt`, the tree's own mount when the
 * commit was planned; the deepest fence holding a directory applies. */
struct beneath_fence {
  char *path;
  size_t len;
  unsigned long long mnt;
};

struct beneath {
  int root;      /* the trusted directory every path starts from (not owned) */
  const struct beneath_fence *fences; /* none: NULL (set by beneath_fence) */
  size_t nfences;
  char *path;    /* the directory path the open chain stands for */
  size_t len, pathcap;
  int *fds;      /* fds[i]: O_PATH fd of the first i+1 components; -1 once dropped */
  size_t *ends;  /* ends[i]: end offset of component i in path */
  size_t depth, cap;
};

void beneath_init(struct beneath *b, int root_fd);
void beneath_close(struct beneath *b);
/* Directories opened from now on are checked against `f` (not owned): one on another mount
 * than its fence's fails with EXDEV. */
void beneath_fence(struct beneath *b, const struct beneath_fence *f, size_t n);
/* Takes every leading "--fence=MNT:HEXPATH" argument off argv (hex: the path's bytes may be
 * any but NUL); -1 with errno on a malformed one. */
int beneath_fence_args(int *argc, char ***argv, struct beneath_fence **f, size_t *n);
/* The O_PATH fd of directory `dir` (dlen bytes, relative, "" = root); -1 with errno. */
int beneath_dir(struct beneath *b, const char *dir, size_t dlen);
/* The O_PATH fd of the parent of `rel`, with *name its last component; -1 with errno. */
int beneath_parent(struct beneath *b, const char *rel, const char **name);
/* "/proc/self/fd/N/name" for calls that take a path and do not follow the last component. */
const char *beneath_at(struct beneath *b, const char *rel, char *buf, size_t buflen);

#endif
