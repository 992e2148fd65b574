/* A growable byte buffer: the records the scanner streams and the xattr/stage requests and
 * replies are built in one, with their little-endian integers; requests are read into one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "helper.h"

int buf_reserve(struct buf *b, size_t extra) {
  if (b->len + extra <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 65536;
  while (cap < b->len + extra) cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) return -1;
  b->p = p;
  b->cap = cap;
  return 0;
}

int buf_put(struct buf *b, const void *data, size_t n) {
  if (buf_reserve(b, n) < 0) return -1;
  memcpy(b->p + b->len, data, n);
  b->len += n;
  return 0;
}

int buf_put32(struct buf *b, uint32_t v) {
  unsigned char le[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};
  return buf_put(b, le, 4);
}

int buf_read_fd(struct buf *b, int fd) {
  for (;;) {
    if (buf_reserve(b, 65536) < 0) return -1;
    ssize_t n = read(fd, b->p + b->len, b->cap - b->len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return 0;
    b->len += (size_t)n;
  }
}

uint32_t le32(const void *p) {
  const unsigned char *u = p;
  return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}
