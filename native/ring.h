/* ring.c: a minimal io_uring for batches of calls (see ring.c). */
#ifndef SBX_RING_H
#define SBX_RING_H

#include <stddef.h>
#include <stdint.h>

struct io_uring_sqe;
struct io_uring_cqe;

struct ring {
  int fd;            /* -1: none (ring_init failed or not tried) */
  void *map, *sqes;
  size_t map_len, sqes_len;
  unsigned entries, pending;
  unsigned *sq_tail, *sq_array, *cq_head, *cq_tail;
  unsigned sq_mask, cq_mask;
  struct io_uring_cqe *cqes;
};

/* A ring of `entries` requests per batch; -1 with errno when io_uring cannot be used. */
int ring_init(struct ring *r, unsigned entries);
void ring_close(struct ring *r);
/* The next request of the batch, zeroed (set its user_data to where its answer goes); NULL
 * when the batch is full. */
struct io_uring_sqe *ring_sqe(struct ring *r);
/* Submits the batch and waits for all of it: res[user_data] = each answer (a result or
 * -errno). -1 with errno when io_uring_enter itself fails: then no answer can be trusted and
 * the ring must not be used again. */
int ring_run(struct ring *r, int64_t *res, size_t nres);

#endif
