/* ring.c: the smallest io_uring the scan needs: a batch of calls handed to the kernel in one
 * io_uring_enter, each answer stored where its request said. On this kind of VM a syscall's
 * entry and exit cost more than a small file's open itself (perf of a review of 200k new
 * files: ~40% of the scan's CPU was syscall entry and exit), so the scan opens a chunk of new
 * files at once (scan.c `prefetch`). No liburing: the few lines below are all it would do here.
 *
 * Where io_uring is missing or refused (an old kernel, io_uring_disabled, a seccomp policy:
 * sbx's own sandboxes answer ENOSYS), ring_init fails and the scan makes each call itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/io_uring.h>

#include "ring.h"

int ring_init(struct ring *r, unsigned entries) {
  memset(r, 0, sizeof *r);
  r->fd = -1;
#ifdef __NR_io_uring_setup
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  int fd = (int)syscall(__NR_io_uring_setup, entries, &p);
  if (fd < 0) return -1;
  /* Every answer is in the completion ring, so it must hold a whole batch: the kernel makes it
   * twice the submission ring; IORING_FEAT_NODROP (5.5) keeps an overflow rather than drop it,
   * and older kernels are not worth a second path. */
  if (!(p.features & IORING_FEAT_SINGLE_MMAP) || !(p.features & IORING_FEAT_NODROP)) { close(fd); errno = ENOSYS; return -1; }
  size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  size_t len = sq_len > cq_len ? sq_len : cq_len;
  char *q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  if (q == MAP_FAILED) { close(fd); return -1; }
  size_t sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
  void *sqes = mmap(NULL, sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  if (sqes == MAP_FAILED) { munmap(q, len); close(fd); return -1; }
  r->fd = fd;
  r->map = q;
  r->map_len = len;
  r->sqes = sqes;
  r->sqes_len = sqes_len;
  r->entries = p.sq_entries;
  r->sq_tail = (unsigned *)(q + p.sq_off.tail);
  r->sq_mask = *(unsigned *)(q + p.sq_off.ring_mask);
  r->sq_array = (unsigned *)(q + p.sq_off.array);
  r->cq_head = (unsigned *)(q + p.cq_off.head);
  r->cq_tail = (unsigned *)(q + p.cq_off.tail);
  r->cq_mask = *(unsigned *)(q + p.cq_off.ring_mask);
  r->cqes = (struct io_uring_cqe *)(q + p.cq_off.cqes);
  return 0;
#else
  (void)entries;
  errno = ENOSYS;
  return -1;
#endif
}

void ring_close(struct ring *r) {
  if (r->fd < 0) return;
  munmap(r->sqes, r->sqes_len);
  munmap(r->map, r->map_len);
  close(r->fd);
  r->fd = -1;
}

struct io_uring_sqe *ring_sqe(struct ring *r) {
  if (r->pending == r->entries) return NULL;
  unsigned i = (*r->sq_tail + r->pending) & r->sq_mask;
  r->sq_array[i] = i;
  struct io_uring_sqe *s = (struct io_uring_sqe *)r->sqes + i;
  memset(s, 0, sizeof *s);
  r->pending++;
  return s;
}

int ring_run(struct ring *r, int64_t *res, size_t nres) {
  unsigned n = r->pending;
  if (!n) return 0;
  __atomic_store_n(r->sq_tail, *r->sq_tail + n, __ATOMIC_RELEASE);
  r->pending = 0;
  unsigned submit = n, got = 0;
  unsigned head = *r->cq_head;
  while (got < n) {
    /* Submits what is left to submit and waits for every answer not yet in the ring. */
    int e = (int)syscall(__NR_io_uring_enter, r->fd, submit, n - got, IORING_ENTER_GETEVENTS, NULL, 0);
    if (e < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY) return -1;
    if (e > 0) submit -= (unsigned)e < submit ? (unsigned)e : submit;
    unsigned tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
    for (; head != tail; head++, got++) {
      const struct io_uring_cqe *c = &r->cqes[head & r->cq_mask];
      if (c->user_data < nres) res[c->user_data] = c->res;
    }
    __atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
  }
  return 0;
}
