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
#include <sys/stat.h>
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

void beneath_fence(struct beneath *b, const struct beneath_fence *f, size_t n) {
  b->fences = f;
  b->nfences = n;
}

static int hexval(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int beneath_fence_args(int *argc, char ***argv, struct beneath_fence **f, size_t *n) {
  *f = NULL;
  *n = 0;
  while (*argc >= 2 && strncmp((*argv)[1], "--fence=", 8) == 0) {
    const char *a = (*argv)[1] + 8;
    char *end;
    errno = 0;
    unsigned long long mnt = strtoull(a, &end, 10);
    size_t hex = end && *end == ':' ? strlen(end + 1) : 1;
    if (errno || end == a || *end != ':' || hex % 2) { errno = EINVAL; return -1; }
    struct beneath_fence *grown = realloc(*f, (*n + 1) * sizeof **f);
    char *path = malloc(hex / 2 + 1);
    if (!grown || !path) { free(path); if (grown) *f = grown; errno = ENOMEM; return -1; }
    *f = grown;
    for (size_t i = 0; i < hex / 2; i++) {
      int hi = hexval(end[1 + 2 * i]), lo = hexval(end[2 + 2 * i]);
      if (hi < 0 || lo < 0 || (!hi && !lo)) { free(path); errno = EINVAL; return -1; }
      path[i] = (char)(hi << 4 | lo);
    }
    path[hex / 2] = '\0';
    (*f)[(*n)++] = (struct beneath_fence){ path, hex / 2, mnt };
    (*argc)--;
    (*argv)++;
  }
  return 0;
}

/* The mount of an open fd: statx's mnt id (Linux 5.8), else fdinfo's mnt_id (the same number). */
static int mount_of(int fd, unsigned long long *mnt) {
#ifdef STATX_MNT_ID
  struct statx sx;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) == 0 && (sx.stx_mask & STATX_MNT_ID)) {
    *mnt = sx.stx_mnt_id;
    return 0;
  }
#endif
  char p[64], text[1024];
  snprintf(p, sizeof p, "/proc/self/fdinfo/%d", fd);
  int f = open(p, O_RDONLY | O_CLOEXEC);
  if (f < 0) return -1;
  ssize_t got = read(f, text, sizeof text - 1);
  close(f);
  if (got < 0) return -1;
  text[got] = '\0';
  char *at = strstr(text, "\nmnt_id:");
  if (!at) { errno = ENOSYS; return -1; }
  *mnt = strtoull(at + 8, NULL, 10);
  return 0;
}

/* 0 when directory fd `fd`, at `path` (len bytes), is on its deepest fence's mount (or under
 * none); -1 with errno EXDEV when a filesystem was mounted on the way since the fences were read. */
static int check_fence(const struct beneath *b, int fd, const char *path, size_t len) {
  const struct beneath_fence *best = NULL;
  for (size_t i = 0; i < b->nfences; i++) {
    const struct beneath_fence *f = &b->fences[i];
    if (f->len > len || memcmp(f->path, path, f->len) != 0 || (f->len && f->len < len && path[f->len] != '/')) continue;
    if (!best || f->len > best->len) best = f;
  }
  if (!best) return 0;
  unsigned long long mnt;
  if (mount_of(fd, &mnt) < 0) return -1;
  if (mnt != best->mnt) { errno = EXDEV; return -1; }
  return 0;
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
    if (b->nfences && check_fence(b, fd, dir, at + n) < 0) { int e = errno; close(fd); errno = e; return -1; }
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
