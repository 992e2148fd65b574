/* sbx-helper lock: an exclusive flock(2) on fd 3, taken without waiting, for the commit lock
 * (sandbox-core/sandbox-lock.ts; Node has no flock). The lock belongs to the open file
 * description, which the caller keeps open: it outlives this process and ends when the caller
 * closes its fd or dies, so a SIGKILLed commit holds nothing. Which file, and what to do when
 * the lock is taken, is the caller's. Exit 0: taken; 1: another open file description holds
 * it; 125: fd 3 cannot be locked. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include "helper.h"

int lock_main(void) {
  if (flock(3, LOCK_EX | LOCK_NB) == 0) return 0;
  if (errno == EWOULDBLOCK) return 1;
  fprintf(stderr, "sbx-helper lock: %s\n", strerror(errno));
  return SBX_EXIT_FAILED;
}
