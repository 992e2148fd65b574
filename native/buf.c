/* A growable byte buffer: the records the scanner streams and the xattr/stage requests and
 * replies are built in one. */
#include <stdlib.h>
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
