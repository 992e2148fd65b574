/* Runs a command N times (after 2 warm-up runs) and prints the median wall-clock and the median
 * CPU time (user + system of the command and every descendant it waited for) in milliseconds,
 * then the median count of minor page faults (the same processes): on a VM where one costs tens
 * of microseconds, what a start-up touches is much of what it costs, and the count is not
 * stretched by other load.
 * CPU time is what a ratio should rest on when the machine is shared: other processes stretch
 * wall time, not CPU time.   timer N COMMAND [ARG...] */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
  int n = atoi(argv[1]);
  double *w = calloc(n, sizeof *w), *c = calloc(n, sizeof *c), *f = calloc(n, sizeof *f);
  for (int i = 0; i < n + 2; i++) {
    struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t p = fork();
    if (p == 0) { int fd = open("/dev/null", O_RDWR); dup2(fd, 0); dup2(fd, 1); dup2(fd, 2); execvp(argv[2], argv + 2); _exit(127); }
    int st; struct rusage ru; wait4(p, &st, 0, &ru);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (!WIFEXITED(st) || WEXITSTATUS(st)) { fprintf(stderr, "failed\n"); return 1; }
    if (i < 2) continue;
    w[i - 2] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
    c[i - 2] = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
    f[i - 2] = (double)ru.ru_minflt;
  }
  qsort(w, n, sizeof *w, cmp); qsort(c, n, sizeof *c, cmp); qsort(f, n, sizeof *f, cmp);
  printf("%.1f %.1f %.0f\n", w[n / 2], c[n / 2], f[n / 2]);
  return 0;
}
