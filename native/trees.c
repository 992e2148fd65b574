/* Detached mount trees (an idmapped lower layer's clone, open_tree(OPEN_TREE_CLONE)) that
 * are no longer needed once their overlay exists: closing the last fd of one unmounts it, and
 * the kernel then waits for an RCU grace period (expedited) before returning, per tree. A root
 * view has one per overlay: ~30 closes of 0.4-10 ms each (151 ms in all under perf trace at
 * load 7) on the path to the command's start. So the fds are kept until the view is built,
 * then handed to a child that only exits: its exit drops the last references and waits for
 * those grace periods while this process goes on. The child is reaped once the sandbox ended
 * (trees_reap), or by pid 1's reaping loop when the view was built there. */
#define _GNU_SOURCE
#include <errno.h>
#include <unistd.h>
#include <sys/wait.h>
#include "sandbox.h"

#define MAX_TREES 4096

static int trees[MAX_TREES];
static size_t n_trees;
static pid_t releaser = -1;

void tree_release(int fd) {
  if (fd < 0) return;
  if (n_trees == MAX_TREES) { close(fd); return; }
  trees[n_trees++] = fd;
}

void trees_release_all(void) {
  if (!n_trees) return;
  pid_t p = fork();
  if (p == 0) _exit(0);
  /* No child (fork failed): close them here, as before. */
  for (size_t i = 0; i < n_trees; i++) close(trees[i]);
  n_trees = 0;
  if (p > 0) releaser = p;
}

void trees_reap(void) {
  if (releaser > 0) while (waitpid(releaser, NULL, 0) < 0 && errno == EINTR) {}
  releaser = -1;
}
