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
#include <stdlib.h>
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

static int write_all(int to, const char *buf, size_t n) {
  for (size_t off = 0; off < n;) {
    ssize_t w = write(to, buf + off, n - off);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    off += (size_t)w;
  }
  return 0;
}

/* Copies what is readable from one side to the other; 0 at EOF or error. */
static int pump(int from, int to) {
  char buf[65536];
  ssize_t n = read(from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
  if (n <= 0) return 0;
  return write_all(to, buf, (size_t)n) == 0;
}

/* The proxy's side towards the client: bytes, and once at most a host socket it has decided
 * on and connected (its hand-off, see net/proxy.ts), attached to one marker byte that ends
 * the read. Returns 0 at EOF or error, else 1; *handed is the host socket or stays -1. */
static int pump_from_proxy(int from, int to, int *handed) {
  char buf[65536];
  union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } c;
  struct iovec iov = { buf, sizeof buf };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b };
  ssize_t n = recvmsg(from, &m, MSG_CMSG_CLOEXEC);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
  if (n <= 0) return 0;
  for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS || h->cmsg_len != CMSG_LEN(sizeof(int))) continue;
    int fd;
    memcpy(&fd, CMSG_DATA(h), sizeof fd);
    if (*handed < 0) { *handed = fd; n--; } /* the kernel ends a read at the skb carrying fds: the marker is last */
    else close(fd);
  }
  return write_all(to, buf, (size_t)n) == 0;
}

/* One direction of a spliced connection: socket -> pipe -> socket, no copy through us. */
struct flow { int from, to, p[2]; size_t queued; int eof, done; };

static int flow_init(struct flow *f, int from, int to) {
  *f = (struct flow){ .from = from, .to = to };
  if (pipe2(f->p, O_CLOEXEC | O_NONBLOCK) < 0) return -1;
  fcntl(f->p[1], F_SETPIPE_SZ, 1 << 20); /* a bigger pipe means fewer wake-ups; the default works too */
  return 0;
}

/* One read and one write at most per wake-up (a loop until EAGAIN costs a failing splice
 * each time); -1 when the receiving side failed. */
static int flow_step(struct flow *f, short in_ready) {
  if (!f->eof && in_ready) {
    ssize_t n = splice(f->from, NULL, f->p[1], NULL, 1 << 20, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) f->queued += (size_t)n;
    else if (n == 0 || (errno != EINTR && errno != EAGAIN)) f->eof = 1; /* EOF or reset: nothing more comes */
  }
  if (f->queued) {
    ssize_t n = splice(f->p[0], NULL, f->to, NULL, f->queued, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) f->queued -= (size_t)n;
    else if (n == 0 || (errno != EINTR && errno != EAGAIN)) return -1;
  }
  if (f->eof && !f->queued && !f->done) { f->done = 1; shutdown(f->to, SHUT_WR); }
  return 0;
}

/* The client and the host socket, joined by splice until both directions ended. `sent_eof`:
 * the client had already finished sending before the hand-off. */
static void __attribute__((noreturn)) splice_both(int client, int host, int sent_eof) {
  struct flow f[2];
  if (flow_init(&f[0], client, host) < 0 || flow_init(&f[1], host, client) < 0) _exit(1);
  int fl = fcntl(client, F_GETFL);
  if (fl < 0 || fcntl(client, F_SETFL, fl | O_NONBLOCK) < 0) _exit(1);
  fl = fcntl(host, F_GETFL);
  if (fl < 0 || fcntl(host, F_SETFL, fl | O_NONBLOCK) < 0) _exit(1);
  if (sent_eof) { f[0].eof = f[0].done = 1; shutdown(host, SHUT_WR); }
  while (!f[0].done || !f[1].done) {
    struct pollfd p[4];
    for (int i = 0; i < 2; i++) {
      p[2 * i] = (struct pollfd){ f[i].eof ? -1 : f[i].from, POLLIN, 0 };
      p[2 * i + 1] = (struct pollfd){ f[i].queued ? f[i].to : -1, POLLOUT, 0 };
    }
    if (poll(p, 4, -1) < 0) { if (errno == EINTR) continue; _exit(1); }
    if (flow_step(&f[0], p[0].revents) < 0 || flow_step(&f[1], p[2].revents) < 0) _exit(1);
  }
  _exit(0);
}

static void __attribute__((noreturn)) serve(int client, const struct net_relay *r) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGPIPE, SIG_IGN);
  int up = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  if (strlen(r->name) >= sizeof a.sun_path) _exit(1);
  strcpy(a.sun_path, r->name);
  /* The socket's name is resolved from the directory opened before the root was replaced. */
  if (up < 0 || fchdir(r->dirfd) < 0 || connect(up, (struct sockaddr *)&a, sizeof a) < 0) _exit(1);
  int fl = fcntl(client, F_GETFL);
  if (fl < 0 || fcntl(client, F_SETFL, fl & ~O_NONBLOCK) < 0) _exit(1);
  int in_open = 1, out_open = 1, host = -1;
  while (out_open && host < 0) {
    struct pollfd p[2] = { { in_open ? client : -1, POLLIN, 0 }, { up, POLLIN, 0 } };
    if (poll(p, 2, -1) < 0) { if (errno == EINTR) continue; _exit(1); }
    if (p[0].revents && !pump(client, up)) { in_open = 0; shutdown(up, SHUT_WR); }
    if (p[1].revents && !pump_from_proxy(up, client, &host)) { out_open = 0; shutdown(client, SHUT_WR); }
  }
  if (host < 0) {
    while (in_open) { /* the proxy is done sending; the client may still be */
      struct pollfd p = { client, POLLIN, 0 };
      if (poll(&p, 1, -1) < 0) { if (errno == EINTR) continue; _exit(1); }
      if (!pump(client, up)) in_open = 0;
    }
    _exit(0);
  }
  /* Handed off: the proxy stopped reading the host socket. It reads what we sent it until our
   * EOF, forwards that, sends what it still held for the client and closes: only then is the
   * host socket ours alone, in both directions. */
  shutdown(up, SHUT_WR);
  for (;;) {
    int h = -1;
    if (!pump_from_proxy(up, client, &h)) break;
    if (h >= 0) close(h);
  }
  close(up);
  splice_both(client, host, !in_open);
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

/* `sbx-helper net-pass`, run by the proxy once it has decided on a connection and connected
 * it (Node cannot attach a descriptor to a socket write): sends the host socket (fd 4) to the
 * relay over the proxy's connection to it (fd 3), attached to one marker byte. */
int net_pass_main(void) {
  int fd = 4;
  char marker = 0;
  union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } c;
  memset(&c, 0, sizeof c);
  struct iovec iov = { &marker, 1 };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b };
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(h), &fd, sizeof fd);
  for (;;) {
    if (sendmsg(3, &m, MSG_NOSIGNAL) == 1) return 0;
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return 1; /* the proxy's socket is non-blocking: wait until the relay reads */
    struct pollfd p = { 3, POLLOUT, 0 };
    if (poll(&p, 1, 30000) <= 0) return 1;
  }
}
