/* A growable byte buffer: the records the scanner streams and the xattr/stage/place requests
 * and replies are built in one, with their little-endian integers; requests are read into one
 * and parsed with the next_* readers. */
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

int buf_put64(struct buf *b, uint64_t v) {
  return buf_put32(b, (uint32_t)v) | buf_put32(b, (uint32_t)(v >> 32));
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

const char *next_str(const struct buf *in, size_t *off) {
  if (*off >= in->len) return NULL;
  const char *s = in->p + *off;
  const char *nul = memchr(s, '\0', in->len - *off);
  if (!nul) return NULL;
  *off += (size_t)(nul - s) + 1;
  return s;
}

int next_u32(const struct buf *in, size_t *off, uint32_t *v) {
  if (in->len - *off < 4) return -1;
  *v = le32(in->p + *off);
  *off += 4;
  return 0;
}

int next_u64(const struct buf *in, size_t *off, uint64_t *v) {
  uint32_t lo, hi;
  if (next_u32(in, off, &lo) < 0 || next_u32(in, off, &hi) < 0) return -1;
  *v = (uint64_t)hi << 32 | lo;
  return 0;
}

/* Two's complement, as the sender writes it (a time before 1970 is negative). */
int next_i64(const struct buf *in, size_t *off, int64_t *v) {
  uint64_t u;
  if (next_u64(in, off, &u) < 0) return -1;
  *v = (int64_t)u;
  return 0;
}

int write_all(int fd, const void *data, size_t n) {
  const char *p = data;
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}
