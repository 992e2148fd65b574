/* openat2 resolution of paths that a sandbox or a tampered store could have influenced.
 *
 * Two kinds of path reach the helper:
 *   - paths in a layer or the store (whiteouts to make in an upper dir): relative to a trusted
 *     directory and resolved with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS,
 *     so a symlink in any component fails with ELOOP instead of leading to the host;
 *   - in-sandbox destinations (where a bind or a tmpfs goes in the new root): resolved with
 *     RESOLVE_IN_ROOT from the new root, exactly as the sandbox itself will see them, so a
 *     symlink the sandbox made can only lead to another place inside the new root.
 * Either way the syscall then acts on the fd it got (mknodat, mkdirat, openat, move_mount),
 * never on a path string that the kernel would walk a second time. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "helper.h"

static int openat2_with(int dirfd, const char *rel, int flags, unsigned long long resolve) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (unsigned long long)(flags | O_CLOEXEC);
  how.resolve = resolve;
  if (!*rel) rel = ".";
  int fd;
  do fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof how); while (fd < 0 && errno == EAGAIN);
  return fd;
}

int open_beneath(int dirfd, const char *rel, int flags) {
  while (*rel == '/') rel++;
  return openat2_with(dirfd, rel, flags, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

int open_in_root(int rootfd, const char *path, int flags) {
  while (*path == '/') path++;
  return openat2_with(rootfd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/* Splits "a/b/c" into a parent ("a/b", "" for none) and a last name; -1 when the last name is
 * empty, "." or "..", or the path does not fit. */
int split_last(const char *path, char *parent, size_t plen, const char **name) {
  size_t len = strlen(path);
  if (len && path[len - 1] == '/') { errno = EINVAL; return -1; }
  if (len >= plen) { errno = ENAMETOOLONG; return -1; }
  memcpy(parent, path, len);
  parent[len] = 0;
  char *slash = strrchr(parent, '/');
  if (slash) { *slash = 0; *name = path + (slash - parent) + 1; }
  else { *name = path; parent[0] = 0; }
  size_t nlen = len - (size_t)(*name - path);
  if (nlen == 0 || (nlen == 1 && (*name)[0] == '.') || (nlen == 2 && !strncmp(*name, "..", 2))) { errno = EINVAL; return -1; }
  return 0;
}

int make_whiteout_beneath(const char *root, const char *rel, const char **step) {
  char parent[4096];
  const char *name;
  *step = "whiteout";
  if (split_last(rel, parent, sizeof parent, &name) < 0) return -1;
  /* The root is sbx's own (the store or the scratch dir): what lies below it is not. */
  autoclose int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0) return -1;
  autoclose int pfd = open_beneath(rfd, parent, O_PATH | O_DIRECTORY);
  if (pfd < 0) { *step = "whiteout-parent"; return -1; }
  /* The whiteout is sbx's, not the command's: the dir keeps the times it had (the host's, set
   * when sbx made it), or the command would see it modified at launch. */
  struct stat before;
  if (fstatat(pfd, "", &before, AT_EMPTY_PATH) < 0) { *step = "whiteout-parent"; return -1; }
  if (mknodat(pfd, name, S_IFCHR | 0000, makedev(0, 0)) == 0) {
    struct timespec ts[2] = { before.st_atim, before.st_mtim };
    /* Before Linux 5.8 utimensat takes no AT_EMPTY_PATH: the times are then left moved. */
    if (utimensat(pfd, "", ts, AT_EMPTY_PATH) < 0 && errno != EINVAL) { *step = "whiteout-parent-times"; return -1; }
    return 0;
  }
  if (errno != EEXIST) return -1;
  /* Only a whiteout already there hides the path: anything else (a dir made there after sbx
   * planned the whiteout) would leave it showing, so the run fails instead. */
  struct stat st;
  if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) return 0;
  *step = "whiteout-exists";
  errno = EEXIST;
  return -1;
}
