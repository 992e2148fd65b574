/* Times a tight getppid() loop, optionally under a seccomp filter read from a file of raw
 * struct sock_filter records (what `sbx policy compile --format bpf` writes).
 *   seccomp-loop ITERATIONS [FILTER.bpf]
 * Prints the nanoseconds of CPU time per call (CPU time, not wall time: on a shared machine
 * other processes would otherwise show up as filter cost). */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static struct sock_filter prog[4096];

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s ITERATIONS [FILTER]\n", argv[0]); return 2; }
  long n = atol(argv[1]);
  if (argc > 2) {
    FILE *f = fopen(argv[2], "rb");
    if (!f) { perror(argv[2]); return 1; }
    size_t len = fread(prog, sizeof prog[0], 4096, f);
    fclose(f);
    struct sock_fprog fprog = { .len = (unsigned short)len, .filter = prog };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { perror("no_new_privs"); return 1; }
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0) { perror("seccomp"); return 1; }
  }
  struct timespec a, b;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
  for (long i = 0; i < n; i++) syscall(SYS_getppid);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
  double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
  printf("%.2f\n", ns / n);
  return 0;
}
