/* Resolving relative paths below a root directory fd one component at a time, the way
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) does, but with no
 * limit on the total length: each component is opened with O_PATH | O_NOFOLLOW | O_DIRECTORY
 * from the one before, so a symlink or a non-directory anywhere stops the walk (ELOOP or
 * ENOTDIR), and "", ".", ".." are refused (EINVAL). Callers pass paths in sorted or walk
 * order, so the directories of the last path are kept open as a chain and a sibling costs
 * nothing; at most BENEATH_MAX_OPEN of them stay open (fewer when the fd limit is reached),
 * deeper chains drop their top part and rebuild it when a path needs it again. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "beneath.h"

#define BENEATH_MAX_OPEN 256

void beneath_init(struct beneath *b, int root_fd) {
  memset(b, 0, sizeof *b);
  b->root = root_fd;
}

static void truncate_chain(struct beneath *b, size_t depth) {
  for (size_t i = depth; i < b->depth; i++)
    if (b->fds[i] >= 0) close(b->fds[i]);
  if (depth < b->depth) b->depth = depth;
  b->len = depth ? b->ends[depth - 1] : 0;
}

void beneath_close(struct beneath *b) {
  truncate_chain(b, 0);
  free(b->path);
  free(b->fds);
  free(b->ends);
  memset(b, 0, sizeof *b);
}

static int valid_name(const char *s, size_t n) {
  if (n == 0 || n > 255) return 0;
  if (n == 1 && s[0] == '.') return 0;
  if (n == 2 && s[0] == '.' && s[1] == '.') return 0;
  return memchr(s, '\0', n) == NULL;
}

static int grow(struct beneath *b, size_t depth, size_t len) {
  if (depth > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 64;
    while (cap < depth) cap *= 2;
    int *fds = realloc(b->fds, cap * sizeof *fds);
    if (!fds) return -1;
    b->fds = fds;
    size_t *ends = realloc(b->ends, cap * sizeof *ends);
    if (!ends) return -1;
    b->ends = ends;
    b->cap = cap;
  }
  if (len + 1 > b->pathcap) {
    size_t cap = b->pathcap ? b->pathcap * 2 : 4096;
    while (cap < len + 1) cap *= 2;
    char *p = realloc(b->path, cap);
    if (!p) return -1;
    b->path = p;
    b->pathcap = cap;
  }
  return 0;
}

/* Closes the open level furthest from the last one (never the last: it is the parent in
 * use); 0 when there is none. */
static int drop_oldest(struct beneath *b) {
  for (size_t i = 0; i + 1 < b->depth; i++)
    if (b->fds[i] >= 0) { close(b->fds[i]); b->fds[i] = -1; return 1; }
  return 0;
}

int beneath_dir(struct beneath *b, const char *dir, size_t dlen) {
  /* Levels of the open chain that are a prefix of `dir`. */
  size_t k = 0, start = 0;
  while (k < b->depth) {
    size_t end = b->ends[k];
    size_t n = end - start;
    if (dlen < end || memcmp(b->path + start, dir + start, n) != 0 || (dlen > end && dir[end] != '/')) break;
    start = end + 1;
    k++;
  }
  /* A closed level (dropped from a deep chain) cannot be built on: start again. */
  if (k && b->fds[k - 1] < 0) k = 0;
  truncate_chain(b, k);
  size_t at = k ? b->ends[k - 1] + 1 : 0;
  while (at < dlen) {
    const char *comp = dir + at;
    const char *slash = memchr(comp, '/', dlen - at);
    size_t n = slash ? (size_t)(slash - comp) : dlen - at;
    if (!valid_name(comp, n)) { errno = EINVAL; return -1; }
    char name[256];
    memcpy(name, comp, n);
    name[n] = '\0';
    int parent = b->depth ? b->fds[b->depth - 1] : b->root;
    int fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    /* Out of fds (a low limit, a deep path): the top of the chain goes first, as below. */
    while (fd < 0 && errno == EMFILE && drop_oldest(b)) fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    if (grow(b, b->depth + 1, at + n) < 0) { close(fd); errno = ENOMEM; return -1; }
    memcpy(b->path + b->len, b->len ? "/" : "", b->len ? 1 : 0);
    memcpy(b->path + at, comp, n);
    b->fds[b->depth] = fd;
    b->ends[b->depth] = at + n;
    b->depth++;
    b->len = at + n;
    if (b->depth > BENEATH_MAX_OPEN) {
      size_t drop = b->depth - BENEATH_MAX_OPEN;
      for (size_t i = 0; i < drop; i++)
        if (b->fds[i] >= 0) { close(b->fds[i]); b->fds[i] = -1; }
    }
    at += n + 1;
  }
  return b->depth ? b->fds[b->depth - 1] : b->root;
}

int beneath_parent(struct beneath *b, const char *rel, const char **name) {
  const char *slash = strrchr(rel, '/');
  const char *last = slash ? slash + 1 : rel;
  if (!valid_name(last, strlen(last))) { errno = EINVAL; return -1; }
  *name = last;
  return beneath_dir(b, rel, slash ? (size_t)(slash - rel) : 0);
}

const char *beneath_at(struct beneath *b, const char *rel, char *buf, size_t buflen) {
  const char *name;
  int fd = beneath_parent(b, rel, &name);
  if (fd < 0) return NULL;
  int n = snprintf(buf, buflen, "/proc/self/fd/%d/%s", fd, name);
  if (n < 0 || (size_t)n >= buflen) { errno = ENAMETOOLONG; return NULL; }
  return buf;
}
