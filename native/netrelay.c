/* --allow-net: the sandbox's only way out. pid 1 listens on the loopback of the sandbox's own
 * network namespace and copies each connection, byte for byte, to sbx's proxy on the host
 * through a unix socket in a directory it opened before the root was replaced. It parses
 * nothing: every decision is the proxy's. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "sandbox.h"

struct net_relay net_relay = { -1, -1, -1, NULL };

static int listen_on(int family, int port) {
  int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return -1;
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int ok;
  if (family == AF_INET) {
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = { htonl(INADDR_LOOPBACK) } };
    ok = bind(s, (struct sockaddr *)&a, sizeof a);
  } else {
    setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    ok = bind(s, (struct sockaddr *)&a, sizeof a);
  }
  if (ok < 0 || listen(s, 128) < 0) { int e = errno; close(s); errno = e; return -1; }
  return s;
}

void net_relay_open_dir(struct net_relay *r, const char *dir, const char *name) {
  r->name = name;
  r->fd4 = r->fd6 = -1;
  r->dirfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (r->dirfd < 0) die_step("net-relay", dir, errno);
}

void net_relay_listen(struct net_relay *r, int port) {
  r->fd4 = listen_on(AF_INET, port);
  if (r->fd4 < 0) die_step("net-relay-listen", "127.0.0.1", errno);
  r->fd6 = listen_on(AF_INET6, port); /* a kernel without IPv6 has only the v4 one */
}

/* Copies what is readable from one side to the other; 0 at EOF or error. */
static int pump(int from, int to) {
  char buf[65536];
  ssize_t n = read(from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
  if (n <= 0) return 0;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = write(to, buf + off, (size_t)(n - off));
    if (w < 0) { if (errno == EINTR) continue; return 0; }
    off += w;
  }
  return 1;
}

static void __attribute__((noreturn)) serve(int client, const struct net_relay *r) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  int up = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  if (strlen(r->name) >= sizeof a.sun_path) _exit(1);
  strcpy(a.sun_path, r->name);
  /* The socket's name is resolved from the directory opened before the root was replaced. */
  if (up < 0 || fchdir(r->dirfd) < 0 || connect(up, (struct sockaddr *)&a, sizeof a) < 0) _exit(1);
  int fl = fcntl(client, F_GETFL);
  if (fl < 0 || fcntl(client, F_SETFL, fl & ~O_NONBLOCK) < 0) _exit(1);
  int in_open = 1, out_open = 1;
  while (in_open || out_open) {
    struct pollfd p[2] = { { in_open ? client : -1, POLLIN, 0 }, { out_open ? up : -1, POLLIN, 0 } };
    if (poll(p, 2, -1) < 0) { if (errno == EINTR) continue; _exit(1); }
    if (p[0].revents && !pump(client, up)) { in_open = 0; shutdown(up, SHUT_WR); }
    if (p[1].revents && !pump(up, client)) { out_open = 0; shutdown(client, SHUT_WR); }
  }
  _exit(0);
}

void net_relay_accept(const struct net_relay *r, int listen_fd) {
  for (;;) {
    int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) return; /* EAGAIN: all taken */
    pid_t pid = fork();
    if (pid == 0) {
      close(r->fd4);
      if (r->fd6 >= 0) close(r->fd6);
      serve(c, r);
    }
    close(c); /* a failed fork drops the connection: the client sees it closed, nothing hangs */
  }
}
