/* The floor of one relay hop, for bench/allow-net.mjs: listens on 127.0.0.1 (an ephemeral port,
 * printed) and joins each connection to 127.0.0.1:PORT with splice(2) through a pipe, one
 * thread per direction, blocking: no proxy, no sandbox, nothing else.   relay-floor PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct dir { int from, to; };

static void *move(void *arg) {
  struct dir *d = arg;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return NULL;
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
  shutdown(d->to, SHUT_WR);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
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
