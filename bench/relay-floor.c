/* The floor of one relay hop, for bench/allow-net.mjs: listens on 127.0.0.1 (an ephemeral port,
 * printed) and joins each connection to 127.0.0.1:PORT, one thread per direction, blocking, with
 * what the sandbox's relay does (native/netrelay.c: read/write through a buffer of BYTES, 1 MiB
 * if not given) or, with `splice`, splice(2) through a 1 MiB pipe (what it did before): no
 * proxy, no sandbox, nothing else.   relay-floor PORT [splice|BYTES] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct dir { int from, to; };
static int use_splice;
static size_t buf_size = 1 << 20;

static void splice_dir(struct dir *d) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return;
  fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
  for (;;) {
    ssize_t n = splice(d->from, NULL, p[1], NULL, 1 << 20, SPLICE_F_MOVE);
    if (n <= 0) break;
    while (n > 0) {
      ssize_t w = splice(p[0], NULL, d->to, NULL, (size_t)n, SPLICE_F_MOVE);
      if (w <= 0) goto out;
      n -= w;
    }
  }
out:
  close(p[0]);
  close(p[1]);
}

static void copy_dir(struct dir *d) {
  const size_t size = buf_size;
  char *buf = malloc(size);
  if (!buf) return;
  for (;;) {
    ssize_t n = read(d->from, buf, size);
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(d->to, buf + off, (size_t)(n - off));
      if (w <= 0) goto out;
      off += w;
    }
  }
out:
  free(buf);
}

static void *move(void *arg) {
  struct dir *d = arg;
  if (use_splice) splice_dir(d); else copy_dir(d);
  shutdown(d->to, SHUT_WR);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 2 && argc != 3) return 2;
  use_splice = argc == 3 && strcmp(argv[2], "splice") == 0;
  if (argc == 3 && !use_splice && (buf_size = strtoul(argv[2], NULL, 10)) < 4096) return 2;
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr = { htonl(INADDR_LOOPBACK) } };
  socklen_t len = sizeof a;
  if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 16) < 0 || getsockname(l, (struct sockaddr *)&a, &len) < 0) return 1;
  printf("%d\n", ntohs(a.sin_port));
  fflush(stdout);
  for (;;) {
    int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) continue;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])), .sin_addr = { htonl(INADDR_LOOPBACK) } };
    if (s < 0 || connect(s, (struct sockaddr *)&b, sizeof b) < 0) { close(c); if (s >= 0) close(s); continue; }
    struct dir up = { c, s }, down = { s, c };
    pthread_t t;
    if (pthread_create(&t, NULL, move, &up) != 0) { close(c); close(s); continue; }
    move(&down);
    pthread_join(t, NULL);
    close(c);
    close(s);
  }
}
