/* sbx-helper xattr: the few file-metadata system calls Node lacks (extended attributes and
 * mknod), used in batches by sandbox-core/changes and sandbox-core/commit.
 *
 * Paths arrive on stdin as raw bytes (never argv: names may be invalid UTF-8) and are
 * NUL-terminated. Integers are 32-bit little-endian. Nothing here follows a symlink in the
 * last path component: l*xattr for reads, O_NOFOLLOW + f*xattr for writes. The caller
 * (TypeScript) has already checked every parent component with lstat.
 *
 *   xattr get
 *     in:  path\0 path\0 ...
 *     out: per path, in order: u32 errno (0 = ok; then) u32 count,
 *          count x (u32 namelen, name bytes, u32 valuelen, value bytes)
 *          ENOTSUP/ENODATA are reported as ok with count 0.
 *   xattr set
 *     in:  per file: path\0 u32 count, count x (name\0 u32 valuelen value)
 *     out: per file, in order: u32 errno of the first failure (0 = all set)
 *   xattr mknod fifo|socket|whiteout
 *     in:  path\0 ...   (created mode 0600; whiteout = char device 0/0, allowed
 *                        without privileges since Linux 5.8)
 *     out: per path: u32 errno
 *
 * Exit status: 0 when the protocol completed (per-path errors are in the output), 2 on a
 * malformed request or I/O error, with one line on stderr naming the path and errno. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "helper.h"

struct xbuf {
  char *p;
  size_t len, cap;
};

static int xbuf_reserve(struct xbuf *b, size_t extra) {
  if (b->len + extra <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 65536;
  while (cap < b->len + extra) cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) return -1;
  b->p = p;
  b->cap = cap;
  return 0;
}

static int xbuf_put(struct xbuf *b, const void *data, size_t n) {
  if (xbuf_reserve(b, n) < 0) return -1;
  memcpy(b->p + b->len, data, n);
  b->len += n;
  return 0;
}

static int xbuf_u32(struct xbuf *b, uint32_t v) {
  unsigned char le[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};
  return xbuf_put(b, le, 4);
}

static int read_all(int fd, struct xbuf *b) {
  for (;;) {
    if (xbuf_reserve(b, 65536) < 0) return -1;
    ssize_t n = read(fd, b->p + b->len, b->cap - b->len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return 0;
    b->len += (size_t)n;
  }
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Returns the next NUL-terminated string at *off, or NULL when the input is malformed. */
static const char *next_str(const struct xbuf *in, size_t *off) {
  if (*off >= in->len) return NULL;
  const char *s = in->p + *off;
  const char *nul = memchr(s, '\0', in->len - *off);
  if (!nul) return NULL;
  *off += (size_t)(nul - s) + 1;
  return s;
}

static int next_u32(const struct xbuf *in, size_t *off, uint32_t *v) {
  if (in->len - *off < 4) return -1;
  const unsigned char *u = (const unsigned char *)in->p + *off;
  *v = (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
  *off += 4;
  return 0;
}

static int fail(const char *what, const char *path, int err) {
  fprintf(stderr, "sbx-helper xattr: %s%s%s: %s\n", what, path ? " " : "", path ? path : "", strerror(err));
  return 2;
}

/* Appends one path's record; grows the list/value buffers as attributes appear. */
static int get_one(const char *path, struct xbuf *out, struct xbuf *names, struct xbuf *val) {
  ssize_t n;
  for (;;) {
    n = llistxattr(path, names->p, names->cap);
    if (n >= 0) break;
    if (errno == ERANGE) {
      ssize_t need = llistxattr(path, NULL, 0);
      if (need < 0) break;
      if (xbuf_reserve(names, (size_t)need + 1) < 0) return -1;
      continue;
    }
    break;
  }
  if (n < 0) {
    int e = errno;
    if (e == ENOTSUP || e == ENODATA) return xbuf_u32(out, 0) | xbuf_u32(out, 0);
    return xbuf_u32(out, (uint32_t)e);
  }
  uint32_t count = 0;
  for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names->p + i) + 1) count++;
  if (xbuf_u32(out, 0) < 0 || xbuf_u32(out, count) < 0) return -1;
  for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names->p + i) + 1) {
    const char *name = names->p + i;
    ssize_t v;
    for (;;) {
      v = lgetxattr(path, name, val->p, val->cap);
      if (v >= 0 || errno != ERANGE) break;
      ssize_t need = lgetxattr(path, name, NULL, 0);
      if (need < 0) break;
      if (xbuf_reserve(val, (size_t)need + 1) < 0) return -1;
    }
    if (v < 0) v = 0; /* removed between list and get: report it empty rather than lose the record shape */
    size_t nl = strlen(name);
    if (xbuf_u32(out, (uint32_t)nl) < 0 || xbuf_put(out, name, nl) < 0 ||
        xbuf_u32(out, (uint32_t)v) < 0 || xbuf_put(out, val->p, (size_t)v) < 0)
      return -1;
  }
  return 0;
}

