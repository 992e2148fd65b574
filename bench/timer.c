/* Runs a command N times (after 2 warm-up runs) and prints the median wall-clock and the median
 * CPU time (user + system of the command and every descendant it waited for) in milliseconds,
 * then the median count of minor page faults (the same processes): on a VM where one costs tens
 * of microseconds, what a start-up touches is much of what it costs, and the count is not
 * stretched by other load.
 * CPU time is what a ratio should rest on when the machine is shared: other processes stretch
 * wall time, not CPU time.   timer N COMMAND [ARG...]
 * With a second command after `--vs`, the two run in turns (A B, B A, ...), N times each: a
 * burst of load then stretches both sides, not one row. One line for each, then the median of
 * the per-pair ratios B/A of wall and of CPU time.   timer N A [ARG...] --vs B [ARG...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
/* One run of argv: wall and CPU ms, minor faults; 0, or -1 when it did not exit 0. */
static int run(char **argv, double *w, double *c, double *f) {
  struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
  pid_t p = fork();
  if (p == 0) { int fd = open("/dev/null", O_RDWR); dup2(fd, 0); dup2(fd, 1); dup2(fd, 2); execvp(argv[0], argv); _exit(127); }
  int st; struct rusage ru; wait4(p, &st, 0, &ru);
  clock_gettime(CLOCK_MONOTONIC, &b);
  if (!WIFEXITED(st) || WEXITSTATUS(st)) return -1;
  *w = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
  *c = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
  *f = (double)ru.ru_minflt;
  return 0;
}
static double median(double *x, int n) { qsort(x, n, sizeof *x, cmp); return x[n / 2]; }
int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: timer N COMMAND [ARG...] [--vs COMMAND [ARG...]]\n"); return 2; }
  int n = atoi(argv[1]);
  char **cmd[2] = { argv + 2, NULL };
  for (int i = 2; i < argc; i++) if (strcmp(argv[i], "--vs") == 0) { argv[i] = NULL; cmd[1] = argv + i + 1; break; }
  int k = cmd[1] && cmd[1][0] ? 2 : 1;
  double *w[2], *c[2], *f[2];
  for (int s = 0; s < k; s++) { w[s] = calloc(n, sizeof(double)); c[s] = calloc(n, sizeof(double)); f[s] = calloc(n, sizeof(double)); }
  double *rw = calloc(n, sizeof(double)), *rc = calloc(n, sizeof(double));
  for (int i = 0; i < n + 2; i++) {
    double tw[2], tc[2], tf[2];
    for (int j = 0; j < k; j++) {
      int s = (i % 2) ? k - 1 - j : j;
      if (run(cmd[s], &tw[s], &tc[s], &tf[s]) < 0) { fprintf(stderr, "failed\n"); return 1; }
    }
    if (i < 2) continue;
    for (int s = 0; s < k; s++) { w[s][i - 2] = tw[s]; c[s][i - 2] = tc[s]; f[s][i - 2] = tf[s]; }
    if (k == 2) { rw[i - 2] = tw[1] / tw[0]; rc[i - 2] = tc[0] > 0 ? tc[1] / tc[0] : 0; }
  }
  for (int s = 0; s < k; s++) printf("%.1f %.1f %.0f\n", median(w[s], n), median(c[s], n), median(f[s], n));
  if (k == 2) printf("%.3f %.3f\n", median(rw, n), median(rc, n));
  return 0;
}
