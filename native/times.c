/* SBX_DEBUG_TIMES=1: each marked step of `sbx-helper run` as one stderr line,
 *   sbx-helper time PID +MS WALL CPU RUNQ STEP
 * MS since the helper's main began (CLOCK_MONOTONIC: the outer's and pid 1's lines can be put
 * side by side), then for the step itself (since this process's previous line) the wall time,
 * the CPU time (user and kernel) and the time spent runnable but waiting for a core
 * (/proc/self/schedstat), all in ms. WALL - CPU - RUNQ is time blocked: waiting on a child,
 * a pipe, the kernel (an RCU grace period). On a loaded machine RUNQ is what the load added.
 * Off (one getenv) unless the variable is set: sbx passes it on to the helper only when its
 * own environment has it (launch.ts). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "helper.h"

static int on;
static pid_t last_pid;
static struct timespec base, last;
static double last_cpu, last_runq;

static double ms_between(const struct timespec *a, const struct timespec *b) {
  return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* The runqueue wait of this thread so far in ms (schedstat's second field, ns); -1 unknown. */
static double runq_ms(void) {
  char buf[128];
  int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  unsigned long long run, wait;
  return sscanf(buf, "%llu %llu", &run, &wait) == 2 ? (double)wait / 1e6 : -1;
}

void times_init(void) {
  const char *v = getenv("SBX_DEBUG_TIMES");
  on = v && *v && strcmp(v, "0") != 0;
  if (!on) return;
  clock_gettime(CLOCK_MONOTONIC, &base);
  last = base;
  last_pid = getpid();
  struct timespec c;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c);
  last_cpu = (double)c.tv_sec * 1e3 + (double)c.tv_nsec / 1e6;
  last_runq = runq_ms();
}

void times_mark(const char *step) {
  if (!on) return;
  struct timespec t, c;
  clock_gettime(CLOCK_MONOTONIC, &t);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c);
  double cpu = (double)c.tv_sec * 1e3 + (double)c.tv_nsec / 1e6, runq = runq_ms();
  /* A child's clocks start at 0: its first step counts from its birth. Its pid alone does not
   * tell (the sandbox's pid 1 forks the command's, each 1 in its own namespace). */
  if (getpid() != last_pid || cpu < last_cpu) { last_pid = getpid(); last_cpu = 0; last_runq = 0; }
  char line[200];
  int n = snprintf(line, sizeof line, "sbx-helper time %d +%.3f %.3f %.3f %.3f %s\n", (int)getpid(), ms_between(&base, &t),
                   ms_between(&last, &t), cpu - last_cpu, runq >= 0 && last_runq >= 0 ? runq - last_runq : -1.0, step);
  last = t;
  last_cpu = cpu;
  last_runq = runq;
  if (n > 0) (void)write_all(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}