static int cmd_get(const struct xbuf *in, struct xbuf *out) {
  struct xbuf names = {0}, val = {0};
  if (xbuf_reserve(&names, 4096) < 0 || xbuf_reserve(&val, 4096) < 0) return fail("out of memory", NULL, ENOMEM);
  size_t off = 0;
  while (off < in->len) {
    const char *path = next_str(in, &off);
    if (!path) return fail("malformed request", NULL, EINVAL);
    if (get_one(path, out, &names, &val) < 0) return fail("out of memory at", path, ENOMEM);
  }
  free(names.p);
  free(val.p);
  return 0;
}

/* Opens without following a final symlink; symlinks and sockets (which cannot be opened)
 * fall back to the l* call on the path. */
static int set_one(const char *path, const char *name, const char *value, size_t vlen) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno != ELOOP && errno != ENXIO) return errno;
    return lsetxattr(path, name, value, vlen, 0) < 0 ? errno : 0;
  }
  int r = fsetxattr(fd, name, value, vlen, 0) < 0 ? errno : 0;
  close(fd);
  return r;
}

static int cmd_set(const struct xbuf *in, struct xbuf *out) {
  size_t off = 0;
  while (off < in->len) {
    const char *path = next_str(in, &off);
    uint32_t count;
    if (!path || next_u32(in, &off, &count) < 0) return fail("malformed request", NULL, EINVAL);
    uint32_t first_err = 0;
    for (uint32_t i = 0; i < count; i++) {
      const char *name = next_str(in, &off);
      uint32_t vlen;
      if (!name || next_u32(in, &off, &vlen) < 0 || in->len - off < vlen) return fail("malformed request for", path, EINVAL);
      int e = set_one(path, name, in->p + off, vlen);
      off += vlen;
      if (e && !first_err) {
        first_err = (uint32_t)e;
        fprintf(stderr, "sbx-helper xattr: set %s on %s: %s\n", name, path, strerror(e));
      }
    }
    if (xbuf_u32(out, first_err) < 0) return fail("out of memory at", path, ENOMEM);
  }
  return 0;
}

static int cmd_mknod(const char *kind, const struct xbuf *in, struct xbuf *out) {
  mode_t type;
  dev_t dev = 0;
  if (strcmp(kind, "fifo") == 0) type = S_IFIFO;
  else if (strcmp(kind, "socket") == 0) type = S_IFSOCK;
  else if (strcmp(kind, "whiteout") == 0) { type = S_IFCHR; dev = makedev(0, 0); }
  else return fail("unknown mknod kind", kind, EINVAL);
  size_t off = 0;
  while (off < in->len) {
    const char *path = next_str(in, &off);
    if (!path) return fail("malformed request", NULL, EINVAL);
    int e = mknod(path, type | 0600, dev) < 0 ? errno : 0;
    if (xbuf_u32(out, (uint32_t)e) < 0) return fail("out of memory at", path, ENOMEM);
  }
  return 0;
}

int xattr_main(int argc, char **argv) {
  if (argc < 2 || (strcmp(argv[1], "mknod") == 0 && argc < 3)) {
    fprintf(stderr, "usage: sbx-helper xattr get | set | mknod fifo|socket|whiteout  (paths on stdin, see native/xattr.c)\n");
    return 2;
  }
  struct xbuf in = {0}, out = {0};
  if (read_all(0, &in) < 0) return fail("reading stdin", NULL, errno);
  int r;
  if (strcmp(argv[1], "get") == 0) r = cmd_get(&in, &out);
  else if (strcmp(argv[1], "set") == 0) r = cmd_set(&in, &out);
  else if (strcmp(argv[1], "mknod") == 0) r = cmd_mknod(argv[2], &in, &out);
  else return fail("unknown subcommand", argv[1], EINVAL);
  if (r == 0 && write_all(1, out.p ? out.p : "", out.len) < 0) r = fail("writing stdout", NULL, errno);
  free(in.p);
  free(out.p);
  return r;
}

#ifdef XATTR_STANDALONE
int main(int argc, char **argv) { return xattr_main(argc - 1, argv + 1); }
#endif
